//! The proxy served inside the test process from a [`Home`]'s files, with
//! its options adjustable, and a blocking client for it. Stopped when
//! dropped (its runtime goes with it).

use super::home::Home;
use std::path::PathBuf;
use std::time::Duration;

/// A proxy served in this process from `home`'s files.
pub struct Proxy {
    pub port: u16,
    pub token: String,
    pub socket: PathBuf,
    pub client: reqwest::Client,
    _rt: tokio::runtime::Runtime,
}

impl Proxy {
    pub fn start(home: &Home) -> Proxy {
        Self::start_with(home, |_| {})
    }

    pub fn start_with(
        home: &Home,
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
