//! Printing results: a plain table for people, JSON with `--json`.
//! Errors go to stderr: a message and a fix, or the engine error body as JSON.
//! Nothing here panics when a stream cannot be written (closed pipe, full
//! disk): the line is dropped.

use crate::diag;
use crate::error::EngineError;
use agentsecrets_wire::ErrorLine;
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON on stdout.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => {
                diag::out(text);
            }
            Err(e) => diag::note(format_args!("error: cannot print the result: {e}")),
        }
    }

    /// Prints a JSON value with `--json`, else the text from `human`.
    pub fn result<T: Serialize + ?Sized>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            self.json(value);
        } else {
            let text = human();
            if !text.is_empty() {
                diag::out(text.trim_end_matches('\n'));
            }
        }
    }

    /// Prints an error and returns its exit code.
    pub fn error(&self, e: &EngineError) -> i32 {
        if self.json {
            diag::note(ErrorLine::new(e.to_body()).render());
        } else {
            diag::note(format_args!("error: {}", e.message));
            if let Some(fix) = &e.fix {
                diag::note(format_args!("  fix: {fix}"));
            }
        }
        e.exit_code()
    }
}

/// Renders rows as a left-aligned table with a header line.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_aligns() {
        let t = super::table(
            &["KEY", "UPDATED"],
            &[
                vec!["A".into(), "x".into()],
                vec!["LONGER".into(), "y".into()],
            ],
        );
        assert_eq!(t, "KEY     UPDATED\nA       x\nLONGER  y");
    }
}
