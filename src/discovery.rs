//! Finding the backend: explicit options and environment, then a proxy that
//! already answers `/health` (our engine on its Unix socket or TCP port, or the
//! upstream Go proxy), then starting the bundled engine, else a typed error
//! with setup steps.

use crate::errors::{sdk_codes, SdkError, SdkResult};
use crate::transport;
use agentsecrets_wire::headers::run_files;
use agentsecrets_wire::{EngineErrorBody, ErrorCode, Health};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The upstream proxy's and the engine's default TCP port.
pub const DEFAULT_PORT: u16 = 8765;
/// How long a `/health` probe may take; it is local, so this is generous.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// Upper bound on `proxy start --detach`.
const START_TIMEOUT: Duration = Duration::from_secs(20);

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
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    pub fn resolve(
        home: Option<String>,
        port: Option<u32>,
        workspace: Option<String>,
        project: Option<String>,
        auto_start: Option<bool>,
        cli: Option<String>,
        candidates: Vec<String>,
    ) -> SdkResult<Config> {
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
        let home = std::path::absolute(&home).unwrap_or(home);
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
        let port = match port {
            Some(p) => Some(u16::try_from(p).map_err(|_| {
                SdkError::invalid(format!("port {p} is out of range"))
                    .fix("use a port between 0 and 65535")
            })?),
            None => None,
        };
        Ok(Config {
            home,
            port,
            workspace: workspace.or_else(|| env_nonempty("AGENTSECRETS_WORKSPACE")),
            project: project.or_else(|| env_nonempty("AGENTSECRETS_PROJECT")),
            auto_start: auto_start.unwrap_or(true),
            cli: cli
                .or_else(|| env_nonempty("AGENTSECRETS_CLI"))
                .map(PathBuf::from),
            candidates: candidates.into_iter().map(PathBuf::from).collect(),
        })
    }

    fn run_file(&self, name: &str) -> PathBuf {
        self.home.join("run").join(name)
    }
}

/// Which proxy we talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// This project's engine: extension protocol, engine errors, scope.
    Engine,
    /// The upstream Go proxy: legacy headers only.
    UpstreamProxy,
}

/// A connected backend: its kind and a pooled client that reaches it.
#[derive(Debug, Clone)]
pub struct Backend {
    pub kind: BackendKind,
    pub client: reqwest::Client,
    /// `http://127.0.0.1:<port>`; over the Unix socket only the `Host` matters.
    pub base_url: String,
    /// Caller token, sent on TCP.
    pub token: Option<String>,
    pub via_socket: bool,
    pub health: Health,
}

/// The state file the engine writes when it is ready.
#[derive(Debug, Deserialize)]
struct StateFile {
    port: u16,
    #[serde(default)]
    socket: Option<String>,
}

fn read_state(cfg: &Config) -> Option<StateFile> {
    let bytes = std::fs::read(cfg.run_file(run_files::STATE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn read_token(cfg: &Config) -> Option<String> {
    let t = std::fs::read_to_string(cfg.run_file(run_files::TOKEN)).ok()?;
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Outcome of one `/health` probe.
enum Probe {
    Healthy(Health),
    /// Something answered that is not an agentsecrets proxy.
    Foreign,
    /// Nothing accepted the connection.
    Down,
}

async fn probe(client: &reqwest::Client, base_url: &str) -> Probe {
    let res = client
        .get(format!("{base_url}/health"))
        .timeout(HEALTH_TIMEOUT)
        .send()
        .await;
    let Ok(res) = res else {
        return Probe::Down;
    };
    if !res.status().is_success() {
        return Probe::Foreign;
    }
    match res.bytes().await {
        Ok(b) => match serde_json::from_slice::<Health>(&b) {
            Ok(h) if h.status == "ok" => Probe::Healthy(h),
            _ => Probe::Foreign,
        },
        Err(_) => Probe::Foreign,
    }
}

/// Our engine on its Unix socket, if it is there and answers.
async fn try_socket(cfg: &Config, socket: &Path, port: Option<u16>) -> SdkResult<Option<Backend>> {
    if !socket.exists() {
        return Ok(None);
    }
    let port = port
        .or_else(|| read_state(cfg).map(|s| s.port))
        .unwrap_or(DEFAULT_PORT);
    let base_url = format!("http://127.0.0.1:{port}");
    let client = transport::engine_client(Some(socket))?;
    match probe(&client, &base_url).await {
        Probe::Healthy(health) if health.is_engine() => Ok(Some(Backend {
            kind: BackendKind::Engine,
            client,
            base_url,
            token: read_token(cfg),
            via_socket: true,
            health,
        })),
        _ => Ok(None),
    }
}

/// Whatever answers on `127.0.0.1:port`.
async fn try_tcp(cfg: &Config, port: u16, explicit: bool) -> SdkResult<Option<Backend>> {
    let base_url = format!("http://127.0.0.1:{port}");
    let client = transport::engine_client(None)?;
    match probe(&client, &base_url).await {
        Probe::Healthy(health) if health.is_engine() => {
            let token = read_token(cfg).ok_or_else(|| {
                SdkError::new(
                    ErrorCode::ProxyAuthRequired.as_str(),
                    format!(
                        "an agentsecrets engine answers on 127.0.0.1:{port}, but {} has no caller token: it belongs to another home",
                        cfg.home.display()
                    ),
                )
                .fix("set AGENTSECRETS_HOME to the home of the running engine, or use another port (`port` option / AGENTSECRETS_PORT)")
            })?;
            Ok(Some(Backend {
                kind: BackendKind::Engine,
                client,
                base_url,
                token: Some(token),
                via_socket: false,
                health,
            }))
        }
        Probe::Healthy(health) => Ok(Some(Backend {
            kind: BackendKind::UpstreamProxy,
            client,
            base_url,
            token: None,
            via_socket: false,
            health,
        })),
        Probe::Foreign if explicit => Err(SdkError::new(
            sdk_codes::PROXY_CONNECTION,
            format!("127.0.0.1:{port} answers, but not as an agentsecrets proxy"),
        )
        .fix("point `port` / AGENTSECRETS_PORT at the agentsecrets proxy, or stop what listens there")),
        Probe::Foreign | Probe::Down => Ok(None),
    }
}

/// Finds a running backend, or starts the bundled engine.
pub async fn discover(cfg: &Config) -> SdkResult<Backend> {
    let state = read_state(cfg);
    let socket = state
        .as_ref()
        .and_then(|s| s.socket.clone())
        .map(PathBuf::from)
        .unwrap_or_else(|| cfg.run_file(run_files::SOCKET));
    let explicit_port = cfg.port.filter(|p| *p != 0);
    // An explicit port names the proxy to use, unless it is this home's own
    // engine, which is reached faster on its socket.
    let socket_first = match (explicit_port, &state) {
        (Some(p), Some(s)) => s.port == p,
        (Some(_), None) => false,
        (None, _) => true,
    };
    if socket_first {
        if let Some(b) = try_socket(cfg, &socket, None).await? {
            return Ok(b);
        }
    }
    let tcp_port = match cfg.port {
        Some(0) => None,
        Some(p) => Some(p),
        None => Some(state.as_ref().map(|s| s.port).unwrap_or(DEFAULT_PORT)),
    };
    if let Some(port) = tcp_port {
        if let Some(b) = try_tcp(cfg, port, explicit_port.is_some()).await? {
            return Ok(b);
        }
    }
    if !socket_first {
        if let Some(b) = try_socket(cfg, &socket, None).await? {
            return Ok(b);
        }
    }
    if !cfg.auto_start {
        return Err(not_running(cfg, "autoStart is off"));
    }
    let ready = start_engine(cfg).await?;
    let socket = ready.socket.map(PathBuf::from).unwrap_or(socket);
    if let Some(b) = try_socket(cfg, &socket, Some(ready.port)).await? {
        return Ok(b);
    }
    if let Some(b) = try_tcp(cfg, ready.port, true).await? {
        return Ok(b);
    }
    Err(SdkError::new(
        sdk_codes::PROXY_CONNECTION,
        format!(
            "the engine reported ready on port {} but does not answer",
            ready.port
        ),
    )
    .fix("run `agentsecrets proxy status`, and see $AGENTSECRETS_HOME/run/proxy.err"))
}

fn not_running(cfg: &Config, why: &str) -> SdkError {
    SdkError::new(
        sdk_codes::ENGINE_NOT_RUNNING,
        format!(
            "no agentsecrets proxy is running for {} ({why})",
            cfg.home.display()
        ),
    )
    .fix(
        "set up once and start the proxy:\n  agentsecrets init\n  agentsecrets secrets set MY_KEY   (the value is read from stdin)\n  agentsecrets workspace allowlist add api.example.com\n  agentsecrets proxy start\nor let the SDK start it: new AgentSecrets({ autoStart: true })",
    )
}

/// The Ready line `proxy start --detach` prints.
#[derive(Debug, Deserialize)]
struct Ready {
    port: u16,
    #[serde(default)]
    socket: Option<String>,
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Where [`locate_engine`] found the engine binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineOrigin {
    /// `AGENTSECRETS_CLI` or the `cli` option.
    Explicit,
    /// One of the candidates the JS layer passed: shipped with the package.
    Bundled,
    /// The first `agentsecrets` on `PATH`.
    Path,
}

/// The engine binary to start: explicit, then bundled candidates, then `PATH`.
pub fn find_engine(cfg: &Config) -> SdkResult<PathBuf> {
    locate_engine(cfg).map(|(p, _)| p)
}

/// [`find_engine`], with where the binary was found.
pub fn locate_engine(cfg: &Config) -> SdkResult<(PathBuf, EngineOrigin)> {
    if let Some(cli) = &cfg.cli {
        if is_executable(cli) {
            return Ok((cli.clone(), EngineOrigin::Explicit));
        }
        return Err(SdkError::new(
            sdk_codes::CLI_NOT_FOUND,
            format!("the engine binary {} (AGENTSECRETS_CLI / `cli` option) is not an executable file", cli.display()),
        )
        .fix("point AGENTSECRETS_CLI at the `agentsecrets` binary, or unset it to use the bundled one"));
    }
    if let Some(p) = cfg.candidates.iter().find(|p| is_executable(p)) {
        return Ok((p.clone(), EngineOrigin::Bundled));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("agentsecrets");
            if is_executable(&p) {
                return Ok((p, EngineOrigin::Path));
            }
        }
    }
    Err(SdkError::new(
        sdk_codes::CLI_NOT_FOUND,
        "no agentsecrets engine binary was found (bundled platform package, AGENTSECRETS_CLI, PATH)",
    )
    .fix("reinstall @the-17/agentsecrets for this platform, or set AGENTSECRETS_CLI to the `agentsecrets` binary"))
}

/// Runs `agentsecrets proxy start --detach` and waits for its Ready line.
/// Readiness is the line itself: no polling, no sleeps.
async fn start_engine(cfg: &Config) -> SdkResult<Ready> {
    let bin = find_engine(cfg)?;
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.arg("--json").arg("proxy").arg("start").arg("--detach");
    if let Some(p) = cfg.port {
        cmd.arg("--port").arg(p.to_string());
    }
    cmd.env("AGENTSECRETS_HOME", &cfg.home)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| {
        SdkError::new(
            sdk_codes::CLI_ERROR,
            format!("cannot run {}: {e}", bin.display()),
        )
        .fix("check that the agentsecrets binary is executable, or set AGENTSECRETS_CLI")
    })?;
    let out = tokio::time::timeout(START_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            SdkError::new(
                sdk_codes::CLI_ERROR,
                format!(
                    "`{} proxy start --detach` did not report ready within {} s",
                    bin.display(),
                    START_TIMEOUT.as_secs()
                ),
            )
            .fix("run `agentsecrets proxy start` by hand to see what blocks it")
        })?
        .map_err(|e| {
            SdkError::new(
                sdk_codes::CLI_ERROR,
                format!("running {} failed: {e}", bin.display()),
            )
            .fix("run `agentsecrets proxy start` by hand to see the error")
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        // `--json` output: one JSON document (possibly pretty-printed), or
        // one JSON line among others.
        let ready = serde_json::from_str::<Ready>(stdout.trim())
            .ok()
            .or_else(|| {
                stdout
                    .lines()
                    .rev()
                    .find_map(|l| serde_json::from_str::<Ready>(l.trim()).ok())
            });
        if let Some(ready) = ready {
            return Ok(ready);
        }
        if let Some(e) = upstream_cli_refusal(&bin).await {
            return Err(e);
        }
        return Err(SdkError::new(
            sdk_codes::CLI_ERROR,
            format!(
                "`{} proxy start --detach` succeeded but printed no ready line",
                bin.display()
            ),
        )
        .fix(
            "check that AGENTSECRETS_CLI names this project's engine, not another `agentsecrets`",
        ));
    }
    if let Some(e) = upstream_cli_refusal(&bin).await {
        return Err(e);
    }
    Err(cli_failure(&bin, &out.stderr, out.status.code()))
}

/// When `bin` is the upstream AgentSecrets CLI (`agentsecrets version X` from
/// `--version`), the error that says so: it has no detached start, so the SDK
/// cannot start its proxy. Asked only after a start failed.
async fn upstream_cli_refusal(bin: &Path) -> Option<SdkError> {
    let out = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::process::Command::new(bin)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().find(|l| !l.trim().is_empty())?.trim();
    let version = first.strip_prefix("agentsecrets version ")?;
    Some(
        SdkError::new(
            sdk_codes::BACKEND_UNSUPPORTED,
            format!(
                "{} is the upstream AgentSecrets CLI ({}), whose proxy the SDK cannot start: it only runs in the foreground",
                bin.display(),
                agentsecrets_wire::names::shown(version)
            ),
        )
        .fix("start it in a terminal with `agentsecrets proxy start` (the SDK then finds it on 127.0.0.1:8765), or unset AGENTSECRETS_CLI to use the bundled engine")
        .backend("upstream-cli"),
    )
}

#[derive(Deserialize)]
struct CliErrorLine {
    error: EngineErrorBody,
}

/// Maps the CLI's `--json` error (`{"error": EngineErrorBody}` on stderr).
fn cli_failure(bin: &Path, stderr: &[u8], code: Option<i32>) -> SdkError {
    let text = String::from_utf8_lossy(stderr);
    if let Some(line) = text
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<CliErrorLine>(l.trim()).ok())
    {
        let mut e = SdkError::from_engine(line.error, 0);
        e.status_code = None;
        return e;
    }
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let first: String = first.chars().take(300).collect();
    let detail = if first.trim().is_empty() {
        " and printed no error".to_owned()
    } else {
        format!(": {first}")
    };
    let mut e = SdkError::new(
        sdk_codes::CLI_ERROR,
        format!(
            "`{} proxy start --detach` failed (exit {}){detail}",
            bin.display(),
            code.map_or_else(|| "signal".to_owned(), |c| c.to_string())
        ),
    )
    .fix("run `agentsecrets proxy start` by hand to see the full error, or check that AGENTSECRETS_CLI names this project's engine");
    e.exit_code = code;
    e
}
