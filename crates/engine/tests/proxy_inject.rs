//! Each injection style reaches the upstream exactly as named, through the
//! extension protocol and the upstream protocol's legacy headers.

mod support;
use reqwest::Method;
use support::*;

fn setup() -> (Home, Upstream, Proxy) {
    let home = Home::new();
    home.set_secret("BEARER_KEY", "bearer-value-1");
    home.set_secret("BASIC_CREDS", "user@example.com:pa55");
    home.set_secret("ORG_SECRET", "org-value-2");
    home.set_secret("GMAP_KEY", "gmap value/3");
    home.set_secret("CLIENT_SECRET", "client-\"secret\"-4");
    home.set_secret("API_KEY", "api&key=5");
    home.allow(&["127.0.0.1"]);
    let up = Upstream::start(|_| Reply::ok("ok"));
    let proxy = Proxy::start(&home);
    (home, up, proxy)
}

#[test]
fn every_style_with_exact_case_names() {
    let (home, up, proxy) = setup();
    let p = plan(&[
        ("bearer", None, "BEARER_KEY"),
        ("header", Some("X-Org-ID"), "ORG_SECRET"),
        ("query", Some("key"), "GMAP_KEY"),
        ("body", Some("auth.client_secret"), "CLIENT_SECRET"),
    ]);
    let a = proxy.send(
        proxy
            .request(Method::POST, &up.url("/v1/items?Key=keep&a=%20b"))
            .header("X-AS-Inject", p)
            .header("Idempotency-Key", "idem-1")
            .header("Content-Type", "application/json")
            .body(r#"{"amount":12345678901234567890123,"z":1}"#),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let r = up.last();
    assert_eq!(r.method, "POST");
    assert_eq!(r.headers["authorization"], "Bearer bearer-value-1");
    assert_eq!(r.headers["x-org-id"], "org-value-2");
    assert_eq!(r.headers["idempotency-key"], "idem-1");
    assert_eq!(r.headers["accept-encoding"], "identity");
    assert!(
        !r.headers.keys().any(|k| k.starts_with("x-as-")),
        "{:?}",
        r.headers
    );
    assert_eq!(
        r.query.as_deref(),
        Some("Key=keep&a=%20b&key=gmap+value%2F3")
    );
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        r#"{"amount":12345678901234567890123,"z":1,"auth":{"client_secret":"client-\"secret\"-4"}}"#
    );
    let audit = home.audit_lines();
    let last = audit.last().unwrap();
    assert_eq!(last["status"], "OK");
    assert_eq!(
        last["secret_keys"],
        serde_json::json!(["BEARER_KEY", "ORG_SECRET", "GMAP_KEY", "CLIENT_SECRET"])
    );
    assert_eq!(
        last["auth_styles"],
        serde_json::json!(["bearer", "header", "query", "body"])
    );
}

/// A one-request upstream that records the raw request head: header names
/// exactly as they were written on the wire.
fn raw_upstream() -> (u16, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut b).unwrap();
            assert!(n > 0, "the head ended early");
            head.extend_from_slice(&b[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .unwrap();
        String::from_utf8(head).unwrap()
    });
    (port, t)
}

#[test]
fn injected_header_names_reach_the_wire_in_the_case_given() {
    let (_home, _up, proxy) = setup();
    for _ in 0..2 {
        // Twice: the second call takes the engine's cached case map.
        let (port, head) = raw_upstream();
        let p = plan(&[
            ("header", Some("X-Org-ID"), "ORG_SECRET"),
            ("header", Some("x-lower-name"), "GMAP_KEY"),
            ("header", Some("API-Key"), "API_KEY"),
        ]);
        let a = proxy.send(
            proxy
                .request(Method::GET, &format!("http://127.0.0.1:{port}/"))
                .header("X-AS-Inject", p),
        );
        assert_eq!(a.status, 200, "{}", a.text());
        let head = head.join().unwrap();
        for line in [
            "\r\nX-Org-ID: org-value-2\r\n",
            "\r\nx-lower-name: gmap value/3\r\n",
            "\r\nAPI-Key: api&key=5\r\n",
        ] {
            assert!(head.contains(line), "{line:?} not in {head:?}");
        }
    }
}

#[test]
fn basic_and_form() {
    let (_home, up, proxy) = setup();
    let p = plan(&[
        ("basic", None, "BASIC_CREDS"),
        ("form", Some("api_key"), "API_KEY"),
    ]);
    let a = proxy.send(
        proxy
            .request(Method::POST, &up.url("/token"))
            .header("X-AS-Inject", p)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&api_key=old"),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let r = up.last();
    assert_eq!(
        r.headers["authorization"],
        "Basic dXNlckBleGFtcGxlLmNvbTpwYTU1"
    );
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "grant_type=client_credentials&api_key=api%26key%3D5"
    );
}

#[test]
fn legacy_headers_work_and_keep_lower_case_targets() {
    let (_home, up, proxy) = setup();
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/legacy"))
            .header("X-AS-Method", "put")
            .header("X-AS-Inject-Query-key", "GMAP_KEY")
            .header("X-AS-Inject-Bearer", "BEARER_KEY")
            .header("X-AS-Inject-Body-auth-key", "ORG_SECRET")
            .header("X-AS-Agent-ID", "legacy-agent"),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let r = up.last();
    assert_eq!(r.method, "PUT");
    assert_eq!(r.query.as_deref(), Some("key=gmap+value%2F3"));
    assert_eq!(r.headers["authorization"], "Bearer bearer-value-1");
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        r#"{"auth":{"key":"org-value-2"}}"#
    );
}

#[test]
fn per_request_scope_picks_the_project() {
    let (home, up, proxy) = setup();
    home.run(&["project", "create", "payments"]).ok();
    home.set_secret_in("payments", "BEARER_KEY", "payments-bearer");
    let send = |project: Option<&str>| {
        let mut rb = proxy
            .request(Method::GET, &up.url("/scoped"))
            .header("X-AS-Inject", plan(&[("bearer", None, "BEARER_KEY")]));
        if let Some(p) = project {
            rb = rb.header("X-AS-Project", p);
        }
        assert_eq!(proxy.send(rb).status, 200);
        up.last().headers["authorization"].clone()
    };
    assert_eq!(send(Some("payments")), "Bearer payments-bearer");
    assert_eq!(send(None), "Bearer bearer-value-1");
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/scoped"))
            .header("X-AS-Inject", plan(&[("bearer", None, "BEARER_KEY")]))
            .header("X-AS-Project", "nope"),
    );
    assert_eq!(a.engine_error().as_deref(), Some("PROJECT_NOT_FOUND"));
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/scoped"))
            .header("X-AS-Inject", plan(&[("bearer", None, "BEARER_KEY")]))
            .header("X-AS-Workspace", "Nope%20Inc"),
    );
    assert_eq!(a.engine_error().as_deref(), Some("WORKSPACE_NOT_FOUND"));
}

#[test]
fn engine_errors_are_typed_and_never_reach_upstream() {
    let (_home, up, proxy) = setup();
    let cases: Vec<(reqwest::RequestBuilder, &str, u16)> = vec![
        (
            proxy
                .request(Method::GET, &up.url("/x"))
                .header("X-AS-Inject", plan(&[("bearer", None, "MISSING")])),
            "SECRET_NOT_FOUND",
            502,
        ),
        (
            proxy
                .request(Method::GET, &up.url("/x"))
                .header("X-AS-Inject", plan(&[("basic", None, "BEARER_KEY")])),
            "INJECTION_FAILED",
            502,
        ),
        (
            proxy
                .request(Method::POST, &up.url("/x"))
                .header("X-AS-Inject", plan(&[("body", Some("k"), "BEARER_KEY")]))
                .body("[1,2]"),
            "INJECTION_FAILED",
            502,
        ),
        (
            proxy
                .request(Method::GET, &up.url("/x"))
                .header("X-AS-Inject", "not json"),
            "INVALID_REQUEST",
            400,
        ),
        (
            proxy
                .client
                .get(proxy.url())
                .header("X-AS-Token", &proxy.token)
                .header("X-AS-Inject", plan(&[("bearer", None, "BEARER_KEY")])),
            "INVALID_REQUEST",
            400,
        ),
    ];
    for (rb, code, status) in cases {
        let a = proxy.send(rb);
        assert_eq!(a.engine_error().as_deref(), Some(code), "{}", a.text());
        assert_eq!(a.status, status);
        let body = a.json();
        assert_eq!(body["code"], code);
        assert_eq!(body["engine"], "agentsecrets-engine");
        assert!(
            body["fix"].is_string() || code == "INVALID_REQUEST",
            "{body}"
        );
    }
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/x"))
            .header("X-AS-Inject", plan(&[("bearer", None, "MISSING")])),
    );
    assert_eq!(a.json()["key"], "MISSING");
    assert_eq!(up.count(), 0, "no engine error may reach the upstream");
}

#[test]
fn upstream_errors_pass_through_without_engine_header() {
    let home = Home::new();
    home.set_secret("K", "v-1");
    home.allow(&["127.0.0.1"]);
    let up = Upstream::start(|_| Reply::Full {
        status: 403,
        headers: vec![
            ("x-as-engine-error".into(), "DOMAIN_NOT_ALLOWED".into()),
            ("content-type".into(), "application/json".into()),
        ],
        body: br#"{"error":"domain_not_in_allowlist","domain":"x"}"#.to_vec(),
    });
    let proxy = Proxy::start(&home);
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/forbidden"))
            .header("X-AS-Inject-Bearer", "K"),
    );
    assert_eq!(a.status, 403);
    assert_eq!(
        a.engine_error(),
        None,
        "an upstream cannot forge an engine error"
    );
    assert!(a.headers.get("x-as-engine").is_some());
}

#[test]
fn health_identifies_the_engine() {
    let home = Home::new();
    let proxy = Proxy::start(&home);
    let a = proxy.send(
        proxy
            .client
            .get(format!("http://127.0.0.1:{}/health", proxy.port)),
    );
    let h = a.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["engine"], "agentsecrets-engine");
    assert_eq!(h["project"], "default");
    assert_eq!(h["workspace"], "Personal");
    assert!(h["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "exact-case-targets"));
}

/// Sends `METHOD /proxy` over a raw TCP connection (`extra` header lines)
/// and returns everything the engine wrote back.
fn raw_proxy(proxy: &Proxy, method: &str, target: &str, extra: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    write!(
        s,
        "{method} /proxy HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-AS-Token: {}\r\nX-AS-Target-URL: {}\r\nX-AS-Inject-Bearer: K\r\n{extra}Connection: close\r\n\r\n",
        proxy.port,
        proxy.token,
        target
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw
}

#[test]
fn a_streamed_body_says_redacted_in_a_trailer_when_asked_and_the_call_is_audited_ok() {
    let home = Home::new();
    home.set_secret("K", "trailer-canary-77");
    home.allow(&["127.0.0.1"]);
    // No Content-Length: the body is streamed.
    let up = Upstream::start(|_| Reply::Chunks {
        headers: vec![],
        chunks: vec![b"echo trailer-".to_vec(), b"canary-77".to_vec()],
        pause: std::time::Duration::from_millis(5),
    });
    let proxy = Proxy::start(&home);
    let raw = raw_proxy(&proxy, "GET", &up.url("/t"), "TE: trailers\r\n");
    assert!(raw.contains("transfer-encoding: chunked"), "{raw}");
    // Chunk framing sits between "echo " and the marker.
    assert!(raw.contains("[REDACTED_BY_AGENTSECRETS]"), "{raw}");
    assert!(raw.contains("\r\nx-as-redacted: true\r\n"), "{raw}");
    assert!(!raw.contains("trailer-canary-77"));
    let last = home.audit_lines().pop().unwrap();
    assert_eq!(last["status"], "OK", "{last}");
    assert_eq!(last["redacted"], true);
}

#[test]
fn a_small_body_of_known_length_comes_whole_with_its_length_and_redacted_header() {
    let home = Home::new();
    home.set_secret("K", "small-canary-31");
    home.allow(&["127.0.0.1"]);
    let up = Upstream::start(|r| {
        if r.path == "/echo" {
            Reply::ok("echo small-canary-31 and more")
        } else {
            Reply::ok("nothing to see")
        }
    });
    let proxy = Proxy::start(&home);

    let raw = raw_proxy(&proxy, "GET", &up.url("/echo"), "TE: trailers\r\n");
    let body = "echo [REDACTED_BY_AGENTSECRETS] and more";
    assert!(!raw.contains("transfer-encoding"), "{raw}");
    assert!(
        raw.contains(&format!("\r\ncontent-length: {}\r\n", body.len())),
        "{raw}"
    );
    assert!(raw.contains("\r\nx-as-redacted: true\r\n"), "{raw}");
    assert!(raw.ends_with(body), "{raw}");
    assert!(!raw.contains("small-canary-31"));
    let last = home.audit_lines().pop().unwrap();
    assert_eq!(
        (last["status"].as_str(), last["reason"].as_str()),
        (Some("OK"), Some("credential_echo"))
    );
    assert_eq!(last["redacted"], true);

    let raw = raw_proxy(&proxy, "GET", &up.url("/clean"), "");
    assert!(raw.contains("\r\ncontent-length: 14\r\n"), "{raw}");
    assert!(raw.contains("\r\nx-as-redacted: false\r\n"), "{raw}");
    assert!(raw.ends_with("nothing to see"), "{raw}");
    let last = home.audit_lines().pop().unwrap();
    assert_eq!(
        (last["status"].as_str(), last["reason"].as_str()),
        (Some("OK"), Some("-"))
    );
}

#[test]
fn a_body_over_64_kib_or_a_head_answer_is_streamed() {
    let home = Home::new();
    home.set_secret("K", "big-canary-58");
    home.allow(&["127.0.0.1"]);
    let up = Upstream::start(|_| {
        let mut body = vec![b'x'; 64 * 1024];
        body.extend_from_slice(b"big-canary-58");
        Reply::ok(body)
    });
    let proxy = Proxy::start(&home);
    let raw = raw_proxy(&proxy, "GET", &up.url("/big"), "TE: trailers\r\n");
    assert!(
        raw.contains("transfer-encoding: chunked"),
        "{}",
        &raw[..400]
    );
    assert!(!raw.contains("big-canary-58"));
    assert!(raw.contains("[REDACTED_BY_AGENTSECRETS]"));
    assert!(raw.contains("\r\nx-as-redacted: true\r\n"));

    let head = raw_proxy(&proxy, "HEAD", &up.url("/big"), "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(!head.contains("content-length: 0"), "{head}");
    assert!(!head.contains("x-as-redacted"), "{head}");
}
