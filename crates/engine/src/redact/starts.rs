//! Where a token of the decoded view (see [`super::view`]) may start, found
//! without stopping at every backslash.
//!
//! In escape-dense JSON (`\"`, `\n` in every string) each backslash starts
//! a token, but one that stands for a byte no form holds, so it can never
//! be part of a match. Stopping at each to read it cost more than the rest
//! of the redactor together. Instead a backslash is looked for only before
//! the escape letters whose byte some form holds, and before `u` (which
//! can stand for any byte), with SIMD two-byte searches, beside every `%`
//! and line break. Near the end of the input, where a token may be cut
//! short, every backslash counts again, as an unfinished token is held
//! back whatever it would stand for.
//!
//! The candidates are a superset of the useful tokens' starts, in order, so
//! the view's tokens are the same as when every backslash is read.

use super::view::short_escape;
use memchr::memmem::Finder;

/// The longest token: a surrogate pair such as `\ud83d\ude00`.
const LONGEST_TOKEN: usize = 12;

/// Every byte that can follow a backslash in a JSON escape.
const ESCAPE_LETTERS: &[u8] = b"\"\\/bfnrtu";

/// The searches for one alphabet (the bytes the forms hold).
pub(crate) struct TokenStarts {
    /// `\` followed by each escape letter whose token can be useful.
    escapes: Vec<Finder<'static>>,
}

impl TokenStarts {
    pub(crate) fn new(useful: impl Fn(u8) -> bool) -> TokenStarts {
        let escapes = ESCAPE_LETTERS
            .iter()
            .filter(|&&c| short_escape(c).is_none_or(&useful))
            .map(|&c| Finder::new(&[b'\\', c]).into_owned())
            .collect();
        TokenStarts { escapes }
    }

    /// The candidates in `buf`.
    pub(crate) fn candidates<'a>(&'a self, buf: &'a [u8]) -> Candidates<'a> {
        Candidates {
            starts: self,
            buf,
            tail: buf.len().saturating_sub(LONGEST_TOKEN),
            next: vec![None; self.escapes.len() + 1],
        }
    }
}

/// One input's candidates, asked for in increasing order.
pub(crate) struct Candidates<'a> {
    starts: &'a TokenStarts,
    buf: &'a [u8],
    /// From here every `%`, backslash and line break is a candidate.
    tail: usize,
    /// Each search's first hit at or after where it last looked
    /// (`usize::MAX`: none): a `%` or line break, then each escape.
    next: Vec<Option<usize>>,
}

impl Candidates<'_> {
    /// The first candidate at or after `from`; `from` never decreases.
    pub(crate) fn next(&mut self, from: usize) -> Option<usize> {
        let buf = self.buf;
        if from < self.tail {
            let mut first = usize::MAX;
            for (k, hit) in self.next.iter_mut().enumerate() {
                if hit.is_none_or(|h| h < from) {
                    let found = match k {
                        0 => memchr::memchr2(b'%', b'\n', &buf[from..]),
                        _ => self.starts.escapes[k - 1].find(&buf[from..]),
                    };
                    *hit = Some(found.map_or(usize::MAX, |i| from + i));
                }
                first = first.min(hit.unwrap_or(usize::MAX));
            }
            if first < self.tail {
                return Some(first);
            }
        }
        let from = from.max(self.tail);
        memchr::memchr3(b'%', b'\\', b'\n', &buf[from..]).map(|i| from + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(starts: &TokenStarts, buf: &[u8]) -> Vec<usize> {
        let mut c = starts.candidates(buf);
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(i) = c.next(at) {
            out.push(i);
            at = i + 1;
        }
        out
    }

    #[test]
    fn useless_escapes_are_skipped_except_near_the_end() {
        // No form holds `"` or a line break: `\"` and `\n` never matter.
        let starts = TokenStarts::new(|b| b.is_ascii_alphanumeric() || b == b'/');
        let text = br#"{"a":"x\"y\nz","b":"\u0041%41\/"} and more text, then \"\n"#;
        let found = all(&starts, text);
        let at = |s: &[u8]| memchr::memmem::find(text, s).unwrap();
        let tail = text.len() - LONGEST_TOKEN;
        let mut want = vec![at(b"\\u0041"), at(b"%41"), at(b"\\/")];
        want.extend((tail..text.len()).filter(|&i| b"%\\\n".contains(&text[i])));
        assert_eq!(found, want);
    }

    #[test]
    fn with_every_byte_useful_every_backslash_counts() {
        let starts = TokenStarts::new(|_| true);
        let text = br#"\"\\\/\b\f\n\r\t\u0041\x %0a"#.repeat(3);
        let every: Vec<usize> = (0..text.len())
            .filter(|&i| b"%\\\n".contains(&text[i]))
            .collect();
        // `\x` is no escape: its backslash is skipped before the tail.
        let found = all(&starts, &text);
        let tail = text.len() - LONGEST_TOKEN;
        for i in every {
            let no_escape = text[i] == b'\\' && text[i + 1] == b'x' && i < tail;
            assert_eq!(found.contains(&i), !no_escape, "at {i}");
        }
    }
}
