//! The floors the engine is measured against: servers that do the least any
//! design with the engine's process layout must do. Each runs as its own
//! process (this binary re-executed with `--serve-floor`), on the engine's
//! runtime configuration (one worker thread, HTTP/1 on a Unix socket), so
//! that its CPU is read from /proc exactly like the engine's.
//!
//! * `echo` answers every request at once with the upstream's small body:
//!   the Unix-socket HTTP round trip itself.
//! * `forward` sends each request on to its `x-as-target-url` with a pooled
//!   keep-alive client and a bearer header, and streams the answer back:
//!   a proxy without caller auth, vault, audit or redaction.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, HOST};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixListener;

/// The hidden argument that turns this binary into a floor server.
pub const SERVE_FLAG: &str = "--serve-floor";

/// Printed on stdout once the socket accepts connections.
pub const READY_LINE: &str = "ready";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Echo,
    Forward,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Echo, Kind::Forward];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Echo => "echo",
            Kind::Forward => "forward",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

type Body = BoxBody<Bytes, hyper::Error>;

/// What `forward` needs: keep-alive and pool size as the engine's upstream
/// client has them, and the header it adds, built once.
struct Forwarder {
    client: Client<HttpConnector, Incoming>,
    bearer: HeaderValue,
}

impl Forwarder {
    fn new() -> Forwarder {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(Duration::from_secs(90))
            .build(http);
        let bearer = HeaderValue::from_str(&format!("Bearer {}", crate::VALUE))
            .unwrap_or_else(|_| fail("the bearer value is not a header value"));
        Forwarder { client, bearer }
    }
}

/// `engine-bench --serve-floor KIND SOCKET`, or `None` for a benchmark run.
pub fn from_args() -> Option<(Kind, PathBuf)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, kind, socket] if flag == SERVE_FLAG => match Kind::parse(kind) {
            Some(k) => Some((k, PathBuf::from(socket))),
            None => fail(&format!(
                "unknown floor {kind}; to fix: use echo or forward"
            )),
        },
        [flag, ..] if flag == SERVE_FLAG => {
            fail("usage: engine-bench --serve-floor echo|forward SOCKET")
        }
        _ => None,
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("engine-bench floor: {msg}");
    std::process::exit(2)
}

/// Serves until stdin closes (the benchmark ended, however it ended) or a
/// signal stops the process.
pub fn serve(kind: Kind, socket: PathBuf) {
    exit_when_stdin_closes();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("cannot start the runtime: {e}")));
    rt.block_on(accept_loop(kind, socket));
}

fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
}

async fn accept_loop(kind: Kind, socket: PathBuf) {
    let listener = UnixListener::bind(&socket)
        .unwrap_or_else(|e| fail(&format!("cannot bind {}: {e}", socket.display())));
    let forwarder = Arc::new(Forwarder::new());
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{READY_LINE}").and_then(|_| out.flush());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let forwarder = forwarder.clone();
        let svc = service_fn(move |req| {
            let forwarder = forwarder.clone();
            async move {
                Ok::<_, std::convert::Infallible>(match kind {
                    Kind::Echo => echo(),
                    Kind::Forward => forward(&forwarder, req).await,
                })
            }
        });
        tokio::spawn(
            hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc),
        );
    }
}

fn echo() -> Response<Body> {
    let mut r = Response::new(full(crate::upstream::SMALL_JSON));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

async fn forward(forwarder: &Forwarder, req: Request<Incoming>) -> Response<Body> {
    let target = req
        .headers()
        .get("x-as-target-url")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<Uri>().ok());
    let Some(target) = target else {
        return status(
            StatusCode::BAD_REQUEST,
            b"x-as-target-url missing or not a URL",
        );
    };
    let (mut head, body) = req.into_parts();
    head.uri = target;
    // The client writes the target's host; the engine's own headers stay here.
    head.headers.remove(HOST);
    head.headers.remove("x-as-target-url");
    head.headers.remove("x-as-inject");
    head.headers.insert(AUTHORIZATION, forwarder.bearer.clone());
    match forwarder
        .client
        .request(Request::from_parts(head, body))
        .await
    {
        Ok(resp) => resp.map(BodyExt::boxed),
        Err(_) => status(StatusCode::BAD_GATEWAY, b"upstream unreachable"),
    }
}

fn status(code: StatusCode, msg: &'static [u8]) -> Response<Body> {
    let mut r = Response::new(full(msg));
    *r.status_mut() = code;
    r
}

fn full(bytes: &'static [u8]) -> Body {
    Full::new(Bytes::from_static(bytes))
        .map_err(|n| match n {})
        .boxed()
}
