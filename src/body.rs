//! Reading an answer's body with a size limit, so a small compressed answer
//! that expands enormously (or an endless one) never lands whole in the agent
//! process: reading stops at `maxResponseBytes` with `RESPONSE_TOO_LARGE`.

use crate::errors::SdkError;
use agentsecrets_wire::ErrorCode;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

/// Default of `maxResponseBytes`: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// A body read to its end, with its trailers.
pub struct ReadBody {
    pub bytes: Bytes,
    pub trailers: Option<http::HeaderMap>,
}

pub enum ReadError {
    /// Over the limit; nothing more was read.
    TooLarge,
    /// The stream failed.
    Failed(reqwest::Error),
}

/// Reads `body` up to `limit` bytes (after any decoding). An answer that
/// declares a larger `Content-Length` is refused before it is read.
pub async fn read_bounded(
    body: reqwest::Body,
    declared: Option<u64>,
    limit: u64,
) -> Result<ReadBody, ReadError> {
    if declared.is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    let mut body = body;
    // Grows with the data: a declared length is a hint, never trusted for
    // the allocation beyond the limit.
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0).min(limit).min(1 << 20) as usize);
    let mut trailers: Option<http::HeaderMap> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ReadError::Failed)?;
        match frame.into_data() {
            Ok(data) => {
                if (buf.len() + data.len()) as u64 > limit {
                    return Err(ReadError::TooLarge);
                }
                buf.extend_from_slice(&data);
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers.get_or_insert_with(Default::default).extend(t);
                }
            }
        }
    }
    Ok(ReadBody {
        bytes: buf.freeze(),
        trailers,
    })
}

/// The error for an answer over `limit`.
pub fn too_large(limit: u64) -> SdkError {
    SdkError::new(
        ErrorCode::ResponseTooLarge.as_str(),
        format!(
            "the response is larger than maxResponseBytes ({}); reading stopped there and the rest was discarded",
            shown_size(limit)
        ),
    )
    .fix("pass a larger `maxResponseBytes` to call() or to new AgentSecrets() (at most 4 GiB), or ask the API for less (pagination, a smaller range)")
}

/// `64 MiB`, `1 KiB` or `1000 bytes`.
fn shown_size(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(shown_size(64 << 20), "64 MiB");
        assert_eq!(shown_size(8 << 10), "8 KiB");
        assert_eq!(shown_size(1000), "1000 bytes");
        let e = too_large(64 << 20);
        assert_eq!(e.code, "RESPONSE_TOO_LARGE");
        assert!(e.message.contains("maxResponseBytes (64 MiB)"));
        assert!(e.fix.as_deref().unwrap().contains("maxResponseBytes"));
    }
}
