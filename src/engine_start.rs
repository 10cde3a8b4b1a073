//! Starting the engine: finding its binary (explicit, bundled, `PATH`),
//! running `proxy start --detach` and reading its Ready line, and typed
//! errors when the binary is missing, fails or is the upstream CLI.

use crate::config::Config;
use crate::errors::{sdk_codes, SdkError, SdkResult};
use crate::platform::{self, is_executable};
use agentsecrets_wire::{ErrorLine, ReadyLine};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Upper bound on `proxy start --detach`.
const START_TIMEOUT: Duration = Duration::from_secs(20);

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
    // The explicit binary above may be the upstream CLI, which also runs on
    // Windows; a bundled or `PATH` one is this project's engine.
    platform::engine_supported()?;
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
/// `port`: the TCP port to ask for (else the engine's default).
pub async fn start_engine(cfg: &Config, port: Option<u16>) -> SdkResult<ReadyLine> {
    let bin = find_engine(cfg)?;
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.arg("--json").arg("proxy").arg("start").arg("--detach");
    if let Some(p) = port {
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
        if let Some(ready) = ReadyLine::find_in(&stdout) {
            return Ok(ready);
        }
        if let Some(e) = crate::cli_backend::upstream_cli_refusal(&bin).await {
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
    if let Some(e) = crate::cli_backend::upstream_cli_refusal(&bin).await {
        return Err(e);
    }
    Err(cli_failure(&bin, &out.stderr, out.status.code()))
}

/// Maps the CLI's `--json` error (`{"error": EngineErrorBody}` on stderr).
fn cli_failure(bin: &Path, stderr: &[u8], code: Option<i32>) -> SdkError {
    let text = String::from_utf8_lossy(stderr);
    if let Some(body) = ErrorLine::last_in(&text) {
        let mut e = SdkError::from_engine(body, 0);
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
