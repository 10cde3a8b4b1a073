//! The native client behind the JS `AgentSecrets` class: configuration, the
//! cached backend (discovered once, even under concurrent first calls),
//! cancellation and the `call` entry point.

use crate::config::{Config, NativeClientOptions};
use crate::discovery::{self, Backend};
use crate::errors::{SdkError, SdkResult};
use crate::fetch::{self, NativeFetchResponse};
use crate::options::{NativeCallRequest, PreparedCall};
use crate::response::{self, NativeResponse, Peer};
use crate::transport::{self, SendError};
use crate::upload::{NativeUpload, Progress, UploadBody};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What the client resolved, for diagnostics and tests.
#[napi(object)]
pub struct NativeBackendInfo {
    pub kind: discovery::BackendKind,
    pub via_socket: bool,
    /// How the client knows it is the right backend.
    pub auth: discovery::Auth,
    pub base_url: String,
    pub version: Option<String>,
    pub features: Vec<String>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    direct: Mutex<Option<reqwest::Client>>,
    /// Held while discovering, so concurrent first calls start one engine.
    backend: tokio::sync::Mutex<Option<Arc<Backend>>>,
    calls: Mutex<HashMap<u32, watch::Sender<bool>>>,
    /// The CLI binary and what it is (crate::cli_backend), once asked.
    pub(crate) cli: Mutex<Option<(String, agentsecrets_wire::CliVersion)>>,
    closed: AtomicBool,
}

#[napi]
pub struct NativeClient {
    pub(crate) inner: Arc<Inner>,
}

#[napi]
impl NativeClient {
    #[napi(constructor)]
    pub fn new(options: Option<NativeClientOptions>) -> napi::Result<Self> {
        let o = options.unwrap_or(NativeClientOptions {
            port: None,
            home: None,
            workspace: None,
            project: None,
            auto_start: None,
            cli: None,
            engine_candidates: None,
            backend: None,
        });
        let config = Config::resolve(o)?;
        if let Some(w) = &config.workspace {
            agentsecrets_wire::names::validate_scope_name("workspace", w)
                .map_err(SdkError::from)?;
        }
        if let Some(p) = &config.project {
            agentsecrets_wire::names::validate_scope_name("project", p).map_err(SdkError::from)?;
        }
        Ok(NativeClient {
            inner: Arc::new(Inner {
                config,
                direct: Mutex::new(None),
                backend: tokio::sync::Mutex::new(None),
                calls: Mutex::new(HashMap::new()),
                cli: Mutex::new(None),
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// The home this client uses.
    #[napi(getter)]
    pub fn home(&self) -> String {
        self.inner.config.home.display().to_string()
    }

    /// The backend this client is bound to: `engine` (default) or
    /// `upstream-proxy` (only when chosen explicitly).
    #[napi(getter)]
    pub fn backend(&self) -> String {
        self.inner.config.backend.as_str().to_owned()
    }

    /// Starts a call. `call_id` lets `cancel(call_id)` abort it; it is
    /// registered before this returns, so an abort right after cannot be lost.
    #[napi(ts_return_type = "Promise<NativeResponse>")]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        request: NativeCallRequest,
        call_id: u32,
    ) -> napi::Result<PromiseRaw<'env, NativeResponse>> {
        self.start(env, request, call_id, None, |inner, call| async move {
            run_call(&inner, call).await
        })
    }

    /// Starts a streamed call: resolves with the status and headers, and a
    /// body read chunk by chunk (`read()`). `timeoutMs` and `cancel(call_id)`
    /// cover the wait for the headers; the body has its own `cancel()`.
    /// `upload`, when given, is the request body, streamed from JS.
    #[napi(ts_return_type = "Promise<NativeFetchResponse>")]
    pub fn fetch<'env>(
        &self,
        env: &'env Env,
        request: NativeCallRequest,
        call_id: u32,
        upload: Option<&NativeUpload>,
    ) -> napi::Result<PromiseRaw<'env, NativeFetchResponse>> {
        let progress = upload.map(NativeUpload::progress);
        let upload = upload.and_then(NativeUpload::take_body);
        self.start(env, request, call_id, progress, |inner, call| async move {
            run_fetch(&inner, call, upload).await
        })
    }

    /// Validates `request`, registers `call_id` for `cancel()`, and runs
    /// `work` under the call's timeout (with a streamed body, a timeout of
    /// each pause: see [`bounded`]).
    fn start<'env, T, F, Fut>(
        &self,
        env: &'env Env,
        request: NativeCallRequest,
        call_id: u32,
        progress: Option<Progress>,
        work: F,
    ) -> napi::Result<PromiseRaw<'env, T>>
    where
        T: napi::bindgen_prelude::ToNapiValue + Send + 'static,
        F: FnOnce(Arc<Inner>, PreparedCall) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = SdkResult<T>> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let (tx, mut rx) = watch::channel(false);
        let prepared = if inner.closed.load(Ordering::Acquire) {
            Err(SdkError::closed())
        } else {
            PreparedCall::prepare(
                request,
                inner.config.workspace.as_deref(),
                inner.config.project.as_deref(),
            )
        };
        if prepared.is_ok() {
            inner
                .calls
                .lock()
                .expect("call registry")
                .insert(call_id, tx);
        }
        env.spawn_future(async move {
            let _busy = crate::linger::InFlight::enter();
            let call = prepared?;
            let timeout_ms = call.timeout_ms;
            let work = work(Arc::clone(&inner), call);
            let result = tokio::select! {
                r = bounded(work, timeout_ms, progress) => r,
                _ = rx.wait_for(|cancelled| *cancelled) => Err(SdkError::aborted()),
            };
            inner.calls.lock().expect("call registry").remove(&call_id);
            result.map_err(napi::Error::from)
        })
    }

    /// Aborts the call started with `call_id` (no effect once it finished).
    #[napi]
    pub fn cancel(&self, call_id: u32) {
        if let Some(tx) = self
            .inner
            .calls
            .lock()
            .expect("call registry")
            .get(&call_id)
        {
            let _ = tx.send(true);
        }
    }

    /// Discovers (and if allowed starts) the backend now, instead of on the
    /// first call that needs it.
    #[napi]
    pub async fn connect(&self) -> napi::Result<NativeBackendInfo> {
        let _busy = crate::linger::InFlight::enter();
        let b = backend(&self.inner).await?;
        Ok(NativeBackendInfo {
            kind: b.kind,
            via_socket: b.via_socket,
            auth: b.auth,
            base_url: b.base_url.clone(),
            version: b.health.version.clone(),
            features: b.health.features.clone(),
        })
    }

    /// Releases pooled connections; later calls are refused.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.direct.lock().expect("direct client").take();
        self.inner.backend.lock().await.take();
        Ok(())
    }
}

/// `work` within `timeout_ms` (0: unbounded). While a streamed request body
/// moves the call is not stuck: the timeout then bounds each pause (no chunk
/// taken and no answer for `timeout_ms`), so a long upload is not cut.
async fn bounded<T>(
    work: impl std::future::Future<Output = SdkResult<T>>,
    timeout_ms: u32,
    progress: Option<Progress>,
) -> SdkResult<T> {
    if timeout_ms == 0 {
        return work.await;
    }
    let limit = Duration::from_millis(u64::from(timeout_ms));
    let timed_out = || Err(SdkError::timeout(u64::from(timeout_ms)));
    let Some(progress) = progress else {
        return tokio::time::timeout(limit, work)
            .await
            .unwrap_or_else(|_| timed_out());
    };
    tokio::pin!(work);
    let mut last = progress.get();
    loop {
        if let Ok(r) = tokio::time::timeout(limit, &mut work).await {
            return r;
        }
        let now = progress.get();
        if now == last {
            return timed_out();
        }
        last = now;
    }
}

async fn backend(inner: &Inner) -> SdkResult<Arc<Backend>> {
    let mut guard = inner.backend.lock().await;
    if let Some(b) = guard.as_ref() {
        return Ok(Arc::clone(b));
    }
    if inner.closed.load(Ordering::Acquire) {
        return Err(SdkError::closed());
    }
    let b = Arc::new(discovery::discover(&inner.config).await?);
    *guard = Some(Arc::clone(&b));
    Ok(b)
}

/// Forgets `stale` (if still cached) so that the next call rediscovers.
async fn forget(inner: &Inner, stale: &Arc<Backend>) {
    let mut guard = inner.backend.lock().await;
    if guard.as_ref().is_some_and(|b| Arc::ptr_eq(b, stale)) {
        *guard = None;
    }
}

fn direct(inner: &Inner) -> SdkResult<reqwest::Client> {
    let mut guard = inner.direct.lock().expect("direct client");
    if let Some(c) = guard.as_ref() {
        return Ok(c.clone());
    }
    let c = transport::direct_client()?;
    *guard = Some(c.clone());
    Ok(c)
}

async fn run_fetch(
    inner: &Inner,
    call: PreparedCall,
    upload: Option<UploadBody>,
) -> SdkResult<NativeFetchResponse> {
    let url = call.url.to_string();
    let streams = upload.is_some();
    let upload = upload.map(reqwest::Body::wrap);
    let mut b = backend(inner).await?;
    if call.plan.is_empty() && b.kind == discovery::BackendKind::UpstreamProxy {
        // As in run_call: the upstream proxy refuses calls without injection.
        let client = direct(inner)?;
        let res = transport::head_direct(&client, &call, upload)
            .await
            .map_err(SendError::into_inner)?;
        return fetch::open(res, Peer::Direct, url).await;
    }
    let res = match transport::head_proxied(&b, &call, upload).await {
        Ok(r) => r,
        // A streamed body is gone with the first attempt: no retry.
        Err(SendError::Connect(_)) if !streams => {
            forget(inner, &b).await;
            b = backend(inner).await?;
            transport::head_proxied(&b, &call, None)
                .await
                .map_err(SendError::into_inner)?
        }
        Err(SendError::Answer(e)) => return Err(e),
        Err(SendError::Connect(e)) | Err(SendError::Other(e)) => {
            forget(inner, &b).await;
            return Err(e);
        }
    };
    let peer = match b.kind {
        discovery::BackendKind::Engine => Peer::Engine,
        discovery::BackendKind::UpstreamProxy => Peer::UpstreamProxy,
    };
    fetch::open(res, peer, url).await
}

async fn run_call(inner: &Inner, call: PreparedCall) -> SdkResult<NativeResponse> {
    let started = Instant::now();
    let url = call.url.to_string();
    let mut b = backend(inner).await?;
    if call.plan.is_empty() && b.kind == discovery::BackendKind::UpstreamProxy {
        // The upstream proxy refuses a call without an injection, and only
        // redacts injected values anyway: such a call goes straight out.
        // The engine scans every answer for every value it holds, so with
        // the engine even these go through it (read-back).
        let client = direct(inner)?;
        let answer = transport::send_direct(&client, &call)
            .await
            .map_err(SendError::into_inner)?;
        return response::classify(
            answer,
            Peer::Direct,
            &url,
            call.throw_on_http_error,
            elapsed_ms(started),
        );
    }
    let answer = match transport::send_proxied(&b, &call).await {
        Ok(a) => a,
        Err(SendError::Connect(_)) => {
            // The engine went away before anything was sent: rediscover once,
            // which restarts it when autoStart is on.
            forget(inner, &b).await;
            b = backend(inner).await?;
            transport::send_proxied(&b, &call)
                .await
                .map_err(|e| e.into_inner())?
        }
        Err(SendError::Answer(e)) => return Err(e),
        Err(SendError::Other(e)) => {
            // Mid-call failure: not retried (the request may have been
            // forwarded), but the next call rediscovers the engine.
            forget(inner, &b).await;
            return Err(e);
        }
    };
    let peer = match b.kind {
        discovery::BackendKind::Engine => Peer::Engine,
        discovery::BackendKind::UpstreamProxy => Peer::UpstreamProxy,
    };
    response::classify(
        answer,
        peer,
        &url,
        call.throw_on_http_error,
        elapsed_ms(started),
    )
}

fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}
