//! Echoes in the open-ended encoding families: a value with only some of
//! its characters percent-encoded (once or twice), only some JSON-escaped
//! (`\uXXXX`, `\"`, `\/`, …), or base64 wrapped by line breaks (MIME, PEM).
//!
//! No list of fixed forms can hold every such spelling, so the input is
//! also read through a decoded *view*: each escape sequence (a *token*)
//! stands for the bytes it decodes to, and a line break between two base64
//! characters stands for nothing. The forms are searched in the view, and
//! a match that covers at least one token redacts the input bytes behind
//! it (a match of plain bytes is the identity search's, which runs after).
//!
//! Tokens are read greedily from the start of the input, each from its own
//! bytes (and, for a line break, the base64 run before it), so a stream cut
//! anywhere reads them the same way: at a cut the redactor holds back a
//! token that is not yet complete and any tail of the view that could
//! still become a match.

use super::starts::{every_start, TokenStarts};
use super::{Patterns, Searcher};
use agentsecrets_wire::REDACTION_MARKER;
use bytes::{Bytes, BytesMut};
use std::sync::Arc;

/// One escape sequence (or wrapping line break) of the input.
#[derive(Clone, Copy, Debug)]
struct Token {
    /// Its input bytes.
    start: usize,
    end: usize,
    /// What it stands for (`len` bytes; 0 for a line break).
    bytes: [u8; 4],
    len: u8,
    /// Where it stands in the view.
    at: usize,
}

enum Class {
    Token(Token),
    Literal,
    /// Not decidable until more input arrives.
    NeedMore,
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn hex_at(buf: &[u8], i: usize, n: usize) -> Option<Option<u32>> {
    let mut v = 0u32;
    for k in 0..n {
        match hex(*buf.get(i + k)?) {
            Some(d) => v = v << 4 | d as u32,
            None => return Some(None),
        }
    }
    Some(Some(v))
}

fn token(start: usize, end: usize, out: &[u8]) -> Class {
    let mut bytes = [0u8; 4];
    bytes[..out.len()].copy_from_slice(out);
    Class::Token(Token {
        start,
        end,
        bytes,
        len: out.len() as u8,
        at: 0,
    })
}

/// `%HH`, or `%25HH` (encoded twice).
fn percent(buf: &[u8], i: usize) -> Class {
    let Some(first) = hex_at(buf, i + 1, 2) else {
        return Class::NeedMore;
    };
    let Some(b) = first else {
        return Class::Literal;
    };
    if b == 0x25 {
        match hex_at(buf, i + 3, 2) {
            None if buf.get(i + 3).is_none_or(|&c| hex(c).is_some()) => return Class::NeedMore,
            Some(Some(inner)) => return token(i, i + 5, &[inner as u8]),
            _ => {}
        }
    }
    token(i, i + 3, &[b as u8])
}

/// A JSON string escape.
fn json(buf: &[u8], i: usize) -> Class {
    let Some(&c) = buf.get(i + 1) else {
        return Class::NeedMore;
    };
    if c == b'u' {
        return json_unicode(buf, i);
    }
    match short_escape(c) {
        Some(b) => token(i, i + 2, &[b]),
        None => Class::Literal,
    }
}

/// The byte a two-character JSON escape (`\` then `c`) stands for.
pub(super) fn short_escape(c: u8) -> Option<u8> {
    Some(match c {
        b'"' | b'\\' | b'/' => c,
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        _ => return None,
    })
}

fn json_unicode(buf: &[u8], i: usize) -> Class {
    let Some(unit) = hex_at(buf, i + 2, 4) else {
        return Class::NeedMore;
    };
    let Some(unit) = unit else {
        return Class::Literal;
    };
    let (code, end) = match unit {
        0xD800..=0xDBFF => {
            // A high surrogate counts only with its low half.
            match (buf.get(i + 6), buf.get(i + 7)) {
                (None, _) | (Some(b'\\'), None) => return Class::NeedMore,
                (Some(b'\\'), Some(b'u')) => {}
                _ => return Class::Literal,
            }
            match hex_at(buf, i + 8, 4) {
                None => return Class::NeedMore,
                Some(Some(low @ 0xDC00..=0xDFFF)) => {
                    (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), i + 12)
                }
                Some(_) => return Class::Literal,
            }
        }
        0xDC00..=0xDFFF => return Class::Literal,
        u => (u, i + 6),
    };
    let mut utf8 = [0u8; 4];
    match char::from_u32(code) {
        Some(ch) => {
            let s = ch.encode_utf8(&mut utf8);
            let n = s.len();
            token(i, end, &utf8[..n])
        }
        None => Class::Literal,
    }
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

/// Base64 characters a line must end in for its line break to count as
/// wrapping (MIME wraps at 76, PEM at 64). Such a line is held back until
/// the next byte shows whether the base64 goes on, so ordinary lines (log
/// output, a token in a sentence, JSON) must not qualify.
const WRAPPED_LINE: usize = 60;

/// How many base64 characters end `buf[..end]` (at most [`WRAPPED_LINE`]),
/// counting on into `before`, the count that ended the input before `buf`.
fn base64_run(buf: &[u8], end: usize, before: usize) -> usize {
    let from = end.saturating_sub(WRAPPED_LINE);
    match buf[from..end].iter().rposition(|&b| !is_base64(b)) {
        Some(k) => end - from - k - 1,
        None if from == 0 => (end + before).min(WRAPPED_LINE),
        None => WRAPPED_LINE,
    }
}

/// A line break (`\n` or `\r\n`) that ends a line of base64.
fn line_break(buf: &[u8], i: usize, before: usize) -> Class {
    let start = if i > 0 && buf[i - 1] == b'\r' {
        i - 1
    } else {
        i
    };
    if base64_run(buf, start, before) >= WRAPPED_LINE {
        token(start, i + 1, &[])
    } else {
        Class::Literal
    }
}

/// The tokens of `buf` and where its readable part ends: before a token
/// that needs more input (unless `last`), else at the end. `before` is the
/// [`base64_run`] that ended the input before `buf`. An escape that stands
/// for a byte no form holds (`\"`, `\n` in most homes) can never be part of
/// a match, so it counts as plain text: escape-dense JSON costs no view.
///
/// With `starts`, only the candidates it finds are read (the same tokens,
/// found sooner in escape-dense text).
fn tokens(
    buf: &[u8],
    before: usize,
    last: bool,
    useful: impl Fn(u8) -> bool,
    starts: Option<&TokenStarts>,
) -> (Vec<Token>, usize) {
    let mut out = Vec::new();
    let mut i = 0;
    let mut candidates = starts.map(|s| s.candidates(buf));
    let mut next = |i: usize| match candidates.as_mut() {
        Some(c) => c.next(i),
        None => every_start(buf, i),
    };
    while let Some(at) = next(i) {
        let class = match buf[at] {
            b'%' => percent(buf, at),
            b'\\' => json(buf, at),
            _ => line_break(buf, at, before),
        };
        match class {
            Class::Token(t) if !t.bytes[..t.len as usize].iter().all(|&b| useful(b)) => {
                i = at + 1;
            }
            Class::Token(t) => {
                i = t.end;
                out.push(t);
            }
            Class::Literal => i = at + 1,
            Class::NeedMore if last => i = at + 1,
            Class::NeedMore => return (out, at),
        }
    }
    // A `\r` at the end of a line of base64 may start a wrapping `\r\n`.
    let end = if !last
        && buf.last() == Some(&b'\r')
        && base64_run(buf, buf.len() - 1, before) >= WRAPPED_LINE
    {
        buf.len() - 1
    } else {
        buf.len()
    };
    (out, end)
}

impl Token {
    /// The end of the starts from which a match covers this token: before
    /// its last byte (before the token itself, for a line break).
    fn starts_end(&self) -> usize {
        self.at + self.len as usize
    }
}

/// The decoded view of `buf[..end]`.
struct View {
    bytes: Vec<u8>,
    tokens: Vec<Token>,
}

impl View {
    fn new(buf: &[u8], mut tokens: Vec<Token>, end: usize) -> View {
        let mut bytes = Vec::with_capacity(end);
        let mut last = 0;
        for t in &mut tokens {
            bytes.extend_from_slice(&buf[last..t.start]);
            t.at = bytes.len();
            bytes.extend_from_slice(&t.bytes[..t.len as usize]);
            last = t.end;
        }
        bytes.extend_from_slice(&buf[last..end]);
        View { bytes, tokens }
    }

    /// The last token that starts in the view at or before `v`.
    fn token_before(&self, v: usize) -> Option<&Token> {
        let k = self.tokens.partition_point(|t| t.at <= v);
        k.checked_sub(1).map(|k| &self.tokens[k])
    }

    /// The input position where view byte `v` starts to be read.
    fn input_start(&self, v: usize) -> usize {
        match self.token_before(v) {
            Some(t) if v < t.at + t.len as usize => t.start,
            Some(t) => t.end + (v - t.at - t.len as usize),
            None => v,
        }
    }

    /// The input position just after view byte `v`.
    fn input_end(&self, v: usize) -> usize {
        match self.token_before(v) {
            Some(t) if v < t.at + t.len as usize => t.end,
            _ => self.input_start(v) + 1,
        }
    }

    /// Whether view bytes `s..e` cover a token: overlap one, or hold a line
    /// break strictly inside.
    fn covers_token(&self, s: usize, e: usize) -> bool {
        let k = self.tokens.partition_point(|t| t.at + t.len as usize <= s);
        self.tokens.get(k).is_some_and(|t| t.at < e)
    }

    /// The view position of input position `i`, a token boundary.
    fn view_pos(&self, i: usize) -> usize {
        let k = self.tokens.partition_point(|t| t.end <= i);
        match k.checked_sub(1).map(|k| &self.tokens[k]) {
            Some(t) => t.at + t.len as usize + (i - t.end),
            None => i,
        }
    }
}

/// What one pass found: the final part of the input (`keep` bytes) and,
/// if anything was replaced, its redacted text.
struct Scan {
    replaced: Option<Vec<u8>>,
    keep: usize,
}

/// Redacts the matches that cover a token in `buf`. Unless `last`, holds
/// back a token that needs more input and a tail of the view that could
/// still become a match.
fn scan(patterns: &Patterns, buf: &[u8], before: usize, last: bool) -> Scan {
    let (tokens, end) = tokens(
        buf,
        before,
        last,
        |b| patterns.in_some_form(b),
        patterns.token_starts(),
    );
    let Some(mut search) = patterns.searcher(if tokens.is_empty() { 0 } else { end }) else {
        return Scan {
            replaced: None,
            keep: buf.len(),
        };
    };
    if tokens.is_empty() {
        // The view is the input and nothing here can cover a token; only a
        // tail that a token in the next chunk could complete is held.
        let open = if last {
            0
        } else {
            search.open_suffix_len(&buf[..end]).0
        };
        return Scan {
            replaced: None,
            keep: end - open,
        };
    }
    let view = View::new(buf, tokens, end);
    let v = &view.bytes;
    let mut keep = tail_start(&view, &search, 0, last, end);
    let mut limit = view.view_pos(keep);
    let mut out: Option<Vec<u8>> = None;
    let mut emitted = 0;
    let mut at = 0;
    let max_len = patterns.max_len();
    let window_start = |t: &Token| (t.at + 1).saturating_sub(max_len);
    let mut k = 0;
    while k < view.tokens.len() {
        // Starts from which a match can cover a token: the tokens' windows,
        // merged where they touch, searched in one pass each.
        let mut lo = at.max(window_start(&view.tokens[k]));
        let mut hi = view.tokens[k].starts_end();
        let mut j = k + 1;
        while j < view.tokens.len() && window_start(&view.tokens[j]) <= hi {
            hi = hi.max(view.tokens[j].starts_end());
            j += 1;
        }
        while lo < hi.min(limit) {
            let Some((s, e)) = search.find(v, lo, hi.min(limit)) else {
                break;
            };
            if !view.covers_token(s, e) {
                lo = s + 1;
                continue;
            }
            let (from, to) = (view.input_start(s), view.input_end(e - 1));
            let out = out.get_or_insert_with(|| Vec::with_capacity(buf.len()));
            out.extend_from_slice(&buf[emitted..from]);
            out.extend_from_slice(REDACTION_MARKER.as_bytes());
            emitted = to;
            at = view.view_pos(to);
            lo = at;
            if to > keep {
                // The match ate into the tail: only what follows it can
                // still be open.
                keep = tail_start(&view, &search, at, last, end);
                limit = view.view_pos(keep);
            }
        }
        at = at.max(hi);
        k = j;
    }
    if let Some(out) = out.as_mut() {
        out.extend_from_slice(&buf[emitted..keep]);
    }
    Scan {
        replaced: out,
        keep,
    }
}

/// Where the held-back tail starts in the input: the longest end of the
/// view after view position `from` that could still become a match (none
/// when `last`), else `end`.
fn tail_start(view: &View, search: &Searcher<'_>, from: usize, last: bool, end: usize) -> usize {
    let v = &view.bytes;
    match if last {
        0
    } else {
        search.open_suffix_len(&v[from..]).0
    } {
        0 => end,
        open => view.input_start(v.len() - open),
    }
}

/// Whole-buffer redaction of the token-covering matches.
pub(crate) fn redact(patterns: &Patterns, input: &[u8]) -> (Option<Vec<u8>>, bool) {
    let s = scan(patterns, input, 0, true);
    let hit = s.replaced.is_some();
    (s.replaced, hit)
}

/// The streaming form of [`redact`].
pub(crate) struct ViewStage {
    patterns: Arc<Patterns>,
    pending: BytesMut,
    /// The [`base64_run`] that ends the input before `pending`.
    before: usize,
    redacted: bool,
}

impl ViewStage {
    pub(crate) fn new(patterns: Arc<Patterns>) -> Self {
        ViewStage {
            patterns,
            pending: BytesMut::new(),
            before: 0,
            redacted: false,
        }
    }

    /// Feeds a chunk; returns what is final.
    pub(crate) fn push(&mut self, chunk: Bytes) -> Bytes {
        if self.patterns.is_empty() {
            return chunk;
        }
        if self.pending.is_empty() {
            let s = scan(&self.patterns, &chunk, self.before, false);
            self.pending.extend_from_slice(&chunk[s.keep..]);
            return self.emit(s, |n| chunk.slice(..n), &chunk);
        }
        self.pending.extend_from_slice(&chunk);
        let s = scan(&self.patterns, &self.pending, self.before, false);
        let keep = s.keep;
        let buf = self.pending.split_to(keep).freeze();
        self.emit(s, |_| buf.clone(), &buf)
    }

    fn emit(&mut self, s: Scan, plain: impl FnOnce(usize) -> Bytes, input: &[u8]) -> Bytes {
        self.before = base64_run(input, s.keep, self.before);
        match s.replaced {
            Some(out) => {
                self.redacted = true;
                Bytes::from(out)
            }
            None => plain(s.keep),
        }
    }

    /// Ends the stream; returns the rest.
    pub(crate) fn finish(&mut self) -> Bytes {
        let buf = std::mem::take(&mut self.pending);
        let s = scan(&self.patterns, &buf, self.before, true);
        match s.replaced {
            Some(out) => {
                self.redacted = true;
                Bytes::from(out)
            }
            None => buf.freeze(),
        }
    }

    pub(crate) fn redacted(&self) -> bool {
        self.redacted
    }

    pub(crate) fn held_back(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(s: &str) -> String {
        let (t, end) = tokens(s.as_bytes(), 0, true, |_| true, None);
        String::from_utf8(View::new(s.as_bytes(), t, end).bytes).unwrap()
    }

    #[test]
    fn the_view_decodes_each_family() {
        assert_eq!(decoded("a%41%2542%25zz%4"), "aAB%zz%4");
        assert_eq!(
            decoded(r#"x\u0041\"\/\n\ud83d\ude00\ud83d"#),
            "xA\"/\n😀\\ud83d"
        );
        let line = "UVVKRFFVSkRRVUpE".repeat(4);
        let wrapped = format!("{line}\r\n{line}\nR0g=\n.\nx");
        assert_eq!(decoded(&wrapped), format!("{line}{line}R0g=\n.\nx"));
        assert_eq!(
            decoded("prose ends in a word\nnext"),
            "prose ends in a word\nnext"
        );
    }

    #[test]
    fn the_fast_token_search_reads_the_same_tokens() {
        let line = "UVVKRFFVSkRRVUpE".repeat(4);
        // JSON with useless (`\"`, `\n`) and useful escapes, percent
        // escapes, and wrapped base64.
        let json = r#"{"t":"say \"hi\"\nnow","u":"\u0041\ud83d\ude00\\u0042\/%41%2541%zz\x"}"#;
        let text = format!("{json}\n{line}\n{line}\r\n").repeat(3);
        let key = |(t, end): (Vec<Token>, usize)| {
            let t: Vec<_> = t.iter().map(|t| (t.start, t.end, t.bytes, t.len)).collect();
            (t, end)
        };
        let alphabets: [fn(u8) -> bool; 3] = [
            |b| b.is_ascii_alphanumeric() || b"_-+/=".contains(&b),
            |b| b.is_ascii_alphanumeric(),
            |_| true,
        ];
        for useful in alphabets {
            let starts = TokenStarts::new(useful);
            for cut in 0..=text.len() {
                let buf = &text.as_bytes()[..cut];
                for last in [false, true] {
                    assert_eq!(
                        key(tokens(buf, 0, last, useful, Some(&starts))),
                        key(tokens(buf, 0, last, useful, None)),
                        "cut {cut}, last {last}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_unfinished_token_is_held() {
        for s in [
            "ab%",
            "ab%2",
            "ab%25",
            "ab%254",
            "ab\\",
            "ab\\u00",
            "ab\\ud83d",
            "ab\\ud83d\\u",
        ] {
            let (_, end) = tokens(s.as_bytes(), 0, false, |_| true, None);
            assert_eq!(end, 2, "{s:?}");
        }
        let (_, end) = tokens(b"QQ\r", WRAPPED_LINE, false, |_| true, None);
        assert_eq!(end, 2);
        // A line break is decided by what precedes it: never held.
        let (t, end) = tokens(b"QQ\n", WRAPPED_LINE, false, |_| true, None);
        assert_eq!((t.len(), end), (1, 3));
    }

    #[test]
    fn partial_escapes_are_redacted_whole_and_streamed() {
        let p = Arc::new(Patterns::new([b"sk_live_PARTIAL_9f8e7d".as_slice()]));
        let echo = "<sk_live%5FPARTIAL\\u005f9f%2538e7d>";
        let (out, hit) = redact(&p, echo.as_bytes());
        assert!(hit);
        assert_eq!(
            String::from_utf8(out.unwrap()).unwrap(),
            format!("<{REDACTION_MARKER}>")
        );
        for cut in 0..echo.len() {
            let mut s = ViewStage::new(p.clone());
            let mut out = s
                .push(Bytes::copy_from_slice(&echo.as_bytes()[..cut]))
                .to_vec();
            out.extend_from_slice(&s.push(Bytes::copy_from_slice(&echo.as_bytes()[cut..])));
            out.extend_from_slice(&s.finish());
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("<{REDACTION_MARKER}>"),
                "cut {cut}"
            );
        }
    }
}
