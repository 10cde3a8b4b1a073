//! The request body on its way upstream. A body that no injection needs to
//! see streams through as it arrives (bounded memory, no size limit); one
//! with a body or form injection is read whole first, within
//! [`MAX_REQUEST_BODY`]. While a body streams, the wait for the answer is
//! bounded by progress (no byte sent and no answer for the engine's timeout)
//! rather than by a fixed time, so a large upload is never cut for being large.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Upper bound on a request body the engine buffers (for body and form
/// injection); other bodies stream without a limit.
pub const MAX_REQUEST_BODY: usize = 32 * 1024 * 1024;

/// Past [`MAX_REQUEST_BODY`], at most this much more is read and dropped
/// (for at most [`DRAIN_TIME`]) before the refusal is sent: a caller still
/// sending then receives the answer, instead of a connection reset that
/// discards it.
const DRAIN_BYTES: u64 = 64 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Why a body could not be read whole.
pub enum ReadWholeError {
    /// Over [`MAX_REQUEST_BODY`].
    TooLarge,
    Failed,
}

/// Reads a body that an injection needs whole, within [`MAX_REQUEST_BODY`].
pub async fn read_whole(mut body: Incoming) -> Result<Bytes, ReadWholeError> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ReadWholeError::Failed)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len() + data.len() > MAX_REQUEST_BODY {
            drop(buf);
            drain(body).await;
            return Err(ReadWholeError::TooLarge);
        }
        buf.extend_from_slice(&data);
    }
    Ok(buf.freeze())
}

/// Reads and drops what follows, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
async fn drain(mut body: Incoming) {
    let mut left = DRAIN_BYTES;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            let n = frame.data_ref().map_or(0, |d| d.len() as u64);
            if n >= left {
                break;
            }
            left -= n;
        }
    })
    .await;
}

/// The body of the upstream request. Its error is a concrete type: a boxed
/// one makes the client's futures too general for the server's executor.
pub type OutBody = UnsyncBoxBody<Bytes, hyper::Error>;

/// A body read whole (after injection).
pub fn whole(bytes: Vec<u8>) -> OutBody {
    Full::new(Bytes::from(bytes))
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Bytes of a streamed body sent so far, shared with the wait for the answer.
#[derive(Clone, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The caller's body passed through, counting what went by.
pub struct Streamed {
    inner: Incoming,
    progress: Progress,
}

/// The caller's body as the upstream request's body.
pub fn streamed(inner: Incoming, progress: Progress) -> OutBody {
    Streamed { inner, progress }.boxed_unsync()
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.progress
                        .0
                        .fetch_add(data.len() as u64 + 1, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Awaits `answer` while `progress` moves: fails with `None` once neither a
/// byte of the body went out nor the answer came for `idle`.
pub async fn while_progressing<T>(
    answer: impl std::future::Future<Output = T>,
    progress: &Progress,
    idle: Duration,
) -> Option<T> {
    tokio::pin!(answer);
    let mut last = progress.get();
    loop {
        match tokio::time::timeout(idle, &mut answer).await {
            Ok(v) => return Some(v),
            Err(_) => {
                let now = progress.get();
                if now == last {
                    return None;
                }
                last = now;
            }
        }
    }
}
