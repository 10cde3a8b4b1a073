//! `agentsecrets env -- CMD`: run a command with secrets in its environment,
//! forward signals, mask output.
use super::{Context, ScopeArgs};
use crate::audit::AuditLog;
use crate::envrun::{self, Spec};
use crate::error::Result;
use crate::home::Home;
use crate::redact::Patterns;
use crate::remote::{
    self,
    resolve::{Resolver, View},
};
use crate::vault::{Scope, Vault};
use agentsecrets_wire::{AuditEvent, AuditStatus};
use clap::Args;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Inject only these secrets (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "K1,K2")]
    pub only: Option<Vec<String>>,
    /// Do not mask secret values in the command's output.
    #[arg(long)]
    pub no_mask: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Returns the child's exit code (127/126 when it could not be started).
/// When the child died of a signal the engine ends by that same signal.
pub fn run(ctx: &Context, args: EnvArgs) -> Result<i32> {
    // Before anything else (the vault may start threads): signals sent to
    // the engine must queue for the child, not kill the engine.
    envrun::block_signals();
    let started = Instant::now();
    let vault = Vault::open(&ctx.home)?;
    let scope = vault.scope(
        args.scope.workspace.as_deref(),
        args.scope.project.as_deref(),
    )?;
    // Opened before anything runs: a run that cannot be audited does not run.
    let log = AuditLog::open(&ctx.home)?;
    let secrets = match resolve(&ctx.home, &vault, &scope, args.only.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            let names = args.only.clone().unwrap_or_default();
            let line = envrun::audit_command_line(&args.command, &Patterns::new([]));
            let ev = event(&scope, names, line, &started, AuditStatus::Error);
            append(
                &log,
                AuditEvent {
                    status_code: e.exit_code() as u16,
                    reason: e.code.as_str().to_owned(),
                    ..ev
                },
            );
            return Err(e);
        }
    };

    let names: Vec<String> = secrets.values.iter().map(|(k, _)| k.clone()).collect();
    // Output is masked for every value of the home, not only the injected
    // ones: the command could fetch a value stored elsewhere and print it.
    let every = vault.read(|r| r.every_value())?;
    let remote = secrets.remote.iter().flat_map(|v| v.every_value());
    let patterns = Arc::new(Patterns::new(
        every
            .iter()
            .map(|v| v.as_bytes())
            .chain(remote.map(str::as_bytes)),
    ));
    drop(every);
    let Resolved {
        values: secrets, ..
    } = secrets;
    let line = envrun::audit_command_line(&args.command, &patterns);
    let spec = Spec {
        command: args.command,
        env: secrets,
        mask: !args.no_mask,
    };
    let result = envrun::run(&spec, patterns);
    drop(spec);

    let ev = event(&scope, names, line, &started, AuditStatus::Ok);
    match result {
        Ok(outcome) => {
            append(
                &log,
                AuditEvent {
                    status_code: clamp(outcome.code),
                    reason: outcome.reason(),
                    redacted: outcome.redacted,
                    ..ev
                },
            );
            if let Some(sig) = outcome.signal {
                envrun::die_by(sig);
            }
            Ok(outcome.code)
        }
        Err(start) => {
            append(
                &log,
                AuditEvent {
                    status: AuditStatus::Error,
                    status_code: clamp(start.exit_code),
                    reason: start.error.message.clone(),
                    ..ev
                },
            );
            ctx.out.error(&start.error);
            Ok(start.exit_code)
        }
    }
}

/// The command's secrets: from OpenBao when the scope has a resolve-through
/// binding (read once, in memory), else from the vault. `remote` keeps every
/// remote value for masking.
struct Resolved {
    values: Vec<(String, zeroize::Zeroizing<String>)>,
    remote: Option<View>,
}

fn resolve(home: &Home, vault: &Vault, scope: &Scope, only: Option<&[String]>) -> Result<Resolved> {
    let bindings = remote::store::effective(home)?;
    let Some(resolver) = Resolver::new(bindings, vault)?.map(std::sync::Arc::new) else {
        return Ok(Resolved {
            values: vault.secrets(scope, only)?,
            remote: None,
        });
    };
    let keys = only.map(<[String]>::to_vec).unwrap_or_default();
    let view = super::remote::block_on(resolver.view(&scope.workspace, &scope.project, &keys))?;
    let values = if view.is_bound() {
        view.secrets(scope, only)?
    } else {
        vault.secrets(scope, only)?
    };
    Ok(Resolved {
        values,
        remote: Some(view),
    })
}

fn clamp(code: i32) -> u16 {
    u16::try_from(code).unwrap_or(u16::MAX)
}

fn event(
    scope: &Scope,
    secret_keys: Vec<String>,
    target_url: String,
    started: &Instant,
    status: AuditStatus,
) -> AuditEvent {
    AuditEvent {
        timestamp: crate::clock::now_rfc3339(),
        secret_keys,
        agent_id: None,
        method: "ENV".to_owned(),
        target_url,
        domain: String::new(),
        auth_styles: vec!["env".to_owned()],
        status_code: 0,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        status,
        reason: "-".to_owned(),
        redacted: false,
        workspace: Some(scope.workspace.clone()),
        project: Some(scope.project.clone()),
    }
}

/// The command already ran; a failed audit write is reported, not fatal.
fn append(log: &AuditLog, ev: AuditEvent) {
    if let Err(e) = log.append(&ev) {
        crate::diag::note(format_args!("agentsecrets: warning: {}", e.message));
    }
}
