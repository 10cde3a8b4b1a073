//! The two accept loops, each with its own connection cap so a flood on TCP
//! never stops the Unix socket: a Unix connection waits for a free slot; a
//! TCP connection over the unauthenticated cap is closed at once, and one
//! that has not presented the token within
//! [`UNAUTHENTICATED_DEADLINE`](super::caps::UNAUTHENTICATED_DEADLINE) is
//! closed then. A failing `accept` (out of descriptors…) is reported once,
//! with what it means, and retried with a growing pause instead of spinning.

use super::auth::{self, Transport};
use super::caps::{Caps, UNAUTHENTICATED_DEADLINE};
use super::server::serve_connection;
use super::Shared;
use crate::diag;
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The semaphores behind [`Caps`].
#[derive(Clone)]
pub struct Gates {
    caps: Caps,
    unix: Arc<Semaphore>,
    tcp: Arc<Semaphore>,
    unauthenticated: Arc<Semaphore>,
}

impl Gates {
    pub fn new(caps: Caps) -> Gates {
        Gates {
            caps,
            unix: Arc::new(Semaphore::new(caps.unix)),
            tcp: Arc::new(Semaphore::new(caps.tcp)),
            unauthenticated: Arc::new(Semaphore::new(caps.unauthenticated)),
        }
    }
}

/// Whether a TCP connection presented the token yet; until it does it
/// holds one of the unauthenticated slots.
pub struct TcpGate {
    authenticated: AtomicBool,
    slot: Mutex<Option<OwnedSemaphorePermit>>,
}

impl TcpGate {
    fn new(slot: OwnedSemaphorePermit) -> TcpGate {
        TcpGate {
            authenticated: AtomicBool::new(false),
            slot: Mutex::new(Some(slot)),
        }
    }

    /// Marks the connection authenticated when `headers` carry the token,
    /// freeing its unauthenticated slot.
    pub fn check(&self, headers: &http::HeaderMap, token: &str) {
        if self.authenticated.load(Ordering::Acquire) {
            return;
        }
        if auth::check_token(Transport::Tcp, headers, token).is_ok() {
            self.authenticated.store(true, Ordering::Release);
            if let Ok(mut slot) = self.slot.lock() {
                slot.take();
            }
        }
    }

    /// Resolves at the deadline if the connection is still unauthenticated
    /// then; never otherwise.
    async fn expired(&self) {
        tokio::time::sleep(UNAUTHENTICATED_DEADLINE).await;
        if self.authenticated.load(Ordering::Acquire) {
            std::future::pending::<()>().await;
        }
    }
}

pub async fn tcp_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    graceful: Arc<GracefulShutdown>,
    gates: Gates,
) {
    let mut errors = AcceptErrors::new("TCP", gates.caps);
    let mut refusing = Episode::default();
    loop {
        let Ok(conn_slot) = gates.tcp.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                errors.failed(&e).await;
                continue;
            }
        };
        errors.recovered();
        let Ok(unauth_slot) = gates.unauthenticated.clone().try_acquire_owned() else {
            refusing.start(|| format!(
                "agentsecrets proxy: {} TCP connections have not presented the caller token; new TCP connections are closed until they do or time out (the Unix socket is not affected)",
                gates.caps.unauthenticated
            ));
            continue;
        };
        refusing.end(|| "agentsecrets proxy: accepting TCP connections again".to_owned());
        let _ = stream.set_nodelay(true);
        let gate = Arc::new(TcpGate::new(unauth_slot));
        let conn = serve_connection(
            &graceful,
            shared.clone(),
            Transport::Tcp,
            Some(gate.clone()),
            stream,
        );
        tokio::spawn(async move {
            let _slot = conn_slot;
            tokio::select! {
                _ = conn => {}
                _ = gate.expired() => {}
            }
        });
    }
}

pub async fn unix_loop(
    listener: UnixListener,
    shared: Arc<Shared>,
    graceful: Arc<GracefulShutdown>,
    gates: Gates,
) {
    let mut errors = AcceptErrors::new("Unix socket", gates.caps);
    loop {
        let Ok(slot) = gates.unix.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                errors.failed(&e).await;
                continue;
            }
        };
        errors.recovered();
        super::server::widen_send_buffer(&stream);
        let conn = serve_connection(&graceful, shared.clone(), Transport::Unix, None, stream);
        tokio::spawn(async move {
            let _slot = slot;
            let _ = conn.await;
        });
    }
}

/// A condition reported once when it starts and once when it ends.
#[derive(Default)]
struct Episode {
    on: bool,
}

impl Episode {
    fn start(&mut self, line: impl FnOnce() -> String) {
        if !self.on {
            self.on = true;
            diag::note(line());
        }
    }

    fn end(&mut self, line: impl FnOnce() -> String) {
        if self.on {
            self.on = false;
            diag::note(line());
        }
    }
}

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// Failing accepts of one listener: reported once per episode, retried
/// after a pause that doubles up to a second.
struct AcceptErrors {
    listener: &'static str,
    caps: Caps,
    episode: Episode,
    pause: Duration,
}

impl AcceptErrors {
    fn new(listener: &'static str, caps: Caps) -> Self {
        AcceptErrors {
            listener,
            caps,
            episode: Episode::default(),
            pause: FIRST_PAUSE,
        }
    }

    async fn failed(&mut self, e: &std::io::Error) {
        let (listener, caps) = (self.listener, self.caps);
        self.episode.start(|| {
            format!(
                "agentsecrets proxy: cannot accept {listener} connections: {}",
                describe(e, caps)
            )
        });
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
    }

    fn recovered(&mut self) {
        self.pause = FIRST_PAUSE;
        let listener = self.listener;
        self.episode
            .end(|| format!("agentsecrets proxy: accepting {listener} connections again"));
    }
}

/// What an accept error means, for people.
fn describe(e: &std::io::Error, caps: Caps) -> String {
    match e.raw_os_error() {
        Some(libc::EMFILE) => format!(
            "the engine is out of file descriptors (limit {}): {e}; retrying as connections close. Raise the limit (`ulimit -n`) before `agentsecrets proxy start`",
            caps.fd_limit
        ),
        Some(libc::ENFILE) => format!(
            "the system is out of file descriptors: {e}; retrying as files close elsewhere"
        ),
        Some(libc::ENOBUFS) | Some(libc::ENOMEM) => {
            format!("the system is out of memory for sockets: {e}; retrying")
        }
        _ => format!("{e}; retrying"),
    }
}
