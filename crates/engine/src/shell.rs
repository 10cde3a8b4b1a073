//! Shell quoting for the command lines the engine shows: the fixes in its
//! error messages and the command line of `env` in the audit log.

/// `s` as one POSIX shell word: as is when it is plain, else in single
/// quotes (an embedded `'` becomes `'\''`).
pub fn word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::word;

    #[test]
    fn plain_words_stay_and_others_are_quoted() {
        assert_eq!(word("printenv"), "printenv");
        assert_eq!(word("--out=a/b.json"), "--out=a/b.json");
        assert_eq!(word("me@example.com"), "me@example.com");
        assert_eq!(word("a b"), "'a b'");
        assert_eq!(word("it's"), r"'it'\''s'");
        assert_eq!(word("$HOME"), "'$HOME'");
        assert_eq!(word(""), "''");
    }
}
