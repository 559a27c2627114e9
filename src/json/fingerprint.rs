//! Fingerprints: the hash steps the walker combines into an example's shape signature
//! and content fingerprint, and the hasher of the in-memory maps keyed by schemas, column
//! names and prompt lines. Hash values only decide equality and map lookups; none is
//! written anywhere or orders any output.

use std::hash::Hasher;

/// rustc's Fx hash: deterministic and several times faster than SipHash on the short
/// keys and texts hashed once per example (measured: SipHash was 9% of a huggingface
/// export). Not for untrusted keys in long-lived maps; here it only fingerprints.
/// Streaming: bytes are packed into 8-byte words across `write` calls, so hashing a
/// text in pieces equals hashing it whole.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
    pending: u64,
    pending_len: u32,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while self.pending_len != 0 && !bytes.is_empty() {
            self.pending |= (bytes[0] as u64) << (8 * self.pending_len);
            self.pending_len += 1;
            bytes = &bytes[1..];
            if self.pending_len == 8 {
                let word = self.pending;
                self.add(word);
                self.pending = 0;
                self.pending_len = 0;
            }
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(
                c.try_into().expect("chunks_exact yields 8 bytes"),
            ));
        }
        for &b in chunks.remainder() {
            self.pending |= (b as u64) << (8 * self.pending_len);
            self.pending_len += 1;
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write(&(i as u64).to_le_bytes());
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut h = *self;
        if h.pending_len != 0 {
            let word = h.pending ^ ((h.pending_len as u64) << 59);
            h.add(word);
        }
        h.hash
    }
}

/// One step of rustc's Fx hash.
#[inline]
pub(super) fn mix(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED)
}

/// Bytes hashed eight at a time, the last word tagged with the length (not streaming:
/// the walk hashes each key and scalar whole).
#[inline]
pub(super) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = mix(
            h,
            u64::from_le_bytes(c.try_into().expect("chunks_exact yields 8 bytes")),
        );
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    tail[7] ^= bytes.len() as u8;
    mix(h, u64::from_le_bytes(tail))
}
