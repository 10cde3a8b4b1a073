//! OpenBao / HashiCorp Vault (KV version 2) as the shared secret source of
//! a workspace or project.
//!
//! * [`binding`]: what a binding says (address, mount, prefix, auth, mode).
//! * [`store`]: where bindings and sync state live, and `AGENTSECRETS_REMOTE`.
//! * [`kv`]: the KV v2 HTTP client (retries, typed errors).
//! * [`resolve`]: resolve-through mode, values read at request time.
//! * [`sync`]: sync mode, `secrets pull|push|diff` with check-and-set.
//! * [`shared_allowlist`]: the workspace allowlist kept in OpenBao.
//! * [`errors`]: the typed errors.
//!
//! KV layout: a project's secret `KEY` is the entry `<mount>/<prefix>/KEY`
//! (a workspace binding: `<mount>/<prefix>/<project>/KEY`) holding one field,
//! `value`.

pub mod binding;
pub mod errors;
pub mod kv;
pub mod resolve;
pub mod shared_allowlist;
pub mod store;
pub mod sync;
