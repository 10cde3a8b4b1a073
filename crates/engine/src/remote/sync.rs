//! Sync mode: `secrets pull|push|diff` between the local vault and a bound
//! KV v2 folder.
//!
//! Every key remembers the KV version this machine last pulled or pushed
//! (`remote-state.json`). A push writes with check-and-set on that version
//! (0 for a key this machine never saw, which only creates), so when two
//! machines push the same key at once, or one pushes over a change it has
//! not pulled, OpenBao refuses the second write and the push fails with
//! `REMOTE_CONFLICT` naming the key. Nothing is overwritten silently.

use super::binding::{self, Binding};
use super::kv::{Kv, Versioned};
use super::store;
use crate::error::Result;
use crate::home::Home;
use crate::vault::{check_key_name, Scope, Vault};
use serde::Serialize;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// How a key compares between the local vault and the remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Difference {
    Same,
    /// Both have it, with different values.
    Differs,
    LocalOnly,
    RemoteOnly,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffEntry {
    pub key: String,
    pub state: Difference,
    /// The remote's version, when it has the key.
    pub remote_version: Option<u64>,
    /// Whether the remote changed since this machine last pulled or pushed the key.
    pub remote_changed: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub workspace: String,
    pub project: String,
    /// Keys written (pull: into the vault; push: to the remote).
    pub written: Vec<String>,
    pub unchanged: Vec<String>,
    pub last_pull: Option<String>,
}

/// The state key of a scope.
fn scope_key(scope: &Scope) -> String {
    format!("{}/{}", scope.workspace, scope.project)
}

/// Every secret of the scope's remote folder, with versions.
async fn remote_secrets(kv: &Kv, scope: &Scope) -> Result<BTreeMap<String, Versioned>> {
    let folder = kv.binding.folder(&scope.project);
    let mut out = BTreeMap::new();
    for key in kv.list(&folder).await? {
        if key.ends_with('/') || check_key_name(&key).is_err() {
            continue;
        }
        if let Some(v) = kv.read(&binding::join(&folder, &key), &key).await? {
            out.insert(key, v);
        }
    }
    Ok(out)
}

fn local_secrets(vault: &Vault, scope: &Scope) -> Result<BTreeMap<String, Zeroizing<String>>> {
    Ok(vault.secrets(scope, None)?.into_iter().collect())
}

/// Copies every remote secret of the scope into the local vault (one
/// transaction). Keys that exist only locally are kept.
pub async fn pull(home: &Home, vault: &Vault, scope: &Scope, kv: &Kv) -> Result<Report> {
    let remote = remote_secrets(kv, scope).await?;
    let local = local_secrets(vault, scope)?;
    let mut state = store::load_state(home)?;
    let entry = state.scopes.entry(scope_key(scope)).or_default();
    let (mut written, mut unchanged, mut items) = (Vec::new(), Vec::new(), Vec::new());
    for (key, v) in remote {
        entry.versions.insert(key.clone(), v.version);
        if local.get(&key).is_some_and(|l| **l == *v.value) {
            unchanged.push(key);
        } else {
            items.push((key.clone(), v.value));
            written.push(key);
        }
    }
    if !items.is_empty() {
        vault.set_secrets(scope, &items)?;
    }
    entry.last_pull = Some(crate::clock::now_rfc3339());
    let last_pull = entry.last_pull.clone();
    store::save_state(home, &state)?;
    Ok(Report {
        workspace: scope.workspace.clone(),
        project: scope.project.clone(),
        written,
        unchanged,
        last_pull,
    })
}

/// Writes every local secret of the scope (or only `keys`) that differs
/// from the remote, each with check-and-set on the version last seen here.
/// The first conflict stops the push; keys pushed before it stay pushed
/// and recorded.
pub async fn push(
    home: &Home,
    vault: &Vault,
    scope: &Scope,
    kv: &Kv,
    keys: Option<&[String]>,
) -> Result<Report> {
    let local = match keys {
        Some(k) => vault.secrets(scope, Some(k))?.into_iter().collect(),
        None => local_secrets(vault, scope)?,
    };
    let folder = kv.binding.folder(&scope.project);
    let mut state = store::load_state(home)?;
    let (mut written, mut unchanged) = (Vec::new(), Vec::new());
    let mut outcome = Ok(());
    for (key, value) in &local {
        let path = binding::join(&folder, key);
        let seen = known_version(&state, scope, key);
        match push_one(kv, &path, key, value, seen).await {
            Ok((version, wrote)) => {
                record(&mut state, scope, key, version);
                if wrote {
                    written.push(key.clone())
                } else {
                    unchanged.push(key.clone())
                }
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    store::save_state(home, &state)?;
    outcome?;
    let last_pull = state
        .scopes
        .get(&scope_key(scope))
        .and_then(|s| s.last_pull.clone());
    Ok(Report {
        workspace: scope.workspace.clone(),
        project: scope.project.clone(),
        written,
        unchanged,
        last_pull,
    })
}

/// One key: left alone when the remote already holds the value, else
/// written with check-and-set. Returns the remote version and whether it wrote.
async fn push_one(kv: &Kv, path: &str, key: &str, value: &str, seen: u64) -> Result<(u64, bool)> {
    if let Some(current) = kv.read(path, key).await? {
        if *current.value == *value {
            return Ok((current.version, false));
        }
    }
    let version = kv.write_cas(path, key, value, seen).await?;
    Ok((version, true))
}

/// Compares the local vault with the remote, by name (values are compared,
/// never shown).
pub async fn diff(home: &Home, vault: &Vault, scope: &Scope, kv: &Kv) -> Result<Vec<DiffEntry>> {
    let remote = remote_secrets(kv, scope).await?;
    let local = local_secrets(vault, scope)?;
    let state = store::load_state(home)?;
    let mut keys: Vec<&String> = remote.keys().chain(local.keys()).collect();
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .map(|key| {
            let r = remote.get(key);
            let state_of = match (local.get(key), r) {
                (Some(l), Some(r)) if **l == *r.value => Difference::Same,
                (Some(_), Some(_)) => Difference::Differs,
                (Some(_), None) => Difference::LocalOnly,
                _ => Difference::RemoteOnly,
            };
            let remote_version = r.map(|r| r.version);
            DiffEntry {
                key: key.clone(),
                state: state_of,
                remote_version,
                remote_changed: remote_version.unwrap_or(0) != known_version(&state, scope, key),
            }
        })
        .collect())
}

/// The last pull of the scope, for `status`.
pub fn last_pull(home: &Home, scope: &Scope) -> Result<Option<String>> {
    Ok(store::load_state(home)?
        .scopes
        .get(&scope_key(scope))
        .and_then(|s| s.last_pull.clone()))
}

/// The binding of `scope` for sync commands.
pub fn binding_for(home: &Home, scope: &Scope) -> Result<Binding> {
    let all = store::effective(home)?;
    store::for_scope(&all, &scope.workspace, &scope.project)
        .cloned()
        .ok_or_else(|| super::errors::not_bound(scope))
}

fn known_version(state: &store::SyncState, scope: &Scope, key: &str) -> u64 {
    state
        .scopes
        .get(&scope_key(scope))
        .and_then(|s| s.versions.get(key).copied())
        .unwrap_or(0)
}

fn record(state: &mut store::SyncState, scope: &Scope, key: &str, version: u64) {
    state
        .scopes
        .entry(scope_key(scope))
        .or_default()
        .versions
        .insert(key.to_owned(), version);
}
