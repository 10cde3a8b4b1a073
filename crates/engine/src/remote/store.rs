//! Where bindings and sync state live: `remote.json` (the bindings, no
//! secret in it) and `remote-state.json` (per bound scope: the KV versions
//! seen at the last pull or push, and when the last pull happened), both
//! 0600 in the home and written atomically. `AGENTSECRETS_REMOTE` adds a
//! binding for every scope without touching either file.

use super::binding::{self, Binding};
use crate::error::{EngineError, Result};
use crate::home::{self, Home};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const ENV_BINDING: &str = "AGENTSECRETS_REMOTE";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Bindings {
    pub bindings: Vec<Binding>,
}

/// Per bound scope (`workspace/project`): KV versions and the last pull.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    #[serde(default)]
    pub scopes: BTreeMap<String, ScopeState>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeState {
    /// RFC 3339 time of the last successful pull.
    pub last_pull: Option<String>,
    /// KEY → the KV version this machine last pulled or pushed.
    #[serde(default)]
    pub versions: BTreeMap<String, u64>,
}

fn bindings_path(home: &Home) -> PathBuf {
    home.root.join("remote.json")
}

fn state_path(home: &Home) -> PathBuf {
    home.root.join("remote-state.json")
}

/// The bindings stored in the home.
pub fn load(home: &Home) -> Result<Bindings> {
    read_json(&bindings_path(home))
}

pub fn save(home: &Home, b: &Bindings) -> Result<()> {
    write_json(&bindings_path(home), b)
}

pub fn load_state(home: &Home) -> Result<SyncState> {
    read_json(&state_path(home))
}

pub fn save_state(home: &Home, s: &SyncState) -> Result<()> {
    write_json(&state_path(home), s)
}

/// The headless binding from `AGENTSECRETS_REMOTE`, if set.
pub fn env_binding() -> Result<Option<Binding>> {
    match std::env::var(ENV_BINDING) {
        Ok(v) if !v.trim().is_empty() => binding::parse_env(&v).map(Some),
        _ => Ok(None),
    }
}

/// Every binding in effect: the home's, then the headless one.
pub fn effective(home: &Home) -> Result<Vec<Binding>> {
    let mut all = load(home)?.bindings;
    all.extend(env_binding()?);
    Ok(all)
}

/// The binding serving `workspace/project`: the most specific wins
/// (project, then workspace, then the headless one).
pub fn for_scope<'b>(all: &'b [Binding], workspace: &str, project: &str) -> Option<&'b Binding> {
    all.iter()
        .filter(|b| b.serves(workspace, project))
        .max_by_key(|b| (b.workspace.is_some() as u8) + (b.project.is_some() as u8))
}

fn read_json<T: DeserializeOwned + Default>(path: &Path) -> Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            EngineError::home_file(&format!("{} is not valid", path.display()), e).fix(format!(
                "fix or remove {} (then bind again with `agentsecrets remote set`)",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(EngineError::home_file(
            &format!("cannot read {}", path.display()),
            e,
        )),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| EngineError::internal(format!("cannot serialise {}: {e}", path.display())))?;
    bytes.push(b'\n');
    home::write_private_file(path, &bytes)
}
