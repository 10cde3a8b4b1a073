//! Which program a client's `agentsecrets` binary is: this project's engine
//! or the upstream AgentSecrets CLI (Go). The one place that asks: the JS
//! layer picks its management backend from [`NativeClient::cli_backend`],
//! and a failed auto-start asks [`identify`] to explain itself.

use crate::client::NativeClient;
use crate::engine_start::{self, EngineOrigin};
use crate::errors::{sdk_codes, SdkError, SdkResult};
use agentsecrets_wire::cli_version::{first_line, CliKind, CliVersion};
use agentsecrets_wire::names;
use napi_derive::napi;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Upper bound on `--version`.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);
/// The addon ships in the same package, and at the same version, as the
/// bundled engine.
const BUNDLED_VERSION: &str = env!("CARGO_PKG_VERSION");

#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeCliKind {
    #[napi(value = "engine")]
    Engine,
    #[napi(value = "upstream-cli")]
    UpstreamCli,
}

/// The CLI a client runs its management commands and spawns with.
#[napi(object)]
pub struct NativeCliBackend {
    pub kind: NativeCliKind,
    pub file: String,
    pub version: String,
}

#[napi]
impl NativeClient {
    /// This client's CLI, found on first use and kept. The bundled binary is
    /// not asked: only an explicit or `PATH` binary can be another program.
    #[napi]
    pub fn cli_backend(&self) -> napi::Result<NativeCliBackend> {
        let mut kept = self.inner.cli.lock().unwrap_or_else(|e| e.into_inner());
        if kept.is_none() {
            *kept = Some(locate_and_identify(&self.inner.config)?);
        }
        let (file, found) = kept.as_ref().expect("set above");
        Ok(NativeCliBackend {
            kind: match found.kind {
                CliKind::Engine => NativeCliKind::Engine,
                CliKind::UpstreamCli => NativeCliKind::UpstreamCli,
            },
            file: file.clone(),
            version: found.version.clone(),
        })
    }
}

fn locate_and_identify(cfg: &crate::config::Config) -> SdkResult<(String, CliVersion)> {
    let (file, origin) = engine_start::locate_engine(cfg)?;
    let found = if origin == EngineOrigin::Bundled {
        CliVersion {
            kind: CliKind::Engine,
            version: BUNDLED_VERSION.to_owned(),
        }
    } else {
        napi::bindgen_prelude::block_on(identify(&file))?
    };
    Ok((file.display().to_string(), found))
}

/// Runs `file --version` and says which program it is; any other program is
/// `BACKEND_UNSUPPORTED`.
pub async fn identify(file: &Path) -> SdkResult<CliVersion> {
    let stdout = version_output(file).await?;
    CliVersion::parse(&stdout).ok_or_else(|| {
        let first: String = first_line(&stdout).chars().take(80).collect();
        SdkError::new(
            sdk_codes::BACKEND_UNSUPPORTED,
            format!(
                "{} is neither this SDK's agentsecrets engine nor the upstream AgentSecrets CLI: `--version` printed {}",
                file.display(),
                serde_json::to_string(&first).unwrap_or_default()
            ),
        )
        .fix("point AGENTSECRETS_CLI (or the `cli` option) at the bundled agentsecrets engine or at the upstream AgentSecrets CLI, or unset it")
    })
}

async fn version_output(file: &Path) -> SdkResult<String> {
    let failed = |why: String, code: Option<i32>| {
        let mut e = SdkError::new(
            sdk_codes::CLI_ERROR,
            format!("`{} --version` failed ({why})", file.display()),
        )
        .fix("check that AGENTSECRETS_CLI (or the `cli` option) names an executable agentsecrets binary");
        e.exit_code = code;
        e
    };
    let run = tokio::process::Command::new(file)
        .arg("--version")
        // The upstream CLI colours its output for terminals.
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(VERSION_TIMEOUT, run)
        .await
        .map_err(|_| {
            failed(
                format!("no answer in {} s", VERSION_TIMEOUT.as_secs()),
                None,
            )
        })?
        .map_err(|e| failed(e.to_string(), None))?;
    if !out.status.success() {
        let why = out
            .status
            .code()
            .map_or_else(|| "killed by a signal".to_owned(), |c| format!("exit {c}"));
        return Err(failed(why, out.status.code()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The refusal of auto-starting the upstream CLI, which has no detached
/// start; `None` when `bin` is anything else. Asked only after a start failed.
pub async fn upstream_cli_refusal(bin: &Path) -> Option<SdkError> {
    let found = identify(bin).await.ok()?;
    (found.kind == CliKind::UpstreamCli).then(|| {
        SdkError::new(
            sdk_codes::BACKEND_UNSUPPORTED,
            format!(
                "{} is the upstream AgentSecrets CLI ({}), whose proxy the SDK cannot start: it only runs in the foreground",
                bin.display(),
                names::shown(&found.version)
            ),
        )
        .fix("start it in a terminal with `agentsecrets proxy start` and choose it with `backend: 'upstream-proxy'` (or AGENTSECRETS_BACKEND=upstream-proxy), or unset AGENTSECRETS_CLI to use the bundled engine")
        .backend("upstream-cli")
    })
}
