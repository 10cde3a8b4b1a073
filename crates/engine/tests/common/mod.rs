//! Test fixtures: a temporary engine home set up through the real CLI, a
//! loopback upstream that records what it receives, and an in-process
//! proxy serving from that home.
#![allow(dead_code)]

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agentsecrets"))
}

/// A temporary home, initialised with the CLI.
pub struct TestHome {
    pub dir: tempfile::TempDir,
}

impl TestHome {
    pub fn new() -> TestHome {
        let dir = tempfile::Builder::new().prefix("as-").tempdir().unwrap();
        let h = TestHome { dir };
        h.cli_stdin(
            &[
                "init",
                "--admin-password-stdin",
                "--email",
                "dev@example.com",
            ],
            &format!("{ADMIN_PASSWORD}\n"),
        )
        .expect_ok();
        h
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .env("AGENTSECRETS_HOME", self.path())
            .env("AGENTSECRETS_KEY_STORE", "file")
            .env_remove("AGENTSECRETS_PORT");
        c
    }

    pub fn cli(&self, args: &[&str]) -> CliOutput {
        self.cli_stdin(args, "")
    }

    pub fn cli_stdin(&self, args: &[&str], stdin: &str) -> CliOutput {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        CliOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Stores a secret through stdin (never argv).
    pub fn set_secret(&self, key: &str, value: &str) {
        self.cli_stdin(&["secrets", "set", key], value).expect_ok();
    }

    pub fn set_secret_in(&self, project: &str, key: &str, value: &str) {
        self.cli_stdin(&["secrets", "set", key, "--project", project], value)
            .expect_ok();
    }

    /// Allowlists hosts through the human path (admin password on stdin).
    pub fn allow(&self, entries: &[&str]) {
        let mut args = vec!["workspace", "allowlist", "add"];
        args.extend_from_slice(entries);
        args.push("--password-stdin");
        self.cli_stdin(&args, &format!("{ADMIN_PASSWORD}\n"))
            .expect_ok();
    }

    /// Every byte of every file under the home, for leak scans.
    pub fn all_bytes(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(p: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                let path = e.path();
                let ft = e.file_type().unwrap();
                if ft.is_dir() {
                    walk(&path, out);
                } else if ft.is_file() {
                    out.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.path(), &mut out);
        out
    }

    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.path().join("proxy.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

pub struct CliOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
}

impl CliOutput {
    pub fn expect_ok(self) -> CliOutput {
        assert_eq!(
            self.code, 0,
            "agentsecrets {:?} failed: {}{}",
            self.args, self.stdout, self.stderr
        );
        self
    }
}

/// Every encoded form an echo test looks for.
pub fn encodings(value: &str) -> Vec<(&'static str, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let pct: String =
        percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let json = serde_json::to_string(value).unwrap();
    let json = json[1..json.len() - 1].to_owned();
    let uxxxx: String = value
        .encode_utf16()
        .map(|u| format!("\\u{u:04x}"))
        .collect();
    vec![
        ("raw", value.to_owned()),
        ("base64", b64.encode(value)),
        ("base64url", b64url.encode(value)),
        ("percent", pct),
        ("form", form),
        ("hex", value.bytes().map(|b| format!("{b:02x}")).collect()),
        ("json", json),
        ("json-uxxxx", uxxxx),
    ]
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// Asserts no encoded form of `value` appears in `bytes`.
pub fn assert_no_leak(what: &str, bytes: &[u8], value: &str) {
    for (form, enc) in encodings(value) {
        assert!(
            !contains(bytes, &enc),
            "{what} leaks the value in {form} form: {}",
            String::from_utf8_lossy(bytes)
        );
    }
}

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

/// A proxy served in this process from `home`'s files.
pub struct Proxy {
    pub port: u16,
    pub token: String,
    pub socket: PathBuf,
    pub client: reqwest::Client,
    _rt: tokio::runtime::Runtime,
}

impl Proxy {
    pub fn start(home: &TestHome) -> Proxy {
        Self::start_with(home, |_| {})
    }

    pub fn start_with(
        home: &TestHome,
        tweak: impl FnOnce(&mut agentsecrets_engine::proxy::ServeOptions),
    ) -> Proxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut opts = agentsecrets_engine::proxy::ServeOptions::new(0);
        tweak(&mut opts);
        let h = agentsecrets_engine::home::Home::at(home.path());
        let (tx, rx) = std::sync::mpsc::channel();
        std::env::set_var("AGENTSECRETS_KEY_STORE", "file");
        rt.spawn(async move {
            let tx2 = tx.clone();
            if let Err(e) = agentsecrets_engine::proxy::serve(h, opts, move |r| {
                tx2.send(Ok(r.clone())).unwrap()
            })
            .await
            {
                let _ = tx.send(Err(e.to_string()));
            }
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
            .expect("proxy starts");
        let token = std::fs::read_to_string(home.path().join("run/proxy.token")).unwrap();
        Proxy {
            port: ready.port,
            token,
            socket: PathBuf::from(ready.socket),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            _rt: rt,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/proxy", self.port)
    }

    /// A request to `/proxy` with the token.
    pub fn request(&self, method: reqwest::Method, target: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url())
            .header("X-AS-Token", &self.token)
            .header("X-AS-Target-URL", target)
    }

    pub fn send(&self, rb: reqwest::RequestBuilder) -> Answer {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let resp = rb.send().await.expect("engine answers");
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.map(|b| b.to_vec());
            Answer {
                status,
                headers,
                body: body.unwrap_or_default(),
            }
        })
    }
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn engine_error(&self) -> Option<String> {
        self.headers
            .get("x-as-engine-error")
            .map(|v| v.to_str().unwrap().to_owned())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The plan header for the extension protocol.
pub fn plan(items: &[(&str, Option<&str>, &str)]) -> String {
    let v: Vec<serde_json::Value> = items
        .iter()
        .map(|(style, target, secret)| match target {
            Some(t) => serde_json::json!({"style": style, "target": t, "secret": secret}),
            None => serde_json::json!({"style": style, "secret": secret}),
        })
        .collect();
    serde_json::to_string(&v).unwrap()
}
