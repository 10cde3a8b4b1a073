//! A request body streamed from JS (`fetch()` with a `ReadableStream` or an
//! async iterable): JS writes chunks into a small bounded channel and each
//! `write()` resolves only once its chunk has room, so a slow upstream slows
//! the JS producer and memory stays bounded.

use crate::errors::SdkError;
use bytes::Bytes;
use http_body::{Body, Frame};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Chunks waiting to be sent, at most.
const QUEUED_CHUNKS: usize = 4;

/// The JS end of a streamed request body.
#[napi]
pub struct NativeUpload {
    tx: Mutex<Option<mpsc::Sender<Bytes>>>,
    body: Mutex<Option<UploadBody>>,
    ended: Arc<AtomicBool>,
    sent: Progress,
}

/// The HTTP end: the body of the request sent to the engine.
pub struct UploadBody {
    rx: mpsc::Receiver<Bytes>,
    ended: Arc<AtomicBool>,
    sent: Progress,
}

/// Chunks of a streamed body taken by the HTTP client so far: while it
/// moves, the call is not stuck, however long the upload takes.
#[derive(Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[napi]
impl NativeUpload {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let (tx, rx) = mpsc::channel(QUEUED_CHUNKS);
        let ended = Arc::new(AtomicBool::new(false));
        let sent = Progress::default();
        NativeUpload {
            tx: Mutex::new(Some(tx)),
            body: Mutex::new(Some(UploadBody {
                rx,
                ended: Arc::clone(&ended),
                sent: sent.clone(),
            })),
            ended,
            sent,
        }
    }

    /// Queues `chunk`; resolves once there is room. Rejects once the
    /// request is over (answered, failed or aborted): stop writing then.
    #[napi]
    pub async fn write(&self, chunk: Buffer) -> napi::Result<()> {
        let _busy = crate::linger::InFlight::enter();
        let tx = self.tx.lock().expect("upload sender").clone();
        let Some(tx) = tx else {
            return Err(over().into());
        };
        tx.send(Bytes::copy_from_slice(&chunk))
            .await
            .map_err(|_| over().into())
    }

    /// The body is complete.
    #[napi]
    pub fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.tx.lock().expect("upload sender").take();
    }

    /// The body failed: the request is aborted, never sent as if complete.
    #[napi]
    pub fn fail(&self) {
        self.tx.lock().expect("upload sender").take();
    }
}

impl NativeUpload {
    /// The body for the request; only once.
    pub fn take_body(&self) -> Option<UploadBody> {
        self.body.lock().expect("upload body").take()
    }

    pub fn progress(&self) -> Progress {
        self.sent.clone()
    }
}

fn over() -> SdkError {
    SdkError::aborted()
        .fix("the request is already over (answered, failed or aborted); nothing more is sent")
}

/// A body whose producer went away without `end()`.
#[derive(Debug)]
struct Incomplete;

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body stream failed before its end")
    }
}

impl std::error::Error for Incomplete {}

impl Body for UploadBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => {
                self.sent.0.fetch_add(1, Ordering::Relaxed);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Poll::Ready(None) if self.ended.load(Ordering::Acquire) => Poll::Ready(None),
            Poll::Ready(None) => Poll::Ready(Some(Err(Box::new(Incomplete)))),
            Poll::Pending => Poll::Pending,
        }
    }
}
