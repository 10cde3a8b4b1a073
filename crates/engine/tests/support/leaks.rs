//! Scans for a value in every encoded form an echo could take.

use base64::Engine as _;

/// Every encoded form an echo test looks for.
pub fn encodings(value: &str) -> Vec<(&'static str, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let pct: String =
        percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let json = serde_json::to_string(value).unwrap();
    let json = json[1..json.len() - 1].to_owned();
    let uxxxx: String = value
        .encode_utf16()
        .map(|u| format!("\\u{u:04x}"))
        .collect();
    vec![
        ("raw", value.to_owned()),
        ("base64", b64.encode(value)),
        ("base64url", b64url.encode(value)),
        ("percent", pct),
        ("form", form),
        ("hex", value.bytes().map(|b| format!("{b:02x}")).collect()),
        ("json", json),
        ("json-uxxxx", uxxxx),
    ]
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// Asserts no encoded form of `value` appears in `bytes`.
pub fn assert_no_leak(what: &str, bytes: &[u8], value: &str) {
    for (form, enc) in encodings(value) {
        assert!(
            !contains(bytes, &enc),
            "{what} leaks the value in {form} form: {}",
            String::from_utf8_lossy(bytes)
        );
    }
}
