//! Property tests of the redactor: streaming equals whole-buffer redaction
//! for any chunking, no encoded form survives, clean text is untouched, and
//! output is prompt.

use agentsecrets_engine::redact::{
    encoded_forms, Patterns, Search, StreamRedactor, REDACTION_MARKER,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use std::sync::Arc;

/// Matching ignores ASCII case, so every check here does too.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

fn starts_with(form: &[u8], held: &[u8]) -> bool {
    form.len() > held.len() && form[..held.len()].eq_ignore_ascii_case(held)
}

/// Characters of values: letters, digits, the bytes encoders treat
/// specially, a few non-ASCII ones. No `[` or `]`, so no form can straddle
/// the marker's brackets.
fn value_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => prop::char::range('A', 'Z'),
        2 => prop::char::range('0', '9'),
        3 => prop::sample::select(vec!['+', '/', '=', '%', '"', '\\', ' ', '-', '_', '.', ':', '&', '<', '\n', '\t', '\u{1}']),
        1 => prop::sample::select(vec!['é', 'ß', 'а', '€', '😀', '\u{2028}']),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop::collection::vec(value_char(), 1..20).prop_map(|v| v.into_iter().collect())
}

/// Independent encoders; each gives the text a value is echoed as.
fn encode(kind: u8, v: &str) -> String {
    let json = serde_json::to_string(v).unwrap();
    match kind % 10 {
        0 => v.to_string(),
        1 => STANDARD.encode(v),
        2 => URL_SAFE_NO_PAD.encode(v),
        3 => utf8_percent_encode(v, NON_ALPHANUMERIC).to_string(),
        4 => url::form_urlencoded::byte_serialize(v.as_bytes()).collect(),
        5 => json[1..json.len() - 1].to_string(),
        6 => v.encode_utf16().map(|u| format!("\\u{u:04x}")).collect(),
        7 => json[1..json.len() - 1].replace('/', "\\/"),
        8 => STANDARD.encode(format!("user:{v}")),
        _ => URL_SAFE_NO_PAD.encode(format!("{{\"k\":\"{v}\"}}")),
    }
}

fn filler() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::char::range('a', 'f'),
            prop::sample::select(vec![
                ' ', '\n', '{', '}', '"', ':', ',', '=', '+', '/', '%', '\\', 'Q', 'Z', '0'
            ]),
        ],
        0..24,
    )
    .prop_map(|v| v.into_iter().collect())
}

#[derive(Debug, Clone)]
struct Case {
    values: Vec<String>,
    text: Vec<u8>,
    cuts: Vec<usize>,
}

/// Text made of filler, whole encoded echoes and truncated ones (prefixes
/// that look like the start of a match and are not).
fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(value(), 1..3),
        prop::collection::vec(
            (
                filler(),
                0u8..30,
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>(),
            ),
            1..6,
        ),
        prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    )
        .prop_map(|(values, parts, cuts)| {
            let mut text = Vec::new();
            for (fill, kind, which, trunc) in parts {
                text.extend_from_slice(fill.as_bytes());
                let v = which.get(&values);
                let echo = encode(kind, v);
                if kind >= 20 {
                    // A truncated echo.
                    let n = trunc.index(echo.len().max(1));
                    text.extend_from_slice(&echo.as_bytes()[..n]);
                } else {
                    text.extend_from_slice(echo.as_bytes());
                }
            }
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(text.len() + 1)).collect();
            cuts.sort_unstable();
            Case { values, text, cuts }
        })
}

/// Feeds piece `i` through `push` or, every other piece, the zero-copy
/// `push_bytes`: both must give the same output and hold back the same tail.
fn feed(s: &mut StreamRedactor, i: usize, piece: &[u8]) -> bytes::Bytes {
    if i.is_multiple_of(2) {
        s.push_bytes(bytes::Bytes::copy_from_slice(piece))
    } else {
        s.push(piece)
    }
}

/// Streams `text` through the forms-only redactor, checking that whatever
/// it holds back could still become a match.
fn stream(p: &Arc<Patterns>, forms: &[Vec<u8>], text: &[u8], cuts: &[usize]) -> (Vec<u8>, bool) {
    let mut s = StreamRedactor::forms_only(p.clone());
    let mut out = Vec::new();
    let mut fed = 0;
    for (i, &cut) in cuts.iter().chain(std::iter::once(&text.len())).enumerate() {
        out.extend_from_slice(&feed(&mut s, i, &text[fed..cut]));
        fed = cut;
        let held = &text[fed - s.held_back()..fed];
        assert!(
            held.is_empty() || forms.iter().any(|f| starts_with(f, held)),
            "holds back {:?}, which starts no pattern",
            String::from_utf8_lossy(held)
        );
    }
    out.extend_from_slice(&s.finish());
    (out, s.redacted())
}

/// Streams `text` through the whole redactor (decoded view, then forms).
fn stream_all(p: &Arc<Patterns>, text: &[u8], cuts: &[usize]) -> (Vec<u8>, bool) {
    let mut s = StreamRedactor::new(p.clone());
    let mut out = Vec::new();
    let mut fed = 0;
    for (i, &cut) in cuts.iter().chain(std::iter::once(&text.len())).enumerate() {
        out.extend_from_slice(&feed(&mut s, i, &text[fed..cut]));
        fed = cut;
    }
    out.extend_from_slice(&s.finish());
    (out, s.redacted())
}

fn all_forms(values: &[String]) -> Vec<Vec<u8>> {
    values
        .iter()
        .flat_map(|v| encoded_forms(v.as_bytes()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn stream_equals_whole_and_nothing_leaks(c in case()) {
        let forms = all_forms(&c.values);
        // A value spelled inside the marker itself cannot be told apart.
        prop_assume!(forms.iter().all(|f| !contains(REDACTION_MARKER.as_bytes(), f)));
        let p = Arc::new(Patterns::new(c.values.iter().map(|v| v.as_bytes())));

        let (forms_whole, forms_hit) = p.redact_forms(&c.text);
        let (streamed, s_hit) = stream(&p, &forms, &c.text, &c.cuts);
        prop_assert_eq!(&streamed, &forms_whole);
        prop_assert_eq!(s_hit, forms_hit);
        let (whole, hit) = p.redact(&c.text);
        let (streamed, s_hit) = stream_all(&p, &c.text, &c.cuts);
        prop_assert_eq!(&streamed, &whole);
        prop_assert_eq!(s_hit, hit);
        for form in &forms {
            prop_assert!(!contains(&whole, form), "form {:?} survives in {:?}",
                String::from_utf8_lossy(form), String::from_utf8_lossy(&whole));
        }
        // Full echoes by the independent encoders are gone too.
        for v in &c.values {
            for kind in 0..8 {
                let echo = encode(kind, v);
                prop_assert!(!contains(&whole, echo.as_bytes()), "echo kind {} survives", kind);
            }
        }
    }

    #[test]
    fn clean_text_passes_byte_identical(values in prop::collection::vec(value(), 1..3), text in filler(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let forms = all_forms(&values);
        let p = Arc::new(Patterns::new(values.iter().map(|v| v.as_bytes())));
        let text = text.into_bytes();
        let (whole, hit) = p.redact(&text);
        prop_assume!(!hit);
        prop_assert_eq!(&whole, &text);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(text.len() + 1)).collect();
        cuts.sort_unstable();
        let (streamed, s_hit) = stream(&p, &forms, &text, &cuts);
        prop_assert!(!s_hit);
        prop_assert_eq!(&streamed, &text);
        let (streamed, s_hit) = stream_all(&p, &text, &cuts);
        prop_assert!(!s_hit);
        prop_assert_eq!(streamed, text);
    }

    #[test]
    fn lines_come_out_whole(values in prop::collection::vec(value(), 1..3), lines in prop::collection::vec((filler(), 0u8..10, any::<bool>()), 1..8)) {
        // With no value containing a newline, no pattern contains one, so a
        // chunk ending in a newline leaves nothing held back.
        check_lines(&values, &lines, false, "\n")?;
    }

    #[test]
    fn lines_come_out_whole_through_the_decoded_view(values in prop::collection::vec(value(), 1..3), lines in prop::collection::vec((filler(), 0u8..10, any::<bool>()), 1..8)) {
        // A line ending in prose (not a run of base64, not an escape) leaves
        // nothing held back in the view either.
        check_lines(&values, &lines, true, " .\n")?;
    }

    #[test]
    fn arbitrary_bytes_stream_equals_whole(values in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..6), 1..3), text in prop::collection::vec(prop::sample::select(vec![0u8, 1, 0x41, 0x42, 0xc3, 0xff, b'%', b'=']), 0..200), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10)) {
        let forms: Vec<Vec<u8>> = values.iter().flat_map(|v| encoded_forms(v)).collect();
        let p = Arc::new(Patterns::new(values.iter().map(Vec::as_slice)));
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(text.len() + 1)).collect();
        cuts.sort_unstable();
        let (whole, hit) = p.redact_forms(&text);
        let (streamed, s_hit) = stream(&p, &forms, &text, &cuts);
        prop_assert_eq!(streamed, whole);
        prop_assert_eq!(s_hit, hit);
        let (whole, hit) = p.redact(&text);
        let (streamed, s_hit) = stream_all(&p, &text, &cuts);
        prop_assert_eq!(streamed, whole);
        prop_assert_eq!(s_hit, hit);
    }

    #[test]
    fn wrapped_base64_cut_anywhere_stream_equals_whole(
        values in prop::collection::vec(prop::collection::vec(prop::sample::select(b"aAzZ19+/".to_vec()), 4..10), 1..3),
        lines in prop::collection::vec((prop::collection::vec(prop::sample::select(b"aAzZ19+/=".to_vec()), 50..80), any::<bool>()), 1..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let p = Arc::new(Patterns::new(values.iter().map(Vec::as_slice)));
        let mut text = Vec::new();
        for (line, crlf) in &lines {
            text.extend_from_slice(line);
            text.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
        }
        let cuts = sorted_cuts(&cuts, text.len());
        let (whole, hit) = p.redact(&text);
        let (streamed, s_hit) = stream_all(&p, &text, &cuts);
        prop_assert_eq!(streamed, whole);
        prop_assert_eq!(s_hit, hit);
    }

    #[test]
    fn escapes_cut_anywhere_stream_equals_whole(
        values in prop::collection::vec(prop::collection::vec(prop::sample::select(b"aA1Zz5%\\u/\n=".to_vec()), 1..8), 1..3),
        text in prop::collection::vec(prop::sample::select(b"aAZz15%2\\u0dD8Ec\n\r=+/\"".to_vec()), 0..300),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let p = Arc::new(Patterns::new(values.iter().map(Vec::as_slice)));
        let cuts = sorted_cuts(&cuts, text.len());
        let (whole, hit) = p.redact(&text);
        let (streamed, s_hit) = stream_all(&p, &text, &cuts);
        prop_assert_eq!(streamed, whole);
        prop_assert_eq!(s_hit, hit);
    }
}

/// Streams `lines` (filler plus, where chosen, an echo, then `end`) one
/// push each: nothing may be held back after a line, and the output so far
/// must be the whole-buffer redaction of what was fed.
fn check_lines(
    values: &[String],
    lines: &[(String, u8, bool)],
    view: bool,
    end: &str,
) -> Result<(), TestCaseError> {
    let values: Vec<String> = values.iter().map(|v| v.replace(['\n'], "n")).collect();
    let p = Arc::new(Patterns::new(values.iter().map(|v| v.as_bytes())));
    let mut s = if view {
        StreamRedactor::new(p.clone())
    } else {
        StreamRedactor::forms_only(p.clone())
    };
    let mut fed = Vec::new();
    let mut out = Vec::new();
    for (fill, kind, with_echo) in lines {
        let mut line = fill.replace('\n', " ");
        if *with_echo {
            line.push_str(&encode(*kind, &values[*kind as usize % values.len()]));
        }
        line.push_str(end);
        fed.extend_from_slice(line.as_bytes());
        out.extend_from_slice(&s.push(line.as_bytes()));
        prop_assert_eq!(s.held_back(), 0);
        let whole = if view {
            p.redact(&fed).0
        } else {
            p.redact_forms(&fed).0
        };
        prop_assert_eq!(&out, &whole);
    }
    prop_assert!(s.finish().is_empty());
    Ok(())
}

/// Leftmost-longest by brute force, ignoring ASCII case: the reference the
/// redactor's search paths are held to.
fn naive_redact(forms: &[Vec<u8>], text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let longest = forms
            .iter()
            .filter(|f| text.len() - i >= f.len() && text[i..i + f.len()].eq_ignore_ascii_case(f))
            .map(Vec::len)
            .max();
        match longest {
            Some(n) => {
                out.extend_from_slice(REDACTION_MARKER.as_bytes());
                i += n;
            }
            None => {
                out.push(text[i]);
                i += 1;
            }
        }
    }
    out
}

/// Longest suffix of `text` that is a proper prefix of some form.
fn naive_open_suffix(forms: &[Vec<u8>], text: &[u8]) -> usize {
    (1..=text.len())
        .rev()
        .find(|&n| {
            forms
                .iter()
                .any(|f| starts_with(f, &text[text.len() - n..]))
        })
        .unwrap_or(0)
}

/// Streams `text` cut at `cuts`; returns the output and the bytes held back
/// after each push.
fn stream_holds(p: &Arc<Patterns>, text: &[u8], cuts: &[usize]) -> (Vec<u8>, Vec<usize>) {
    let mut s = StreamRedactor::forms_only(p.clone());
    let mut out = Vec::new();
    let mut holds = Vec::new();
    let mut fed = 0;
    for (i, &cut) in cuts.iter().chain(std::iter::once(&text.len())).enumerate() {
        out.extend_from_slice(&feed(&mut s, i, &text[fed..cut]));
        fed = cut;
        holds.push(s.held_back());
    }
    out.extend_from_slice(&s.finish());
    (out, holds)
}

/// Every way the search can run: small inputs only, the accelerator from
/// the first byte (SIMD prefilter, or the automaton), and switching over
/// partway through a stream.
fn every_search(values: &[Vec<u8>]) -> Vec<(&'static str, Arc<Patterns>)> {
    let v = || values.iter().map(Vec::as_slice);
    vec![
        ("default", Arc::new(Patterns::new(v()))),
        (
            "small only",
            Arc::new(Patterns::tuned(v(), usize::MAX, Search::Auto).unwrap()),
        ),
        (
            "prefilter",
            Arc::new(Patterns::tuned(v(), 0, Search::Auto).unwrap()),
        ),
        (
            "automaton",
            Arc::new(Patterns::tuned(v(), 0, Search::Automaton).unwrap()),
        ),
        (
            "anchors",
            Arc::new(Patterns::tuned(v(), 0, Search::Anchors).unwrap()),
        ),
        (
            "prefilter midway",
            Arc::new(Patterns::tuned(v(), 13, Search::Auto).unwrap()),
        ),
        (
            "automaton midway",
            Arc::new(Patterns::tuned(v(), 13, Search::Automaton).unwrap()),
        ),
        (
            "anchors midway",
            Arc::new(Patterns::tuned(v(), 13, Search::Anchors).unwrap()),
        ),
        ("shared", Arc::new(Patterns::shared(v()).unwrap())),
    ]
}

fn check_every_search(
    values: &[Vec<u8>],
    text: &[u8],
    cuts: &[usize],
) -> Result<(), TestCaseError> {
    let mut forms: Vec<Vec<u8>> = values.iter().flat_map(|v| encoded_forms(v)).collect();
    forms.sort();
    forms.dedup();
    let expected = naive_redact(&forms, text);
    // The tail held back after each push: the longest open suffix of what
    // is pending, which a match ending past it can only shorten.
    let mut reference: Option<Vec<usize>> = None;
    for (name, p) in every_search(values) {
        prop_assert_eq!(&p.redact_forms(text).0, &expected, "{} whole", name);
        let (streamed, holds) = stream_holds(&p, text, cuts);
        prop_assert_eq!(&streamed, &expected, "{} streamed", name);
        for (i, &cut) in cuts.iter().chain(std::iter::once(&text.len())).enumerate() {
            prop_assert!(
                holds[i] <= naive_open_suffix(&forms, &text[..cut]),
                "{} holds too much",
                name
            );
        }
        match &reference {
            None => reference = Some(holds),
            Some(r) => prop_assert_eq!(&holds, r, "{} holds back differently", name),
        }
    }
    Ok(())
}

fn sorted_cuts(cuts: &[prop::sample::Index], len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_search_path_agrees_with_brute_force(c in case(), upper in any::<bool>()) {
        let mut text = c.text.clone();
        if upper {
            text.make_ascii_uppercase();
        }
        let values: Vec<Vec<u8>> = c.values.iter().map(|v| v.as_bytes().to_vec()).collect();
        check_every_search(&values, &text, &c.cuts)?;
    }

    #[test]
    fn every_search_path_agrees_on_long_values(
        values in prop::collection::vec(prop::collection::vec(prop::sample::select(b"abAB01%/+=_".to_vec()), 16..60), 1..4),
        parts in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..8),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        // Text made of whole and cut-short forms of the values, so that
        // tails of every length are open at the cuts.
        let mut forms: Vec<Vec<u8>> = values.iter().flat_map(|v| encoded_forms(v)).collect();
        forms.sort();
        let mut text = Vec::new();
        for (which, len, pad) in parts {
            let f = which.get(&forms);
            text.extend_from_slice(&f[..=len.index(f.len())]);
            text.extend(std::iter::repeat_n(b'a', pad.index(3)));
        }
        let cuts = sorted_cuts(&cuts, text.len());
        check_every_search(&values, &text, &cuts)?;
    }

    #[test]
    fn every_search_path_agrees_on_arbitrary_bytes(
        values in prop::collection::vec(prop::collection::vec(prop::sample::select(vec![0u8, 0x41, 0x61, 0x42, 0xc3, 0xff, b'%', b'\\']), 1..6), 1..4),
        text in prop::collection::vec(prop::sample::select(vec![0u8, 0x41, 0x61, 0x42, 0x62, 0xc3, 0xff, b'%', b'=', b'\\', b'u', b'Q']), 0..300),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let cuts = sorted_cuts(&cuts, text.len());
        check_every_search(&values, &text, &cuts)?;
    }
}
