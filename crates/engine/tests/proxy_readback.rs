//! S17 (read-back) and the rest of what every answer is scanned for: a
//! value stored on an API by one call, or held in another workspace or
//! project, never comes back in plain text from another call.

mod support;
use reqwest::Method;
use std::sync::{Arc, Mutex};
use support::*;

const CANARY: &str = "sk_live_readback_CANARY_7f3a9c";
const OTHER: &str = "other-bearer-canary-5d2e8b";

fn home() -> Home {
    let home = Home::new();
    home.set_secret("CANARY", CANARY);
    home.set_secret("OTHER", OTHER);
    home.allow(&["127.0.0.1"]);
    home
}

/// A notes API: `POST /notes` stores the body, `GET /notes` returns every
/// note (`?big` pads the answer past the size read whole, so it streams).
fn notes_api() -> Upstream {
    let notes: Arc<Mutex<Vec<u8>>> = Arc::default();
    Upstream::start(move |r| {
        let mut notes = notes.lock().unwrap();
        if r.method == "POST" {
            notes.extend_from_slice(&r.body);
            notes.push(b'\n');
            return Reply::ok("stored");
        }
        let mut body = notes.clone();
        if r.query.as_deref() == Some("big") {
            body.extend(std::iter::repeat_n(b'.', 200 * 1024));
            body.extend_from_slice(&notes);
        }
        Reply::ok(body)
    })
}

fn assert_clean(what: &str, a: &Answer) {
    assert_eq!(a.status, 200, "{what}: {}", a.text());
    assert_no_leak(what, &a.body, CANARY);
    for (name, value) in &a.headers {
        assert_no_leak(what, name.as_str().as_bytes(), CANARY);
        assert_no_leak(what, value.as_bytes(), CANARY);
    }
}

#[test]
fn s17_a_value_stored_by_one_call_is_redacted_when_read_back() {
    let home = home();
    let up = notes_api();
    let proxy = Proxy::start(&home);
    let stored = proxy.send(
        proxy
            .request(Method::POST, &up.url("/notes"))
            .header("X-AS-Inject", plan(&[("body", Some("text"), "CANARY")]))
            .header("content-type", "application/json")
            .body(r#"{"text":""}"#),
    );
    assert_eq!(stored.status, 200, "{}", stored.text());
    // The note really holds the value: the attack is real.
    assert!(contains(&up.last().body, CANARY));

    for (what, rb) in [
        (
            "no injection",
            proxy.request(Method::GET, &up.url("/notes")),
        ),
        (
            "another secret injected",
            proxy
                .request(Method::GET, &up.url("/notes"))
                .header("X-AS-Inject", plan(&[("bearer", None, "OTHER")])),
        ),
        (
            "streamed, no injection",
            proxy.request(Method::GET, &up.url("/notes?big")),
        ),
    ] {
        let a = proxy.send(rb.header("TE", "trailers"));
        assert_clean(what, &a);
        assert!(contains(&a.body, "[REDACTED_BY_AGENTSECRETS]"), "{what}");
    }
}

#[test]
fn s17_values_of_every_workspace_and_project_are_redacted() {
    let home = home();
    home.run(&["project", "create", "billing"]).ok();
    home.set_secret_in("billing", "BILLING_KEY", "billing-canary-value-31337");
    home.run(&["workspace", "create", "Client B"]).ok();
    home.run_stdin(
        &["secrets", "set", "B_KEY", "--workspace", "Client B"],
        "client-b-canary-value-4242",
    )
    .ok();
    let up = Upstream::start(|_| {
        Reply::ok("billing-canary-value-31337 client-b-canary-value-4242 Y2xpZW50LWItY2FuYXJ5LXZhbHVlLTQyNDI=")
    });
    let proxy = Proxy::start(&home);
    let a = proxy.send(proxy.request(Method::GET, &up.url("/")));
    assert_eq!(a.status, 200);
    for v in ["billing-canary-value-31337", "client-b-canary-value-4242"] {
        assert_no_leak("answer", &a.body, v);
    }
}

#[test]
fn s17_a_secret_set_while_the_engine_runs_is_redacted_from_the_next_call() {
    let home = home();
    let up = Upstream::start(|_| Reply::ok("token: fresh-canary-value-8a7b6c"));
    let proxy = Proxy::start(&home);
    let before = proxy.send(proxy.request(Method::GET, &up.url("/")));
    assert!(contains(&before.body, "fresh-canary-value-8a7b6c"));
    home.set_secret("FRESH", "fresh-canary-value-8a7b6c");
    let after = proxy.send(proxy.request(Method::GET, &up.url("/")));
    assert_no_leak("after set", &after.body, "fresh-canary-value-8a7b6c");
    // And a changed value replaces the old one in the patterns.
    home.set_secret("FRESH", "changed-canary-value-1d2e3f");
    let up2 = Upstream::start(|_| Reply::ok("token: changed-canary-value-1d2e3f"));
    let changed = proxy.send(proxy.request(Method::GET, &up2.url("/")));
    assert_no_leak("after change", &changed.body, "changed-canary-value-1d2e3f");
}

#[test]
fn a_call_without_injection_skips_the_allowlist_but_not_the_scan() {
    let home = home();
    let up = Upstream::start(|_| Reply::ok(format!("echo {CANARY}")));
    let proxy = Proxy::start(&home);
    // `localhost` is not on the allowlist (only 127.0.0.1 is).
    let target = format!("http://localhost:{}/", up.addr.port());
    let a = proxy.send(proxy.request(Method::GET, &target));
    assert_clean("no injection", &a);
    let refused = proxy.send(
        proxy
            .request(Method::GET, &target)
            .header("X-AS-Inject", plan(&[("bearer", None, "CANARY")])),
    );
    assert_eq!(
        refused.engine_error().as_deref(),
        Some("DOMAIN_NOT_ALLOWED")
    );
}

#[test]
fn s17_an_injecting_call_cannot_ask_for_a_byte_range() {
    let home = home();
    let up = Upstream::start(|r| Reply::ok(format!("{:?}", r.headers.get("range"))));
    let proxy = Proxy::start(&home);
    for header in ["Range", "If-Range"] {
        let a = proxy.send(
            proxy
                .request(Method::GET, &up.url("/echo"))
                .header("X-AS-Inject", plan(&[("bearer", None, "CANARY")]))
                .header(header, "bytes=0-7"),
        );
        assert_eq!(
            a.engine_error().as_deref(),
            Some("INVALID_REQUEST"),
            "{header}"
        );
        assert!(a.text().contains("slices"), "{}", a.text());
    }
    assert_eq!(up.count(), 0, "nothing reached the upstream");
    // Without an injection the request carries no value: Range passes.
    let plain = proxy.send(
        proxy
            .request(Method::GET, &up.url("/echo"))
            .header("Range", "bytes=0-7"),
    );
    assert_eq!(plain.text(), "Some(\"bytes=0-7\")");
}

#[test]
fn s22_a_value_in_a_response_header_name_is_dropped() {
    let home = home();
    let up = Upstream::start(|_| Reply::Full {
        status: 200,
        headers: vec![
            (OTHER.to_owned(), "1".to_owned()),
            ("x-kept".to_owned(), "yes".to_owned()),
        ],
        body: b"ok".to_vec(),
    });
    let proxy = Proxy::start(&home);
    let a = proxy.send(
        proxy
            .request(Method::GET, &up.url("/"))
            .header("X-AS-Inject", plan(&[("bearer", None, "OTHER")])),
    );
    assert_eq!(a.status, 200);
    assert!(a.headers.get(OTHER).is_none());
    assert_eq!(a.headers.get("x-kept").unwrap(), "yes");
    assert_eq!(a.headers.get("x-as-headers-redacted").unwrap(), "true");
    for (name, _) in &a.headers {
        assert_no_leak("header name", name.as_str().as_bytes(), OTHER);
    }
}
