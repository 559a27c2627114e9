//! Exact token counts for OpenAI chat fine-tuning: the model table (encoding and
//! training-example limit, FORMATS.md §1.4–1.5, hard-coded on purpose: tiktoken-rs's
//! context sizes are inference windows) and the cookbook's per-message formula (§1.3).
//!
//! Counting is exact but cached: tiktoken pre-tokenizes with a regex whose matches never
//! cross a newline that is followed by a non-space character, so a text's count is the
//! sum of the counts of its pieces split there, and the pieces (prompt lines, labels,
//! actions) repeat across examples.

use rustc_hash::FxHashMap;
use std::fmt;

use tiktoken_rs::CoreBPE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Cl100kBase,
    O200kBase,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Cl100kBase => "cl100k_base",
            Encoding::O200kBase => "o200k_base",
        }
    }

    /// The tokenizer, loaded on first use only (it takes ~0.2 s).
    fn bpe(self) -> &'static CoreBPE {
        match self {
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
            Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
        }
    }

    /// Start loading the tokenizer on a thread of its own, so that it is ready when
    /// the first count is asked for instead of keeping every core waiting then (the
    /// load takes one core ~0.1 s; the scan of the input overlaps it). A count asked for
    /// before it is done waits for this load, never starts a second one.
    pub fn warm_up(self) {
        let spawned = std::thread::Builder::new()
            .name("rlx-tokenizer".into())
            .spawn(move || {
                self.bpe();
            });
        // Without a thread the first count loads it, as before.
        drop(spawned);
    }
}

/// A model OpenAI fine-tunes, with the tokenizer and the training-example token limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    pub name: &'static str,
    pub encoding: Encoding,
    pub limit: u64,
    /// OpenAI lists it for preference fine-tuning (FORMATS.md §1.7).
    pub supports_dpo: bool,
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// FORMATS.md §1.4 (encodings) and §1.5 (training limits).
pub const MODELS: &[Model] = &[
    Model {
        name: "gpt-4o-mini-2024-07-18",
        encoding: Encoding::O200kBase,
        limit: 65_536,
        supports_dpo: false,
    },
    Model {
        name: "gpt-4o-2024-08-06",
        encoding: Encoding::O200kBase,
        limit: 65_536,
        supports_dpo: true,
    },
    Model {
        name: "gpt-4.1-2025-04-14",
        encoding: Encoding::O200kBase,
        limit: 65_536,
        supports_dpo: true,
    },
    Model {
        name: "gpt-4.1-mini-2025-04-14",
        encoding: Encoding::O200kBase,
        limit: 65_536,
        supports_dpo: true,
    },
    Model {
        name: "gpt-4.1-nano-2025-04-14",
        encoding: Encoding::O200kBase,
        limit: 32_768,
        supports_dpo: true,
    },
    Model {
        name: "o4-mini-2025-04-16",
        encoding: Encoding::O200kBase,
        limit: 65_536,
        supports_dpo: false,
    },
    Model {
        name: "gpt-3.5-turbo-0125",
        encoding: Encoding::Cl100kBase,
        limit: 16_385,
        supports_dpo: false,
    },
    Model {
        name: "gpt-3.5-turbo-1106",
        encoding: Encoding::Cl100kBase,
        limit: 16_385,
        supports_dpo: false,
    },
    Model {
        name: "gpt-3.5-turbo-0613",
        encoding: Encoding::Cl100kBase,
        limit: 4_096,
        supports_dpo: false,
    },
];

/// The model `--objective dpo` counts tokens for when no --model is given: OpenAI lists
/// the gpt-4.1 family for DPO (FORMATS.md §1.7).
pub const DEFAULT_DPO_MODEL: &str = "gpt-4.1-mini-2025-04-14";

/// The models OpenAI takes preference fine-tuning jobs for.
pub fn dpo_models() -> Vec<&'static str> {
    MODELS
        .iter()
        .filter(|m| m.supports_dpo)
        .map(|m| m.name)
        .collect()
}

/// Names without a date, resolved to the snapshot OpenAI's alias pointed to for
/// fine-tuning (FORMATS.md §1.5).
const ALIASES: &[(&str, &str)] = &[
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("gpt-4o", "gpt-4o-2024-08-06"),
    ("gpt-4.1", "gpt-4.1-2025-04-14"),
    ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"),
    ("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"),
    ("o4-mini", "o4-mini-2025-04-16"),
    ("gpt-3.5-turbo", "gpt-3.5-turbo-0125"),
];

pub fn find_model(name: &str) -> Result<Model, String> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, snapshot)| *snapshot);
    MODELS.iter().copied().find(|m| m.name == name).ok_or_else(|| {
        format!(
            "--model \"{name}\" is not a model rlx knows the training token limit of; expected one of {}",
            MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
        )
    })
}

/// Per message: 3 tokens of framing plus the role and content; 3 more prime the reply.
const TOKENS_PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;

/// Counts tokens with a cache of pieces. One per thread.
pub struct TokenCounter {
    bpe: &'static CoreBPE,
    cache: FxHashMap<String, u32>,
}

impl TokenCounter {
    const CACHE_LIMIT: usize = 1 << 18;

    pub fn new(encoding: Encoding) -> TokenCounter {
        TokenCounter {
            bpe: encoding.bpe(),
            cache: FxHashMap::default(),
        }
    }

    /// Tokens of `text` without the cache (`encode_ordinary`: special-token text counts
    /// as ordinary text, as Python's `encode(s, disallowed_special=())`).
    pub fn count_uncached(&self, text: &str) -> u64 {
        self.bpe.encode_ordinary(text).len() as u64
    }

    /// Tokens of `text`, exactly, summing cached pieces.
    pub fn count(&mut self, text: &str) -> u64 {
        let mut total = 0;
        for piece in pieces(text) {
            if let Some(n) = self.cache.get(piece) {
                total += *n as u64;
                continue;
            }
            let n = self.count_uncached(piece);
            if self.cache.len() >= Self::CACHE_LIMIT {
                self.cache.clear();
            }
            self.cache.insert(piece.to_string(), n as u32);
            total += n;
        }
        total
    }

    /// The cookbook's count for a chat example of (role, content) messages.
    pub fn count_messages(&mut self, messages: &[(&str, &str)]) -> u64 {
        let mut total = REPLY_PRIMING;
        for (role, content) in messages {
            total += TOKENS_PER_MESSAGE + self.count(role) + self.count(content);
        }
        total
    }

    /// `count_messages` for system, user and assistant messages whose system message
    /// (and the roles) were counted once already: `fixed` is
    /// `count_messages(&[("system", system), ("user", ""), ("assistant", "")])`.
    pub fn count_chat(&mut self, fixed: u64, user: &str, assistant: &str) -> u64 {
        fixed + self.count(user) + self.count(assistant)
    }
}

/// Split `text` into pieces whose counts add up to the count of the whole: after a
/// newline that ends its run of newlines (only spaces, tabs or other non-newline
/// whitespace follow it before a visible character), unless a `/` follows it at once.
///
/// Why these points: in cl100k_base's and o200k_base's pre-tokenizer patterns, a
/// pre-token holding a newline is either `\s*[\r\n]+`, which ends at the last newline
/// of a whitespace run, or punctuation followed by `[\r\n]*` (o200k: `[\r\n/]*`), which
/// swallows a `/` right after the newline. Cutting within a run of newlines (`a\n \nb`)
/// or before such a `/` (`.\n/x`) would split a pre-token. Lines that start with
/// indentation (pretty JSON) are pieces of their own, so they are cached line by line.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let rest = &text[start..];
        let mut offset = 0;
        while let Some(nl) = rest[offset..].find('\n') {
            let after = offset + nl + 1;
            if is_cut_after_newline(&rest[after..]) {
                let piece = &rest[..after];
                start += after;
                return Some(piece);
            }
            offset = after;
        }
        start = text.len();
        Some(rest)
    })
}

/// Whether a piece may end at a newline that `rest` follows (see `pieces`).
fn is_cut_after_newline(rest: &str) -> bool {
    if rest.starts_with('/') {
        return false;
    }
    for c in rest.chars() {
        match c {
            '\r' | '\n' => return false,
            c if c.is_whitespace() => continue,
            _ => return true,
        }
    }
    // Only whitespace to the end: one piece with it.
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_counts_match_python_tiktoken() {
        // FORMATS.md §6: "hello world" is 2 tokens in both encodings.
        let mut o = TokenCounter::new(Encoding::O200kBase);
        assert_eq!(o.count("hello world"), 2);
        let mut c = TokenCounter::new(Encoding::Cl100kBase);
        assert_eq!(c.count("hello world"), 2);
        let s = "Ünïcödé — 日本語のテキスト, emoji 🚀🔥👩‍👩‍👧 and Ελληνικά";
        assert_eq!(o.count(s), 28);
        assert_eq!(c.count(s), 47);
    }

    #[test]
    fn piecewise_counts_equal_whole_counts() {
        let texts = [
            "Analyze this:\n\n**Query Features:**\n- Query Length: 42\n- Category: =HYPERLINK(\"x\")\n\nQ?",
            "a\n\n\n-b\n  c\n\td\n\r\ne:\n**f**\n```json\n{\n  \"k\": [1, 2]\n}\n```\n\n**Expected Reward**: 0.850",
            "emoji 🚀\n👩‍👩‍👧 x\n日本語\n<|endoftext|>\n'''\n''s\n'll go\n  \n \n1234567\n/path\n//x",
            "trailing spaces   \n- x  \n\n  \n-\n",
            "\n\nHuman: hi\n\nAssistant:",
        ];
        for enc in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let mut counter = TokenCounter::new(enc);
            for t in texts {
                assert_eq!(
                    counter.count(t),
                    counter.count_uncached(t),
                    "{enc:?}: {t:?}"
                );
                // Twice, so the cached path is checked too.
                assert_eq!(counter.count(t), counter.count_uncached(t));
            }
        }
    }

    proptest::proptest! {
        /// Cutting a text into pieces never changes its count, whatever its newlines,
        /// Unicode spaces, punctuation and slashes.
        #[test]
        fn piecewise_counts_equal_whole_counts_for_any_text(
            text in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\n", "\r\n", "\r", " ", "  ", "\t", "\u{b}", "\u{85}", "\u{2028}", "\u{a0}", "\u{3000}", "/", "//", ".",
                    ",", ":", "\"", "'s", "a", "Word", "12", "1234", "-", "**", "{", "}", "🚀", "日本",
                ]),
                0..40,
            )
        ) {
            let text: String = text.concat();
            for enc in [Encoding::O200kBase, Encoding::Cl100kBase] {
                let mut counter = TokenCounter::new(enc);
                proptest::prop_assert_eq!(counter.count(&text), counter.count_uncached(&text), "{:?}: {:?}", enc, text);
            }
        }
    }

    #[test]
    fn unknown_models_list_the_known_ones() {
        let e = find_model("gpt-9").unwrap_err();
        assert!(e.contains("gpt-4o-mini-2024-07-18"));
        assert_eq!(find_model("gpt-3.5-turbo-0613").unwrap().limit, 4096);
        assert_eq!(
            find_model("gpt-4o-mini").unwrap().name,
            "gpt-4o-mini-2024-07-18"
        );
    }
}
