//! One `GET /health` probe of a listener, bounded in time and size, so that
//! whatever listens there (our engine, the upstream proxy or an impostor)
//! can neither stall nor flood the client. A probe sends no token.

use agentsecrets_wire::{headers as h, Health};
use std::time::Duration;

/// How long a probe may take from connecting to the end of the body; it is
/// local, so this is generous.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// A `/health` body is a few hundred bytes; more is not a proxy.
const MAX_HEALTH_BODY: usize = 16 * 1024;

/// What answered a probe.
pub enum Answer {
    /// A proxy's `/health`, with the proof header if it sent one.
    Health {
        health: Health,
        proof: Option<String>,
    },
    /// Something accepted the connection that is not an agentsecrets proxy
    /// (other answer, too slow, too large).
    Foreign,
    /// Nothing accepted the connection.
    Down,
}

/// Probes `{base_url}/health`, sending `challenge` as `X-AS-Challenge`.
pub async fn health(client: &reqwest::Client, base_url: &str, challenge: Option<&str>) -> Answer {
    let mut rb = client
        .get(format!("{base_url}/health"))
        .timeout(HEALTH_TIMEOUT);
    if let Some(c) = challenge {
        rb = rb.header(h::CHALLENGE, c);
    }
    let mut res = match rb.send().await {
        Ok(res) => res,
        Err(e) if e.is_connect() => return Answer::Down,
        Err(_) => return Answer::Foreign,
    };
    if !res.status().is_success() {
        return Answer::Foreign;
    }
    let proof = res
        .headers()
        .get(h::PROOF)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_HEALTH_BODY => {
                body.extend_from_slice(&chunk)
            }
            Ok(None) => break,
            _ => return Answer::Foreign,
        }
    }
    match serde_json::from_slice::<Health>(&body) {
        Ok(health) if health.status == "ok" => Answer::Health { health, proof },
        _ => Answer::Foreign,
    }
}
