//! The rules for a call's target URL, checked by the SDK before it sends a
//! call and by the engine on the `X-AS-Target-URL` it receives: absolute,
//! http(s), a host, no control character, and no user information where a
//! secret may be injected (`https://allowed.com@evil.com/` reads as one host
//! to people and as another to parsers).

use crate::names::shown;
use thiserror::Error;
use url::Url;

/// Whether `user@host` in the URL is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserInfo {
    /// Refused: a secret may be injected into this call.
    Refuse,
    /// Left to the destination: the call carries no secret.
    Allow,
}

/// Why a target URL was refused. Messages show the URL only as a short,
/// escaped excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TargetUrlError {
    #[error("the target URL contains a control character (CR, LF, NUL or other)")]
    ControlCharacter,
    #[error("the target URL {shown} is not a valid absolute URL: {reason}")]
    NotAbsolute { shown: String, reason: String },
    #[error("the target URL scheme {shown} is not supported")]
    Scheme { shown: String },
    #[error("the target URL {shown} has no host")]
    NoHost { shown: String },
    #[error("the target URL carries user info (user@host), which is refused when a secret may be injected")]
    UserInfo,
}

impl TargetUrlError {
    /// What to change.
    pub fn fix(&self) -> &'static str {
        match self {
            TargetUrlError::ControlCharacter => {
                "remove the CR, LF or other control character from the URL"
            }
            TargetUrlError::NotAbsolute { .. } | TargetUrlError::NoHost { .. } => {
                "use an absolute URL such as https://api.example.com/v1/items"
            }
            TargetUrlError::Scheme { .. } => "use https:// (or http:// to loopback)",
            TargetUrlError::UserInfo => {
                "remove the user@ part of the URL; use basic injection for credentials"
            }
        }
    }
}

/// The target URL `raw`, if it follows the rules.
pub fn parse(raw: &str, user_info: UserInfo) -> Result<Url, TargetUrlError> {
    if raw.chars().any(char::is_control) {
        return Err(TargetUrlError::ControlCharacter);
    }
    let url = Url::parse(raw).map_err(|e| TargetUrlError::NotAbsolute {
        shown: shown(raw),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetUrlError::Scheme {
            shown: shown(url.scheme()),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(TargetUrlError::NoHost { shown: shown(raw) });
    }
    let has_user_info = !url.username().is_empty() || url.password().is_some();
    if has_user_info && user_info == UserInfo::Refuse {
        return Err(TargetUrlError::UserInfo);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_urls_parse() {
        for raw in [
            "https://api.example.com/v1?a=1",
            "http://127.0.0.1:8080/x",
            " https://a/ ",
        ] {
            let url = parse(raw, UserInfo::Refuse).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert!(url.host_str().is_some());
        }
    }

    #[test]
    fn each_rule_refuses() {
        let refuse = |raw: &str| parse(raw, UserInfo::Refuse).unwrap_err();
        assert_eq!(
            refuse("https://a/\r\nX-Evil: 1"),
            TargetUrlError::ControlCharacter
        );
        assert_eq!(refuse("https://a/\tb"), TargetUrlError::ControlCharacter);
        assert!(matches!(
            refuse("not a url"),
            TargetUrlError::NotAbsolute { .. }
        ));
        assert!(matches!(
            refuse("/relative"),
            TargetUrlError::NotAbsolute { .. }
        ));
        assert!(matches!(refuse("ftp://a/"), TargetUrlError::Scheme { .. }));
        assert!(matches!(
            refuse("file:///etc/passwd"),
            TargetUrlError::Scheme { .. }
        ));
        assert_eq!(refuse("https://u:p@a/"), TargetUrlError::UserInfo);
        assert_eq!(
            refuse("https://allowed.com@evil.com/"),
            TargetUrlError::UserInfo
        );
    }

    #[test]
    fn user_info_is_left_to_calls_without_secrets() {
        let url = parse("https://u@a/", UserInfo::Allow).unwrap();
        assert_eq!(url.username(), "u");
    }

    #[test]
    fn every_refusal_says_what_to_do() {
        let long = format!("https://{}", "\u{7f}".repeat(500));
        for raw in ["\0", "x", "ftp://a/", "https://u@a/", long.as_str()] {
            let e = parse(raw, UserInfo::Refuse).unwrap_err();
            assert!(!e.fix().is_empty());
            assert!(e.to_string().len() < 400, "{e}");
        }
    }
}
