//! A loopback upstream that records every request and answers as the test
//! says: whole, in paced chunks, endlessly, or never.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

type Handler = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

/// What the upstream answers.
pub enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Chunks sent with a pause between them.
    Chunks {
        headers: Vec<(String, String)>,
        chunks: Vec<Vec<u8>>,
        pause: Duration,
    },
    /// An endless body.
    Endless,
    /// Never answers.
    Stall,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status: 200,
            headers: vec![],
            body: body.into(),
        }
    }
}

/// A loopback upstream recording requests; `handler` builds each answer.
pub struct Upstream {
    pub addr: std::net::SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    _rt: tokio::runtime::Runtime,
}

impl Upstream {
    pub fn start(handler: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Upstream {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let rec = received.clone();
        rt.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let rec = rec.clone();
                let handler = handler.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let rec = rec.clone();
                        let handler = handler.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes().to_vec())
                                .unwrap_or_default();
                            let r = Received {
                                method: parts.method.to_string(),
                                path: parts.uri.path().to_owned(),
                                query: parts.uri.query().map(str::to_owned),
                                headers: parts
                                    .headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            k.as_str().to_owned(),
                                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                        )
                                    })
                                    .collect(),
                                body,
                            };
                            rec.lock().unwrap().push(r.clone());
                            Ok::<_, std::convert::Infallible>(respond(handler(&r)).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Upstream {
            addr,
            received,
            _rt: rt,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn last(&self) -> Received {
        self.received
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("upstream received a request")
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

type BoxBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

async fn respond(reply: Reply) -> Response<BoxBody> {
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut r = Response::builder().status(status);
            for (k, v) in headers {
                r = r.header(k, v);
            }
            r.body(Full::new(Bytes::from(body)).map_err(|n| match n {}).boxed())
                .unwrap()
        }
        Reply::Chunks {
            headers,
            chunks,
            pause,
        } => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
            tokio::spawn(async move {
                for c in chunks {
                    if tx.send(Ok(Frame::data(Bytes::from(c)))).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(pause).await;
                }
            });
            let mut r = Response::builder().status(200);
            for (k, v) in headers {
                r = r.header(k, v);
            }
            let stream = tokio_stream_from(rx);
            r.body(StreamBody::new(stream).boxed()).unwrap()
        }
        Reply::Endless => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
            tokio::spawn(async move {
                let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                while tx.send(Ok(Frame::data(chunk.clone()))).await.is_ok() {}
            });
            Response::new(StreamBody::new(tokio_stream_from(rx)).boxed())
        }
        Reply::Stall => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            unreachable!()
        }
    }
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
