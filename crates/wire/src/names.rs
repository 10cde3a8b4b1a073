//! Validation of the names that travel in requests: secret keys, header
//! names, injection targets, workspace and project names.
//!
//! CR, LF and NUL are refused everywhere (header injection, S12).

use thiserror::Error;

/// Why a name was refused. The message never contains the offending name's
/// raw bytes beyond a short, escaped excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("{what} {shown} contains a control character (CR, LF, NUL or other); it is refused to prevent header injection")]
    ControlCharacter { what: &'static str, shown: String },
    #[error("{what} {shown} is too long (at most {max} bytes)")]
    TooLong {
        what: &'static str,
        shown: String,
        max: usize,
    },
    #[error("{what} {shown} is not valid: {rule}")]
    Invalid {
        what: &'static str,
        shown: String,
        rule: &'static str,
    },
}

const MAX_NAME: usize = 256;

/// Escaped, length-capped rendering of a name for error messages.
pub fn shown(name: &str) -> String {
    let mut s: String = name.chars().take(64).flat_map(char::escape_debug).collect();
    if name.chars().count() > 64 {
        s.push('…');
    }
    format!("'{s}'")
}

fn common(what: &'static str, name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty { what });
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter {
            what,
            shown: shown(name),
        });
    }
    if name.len() > MAX_NAME {
        return Err(NameError::TooLong {
            what,
            shown: shown(name),
            max: MAX_NAME,
        });
    }
    Ok(())
}

/// A secret key: letters, digits, `_`, `-`, `.`; must not start with `-`.
pub fn validate_secret_key(name: &str) -> Result<(), NameError> {
    common("secret name", name)?;
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(NameError::Invalid {
            what: "secret name",
            shown: shown(name),
            rule: "use letters, digits, '_', '-' and '.' (and do not start with '-')",
        })
    }
}

/// An HTTP header name (RFC 9110 token).
pub fn validate_header_name(name: &str) -> Result<(), NameError> {
    common("header name", name)?;
    let ok = name.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
                    | b'`' | b'|' | b'~'
            )
    });
    if ok {
        Ok(())
    } else {
        Err(NameError::Invalid {
            what: "header name",
            shown: shown(name),
            rule: "header names are RFC 9110 tokens (letters, digits and !#$%&'*+-.^_`|~)",
        })
    }
}

/// A query parameter, form field or JSON body path: any text without
/// control characters.
pub fn validate_target(what: &'static str, name: &str) -> Result<(), NameError> {
    common(what, name)
}

/// A workspace or project name: printable text without control characters
/// and without leading or trailing white space.
pub fn validate_scope_name(what: &'static str, name: &str) -> Result<(), NameError> {
    common(what, name)?;
    if name.trim() != name {
        return Err(NameError::Invalid {
            what,
            shown: shown(name),
            rule: "no leading or trailing white space",
        });
    }
    Ok(())
}

/// A plain header value sent by the caller: no CR, LF or NUL.
pub fn validate_header_value(header: &str, value: &str) -> Result<(), NameError> {
    if value.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) {
        return Err(NameError::ControlCharacter {
            what: "value of header",
            shown: shown(header),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        assert!(validate_secret_key("STRIPE_KEY").is_ok());
        assert!(validate_secret_key("a.b-c_1").is_ok());
        for bad in ["", "A\r\nB", "A\0", "-rf", "A B", "Ä"] {
            assert!(validate_secret_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn header_names() {
        assert!(validate_header_name("X-Org-ID").is_ok());
        for bad in ["", "X Org", "X:Org", "X\r\nY", "Ä"] {
            assert!(validate_header_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn targets_keep_any_printable_text() {
        assert!(validate_target("query parameter", "key").is_ok());
        assert!(validate_target("body field", "auth.client-secret").is_ok());
        assert!(validate_target("form field", "naïve name").is_ok());
        assert!(validate_target("form field", "a\nb").is_err());
    }

    #[test]
    fn shown_is_escaped_and_capped() {
        assert_eq!(shown("a\r\nb"), "'a\\r\\nb'");
        assert!(shown(&"x".repeat(100)).ends_with("…'"));
    }
}
