//! Timing harness for the redactor; prints figures and asserts only
//! correctness. Not part of the normal run:
//! `cargo test --release -p agentsecrets-engine --test redact_timing -- --ignored --nocapture`

use agentsecrets_engine::redact::{encoded_forms, Patterns, Search, StreamRedactor};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ONE: &str = "sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
const FIVE: [&str; 5] = [
    ONE,
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
];

/// Runs `f` repeatedly for about `budget` and returns the median time per call.
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> Duration {
    // Warm up.
    for _ in 0..10 {
        f();
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 5 {
        let t = Instant::now();
        for _ in 0..20 {
            f();
        }
        samples.push(t.elapsed() / 20);
    }
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// A JSON document shaped like a typical API response, about `size` bytes.
fn json_like(size: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 256);
    out.extend_from_slice(b"{\"data\":[");
    let mut i = seed;
    while out.len() < size {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let item = format!(
            "{{\"id\":\"obj_{:016x}\",\"object\":\"charge\",\"amount\":{},\"currency\":\"usd\",\"description\":\"Order #{} for customer\",\"livemode\":false,\"url\":\"https://api.example.com/v1/charges/{:x}\"}},",
            i,
            i % 100_000,
            i % 9973,
            i >> 20
        );
        out.extend_from_slice(item.as_bytes());
    }
    out.truncate(size.saturating_sub(2));
    out.extend_from_slice(b"]}");
    out
}

#[test]
#[ignore]
fn timing() {
    let budget = Duration::from_millis(400);
    let forms1 = time_per_call(budget, || {
        black_box(encoded_forms(black_box(ONE.as_bytes())));
    });
    println!(
        "encoded_forms(1 value, {} forms): {:?}",
        encoded_forms(ONE.as_bytes()).len(),
        forms1
    );
    let new1 = time_per_call(budget, || {
        black_box(Patterns::new([ONE.as_bytes()]));
    });
    println!(
        "Patterns::new(1 value, {} forms): {:?}",
        Patterns::new([ONE.as_bytes()]).len(),
        new1
    );
    let new5 = time_per_call(budget, || {
        black_box(Patterns::new(FIVE.iter().map(|v| v.as_bytes())));
    });
    println!(
        "Patterns::new(5 values, {} forms): {:?}",
        Patterns::new(FIVE.iter().map(|v| v.as_bytes())).len(),
        new5
    );

    let doc = json_like(2048, 7);
    // Never accelerated, as a request's own patterns scanning a few KiB.
    let p1 = Patterns::tuned([ONE.as_bytes()], usize::MAX, Search::Auto).unwrap();
    let red = time_per_call(budget, || {
        black_box(p1.redact(black_box(&doc)));
    });
    println!("redact(2 KiB JSON, 1 value, prebuilt): {red:?}");
    let p5 = Patterns::tuned(FIVE.iter().map(|v| v.as_bytes()), usize::MAX, Search::Auto).unwrap();
    let red = time_per_call(budget, || {
        black_box(p5.redact(black_box(&doc)));
    });
    println!("redact(2 KiB JSON, 5 values, prebuilt): {red:?}");
    let mut echoed = doc.clone();
    echoed.splice(1000..1000, ONE.bytes());
    let red = time_per_call(budget, || {
        black_box(p1.redact(black_box(&echoed)));
    });
    println!("redact(2 KiB JSON with one echo, 1 value, prebuilt): {red:?}");
    let (out, hit) = p1.redact(&echoed);
    assert!(hit && !String::from_utf8_lossy(&out).contains(ONE));

    // The whole per-request cost: build, stream one small chunk, finish.
    for (name, values) in [("1 value", &FIVE[..1]), ("5 values", &FIVE[..])] {
        let per_req = time_per_call(budget, || {
            let p = Arc::new(Patterns::new(values.iter().map(|v| v.as_bytes())));
            let mut s = StreamRedactor::new(p);
            black_box(s.push(black_box(&doc)));
            black_box(s.finish());
        });
        println!("per request (new + stream 2 KiB JSON + finish, {name}): {per_req:?}");
    }

    // A large body in 64 KiB chunks, a few echoes spread through it.
    let chunk_size = 64 * 1024;
    let total: usize = 256 << 20;
    let base = json_like(1 << 20, 11);
    for (name, values, after, kind) in [
        ("1 value", &FIVE[..1], None, Search::Auto),
        ("5 values", &FIVE[..], None, Search::Auto),
        ("1 value, automaton", &FIVE[..1], Some(0), Search::Automaton),
        ("5 values, automaton", &FIVE[..], Some(0), Search::Automaton),
        ("5 values, anchors", &FIVE[..], Some(0), Search::Anchors),
        (
            "1 value, small path only",
            &FIVE[..1],
            Some(usize::MAX),
            Search::Auto,
        ),
        (
            "5 values, small path only",
            &FIVE[..],
            Some(usize::MAX),
            Search::Auto,
        ),
    ] {
        let v = values.iter().map(|v| v.as_bytes());
        let p = Arc::new(match after {
            None => Patterns::new(v),
            Some(after) => Patterns::tuned(v, after, kind).unwrap(),
        });
        let mut s = StreamRedactor::new(p);
        let mut out_len = 0usize;
        let t = Instant::now();
        let mut fed = 0usize;
        let total = if after == Some(usize::MAX) {
            total / 4
        } else {
            total
        };
        while fed < total {
            let off = fed % base.len();
            let end = (off + chunk_size).min(base.len());
            out_len += s.push(&base[off..end]).len();
            fed += end - off;
        }
        out_len += s.finish().len();
        let dt = t.elapsed();
        assert_eq!(out_len, total);
        println!(
            "stream {} MiB JSON-like in 64 KiB chunks ({name}): {:.0} MiB/s",
            total >> 20,
            total as f64 / (1 << 20) as f64 / dt.as_secs_f64()
        );
    }

    // Echoes of the last value every ~500 bytes: a match must not make the
    // search scan the rest of the chunk again.
    let mut echoing = Vec::new();
    while echoing.len() < 1 << 20 {
        echoing.extend_from_slice(&json_like(500, echoing.len() as u64));
        echoing.extend_from_slice(FIVE[4].as_bytes());
    }
    let p = Arc::new(Patterns::new(FIVE.iter().map(|v| v.as_bytes())));
    let mut s = StreamRedactor::new(p);
    let t = Instant::now();
    let rounds = 32;
    for _ in 0..rounds {
        for chunk in echoing.chunks(chunk_size) {
            black_box(s.push(chunk));
        }
    }
    black_box(s.finish());
    println!(
        "stream {} MiB with an echo every ~500 bytes (5 values): {:.0} MiB/s",
        (rounds * echoing.len()) >> 20,
        (rounds * echoing.len()) as f64 / (1 << 20) as f64 / t.elapsed().as_secs_f64()
    );
}

/// `n` values shaped like API keys (a prefix and 24 to 47 characters).
fn home_values(n: usize) -> Vec<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let len = 24 + (next() % 24) as usize;
            let body: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize] as char)
                .collect();
            format!(
                "{}_{body}",
                ["sk_live", "ghp", "xoxb", "AKIA", "key"][i % 5]
            )
        })
        .collect()
}

/// What every answer costs once every value of a home is scanned: the
/// shared patterns of 1 to 1,000 values, on a small answer and a stream.
#[test]
#[ignore]
fn timing_home_sizes() {
    let budget = Duration::from_millis(400);
    let doc = json_like(2048, 7);
    let base = json_like(1 << 20, 11);
    for n in [1, 10, 100, 1000] {
        let values = home_values(n);
        let t = Instant::now();
        let p = Arc::new(Patterns::shared(values.iter().map(|v| v.as_bytes())).unwrap());
        let build = t.elapsed();
        let small = time_per_call(budget, || {
            let mut s = StreamRedactor::new(p.clone());
            black_box(s.push(black_box(&doc)));
            black_box(s.finish());
        });
        let total: usize = 256 << 20;
        let mut s = StreamRedactor::new(p.clone());
        let t = Instant::now();
        let mut fed = 0usize;
        while fed < total {
            let off = fed % base.len();
            let end = (off + 64 * 1024).min(base.len());
            black_box(s.push(&base[off..end]));
            fed += end - off;
        }
        black_box(s.finish());
        let secs_per_gib = t.elapsed().as_secs_f64() * (1u64 << 30) as f64 / total as f64;
        println!(
            "{n:>5} values ({} forms): build {build:?}, 2 KiB answer {small:?}, stream {secs_per_gib:.3} s/GiB",
            p.len()
        );
    }
}
