//! The admin password that guards allowlist changes: stored only as an
//! argon2id PHC string, checked in constant time by the argon2 crate.

use crate::error::{EngineError, Result};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Refuses passwords that are too short or too long.
pub fn check_strength(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(EngineError::invalid(format!(
            "the admin password is too short (at least {MIN_PASSWORD_CHARS} characters)"
        ))
        .fix(format!(
            "choose an admin password of {MIN_PASSWORD_CHARS} characters or more"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(EngineError::invalid(format!(
            "the admin password is too long (at most {MAX_PASSWORD_BYTES} bytes)"
        ))
        .fix("choose a shorter admin password"));
    }
    Ok(())
}

/// argon2id with the crate's default (OWASP) parameters, as a PHC string.
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| EngineError::internal(format!("cannot hash the admin password: {e}")))
}

/// Whether `password` matches the stored PHC string.
pub fn verify(phc: &str, password: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| {
        EngineError::vault("the stored admin password hash is unreadable", e)
            .fix("restore the vault from a backup")
    })?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse"));
        assert!(verify(&h, "correct horse").unwrap());
        assert!(!verify(&h, "correct hors").unwrap());
        assert!(verify("garbage", "x").is_err());
    }

    #[test]
    fn strength() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("eight ch").is_ok());
        assert!(check_strength(&"x".repeat(2000)).is_err());
    }
}
