//! The loopback upstream: a tiny JSON answer and a large streamed body;
//! counts the connections it accepts (to see whether callers reuse them).

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The small answer, also the echo floor's.
pub const SMALL_JSON: &[u8] = br#"{"ok":true,"items":[1,2,3]}"#;

pub struct Upstream {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicU64>,
}

/// Runs the upstream on its own runtime thread.
pub fn start(stream_bytes: u64, uniform: bool) -> Upstream {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicU64::new(0));
    let conns = connections.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    continue;
                };
                let _ = s.set_nodelay(true);
                conns.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<hyper::body::Incoming>| async move {
                        Ok::<_, std::convert::Infallible>(answer(
                            req.uri().path(),
                            stream_bytes,
                            uniform,
                        ))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(s), svc)
                        .await;
                });
            }
        });
    });
    Upstream { addr, connections }
}

/// 64 KiB of text shaped like a JSON API answer (ids, words, numbers,
/// URLs, escaped quotes and line breaks), the kind of body a redactor
/// really scans.
fn json_chunk() -> Bytes {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut i = 0x9E37_79B9u64;
    while out.len() < 64 * 1024 {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let item = format!(
            "{{\"id\":\"obj_{:016x}\",\"amount\":{},\"description\":\"Order #{} for \\\"customer\\\"\\n\",\"url\":\"https://api.example.com/v1/charges/{:x}?expand=data\"}},\n",
            i,
            i % 100_000,
            i % 9973,
            i >> 20
        );
        out.extend_from_slice(item.as_bytes());
    }
    out.truncate(64 * 1024);
    Bytes::from(out)
}

fn answer(
    path: &str,
    stream_bytes: u64,
    uniform: bool,
) -> Response<BoxBody<Bytes, std::io::Error>> {
    if path == "/stream" {
        let chunk = if uniform {
            Bytes::from(vec![b'a'; 64 * 1024])
        } else {
            json_chunk()
        };
        let n = stream_bytes / chunk.len() as u64;
        let frames = futures_util::stream::iter(
            (0..n).map(move |_| Ok::<_, std::io::Error>(Frame::data(chunk.clone()))),
        );
        return Response::new(StreamBody::new(frames).boxed());
    }
    let mut r = Response::new(
        Full::new(Bytes::from_static(SMALL_JSON))
            .map_err(|n| match n {})
            .boxed(),
    );
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r
}
