//! A running proxy keeps what it resolved from the vault between calls.
//! Every change another process makes (a value rotated or deleted, a host
//! removed from the allowlist, another active project, a new value to scan
//! for) must reach the very next call, however warm the proxy is.

mod support;
use reqwest::Method;
use support::*;

const OLD: &str = "bearer-old-value-1a2b3c";
const NEW: &str = "bearer-new-value-4d5e6f";

fn setup() -> (Home, Upstream, Proxy) {
    let home = Home::new();
    home.set_secret("KEY", OLD);
    home.allow(&["127.0.0.1"]);
    let up =
        Upstream::start(|r| Reply::ok(r.query.clone().unwrap_or_default().replace("echo=", "")));
    let proxy = Proxy::start(&home);
    (home, up, proxy)
}

/// A call injecting KEY as a bearer; the upstream answers with `echo`.
fn call(proxy: &Proxy, up: &Upstream, echo: &str) -> Answer {
    proxy.send(
        proxy
            .request(Method::GET, &up.url(&format!("/x?echo={echo}")))
            .header("X-AS-Inject", plan(&[("bearer", None, "KEY")])),
    )
}

/// The bearer the upstream saw, after a few calls that warm the proxy.
fn warm(proxy: &Proxy, up: &Upstream) -> String {
    for _ in 0..3 {
        assert_eq!(call(proxy, up, "hi").status, 200);
    }
    up.last().headers["authorization"].clone()
}

#[test]
fn a_rotated_value_is_injected_by_the_next_call() {
    let (home, up, proxy) = setup();
    assert_eq!(warm(&proxy, &up), format!("Bearer {OLD}"));
    home.set_secret("KEY", NEW);
    assert_eq!(call(&proxy, &up, "hi").status, 200);
    assert_eq!(up.last().headers["authorization"], format!("Bearer {NEW}"));
}

#[test]
fn a_deleted_secret_is_not_found_by_the_next_call() {
    let (home, up, proxy) = setup();
    warm(&proxy, &up);
    home.run(&["secrets", "delete", "KEY"]).ok();
    let count = up.count();
    let a = call(&proxy, &up, "hi");
    assert_eq!(a.engine_error().as_deref(), Some("SECRET_NOT_FOUND"));
    assert_eq!(up.count(), count, "nothing was sent");
}

#[test]
fn a_host_removed_from_the_allowlist_is_refused_by_the_next_call() {
    let (home, up, proxy) = setup();
    warm(&proxy, &up);
    home.run_stdin(
        &[
            "workspace",
            "allowlist",
            "remove",
            "127.0.0.1",
            "--password-stdin",
        ],
        format!("{ADMIN_PASSWORD}\n"),
    )
    .ok();
    let count = up.count();
    let a = call(&proxy, &up, "hi");
    assert_eq!(a.engine_error().as_deref(), Some("DOMAIN_NOT_ALLOWED"));
    assert_eq!(up.count(), count, "nothing was sent");
    home.allow(&["127.0.0.1"]);
    assert_eq!(call(&proxy, &up, "hi").status, 200);
}

#[test]
fn another_active_project_is_used_by_the_next_call() {
    let (home, up, proxy) = setup();
    home.run(&["project", "create", "payments"]).ok();
    home.set_secret_in("payments", "KEY", NEW);
    assert_eq!(warm(&proxy, &up), format!("Bearer {OLD}"));
    home.run(&["project", "use", "payments"]).ok();
    assert_eq!(call(&proxy, &up, "hi").status, 200);
    assert_eq!(up.last().headers["authorization"], format!("Bearer {NEW}"));
}

#[test]
fn a_value_added_later_is_scanned_for_by_the_next_call() {
    let (home, up, proxy) = setup();
    warm(&proxy, &up);
    let added = "added-later-canary-9z8y7x";
    home.set_secret("ADDED", added);
    let a = call(&proxy, &up, added);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_no_leak("answer", &a.body, added);
}

/// A commit writes its WAL frames (a file event) before it becomes
/// visible; a call landing in between must not keep the old value.
#[test]
fn rotations_under_load_are_injected_by_the_next_call() {
    let (home, up, proxy) = setup();
    let proxy = std::sync::Arc::new(proxy);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Calls keep coming while the value changes; one that fails under a
    // loaded machine does not matter, only the checked calls do.
    let load = {
        let (proxy, stop, url) = (proxy.clone(), stop.clone(), up.url("/load"));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let rb = proxy
                    .request(Method::GET, &url)
                    .header("X-AS-Inject", plan(&[("bearer", None, "KEY")]));
                let _ = rt.block_on(async { rb.send().await?.bytes().await });
            }
        })
    };
    let checks = Upstream::start(|_| Reply::ok("ok"));
    for i in 0..20 {
        let value = format!("rotated-value-{i:02}-a1b2c3");
        home.set_secret("KEY", &value);
        let a = call(&proxy, &checks, "hi");
        assert_eq!(a.status, 200, "{}", a.text());
        assert_eq!(
            checks.last().headers["authorization"],
            format!("Bearer {value}"),
            "rotation {i}"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    load.join().unwrap();
}
