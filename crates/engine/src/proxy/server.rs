//! Listening on 127.0.0.1:PORT and on the Unix socket, serving HTTP/1.1
//! with keep-alive, and stopping gracefully on SIGTERM/SIGINT.

use super::accept::{self, TcpGate};
use super::auth::{self, Transport};
use super::caps;
use super::forward;
use super::resolved;
use super::routes;
use super::state::{self, ProxyState};
use super::{Limits, ServeOptions, Shared};
use crate::audit::AuditLog;
use crate::error::{EngineError, Result};
use crate::home::{self, Home};
use crate::remote::{self, resolve::Resolver};
use crate::vault::Vault;
use agentsecrets_wire::ReadyLine;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{signal, SignalKind};

/// Read buffer limit: heads beyond it are cut by hyper; heads between the
/// 64 KiB limit of `routes` and this get a clear 431 from there.
const MAX_HEAD_BYTES: usize = 128 * 1024;

/// Binds, writes the token and state files, calls `on_ready`, then serves
/// until SIGTERM/SIGINT, draining in-flight requests and removing the run files.
pub async fn serve(
    home: Home,
    opts: ServeOptions,
    on_ready: impl FnOnce(&ReadyLine),
) -> Result<()> {
    home.require_initialised()?;
    home.ensure_dirs()?;
    let vault = Vault::open(&home)?;
    let client = forward::LazyClient::new(Duration::from_secs(10));
    let remote = Resolver::new(remote::store::effective(&home)?, &vault)?.map(Arc::new);

    let tcp = TcpListener::bind(("127.0.0.1", opts.port)).await.map_err(|e| {
        EngineError::internal(format!("cannot listen on 127.0.0.1:{}: {e}", opts.port))
            .fix("choose another port with --port (or AGENTSECRETS_PORT), or stop the program using it")
    })?;
    let port = tcp
        .local_addr()
        .map_err(|e| EngineError::internal(e.to_string()))?
        .port();

    let socket_path = home.socket_path();
    let _ = std::fs::remove_file(&socket_path);
    let unix = UnixListener::bind(&socket_path).map_err(|e| {
        EngineError::internal(format!("cannot listen on {}: {e}", socket_path.display()))
            .fix("check that AGENTSECRETS_HOME is on a local file system and its path is short (Unix socket paths are limited to ~100 bytes)")
    })?;
    std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| EngineError::run_file("cannot restrict the socket", e))?;

    let token = auth::new_token();
    home::write_private_file(&home.token_path(), token.as_bytes())?;
    let pid = std::process::id();
    state::write(
        &home,
        &ProxyState {
            pid,
            port,
            socket: socket_path.display().to_string(),
            started_at: crate::clock::unix_now(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    )?;

    let shared = Arc::new(Shared {
        vault,
        token,
        port,
        client,
        header_case: Default::default(),
        limits: Limits {
            timeout: opts.timeout,
            deadline: opts.deadline,
            max_response_bytes: opts.max_response_bytes,
        },
        audit_log: AuditLog::open(&home)?,
        known: Default::default(),
        resolved: resolved::ResolvedCache::new(&home),
        remote,
    });

    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| EngineError::internal(e.to_string()))?;
    let mut sigint =
        signal(SignalKind::interrupt()).map_err(|e| EngineError::internal(e.to_string()))?;
    on_ready(&ReadyLine {
        pid,
        port,
        socket: socket_path.display().to_string(),
        already_running: false,
    });

    let caps = caps::Caps::from_fd_limit(caps::raise_fd_limit());
    let gates = accept::Gates::new(caps);
    let graceful = Arc::new(GracefulShutdown::new());
    let loops = [
        tokio::spawn(accept::tcp_loop(
            tcp,
            shared.clone(),
            graceful.clone(),
            gates.clone(),
        )),
        tokio::spawn(accept::unix_loop(
            unix,
            shared.clone(),
            graceful.clone(),
            gates,
        )),
    ];
    warm_up(&shared).await;
    tokio::select! {
        _ = sigterm.recv() => {}
        _ = sigint.recv() => {}
    }
    // Stopping the loops drops the listeners.
    for l in &loops {
        l.abort();
    }
    for l in loops {
        let _ = l.await;
    }
    // Run files go first, so nobody connects to a proxy that is draining.
    state::clear(&home);
    if let Ok(graceful) = Arc::try_unwrap(graceful) {
        let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    }
    Ok(())
}

/// Builds, while the caller connects, what the first call would otherwise
/// wait for: the upstream client and the patterns of the home's values
/// (resolve-through homes build theirs with the remote's values, on the
/// first call). Runs on the thread that waits for signals, so no thread
/// is started for it; errors are left for the call that meets them.
async fn warm_up(shared: &Shared) {
    let _ = shared.client.get().await;
    if shared.remote.is_none() {
        let _ = shared.known.warm(&shared.vault);
    }
}

/// One caller connection, watched for graceful shutdown; `gate` (TCP only)
/// learns when the caller presents the token.
pub(super) fn serve_connection<S>(
    graceful: &GracefulShutdown,
    shared: Arc<Shared>,
    transport: Transport,
    gate: Option<Arc<TcpGate>>,
    stream: S,
) -> impl std::future::Future<Output = hyper::Result<()>> + Send + 'static
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let shared = shared.clone();
        if let Some(g) = &gate {
            g.check(req.headers(), &shared.token);
        }
        async move { Ok::<_, Infallible>(routes::route(shared, transport, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(Duration::from_secs(30))
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(128)
        .serve_connection(TokioIo::new(stream), svc);
    graceful.watch(conn)
}

/// Send buffer asked for on a caller's Unix connection. The default (about
/// 200 KiB) lets a streamed response through 64 KiB per system call and
/// makes the engine wait on the reader between them.
const UNIX_SEND_BUFFER: libc::c_int = 1 << 20;

/// Best effort: a smaller buffer only costs throughput.
pub(super) fn widen_send_buffer(stream: &impl std::os::fd::AsRawFd) {
    let size = UNIX_SEND_BUFFER;
    // SAFETY: a valid fd and a c_int option value of the stated length.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}
