//! The response body: streamed from the upstream through the redactor,
//! capped in size, in the length of a pause and in total duration, with
//! optional trailers: `X-AS-Redacted`, and `X-AS-Engine-Error` when the body
//! was cut. It owns the call's [`Call`]: when the body ends, is cut, or is
//! dropped by a caller that went away, it finishes the call (its audit line).

use super::context::{Call, Outcome};
use super::forward::UpstreamBody;
use super::Limits;
use crate::redact::StreamRedactor;
use agentsecrets_wire::error::Cut;
use agentsecrets_wire::headers;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

type Upstream = Pin<Box<UpstreamBody>>;

pub struct RedactingBody {
    upstream: Option<Upstream>,
    redactor: StreamRedactor,
    headers_redacted: bool,
    max_bytes: u64,
    seen: u64,
    /// The longest pause between two pieces of the upstream body.
    idle: Duration,
    stall: Pin<Box<Sleep>>,
    /// When the whole body must have arrived.
    deadline: Pin<Box<Sleep>>,
    trailers: bool,
    trailers_sent: bool,
    /// The call this body answers, until it is finished.
    call: Option<Call>,
    /// The answer's status, for the audit line.
    status: u16,
}

impl RedactingBody {
    pub fn new(
        upstream: UpstreamBody,
        redactor: StreamRedactor,
        headers_redacted: bool,
        limits: &Limits,
        trailers: bool,
        call: Call,
        status: u16,
    ) -> Self {
        RedactingBody {
            upstream: Some(Box::pin(upstream)),
            redactor,
            headers_redacted,
            max_bytes: limits.max_response_bytes,
            seen: 0,
            idle: limits.timeout,
            stall: Box::pin(tokio::time::sleep(limits.timeout)),
            deadline: Box::pin(tokio::time::sleep(limits.deadline)),
            trailers,
            trailers_sent: false,
            call: Some(call),
            status,
        }
    }

    fn redacted(&self) -> bool {
        self.headers_redacted || self.redactor.redacted()
    }

    /// Finishes the call, once: whichever of end, cut or drop comes first.
    fn finish(&mut self, completed: bool) {
        if let Some(call) = self.call.take() {
            let (status, redacted) = (self.status, self.redacted());
            call.finish(if completed {
                Outcome::Answered { status, redacted }
            } else {
                Outcome::Cut { status, redacted }
            });
        }
    }

    /// The trailers, with the cut's code when the body was cut.
    fn trailer_frame(&mut self, cut: Option<Cut>) -> Frame<Bytes> {
        self.trailers_sent = true;
        let mut t = HeaderMap::new();
        let v = if self.redacted() { "true" } else { "false" };
        t.insert(headers::REDACTED, HeaderValue::from_static(v));
        if let Some(cut) = cut {
            t.insert(
                headers::ENGINE_ERROR,
                HeaderValue::from_static(cut.code().as_str()),
            );
        }
        Frame::trailers(t)
    }

    /// Ends the body early: with the error trailer when the caller asked
    /// for trailers (the body then ends cleanly and the trailer says why),
    /// else by failing the stream (the connection is closed mid-body).
    /// Whatever the redactor still holds is dropped, never sent.
    fn cut(&mut self, cut: Cut) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        self.upstream = None;
        self.finish(false);
        if self.trailers && !self.trailers_sent {
            return Poll::Ready(Some(Ok(self.trailer_frame(Some(cut)))));
        }
        Poll::Ready(Some(Err(BodyCut(cut))))
    }
}

/// Why a body stream was cut. The message never holds upstream text.
#[derive(Debug)]
pub struct BodyCut(pub Cut);

impl std::fmt::Display for BodyCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.message())
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
                // The trailers end the body: hyper may drop it without polling again.
                this.finish(true);
                if this.trailers && !this.trailers_sent {
                    return Poll::Ready(Some(Ok(this.trailer_frame(None))));
                }
                return Poll::Ready(None);
            };
            if this.deadline.is_elapsed() {
                return this.cut(Cut::TooSlow);
            }
            match up.as_mut().poll_frame(cx) {
                Poll::Pending => {
                    if this.deadline.as_mut().poll(cx).is_ready() {
                        return this.cut(Cut::TooSlow);
                    }
                    if this.stall.as_mut().poll(cx).is_ready() {
                        return this.cut(Cut::Stalled);
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
                        return this.cut(Cut::TooLarge);
                    }
                    let out = this.redactor.push_bytes(chunk);
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(out))));
                    }
                }
                Poll::Ready(Some(Err(_))) => return this.cut(Cut::Failed),
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
}

impl Drop for RedactingBody {
    fn drop(&mut self) {
        // The caller went away mid-stream: still audit the call.
        self.finish(false);
    }
}
