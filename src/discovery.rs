//! Finding the backend the client is bound to, without ever sending the
//! token or a request to a listener that has not shown it is ours.
//!
//! With the engine (the default): this home's Unix socket first (its 0700
//! directory authenticates it), then over TCP only an engine that proves it
//! holds this home's token (`agentsecrets_wire::proof`), then starting the
//! bundled engine, else a typed error. A TCP listener that does not prove
//! itself is sent nothing but the probe, whatever it claims to be. The
//! upstream Go proxy, which cannot prove anything, is used only when the user
//! chose it (`backend: 'upstream-proxy'`).

use crate::config::{BackendChoice, Config, DEFAULT_PORT};
use crate::engine_start::start_engine;
use crate::errors::{sdk_codes, SdkError, SdkResult};
use crate::platform;
use crate::probe::{self, Answer};
use crate::transport;
use agentsecrets_wire::{proof, ErrorCode, Health};
use agentsecrets_wire::{run_files, ProxyState};
use std::path::{Path, PathBuf};

/// Which proxy we talk to.
#[napi_derive::napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// This project's engine: extension protocol, engine errors, scope.
    #[napi(value = "engine")]
    Engine,
    /// The upstream Go proxy: legacy headers only.
    #[napi(value = "upstream-proxy")]
    UpstreamProxy,
}

/// How the client knows the backend is the one it means.
#[napi_derive::napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The home's Unix socket: only the home's owner can create it.
    #[napi(value = "unix-socket")]
    UnixSocket,
    /// Over TCP, the engine proved it holds the home's token.
    #[napi(value = "engine-proof")]
    EngineProof,
    /// Not at all: the upstream proxy, chosen explicitly.
    #[napi(value = "none")]
    None,
}

/// A connected backend: its kind and a pooled client that reaches it.
#[derive(Debug, Clone)]
pub struct Backend {
    pub kind: BackendKind,
    pub client: reqwest::Client,
    /// `http://127.0.0.1:<port>`; over the Unix socket only the `Host` matters.
    pub base_url: String,
    /// Caller token, sent on TCP to an engine that proved itself.
    pub token: Option<String>,
    pub via_socket: bool,
    pub auth: Auth,
    pub health: Health,
}

/// The state file the engine writes when it is ready.
fn read_state(cfg: &Config) -> Option<ProxyState> {
    let bytes = std::fs::read(cfg.run_file(run_files::STATE)).ok()?;
    ProxyState::parse(&bytes)
}

fn base_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Finds the backend `cfg` allows, starting the engine when needed.
pub async fn discover(cfg: &Config) -> SdkResult<Backend> {
    match cfg.backend {
        BackendChoice::Engine => {
            platform::engine_supported()?;
            discover_engine(cfg).await
        }
        BackendChoice::UpstreamProxy => discover_upstream(cfg).await,
    }
}

/// Our engine on `socket`, if it is there and answers as the engine.
async fn try_socket(socket: &Path, port: u16) -> SdkResult<Option<Backend>> {
    if !socket.exists() {
        return Ok(None);
    }
    let client = transport::engine_client(Some(socket))?;
    let base_url = base_url(port);
    match probe::health(&client, &base_url, None).await {
        Answer::Health { health, .. } if health.is_engine() => Ok(Some(Backend {
            kind: BackendKind::Engine,
            client,
            base_url,
            token: None,
            via_socket: true,
            auth: Auth::UnixSocket,
            health,
        })),
        _ => Ok(None),
    }
}

/// What listens on a TCP port that did not prove it is this home's engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stranger {
    /// Says it is an agentsecrets engine, without a valid proof.
    ClaimsEngine,
    /// Answers `/health` like the upstream Go proxy.
    UpstreamLike,
    /// Something else.
    Foreign,
}

enum Tcp {
    Engine(Box<Backend>),
    Stranger(Stranger),
    Free,
}

/// Challenges `127.0.0.1:port`; only an engine whose proof verifies with
/// this home's token is accepted, and only then is the token used.
async fn try_tcp_engine(cfg: &Config, port: u16) -> SdkResult<Tcp> {
    let challenge = proof::new_challenge().map_err(|e| {
        SdkError::new(
            sdk_codes::PROXY_CONNECTION,
            format!("no randomness for the engine challenge: {e}"),
        )
        .fix("report this error with your platform details")
    })?;
    let client = transport::engine_client(None)?;
    let base_url = base_url(port);
    let (health, given) = match probe::health(&client, &base_url, Some(&challenge)).await {
        Answer::Down => return Ok(Tcp::Free),
        Answer::Foreign => return Ok(Tcp::Stranger(Stranger::Foreign)),
        Answer::Health { health, proof } => (health, proof),
    };
    if !health.is_engine() {
        return Ok(Tcp::Stranger(Stranger::UpstreamLike));
    }
    let token = cfg.token();
    let proven =
        matches!((&token, &given), (Some(t), Some(p)) if proof::verify(t, &challenge, port, p));
    if !proven {
        return Ok(Tcp::Stranger(Stranger::ClaimsEngine));
    }
    Ok(Tcp::Engine(Box::new(Backend {
        kind: BackendKind::Engine,
        client,
        base_url,
        token,
        via_socket: false,
        auth: Auth::EngineProof,
        health,
    })))
}

/// TCP ports where this home's engine may listen: the one the user named;
/// else the one its state file records, and (unless the user said "any
/// port" with 0) the default port.
fn tcp_candidates(cfg: &Config, state: Option<&ProxyState>) -> Vec<u16> {
    if let Some(p) = cfg.explicit_port() {
        return vec![p];
    }
    let mut ports: Vec<u16> = state.map(|s| s.port).into_iter().collect();
    if cfg.port.is_none() && !ports.contains(&DEFAULT_PORT) {
        ports.push(DEFAULT_PORT);
    }
    ports
}

async fn discover_engine(cfg: &Config) -> SdkResult<Backend> {
    let state = read_state(cfg);
    let socket = state
        .as_ref()
        .map(|s| PathBuf::from(&s.socket))
        .unwrap_or_else(|| cfg.run_file(run_files::SOCKET));
    let state_port = state.as_ref().map_or(DEFAULT_PORT, |s| s.port);
    if let Some(b) = try_socket(&socket, state_port).await? {
        return Ok(b);
    }
    let mut strangers = Vec::new();
    for port in tcp_candidates(cfg, state.as_ref()) {
        match try_tcp_engine(cfg, port).await? {
            Tcp::Engine(b) => return Ok(*b),
            Tcp::Stranger(s) => strangers.push((port, s)),
            Tcp::Free => {}
        }
    }
    if !cfg.auto_start {
        return Err(match strangers.first() {
            Some((port, s)) if cfg.explicit_port().is_some() => {
                stranger_on_explicit_port(cfg, *port, *s)
            }
            _ => not_running(cfg, "autoStart is off", &strangers),
        });
    }
    let ready = start_engine(cfg, start_port(cfg, &strangers)).await?;
    let socket = PathBuf::from(ready.socket);
    if let Some(b) = try_socket(&socket, ready.port).await? {
        return Ok(b);
    }
    if let Tcp::Engine(b) = try_tcp_engine(cfg, ready.port).await? {
        return Ok(*b);
    }
    Err(SdkError::new(
        sdk_codes::PROXY_CONNECTION,
        format!(
            "the engine reported ready on port {} but does not answer on its socket, nor prove itself on that port",
            ready.port
        ),
    )
    .fix("run `agentsecrets proxy status`, and see $AGENTSECRETS_HOME/run/proxy.err"))
}

/// The port to start the engine on: the one the user named, or the
/// engine's default, unless a stranger holds it; then any free one, so that
/// a squatter cannot stop the engine from starting (the SDK reaches it on
/// its socket). 0 (the user's "any") stays 0.
fn start_port(cfg: &Config, strangers: &[(u16, Stranger)]) -> Option<u16> {
    let wanted = cfg.port.unwrap_or(DEFAULT_PORT);
    if strangers.iter().any(|(p, _)| *p == wanted) {
        Some(0)
    } else {
        cfg.port
    }
}

fn describe(port: u16, s: Stranger) -> String {
    match s {
        Stranger::ClaimsEngine => format!(
            "127.0.0.1:{port} answers as an agentsecrets engine but did not prove it holds this home's token"
        ),
        Stranger::UpstreamLike => format!(
            "a proxy answered on 127.0.0.1:{port} like the upstream AgentSecrets proxy but was not used: it cannot prove who runs it"
        ),
        Stranger::Foreign => format!("127.0.0.1:{port} answers, but not as an agentsecrets proxy"),
    }
}

const UPSTREAM_OPT_IN: &str = "to use the upstream AgentSecrets proxy there, choose it explicitly: new AgentSecrets({ backend: 'upstream-proxy', port }) or AGENTSECRETS_BACKEND=upstream-proxy";

fn stranger_on_explicit_port(cfg: &Config, port: u16, s: Stranger) -> SdkError {
    let home = cfg.home.display();
    match s {
        Stranger::ClaimsEngine => SdkError::new(
            ErrorCode::ProxyAuthRequired.as_str(),
            format!("{}, {home}; nothing was sent to it", describe(port, s)),
        )
        .fix("set AGENTSECRETS_HOME to the home of the engine on that port, or unset `port` / AGENTSECRETS_PORT to use (or start) this home's own engine"),
        Stranger::UpstreamLike => SdkError::new(
            sdk_codes::ENGINE_NOT_RUNNING,
            format!("no agentsecrets engine is running for {home}; {}", describe(port, s)),
        )
        .fix(format!("{UPSTREAM_OPT_IN}; or stop what listens on 127.0.0.1:{port}, or unset `port` / AGENTSECRETS_PORT, and let the SDK start its engine")),
        Stranger::Foreign => SdkError::new(
            sdk_codes::PROXY_CONNECTION,
            format!("{}; nothing was sent to it", describe(port, s)),
        )
        .fix("point `port` / AGENTSECRETS_PORT at the agentsecrets engine, or stop what listens there"),
    }
}

fn not_running(cfg: &Config, why: &str, strangers: &[(u16, Stranger)]) -> SdkError {
    let mut message = format!(
        "no agentsecrets proxy is running for {} ({why})",
        cfg.home.display()
    );
    for (port, s) in strangers {
        message.push_str("; ");
        message.push_str(&describe(*port, *s));
    }
    let mut fix = String::from(
        "set up once and start the proxy:\n  agentsecrets init\n  agentsecrets secrets set MY_KEY   (the value is read from stdin)\n  agentsecrets workspace allowlist add api.example.com\n  agentsecrets proxy start\nor let the SDK start it: new AgentSecrets({ autoStart: true })",
    );
    if strangers.iter().any(|(_, s)| *s == Stranger::UpstreamLike) {
        fix.push_str("\nor, ");
        fix.push_str(UPSTREAM_OPT_IN);
    }
    SdkError::new(sdk_codes::ENGINE_NOT_RUNNING, message).fix(fix)
}

/// The upstream Go proxy on the user's port (default 8765). It never gets
/// the token (it has no use for it) and is never started by the SDK.
async fn discover_upstream(cfg: &Config) -> SdkResult<Backend> {
    let port = cfg.explicit_port().unwrap_or(DEFAULT_PORT);
    let client = transport::engine_client(None)?;
    let base_url = base_url(port);
    match probe::health(&client, &base_url, None).await {
        Answer::Health { health, .. } if health.is_engine() => Err(SdkError::new(
            sdk_codes::BACKEND_UNSUPPORTED,
            format!("127.0.0.1:{port} is an agentsecrets engine, not the upstream AgentSecrets proxy the backend option asks for"),
        )
        .fix("drop `backend: 'upstream-proxy'` / AGENTSECRETS_BACKEND to use the engine (its socket, or its token over TCP)")
        .backend(BackendChoice::UPSTREAM_PROXY)),
        Answer::Health { health, .. } => Ok(Backend {
            kind: BackendKind::UpstreamProxy,
            client,
            base_url,
            token: None,
            via_socket: false,
            auth: Auth::None,
            health,
        }),
        Answer::Foreign => Err(SdkError::new(
            sdk_codes::PROXY_CONNECTION,
            format!("127.0.0.1:{port} answers, but not as the upstream AgentSecrets proxy"),
        )
        .fix("point `port` / AGENTSECRETS_PORT at the upstream proxy, or stop what listens there")),
        Answer::Down => Err(SdkError::new(
            sdk_codes::ENGINE_NOT_RUNNING,
            format!("no upstream AgentSecrets proxy answers on 127.0.0.1:{port} (backend 'upstream-proxy')"),
        )
        .fix("start it with `agentsecrets proxy start` (the upstream CLI) and set `port` / AGENTSECRETS_PORT to its port, or drop `backend: 'upstream-proxy'` / AGENTSECRETS_BACKEND to use the bundled engine")
        .backend(BackendChoice::UPSTREAM_PROXY)),
    }
}
