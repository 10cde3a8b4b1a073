//! Credentials the engine itself uses (an OpenBao token typed at
//! `remote set`), kept in the vault's `meta` table encrypted under the
//! master key like secret values, bound to their name. They are never
//! secrets of a project: nothing can inject them, list them or read them
//! back through the proxy.

use super::{crypto, meta, write_err, Vault};
use crate::error::{EngineError, Result};
use agentsecrets_wire::ErrorCode;
use base64::Engine as _;
use rusqlite::{params, TransactionBehavior};
use zeroize::Zeroizing;

const PREFIX: &str = "credential:";

fn aad(name: &str) -> Vec<u8> {
    format!("agentsecrets/credential/v1/{name}").into_bytes()
}

impl Vault {
    /// Stores (or replaces) the credential `name`.
    pub fn store_credential(&self, name: &str, value: &str) -> Result<()> {
        let (mut sealed, ct) = crypto::seal(&self.key, &aad(name), value.as_bytes())?;
        sealed.extend_from_slice(&ct);
        let text = base64::engine::general_purpose::STANDARD.encode(sealed);
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(write_err)?;
        tx.execute(
            "INSERT INTO meta (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![format!("{PREFIX}{name}"), text],
        )
        .map_err(write_err)?;
        tx.commit().map_err(write_err)
    }

    /// The credential `name`, if stored.
    pub fn credential(&self, name: &str) -> Result<Option<Zeroizing<String>>> {
        let Some(text) = meta(&self.lock(), &format!("{PREFIX}{name}"))? else {
            return Ok(None);
        };
        let broken = || {
            EngineError::new(
                ErrorCode::VaultError,
                format!("the stored credential {name} cannot be read"),
            )
            .fix("store it again with `agentsecrets remote set ... --token-stdin`")
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| broken())?;
        if bytes.len() < crypto::NONCE_LEN {
            return Err(broken());
        }
        let (nonce, ct) = bytes.split_at(crypto::NONCE_LEN);
        let plain = crypto::open(&self.key, &aad(name), nonce, ct).map_err(|_| broken())?;
        let value = std::str::from_utf8(&plain).map_err(|_| broken())?;
        Ok(Some(Zeroizing::new(value.to_owned())))
    }

    /// Removes the credential `name` (nothing when absent).
    pub fn delete_credential(&self, name: &str) -> Result<()> {
        self.lock()
            .execute(
                "DELETE FROM meta WHERE name = ?1",
                [format!("{PREFIX}{name}")],
            )
            .map(drop)
            .map_err(write_err)
    }
}
