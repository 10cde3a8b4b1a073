//! Redaction of secret values in every encoding an upstream might echo them in.
//!
//! INTERFACE CONTRACT; the redact/allowlist helper implements it.

use bytes::Bytes;
use std::sync::Arc;

/// Every encoded form of a set of values, compiled for one-pass search.
pub struct Patterns {
    _private: (),
}

impl Patterns {
    pub fn new<'a>(_values: impl IntoIterator<Item = &'a [u8]>) -> Patterns {
        todo!()
    }

    pub fn is_empty(&self) -> bool {
        todo!()
    }

    /// Whole-buffer redaction; returns the text and whether anything was replaced.
    pub fn redact(&self, _input: &[u8]) -> (Vec<u8>, bool) {
        todo!()
    }

    /// Redaction of a string (error messages, header values, URLs).
    pub fn scrub(&self, _input: &str) -> String {
        todo!()
    }
}

/// Split-safe streaming redaction: holds back only a tail that could still
/// become a match, so output stays prompt.
pub struct StreamRedactor {
    _private: (),
}

impl StreamRedactor {
    pub fn new(_patterns: Arc<Patterns>) -> Self {
        todo!()
    }

    /// Feeds a chunk; returns what can be emitted now.
    pub fn push(&mut self, _chunk: &[u8]) -> Bytes {
        todo!()
    }

    /// Ends the stream; returns the rest.
    pub fn finish(&mut self) -> Bytes {
        todo!()
    }

    pub fn redacted(&self) -> bool {
        todo!()
    }
}
