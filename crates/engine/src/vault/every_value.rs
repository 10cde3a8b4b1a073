//! Reads across the whole home, for the redactor: every value the caller
//! could have injected, whatever workspace or project it lives in, and
//! cheap ways to tell whether that set may have changed.

use super::{read_err, Reader, Scope};
use crate::error::Result;
use std::hash::{Hash, Hasher};
use zeroize::Zeroizing;

impl Reader<'_> {
    /// SQLite's `data_version`: changes whenever another connection commits.
    /// Read it before anything else in a [`Vault::read`](super::Vault::read),
    /// so that the snapshot read after it is at least as new.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(read_err)
    }

    /// A hash of which secrets exist and which ciphertext each has (every
    /// write draws a fresh nonce): equal fingerprints, equal values.
    pub fn secrets_fingerprint(&self) -> Result<u64> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT project_id, key, nonce FROM secrets ORDER BY project_id, key")
            .map_err(read_err)?;
        let mut rows = stmt.query([]).map_err(read_err)?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        while let Some(r) = rows.next().map_err(read_err)? {
            r.get::<_, i64>(0).map_err(read_err)?.hash(&mut h);
            r.get_ref(1).map_err(read_err)?.as_bytes().ok().hash(&mut h);
            r.get_ref(2).map_err(read_err)?.as_blob().ok().hash(&mut h);
        }
        Ok(h.finish())
    }

    /// Every secret value of every workspace and project.
    pub fn every_value(&self) -> Result<Vec<Zeroizing<String>>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT w.id, w.name, p.id, p.name, s.key, s.nonce, s.ciphertext
                 FROM secrets s JOIN projects p ON p.id = s.project_id
                 JOIN workspaces w ON w.id = p.workspace_id",
            )
            .map_err(read_err)?;
        let mut rows = stmt.query([]).map_err(read_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(read_err)? {
            let scope = Scope {
                workspace_id: r.get(0).map_err(read_err)?,
                workspace: r.get(1).map_err(read_err)?,
                project_id: r.get(2).map_err(read_err)?,
                project: r.get(3).map_err(read_err)?,
            };
            let key: String = r.get(4).map_err(read_err)?;
            let nonce: Vec<u8> = r.get(5).map_err(read_err)?;
            let ct: Vec<u8> = r.get(6).map_err(read_err)?;
            out.push(self.vault.decrypt(&scope, &key, &nonce, &ct)?);
        }
        Ok(out)
    }
}
