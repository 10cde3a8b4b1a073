//! The response body: streamed from the upstream through the redactor,
//! capped in size and in the length of a pause, with an optional
//! `X-AS-Redacted` trailer. When it ends (or the caller goes away) it writes
//! the call's audit event.

use super::forward::UpstreamBody;
use crate::redact::StreamRedactor;
use agentsecrets_wire::headers;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

type Upstream = Pin<Box<UpstreamBody>>;

/// Called once with (redacted anywhere, body completed).
pub type OnFinish = Box<dyn FnOnce(bool, bool) + Send>;

pub struct RedactingBody {
    upstream: Option<Upstream>,
    redactor: StreamRedactor,
    headers_redacted: bool,
    max_bytes: u64,
    seen: u64,
    /// The longest pause between two pieces of the upstream body.
    idle: Duration,
    stall: Pin<Box<Sleep>>,
    trailers: bool,
    trailers_sent: bool,
    on_finish: Option<OnFinish>,
}

impl RedactingBody {
    pub fn new(
        upstream: UpstreamBody,
        redactor: StreamRedactor,
        headers_redacted: bool,
        max_bytes: u64,
        idle: Duration,
        trailers: bool,
        on_finish: OnFinish,
    ) -> Self {
        RedactingBody {
            upstream: Some(Box::pin(upstream)),
            redactor,
            headers_redacted,
            max_bytes,
            seen: 0,
            idle,
            stall: Box::pin(tokio::time::sleep(idle)),
            trailers,
            trailers_sent: false,
            on_finish: Some(on_finish),
        }
    }

    fn redacted(&self) -> bool {
        self.headers_redacted || self.redactor.redacted()
    }

    fn finish(&mut self, completed: bool) {
        if let Some(f) = self.on_finish.take() {
            f(self.redacted(), completed);
        }
    }
}

/// Why a body stream was cut. The message never holds upstream text.
#[derive(Debug)]
pub struct BodyCut(pub &'static str);

impl std::fmt::Display for BodyCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for BodyCut {}

impl Body for RedactingBody {
    type Data = Bytes;
    type Error = BodyCut;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        let this = &mut *self;
        loop {
            let Some(up) = this.upstream.as_mut() else {
                if this.trailers && !this.trailers_sent {
                    this.trailers_sent = true;
                    let mut t = HeaderMap::new();
                    let v = if this.redacted() { "true" } else { "false" };
                    t.insert(headers::REDACTED, HeaderValue::from_static(v));
                    // The trailers end the body: hyper may drop it without polling again.
                    this.finish(true);
                    return Poll::Ready(Some(Ok(Frame::trailers(t))));
                }
                this.finish(true);
                return Poll::Ready(None);
            };
            match up.as_mut().poll_frame(cx) {
                Poll::Pending => {
                    if this.stall.as_mut().poll(cx).is_ready() {
                        this.upstream = None;
                        this.finish(false);
                        return Poll::Ready(Some(Err(BodyCut("the upstream body stalled"))));
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Some(Ok(frame))) => {
                    this.stall.as_mut().reset(Instant::now() + this.idle);
                    // Upstream trailers are not passed on.
                    let Ok(chunk) = frame.into_data() else {
                        continue;
                    };
                    this.seen += chunk.len() as u64;
                    if this.seen > this.max_bytes {
                        this.upstream = None;
                        this.finish(false);
                        return Poll::Ready(Some(Err(BodyCut(
                            "response body over the engine's size limit",
                        ))));
                    }
                    let out = this.redactor.push_bytes(chunk);
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(out))));
                    }
                }
                Poll::Ready(Some(Err(_))) => {
                    this.upstream = None;
                    this.finish(false);
                    return Poll::Ready(Some(Err(BodyCut("the upstream body failed"))));
                }
                Poll::Ready(None) => {
                    this.upstream = None;
                    let rest = this.redactor.finish();
                    if !rest.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(rest))));
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl Drop for RedactingBody {
    fn drop(&mut self) {
        // The caller went away mid-stream: still audit the call.
        self.finish(false);
    }
}
