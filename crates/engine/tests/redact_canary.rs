//! Security rows S1, S2, S5 and S10 at the redactor level: a canary value
//! echoed in every encoding an upstream or a child may use is never let
//! through, whole or streamed. The encodings here come from independent
//! encoders (base64, url, percent-encoding, serde_json), not from the
//! redactor's own list.

use agentsecrets_engine::redact::{Patterns, StreamRedactor, REDACTION_MARKER};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::sync::Arc;

const CANARY: &str = "CANARY-7f3a/9+Qz=x\"y\\z é😀 <&>";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn lower_hex_escapes(s: &str) -> String {
    // `%2F` -> `%2f`
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = it.next() {
                    out.push(h.to_ascii_lowercase());
                }
            }
        }
    }
    out
}

fn u_escape_all(s: &str, lower: bool) -> String {
    s.encode_utf16()
        .map(|u| {
            if lower {
                format!("\\u{u:04x}")
            } else {
                format!("\\u{u:04X}")
            }
        })
        .collect()
}

/// The canary as independent encoders write it.
fn echoes(v: &str) -> Vec<(&'static str, String)> {
    let b = v.as_bytes();
    let json = serde_json::to_string(v).unwrap();
    let json = json[1..json.len() - 1].to_string();
    let pct = utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
    let form: String = url::form_urlencoded::byte_serialize(b).collect();
    let mut query_url = url::Url::parse("https://api.example.com/x").unwrap();
    query_url.query_pairs_mut().append_pair("key", v);
    let mut path_url = url::Url::parse("https://api.example.com/").unwrap();
    path_url.path_segments_mut().unwrap().push(v);
    vec![
        ("raw", v.to_string()),
        ("base64", STANDARD.encode(b)),
        ("base64 no pad", STANDARD_NO_PAD.encode(b)),
        ("base64url", URL_SAFE.encode(b)),
        ("base64url no pad", URL_SAFE_NO_PAD.encode(b)),
        (
            "basic auth",
            format!("Basic {}", STANDARD.encode(format!("user:{v}"))),
        ),
        (
            "basic auth, value as user",
            STANDARD.encode(format!("{v}:x")),
        ),
        (
            "base64 in a JSON blob",
            STANDARD.encode(format!("{{\"token\":\"{v}\"}}")),
        ),
        (
            "base64url in a JSON blob",
            URL_SAFE_NO_PAD.encode(format!("{{\"a\":\"{v}\",\"b\":1}}")),
        ),
        ("percent upper", pct.clone()),
        ("percent lower", lower_hex_escapes(&pct)),
        ("form", form.clone()),
        ("form lower", lower_hex_escapes(&form)),
        ("url query", query_url.to_string()),
        ("url path", path_url.to_string()),
        ("hex lower", b.iter().map(|x| format!("{x:02x}")).collect()),
        ("hex upper", b.iter().map(|x| format!("{x:02X}")).collect()),
        ("json", json.clone()),
        ("json slash", json.replace('/', "\\/")),
        ("json \\u lower", u_escape_all(v, true)),
        ("json \\u upper", u_escape_all(v, false)),
        ("json python ensure_ascii", serde_json_ascii(v)),
        ("json in json", {
            let inner = serde_json::to_string(&serde_json::json!({ "v": v })).unwrap();
            serde_json::to_string(&inner).unwrap()
        }),
    ]
}

/// What Python's `json.dumps` writes by default: non-ASCII as `\uxxxx`.
fn serde_json_ascii(v: &str) -> String {
    let json = serde_json::to_string(v).unwrap();
    let mut out = String::new();
    for c in json[1..json.len() - 1].chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&u_escape_all(&c.to_string(), true));
        }
    }
    out
}

fn patterns() -> Arc<Patterns> {
    Arc::new(Patterns::new([
        CANARY.as_bytes(),
        b"second-secret-value".as_slice(),
    ]))
}

/// The canary, or a run of it long enough to matter, in any decodable form.
fn leaks(out: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(out);
    if text.contains("7f3a/9+Qz") || text.contains("CANARY") {
        return Some("raw".into());
    }
    // Decode every run of base64 characters at every alignment.
    let runs = text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_".contains(c)));
    for run in runs {
        for skip in 0..4 {
            if run.len() <= skip {
                continue;
            }
            let body = &run[skip..];
            let body = &body[..body.len() - body.len() % 4];
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                if let Ok(bytes) = engine.decode(body) {
                    if contains(&bytes, b"7f3a/9+Qz") || contains(&bytes, b"CANARY") {
                        return Some(format!("base64 run {run}"));
                    }
                }
            }
        }
    }
    let hex: String = b"7f3a/9+Qz".iter().map(|b| format!("{b:02x}")).collect();
    if text.to_ascii_lowercase().contains(&hex) {
        return Some("hex".into());
    }
    for form in [
        "7f3a%2F9%2BQz",
        "7f3a%2f9%2bQz",
        "\\u0037\\u0066\\u0033",
        "7f3a\\/9+Qz",
    ] {
        if text.contains(form) {
            return Some(form.into());
        }
    }
    None
}

#[test]
fn s1_body_echo_in_every_encoding_is_redacted() {
    let p = patterns();
    for (name, echo) in echoes(CANARY) {
        let body = format!("{{\"echo\":\"{echo}\",\"n\":1}}\n");
        assert!(
            leaks(body.as_bytes()).is_some(),
            "{name}: the leak detector misses it"
        );
        let (out, hit) = p.redact(body.as_bytes());
        assert!(hit, "{name}: nothing redacted in {body}");
        assert_eq!(
            leaks(&out),
            None,
            "{name}: {}",
            String::from_utf8_lossy(&out)
        );
        assert!(contains(&out, REDACTION_MARKER.as_bytes()));
    }
}

#[test]
fn s1_streamed_echo_split_at_every_byte_is_redacted() {
    let p = patterns();
    for (name, echo) in echoes(CANARY) {
        let body = format!("data: {echo}\n\ndata: {echo}{echo} tail");
        let (whole, _) = p.redact(body.as_bytes());
        let bytes = body.as_bytes();
        for split in 0..=bytes.len() {
            let mut s = StreamRedactor::new(p.clone());
            let mut out = s.push(&bytes[..split]).to_vec();
            out.extend_from_slice(&s.push(&bytes[split..]));
            out.extend_from_slice(&s.finish());
            assert!(s.redacted(), "{name} split {split}");
            assert_eq!(out, whole, "{name} split {split}");
            assert_eq!(leaks(&out), None, "{name} split {split}");
        }
        // One byte at a time.
        let mut s = StreamRedactor::new(p.clone());
        let mut out = Vec::new();
        for b in bytes {
            out.extend_from_slice(&s.push(std::slice::from_ref(b)));
        }
        out.extend_from_slice(&s.finish());
        assert_eq!(out, whole, "{name} byte by byte");
    }
}

#[test]
fn s2_header_values_are_scrubbed() {
    let p = patterns();
    for (name, echo) in echoes(CANARY) {
        for header in [
            echo.clone(),
            format!("Bearer {echo}"),
            format!("token={echo}; Path=/; HttpOnly"),
            format!("<https://api.example.com/next?key={echo}>; rel=\"next\""),
        ] {
            let out = p.scrub(&header);
            assert_eq!(leaks(out.as_bytes()), None, "{name}: {out}");
        }
    }
}

#[test]
fn s5_error_messages_and_urls_are_scrubbed() {
    let p = patterns();
    let mut target = url::Url::parse("https://127.0.0.1:9/v1/items").unwrap();
    target.query_pairs_mut().append_pair("api_key", CANARY);
    let messages = [
        format!("error sending request for url ({target}): connection refused"),
        format!("operation timed out after 30s: {}", target.as_str()),
        format!("invalid header value: {CANARY:?}"),
        format!(
            "upstream said: {}",
            serde_json::json!({ "error": format!("bad key {CANARY}") })
        ),
    ];
    for m in messages {
        let out = p.scrub(&m);
        assert_eq!(leaks(out.as_bytes()), None, "{out}");
        assert!(out.contains(REDACTION_MARKER));
    }
}

#[test]
fn s10_child_output_line_by_line_is_prompt_and_masked() {
    let p = patterns();
    let mut s = StreamRedactor::new(p.clone());
    let lines = [
        format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"{CANARY}\"}}\n"),
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":\"nothing to hide\"}\n".to_string(),
        format!("export TOKEN={}\n", STANDARD.encode(CANARY)),
        format!("{}\n", serde_json::to_string(CANARY).unwrap()),
    ];
    for line in &lines {
        let out = s.push(line.as_bytes());
        // A newline starts no encoded form: the whole line comes out at once.
        assert_eq!(s.held_back(), 0, "held back after {line:?}");
        assert!(out.ends_with(b"\n"));
        assert_eq!(leaks(&out), None, "{}", String::from_utf8_lossy(&out));
    }
    assert!(s.redacted());
    assert!(s.finish().is_empty());
}

#[test]
fn other_values_and_plain_text_pass_untouched() {
    let p = patterns();
    let text = "{\"ok\":true,\"items\":[1,2,3],\"note\":\"CANARY is a word; 7f3a alone is fine\"}";
    let (out, hit) = p.redact(text.as_bytes());
    assert!(!hit);
    assert_eq!(out, text.as_bytes());
    assert_eq!(p.scrub(text), text);
    let mut s = StreamRedactor::new(p);
    let mut out = s.push(text.as_bytes()).to_vec();
    out.extend_from_slice(&s.finish());
    assert_eq!(out, text.as_bytes());
    assert!(!s.redacted());
}

#[test]
fn empty_patterns_pass_everything() {
    let p = Arc::new(Patterns::new([b"".as_slice()]));
    assert!(p.is_empty());
    assert_eq!(p.redact(b"anything"), (b"anything".to_vec(), false));
    assert_eq!(p.scrub("x"), "x");
    let mut s = StreamRedactor::new(p);
    assert_eq!(&s.push(b"abc")[..], b"abc");
    assert_eq!(s.held_back(), 0);
    assert!(s.finish().is_empty());
    assert!(!s.redacted());
}

#[test]
fn longest_match_wins_over_a_shorter_value() {
    // One value is a prefix of another; the longer echo is replaced whole.
    let p = Patterns::new([b"abcdef".as_slice(), b"abcdefghij".as_slice()]);
    assert_eq!(p.scrub("x abcdefghij y"), format!("x {REDACTION_MARKER} y"));
    assert_eq!(p.scrub("x abcdefgh y"), format!("x {REDACTION_MARKER}gh y"));
    // Streamed with the split inside the longer one.
    let p = Arc::new(p);
    let mut s = StreamRedactor::new(p);
    let a = s.push(b"x abcdefg");
    assert_eq!(&a[..], b"x ");
    let b = s.push(b"hij y");
    let c = s.finish();
    assert_eq!(
        [&a[..], &b[..], &c[..]].concat(),
        format!("x {REDACTION_MARKER} y").into_bytes()
    );
}

#[test]
fn debug_never_prints_a_value() {
    let p = patterns();
    let dbg = format!("{p:?}");
    assert!(!dbg.contains("CANARY"), "{dbg}");
}

#[test]
fn non_utf8_value_in_a_string_does_not_panic() {
    // A value that is half a UTF-8 character.
    let p = Patterns::new([[0xc3u8].as_slice()]);
    let out = p.scrub("caf\u{e9}");
    assert!(!out.as_bytes().contains(&0xc3));
}

#[test]
fn echoes_in_another_case_are_redacted() {
    let p = patterns();
    let pct = utf8_percent_encode(CANARY, NON_ALPHANUMERIC).to_string();
    // Alternate the case of every hex digit: no single-case form has it.
    let mut mixed = String::new();
    let mut upper = false;
    for c in pct.chars() {
        if c.is_ascii_hexdigit() && c.is_ascii_alphabetic() {
            upper = !upper;
            mixed.push(if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            });
        } else {
            mixed.push(c);
        }
    }
    for echo in [
        CANARY.to_ascii_uppercase(),
        CANARY.to_ascii_lowercase(),
        mixed,
        STANDARD.encode(CANARY).to_lowercase(),
    ] {
        let (out, hit) = p.redact(format!("error: bad key {echo}!").as_bytes());
        assert!(hit, "{echo}");
        assert_eq!(
            out,
            format!("error: bad key {REDACTION_MARKER}!").into_bytes(),
            "{echo}"
        );
    }
}
