//! Applying an injection plan to the outbound request, in the plan's order.
//! Errors name the secret and the place, never the value.

use super::body_json::{self, SpliceError};
use crate::error::EngineError;
use agentsecrets_wire::inject::split_body_path;
use agentsecrets_wire::{AuthStyle, ErrorCode, InjectionPlan};
use base64::Engine as _;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::HeaderMap;
use std::collections::HashMap;
use url::Url;
use zeroize::Zeroizing;

/// The outbound request being built.
pub struct Outbound {
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

fn failed(key: &str, style: AuthStyle, why: impl std::fmt::Display) -> EngineError {
    EngineError::new(
        ErrorCode::InjectionFailed,
        format!("injection failed for {key} ({}): {why}", style.as_str()),
    )
    .key(key)
}

fn header_value(key: &str, style: AuthStyle, text: &str) -> Result<HeaderValue, EngineError> {
    let mut v = HeaderValue::from_str(text).map_err(|_| {
        failed(
            key,
            style,
            "the value contains characters that cannot be sent in a header",
        )
        .fix(format!(
            "store {key} without line breaks or control characters"
        ))
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Applies `plan` with `values` (secret name → value).
pub fn apply(
    out: &mut Outbound,
    plan: &InjectionPlan,
    values: &HashMap<String, Zeroizing<String>>,
) -> Result<(), EngineError> {
    for inj in &plan.injections {
        let key = inj.secret.as_str();
        let value: &str = values
            .get(key)
            .map(|v| v.as_str())
            .ok_or_else(|| EngineError::internal(format!("secret {key} was not resolved")))?;
        let target = inj.target.as_deref().unwrap_or("");
        match inj.style {
            AuthStyle::Bearer => {
                let v = header_value(key, inj.style, &Zeroizing::new(format!("Bearer {value}")))?;
                out.headers.insert(AUTHORIZATION, v);
            }
            AuthStyle::Basic => {
                if !value.contains(':') {
                    return Err(failed(
                        key,
                        inj.style,
                        "the value must have the form user:password",
                    )
                    .fix(format!(
                        "store {key} as user:password (e.g. user@example.com:api_token)"
                    )));
                }
                let enc = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(value));
                let v = header_value(
                    key,
                    inj.style,
                    &Zeroizing::new(format!("Basic {}", enc.as_str())),
                )?;
                out.headers.insert(AUTHORIZATION, v);
            }
            AuthStyle::Header => {
                let name = HeaderName::from_bytes(target.as_bytes())
                    .map_err(|_| failed(key, inj.style, "invalid header name"))?;
                let v = header_value(key, inj.style, value)?;
                out.headers.insert(name, v);
            }
            AuthStyle::Query => set_query(&mut out.url, target, value),
            AuthStyle::Body => {
                let path = split_body_path(target);
                out.body = body_json::set_field(&out.body, &path, value).map_err(|e| {
                    let fix = match e {
                        SpliceError::ThroughNonObject(_) => {
                            "choose a path whose parents are objects"
                        }
                        _ => "send a JSON object body (or none) with body-field injection",
                    };
                    failed(key, inj.style, e).fix(fix)
                })?;
                if !out.headers.contains_key(CONTENT_TYPE) {
                    out.headers
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
            }
            AuthStyle::Form => {
                let is_form = out
                    .headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(|ct| {
                        ct.split(';')
                            .next()
                            .unwrap_or("")
                            .trim()
                            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                    });
                match is_form {
                    Some(false) if !out.body.is_empty() => {
                        return Err(failed(
                            key,
                            inj.style,
                            "the request body is not application/x-www-form-urlencoded",
                        )
                        .fix("send a urlencoded body (or none) with form-field injection"));
                    }
                    _ => {}
                }
                out.body = set_pair(&out.body, target, value);
                out.headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
            }
        }
    }
    Ok(())
}

/// Replaces every `name=…` pair of an urlencoded string with `name=value`,
/// keeping the other pairs exactly as written.
fn set_pair(encoded: &[u8], name: &str, value: &str) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(encoded.len() + name.len() + value.len() + 2);
    for part in encoded.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let raw_name = part.split(|b| *b == b'=').next().unwrap_or(b"");
        let decoded: String = url::form_urlencoded::parse(raw_name)
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default();
        if decoded == name {
            continue;
        }
        if !out.is_empty() {
            out.push(b'&');
        }
        out.extend_from_slice(part);
    }
    if !out.is_empty() {
        out.push(b'&');
    }
    out.extend(url::form_urlencoded::byte_serialize(name.as_bytes()).flat_map(str::bytes));
    out.push(b'=');
    out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()).flat_map(str::bytes));
    out
}

fn set_query(url: &mut Url, name: &str, value: &str) {
    let query = url.query().unwrap_or("").as_bytes().to_vec();
    let new = Zeroizing::new(set_pair(&query, name, value));
    url.set_query(Some(
        std::str::from_utf8(&new).expect("encoded pairs are ASCII"),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentsecrets_wire::Injection;

    fn run(
        plan: &[(AuthStyle, Option<&str>, &str)],
        url: &str,
        body: &str,
        ct: Option<&str>,
    ) -> Result<Outbound, EngineError> {
        let plan = InjectionPlan {
            injections: plan
                .iter()
                .map(|(s, t, k)| Injection::new(*s, *t, k))
                .collect(),
        };
        let mut values = HashMap::new();
        values.insert("A".to_owned(), Zeroizing::new("user:pa ss".to_owned()));
        values.insert("B".to_owned(), Zeroizing::new("v&=+/é".to_owned()));
        let mut headers = HeaderMap::new();
        if let Some(ct) = ct {
            headers.insert(CONTENT_TYPE, ct.parse().unwrap());
        }
        let mut out = Outbound {
            url: Url::parse(url).unwrap(),
            headers,
            body: body.as_bytes().to_vec(),
        };
        apply(&mut out, &plan, &values)?;
        Ok(out)
    }

    #[test]
    fn header_styles() {
        let o = run(
            &[
                (AuthStyle::Basic, None, "A"),
                (AuthStyle::Header, Some("X-Org-ID"), "B"),
            ],
            "https://h/",
            "",
            None,
        )
        .unwrap();
        assert_eq!(o.headers[AUTHORIZATION], "Basic dXNlcjpwYSBzcw==");
        assert!(o.headers[AUTHORIZATION].is_sensitive());
        assert_eq!(o.headers["x-org-id"].to_str().ok(), None); // é is not visible ASCII
        assert_eq!(o.headers["x-org-id"].as_bytes(), "v&=+/é".as_bytes());
    }

    #[test]
    fn query_keeps_other_params_exact_case() {
        let o = run(
            &[(AuthStyle::Query, Some("key"), "B")],
            "https://h/p?Key=1&a=%20x&key=old",
            "",
            None,
        )
        .unwrap();
        assert_eq!(o.url.query(), Some("Key=1&a=%20x&key=v%26%3D%2B%2F%C3%A9"));
    }

    #[test]
    fn form_and_body() {
        let o = run(
            &[(AuthStyle::Form, Some("api_key"), "B")],
            "https://h/",
            "a=1&api_key=x",
            None,
        )
        .unwrap();
        assert_eq!(o.body, b"a=1&api_key=v%26%3D%2B%2F%C3%A9");
        assert_eq!(o.headers[CONTENT_TYPE], "application/x-www-form-urlencoded");
        let e = run(
            &[(AuthStyle::Form, Some("f"), "B")],
            "https://h/",
            "{}",
            Some("application/json"),
        )
        .err()
        .unwrap();
        assert_eq!(e.code, ErrorCode::InjectionFailed);
        let o = run(
            &[(AuthStyle::Body, Some("auth.client_secret"), "A")],
            "https://h/",
            "{\"n\":1}",
            None,
        )
        .unwrap();
        assert_eq!(o.body, br#"{"n":1,"auth":{"client_secret":"user:pa ss"}}"#);
    }

    #[test]
    fn errors_never_carry_values() {
        let mut values = HashMap::new();
        values.insert(
            "C".to_owned(),
            Zeroizing::new("canary-no-colon\r\n".to_owned()),
        );
        for style in [AuthStyle::Basic, AuthStyle::Bearer] {
            let plan = InjectionPlan {
                injections: vec![Injection::new(style, None, "C")],
            };
            let mut out = Outbound {
                url: Url::parse("https://h/").unwrap(),
                headers: HeaderMap::new(),
                body: vec![],
            };
            let e = apply(&mut out, &plan, &values).unwrap_err();
            assert_eq!(e.code, ErrorCode::InjectionFailed);
            assert!(!format!("{e:?}").contains("canary"));
        }
    }
}
