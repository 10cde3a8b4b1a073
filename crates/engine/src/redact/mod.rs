//! Redaction of secret values in every encoding an upstream might echo them in.
//!
//! [`Patterns`] holds every encoded form of a set of values (see
//! [`encoded_forms`]), searched leftmost-longest; each match is replaced by
//! [`REDACTION_MARKER`].
//! [`StreamRedactor`] applies it to a stream split at arbitrary points and
//! yields exactly what whole-buffer [`Patterns::redact`] would.
//!
//! Matching ignores ASCII case: an echo in another case (`SK_LIVE_…`, `%2f`
//! next to `%2F`) gives the value away almost as well as the value itself.

mod anchors;
mod patterns;
mod search;
mod starts;
mod stream;
mod view;

pub use agentsecrets_wire::REDACTION_MARKER;
pub use patterns::{encoded_forms, MIN_BASE64_CORE};
pub use search::Search;
pub use stream::StreamRedactor;

use crate::error::{EngineError, Result};
use search::{Accel, Forms, Hits};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Bytes a [`Patterns`] scans before it builds its accelerator: a typical
/// response is a few KiB and never repays the build, a large one does.
const ACCEL_AFTER: usize = 48 * 1024;

/// Every encoded form of a set of values, ready for one-pass search.
///
/// Building is cheap (the forms only); the search structures for large
/// inputs are built on first need, shared by every user of the value.
pub struct Patterns {
    /// `None` when there is nothing to search for.
    forms: Option<Forms>,
    /// Bytes scanned so far, towards `accel_after`.
    scanned: AtomicUsize,
    accel_after: usize,
    kind: Search,
    accel: OnceLock<Accel>,
}

impl Patterns {
    /// Builds the patterns for `values`; empty values are ignored.
    ///
    /// Panics only if the forms add up to 4 GiB or more, which
    /// [`Patterns::try_new`] reports instead.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Patterns {
        match Patterns::try_new(values) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Patterns::new`], with the size limit as an error.
    pub fn try_new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Patterns> {
        Patterns::tuned(values, ACCEL_AFTER, Search::Auto)
    }

    /// Patterns that many inputs will share (every value of a home): the
    /// search structures are built now, not on first need.
    pub fn shared<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Patterns> {
        let p = Patterns::tuned(values, 0, Search::Auto)?;
        if let Some(forms) = &p.forms {
            p.accel.get_or_init(|| Accel::new(forms, p.kind));
        }
        Ok(p)
    }

    /// [`Patterns::try_new`] with the accelerator built after `accel_after`
    /// scanned bytes (0: from the first byte; `usize::MAX`: never), and of
    /// the given kind. For tests and measurements: the matches are the same
    /// whatever the choice.
    #[doc(hidden)]
    pub fn tuned<'a>(
        values: impl IntoIterator<Item = &'a [u8]>,
        accel_after: usize,
        kind: Search,
    ) -> Result<Patterns> {
        // Lower case once here; the search folds the input's case.
        let mut forms: Vec<Vec<u8>> = Vec::new();
        for v in values {
            patterns::forms_into(v, true, &mut forms);
        }
        for f in &mut forms {
            f.make_ascii_lowercase();
        }
        forms.sort_unstable();
        forms.dedup();
        let total: usize = forms.iter().map(Vec::len).sum();
        if total >= u32::MAX as usize {
            return Err(
                EngineError::internal("the redaction patterns are too large to compile")
                    .fix("inject fewer or shorter secrets in one request"),
            );
        }
        Ok(Patterns {
            forms: (!forms.is_empty()).then(|| Forms::new(forms)),
            scanned: AtomicUsize::new(0),
            accel_after,
            kind,
            accel: OnceLock::new(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.forms.is_none()
    }

    /// Number of distinct encoded forms searched for (after case folding).
    pub fn len(&self) -> usize {
        self.forms.as_ref().map_or(0, |f| f.forms.len())
    }

    /// Length in bytes of the longest encoded form.
    pub fn max_len(&self) -> usize {
        self.forms.as_ref().map_or(0, |f| f.max_len)
    }

    /// Whether byte `b` (in either case) occurs in some form.
    pub(crate) fn in_some_form(&self, b: u8) -> bool {
        self.forms.as_ref().is_some_and(|f| f.alphabet[b as usize])
    }

    /// The fast search for the decoded view's tokens, once the
    /// accelerator is built.
    pub(crate) fn token_starts(&self) -> Option<&starts::TokenStarts> {
        self.accel.get().map(|a| &a.starts)
    }

    /// Whole-buffer redaction of every form, in the input as it is and in
    /// its decoded view (partial and double escapes, wrapped base64);
    /// returns the text and whether anything was replaced.
    pub fn redact(&self, input: &[u8]) -> (Vec<u8>, bool) {
        match view::redact(self, input) {
            (Some(decoded), _) => (self.redact_forms(&decoded).0, true),
            (None, _) => self.redact_forms(input),
        }
    }

    /// Whole-buffer redaction of the forms as they are, without the decoded
    /// view: leftmost-longest, ASCII case ignored.
    #[doc(hidden)]
    pub fn redact_forms(&self, input: &[u8]) -> (Vec<u8>, bool) {
        let Some(mut searcher) = self.searcher(input.len()) else {
            return (input.to_vec(), false);
        };
        let mut out = Vec::with_capacity(input.len());
        let mut last = 0;
        let mut hit = false;
        while let Some((start, end)) = searcher.find(input, last, input.len()) {
            hit = true;
            out.extend_from_slice(&input[last..start]);
            out.extend_from_slice(REDACTION_MARKER.as_bytes());
            last = end;
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

    /// The search for an input of `n` bytes, or `None` if there is nothing
    /// to search for. Counts the bytes towards building the accelerator.
    pub(crate) fn searcher(&self, n: usize) -> Option<Searcher<'_>> {
        let forms = self.forms.as_ref()?;
        let accel = match self.accel.get() {
            Some(a) => Some(a),
            None => {
                let before = self.scanned.fetch_add(n, Ordering::Relaxed);
                (before.saturating_add(n) > self.accel_after)
                    .then(|| self.accel.get_or_init(|| Accel::new(forms, self.kind)))
            }
        };
        Some(Searcher {
            forms,
            accel,
            hits: Hits::default(),
        })
    }
}

/// One use of [`Patterns`] on one input: the forms, and the accelerator if
/// built.
pub(crate) struct Searcher<'a> {
    forms: &'a Forms,
    accel: Option<&'a Accel>,
    hits: Hits,
}

impl Searcher<'_> {
    /// The leftmost-longest match in `hay` that starts in `from..limit`
    /// (and may end anywhere in `hay`). Successive calls must be on the
    /// same `hay` with `from` never decreasing.
    pub(crate) fn find(&mut self, hay: &[u8], from: usize, limit: usize) -> Option<(usize, usize)> {
        match self.accel {
            Some(a) => a.find(self.forms, hay, from, limit, &mut self.hits),
            None => self.forms.find(hay, from, limit),
        }
    }

    /// Length of the longest suffix of `buf` that is a proper prefix of some
    /// form, and the bytes looked at to find it.
    pub(crate) fn open_suffix_len(&self, buf: &[u8]) -> (usize, usize) {
        match self.accel {
            Some(a) => (a.open_suffix_len(self.forms, buf), 0),
            None => self.forms.open_suffix_len(buf),
        }
    }
}

impl std::fmt::Debug for Patterns {
    // Never prints the forms: they are the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patterns")
            .field("forms", &self.len())
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
        let none = Patterns::new(std::iter::empty::<&[u8]>());
        assert!(none.is_empty());
        assert_eq!(none.len(), 0);
    }
}
