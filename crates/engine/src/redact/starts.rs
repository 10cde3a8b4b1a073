//! Where a token of the decoded view (see [`super::view`]) may start, found
//! without stopping at every backslash.
//!
//! In escape-dense JSON (`\"`, `\n` in every string) each backslash starts
//! a token, but one that stands for a byte no form holds, so it can never
//! be part of a match. Stopping at each to read it cost more than the rest
//! of the redactor together. So once an input has shown [`DENSE`]
//! backslashes, a backslash is looked for only before the escape letters
//! whose byte some form holds and before `u` (which can stand for any
//! byte), with one SIMD search for those pairs, beside every `%` and line
//! break. Near the end of the input, where a token may be cut short, every
//! backslash counts again: an unfinished token is held back whatever it
//! would stand for.
//!
//! The candidates are a superset of the useful tokens' starts, in order, so
//! the view's tokens are the same as when every backslash is read.

use super::view::short_escape;
use aho_corasick::packed;

/// The longest token: a surrogate pair such as `\ud83d\ude00`.
const LONGEST_TOKEN: usize = 12;

/// Backslashes met one by one before the input counts as escape-dense and
/// the pair search takes over: in text with few escapes one search for
/// every `%`, backslash and line break costs less than two.
const DENSE: usize = 16;

/// Every byte that can follow a backslash in a JSON escape.
const ESCAPE_LETTERS: &[u8] = b"\"\\/bfnrtu";

/// The searches for one alphabet (the bytes the forms hold).
pub(crate) struct TokenStarts {
    /// `\` followed by each escape letter whose token can be useful, all at
    /// once (Teddy); `None` where it cannot be built (no SIMD).
    escapes: Option<packed::Searcher>,
}

impl TokenStarts {
    pub(crate) fn new(useful: impl Fn(u8) -> bool) -> TokenStarts {
        let needles: Vec<[u8; 2]> = ESCAPE_LETTERS
            .iter()
            .filter(|&&c| short_escape(c).is_none_or(&useful))
            .map(|&c| [b'\\', c])
            .collect();
        let escapes = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&needles)
            .build();
        TokenStarts { escapes }
    }

    /// The candidates in `buf`.
    pub(crate) fn candidates<'a>(&'a self, buf: &'a [u8]) -> Candidates<'a> {
        Candidates {
            starts: self,
            buf,
            tail: match self.escapes {
                Some(_) => buf.len().saturating_sub(LONGEST_TOKEN),
                None => 0,
            },
            next: [None; 2],
            backslashes: 0,
        }
    }
}

/// One input's candidates, asked for in increasing order.
pub(crate) struct Candidates<'a> {
    starts: &'a TokenStarts,
    buf: &'a [u8],
    /// From here every `%`, backslash and line break is a candidate.
    tail: usize,
    /// Each search's first hit at or after where it last looked (`None`:
    /// not searched yet; `usize::MAX`: no hit): a `%` or line break, then
    /// an escape.
    next: [Option<usize>; 2],
    /// Backslashes met one by one so far, up to [`DENSE`].
    backslashes: usize,
}

impl Candidates<'_> {
    /// The first candidate at or after `from`; `from` never decreases.
    pub(crate) fn next(&mut self, from: usize) -> Option<usize> {
        if self.backslashes < DENSE {
            let hit = every_start(self.buf, from);
            if hit.is_some_and(|i| self.buf[i] == b'\\') {
                self.backslashes += 1;
            }
            return hit;
        }
        self.useful_before_tail(from)
            .or_else(|| every_start(self.buf, from.max(self.tail)))
    }

    /// The first `%`, line break or useful escape in `from..tail`.
    fn useful_before_tail(&mut self, from: usize) -> Option<usize> {
        let escapes = self.starts.escapes.as_ref().filter(|_| from < self.tail)?;
        let buf = self.buf;
        let [breaks, pairs] = &mut self.next;
        let breaks = refresh(breaks, from, || {
            memchr::memchr2(b'%', b'\n', &buf[from..]).map(|i| from + i)
        });
        let pairs = refresh(pairs, from, || {
            let span = aho_corasick::Span {
                start: from,
                end: buf.len(),
            };
            escapes.find_in(buf, span).map(|m| m.start())
        });
        Some(breaks.min(pairs)).filter(|&i| i < self.tail)
    }
}

/// A search's first hit at or after `from` (`usize::MAX`: none), searching
/// again only when its last hit lies before `from`.
fn refresh(hit: &mut Option<usize>, from: usize, search: impl FnOnce() -> Option<usize>) -> usize {
    match *hit {
        Some(h) if h >= from => h,
        _ => *hit.insert(search().unwrap_or(usize::MAX)),
    }
}

/// The first `%`, backslash or line break (where any token may start) at
/// or after `from`.
pub(super) fn every_start(buf: &[u8], from: usize) -> Option<usize> {
    memchr::memchr3(b'%', b'\\', b'\n', &buf[from..]).map(|i| from + i)
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

    /// Text whose first [`DENSE`] backslashes are met one by one; their
    /// positions.
    fn dense_prefix() -> (Vec<u8>, Vec<usize>) {
        let text = br#"x\""#.repeat(DENSE);
        let at = (0..DENSE).map(|k| 3 * k + 1).collect();
        (text, at)
    }

    #[test]
    fn sparse_escapes_are_each_a_candidate() {
        let starts = TokenStarts::new(|b| b.is_ascii_alphanumeric());
        let text = br#"{"a":"x\"y\nz"} %41 and more text, then the end"#;
        let every: Vec<usize> = (0..text.len())
            .filter(|&i| b"%\\\n".contains(&text[i]))
            .collect();
        assert_eq!(all(&starts, text), every);
    }

    #[test]
    fn once_dense_useless_escapes_are_skipped_except_near_the_end() {
        // No form holds `"` or a line break: `\"` and `\n` never matter.
        let starts = TokenStarts::new(|b| b.is_ascii_alphanumeric() || b == b'/');
        let (mut text, mut want) = dense_prefix();
        let body = br#"{"a":"x\"y\nz","b":"\u0041%41\/"} and more text, then \"\n"#;
        let base = text.len();
        text.extend_from_slice(body);
        let at = |s: &[u8]| base + memchr::memmem::find(body, s).unwrap();
        want.extend([at(b"\\u0041"), at(b"%41"), at(b"\\/")]);
        let tail = text.len() - LONGEST_TOKEN;
        want.extend((tail..text.len()).filter(|&i| b"%\\\n".contains(&text[i])));
        assert_eq!(all(&starts, &text), want);
    }

    #[test]
    fn with_every_byte_useful_every_escape_counts() {
        let starts = TokenStarts::new(|_| true);
        let (mut text, _) = dense_prefix();
        let base = text.len();
        text.extend_from_slice(&br#"\"\\\/\b\f\n\r\t\u0041\x %0a"#.repeat(3));
        let every: Vec<usize> = (0..text.len())
            .filter(|&i| b"%\\\n".contains(&text[i]))
            .collect();
        // `\x` is no escape: once dense, its backslash is skipped before the tail.
        let found = all(&starts, &text);
        let tail = text.len() - LONGEST_TOKEN;
        for i in every {
            let no_escape = i >= base && text[i] == b'\\' && text[i + 1] == b'x' && i < tail;
            assert_eq!(found.contains(&i), !no_escape, "at {i}");
        }
    }
}
