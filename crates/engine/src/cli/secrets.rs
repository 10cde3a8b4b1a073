use super::{output::table, password, Context, ScopeArgs};
use crate::error::{EngineError, Result};
use crate::tty::is_tty;
use crate::vault::Vault;
use clap::Subcommand;
use serde_json::json;
use std::io::Read;
use zeroize::Zeroizing;

/// Largest value accepted (certificates and service-account JSON fit).
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Store secrets. `KEY` alone reads the value from stdin (keeps it out
    /// of argv and shell history); `KEY=VALUE` is accepted for compatibility.
    ///
    /// From stdin, everything is read and one trailing newline is removed;
    /// on a terminal the value is asked for without echo. Empty values are
    /// refused. All items are stored in one transaction, or none.
    Set {
        #[arg(required = true, value_name = "KEY[=VALUE]")]
        items: Vec<String>,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// List secret names (never values).
    List {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Delete a secret.
    Delete {
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Copy the bound remote's secrets into the local vault (sync mode).
    Pull {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Write local secrets to the bound remote with check-and-set (sync mode).
    ///
    /// A key changed remotely since this machine last pulled or pushed it is
    /// not overwritten: the push stops with REMOTE_CONFLICT naming the key.
    Push {
        /// Only these keys (default: every secret of the project).
        #[arg(value_name = "KEY")]
        keys: Vec<String>,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Compare the local vault with the bound remote, by name (values are never shown).
    Diff {
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

/// Values shorter than this are still stored, with a note: the redactor
/// masks every occurrence, and a short one occurs by chance in other text.
const SHORT_VALUE: usize = 8;

pub fn run(ctx: &Context, cmd: SecretsCommand) -> Result<()> {
    use super::sync::{self, Direction};
    let vault = Vault::open(&ctx.home)?;
    match cmd {
        SecretsCommand::Set { items, scope } => {
            let scope = vault.scope(scope.workspace.as_deref(), scope.project.as_deref())?;
            let parsed = parse_items(&items)?;
            // Our copies of argv values are wiped once parsed.
            for mut item in items {
                zeroize::Zeroize::zeroize(&mut item);
            }
            if parsed.iter().any(|(_, v)| v.is_some()) && !ctx.out.json {
                crate::diag::note("note: values given as KEY=VALUE are visible to other processes and kept in shell history; prefer `agentsecrets secrets set KEY` with the value on stdin");
            }
            let mut values: Vec<(String, Zeroizing<String>)> = Vec::with_capacity(parsed.len());
            for (k, v) in parsed {
                let v = match v {
                    Some(v) => v,
                    None => read_value(&k)?,
                };
                values.push((k, v));
            }
            vault.set_secrets(&scope, &values)?;
            if !ctx.out.json {
                for (k, v) in values.iter().filter(|(_, v)| v.len() < SHORT_VALUE) {
                    crate::diag::note(format_args!("note: {k} is only {} bytes long; every occurrence of it in responses and command output will be masked, which can also hide unrelated text", v.len()));
                }
            }
            let keys: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
            ctx.out.result(
                &json!({ "ok": true, "workspace": scope.workspace, "project": scope.project, "keys": keys }),
                || format!("Stored {} in {}/{}.", keys.join(", "), scope.workspace, scope.project),
            );
        }
        SecretsCommand::List { scope } => {
            let scope = vault.scope(scope.workspace.as_deref(), scope.project.as_deref())?;
            let list = vault.list_secrets(&scope)?;
            ctx.out.result(&list, || {
                if list.is_empty() {
                    return format!(
                        "No secrets in {}/{}. Store one with `agentsecrets secrets set KEY` (value on stdin).",
                        scope.workspace, scope.project
                    );
                }
                let rows = list
                    .iter()
                    .map(|s| vec![s.key.clone(), s.created_at.clone(), s.updated_at.clone()])
                    .collect::<Vec<_>>();
                table(&["KEY", "CREATED", "UPDATED"], &rows)
            });
        }
        SecretsCommand::Delete { key, scope } => {
            let scope = vault.scope(scope.workspace.as_deref(), scope.project.as_deref())?;
            vault.delete_secret(&scope, &key)?;
            ctx.out.result(
                &json!({ "ok": true, "workspace": scope.workspace, "project": scope.project, "key": key }),
                || format!("Deleted {key} from {}/{}.", scope.workspace, scope.project),
            );
        }
        SecretsCommand::Pull { scope } => return sync::run(ctx, scope, Direction::Pull),
        SecretsCommand::Push { keys, scope } => {
            return sync::run(ctx, scope, Direction::Push(keys))
        }
        SecretsCommand::Diff { scope } => return sync::run(ctx, scope, Direction::Diff),
    }
    Ok(())
}

/// Splits `KEY=VALUE` / `KEY` items; at most one `KEY` may take stdin.
fn parse_items(items: &[String]) -> Result<Vec<(String, Option<Zeroizing<String>>)>> {
    let mut out: Vec<(String, Option<Zeroizing<String>>)> = Vec::with_capacity(items.len());
    for item in items {
        let (k, v) = match item.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(Zeroizing::new(v.to_owned()))),
            None => (item.clone(), None),
        };
        // The key alone is named in errors, never the item (it may hold a value).
        crate::vault::check_key_name(&k)?;
        if out.iter().any(|(have, _)| *have == k) {
            return Err(EngineError::invalid(format!("{k} is given twice"))
                .key(&k)
                .fix("give each key once"));
        }
        out.push((k, v));
    }
    if out.iter().filter(|(_, v)| v.is_none()).count() > 1 {
        return Err(
            EngineError::invalid("only one KEY can take its value from stdin").fix(
                "run `agentsecrets secrets set KEY` once per key, each with its value on stdin",
            ),
        );
    }
    Ok(out)
}

/// The value of `key` from stdin: a no-echo prompt on a terminal, else
/// everything read, minus one trailing newline.
fn read_value(key: &str) -> Result<Zeroizing<String>> {
    let mut value = if is_tty(&std::io::stdin()) {
        password::prompt(&format!("Value for {key} (not shown): "))?
    } else {
        let mut buf = Zeroizing::new(Vec::new());
        std::io::stdin()
            .lock()
            .take(MAX_VALUE_BYTES as u64 + 3)
            .read_to_end(&mut buf)
            .map_err(|e| {
                EngineError::invalid(format!("cannot read the value of {key} from stdin: {e}"))
                    .key(key)
                    .fix("pipe the value into the command")
            })?;
        Zeroizing::new(String::from_utf8(std::mem::take(&mut *buf)).map_err(|e| {
            zeroize::Zeroize::zeroize(&mut e.into_bytes());
            EngineError::invalid(format!("the value of {key} on stdin is not UTF-8 text"))
                .key(key)
                .fix("store text values only (encode binary data, e.g. as base64)")
        })?)
    };
    password::strip_one_newline(&mut value);
    if value.len() > MAX_VALUE_BYTES {
        return Err(EngineError::invalid(format!(
            "the value of {key} is larger than {} KiB",
            MAX_VALUE_BYTES / 1024
        ))
        .key(key)
        .fix("store a smaller value (e.g. a path or a reference instead of the content)"));
    }
    if value.is_empty() {
        return Err(EngineError::invalid(format!("the value of {key} is empty"))
            .key(key)
            .fix(format!(
                "pipe the value in, e.g. `printf '%s' \"$VALUE\" | agentsecrets secrets set {key}`; to remove a secret use `agentsecrets secrets delete {key}`"
            )));
    }
    Ok(value)
}
