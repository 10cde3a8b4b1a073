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

/// Wrong passwords allowed in a row before attempts must wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// First wait once the free attempts are used; doubles with each failure.
pub const FIRST_WAIT_SECS: u64 = 5;
/// Longest wait between attempts (a person who mistyped is never locked out long).
pub const MAX_WAIT_SECS: u64 = 60;

/// The outcome of an admin password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Ok,
    Wrong,
    /// Too many wrong passwords: not even checked; retry after this long.
    Throttled {
        retry_after_secs: u64,
    },
}

/// Consecutive wrong passwords and when the last one happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last: u64,
}

impl Failures {
    /// Reads `count:unix_seconds`; anything unreadable counts as the
    /// throttling threshold, so the next wrong password waits.
    pub fn parse(stored: Option<&str>) -> Failures {
        let Some(s) = stored else {
            return Failures::default();
        };
        s.split_once(':')
            .and_then(|(c, t)| {
                Some(Failures {
                    count: c.parse().ok()?,
                    last: t.parse().ok()?,
                })
            })
            .unwrap_or(Failures {
                count: FREE_ATTEMPTS,
                last: 0,
            })
    }

    /// Seconds still to wait at `now`, if any.
    pub fn wait_at(&self, now: u64) -> Option<u64> {
        if self.count < FREE_ATTEMPTS {
            return None;
        }
        let exp = (self.count - FREE_ATTEMPTS).min(16);
        let wait = (FIRST_WAIT_SECS << exp).min(MAX_WAIT_SECS);
        let ready = self.last.saturating_add(wait);
        // Capped again in case the clock went backwards.
        (now < ready).then(|| (ready - now).min(MAX_WAIT_SECS))
    }

    pub fn after_failure(&self, now: u64) -> Failures {
        Failures {
            count: self.count.saturating_add(1),
            last: now,
        }
    }
}

impl std::fmt::Display for Failures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.count, self.last)
    }
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
    fn back_off_after_repeated_failures() {
        let mut f = Failures::default();
        for _ in 0..FREE_ATTEMPTS {
            assert_eq!(f.wait_at(1000), None);
            f = f.after_failure(1000);
        }
        assert_eq!(f.wait_at(1000), Some(FIRST_WAIT_SECS));
        assert_eq!(f.wait_at(1000 + FIRST_WAIT_SECS), None);
        f = f.after_failure(1005);
        assert_eq!(f.wait_at(1005), Some(2 * FIRST_WAIT_SECS));
        for _ in 0..20 {
            f = f.after_failure(2000);
        }
        assert_eq!(f.wait_at(2000), Some(MAX_WAIT_SECS));
        assert_eq!(Failures::parse(Some(&f.to_string())), f);
        let garbage = Failures::parse(Some("garbage"));
        assert_eq!(
            garbage.after_failure(5).wait_at(5),
            Some(2 * FIRST_WAIT_SECS)
        );
        assert_eq!(
            Failures {
                count: 9,
                last: 10_000
            }
            .wait_at(0),
            Some(MAX_WAIT_SECS)
        );
        assert_eq!(Failures::parse(None), Failures::default());
    }

    #[test]
    fn strength() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("eight ch").is_ok());
        assert!(check_strength(&"x".repeat(2000)).is_err());
    }
}
