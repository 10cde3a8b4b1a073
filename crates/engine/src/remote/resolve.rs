//! Resolve-through: the proxy reads a bound scope's values from OpenBao at
//! request time. Each binding's values are fetched together into a
//! snapshot kept in memory (never on disk) for the binding's cache TTL
//! (default 30 s; 0 fetches on every call). A snapshot that cannot be
//! refreshed is never injected from: the call fails with the remote's typed
//! error. Other bindings' last snapshots still serve redaction.
//!
//! The snapshots of every resolve binding take part in redaction, so an
//! answer is scanned for every value the caller could inject. A snapshot
//! also holds the binding's shared allowlist (see `shared_allowlist`).

use super::binding::{self, Binding, Mode};
use super::kv::Kv;
use super::shared_allowlist;
use crate::error::Result;
use crate::vault::{check_key_name, secret_not_found, Scope, Vault};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

/// A missing key triggers a fresh fetch only when the snapshot is at least
/// this old, so a caller asking for absent names cannot flood the server.
const MISS_REFRESH_AFTER: Duration = Duration::from_secs(1);

/// Secrets read from OpenBao at once while a snapshot is fetched.
const PARALLEL_READS: usize = 8;

/// One binding's values at one moment.
pub struct Snapshot {
    fetched: Instant,
    /// `KEY`, or `project/KEY` for a workspace binding → value.
    values: HashMap<String, Zeroizing<String>>,
    /// Changes exactly when the values do (a keyed hash, in memory only).
    pub fingerprint: u64,
    /// The shared allowlist's entries, when there is one this identity may read.
    allowlist: Option<Vec<String>>,
}

struct Remote {
    kv: Kv,
    slot: Mutex<Slot>,
}

/// The last snapshot fetched (kept after a failed refresh, for redaction
/// only) and when a refresh last failed.
#[derive(Default)]
struct Slot {
    snapshot: Option<Arc<Snapshot>>,
    failed_at: Option<Instant>,
}

/// The resolve-mode bindings of a running proxy.
pub struct Resolver {
    remotes: Vec<Remote>,
    hasher: RandomState,
}

/// What a call sees: every binding's current snapshot, and which binding
/// serves the call's scope.
pub struct View {
    pub snapshots: Vec<Arc<Snapshot>>,
    bound: Option<usize>,
    resolver: Arc<Resolver>,
}

impl Resolver {
    /// The resolver for the resolve-mode bindings among `all`; `None` when there is none.
    pub fn new(all: Vec<Binding>, vault: &Vault) -> Result<Option<Resolver>> {
        let remotes = all
            .into_iter()
            .filter(|b| b.mode == Mode::Resolve)
            .map(|b| {
                Ok(Remote {
                    kv: Kv::new(b, vault)?,
                    slot: Mutex::new(Slot::default()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((!remotes.is_empty()).then(|| Resolver {
            remotes,
            hasher: RandomState::new(),
        }))
    }

    /// The snapshots for a call on `workspace/project` that injects `keys`:
    /// the serving binding's fresh (or the call fails), every other
    /// binding's for redaction only (see [`Resolver::for_redaction`]).
    pub async fn view(
        self: &Arc<Self>,
        workspace: &str,
        project: &str,
        keys: &[String],
    ) -> Result<View> {
        let bindings: Vec<Binding> = self.remotes.iter().map(|r| r.kv.binding.clone()).collect();
        let bound = super::store::for_scope(&bindings, workspace, project)
            .and_then(|b| bindings.iter().position(|x| std::ptr::eq(x, b)));
        let mut snapshots = Vec::with_capacity(self.remotes.len());
        for (i, remote) in self.remotes.iter().enumerate() {
            let snapshot = if Some(i) == bound {
                let wanted: Vec<String> = keys
                    .iter()
                    .map(|k| relative(&remote.kv.binding, project, k))
                    .collect();
                self.fresh(remote, &wanted).await?
            } else {
                self.for_redaction(remote).await
            };
            snapshots.push(snapshot);
        }
        Ok(View {
            snapshots,
            bound,
            resolver: self.clone(),
        })
    }

    /// The serving binding's snapshot, fetched again when older than its
    /// TTL, or when it lacks one of `wanted` and is older than
    /// [`MISS_REFRESH_AFTER`]. A failed refresh is the call's error: no
    /// value is ever injected from an expired snapshot.
    async fn fresh(&self, remote: &Remote, wanted: &[String]) -> Result<Arc<Snapshot>> {
        let mut slot = remote.slot.lock().await;
        if let Some(s) = slot.snapshot.as_ref() {
            let age = s.fetched.elapsed();
            let complete = wanted.iter().all(|k| s.values.contains_key(k));
            if age < remote.kv.binding.cache_ttl() && (complete || age < MISS_REFRESH_AFTER) {
                return Ok(s.clone());
            }
        }
        self.refresh(remote, &mut slot).await
    }

    /// Another binding's values, only to scan answers for. When its server
    /// cannot be reached the last snapshot stands in (every value this
    /// engine ever injected from it is there; none was injected without
    /// one), and it is tried again only after [`MISS_REFRESH_AFTER`]: a
    /// binding that is down does not stop calls on other scopes.
    async fn for_redaction(&self, remote: &Remote) -> Arc<Snapshot> {
        let mut slot = remote.slot.lock().await;
        let fresh = slot
            .snapshot
            .as_ref()
            .is_some_and(|s| s.fetched.elapsed() < remote.kv.binding.cache_ttl());
        let resting = slot
            .failed_at
            .is_some_and(|t| t.elapsed() < MISS_REFRESH_AFTER);
        if !fresh && !resting {
            if let Ok(s) = self.refresh(remote, &mut slot).await {
                return s;
            }
        }
        slot.snapshot
            .clone()
            .unwrap_or_else(|| Arc::new(self.empty()))
    }

    async fn refresh(&self, remote: &Remote, slot: &mut Slot) -> Result<Arc<Snapshot>> {
        match self.fetch(&remote.kv).await {
            Ok(s) => {
                let s = Arc::new(s);
                *slot = Slot {
                    snapshot: Some(s.clone()),
                    failed_at: None,
                };
                Ok(s)
            }
            Err(e) => {
                slot.failed_at = Some(Instant::now());
                Err(e)
            }
        }
    }

    /// A snapshot with no value: a binding never fetched has nothing to scan for.
    fn empty(&self) -> Snapshot {
        let values = HashMap::new();
        Snapshot {
            fetched: Instant::now(),
            fingerprint: self.fingerprint(&values),
            values,
            allowlist: None,
        }
    }

    async fn fetch(&self, kv: &Kv) -> Result<Snapshot> {
        let fetched = Instant::now();
        let b = &kv.binding;
        let mut values = HashMap::new();
        let folders: Vec<String> = if is_workspace_binding(b) {
            kv.list(&b.prefix)
                .await?
                .into_iter()
                .filter_map(|e| e.strip_suffix('/').map(str::to_owned))
                .collect()
        } else {
            vec![String::new()]
        };
        let mut wanted = Vec::new();
        for folder in folders {
            let path = binding::join(&b.prefix, &folder);
            for key in kv.list(&path).await? {
                if !key.ends_with('/') && check_key_name(&key).is_ok() {
                    wanted.push((
                        binding::join(&folder, &key),
                        binding::join(&path, &key),
                        key,
                    ));
                }
            }
        }
        // The reads go out together, a few at a time: one round trip's
        // latency for a handful of secrets instead of one per secret.
        for batch in wanted.chunks(PARALLEL_READS) {
            let reads: Vec<_> = batch
                .iter()
                .map(|(_, path, key)| kv.read(path, key))
                .collect();
            for ((rel, _, _), read) in batch
                .iter()
                .zip(futures_util::future::join_all(reads).await)
            {
                if let Some(v) = read? {
                    values.insert(rel.clone(), v.value);
                }
            }
        }
        let fingerprint = self.fingerprint(&values);
        let allowlist = shared_allowlist::for_proxy(kv).await?;
        Ok(Snapshot {
            fetched,
            values,
            fingerprint,
            allowlist,
        })
    }

    fn fingerprint(&self, values: &HashMap<String, Zeroizing<String>>) -> u64 {
        let mut sorted: Vec<_> = values.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let mut h = self.hasher.build_hasher();
        for (k, v) in sorted {
            k.hash(&mut h);
            v.as_str().hash(&mut h);
        }
        h.finish()
    }
}

impl View {
    /// Whether the call's scope is served by a remote.
    pub fn is_bound(&self) -> bool {
        self.bound.is_some()
    }

    /// The value of `key` for `project` from the serving binding's snapshot.
    pub fn value(&self, project: &str, key: &str) -> Option<Zeroizing<String>> {
        let i = self.bound?;
        let b = &self.resolver.remotes[i].kv.binding;
        self.snapshots[i]
            .values
            .get(&relative(b, project, key))
            .cloned()
    }

    /// The secrets of `project` from the serving binding's snapshot: all of
    /// them, or only `keys` (each must exist). For `env`.
    pub fn secrets(
        &self,
        scope: &Scope,
        keys: Option<&[String]>,
    ) -> Result<Vec<(String, Zeroizing<String>)>> {
        let Some(i) = self.bound else {
            return Ok(Vec::new());
        };
        let b = &self.resolver.remotes[i].kv.binding;
        match keys {
            Some(keys) => keys
                .iter()
                .map(|k| {
                    check_key_name(k)?;
                    let v = self
                        .value(&scope.project, k)
                        .ok_or_else(|| secret_not_found(scope, k))?;
                    Ok((k.clone(), v))
                })
                .collect(),
            None => {
                let mut all: Vec<(String, Zeroizing<String>)> = self.snapshots[i]
                    .values
                    .iter()
                    .filter_map(|(rel, v)| {
                        let key = match rel.split_once('/') {
                            Some((p, k)) if is_workspace_binding(b) && p == scope.project => k,
                            None if !is_workspace_binding(b) => rel.as_str(),
                            _ => return None,
                        };
                        Some((key.to_owned(), v.clone()))
                    })
                    .collect();
                all.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(all)
            }
        }
    }

    /// The serving binding's shared allowlist entries (empty without one).
    pub fn shared_allowlist(&self) -> &[String] {
        self.bound
            .and_then(|i| self.snapshots[i].allowlist.as_deref())
            .unwrap_or_default()
    }

    /// The serving binding, for messages.
    pub fn binding(&self) -> Option<&Binding> {
        self.bound.map(|i| &self.resolver.remotes[i].kv.binding)
    }

    /// Identifies the set of remote values (for the redaction pattern cache).
    pub fn fingerprint(&self) -> u64 {
        let mut h = self.resolver.hasher.build_hasher();
        for s in &self.snapshots {
            s.fingerprint.hash(&mut h);
        }
        h.finish()
    }

    /// Every remote value the caller could inject.
    pub fn every_value(&self) -> impl Iterator<Item = &str> + Clone {
        self.snapshots
            .iter()
            .flat_map(|s| s.values.values().map(|v| v.as_str()))
    }
}

fn is_workspace_binding(b: &Binding) -> bool {
    b.workspace.is_some() && b.project.is_none()
}

/// The snapshot key of `key` in `project`.
fn relative(b: &Binding, project: &str, key: &str) -> String {
    if is_workspace_binding(b) {
        binding::join(project, key)
    } else {
        key.to_owned()
    }
}
