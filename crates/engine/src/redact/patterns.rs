//! The encoded forms of one secret value that an upstream or a child process
//! may echo back: raw, base64 (with the alignment-independent cores of the
//! value embedded in a larger blob), percent- and form-encoded, hex,
//! JSON-escaped, UTF-16. Spellings that mix encoded and plain characters
//! are found through the decoded view (`view.rs`).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use std::sync::OnceLock;

/// A base64 core shorter than this would also match unrelated base64 text.
pub const MIN_BASE64_CORE: usize = 6;

/// Every form of `value` worth redacting, sorted and deduplicated. Empty for
/// an empty value.
pub fn encoded_forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    forms_into(value, false, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

/// Appends the forms of `value` to `out`, unsorted, possibly repeated, none
/// empty. With `folded`, forms that differ from another only in the case of
/// hex digits are left out: they fold to the same lower-case form.
pub(crate) fn forms_into(value: &[u8], folded: bool, out: &mut Vec<Vec<u8>>) {
    if value.is_empty() {
        return;
    }
    out.push(value.to_vec());
    let cases: &[bool] = if folded { &[true] } else { &[false, true] };

    let b64_from = out.len();
    base64_forms(value, out);
    for i in b64_from..out.len() {
        // A base64 token carried in a URL or by a JSON encoder that escapes
        // `/` (PHP, some Java libraries).
        if out[i].iter().any(|b| matches!(b, b'+' | b'/' | b'=')) {
            for &lower in cases {
                let f = percent(&out[i], is_unreserved, lower, false);
                out.push(f);
            }
        }
        if out[i].contains(&b'/') {
            let f = slash_escaped(&out[i]);
            out.push(f);
        }
    }

    percent_forms(value, cases, out);
    // Hex, as debug dumps and byte printers write a value.
    for &lower in cases {
        out.push(
            value
                .iter()
                .flat_map(|&b| {
                    let d = hex_digits(lower);
                    [d[(b >> 4) as usize], d[(b & 15) as usize]]
                })
                .collect(),
        );
    }
    if let Ok(s) = std::str::from_utf8(value) {
        json_forms(s, cases, out);
        // UTF-16, as Windows APIs, Java and .NET write text out.
        out.push(s.encode_utf16().flat_map(u16::to_le_bytes).collect());
        out.push(s.encode_utf16().flat_map(u16::to_be_bytes).collect());
    }
}

/// Standard and URL-safe base64, padded and not (when they differ), plus for each alphabet the
/// characters that depend only on the value when it sits at byte offset 0, 1
/// or 2 of a larger encoded blob (e.g. `Basic base64(user:secret)`).
fn base64_forms(value: &[u8], out: &mut Vec<Vec<u8>>) {
    let mut blob = Vec::with_capacity(value.len() + 4);
    let mut enc = String::with_capacity(value.len() * 4 / 3 + 8);
    for (padded, unpadded) in [(&STANDARD, &STANDARD_NO_PAD), (&URL_SAFE, &URL_SAFE_NO_PAD)] {
        let full = unpadded.encode(value).into_bytes();
        if !value.len().is_multiple_of(3) {
            out.push(padded.encode(value).into_bytes());
        }
        for offset in 0..3usize {
            // Output char i covers stream bits [6i, 6i+6); the value covers
            // bits [8*offset, 8*(offset+len)). Keep the chars fully inside.
            let start = (8 * offset).div_ceil(6);
            let end = 8 * (offset + value.len()) / 6;
            if end < start + MIN_BASE64_CORE {
                continue;
            }
            if offset == 0 {
                // The core at offset 0 is a prefix of the full encoding.
                out.push(full[..end].to_vec());
                continue;
            }
            blob.clear();
            blob.resize(offset, 0);
            blob.extend_from_slice(value);
            blob.extend_from_slice(&[0, 0]);
            enc.clear();
            unpadded.encode_string(&blob, &mut enc);
            out.push(enc.as_bytes()[start..end].to_vec());
        }
        out.push(full);
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// RFC 3986 unreserved: what every percent-encoder leaves alone.
fn is_unreserved(b: u8) -> bool {
    is_alnum(b) || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// The byte sets that common encoders leave unencoded; each gives one form.
const PERCENT_KEEP_SETS: &[fn(u8) -> bool] = &[
    // Every byte encoded.
    |_| false,
    // RFC 3986 component encoding (Python `quote(safe='')`, Go `QueryEscape`).
    is_unreserved,
    // Every non-alphanumeric encoded.
    is_alnum,
    // JavaScript `encodeURIComponent`.
    |b| is_unreserved(b) || matches!(b, b'!' | b'*' | b'\'' | b'(' | b')'),
    // WHATWG `application/x-www-form-urlencoded`.
    |b| is_alnum(b) || matches!(b, b'*' | b'-' | b'.' | b'_'),
    // Python `quote()` with its default `safe='/'`.
    |b| is_unreserved(b) || b == b'/',
    // Only RFC 3986 reserved characters (and what can never be literal).
    |b| b.is_ascii_graphic() && !b":/?#[]@!$&'()*+,;=%".contains(&b),
    // WHATWG query and special-query sets (what `url::Url` writes).
    |b| b.is_ascii_graphic() && !b"\"#<>".contains(&b),
    |b| b.is_ascii_graphic() && !b"\"#<>'".contains(&b),
    // WHATWG path set.
    |b| b.is_ascii_graphic() && !b"\"#<>?`{}".contains(&b),
    // WHATWG path-segment set (`url::PathSegmentsMut::push`).
    |b| b.is_ascii_graphic() && !b"\"#<>?`{}/%".contains(&b),
    // ... and for special schemes (http, https), where `\` is a separator.
    |b| b.is_ascii_graphic() && !b"\"#<>?`{}/%\\".contains(&b),
    // WHATWG userinfo set.
    |b| b.is_ascii_graphic() && !b"\"#<>?`{}/:;=@[\\]^|".contains(&b),
];

/// [`PERCENT_KEEP_SETS`] as tables: they are consulted for every byte of
/// every value of every request.
fn keep_tables() -> &'static [[bool; 256]] {
    static TABLES: OnceLock<Vec<[bool; 256]>> = OnceLock::new();
    TABLES.get_or_init(|| {
        PERCENT_KEEP_SETS
            .iter()
            .map(|keep| std::array::from_fn(|b| keep(b as u8)))
            .collect()
    })
}

fn percent_forms(value: &[u8], cases: &[bool], out: &mut Vec<Vec<u8>>) {
    let has_space = value.contains(&b' ');
    for table in keep_tables() {
        let keep = |b: u8| table[b as usize];
        // Nothing to encode: the raw value, already there.
        if value.iter().all(|&b| keep(b)) {
            continue;
        }
        for &lower in cases {
            out.push(percent(value, keep, lower, false));
            if has_space {
                out.push(percent(value, keep, lower, true));
            }
        }
    }
}

/// Percent-encodes every byte `keep` refuses (hex in the given case); with
/// `plus_space`, a space becomes `+` as in form encoding.
fn percent(value: &[u8], keep: impl Fn(u8) -> bool, lower: bool, plus_space: bool) -> Vec<u8> {
    let hex = hex_digits(lower);
    let mut out = Vec::with_capacity(value.len() * 3);
    for &b in value {
        if plus_space && b == b' ' {
            out.push(b'+');
        } else if keep(b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', hex[(b >> 4) as usize], hex[(b & 15) as usize]]);
        }
    }
    out
}

fn hex_digits(lower: bool) -> &'static [u8; 16] {
    if lower {
        b"0123456789abcdef"
    } else {
        b"0123456789ABCDEF"
    }
}

fn slash_escaped(form: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(form.len() + 4);
    for &b in form {
        if b == b'/' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// How one character is written inside a JSON string.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Esc {
    Raw,
    /// What serde_json (and JavaScript, Python) write: `\"`, `\\`, `\n`, …,
    /// `\u00xx` for other control characters, the rest raw.
    Short,
    /// `\/`.
    Slash,
    ULower,
    UUpper,
}

fn needs_short(c: char) -> bool {
    c == '"' || c == '\\' || (c as u32) < 0x20
}

fn json_forms(s: &str, cases: &[bool], out: &mut Vec<Vec<u8>>) {
    let serde = |c: char| if needs_short(c) { Esc::Short } else { Esc::Raw };
    // serde_json, JavaScript `JSON.stringify`, Python `ensure_ascii=False`.
    let once = json_with(s, serde);
    // A JSON document relayed as a string inside another one.
    if let Some(once) = &once {
        if let Ok(once_str) = std::str::from_utf8(once) {
            out.extend(json_with(once_str, serde));
        }
    }
    out.extend(once);
    // Encoders that escape `/` (PHP `json_encode`).
    out.extend(json_with(
        s,
        |c| if c == '/' { Esc::Slash } else { serde(c) },
    ));
    for &lower in cases {
        let u = if lower { Esc::ULower } else { Esc::UUpper };
        // Python `json.dumps` (ensure_ascii) and Java: non-ASCII as `\uXXXX`.
        out.extend(json_with(s, |c| if c.is_ascii() { serde(c) } else { u }));
        out.extend(json_with(s, |c| match c {
            '/' => Esc::Slash,
            c if c.is_ascii() => serde(c),
            _ => u,
        }));
        // Go `encoding/json`: HTML-sensitive characters and line separators.
        out.extend(json_with(s, |c| match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => u,
            c => serde(c),
        }));
        // Every character as `\uXXXX`.
        out.extend(json_with(s, |_| u));
        // Alphanumerics raw, everything else `\uXXXX`.
        out.extend(json_with(s, |c| {
            if c.is_ascii_alphanumeric() {
                Esc::Raw
            } else {
                u
            }
        }));
    }
}

/// `s` with each character written as `policy` says; `None` when that is
/// `s` itself (the raw value, already a form).
fn json_with(s: &str, policy: impl Fn(char) -> Esc) -> Option<Vec<u8>> {
    if s.chars().all(|c| policy(c) == Esc::Raw) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 2);
    for c in s.chars() {
        match policy(c) {
            Esc::Raw => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            Esc::Slash => out.extend_from_slice(b"\\/"),
            Esc::Short => match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\u{8}' => out.extend_from_slice(b"\\b"),
                '\u{c}' => out.extend_from_slice(b"\\f"),
                c if (c as u32) < 0x20 => push_u(&mut out, c as u16, true),
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            },
            esc @ (Esc::ULower | Esc::UUpper) => {
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    push_u(&mut out, unit, esc == Esc::ULower);
                }
            }
        }
    }
    Some(out)
}

fn push_u(out: &mut Vec<u8>, unit: u16, lower: bool) {
    let hex: &[u8; 16] = if lower {
        b"0123456789abcdef"
    } else {
        b"0123456789ABCDEF"
    };
    out.extend_from_slice(&[
        b'\\',
        b'u',
        hex[(unit >> 12) as usize],
        hex[(unit >> 8 & 15) as usize],
        hex[(unit >> 4 & 15) as usize],
        hex[(unit & 15) as usize],
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(forms: &[Vec<u8>], s: &str) -> bool {
        forms.iter().any(|f| f == s.as_bytes())
    }

    #[test]
    fn empty_value_has_no_forms() {
        assert!(encoded_forms(b"").is_empty());
    }

    #[test]
    fn base64_full_and_cores() {
        let v = b"sk_live_CANARY_4242";
        let forms = encoded_forms(v);
        for e in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            assert!(forms.contains(&e.encode(v).into_bytes()));
        }
        // Embedded at every offset of a larger blob, the core is a substring
        // of the blob's encoding.
        for pre in ["", "u", "us", "user:", "ab:xy"] {
            for post in ["", "!", "!!", "!!!"] {
                let blob = [pre.as_bytes(), v, post.as_bytes()].concat();
                for e in [&STANDARD, &URL_SAFE] {
                    let enc = e.encode(&blob);
                    assert!(
                        forms.iter().any(|f| f.len() >= MIN_BASE64_CORE
                            && enc.as_bytes().windows(f.len()).any(|w| w == f.as_slice())),
                        "{pre:?} {post:?} {enc}"
                    );
                }
            }
        }
    }

    #[test]
    fn short_value_keeps_full_base64_but_no_short_cores() {
        let forms = encoded_forms(b"abc");
        assert!(has(&forms, "YWJj"));
        // Nothing shorter than the raw value or a full encoding.
        assert!(forms.iter().all(|f| f.len() >= 3));
    }

    #[test]
    fn percent_and_form() {
        let forms = encoded_forms(b"a b/c+d");
        for f in [
            "a%20b%2Fc%2Bd",
            "a%20b%2fc%2bd",
            "a+b%2Fc%2Bd",
            "a+b%2fc%2bd",
            "%61%20%62%2F%63%2B%64",
            "%61%20%62%2f%63%2b%64",
            "a%20b/c%2Bd",
        ] {
            assert!(has(&forms, f), "{f}");
        }
    }

    #[test]
    fn json_escapes() {
        let forms = encoded_forms("p\"a/s\u{e9}\u{1F600}".as_bytes());
        let serde = serde_json::to_string("p\"a/s\u{e9}\u{1F600}").unwrap();
        assert!(has(&forms, &serde[1..serde.len() - 1]));
        for f in [
            "p\\\"a\\/s\u{e9}\u{1F600}",
            "p\\\"a/s\\u00e9\\ud83d\\ude00",
            "p\\\"a/s\\u00E9\\uD83D\\uDE00",
            "\\u0070\\u0022\\u0061\\u002f\\u0073\\u00e9\\ud83d\\ude00",
            "\\u0070\\u0022\\u0061\\u002F\\u0073\\u00E9\\uD83D\\uDE00",
            "p\\u0022a\\u002fs\\u00e9\\ud83d\\ude00",
            "p\\u0022a\\u002Fs\\u00E9\\uD83D\\uDE00",
        ] {
            assert!(has(&forms, f), "{f}");
        }
    }

    #[test]
    fn json_control_chars_use_serde_escapes() {
        let v = "a\nb\u{1}c";
        let forms = encoded_forms(v.as_bytes());
        let serde = serde_json::to_string(v).unwrap();
        assert!(has(&forms, &serde[1..serde.len() - 1]));
    }

    #[test]
    fn base64_in_url_and_php_json() {
        // 0xfb 0xff encodes to `+/8` in standard base64.
        let v = [0xfbu8, 0xff, b'x', b'y', b'z', 0xfb, 0xff];
        let forms = encoded_forms(&v);
        let b64 = STANDARD.encode(v);
        assert!(b64.contains('/') && b64.contains('+'));
        assert!(has(&forms, &b64.replace('/', "\\/")));
        assert!(has(
            &forms,
            &b64.replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        ));
    }

    #[test]
    fn non_utf8_value_has_no_json_forms_but_still_raw_and_base64() {
        let v = [0xffu8, 0xfe, b'k', b'e', b'y'];
        let forms = encoded_forms(&v);
        assert!(forms.contains(&v.to_vec()));
        assert!(forms.contains(&STANDARD.encode(v).into_bytes()));
    }
}

#[cfg(test)]
mod folded_tests {
    use super::*;

    #[test]
    fn folded_forms_are_the_lower_cased_forms() {
        let values: [&[u8]; 6] = [
            b"sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
            b"a b/c+d",
            "p\"a/s\u{e9}\u{1F600} <&>\n\u{1}".as_bytes(),
            &[0xfb, 0xff, b'x', b'y', b'z', 0xfb, 0xff],
            b"abc",
            b"Z",
        ];
        for v in values {
            let mut all: Vec<Vec<u8>> = encoded_forms(v)
                .into_iter()
                .map(|f| f.to_ascii_lowercase())
                .collect();
            all.sort_unstable();
            all.dedup();
            let mut folded = Vec::new();
            forms_into(v, true, &mut folded);
            let mut folded: Vec<Vec<u8>> =
                folded.into_iter().map(|f| f.to_ascii_lowercase()).collect();
            folded.sort_unstable();
            folded.dedup();
            assert_eq!(folded, all, "{}", String::from_utf8_lossy(v));
        }
    }
}
