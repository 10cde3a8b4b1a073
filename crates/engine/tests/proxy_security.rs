//! The rows of security.md the proxy owns, each attacked with a canary value.

mod support;
use base64::Engine as _;
use reqwest::Method;
use std::io::Write;
use std::time::Duration;
use support::*;

/// A value with characters that every encoding changes.
const CANARY: &str = "cAnary+/7Q=?&é \"k\"\\x-S1";
const CANARY_B: &str = "canary-bearer-9f8e7d6c5b4a";

fn home_with_canary() -> Home {
    let home = Home::new();
    home.set_secret("CANARY", CANARY);
    home.set_secret("CANARY_B", CANARY_B);
    home.set_secret("CREDS", "alice:canary-pass-0192");
    home.allow(&["127.0.0.1"]);
    home
}

fn echo_everything(v: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (form, enc) in encodings(v) {
        body.extend_from_slice(format!("{form}: <{enc}>\n").as_bytes());
    }
    // Inside a longer base64 blob, at every alignment.
    for pad in ["", "x", "xy"] {
        let blob = base64::engine::general_purpose::STANDARD
            .encode(format!("{{\"pad\":\"{pad}\",\"v\":\"{v}\"}}"));
        body.extend_from_slice(format!("blob: {blob}\n").as_bytes());
    }
    body
}

fn assert_clean(home: &Home, what: &str, bytes: &[u8]) {
    for v in [CANARY, CANARY_B, "alice:canary-pass-0192"] {
        assert_no_leak(what, bytes, v);
    }
    for (path, bytes) in home.all_bytes() {
        if path.ends_with("proxy.log") {
            for v in [CANARY, CANARY_B, "canary-pass-0192"] {
                assert_no_leak("proxy.log", &bytes, v);
            }
        }
    }
}

#[test]
fn s1_body_echo_in_every_encoding_and_split_across_chunks() {
    let home = home_with_canary();
    let up = Upstream::start(|r| {
        let v = if r.path == "/b" { CANARY_B } else { CANARY };
        let body = echo_everything(v);
        if r.path == "/split" {
            // One byte per chunk: every match is split.
            Reply::Chunks {
                headers: vec![],
                chunks: body.iter().map(|b| vec![*b]).collect(),
                pause: Duration::from_micros(50),
            }
        } else {
            Reply::ok(body)
        }
    });
    let proxy = Proxy::start(&home);
    for path in ["/whole", "/split"] {
        let a = proxy.send(
            proxy
                .request(Method::GET, &up.url(path))
                .header("X-AS-Inject-Query-k", "CANARY"),
        );
        assert_eq!(a.status, 200);
        assert!(
            a.text().contains("[REDACTED_BY_AGENTSECRETS]"),
            "{}",
            a.text()
        );
        assert_clean(&home, path, &a.body);
        assert_eq!(
            a.text().lines().count(),
            echo_everything(CANARY).split(|b| *b == b'\n').count() - 1,
            "only the values are replaced: {}",
            a.text()
        );
    }
    let audit = home.audit_lines();
    assert_eq!(audit.last().unwrap()["redacted"], true);
    assert_eq!(audit.last().unwrap()["reason"], "credential_echo");
}

#[test]
fn s2_header_echo_including_basic() {
    let home = home_with_canary();
    let up = Upstream::start(|r| Reply::Full {
        status: 200,
        headers: vec![
            (
                "x-echo-auth".into(),
                r.headers.get("authorization").cloned().unwrap_or_default(),
            ),
            (
                "set-cookie".into(),
                format!(
                    "s={}",
                    base64::engine::general_purpose::STANDARD.encode("alice:canary-pass-0192")
                ),
            ),
            ("x-as-redacted".into(), "false".into()),
        ],
        body: b"ok".to_vec(),
    });
    let proxy = Proxy::start(&home);
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/h"))
            .header("X-AS-Inject-Basic", "CREDS"),
    );
    assert_eq!(a.status, 200);
    let mut all = Vec::new();
    for (k, v) in &a.headers {
        all.extend_from_slice(k.as_str().as_bytes());
        all.extend_from_slice(b": ");
        all.extend_from_slice(v.as_bytes());
        all.push(b'\n');
    }
    assert_clean(&home, "headers", &all);
    assert_eq!(a.headers["x-as-headers-redacted"], "true");
    // The upstream's own `x-as-redacted: false` is stripped; the engine's says true.
    assert_eq!(
        a.headers["x-as-redacted"], "true",
        "upstream X-AS-* headers are stripped"
    );
    assert_eq!(a.headers.get_all("x-as-redacted").iter().count(), 1);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn s3_compressed_echo_is_decoded_and_redacted_unknown_encoding_fails_closed() {
    let home = home_with_canary();
    let up = Upstream::start(|r| {
        let body = format!("token={CANARY_B}");
        match r.path.as_str() {
            "/gzip" => Reply::Full {
                status: 200,
                headers: vec![("content-encoding".into(), "gzip".into())],
                body: gzip(body.as_bytes()),
            },
            _ => Reply::Full {
                status: 200,
                headers: vec![("content-encoding".into(), "x-custom".into())],
                body: body.into_bytes(),
            },
        }
    });
    let proxy = Proxy::start(&home);
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/gzip"))
            .header("X-AS-Inject-Bearer", "CANARY_B")
            .header("Accept-Encoding", "gzip, br"),
    );
    assert_eq!(up.last().headers["accept-encoding"], "identity");
    assert_eq!(a.status, 200);
    assert!(a.headers.get("content-encoding").is_none());
    assert_eq!(a.text(), "token=[REDACTED_BY_AGENTSECRETS]");
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/custom"))
            .header("X-AS-Inject-Bearer", "CANARY_B"),
    );
    assert_eq!(a.engine_error().as_deref(), Some("UPSTREAM_ENCODING"));
    assert_clean(&home, "custom encoding", &a.body);
}

#[test]
fn s4_redirects_are_returned_not_followed() {
    let home = home_with_canary();
    let elsewhere = Upstream::start(|_| Reply::ok("landed"));
    let target = elsewhere.url("/landing");
    let up = Upstream::start(move |r| Reply::Full {
        status: r.path.trim_start_matches('/').parse().unwrap(),
        headers: vec![("location".into(), format!("{target}?echo={}", CANARY_B))],
        body: vec![],
    });
    let proxy = Proxy::start(&home);
    for code in [301, 302, 303, 307, 308] {
        let a = proxy.send(
            proxy
                .request(Method::POST, &up.url(&format!("/{code}")))
                .header(
                    "X-AS-Inject",
                    plan(&[("bearer", None, "CANARY_B"), ("query", Some("k"), "CANARY")]),
                )
                .body("{}"),
        );
        assert_eq!(a.status, code);
        let loc = a.headers["location"].to_str().unwrap();
        assert!(loc.ends_with("?echo=[REDACTED_BY_AGENTSECRETS]"), "{loc}");
    }
    assert_eq!(elsewhere.count(), 0, "no request may follow a redirect");
}

#[test]
fn s5_unreachable_and_timeout_errors_are_scrubbed() {
    let home = home_with_canary();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let stall = Upstream::start(|_| Reply::Stall);
    let proxy = Proxy::start_with(&home, |o| o.timeout = Duration::from_millis(500));
    let a = proxy.send(
        proxy
            .request(Method::GET, &format!("http://127.0.0.1:{closed}/x?a=1"))
            .header(
                "X-AS-Inject",
                plan(&[
                    ("query", Some("key"), "CANARY"),
                    ("bearer", None, "CANARY_B"),
                ]),
            ),
    );
    assert_eq!(
        a.engine_error().as_deref(),
        Some("UPSTREAM_UNREACHABLE"),
        "{}",
        a.text()
    );
    assert_clean(&home, "unreachable error", &a.body);
    let a = proxy.send(
        proxy
            .request(Method::GET, &stall.url("/x"))
            .header("X-AS-Inject-Query-key", "CANARY"),
    );
    assert_eq!(
        a.engine_error().as_deref(),
        Some("UPSTREAM_TIMEOUT"),
        "{}",
        a.text()
    );
    assert_eq!(a.status, 504);
    assert_clean(&home, "timeout error", &a.body);
    let audit = home.audit_lines();
    assert!(audit.iter().filter(|e| e["status"] == "ERROR").count() >= 2);
}

/// Sends `rb` and reads the streamed answer to its end: the bytes, and
/// whether the stream was cut.
fn read_streamed(rb: reqwest::RequestBuilder) -> (Vec<u8>, bool) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut resp = rb.send().await.unwrap();
        let mut got = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => got.extend_from_slice(&c),
                Ok(None) => break (got, false),
                Err(_) => break (got, true),
            }
        }
    })
}

#[test]
fn a_body_that_pauses_longer_than_the_timeout_is_cut_and_audited_incomplete() {
    let home = home_with_canary();
    let up = Upstream::start(|_| Reply::Chunks {
        headers: vec![],
        chunks: vec![b"first ".to_vec(), b"late".to_vec()],
        pause: Duration::from_millis(3000),
    });
    // Generous against a loaded machine: the first piece comes at once.
    let proxy = Proxy::start_with(&home, |o| o.timeout = Duration::from_millis(1000));
    let (got, errored) = read_streamed(
        proxy
            .request(Method::GET, &up.url("/slow"))
            .header("X-AS-Inject-Bearer", "CANARY_B"),
    );
    assert!(errored, "a stalled body must be cut, not end cleanly");
    assert_eq!(got, b"first ");
    let audit = home.audit_lines();
    let last = audit.last().unwrap();
    assert_eq!(
        (&last["status"], &last["reason"]),
        (&"ERROR".into(), &"body_incomplete".into())
    );
}

#[test]
fn s6_allowlist_is_exact_and_not_bypassed() {
    let home = Home::new();
    home.set_secret("K", CANARY_B);
    let up = Upstream::start(|_| Reply::ok("reached"));
    let proxy = Proxy::start(&home);
    let port = up.addr.port();
    // Empty allowlist blocks everything.
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/"))
            .header("X-AS-Inject-Bearer", "K"),
    );
    assert_eq!(a.engine_error().as_deref(), Some("DOMAIN_NOT_ALLOWED"));
    assert_eq!(a.json()["error"], "empty_allowlist");
    home.allow(&["127.0.0.1"]);
    for target in [
        format!("http://localhost:{port}/"),
        format!("http://127.0.0.1.evil.test:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://127.0.0.2:{port}/"),
    ] {
        let a = proxy.send(
            proxy
                .request(Method::GET, &target)
                .header("X-AS-Inject-Bearer", "K"),
        );
        assert_eq!(
            a.engine_error().as_deref(),
            Some("DOMAIN_NOT_ALLOWED"),
            "{target}: {}",
            a.text()
        );
        assert_eq!(a.status, 403);
    }
    for target in [
        format!("http://127.0.0.1@localhost:{port}/"),
        format!("http://x:y@127.0.0.1:{port}/"),
    ] {
        let a = proxy.send(
            proxy
                .request(Method::GET, &target)
                .header("X-AS-Inject-Bearer", "K"),
        );
        assert_eq!(
            a.engine_error().as_deref(),
            Some("INVALID_REQUEST"),
            "{target}"
        );
    }
    assert_eq!(up.count(), 0);
    let audit = home.audit_lines();
    assert!(audit
        .iter()
        .any(|e| e["status"] == "BLOCKED" && e["reason"] == "DOMAIN_NOT_ALLOWED"));
}

#[test]
fn s7_scheme_and_metadata_addresses() {
    let home = Home::new();
    home.set_secret("K", CANARY_B);
    home.allow(&[
        "api.example.test",
        "http://169.254.169.254",
        "http://[fd00:ec2::254]",
    ]);
    let proxy = Proxy::start(&home);
    let a = proxy.send(
        proxy
            .request(Method::GET, "http://api.example.test/")
            .header("X-AS-Inject-Bearer", "K"),
    );
    assert_eq!(
        a.engine_error().as_deref(),
        Some("INSECURE_SCHEME"),
        "{}",
        a.text()
    );
    for t in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
    ] {
        let a = proxy.send(
            proxy
                .request(Method::GET, t)
                .header("X-AS-Inject-Bearer", "K"),
        );
        assert_eq!(
            a.engine_error().as_deref(),
            Some("ADDRESS_REFUSED"),
            "{t}: {}",
            a.text()
        );
    }
}

#[test]
fn s8_callers_need_the_token_and_browsers_are_refused() {
    let home = home_with_canary();
    let up = Upstream::start(|_| Reply::ok("reached"));
    let proxy = Proxy::start(&home);
    // No token: 401 before anything else (a missing secret would otherwise be a 502).
    for token in [None, Some("wrong"), Some("")] {
        let mut rb = proxy
            .client
            .get(proxy.url())
            .header("X-AS-Target-URL", up.url("/"))
            .header("X-AS-Inject-Bearer", "NO_SUCH_SECRET");
        if let Some(t) = token {
            rb = rb.header("X-AS-Token", t);
        }
        let a = proxy.send(rb);
        assert_eq!(a.status, 401);
        assert_eq!(a.engine_error().as_deref(), Some("PROXY_AUTH_REQUIRED"));
    }
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/"))
            .header("X-AS-Inject-Bearer", "CANARY_B")
            .header("Origin", "https://evil.test"),
    );
    assert_eq!(a.engine_error().as_deref(), Some("FORBIDDEN_CALLER"));
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/"))
            .header("X-AS-Inject-Bearer", "CANARY_B")
            .header("Host", "evil.test"),
    );
    assert_eq!(a.engine_error().as_deref(), Some("FORBIDDEN_CALLER"));
    assert_eq!(up.count(), 0);
    // The Unix socket needs no token; its mode is 0600.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&proxy.socket)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let via_socket = reqwest::Client::builder()
        .unix_socket(proxy.socket.clone())
        .build()
        .unwrap();
    let a = proxy.send(
        via_socket
            .get("http://localhost/proxy")
            .header("X-AS-Target-URL", up.url("/"))
            .header("X-AS-Inject-Bearer", "CANARY_B"),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(up.count(), 1);
}

#[test]
fn s12_control_characters_are_refused() {
    let home = home_with_canary();
    home.set_secret("CRLF_VALUE", "line1\r\nX-Evil: canary-crlf");
    let up = Upstream::start(|_| Reply::ok("reached"));
    let proxy = Proxy::start(&home);
    for p in [
        r#"[{"style":"bearer","secret":"A\r\nB"}]"#.to_owned(),
        r#"[{"style":"header","target":"X-A\r\nX-Evil: 1","secret":"CANARY"}]"#.to_owned(),
        r#"[{"style":"query","target":"k\u0000","secret":"CANARY"}]"#.to_owned(),
        r#"[{"style":"header","target":"X-AS-Target-URL","secret":"CANARY"}]"#.to_owned(),
    ] {
        let a = proxy.send(
            proxy
                .request(Method::GET, &up.url("/"))
                .header("X-AS-Inject", p.clone()),
        );
        assert_eq!(
            a.engine_error().as_deref(),
            Some("INVALID_REQUEST"),
            "{p}: {}",
            a.text()
        );
    }
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/"))
            .header("X-AS-Inject-Header-X-Thing", "CRLF_VALUE"),
    );
    assert_eq!(a.engine_error().as_deref(), Some("INJECTION_FAILED"));
    assert!(!a.text().contains("canary-crlf"));
    assert_eq!(up.count(), 0);
}

#[test]
fn s15_sizes_are_bounded() {
    let home = home_with_canary();
    let up = Upstream::start(|_| Reply::Endless);
    let proxy = Proxy::start_with(&home, |o| o.max_response_bytes = 4 << 20);
    // An endless body is cut at the limit.
    let (got, errored) = read_streamed(
        proxy
            .request(Method::GET, &up.url("/endless"))
            .header("X-AS-Inject-Bearer", "CANARY_B"),
    );
    let got = got.len();
    assert!(errored, "the stream must be cut, not end cleanly");
    assert!(got <= (4 << 20) + (64 << 10), "got {got} bytes");
    // A body that body injection must read whole is bounded, and the error
    // names the limit and the way out; headers are bounded too.
    let big = vec![b'a'; 33 << 20];
    let a = proxy.send(
        proxy
            .request(Method::POST, &up.url("/"))
            .header("X-AS-Inject-Body-auth", "CANARY_B")
            .header("Content-Type", "application/json")
            .body(big),
    );
    assert_eq!(a.engine_error().as_deref(), Some("REQUEST_TOO_LARGE"));
    let e = a.json();
    assert!(e["message"].as_str().unwrap().contains("32 MiB"), "{e}");
    assert!(e["fix"].as_str().unwrap().contains("streams"), "{e}");
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/"))
            .header("X-AS-Inject-Bearer", "CANARY_B")
            .header("X-Big", "b".repeat(80 << 10)),
    );
    assert_eq!(a.status, 431);
}

#[test]
fn a_body_no_injection_needs_streams_past_the_buffer_limit() {
    let home = home_with_canary();
    let up = Upstream::start(|r| Reply::ok(format!("got {} bytes", r.body.len())));
    let proxy = Proxy::start(&home);
    let big = vec![b'a'; 40 << 20];
    let a = proxy.send(
        proxy
            .request(Method::POST, &up.url("/upload"))
            .header("X-AS-Inject-Bearer", "CANARY_B")
            .body(big),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.text(), format!("got {} bytes", 40 << 20));
    assert!(up.last().headers["authorization"].starts_with("Bearer "));
}
