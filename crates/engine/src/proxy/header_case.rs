//! Exact-case names for injected headers.
//!
//! hyper writes header names in lower case unless the request carries its
//! map of original names, a type only hyper's own parser can build. So the
//! engine has hyper parse a request head made of the wanted names (in
//! memory, once per distinct set of names) and attaches the extensions
//! that parse produced to the upstream request.

use bytes::Bytes;
use http::{Extensions, Request, Response};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;

/// Distinct name sets kept; the cache starts over when it is full.
const CAPACITY: usize = 256;

/// Parsed case maps, keyed by the names they spell.
#[derive(Default)]
pub struct HeaderCase {
    cache: Mutex<HashMap<String, Extensions>>,
}

impl HeaderCase {
    /// Extensions that make hyper write each of `names` as given, or `None`
    /// when every name is lower case already (hyper's default) or the names
    /// cannot be parsed (they were validated before; then lower case stays).
    pub async fn extensions<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Option<Extensions> {
        let names: Vec<&str> = names
            .into_iter()
            .filter(|n| n.bytes().any(|b| b.is_ascii_uppercase()))
            .collect();
        if names.is_empty() {
            return None;
        }
        let key = names.join("\n");
        if let Some(ext) = self.lock().get(&key) {
            return Some(ext.clone());
        }
        let ext = parse(&names).await?;
        let mut cache = self.lock();
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(key, ext.clone());
        Some(ext)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Extensions>> {
        // The map holds no invariant a panicking holder could break.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Has hyper's server parse `GET / HTTP/1.1` with one empty-valued header
/// per name, keeping their case, and returns the request's extensions.
async fn parse(names: &[&str]) -> Option<Extensions> {
    let mut head = b"GET / HTTP/1.1\r\nhost: x\r\n".to_vec();
    for name in names {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": x\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let (mut client, server) = tokio::io::duplex(head.len() + 256);
    client.write_all(&head).await.ok()?;
    // The server reads what was written, then sees the end of input.
    drop(client);
    let captured: Arc<Mutex<Option<Extensions>>> = Arc::default();
    let slot = captured.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(req.into_parts().0.extensions);
        async { Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new())) }
    });
    // Answering fails (nobody reads); the extensions are taken by then.
    let _ = hyper::server::conn::http1::Builder::new()
        .preserve_header_case(true)
        .serve_connection(TokioIo::new(server), svc)
        .await;
    let ext = captured.lock().unwrap_or_else(|p| p.into_inner()).take();
    ext
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lower_case_names_need_no_map_and_others_are_parsed_once() {
        let hc = HeaderCase::default();
        assert!(hc.extensions(["x-api-key"]).await.is_none());
        assert!(hc.extensions(["X-Org-ID", "x-b"]).await.is_some());
        assert_eq!(hc.lock().len(), 1);
        assert!(hc.extensions(["X-Org-ID"]).await.is_some());
        assert_eq!(hc.lock().len(), 1, "served from the cache");
    }
}
