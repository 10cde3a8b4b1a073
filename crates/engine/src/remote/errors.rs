//! The typed errors of a bound remote. Each names the server and, where it
//! applies, the path or secret key; none carries a token or a value.

use super::binding::{Binding, Source};
use crate::error::EngineError;
use agentsecrets_wire::ErrorCode;
use http::StatusCode;

pub fn unreachable(b: &Binding) -> EngineError {
    EngineError::new(
        ErrorCode::RemoteUnreachable,
        format!("OpenBao at {} did not answer (after retries)", b.address),
    )
    .fix("check that the server is running and reachable from this machine (address, network, TLS certificate), then retry")
}

pub fn sealed(b: &Binding) -> EngineError {
    EngineError::new(
        ErrorCode::RemoteSealed,
        format!("OpenBao at {} is sealed", b.address),
    )
    .fix("ask an operator to unseal it (`bao operator unseal`), then retry")
}

pub fn denied(b: &Binding, path: &str, key: &str) -> EngineError {
    let e = EngineError::new(
        ErrorCode::RemoteDenied,
        format!("OpenBao at {} denied {path} by policy", b.address),
    )
    .fix("grant the binding's token or AppRole a policy with the needed capability on that path (see README, Teams and CI)");
    with_key(e, key)
}

pub fn expired(b: &Binding) -> EngineError {
    EngineError::new(
        ErrorCode::SessionExpired,
        format!("the token for OpenBao at {} expired or was revoked", b.address),
    )
    .fix("give the binding a fresh token (the variable or file it reads), or use AppRole so the engine logs in again by itself")
}

pub fn login_refused(b: &Binding) -> EngineError {
    EngineError::new(
        ErrorCode::SessionExpired,
        format!("OpenBao at {} refused the AppRole login", b.address),
    )
    .fix("issue a new secret id (`bao write -f auth/approle/role/ROLE/secret-id`) and put it where the binding reads it")
}

pub fn conflict(b: &Binding, key: &str) -> EngineError {
    EngineError::new(
        ErrorCode::RemoteConflict,
        format!(
            "{key} changed on OpenBao at {} since this machine last pulled it",
            b.address
        ),
    )
    .key(key)
    .fix("run `agentsecrets secrets pull` (or `secrets diff` to compare), then push again")
}

pub fn bad_shape(b: &Binding, key: &str) -> EngineError {
    let what = if key.is_empty() {
        "an answer".to_owned()
    } else {
        format!("secret {key}")
    };
    with_key(
        EngineError::new(
            ErrorCode::Internal,
            format!("OpenBao at {} sent {what} this engine cannot read", b.address),
        )
        .fix("store each secret as a KV v2 entry with one field `value` (as `secrets push` does), and check that the mount is KV version 2"),
        key,
    )
}

/// Any other failing status.
pub fn status(
    b: &Binding,
    status: StatusCode,
    path: &str,
    key: &str,
    sealed_body: bool,
) -> EngineError {
    if status == StatusCode::SERVICE_UNAVAILABLE && sealed_body {
        return sealed(b);
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return unreachable(b);
    }
    with_key(
        EngineError::new(
            ErrorCode::Internal,
            format!("OpenBao at {} answered {} to {path}", b.address, status.as_u16()),
        )
        .fix("check the binding's mount and prefix (`agentsecrets remote show`) and the server's log"),
        key,
    )
}

pub fn credential_missing(what: &str, source: &Source) -> EngineError {
    let (fix, place) = match source {
        Source::Env(name) => (
            format!("set the environment variable {name} for the engine (it is read at start and on each login)"),
            format!("environment variable {name}"),
        ),
        Source::File(path) => (
            format!("put the {what} alone in {path} (mode 0600)"),
            format!("file {path}"),
        ),
        Source::Vault(_) => (
            "store it again: `agentsecrets remote set ... --token-stdin`".to_owned(),
            "the vault".to_owned(),
        ),
    };
    EngineError::new(
        ErrorCode::SessionExpired,
        format!(
            "no usable {what} for the remote in {place} (missing, empty, or not printable ASCII)"
        ),
    )
    .fix(fix)
}

pub fn credential_exposed(what: &str, path: &str) -> EngineError {
    EngineError::new(
        ErrorCode::InvalidRequest,
        format!("the {what} file {path} is readable by other users"),
    )
    .fix(format!("run `chmod 600 {path}`"))
}

fn with_key(e: EngineError, key: &str) -> EngineError {
    if key.is_empty() {
        e
    } else {
        e.key(key)
    }
}

pub fn not_bound(scope: &crate::vault::Scope) -> EngineError {
    EngineError::new(
        ErrorCode::Unsupported,
        format!(
            "{}/{} is not bound to a remote",
            scope.workspace, scope.project
        ),
    )
    .workspace(&scope.workspace)
    .project(&scope.project)
    .fix("bind it to a team backend (OpenBao / Vault KV v2) first: `agentsecrets remote set --address https://bao.example.com:8200 --mode sync --token-env BAO_TOKEN`")
}
