//! Every `/proxy` call writes exactly one audit line, whatever its outcome:
//! answered whole, streamed to its end, refused, failed, cut by a limit, or
//! abandoned by the caller mid-stream.

mod support;

use reqwest::Method;
use std::time::{Duration, Instant};
use support::*;

const CANARY: &str = "canary-audit-once-6d2e81b0";

/// Waits until the log has `n` lines, then a little longer to catch a
/// second line for the same call; returns the last line.
fn settled_at(home: &Home, n: usize) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    while home.audit_lines().len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let lines = home.audit_lines();
    assert_eq!(lines.len(), n, "{lines:#?}");
    lines.last().unwrap().clone()
}

fn outcome(line: &serde_json::Value) -> (&str, &str) {
    (
        line["status"].as_str().unwrap(),
        line["reason"].as_str().unwrap(),
    )
}

#[test]
fn every_outcome_is_audited_exactly_once() {
    let home = Home::new();
    home.set_secret("CANARY", CANARY);
    home.allow(&["127.0.0.1"]);
    let up = Upstream::start(|r| match r.path.as_str() {
        "/whole" => Reply::ok(format!("echo {CANARY}")),
        "/stream" => Reply::Chunks {
            headers: vec![],
            chunks: vec![b"one ".to_vec(), b"two".to_vec()],
            pause: Duration::from_millis(10),
        },
        "/slow" => Reply::Chunks {
            headers: vec![],
            chunks: (0..50).map(|_| vec![b'x'; 1024]).collect(),
            pause: Duration::from_millis(200),
        },
        _ => Reply::Endless,
    });
    let proxy = Proxy::start_with(&home, |o| o.max_response_bytes = 256 * 1024);
    let call = |path: &str| {
        proxy
            .request(Method::GET, &up.url(path))
            .header("X-AS-Inject-Bearer", "CANARY")
    };

    let a = proxy.send(call("/whole"));
    assert_eq!(a.status, 200);
    let line = settled_at(&home, 1);
    assert_eq!(outcome(&line), ("OK", "credential_echo"));
    assert_eq!(line["redacted"], true);

    let a = proxy.send(call("/stream"));
    assert_eq!(a.text(), "one two");
    assert_eq!(outcome(&settled_at(&home, 2)), ("OK", "-"));

    let refused = proxy
        .request(Method::GET, "http://127.0.0.2:9/")
        .header("X-AS-Inject-Bearer", "CANARY");
    assert_eq!(proxy.send(refused).status, 403);
    assert_eq!(
        outcome(&settled_at(&home, 3)),
        ("BLOCKED", "DOMAIN_NOT_ALLOWED")
    );

    let missing = proxy
        .request(Method::GET, &up.url("/whole"))
        .header("X-AS-Inject-Bearer", "NO_SUCH_SECRET");
    assert_eq!(proxy.send(missing).status, 502);
    assert_eq!(
        outcome(&settled_at(&home, 4)),
        ("ERROR", "SECRET_NOT_FOUND")
    );

    let cut = proxy.send(call("/endless"));
    assert_eq!(cut.status, 200);
    assert_eq!(outcome(&settled_at(&home, 5)), ("ERROR", "body_incomplete"));

    // The caller reads one piece of a slow answer and goes away.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut resp = call("/slow").send().await.unwrap();
        assert!(resp.chunk().await.unwrap().is_some());
    });
    drop(rt);
    assert_eq!(outcome(&settled_at(&home, 6)), ("ERROR", "body_incomplete"));
}
