//! Per-request workspace/project scope: names travel percent-encoded in the
//! `X-AS-Workspace` / `X-AS-Project` headers so any UTF-8 name fits a header.

use crate::names::{self, NameError};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};

pub fn encode(name: &str) -> String {
    utf8_percent_encode(name, NON_ALPHANUMERIC).to_string()
}

/// Decodes and validates a scope header value.
pub fn decode(what: &'static str, value: &str) -> Result<String, NameError> {
    let name = percent_decode_str(value)
        .decode_utf8()
        .map_err(|_| NameError::Invalid {
            what,
            shown: names::shown(value),
            rule: "percent-encoded UTF-8 expected",
        })?
        .into_owned();
    names::validate_scope_name(what, &name)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for n in ["Personal", "Client A", "paiements-€", "a/b%c"] {
            assert_eq!(decode("workspace", &encode(n)).unwrap(), n);
        }
        assert!(decode("workspace", "a%0Ab").is_err());
        assert!(decode("workspace", "%FF").is_err());
    }
}
