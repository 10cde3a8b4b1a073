//! The client's settings: options, then environment, then defaults, each
//! checked with an error that says how to fix it.

use crate::errors::{SdkError, SdkResult};
use agentsecrets_wire::run_files;
use napi_derive::napi;
use std::path::PathBuf;

/// The upstream proxy's and the engine's default TCP port.
pub const DEFAULT_PORT: u16 = 8765;

/// Options of the native client, already type-checked by `lib/options.js`.
#[napi(object)]
pub struct NativeClientOptions {
    /// Proxy TCP port (else `AGENTSECRETS_PORT`, else the running engine's, else 8765).
    pub port: Option<u32>,
    /// Engine home (else `AGENTSECRETS_HOME`, else `~/.agentsecrets`).
    pub home: Option<String>,
    /// Default workspace of every call (else `AGENTSECRETS_WORKSPACE`).
    pub workspace: Option<String>,
    /// Default project of every call (else `AGENTSECRETS_PROJECT`).
    pub project: Option<String>,
    /// Start the bundled engine when none answers (default true).
    pub auto_start: Option<bool>,
    /// Engine binary (else `AGENTSECRETS_CLI`).
    pub cli: Option<String>,
    /// Where a bundled engine may be, in order of preference.
    pub engine_candidates: Option<Vec<String>>,
    /// `engine` (default) or `upstream-proxy` (else `AGENTSECRETS_BACKEND`).
    pub backend: Option<String>,
}

/// Which kind of proxy the user allows the client to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// This home's engine: its Unix socket, or over TCP an engine that
    /// proves it holds the home's token; started when none runs.
    Engine,
    /// The upstream Go proxy, which cannot prove who runs it: only when the
    /// user asked for it.
    UpstreamProxy,
}

impl BackendChoice {
    pub const ENGINE: &'static str = "engine";
    pub const UPSTREAM_PROXY: &'static str = "upstream-proxy";

    pub fn as_str(self) -> &'static str {
        match self {
            BackendChoice::Engine => Self::ENGINE,
            BackendChoice::UpstreamProxy => Self::UPSTREAM_PROXY,
        }
    }

    fn parse(value: &str, source: &str) -> SdkResult<BackendChoice> {
        match value {
            Self::ENGINE => Ok(BackendChoice::Engine),
            Self::UPSTREAM_PROXY => Ok(BackendChoice::UpstreamProxy),
            _ => Err(SdkError::invalid(format!(
                "{source} {} is not a backend; use '{}' or '{}'",
                agentsecrets_wire::names::shown(value),
                Self::ENGINE,
                Self::UPSTREAM_PROXY
            ))
            .fix(format!(
                "set {source} to '{}' (the default: this package's engine) or '{}' (the upstream AgentSecrets Go proxy), or leave it unset",
                Self::ENGINE,
                Self::UPSTREAM_PROXY
            ))),
        }
    }
}

/// Resolved settings of one client.
#[derive(Debug, Clone)]
pub struct Config {
    pub home: PathBuf,
    /// Explicit port (option or `AGENTSECRETS_PORT`); 0 means "any".
    pub port: Option<u16>,
    pub workspace: Option<String>,
    pub project: Option<String>,
    pub auto_start: bool,
    /// Explicit engine binary (option or `AGENTSECRETS_CLI`).
    pub cli: Option<PathBuf>,
    /// Where the JS layer expects a bundled engine, in order.
    pub candidates: Vec<PathBuf>,
    pub backend: BackendChoice,
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    pub fn resolve(o: NativeClientOptions) -> SdkResult<Config> {
        let home = resolve_home(o.home)?;
        let port = resolve_port(o.port)?;
        let backend = match (o.backend, env_nonempty("AGENTSECRETS_BACKEND")) {
            (Some(b), _) => BackendChoice::parse(&b, "the backend option")?,
            (None, Some(b)) => BackendChoice::parse(b.trim(), "AGENTSECRETS_BACKEND")?,
            (None, None) => BackendChoice::Engine,
        };
        if backend == BackendChoice::UpstreamProxy && port == Some(0) {
            return Err(SdkError::invalid(
                "port 0 (any port) cannot name the upstream proxy, which the SDK does not start",
            )
            .fix("set `port` / AGENTSECRETS_PORT to the upstream proxy's port (it listens on 8765 by default), or unset it"));
        }
        Ok(Config {
            home,
            port,
            workspace: o
                .workspace
                .or_else(|| env_nonempty("AGENTSECRETS_WORKSPACE")),
            project: o.project.or_else(|| env_nonempty("AGENTSECRETS_PROJECT")),
            auto_start: o.auto_start.unwrap_or(true),
            cli: o
                .cli
                .or_else(|| env_nonempty("AGENTSECRETS_CLI"))
                .map(PathBuf::from),
            candidates: o
                .engine_candidates
                .unwrap_or_default()
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            backend,
        })
    }

    pub fn run_file(&self, name: &str) -> PathBuf {
        self.home.join("run").join(name)
    }

    /// A port the user named (not 0).
    pub fn explicit_port(&self) -> Option<u16> {
        self.port.filter(|p| *p != 0)
    }

    /// The caller token of this home's engine, if it wrote one.
    pub fn token(&self) -> Option<String> {
        let t = std::fs::read_to_string(self.run_file(run_files::TOKEN)).ok()?;
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }
}

fn resolve_home(home: Option<String>) -> SdkResult<PathBuf> {
    let home = match home.or_else(|| env_nonempty("AGENTSECRETS_HOME")) {
        Some(h) => PathBuf::from(h),
        None => {
            let base = env_nonempty("HOME").ok_or_else(|| {
                SdkError::invalid("neither AGENTSECRETS_HOME nor HOME is set")
                    .fix("set AGENTSECRETS_HOME to the engine's home directory")
            })?;
            PathBuf::from(base).join(".agentsecrets")
        }
    };
    Ok(std::path::absolute(&home).unwrap_or(home))
}

fn resolve_port(port: Option<u32>) -> SdkResult<Option<u16>> {
    let port = match port {
        Some(p) => Some(p),
        None => match env_nonempty("AGENTSECRETS_PORT") {
            Some(s) => Some(s.trim().parse::<u32>().map_err(|_| {
                SdkError::invalid(format!("AGENTSECRETS_PORT={s:?} is not a port number"))
                    .fix("set AGENTSECRETS_PORT to a number between 0 and 65535, or unset it")
            })?),
            None => None,
        },
    };
    port.map(|p| {
        u16::try_from(p).map_err(|_| {
            SdkError::invalid(format!("port {p} is out of range"))
                .fix("use a port between 0 and 65535")
        })
    })
    .transpose()
}
