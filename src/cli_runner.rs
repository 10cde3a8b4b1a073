//! Running the engine's command line for management operations and building
//! the argv of `agentsecrets env` for spawning.
//!
//! Secret values only ever travel on the engine's stdin; argv carries names.
//! Every engine error (`{"error": {...}}` on stderr with `--json`) becomes an
//! [`SdkError`] with the engine's code, message and fix.

use crate::client::NativeClient;
use crate::config;
use crate::engine_start;
use crate::errors::{sdk_codes, SdkError, SdkResult};
use agentsecrets_wire::{names, ErrorLine};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use zeroize::Zeroize;

/// Upper bound on one management command; they are local and quick.
const DEFAULT_CLI_TIMEOUT_MS: u32 = 60_000;
/// Largest stdout accepted from a management command.
const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// One engine command: arguments after `--json`, optional stdin bytes.
#[napi(object)]
pub struct NativeCliRequest {
    pub args: Vec<String>,
    /// Written to the command's stdin, then stdin is closed. Wiped after use.
    pub stdin: Option<Buffer>,
    /// Default 60000.
    pub timeout_ms: Option<u32>,
}

/// What `agentsecrets env` needs to run a command with secrets injected.
#[napi(object)]
pub struct NativeEnvRequest {
    pub command: String,
    pub args: Vec<String>,
    pub workspace: Option<String>,
    pub project: Option<String>,
    /// Only these secret names are injected.
    pub only: Option<Vec<String>>,
}

/// The engine binary, its argv and its home: the JS layer spawns it.
#[napi(object)]
pub struct NativeEnvCommand {
    pub file: String,
    pub args: Vec<String>,
    pub home: String,
}

#[napi]
impl NativeClient {
    /// Default workspace of this client (option, else `AGENTSECRETS_WORKSPACE`).
    #[napi(getter)]
    pub fn default_workspace(&self) -> Option<String> {
        self.inner.config.workspace.clone()
    }

    /// Default project of this client (option, else `AGENTSECRETS_PROJECT`).
    #[napi(getter)]
    pub fn default_project(&self) -> Option<String> {
        self.inner.config.project.clone()
    }

    /// Runs `agentsecrets --json <args>` with this client's home and returns
    /// its stdout (JSON). A failure rejects with the engine's coded error.
    #[napi]
    pub async fn run_cli(&self, request: NativeCliRequest) -> napi::Result<String> {
        let _busy = crate::linger::InFlight::enter();
        let NativeCliRequest {
            args,
            stdin,
            timeout_ms,
        } = request;
        let mut input: Option<Vec<u8>> = stdin.map(|b| b.to_vec());
        let result = run(
            &self.inner.config,
            &args,
            input.as_deref(),
            timeout_ms.unwrap_or(DEFAULT_CLI_TIMEOUT_MS),
        )
        .await;
        if let Some(bytes) = input.as_mut() {
            bytes.zeroize();
        }
        Ok(result?)
    }

    /// The command that runs `request` under `agentsecrets env`, with names
    /// checked and this client's default scope applied.
    #[napi]
    pub fn env_command(&self, request: NativeEnvRequest) -> napi::Result<NativeEnvCommand> {
        let cfg = &self.inner.config;
        let file = engine_start::find_engine(cfg)?;
        let args = env_args(request, cfg.workspace.as_deref(), cfg.project.as_deref())?;
        Ok(NativeEnvCommand {
            file: file.display().to_string(),
            args,
            home: cfg.home.display().to_string(),
        })
    }
}

/// `env [--workspace=W] [--project=P] [--only=K1,K2] -- CMD ARGS...`.
pub fn env_args(
    r: NativeEnvRequest,
    default_workspace: Option<&str>,
    default_project: Option<&str>,
) -> SdkResult<Vec<String>> {
    if r.command.is_empty() {
        return Err(SdkError::invalid("the command to spawn is empty"));
    }
    if r.command.contains('\0') || r.args.iter().any(|a| a.contains('\0')) {
        return Err(SdkError::invalid(
            "the command and its arguments must not contain NUL characters",
        ));
    }
    let mut out = vec!["env".to_owned()];
    if let Some(w) = r.workspace.as_deref().or(default_workspace) {
        names::validate_scope_name("workspace", w)?;
        out.push(format!("--workspace={w}"));
    }
    if let Some(p) = r.project.as_deref().or(default_project) {
        names::validate_scope_name("project", p)?;
        out.push(format!("--project={p}"));
    }
    if let Some(only) = r.only {
        if only.is_empty() {
            return Err(SdkError::invalid(
                "`only` is empty; give at least one secret name, or leave it out to inject all",
            ));
        }
        for k in &only {
            names::validate_secret_key(k)?;
            if k.contains(',') {
                return Err(SdkError::invalid(
                    "secret names in `only` cannot contain ','",
                ));
            }
        }
        out.push(format!("--only={}", only.join(",")));
    }
    out.push("--".to_owned());
    out.push(r.command);
    out.extend(r.args);
    Ok(out)
}

async fn run(
    cfg: &config::Config,
    args: &[String],
    input: Option<&[u8]>,
    timeout_ms: u32,
) -> SdkResult<String> {
    let bin = engine_start::find_engine(cfg)?;
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.arg("--json")
        .args(args)
        .env("AGENTSECRETS_HOME", &cfg.home)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| {
        SdkError::new(
            sdk_codes::CLI_ERROR,
            format!("cannot run {}: {e}", bin.display()),
        )
        .fix("check that the agentsecrets binary is executable, or set AGENTSECRETS_CLI")
    })?;
    let pipe = child.stdin.take();
    // Written while the output is read, so a large input cannot deadlock
    // against a full stdout pipe.
    let feed = async move {
        if let (Some(bytes), Some(mut pipe)) = (input, pipe) {
            // A command that exits early closes its stdin; its exit status says why.
            let _ = pipe.write_all(bytes).await;
            let _ = pipe.shutdown().await;
        }
    };
    let what = describe(args);
    let both = async {
        let ((), out) = tokio::join!(feed, child.wait_with_output());
        out
    };
    let out = if timeout_ms == 0 {
        both.await
    } else {
        tokio::time::timeout(Duration::from_millis(u64::from(timeout_ms)), both)
            .await
            .map_err(|_| {
                SdkError::new(
                    sdk_codes::TIMEOUT,
                    format!("`agentsecrets {what}` did not finish within {timeout_ms} ms"),
                )
                .fix("run the same command by hand to see what blocks it")
            })?
    }
    .map_err(|e| {
        SdkError::new(
            sdk_codes::CLI_ERROR,
            format!("running `agentsecrets {what}` failed: {e}"),
        )
        .fix("run the same command by hand to see the error")
    })?;
    if out.status.success() {
        if out.stdout.len() > MAX_OUTPUT {
            return Err(SdkError::new(
                sdk_codes::BAD_ENGINE_RESPONSE,
                format!("`agentsecrets {what}` printed more than {MAX_OUTPUT} bytes"),
            )
            .fix("filter the output (e.g. `last`) or check that AGENTSECRETS_CLI names this project's engine"));
        }
        return String::from_utf8(out.stdout).map_err(|_| {
            SdkError::new(
                sdk_codes::BAD_ENGINE_RESPONSE,
                format!("`agentsecrets {what}` printed output that is not UTF-8"),
            )
            .fix("check that AGENTSECRETS_CLI names this project's engine")
        });
    }
    Err(failure(&bin, &what, &out.stderr, out.status.code()))
}

/// The command for messages: subcommand words only (no positional values
/// after `--`, which may be user data).
fn describe(args: &[String]) -> String {
    args.iter()
        .take_while(|a| !a.starts_with('-'))
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Maps the CLI's `--json` error line, else a generic [`sdk_codes::CLI_ERROR`].
fn failure(bin: &Path, what: &str, stderr: &[u8], code: Option<i32>) -> SdkError {
    let text = String::from_utf8_lossy(stderr);
    if let Some(body) = ErrorLine::last_in(&text) {
        let mut e = SdkError::new(body.code.as_str(), body.message);
        e.fix = body.fix.or_else(|| {
            Some(format!(
                "run `agentsecrets {what}` by hand to see the error"
            ))
        });
        e.key = body.key;
        e.domain = body.domain;
        e.workspace = body.workspace;
        e.project = body.project;
        e.exit_code = code;
        e.backend = Some("engine".into());
        return e;
    }
    let first: String = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    let detail = if first.is_empty() {
        " and printed no error".to_owned()
    } else {
        format!(": {first}")
    };
    let mut e = SdkError::new(
        sdk_codes::CLI_ERROR,
        format!(
            "`{} {what}` failed (exit {}){detail}",
            bin.display(),
            code.map_or_else(|| "signal".to_owned(), |c| c.to_string())
        ),
    )
    .fix("run the same command by hand to see the full error, or check that AGENTSECRETS_CLI names this project's engine");
    e.exit_code = code;
    e
}
