//! How an engine proves, over TCP, that it is the engine of a home before a
//! client sends it the caller token or any request.
//!
//! The client reads the token from its home's `run/proxy.token`, sends
//! `GET /health` with a fresh random [`CHALLENGE`] and no token, and accepts
//! the listener only if its [`PROOF`] header verifies:
//!
//! ```text
//! proof = hex(HMAC-SHA256(key = token,
//!                         msg = CONTEXT || challenge (32 bytes) || port (u16, big-endian)))
//! ```
//!
//! `port` is the TCP port the engine listens on. Binding it stops a relay: a
//! listener on another port that forwards the challenge to the real engine
//! gets back a proof for the engine's port, not for its own, so the client
//! (which checks the port it dialled) refuses it. A fresh challenge per probe
//! stops replay of a proof seen earlier.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Domain separation: this MAC is used for nothing else.
pub const CONTEXT: &[u8] = b"agentsecrets-engine-proof/v1\0";
/// Random bytes in a challenge (sent as twice as many hex digits).
pub const CHALLENGE_BYTES: usize = 32;
/// Bytes of a proof (sent as twice as many hex digits).
pub const PROOF_BYTES: usize = 32;

/// A fresh challenge: [`CHALLENGE_BYTES`] random bytes, lower-case hex.
pub fn new_challenge() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; CHALLENGE_BYTES];
    getrandom::getrandom(&mut bytes)?;
    Ok(to_hex(&bytes))
}

/// The challenge's bytes, if it is exactly [`CHALLENGE_BYTES`] in hex.
pub fn parse_challenge(challenge: &str) -> Option<[u8; CHALLENGE_BYTES]> {
    from_hex(challenge)
}

/// The proof an engine listening on `port` with `token` gives for `challenge`.
pub fn prove(token: &str, challenge: &[u8; CHALLENGE_BYTES], port: u16) -> String {
    to_hex(&mac(token, challenge, port))
}

/// Whether `proof` (as received) is the proof of `token` for `challenge` on
/// `port`, compared in constant time.
pub fn verify(token: &str, challenge: &str, port: u16, proof: &str) -> bool {
    let (Some(challenge), Some(given)) = (
        parse_challenge(challenge),
        from_hex::<PROOF_BYTES>(proof.trim()),
    ) else {
        return false;
    };
    mac(token, &challenge, port).ct_eq(&given).into()
}

fn mac(token: &str, challenge: &[u8; CHALLENGE_BYTES], port: u16) -> [u8; PROOF_BYTES] {
    let mut m =
        Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes any key length");
    m.update(CONTEXT);
    m.update(challenge);
    m.update(&port.to_be_bytes());
    m.finalize().into_bytes().into()
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi << 4 | lo).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn proof_for(token: &str, challenge: &str, port: u16) -> String {
        prove(token, &parse_challenge(challenge).unwrap(), port)
    }

    #[test]
    fn a_proof_verifies_for_its_token_challenge_and_port_only() {
        let c = new_challenge().unwrap();
        let p = proof_for(TOKEN, &c, 8765);
        assert!(verify(TOKEN, &c, 8765, &p));
        assert!(verify(TOKEN, &c, 8765, &p.to_ascii_uppercase()));
        let other_token = "f".repeat(64);
        assert!(!verify(&other_token, &c, 8765, &p), "another token");
        assert!(!verify(TOKEN, &c, 8766, &p), "another port (a relay)");
        let replayed = new_challenge().unwrap();
        assert!(
            !verify(TOKEN, &replayed, 8765, &p),
            "another challenge (a replay)"
        );
    }

    #[test]
    fn known_answer() {
        // HMAC-SHA256 computed independently (Python hmac) over the same bytes.
        let c = "00".repeat(CHALLENGE_BYTES);
        assert_eq!(
            proof_for(TOKEN, &c, 8765),
            "3a3f95f369a41efc04dd0a7934dd34234f2e479c40e24dab4b64917754f3c22b"
        );
    }

    #[test]
    fn malformed_input_never_verifies() {
        let c = new_challenge().unwrap();
        let p = proof_for(TOKEN, &c, 1);
        for bad in [
            "",
            "zz",
            &p[..62],
            &format!("{p}00"),
            &p.replacen(&p[..1], "g", 1),
        ] {
            assert!(!verify(TOKEN, &c, 1, bad), "{bad:?}");
        }
        for bad in [
            "",
            "00",
            &"0".repeat(63),
            &"g".repeat(64),
            &format!("{c}0"),
            "+1".repeat(32).as_str(),
        ] {
            assert!(parse_challenge(bad).is_none(), "{bad:?}");
            assert!(!verify(TOKEN, bad, 1, &p));
        }
    }

    #[test]
    fn challenges_are_fresh() {
        let a = new_challenge().unwrap();
        assert_eq!(a.len(), CHALLENGE_BYTES * 2);
        assert!(parse_challenge(&a).is_some());
        assert_ne!(a, new_challenge().unwrap());
    }
}
