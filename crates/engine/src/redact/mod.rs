//! Redaction of secret values in every encoding an upstream might echo them in.
//!
//! [`Patterns`] holds every encoded form of a set of values (see
//! [`encoded_forms`]) compiled into one leftmost-longest Aho-Corasick
//! automaton; each match is replaced by [`REDACTION_MARKER`].
//! [`StreamRedactor`] applies it to a stream split at arbitrary points and
//! yields exactly what whole-buffer [`Patterns::redact`] would.
//!
//! Matching ignores ASCII case: an echo in another case (`SK_LIVE_…`, `%2f`
//! next to `%2F`) gives the value away almost as well as the value itself.

mod patterns;
mod stream;

pub use agentsecrets_wire::REDACTION_MARKER;
pub use patterns::{encoded_forms, MIN_BASE64_CORE};
pub use stream::StreamRedactor;

use crate::error::{EngineError, Result};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use stream::PrefixTrie;

/// Every encoded form of a set of values, compiled for one-pass search.
pub struct Patterns {
    ac: Option<AhoCorasick>,
    trie: PrefixTrie,
    count: usize,
    max_len: usize,
}

impl Patterns {
    /// Builds the patterns for `values`; empty values are ignored.
    ///
    /// Panics only if the pattern set exceeds the automaton's size limits
    /// (billions of states), which [`Patterns::try_new`] reports instead.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Patterns {
        match Patterns::try_new(values) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Patterns::new`], with the automaton's size limit as an error.
    pub fn try_new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Patterns> {
        // Lower case once here; the automaton and the trie both fold case.
        let mut forms: Vec<Vec<u8>> = values
            .into_iter()
            .flat_map(encoded_forms)
            .map(|mut f| {
                f.make_ascii_lowercase();
                f
            })
            .collect();
        forms.sort_unstable();
        forms.dedup();
        let ac = if forms.is_empty() {
            None
        } else {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .ascii_case_insensitive(true)
                .build(&forms)
                .map_err(|e| {
                    EngineError::internal(format!("cannot compile the redaction patterns: {e}"))
                        .fix("inject fewer or shorter secrets in one request")
                })?;
            Some(ac)
        };
        Ok(Patterns {
            trie: PrefixTrie::new(&forms),
            count: forms.len(),
            max_len: forms.iter().map(Vec::len).max().unwrap_or(0),
            ac,
        })
    }

    /// Patterns matching nothing: redaction passes everything through.
    pub fn empty() -> Patterns {
        Patterns::new(std::iter::empty())
    }

    pub fn is_empty(&self) -> bool {
        self.ac.is_none()
    }

    /// Number of distinct encoded forms searched for (after case folding).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Length in bytes of the longest encoded form.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Whole-buffer redaction; returns the text and whether anything was replaced.
    pub fn redact(&self, input: &[u8]) -> (Vec<u8>, bool) {
        let Some(ac) = &self.ac else {
            return (input.to_vec(), false);
        };
        let mut out = Vec::with_capacity(input.len());
        let mut last = 0;
        let mut hit = false;
        for m in ac.find_iter(input) {
            hit = true;
            out.extend_from_slice(&input[last..m.start()]);
            out.extend_from_slice(REDACTION_MARKER.as_bytes());
            last = m.end();
        }
        out.extend_from_slice(&input[last..]);
        (out, hit)
    }

    /// Redaction of a string (error messages, header values, URLs).
    pub fn scrub(&self, input: &str) -> String {
        let (out, _) = self.redact(input.as_bytes());
        // A value that is not whole UTF-8 characters can cut a character in
        // two; the replacement character then stands for the remains.
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    pub(crate) fn automaton(&self) -> Option<&AhoCorasick> {
        self.ac.as_ref()
    }

    pub(crate) fn trie(&self) -> &PrefixTrie {
        &self.trie
    }
}

impl std::fmt::Debug for Patterns {
    // Never prints the forms: they are the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patterns")
            .field("forms", &self.count)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shareable_across_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Patterns>();
        send_sync::<StreamRedactor>();
    }

    #[test]
    fn counts_and_limits() {
        let p = Patterns::new([
            b"abcdefgh".as_slice(),
            b"".as_slice(),
            b"abcdefgh".as_slice(),
        ]);
        assert!(!p.is_empty());
        assert_eq!(p.len(), Patterns::new([b"abcdefgh".as_slice()]).len());
        assert!(p.max_len() >= "\\u0061".len() * 8);
        assert!(Patterns::empty().is_empty());
        assert_eq!(Patterns::empty().len(), 0);
    }
}
