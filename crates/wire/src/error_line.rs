//! The CLI's `--json` error line: one `{"error": EngineErrorBody}` JSON
//! object on stderr (and, from a detached proxy that cannot write its log
//! file, on stdout). The engine writes it; the engine's own `proxy start
//! --detach` and the SDK read it.

use crate::EngineErrorBody;
use serde::{Deserialize, Serialize};

/// One error line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorLine {
    pub error: EngineErrorBody,
}

impl ErrorLine {
    pub fn new(error: EngineErrorBody) -> Self {
        ErrorLine { error }
    }

    /// The line as printed, without its newline. Keys are in sorted order
    /// (through a JSON value), as the engine has always printed them.
    pub fn render(&self) -> String {
        serde_json::to_value(self)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    /// The error a line carries, or `None` when the line is not one
    /// (not JSON, truncated, or without a complete error body).
    pub fn parse(line: &str) -> Option<EngineErrorBody> {
        serde_json::from_str::<ErrorLine>(line.trim())
            .ok()
            .map(|l| l.error)
    }

    /// The last error line in `text` (a command's whole stderr), if any.
    pub fn last_in(text: &str) -> Option<EngineErrorBody> {
        text.lines().rev().find_map(ErrorLine::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn sample() -> EngineErrorBody {
        EngineErrorBody::new(ErrorCode::SecretNotFound, "no secret KEY").with_fix("add it")
    }

    #[test]
    fn a_rendered_line_parses_back() {
        let line = ErrorLine::new(sample()).render();
        assert!(line.starts_with(r#"{"error":{"code":"SECRET_NOT_FOUND""#));
        assert_eq!(ErrorLine::parse(&line), Some(sample()));
        assert_eq!(ErrorLine::parse(&format!("  {line}\r")), Some(sample()));
    }

    #[test]
    fn extra_fields_are_ignored() {
        let line = r#"{"error":{"error":"secret_not_found","code":"SECRET_NOT_FOUND","message":"m","engine":"agentsecrets-engine","later":1},"also":true}"#;
        let body = ErrorLine::parse(line).expect("parsed");
        assert_eq!(body.code, ErrorCode::SecretNotFound);
        assert_eq!(body.message, "m");
    }

    #[test]
    fn bad_lines_are_none() {
        let good = ErrorLine::new(sample()).render();
        for cut in 0..good.len() {
            assert_eq!(ErrorLine::parse(&good[..cut]), None, "cut at {cut}");
        }
        for bad in [
            "",
            "error: no secret",
            "null",
            "[]",
            r#"{"error":"plain string"}"#,
            r#"{"error":{"code":"SECRET_NOT_FOUND"}}"#,
            r#"{"error":{"error":"x","code":"NOT_A_CODE","message":"m","engine":"e"}}"#,
            "\u{0}\u{fffd}{",
        ] {
            assert_eq!(ErrorLine::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_last_error_line_wins_over_other_output() {
        let first = EngineErrorBody::new(ErrorCode::Internal, "first");
        let text = format!(
            "warming up\n{}\nnoise\n{}\ntrailing text\n",
            ErrorLine::new(first).render(),
            ErrorLine::new(sample()).render()
        );
        assert_eq!(ErrorLine::last_in(&text), Some(sample()));
        assert_eq!(ErrorLine::last_in("plain failure\n"), None);
    }
}
