//! The KV v2 HTTP API of OpenBao / HashiCorp Vault, spoken with the
//! engine's own hyper + rustls stack: the handful of endpoints needed
//! (read, list, write with check-and-set, token lookup, AppRole login) do
//! not justify a second HTTP client and TLS stack in the binary, which a
//! client crate such as `vaultrs` (built on reqwest) would add.
//!
//! Reads are retried with backoff on connection failures, timeouts and
//! 500/502/504; writes only when the connection was refused (the request
//! never left); nothing is retried on a 4xx or on a sealed server.
//! Tokens and values never appear in an error: messages name the server,
//! the path and the secret's key only.

use super::binding::{Auth, Binding, Source};
use super::errors;
use crate::error::{EngineError, Result};
use crate::vault::Vault;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

type Http = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Each attempt's limit, from connecting to the last byte of the answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts of a request that is safe to repeat.
const ATTEMPTS: u32 = 3;
/// First pause between attempts; each next one is three times longer.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// An answer larger than this is refused (a hostile server cannot bloat the engine).
const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// One secret as read: its value and KV version.
pub struct Versioned {
    pub value: Zeroizing<String>,
    pub version: u64,
}

/// A client for one binding. The AppRole login token is kept in memory only.
pub struct Kv {
    pub binding: Binding,
    http: Http,
    login: Mutex<Option<Zeroizing<String>>>,
    /// The token kept in the vault, for a binding whose token was typed.
    stored: Option<Zeroizing<String>>,
}

/// What one exchange returned.
struct Answer {
    status: StatusCode,
    body: Bytes,
}

impl Kv {
    /// A client for `binding`; a token it keeps in the vault is read now.
    pub fn new(binding: Binding, vault: &Vault) -> Result<Kv> {
        let stored = match &binding.auth {
            Auth::Token {
                token: Source::Vault(name),
            } => vault.credential(name)?,
            _ => None,
        };
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let https = HttpsConnectorBuilder::new()
            .with_provider_and_platform_verifier(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| EngineError::internal(format!("cannot load the TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let http = Client::builder(TokioExecutor::new()).build(https);
        Ok(Kv {
            binding,
            http,
            login: Mutex::new(None),
            stored,
        })
    }

    /// The secret at `path` (under the mount), `None` when it does not exist
    /// or its latest version is deleted.
    pub async fn read(&self, path: &str, key: &str) -> Result<Option<Versioned>> {
        let url = self.api(&format!("{}/data/{path}", self.binding.mount));
        let a = self.send(Method::GET, &url, None).await?;
        if a.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let v = self.expect_ok(a, &url, key).await?;
        let data = &v["data"];
        let version = data["metadata"]["version"].as_u64().unwrap_or(0);
        match data["data"]["value"].as_str() {
            Some(s) => Ok(Some(Versioned {
                value: Zeroizing::new(s.to_owned()),
                version,
            })),
            None => Err(errors::bad_shape(&self.binding, key)),
        }
    }

    /// The names directly under `folder` (sub-folders end with `/`); empty
    /// when the folder does not exist.
    pub async fn list(&self, folder: &str) -> Result<Vec<String>> {
        let url = self.api(&format!(
            "{}/metadata/{folder}?list=true",
            self.binding.mount
        ));
        let a = self.send(Method::GET, &url, None).await?;
        if a.status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        let v = self.expect_ok(a, &url, "").await?;
        Ok(v["data"]["keys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The current version of `path`, 0 when it does not exist.
    pub async fn current_version(&self, path: &str, key: &str) -> Result<u64> {
        let url = self.api(&format!("{}/metadata/{path}", self.binding.mount));
        let a = self.send(Method::GET, &url, None).await?;
        if a.status == StatusCode::NOT_FOUND {
            return Ok(0);
        }
        let v = self.expect_ok(a, &url, key).await?;
        Ok(v["data"]["current_version"].as_u64().unwrap_or(0))
    }

    /// Writes `value` at `path` only if its current version is `cas` (0: only
    /// if absent). Returns the new version; `REMOTE_CONFLICT` naming `key`
    /// when someone else wrote first.
    pub async fn write_cas(&self, path: &str, key: &str, value: &str, cas: u64) -> Result<u64> {
        let url = self.api(&format!("{}/data/{path}", self.binding.mount));
        let body = Zeroizing::new(
            serde_json::to_vec(&json!({ "options": { "cas": cas }, "data": { "value": value } }))
                .map_err(|e| EngineError::internal(e.to_string()))?,
        );
        let a = self
            .send(Method::POST, &url, Some(Bytes::copy_from_slice(&body)))
            .await?;
        if a.status == StatusCode::BAD_REQUEST && body_says(&a.body, "check-and-set") {
            return Err(errors::conflict(&self.binding, key));
        }
        let v = self.expect_ok(a, &url, key).await?;
        Ok(v["data"]["version"].as_u64().unwrap_or(0))
    }

    /// The JSON document kept at `path` (the shared allowlist) and its
    /// version; `None` when there is none.
    pub async fn read_document(&self, path: &str) -> Result<Option<(Value, u64)>> {
        let url = self.api(&format!("{}/data/{path}", self.binding.mount));
        let a = self.send(Method::GET, &url, None).await?;
        if a.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let v = self.expect_ok(a, &url, "").await?;
        let version = v["data"]["metadata"]["version"].as_u64().unwrap_or(0);
        Ok(Some((v["data"]["data"].clone(), version)))
    }

    /// Writes a JSON document at `path` if its version is still `cas`
    /// (0: only if absent); `REMOTE_CONFLICT` naming `what` otherwise.
    pub async fn write_document(
        &self,
        path: &str,
        what: &str,
        data: &Value,
        cas: u64,
    ) -> Result<()> {
        let url = self.api(&format!("{}/data/{path}", self.binding.mount));
        let body = serde_json::to_vec(&json!({ "options": { "cas": cas }, "data": data }))
            .map_err(|e| EngineError::internal(e.to_string()))?;
        let a = self.send(Method::POST, &url, Some(body.into())).await?;
        if a.status == StatusCode::BAD_REQUEST && body_says(&a.body, "check-and-set") {
            return Err(errors::conflict(&self.binding, what));
        }
        self.expect_ok(a, &url, "").await.map(drop)
    }

    fn api(&self, rest: &str) -> String {
        format!("{}/v1/{rest}", self.binding.address)
    }

    /// Turns an answer into its JSON, or the typed error for its status. A
    /// 403 is told apart: a token that no longer works (`SESSION_EXPIRED`)
    /// or a policy that denies this path (`REMOTE_DENIED`).
    async fn expect_ok(&self, a: Answer, url: &str, key: &str) -> Result<Value> {
        if a.status.is_success() {
            if a.body.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&a.body)
                .map_err(|_| errors::bad_shape(&self.binding, key));
        }
        let path = url.strip_prefix(&self.binding.address).unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        if a.status == StatusCode::FORBIDDEN {
            return Err(if self.token_works().await? {
                errors::denied(&self.binding, path, key)
            } else {
                errors::expired(&self.binding)
            });
        }
        Err(errors::status(
            &self.binding,
            a.status,
            path,
            key,
            body_says(&a.body, "sealed"),
        ))
    }

    /// Whether the current token is still valid (`auth/token/lookup-self`).
    async fn token_works(&self) -> Result<bool> {
        let url = self.api("auth/token/lookup-self");
        let a = self.send(Method::GET, &url, None).await?;
        Ok(a.status.is_success())
    }

    /// Sends with the binding's token. With AppRole, a token refused as
    /// invalid is replaced by a new login once.
    async fn send(&self, method: Method, url: &str, body: Option<Bytes>) -> Result<Answer> {
        let token = self.token().await?;
        let a = self
            .exchange(&method, url, body.clone(), Some(&token))
            .await?;
        if a.status == StatusCode::FORBIDDEN && matches!(self.binding.auth, Auth::AppRole { .. }) {
            *self.login.lock().await = None;
            let token = self.token().await?;
            return self.exchange(&method, url, body, Some(&token)).await;
        }
        Ok(a)
    }

    /// The token to send: read from its source each time (a rotated file is
    /// picked up), or the AppRole login's, logging in when there is none.
    async fn token(&self) -> Result<Zeroizing<String>> {
        match &self.binding.auth {
            Auth::Token {
                token: source @ Source::Vault(_),
            } => self
                .stored
                .clone()
                .ok_or_else(|| errors::credential_missing("token", source)),
            Auth::Token { token } => read_credential(token, "token"),
            Auth::AppRole {
                role_id,
                secret_id,
                mount,
            } => {
                let mut login = self.login.lock().await;
                if let Some(t) = login.as_ref() {
                    return Ok(t.clone());
                }
                let t = self.approle_login(role_id, secret_id, mount).await?;
                *login = Some(t.clone());
                Ok(t)
            }
        }
    }

    async fn approle_login(
        &self,
        role_id: &Source,
        secret_id: &Source,
        mount: &str,
    ) -> Result<Zeroizing<String>> {
        let role_id = read_credential(role_id, "AppRole role id")?;
        let secret_id = read_credential(secret_id, "AppRole secret id")?;
        let body = Zeroizing::new(
            serde_json::to_vec(&json!({ "role_id": *role_id, "secret_id": *secret_id }))
                .map_err(|e| EngineError::internal(e.to_string()))?,
        );
        let url = self.api(&format!("auth/{mount}/login"));
        let a = self
            .exchange(
                &Method::POST,
                &url,
                Some(Bytes::copy_from_slice(&body)),
                None,
            )
            .await?;
        if a.status == StatusCode::BAD_REQUEST || a.status == StatusCode::FORBIDDEN {
            return Err(errors::login_refused(&self.binding));
        }
        if !a.status.is_success() {
            let sealed = body_says(&a.body, "sealed");
            return Err(errors::status(
                &self.binding,
                a.status,
                &format!("/v1/auth/{mount}/login"),
                "",
                sealed,
            ));
        }
        let v: Value =
            serde_json::from_slice(&a.body).map_err(|_| errors::bad_shape(&self.binding, ""))?;
        v["auth"]["client_token"]
            .as_str()
            .map(|t| Zeroizing::new(t.to_owned()))
            .ok_or_else(|| errors::bad_shape(&self.binding, ""))
    }

    /// One request with the retries that are safe for it.
    async fn exchange(
        &self,
        method: &Method,
        url: &str,
        body: Option<Bytes>,
        token: Option<&str>,
    ) -> Result<Answer> {
        let idempotent = *method == Method::GET;
        let mut pause = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(method, url, body.clone(), token).await;
            let retry = match &outcome {
                Ok(a) => idempotent && matches!(a.status.as_u16(), 500 | 502 | 504),
                Err(Failure::Refused) => true,
                Err(Failure::Other) => idempotent,
            };
            if !retry || attempt == ATTEMPTS {
                return outcome.map_err(|_| errors::unreachable(&self.binding));
            }
            tokio::time::sleep(pause).await;
            pause *= 3;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<Bytes>,
        token: Option<&str>,
    ) -> std::result::Result<Answer, Failure> {
        let mut req = Request::builder().method(method.clone()).uri(url);
        if let Some(t) = token {
            let mut value = http::HeaderValue::from_str(t).map_err(|_| Failure::Other)?;
            value.set_sensitive(true);
            req = req.header("X-Vault-Token", value);
        }
        if body.is_some() {
            req = req.header(http::header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|_| Failure::Other)?;
        let exchange = async {
            let res = self.http.request(req).await.map_err(|e| {
                if e.is_connect() {
                    Failure::Refused
                } else {
                    Failure::Other
                }
            })?;
            let status = res.status();
            let body = Limited::new(res.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|_| Failure::Other)?
                .to_bytes();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(ATTEMPT_TIMEOUT, exchange)
            .await
            .map_err(|_| Failure::Other)?
    }
}

/// Why an attempt got no answer: refused before anything was sent, or
/// something else (timeout, reset, TLS).
enum Failure {
    Refused,
    Other,
}

/// Whether an error answer's `errors` mention `word` (never shown: only tested).
fn body_says(body: &Bytes, word: &str) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["errors"].as_array().cloned())
        .is_some_and(|errs| {
            errs.iter()
                .filter_map(Value::as_str)
                .any(|e| e.to_ascii_lowercase().contains(word))
        })
}

/// Reads a token or AppRole id from its environment variable or 0600 file.
pub fn read_credential(source: &Source, what: &str) -> Result<Zeroizing<String>> {
    let text = match source {
        Source::Env(name) => Zeroizing::new(std::env::var(name).unwrap_or_default()),
        Source::Vault(_) => return Err(errors::credential_missing(what, source)),
        Source::File(path) => {
            let meta =
                std::fs::metadata(path).map_err(|_| errors::credential_missing(what, source))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(errors::credential_exposed(what, path));
            }
            Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|_| errors::credential_missing(what, source))?,
            )
        }
    };
    let trimmed = text.trim();
    // Sent as a header: printable ASCII only (OpenBao's tokens and ids are).
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(errors::credential_missing(what, source));
    }
    Ok(Zeroizing::new(trimmed.to_owned()))
}
