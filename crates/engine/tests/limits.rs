//! Answers the engine cuts (S15, S21, trickle) and how the cut reaches the
//! caller: an `X-AS-Engine-Error` trailer when the caller asked for
//! trailers. And content encodings the engine will not half-decode.

mod support;
use http_body_util::BodyExt;
use reqwest::Method;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use support::*;

const CANARY: &str = "canary-limits-4f1d9e77c2ab";

fn home_with_canary() -> Home {
    let home = Home::new();
    home.set_secret("CANARY", CANARY);
    home.allow(&["127.0.0.1"]);
    home
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A streamed answer read to its end: body, trailers, whether it failed.
struct Streamed {
    body: Vec<u8>,
    trailers: Option<http::HeaderMap>,
    failed: bool,
    took: Duration,
}

impl Streamed {
    fn trailer(&self, name: &str) -> Option<String> {
        self.trailers
            .as_ref()?
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

fn read_with_trailers(rb: reqwest::RequestBuilder) -> Streamed {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let started = Instant::now();
        let resp = rb.header("TE", "trailers").send().await.unwrap();
        let mut body: http_body_util::combinators::BoxBody<_, _> =
            http::Response::<reqwest::Body>::from(resp)
                .into_body()
                .boxed();
        let mut out = Streamed {
            body: Vec::new(),
            trailers: None,
            failed: false,
            took: Duration::ZERO,
        };
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => match f.into_data() {
                    Ok(d) => out.body.extend_from_slice(&d),
                    Err(f) => out.trailers = f.into_trailers().ok(),
                },
                Err(_) => {
                    out.failed = true;
                    break;
                }
            }
        }
        out.took = started.elapsed();
        out
    })
}

#[test]
fn a_trickling_upstream_is_cut_at_the_deadline_with_an_upstream_timeout_trailer() {
    let home = home_with_canary();
    // One byte every 100 ms for 8 s: never a pause long enough to stall.
    let up = Upstream::start(|_| Reply::Chunks {
        headers: vec![],
        chunks: (0..80).map(|_| b"x".to_vec()).collect(),
        pause: Duration::from_millis(100),
    });
    let proxy = Proxy::start_with(&home, |o| {
        o.timeout = Duration::from_secs(30);
        o.deadline = Duration::from_secs(1);
    });
    let got = read_with_trailers(
        proxy
            .request(Method::GET, &up.url("/trickle"))
            .header("X-AS-Inject-Bearer", "CANARY"),
    );
    assert!(!got.failed, "with trailers the cut ends the body cleanly");
    assert_eq!(
        got.trailer("x-as-engine-error").as_deref(),
        Some("UPSTREAM_TIMEOUT")
    );
    assert!(
        got.took < Duration::from_secs(5),
        "cut after {:?}",
        got.took
    );
    assert!(got.body.len() < 80, "the trickle was not read to its end");
    let last = home.audit_lines().pop().unwrap();
    assert_eq!(last["reason"], "body_incomplete");
}

#[test]
fn a_decompression_bomb_is_cut_at_the_engine_limit_with_a_response_too_large_trailer() {
    let home = home_with_canary();
    // About 64 KiB on the wire, 64 MiB decoded.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < 256 << 10);
    let up = Upstream::start(move |_| Reply::Full {
        status: 200,
        headers: vec![("content-encoding".into(), "gzip".into())],
        body: bomb.clone(),
    });
    let proxy = Proxy::start_with(&home, |o| o.max_response_bytes = 4 << 20);
    let got = read_with_trailers(
        proxy
            .request(Method::GET, &up.url("/bomb"))
            .header("X-AS-Inject-Bearer", "CANARY"),
    );
    assert!(!got.failed);
    assert_eq!(
        got.trailer("x-as-engine-error").as_deref(),
        Some("RESPONSE_TOO_LARGE")
    );
    assert!(
        got.body.len() <= (4 << 20) + (64 << 10),
        "{}",
        got.body.len()
    );
}

#[test]
fn an_endless_body_without_trailers_asked_is_still_cut_by_failing_the_stream() {
    let home = home_with_canary();
    let up = Upstream::start(|_| Reply::Endless);
    let proxy = Proxy::start_with(&home, |o| o.max_response_bytes = 1 << 20);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let failed = rt.block_on(async {
        let mut resp = proxy
            .request(Method::GET, &up.url("/endless"))
            .header("X-AS-Inject-Bearer", "CANARY")
            .send()
            .await
            .unwrap();
        loop {
            match resp.chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) => break false,
                Err(_) => break true,
            }
        }
    });
    assert!(
        failed,
        "a caller that cannot read trailers must see a failed body, never a clean end"
    );
}

/// Gunzips as many layers as `data` has, to look for the canary inside.
fn gunzip_all(mut data: Vec<u8>) -> Vec<u8> {
    for _ in 0..4 {
        let mut out = Vec::new();
        if flate2::read::GzDecoder::new(&data[..])
            .read_to_end(&mut out)
            .is_err()
        {
            break;
        }
        data = out;
    }
    data
}

#[test]
fn two_gzip_header_lines_over_a_double_gzipped_echo_are_refused_like_one_gzip_gzip_line() {
    let home = home_with_canary();
    let up = Upstream::start(|r| {
        let inner = gzip(gzip(format!("echo={CANARY}").as_bytes()).as_slice());
        let lines: Vec<(String, String)> = match r.path.as_str() {
            "/two-lines" => vec![
                ("content-encoding".into(), "gzip".into()),
                ("content-encoding".into(), "gzip".into()),
            ],
            "/identity-then-gzip" => vec![
                ("content-encoding".into(), "identity".into()),
                ("content-encoding".into(), "gzip".into()),
            ],
            _ => vec![("content-encoding".into(), "gzip, gzip".into())],
        };
        Reply::Full {
            status: 200,
            headers: lines,
            body: inner,
        }
    });
    let proxy = Proxy::start(&home);
    for path in ["/two-lines", "/identity-then-gzip", "/one-line"] {
        let a = proxy.send(
            proxy
                .request(Method::GET, &up.url(path))
                .header("X-AS-Inject-Bearer", "CANARY"),
        );
        assert_eq!(
            a.engine_error().as_deref(),
            Some("UPSTREAM_ENCODING"),
            "{path}: {} {:?}",
            a.status,
            a.headers
        );
        assert_no_leak(path, &gunzip_all(a.body.clone()), CANARY);
    }
}
