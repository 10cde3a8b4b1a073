//! Setting one field of a JSON body while keeping the rest as written:
//! every value not on the path keeps its exact text (key order, number
//! spelling, big integers, escapes); only the objects along the path are
//! re-emitted, member by member, in their original order.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// Why a body field could not be set. Never contains the value.
#[derive(Debug, PartialEq, Eq)]
pub enum SpliceError {
    NotAnObject,
    NotJson(String),
    ThroughNonObject(String),
}

impl fmt::Display for SpliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpliceError::NotAnObject => f.write_str("the request body is not a JSON object"),
            SpliceError::NotJson(e) => write!(f, "the request body is not valid JSON ({e})"),
            SpliceError::ThroughNonObject(k) => {
                write!(
                    f,
                    "the body field path goes through {k}, which is not an object"
                )
            }
        }
    }
}

/// Members of one object, in order, with raw values.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn is_object(raw: &str) -> bool {
    raw.trim_start().starts_with('{')
}

/// Returns `body` with the string `value` at `path` (segments), creating
/// missing objects. An empty body counts as `{}`.
pub fn set_field(body: &[u8], path: &[String], value: &str) -> Result<Vec<u8>, SpliceError> {
    let text = std::str::from_utf8(body).map_err(|e| SpliceError::NotJson(e.to_string()))?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    let json_value = serde_json::to_string(value).expect("strings serialise");
    let out = set_in(text, path, &json_value, true)?;
    Ok(out.into_bytes())
}

fn set_in(obj: &str, path: &[String], json_value: &str, top: bool) -> Result<String, SpliceError> {
    if !is_object(obj) {
        return Err(if top {
            // Distinguish "valid JSON, wrong shape" from "not JSON".
            match serde_json::from_str::<serde::de::IgnoredAny>(obj) {
                Ok(_) => SpliceError::NotAnObject,
                Err(e) => SpliceError::NotJson(e.to_string()),
            }
        } else {
            SpliceError::ThroughNonObject(String::new())
        });
    }
    let Members(mut members) =
        serde_json::from_str(obj).map_err(|e| SpliceError::NotJson(e.to_string()))?;
    let (head, rest) = path.split_first().expect("paths are non-empty");
    // With duplicate keys, JSON parsers commonly keep the last one: write that one.
    let existing = members.iter().rposition(|(k, _)| k == head);
    let new_raw = if rest.is_empty() {
        json_value.to_owned()
    } else {
        let child = match existing {
            Some(i) => {
                let raw = members[i].1.get();
                if !is_object(raw) {
                    return Err(SpliceError::ThroughNonObject(
                        agentsecrets_wire::names::shown(head),
                    ));
                }
                raw.to_owned()
            }
            None => "{}".to_owned(),
        };
        set_in(&child, rest, json_value, false).map_err(|e| match e {
            SpliceError::ThroughNonObject(k) if k.is_empty() => {
                SpliceError::ThroughNonObject(agentsecrets_wire::names::shown(head))
            }
            e => e,
        })?
    };
    let new_raw =
        RawValue::from_string(new_raw).map_err(|e| SpliceError::NotJson(e.to_string()))?;
    match existing {
        Some(i) => members[i].1 = new_raw,
        None => members.push((head.clone(), new_raw)),
    }
    let mut out = String::with_capacity(obj.len() + json_value.len() + 16);
    out.push('{');
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k).expect("keys serialise"));
        out.push(':');
        out.push_str(v.get());
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(body: &str, path: &str, v: &str) -> Result<String, SpliceError> {
        let segs = agentsecrets_wire::inject::split_body_path(path);
        set_field(body.as_bytes(), &segs, v).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn keeps_order_and_big_numbers() {
        let body = r#"{"z":1,"amount":123456789012345678901234567890,"a":{"x":1.50},"s":"<&>"}"#;
        assert_eq!(
            set(body, "client_secret", "v").unwrap(),
            r#"{"z":1,"amount":123456789012345678901234567890,"a":{"x":1.50},"s":"<&>","client_secret":"v"}"#
        );
    }

    #[test]
    fn nested_paths_create_and_replace() {
        assert_eq!(set("", "auth.key", "v").unwrap(), r#"{"auth":{"key":"v"}}"#);
        assert_eq!(
            set(r#"{"auth":{"key":"old","n":1e400}}"#, "auth.key", "v").unwrap(),
            r#"{"auth":{"key":"v","n":1e400}}"#
        );
        assert_eq!(set(r#"{"a.b":1}"#, r"a\.b", "v").unwrap(), r#"{"a.b":"v"}"#);
    }

    #[test]
    fn values_are_json_escaped() {
        assert_eq!(set("{}", "k", "a\"b\\c\n").unwrap(), r#"{"k":"a\"b\\c\n"}"#);
    }

    #[test]
    fn errors() {
        assert_eq!(set("[1]", "k", "v"), Err(SpliceError::NotAnObject));
        assert!(matches!(set("{", "k", "v"), Err(SpliceError::NotJson(_))));
        assert!(matches!(set("k=v", "k", "v"), Err(SpliceError::NotJson(_))));
        assert!(matches!(
            set(r#"{"a":3}"#, "a.b", "v"),
            Err(SpliceError::ThroughNonObject(_))
        ));
        assert!(matches!(
            set(r#"{"a":{"b":[]}}"#, "a.b.c", "v"),
            Err(SpliceError::ThroughNonObject(k)) if k == "'b'"
        ));
    }
}
