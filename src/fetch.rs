//! The streamed answer of `client.fetch()`: status and headers at once, the
//! body read by a task ahead of JS into a bounded [`Pipe`] and taken by JS
//! a chunk at a time. A slow reader slows the transfer and memory stays
//! bounded; cancelling (or dropping) the handle closes the connection, which
//! stops the engine's upstream transfer.
//!
//! Like `call()`'s response, nothing here can carry a credential: what the
//! engine sent (redacted), a status, headers and a flag.

use crate::errors::{SdkError, SdkResult};
use crate::linger::InFlight;
use crate::options::NameValue;
use crate::read_ahead::{Pipe, Taken};
use crate::response::{self, Peer, RawAnswer};
use crate::transport;
use agentsecrets_wire::{headers as h, REDACTION_MARKER};
use http_body_util::BodyExt;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// An error answer is read whole to be classified; it is small.
const ERROR_BODY_LIMIT: u64 = 1 << 20;

/// A body of known length up to this size (the engine's "read whole" size)
/// is read with the headers and handed over in one piece: no stream, no
/// further round trip for a small answer.
const WHOLE_LIMIT: u64 = 64 << 10;

/// `redacted` before the end of the body is known.
const UNKNOWN: u8 = 0;
const NOT_REDACTED: u8 = 1;
const REDACTED: u8 = 2;

/// What `head()` returns.
#[napi(object)]
pub struct NativeFetchHead {
    pub status: u32,
    /// Name, value, name, value...: lower-case names in the order received;
    /// repeated names stay apart.
    pub headers: Vec<String>,
    /// The target URL that was called.
    pub url: String,
    /// `engine`, `upstream-proxy` or `direct`.
    pub backend: String,
    /// Known from the headers (or a whole small body), else `null` until
    /// the body ends.
    pub redacted: Option<bool>,
    /// A small answer's body, read with the headers; `null` when it streams.
    pub whole: Option<Buffer>,
}

/// A streamed response for `fetch()` in `lib/fetch.js`.
#[napi]
pub struct NativeFetchResponse {
    status: u16,
    headers: Vec<NameValue>,
    url: String,
    peer: Peer,
    redacted: Arc<AtomicU8>,
    /// A small body, read with the headers (then `pipe` is ended).
    whole: std::sync::Mutex<Option<bytes::Bytes>>,
    pipe: Arc<Pipe>,
    /// The task reading the body into `pipe`; aborting it closes the
    /// connection.
    reading: Option<tokio::task::AbortHandle>,
}

/// The task that reads a streamed body ahead of JS.
struct Reader {
    body: OpenBody,
    pipe: Arc<Pipe>,
    peer: Peer,
    url: String,
    status: u16,
    redacted: Arc<AtomicU8>,
    /// Looks for the redaction marker when no header said (set only while
    /// `redacted` is unknown).
    scan: Option<MarkerScan>,
    redacted_trailer: Option<bool>,
}

/// Finds the marker across chunk boundaries.
#[derive(Default)]
struct MarkerScan {
    tail: Vec<u8>,
    seen: bool,
}

impl MarkerScan {
    fn feed(&mut self, chunk: &[u8]) {
        if self.seen {
            return;
        }
        let marker = REDACTION_MARKER.as_bytes();
        let keep = marker.len() - 1;
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(&chunk[..chunk.len().min(keep)]);
        self.seen = memchr::memmem::find(&joined, marker).is_some()
            || memchr::memmem::find(chunk, marker).is_some();
        self.tail = if chunk.len() >= keep {
            chunk[chunk.len() - keep..].to_vec()
        } else {
            // `joined` is the old tail and the whole chunk.
            joined[joined.len().saturating_sub(keep)..].to_vec()
        };
    }
}

/// Turns the headers of an answer into a streamed response, or into the
/// error the backend reported before its headers.
pub async fn open(
    res: reqwest::Response,
    peer: Peer,
    url: String,
) -> SdkResult<NativeFetchResponse> {
    let status = res.status().as_u16();
    let failing = match peer {
        Peer::Engine => res.headers().contains_key(h::ENGINE_ERROR),
        // The upstream proxy's own errors are recognised by their body.
        Peer::UpstreamProxy => matches!(status, 400 | 403 | 502),
        Peer::Direct => false,
    };
    let small = res.content_length().is_some_and(|n| n <= WHOLE_LIMIT);
    let (headers, body, whole) = if failing || small {
        let limit = if failing {
            ERROR_BODY_LIMIT
        } else {
            WHOLE_LIMIT
        };
        let answer = transport::read_whole(res, limit, |e| body_failure(peer, &url, e))
            .await
            .map_err(transport::SendError::into_inner)?;
        classify_error(&answer, peer)?;
        (answer.headers, None, Some(answer.body))
    } else {
        let headers = res.headers().clone();
        let res: http::Response<reqwest::Body> = res.into();
        (headers, Some(res.into_body()), None)
    };
    let mut known = redacted_from_headers(&headers, peer);
    if let (UNKNOWN, Some(bytes)) = (known, &whole) {
        let mut scan = MarkerScan::default();
        scan.feed(bytes);
        known = if scan.seen { REDACTED } else { NOT_REDACTED };
    }
    let redacted = Arc::new(AtomicU8::new(known));
    let pipe = Arc::new(Pipe::default());
    let reading = match body {
        Some(body) => {
            let reader = Reader {
                body: OpenBody::new(body),
                pipe: pipe.clone(),
                peer,
                url: url.clone(),
                status,
                redacted: redacted.clone(),
                scan: (known == UNKNOWN).then(MarkerScan::default),
                redacted_trailer: None,
            };
            Some(tokio::spawn(reader.run()).abort_handle())
        }
        None => {
            pipe.end(Ok(()));
            None
        }
    };
    Ok(NativeFetchResponse {
        status,
        headers: header_pairs(&headers),
        url,
        peer,
        redacted,
        whole: std::sync::Mutex::new(whole),
        pipe,
        reading,
    })
}

fn classify_error(answer: &RawAnswer, peer: Peer) -> SdkResult<()> {
    if peer == Peer::Engine {
        if let Some(code) = answer.headers.get(h::ENGINE_ERROR) {
            return Err(response::engine_error(code, answer));
        }
    }
    if peer == Peer::UpstreamProxy {
        if let Some(e) = response::legacy_proxy_error(answer.status, &answer.body) {
            return Err(e.backend(peer.as_str()));
        }
    }
    Ok(())
}

/// What the headers alone say about redaction.
fn redacted_from_headers(headers: &http::HeaderMap, peer: Peer) -> u8 {
    let says = |name: &str| {
        headers
            .get(name)
            .map(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
    };
    match peer {
        Peer::Direct => NOT_REDACTED,
        _ if says(h::HEADERS_REDACTED) == Some(true) => REDACTED,
        Peer::Engine => match says(h::REDACTED) {
            Some(true) => REDACTED,
            Some(false) => NOT_REDACTED,
            None => UNKNOWN,
        },
        // The upstream proxy passes an upstream's X-AS-* headers through.
        Peer::UpstreamProxy => UNKNOWN,
    }
}

/// Headers in order, repeated names kept apart (`set-cookie`).
fn header_pairs(headers: &http::HeaderMap) -> Vec<NameValue> {
    headers
        .iter()
        .map(|(name, value)| NameValue {
            name: name.as_str().to_owned(),
            value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })
        .collect()
}

fn body_failure(peer: Peer, url: &str, e: &reqwest::Error) -> SdkError {
    match peer {
        Peer::Engine => transport::proxy_failure("the agentsecrets engine", e),
        Peer::UpstreamProxy => transport::proxy_failure("the upstream AgentSecrets proxy", e),
        Peer::Direct => transport::direct_failure(url, e),
    }
}

#[napi]
impl NativeFetchResponse {
    /// Everything known with the headers, in one call: a small answer's
    /// whole body too (then `read()` has nothing).
    #[napi]
    pub fn head(&self) -> NativeFetchHead {
        let whole = self.whole.lock().expect("whole body").take();
        NativeFetchHead {
            status: u32::from(self.status),
            headers: self
                .headers
                .iter()
                .flat_map(|nv| [nv.name.clone(), nv.value.clone()])
                .collect(),
            url: self.url.clone(),
            backend: self.peer.as_str().to_owned(),
            redacted: self.redacted(),
            whole: whole.map(|b| Buffer::from(b.to_vec())),
        }
    }

    /// Whether anything was redacted: `null` until the headers or the end
    /// of the body said.
    #[napi(getter)]
    pub fn redacted(&self) -> Option<bool> {
        match self.redacted.load(Ordering::Acquire) {
            REDACTED => Some(true),
            NOT_REDACTED => Some(false),
            _ => None,
        }
    }

    /// The next chunk of the body (up to 64 KiB) if it is already here,
    /// without waiting: `null` when none is yet (or the body is over), and
    /// then `read()` waits.
    #[napi]
    pub fn take(&self) -> napi::Result<Option<Buffer>> {
        to_js(self.pipe.take())
    }

    /// The next chunk of the body, or `null` at its end. Rejects when the
    /// engine cut the body (its `X-AS-Engine-Error` trailer), when the
    /// connection failed, or with `ABORTED` after `cancel()`.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub async fn read(&self) -> napi::Result<Option<Buffer>> {
        to_js(self.pipe.next().await)
    }

    /// Stops reading: the connection is closed (the engine then stops the
    /// upstream transfer) and a pending or later `read()` rejects.
    #[napi]
    pub fn cancel(&self) {
        self.stop_reading();
        self.pipe.close(SdkError::aborted());
    }
}

impl NativeFetchResponse {
    /// Ends the reading task, which closes the connection.
    fn stop_reading(&self) {
        if let Some(reading) = &self.reading {
            reading.abort();
        }
    }
}

impl Drop for NativeFetchResponse {
    /// A body nobody reads any more is not read on: its connection closes.
    fn drop(&mut self) {
        self.stop_reading();
    }
}

/// A chunk for JS: `null` at the end (or when none is there yet).
fn to_js(taken: Taken) -> napi::Result<Option<Buffer>> {
    match taken {
        Taken::Bytes(b) => Ok(Some(Buffer::from(b))),
        Taken::Failed(e) => Err(e.into()),
        Taken::End | Taken::Empty => Ok(None),
    }
}

impl Reader {
    /// Reads the body into the pipe, never more than [`crate::read_ahead::AHEAD`]
    /// ahead of JS, and settles `redacted` at its end.
    async fn run(mut self) {
        let end = self.read_all().await;
        if end.is_ok() {
            self.finish();
        }
        self.pipe.end(end);
    }

    async fn read_all(&mut self) -> SdkResult<()> {
        loop {
            self.pipe.room().await;
            let Some(frame) = self.body.body.frame().await else {
                return Ok(());
            };
            let frame = frame.map_err(|e| body_failure(self.peer, &self.url, &e))?;
            match frame.into_data() {
                Ok(data) => {
                    if let Some(scan) = self.scan.as_mut() {
                        scan.feed(&data);
                    }
                    self.pipe.push(&data);
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        self.on_trailers(&trailers)?;
                    }
                }
            }
        }
    }

    fn on_trailers(&mut self, trailers: &http::HeaderMap) -> SdkResult<()> {
        if self.peer != Peer::Engine {
            return Ok(());
        }
        if let Some(code) = trailers.get(h::ENGINE_ERROR) {
            // The body so far is incomplete: the stream errors instead.
            return Err(response::cut_error(code, self.status));
        }
        if let Some(v) = trailers.get(h::REDACTED) {
            self.redacted_trailer = Some(v.as_bytes().eq_ignore_ascii_case(b"true"));
        }
        Ok(())
    }

    /// The body ended: settle `redacted` from the trailer, else the marker.
    fn finish(&mut self) {
        if let Some(scan) = self.scan.take() {
            let yes = self.redacted_trailer.unwrap_or(scan.seen);
            self.redacted
                .store(if yes { REDACTED } else { NOT_REDACTED }, Ordering::Release);
        }
    }
}

/// A body still streaming. While one is open the runtime worker does not
/// linger between reads (see [`crate::linger`]): the engine and the upstream
/// need the cores then, and a read's wake-up comes from the socket anyway.
struct OpenBody {
    body: reqwest::Body,
    _busy: InFlight,
}

impl OpenBody {
    fn new(body: reqwest::Body) -> OpenBody {
        OpenBody {
            body,
            _busy: InFlight::enter(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_found_across_chunks() {
        let marker = REDACTION_MARKER.as_bytes();
        for split in 0..=marker.len() {
            let mut scan = MarkerScan::default();
            let mut first = b"xx".to_vec();
            first.extend_from_slice(&marker[..split]);
            let mut second = marker[split..].to_vec();
            second.extend_from_slice(b"yy");
            scan.feed(&first);
            scan.feed(&second);
            assert!(scan.seen, "split at {split}");
        }
        let mut none = MarkerScan::default();
        none.feed(b"[REDACTED_BY");
        none.feed(b"_SOMEONE_ELSE]");
        assert!(!none.seen);
    }
}
