//! The redaction patterns of every value this home holds, shared by every
//! request and rebuilt only when the secrets change.
//!
//! An answer is scanned for every value the caller could have injected,
//! not only this call's: a value stored on an API by one call must not come
//! back in plain text from another (read-back).

use crate::error::Result;
use crate::redact::Patterns;
use crate::remote::resolve::View;
use crate::vault::{Reader, Vault};
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct KnownValues {
    state: Mutex<Option<Known>>,
    hasher: RandomState,
}

struct Known {
    data_version: i64,
    fingerprint: u64,
    /// [`View::fingerprint`] of the remote values included (0: none).
    remote: u64,
    /// Hashes of the values the patterns were built from.
    values: HashSet<u64>,
    patterns: Arc<Patterns>,
}

impl KnownValues {
    /// Builds the patterns of the home's values now, so that the first call
    /// does not wait for them (about 5 ms for 100 secrets).
    pub fn warm(&self, vault: &Vault) -> Result<()> {
        vault.read(|r| {
            let data_version = r.data_version()?;
            self.patterns(r, data_version, std::iter::empty::<&str>(), None)
                .map(drop)
        })
    }

    /// The patterns of every value in the snapshot `r` reads, which must
    /// include `injected` (this call's values, read in the same snapshot).
    /// `data_version` is [`Reader::data_version`], read before the snapshot.
    /// `remote`: the values of every resolve-through binding, scanned for too.
    pub fn patterns<'v>(
        &self,
        r: &Reader<'_>,
        data_version: i64,
        injected: impl IntoIterator<Item = &'v str> + Clone,
        remote: Option<&View>,
    ) -> Result<Arc<Patterns>> {
        let remote_fp = remote.map_or(0, View::fingerprint);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let covers = |k: &Known| {
            injected
                .clone()
                .into_iter()
                .all(|v| k.values.contains(&self.hasher.hash_one(v)))
        };
        if let Some(k) = state.as_mut() {
            if k.data_version == data_version && k.remote == remote_fp && covers(k) {
                return Ok(k.patterns.clone());
            }
        }
        // Something committed since: unchanged secrets keep their patterns.
        let fingerprint = r.secrets_fingerprint()?;
        if let Some(k) = state.as_mut() {
            if k.fingerprint == fingerprint && k.remote == remote_fp && covers(k) {
                k.data_version = data_version;
                return Ok(k.patterns.clone());
            }
        }
        let local = r.every_value()?;
        let mut all: Vec<&str> = local.iter().map(|v| v.as_str()).collect();
        all.extend(remote.into_iter().flat_map(View::every_value));
        let patterns = Arc::new(Patterns::shared(all.iter().map(|v| v.as_bytes()))?);
        *state = Some(Known {
            data_version,
            fingerprint,
            remote: remote_fp,
            values: all.iter().map(|v| self.hasher.hash_one(v)).collect(),
            patterns: patterns.clone(),
        });
        Ok(patterns)
    }
}
