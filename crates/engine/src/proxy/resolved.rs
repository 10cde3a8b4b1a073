//! What calls resolve from the vault (scope, workspace allowlist, injected
//! values, the patterns of every value), kept in memory until the home
//! changes: a call that finds its entry reads nothing from the vault and
//! takes no lock on it. Two checks, both on every call, drop every entry:
//! the vault's [commit stamp](crate::vault::commit_stamp) differs from the
//! one taken before the entries were read (something was committed), or
//! the [`HomeWatch`] saw a file of the home change (the active scope in
//! `config.json`, a vault file replaced).
//!
//! Holding injected values decrypted between calls costs the at-rest
//! promise nothing: the engine already holds every value of the home in
//! memory, in its redaction patterns. Both live only in this process, are
//! wiped when dropped and never reach disk. Without a working watch
//! (not Linux, or the watch was lost) nothing is kept.

use crate::home::Home;
use crate::home_watch::HomeWatch;
use crate::redact::Patterns;
use crate::vault::commit_stamp::{CommitStamps, Stamp};
use crate::vault::Scope;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// Secret name → value, wiped when dropped.
pub type Values = HashMap<String, Zeroizing<String>>;

/// One call's resolution.
pub struct Resolved {
    pub scope: Scope,
    /// The workspace's allowlist (empty when the call injects nothing).
    pub allowlist: Vec<String>,
    pub values: Values,
    pub patterns: Arc<Patterns>,
}

/// What a resolution depends on besides the vault: the scope asked for and
/// the names injected.
#[derive(PartialEq, Eq, Hash)]
pub struct Key {
    pub workspace: Option<String>,
    pub project: Option<String>,
    pub secrets: Vec<String>,
}

/// Entries kept at most; past that the cache starts over, so that a caller
/// cycling through names cannot grow the engine.
const MAX_ENTRIES: usize = 256;

pub struct ResolvedCache {
    watch: HomeWatch,
    vault_path: std::path::PathBuf,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Reopened after a change to the home if the WAL index is a new file.
    stamps: Option<CommitStamps>,
    /// The commit stamp taken before every entry was read.
    stamp: Option<Stamp>,
    entries: HashMap<Key, Arc<Resolved>>,
}

/// Where a resolution came from.
pub enum Found {
    /// Kept from an earlier call: its destination is not checked yet.
    Kept(Arc<Resolved>),
    /// Read from the vault just now, destination checked.
    Read(Arc<Resolved>),
}

impl ResolvedCache {
    pub fn new(home: &Home) -> ResolvedCache {
        let vault_path = home.vault_path();
        let watch = HomeWatch::new(home, &home.audit_log_path());
        let stamps = watch
            .works()
            .then(|| CommitStamps::open(&vault_path))
            .flatten();
        ResolvedCache {
            watch,
            state: Mutex::new(State {
                stamps,
                ..State::default()
            }),
            vault_path,
        }
    }

    /// The entry for `key`, or `read`'s, kept for later calls. The stamp
    /// is taken before `read` runs, and the lock is held throughout, so no
    /// entry can outlive a commit or a change the watch saw.
    pub fn get_or_read<E>(
        &self,
        key: Key,
        read: impl FnOnce() -> Result<Resolved, E>,
    ) -> Result<Found, E> {
        if !self.watch.works() {
            return read().map(|r| Found::Read(Arc::new(r)));
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if self.watch.changed() {
            state.entries.clear();
            state.stamps = CommitStamps::reopen(state.stamps.take(), &self.vault_path);
        }
        let stamp = state.stamps.as_ref().and_then(CommitStamps::now);
        if stamp.is_none() || stamp != state.stamp {
            state.entries.clear();
            state.stamp = stamp;
        }
        if let Some(kept) = state.entries.get(&key) {
            return Ok(Found::Kept(kept.clone()));
        }
        let read = Arc::new(read()?);
        if stamp.is_some() && self.watch.works() {
            if state.entries.len() >= MAX_ENTRIES {
                state.entries.clear();
            }
            state.entries.insert(key, read.clone());
        }
        Ok(Found::Read(read))
    }
}
