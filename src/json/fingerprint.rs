//! Fingerprints: the hash steps the walker combines into an example's shape signature and
//! the fingerprint of its state, action and reward. They are rustc-hash's `FxHasher`,
//! which has no random seed and reads bytes little-endian, so a value is the same on
//! every 64-bit machine (its state is a `usize`: 32 bits on a 32-bit one). Hash values
//! only decide equality (duplicates, one schema per shape) and map lookups: none is
//! written anywhere or orders anything written.

use std::hash::Hasher;

use rustc_hash::FxHasher;

/// `hash` and `word` mixed into one hash (order matters: `mix(mix(h, a), b)` is not
/// `mix(mix(h, b), a)`).
#[inline]
pub(super) fn mix(hash: u64, word: u64) -> u64 {
    let mut h = FxHasher::with_seed(hash as usize);
    h.write_u64(word);
    h.finish()
}

/// The hash of `bytes` (their length included), started from `seed`.
#[inline]
pub(super) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = FxHasher::with_seed(seed as usize);
    h.write(bytes);
    h.finish()
}
