//! The shared allowlist: one list for everyone bound to a prefix, kept in
//! OpenBao as the KV entry at the prefix itself (`<mount>/<prefix>`, field
//! `allowlist`, an array of entries in the local allowlist's forms).
//!
//! OpenBao policy decides who may change it: members hold capabilities on
//! `<mount>/data/<prefix>/*` (the secrets) and `read` on
//! `<mount>/data/<prefix>` (the list); only admins hold `create`/`update`
//! on `<mount>/data/<prefix>`. Changing it from this machine also needs the
//! local admin password, like the local allowlist: an agent driving the
//! SDK can never widen it.
//!
//! A resolve-through proxy allows a bound scope's hosts from the local
//! allowlist and the shared one.

use super::errors;
use super::kv::Kv;
use crate::destination::normalize_entry;
use crate::error::Result;
use agentsecrets_wire::ErrorCode;
use serde_json::{json, Value};

const FIELD: &str = "allowlist";

/// The shared entries in canonical form; `None` when there is no list.
/// Entries that are not host patterns are dropped (they could match nothing).
pub async fn read(kv: &Kv) -> Result<Option<(Vec<String>, u64)>> {
    let Some((doc, version)) = kv.read_document(&kv.binding.prefix).await? else {
        return Ok(None);
    };
    let entries = doc[FIELD]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter_map(|e| normalize_entry(e).ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(Some((entries, version)))
}

/// The shared entries for the proxy: a list this identity may not read is
/// no list (its hosts stay refused), every other failure is the call's.
pub async fn for_proxy(kv: &Kv) -> Result<Option<Vec<String>>> {
    match read(kv).await {
        Ok(list) => Ok(list.map(|(entries, _)| entries)),
        Err(e) if e.code == ErrorCode::RemoteDenied => Ok(None),
        Err(e) => Err(e),
    }
}

/// Adds or removes `entries` (canonical) with check-and-set on the list's
/// version. Returns (changed, unchanged).
pub async fn change(kv: &Kv, entries: &[String], add: bool) -> Result<(Vec<String>, Vec<String>)> {
    let (mut list, version) = read(kv).await?.unwrap_or_default();
    let (mut changed, mut unchanged) = (Vec::new(), Vec::new());
    for e in entries {
        let present = list.contains(e);
        if present == add {
            unchanged.push(e.clone());
        } else {
            changed.push(e.clone());
            if add {
                list.push(e.clone());
            } else {
                list.retain(|x| x != e);
            }
        }
    }
    if !changed.is_empty() {
        list.sort();
        kv.write_document(
            &kv.binding.prefix,
            "the shared allowlist",
            &json!({ FIELD: list }),
            version,
        )
        .await
        .map_err(|e| {
            if e.code == ErrorCode::RemoteConflict {
                errors::conflict(&kv.binding, "allowlist").fix(
                    "someone changed the shared allowlist at the same time: run the command again",
                )
            } else {
                e
            }
        })?;
    }
    Ok((changed, unchanged))
}
