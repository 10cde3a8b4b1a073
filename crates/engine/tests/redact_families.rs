//! S22: members of the encoding families that no list of fixed forms holds
//! are redacted, whole and streamed: base64 wrapped at 76 (MIME) or 64
//! (PEM) columns wherever the break falls, double and partial
//! percent-encoding, partial `\uXXXX` escaping, UTF-16. Each output is
//! checked by an independent decoder of its family, not by the redactor's
//! own forms.

use agentsecrets_engine::redact::{Patterns, StreamRedactor};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::sync::Arc;

const VALUES: [&str; 3] = [
    "sk_live_FAMILY_canary_4242abcd",
    "p@ss/w0rd+canary=é-ü",
    "AKIAFAMILYCANARY7EXAMPLE",
];

fn patterns() -> Arc<Patterns> {
    Arc::new(Patterns::new(VALUES.iter().map(|v| v.as_bytes())))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Whole, and streamed cut at `cut`, must agree; returns the output.
fn redact_both_ways(p: &Arc<Patterns>, text: &[u8], cut: usize) -> Vec<u8> {
    let (whole, hit) = p.redact(text);
    assert!(
        hit,
        "nothing redacted in {:?}",
        String::from_utf8_lossy(text)
    );
    let mut s = StreamRedactor::new(p.clone());
    let mut out = s.push(&text[..cut]).to_vec();
    out.extend_from_slice(&s.push(&text[cut..]));
    out.extend_from_slice(&s.finish());
    assert_eq!(out, whole, "streamed cut at {cut} differs");
    whole
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    percent_encoding::percent_decode(s).collect()
}

/// Decodes `\uXXXX` (with surrogate pairs) and the short escapes.
fn json_unescape(s: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(s);
    let quoted = format!("\"{}\"", text.replace('"', "\\\""));
    match serde_json::from_str::<String>(&quoted) {
        Ok(v) => v.into_bytes(),
        // Not valid JSON as a whole (a marker, stray text): decode escapes one by one.
        Err(_) => {
            let mut out = String::new();
            let mut rest: &str = &text;
            while let Some(i) = rest.find("\\u") {
                out.push_str(&rest[..i]);
                let hex = rest
                    .get(i + 2..i + 6)
                    .and_then(|h| u16::from_str_radix(h, 16).ok());
                match hex.and_then(|u| char::from_u32(u as u32)) {
                    Some(c) => {
                        out.push(c);
                        rest = &rest[i + 6..];
                    }
                    None => {
                        out.push_str("\\u");
                        rest = &rest[i + 2..];
                    }
                }
            }
            out.push_str(rest);
            out.into_bytes()
        }
    }
}

/// Every decoding of base64 runs in `s` (line breaks removed), at each of
/// the four alignments.
fn base64_decodings(s: &[u8]) -> Vec<Vec<u8>> {
    let joined: Vec<u8> = s
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    let mut out = Vec::new();
    for run in joined.split(|b| !(b.is_ascii_alphanumeric() || b"+/".contains(b))) {
        for skip in 0..4.min(run.len()) {
            let body = &run[skip..];
            let body = &body[..body.len() / 4 * 4];
            if let Ok(d) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(body) {
                out.push(d);
            }
        }
    }
    out
}

#[test]
fn s22_base64_wrapped_at_76_and_64_columns_wherever_the_break_falls() {
    let p = patterns();
    for v in VALUES {
        for (width, eol) in [(76, "\r\n"), (64, "\n")] {
            for pad in 0..width {
                let blob = STANDARD.encode(format!("{}{v}{{\"more\":1}}", "x".repeat(pad)));
                let wrapped: Vec<String> = blob
                    .as_bytes()
                    .chunks(width)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                let text = format!(
                    "Content-Type: text/plain\r\n\r\n{}{eol}--end\r\n",
                    wrapped.join(eol)
                );
                let out = redact_both_ways(&p, text.as_bytes(), (pad * 7) % text.len());
                for d in base64_decodings(&out) {
                    assert!(
                        !contains(&d, v.as_bytes()),
                        "{v:?} wrapped at {width}, pad {pad}, survives: {}",
                        String::from_utf8_lossy(&out)
                    );
                }
            }
        }
    }
}

/// `v` with the characters `pick` chooses percent-encoded.
fn percent_some(v: &str, pick: impl Fn(usize) -> bool) -> String {
    v.bytes()
        .enumerate()
        .map(|(i, b)| {
            if pick(i) || !b.is_ascii() {
                format!("%{b:02X}")
            } else {
                (b as char).to_string()
            }
        })
        .collect()
}

#[test]
fn s22_double_and_partial_percent_encoding() {
    let p = patterns();
    for v in VALUES {
        let once = percent_some(v, |_| true);
        let mut echoes = vec![
            // Twice, the way a proxy re-encodes an already encoded URL.
            percent_some(&once, |i| once.as_bytes()[i] == b'%'),
            percent_some(&once, |_| true),
        ];
        for k in 2..5 {
            echoes.push(percent_some(v, |i| i % k == 0));
            echoes.push(percent_some(v, |i| i % k != 0).to_lowercase());
        }
        for echo in echoes {
            let text = format!("GET /cb?next=https%3A%2F%2Fx%2F{echo}&x=1 HTTP/1.1\n");
            let out = redact_both_ways(&p, text.as_bytes(), text.len() / 2);
            let decoded = percent_decode(&percent_decode(&out));
            assert!(
                !contains(&decoded, v.as_bytes()),
                "{echo} survives: {}",
                String::from_utf8_lossy(&out)
            );
        }
    }
}

#[test]
fn s22_partial_json_unicode_escaping() {
    let p = patterns();
    for v in VALUES {
        for k in 2..5 {
            for upper in [false, true] {
                let echo: String = v
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if i % k == 0 {
                            let mut units = [0u16; 2];
                            c.encode_utf16(&mut units)
                                .iter()
                                .map(|u| {
                                    if upper {
                                        format!("\\u{u:04X}")
                                    } else {
                                        format!("\\u{u:04x}")
                                    }
                                })
                                .collect()
                        } else if c == '/' {
                            "\\/".to_owned()
                        } else {
                            c.to_string()
                        }
                    })
                    .collect();
                let text = format!("{{\"note\":\"saved: {echo}\",\"id\":7}}");
                for cut in [0, 9, text.len() / 2, text.len() - 3] {
                    let out = redact_both_ways(&p, text.as_bytes(), cut);
                    assert!(
                        !contains(&json_unescape(&out), v.as_bytes()),
                        "{echo} survives: {}",
                        String::from_utf8_lossy(&out)
                    );
                }
            }
        }
    }
}

#[test]
fn s22_utf16_little_and_big_endian() {
    let p = patterns();
    for v in VALUES {
        for le in [true, false] {
            let units: Vec<u8> = v
                .encode_utf16()
                .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
                .collect();
            let mut text = b"\xff\xfeblob:".to_vec();
            text.extend_from_slice(&units);
            text.extend_from_slice(b"\0\0end");
            let out = redact_both_ways(&p, &text, 11);
            assert!(!contains(&out, &units), "{v:?} survives in UTF-16");
        }
    }
}
