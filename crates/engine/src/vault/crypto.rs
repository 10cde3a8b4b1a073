//! Encryption of secret values: XChaCha20-Poly1305 under the master key, a
//! fresh random 192-bit nonce per write, and associated data that binds each
//! ciphertext to its (workspace id, project id, key) so rows cannot be
//! swapped or moved without failing authentication.

use crate::error::{EngineError, Result};
use agentsecrets_wire::ErrorCode;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;

/// Domain separation for the associated data (bump with the format).
const AAD_PREFIX: &[u8] = b"agentsecrets/secret/v1\0";

/// The 256-bit master key; wiped from memory when dropped.
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl MasterKey {
    pub fn generate() -> MasterKey {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(k.as_mut());
        MasterKey(k)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey> {
        if bytes.len() != KEY_LEN {
            return Err(EngineError::new(
                ErrorCode::VaultError,
                format!(
                    "the master key has {} bytes, expected {KEY_LEN}",
                    bytes.len()
                ),
            )
            .fix("restore the master key from a backup (a vault cannot be read without its key)"));
        }
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        k.copy_from_slice(bytes);
        Ok(MasterKey(k))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.0.as_ref()))
    }
}

/// Associated data of a secret row.
pub fn secret_aad(workspace_id: i64, project_id: i64, key: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_PREFIX.len() + 16 + key.len());
    aad.extend_from_slice(AAD_PREFIX);
    aad.extend_from_slice(&workspace_id.to_be_bytes());
    aad.extend_from_slice(&project_id.to_be_bytes());
    aad.extend_from_slice(key.as_bytes());
    aad
}

/// Encrypts `plaintext`; returns (nonce, ciphertext with tag).
pub fn seal(key: &MasterKey, aad: &[u8], plaintext: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let ct = key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| EngineError::internal("encryption failed"))?;
    Ok((nonce.to_vec(), ct))
}

/// Decrypts and authenticates; any tampering, a swapped row or a wrong key
/// fails here with `VAULT_ERROR`.
pub fn open(
    key: &MasterKey,
    aad: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let fail = || {
        EngineError::new(
            ErrorCode::VaultError,
            "a vault entry failed authentication (it was altered, moved, or the master key does not belong to this vault)",
        )
        .fix("set the secret again with `agentsecrets secrets set KEY`, or restore the vault and its master key from a backup")
    };
    if nonce.len() != NONCE_LEN {
        return Err(fail());
    }
    key.cipher()
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| fail())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "canary-7f3a9c1e-crypto-value";

    #[test]
    fn round_trip_and_ciphertext_hides_value() {
        let k = MasterKey::generate();
        let aad = secret_aad(1, 2, "API_KEY");
        let (nonce, ct) = seal(&k, &aad, CANARY.as_bytes()).unwrap();
        assert_eq!(nonce.len(), NONCE_LEN);
        assert!(!ct.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()));
        assert_eq!(&open(&k, &aad, &nonce, &ct).unwrap()[..], CANARY.as_bytes());
    }

    #[test]
    fn nonces_are_fresh() {
        let k = MasterKey::generate();
        let aad = secret_aad(1, 1, "K");
        let (n1, c1) = seal(&k, &aad, b"same").unwrap();
        let (n2, c2) = seal(&k, &aad, b"same").unwrap();
        assert_ne!(n1, n2);
        assert_ne!(c1, c2);
    }

    #[test]
    fn tampering_fails() {
        let k = MasterKey::generate();
        let aad = secret_aad(1, 2, "K");
        let (nonce, ct) = seal(&k, &aad, CANARY.as_bytes()).unwrap();
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x01;
            let e = open(&k, &aad, &nonce, &bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::VaultError);
            assert!(!e.message.contains(CANARY));
        }
        let mut bad_nonce = nonce.clone();
        bad_nonce[0] ^= 0x80;
        assert!(open(&k, &aad, &bad_nonce, &ct).is_err());
        assert!(open(&k, &aad, &nonce[..12], &ct).is_err());
        assert!(open(&k, &aad, &nonce, &ct[..ct.len() - 1]).is_err());
    }

    #[test]
    fn swapped_rows_fail() {
        let k = MasterKey::generate();
        let (nonce, ct) = seal(&k, &secret_aad(1, 2, "A"), CANARY.as_bytes()).unwrap();
        // Same ciphertext presented as another key, project or workspace.
        for aad in [
            secret_aad(1, 2, "B"),
            secret_aad(1, 3, "A"),
            secret_aad(9, 2, "A"),
        ] {
            assert!(open(&k, &aad, &nonce, &ct).is_err());
        }
        // Ids and key must not run together ambiguously.
        assert_ne!(secret_aad(1, 2, "A"), secret_aad(12, 0, "A"));
    }

    #[test]
    fn wrong_key_fails() {
        let aad = secret_aad(1, 1, "K");
        let (nonce, ct) = seal(&MasterKey::generate(), &aad, b"v").unwrap();
        assert!(open(&MasterKey::generate(), &aad, &nonce, &ct).is_err());
        assert!(MasterKey::from_bytes(&[0u8; 31]).is_err());
    }
}
