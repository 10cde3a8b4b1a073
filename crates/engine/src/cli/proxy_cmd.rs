//! `agentsecrets proxy start|stop|status|logs`.

use super::output::table;
use super::Context;
use crate::audit::{self, Filter};
use crate::error::{EngineError, Result};
use crate::proxy::lifecycle::{self, ReadyLine, Stopped};
use crate::proxy::ServeOptions;
use agentsecrets_wire::{AuditEvent, AuditStatus};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ProxyCommand {
    /// Start the proxy on 127.0.0.1:PORT and $AGENTSECRETS_HOME/run/proxy.sock.
    #[command(
        after_help = "Connections: the soft file-descriptor limit is raised to the hard one and the \
                      connection caps follow from it, with a quarter kept for the Unix socket. A TCP \
                      connection that has not sent the caller token 5 s after it was accepted is closed."
    )]
    Start {
        /// TCP port on 127.0.0.1 (0 picks a free one).
        #[arg(long, env = "AGENTSECRETS_PORT", default_value_t = 8765)]
        port: u16,
        /// Return once the proxy is ready, leaving it running in the background.
        #[arg(long)]
        detach: bool,
        /// Seconds to wait for upstream response headers, and the longest pause mid-body.
        #[arg(long, value_name = "S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout_secs: u64,
        /// Seconds a streamed answer may take from its headers to its last byte, however
        /// steadily it trickles (then it is cut with UPSTREAM_TIMEOUT).
        #[arg(long, value_name = "S", env = "AGENTSECRETS_DEADLINE_SECS", default_value_t = crate::proxy::DEFAULT_DEADLINE_SECS, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        deadline_secs: u64,
        /// Cut upstream response bodies after this many MiB (decoded size; then RESPONSE_TOO_LARGE).
        #[arg(long, value_name = "MIB", env = "AGENTSECRETS_MAX_RESPONSE_MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
        max_response_mib: u64,
        /// Worker threads. One keeps each request on one core and serves well over 10 000
        /// proxied requests a second.
        #[arg(long, value_name = "N", env = "AGENTSECRETS_PROXY_THREADS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
        threads: u16,
    },
    /// Stop the running proxy gracefully.
    Stop,
    /// Is the proxy running, on which port, since when.
    Status,
    /// Show the audit log.
    Logs {
        /// Only the last N events.
        #[arg(long, value_name = "N")]
        last: Option<usize>,
        /// Only events that used this secret.
        #[arg(long, value_name = "KEY")]
        secret: Option<String>,
        /// Only events with this status.
        #[arg(long, value_name = "OK|BLOCKED|ERROR")]
        status: Option<String>,
    },
}

pub fn run(ctx: &Context, cmd: ProxyCommand) -> Result<()> {
    match cmd {
        ProxyCommand::Start {
            port,
            detach: true,
            timeout_secs,
            deadline_secs,
            max_response_mib,
            threads,
        } => {
            let opts = serve_options(port, timeout_secs, deadline_secs, max_response_mib, threads);
            let line = lifecycle::start_detached(&ctx.home, &opts, lifecycle::DEFAULT_TIMEOUT)?;
            ctx.out.result(&line, || lifecycle::ready_text(&line));
            Ok(())
        }
        ProxyCommand::Start {
            port,
            detach: false,
            timeout_secs,
            deadline_secs,
            max_response_mib,
            threads,
        } => {
            let opts = serve_options(port, timeout_secs, deadline_secs, max_response_mib, threads);
            let pipe = std::env::var_os(lifecycle::READY_PIPE_ENV).is_some_and(|v| v == "1");
            let out = ctx.out;
            let result = lifecycle::run_foreground(&ctx.home, opts, move |line: &ReadyLine| {
                if pipe {
                    lifecycle::report_ready_on_pipe(line);
                } else {
                    out.result(line, || lifecycle::ready_text(line));
                }
            });
            if let (true, Err(e)) = (pipe, &result) {
                lifecycle::report_error_on_pipe(&super::explain(&ctx.home, e.clone()));
            }
            result
        }
        ProxyCommand::Stop => {
            let stopped = lifecycle::stop(&ctx.home, lifecycle::DEFAULT_TIMEOUT)?;
            let (value, text) = match stopped {
                Stopped::NotRunning => (
                    serde_json::json!({ "stopped": false, "running": false }),
                    "proxy is not running".to_owned(),
                ),
                Stopped::Stopped { pid, forced } => (
                    serde_json::json!({ "stopped": true, "running": false, "pid": pid, "forced": forced }),
                    if forced {
                        format!("proxy (pid {pid}) did not drain in time and was killed")
                    } else {
                        format!("proxy stopped (pid {pid})")
                    },
                ),
            };
            ctx.out.result(&value, || text);
            Ok(())
        }
        ProxyCommand::Status => {
            let s = lifecycle::status(&ctx.home)?;
            ctx.out
                .result(&s, || match (s.running, s.port, &s.socket, s.pid) {
                    (true, Some(port), Some(socket), Some(pid)) => format!(
                    "proxy running (pid {pid}) on 127.0.0.1:{port} and {socket}, up {}, version {}",
                    uptime(s.uptime_seconds.unwrap_or(0)),
                    s.version
                ),
                    _ => "proxy is not running".to_owned(),
                });
            Ok(())
        }
        ProxyCommand::Logs {
            last,
            secret,
            status,
        } => {
            let status = status.as_deref().map(parse_status).transpose()?;
            let filter = Filter {
                last,
                secret,
                status,
            };
            let (events, skipped) = audit::read(&ctx.home, &filter)?;
            if skipped > 0 {
                crate::diag::note(format_args!(
                    "note: {skipped} unreadable line(s) in {} were skipped",
                    ctx.home.audit_log_path().display()
                ));
            }
            ctx.out.result(&events, || logs_table(&events));
            Ok(())
        }
    }
}

fn parse_status(s: &str) -> Result<AuditStatus> {
    AuditStatus::parse(s).ok_or_else(|| {
        EngineError::invalid(format!(
            "invalid --status {}: expected OK, BLOCKED or ERROR",
            agentsecrets_wire::names::shown(s)
        ))
        .fix("use --status OK, --status BLOCKED or --status ERROR")
    })
}

fn uptime(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

fn logs_table(events: &[AuditEvent]) -> String {
    if events.is_empty() {
        return "no audit events".to_owned();
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.timestamp.clone(),
                e.status.as_str().to_owned(),
                e.method.clone(),
                e.status_code.to_string(),
                e.secret_keys.join(","),
                e.target_url.clone(),
                e.reason.clone(),
            ]
        })
        .collect();
    table(
        &[
            "TIME", "STATUS", "METHOD", "CODE", "SECRETS", "TARGET", "REASON",
        ],
        &rows,
    )
}

fn serve_options(
    port: u16,
    timeout_secs: u64,
    deadline_secs: u64,
    max_response_mib: u64,
    threads: u16,
) -> ServeOptions {
    let mut opts = ServeOptions::new(port);
    opts.timeout = std::time::Duration::from_secs(timeout_secs);
    opts.deadline = std::time::Duration::from_secs(deadline_secs);
    opts.max_response_bytes = max_response_mib << 20;
    opts.threads = usize::from(threads);
    opts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parsing() {
        assert_eq!(parse_status("blocked").unwrap(), AuditStatus::Blocked);
        let e = parse_status("NOPE").unwrap_err();
        assert_eq!(e.code, agentsecrets_wire::ErrorCode::InvalidRequest);
        assert!(e.fix.is_some());
    }

    #[test]
    fn uptime_text() {
        assert_eq!(uptime(5), "5s");
        assert_eq!(uptime(125), "2m5s");
        assert_eq!(uptime(7260), "2h1m");
    }
}
