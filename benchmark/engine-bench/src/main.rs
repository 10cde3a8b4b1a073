//! Engine benchmark: one loopback upstream, the real engine binary as a
//! separate process, and this process as the client. Every engine figure is
//! measured right next to a direct run against the same upstream and
//! reported as a ratio.
//!
//! Usage: engine-bench [--engine PATH] [--seconds S] [--stream-mib N] [--secrets N] [--uniform-body] [--json]
//!
//! Every answer is scanned for every value in the vault, so the vault holds
//! `--secrets` values (default 100) shaped like API keys; one is injected.

mod upstream;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "benchmark-admin-password";
const VALUE: &str = "bench-secret-value-0123456789";

struct Args {
    engine: PathBuf,
    seconds: f64,
    stream_mib: u64,
    latency_samples: usize,
    secrets: usize,
    /// Stream one repeated byte instead of JSON-like text.
    uniform: bool,
    json: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        engine: std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("agentsecrets")))
            .unwrap_or_else(|| PathBuf::from("agentsecrets")),
        seconds: 3.0,
        stream_mib: 256,
        latency_samples: 2000,
        secrets: 100,
        uniform: false,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .unwrap_or_else(|| die(&format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--engine" => a.engine = PathBuf::from(val("--engine")),
            "--seconds" => {
                a.seconds = val("--seconds")
                    .parse()
                    .unwrap_or_else(|_| die("--seconds takes a number"))
            }
            "--stream-mib" => {
                a.stream_mib = val("--stream-mib")
                    .parse()
                    .ok()
                    .filter(|m| (1..=1024).contains(m))
                    .unwrap_or_else(|| {
                        die("--stream-mib takes 1 to 1024 (the engine cuts a response at 1 GiB)")
                    })
            }
            "--samples" => {
                a.latency_samples = val("--samples")
                    .parse()
                    .unwrap_or_else(|_| die("--samples takes a number"))
            }
            "--secrets" => {
                a.secrets = val("--secrets")
                    .parse()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .unwrap_or_else(|| die("--secrets takes 1 to 100000"))
            }
            "--uniform-body" => a.uniform = true,
            "--json" => a.json = true,
            "-h" | "--help" => {
                println!("engine-bench [--engine PATH] [--seconds S] [--stream-mib N] [--samples N] [--secrets N] [--uniform-body] [--json]\n\n--secrets N: values in the vault (default 100), every one scanned for in every answer\n--uniform-body: stream one repeated byte instead of JSON-like text\n\nBuild first: cargo build --release -p agentsecrets-engine -p agentsecrets-bench");
                std::process::exit(0);
            }
            other => die(&format!("unknown argument {other}; see --help")),
        }
    }
    if !a.engine.is_file() {
        die(&format!("engine binary {} not found; build it with `cargo build --release -p agentsecrets-engine` or pass --engine", a.engine.display()));
    }
    a
}

/// The engine this run started, stopped by [`die`] so that a failed run
/// leaves no proxy behind.
static ENGINE_PID: AtomicU32 = AtomicU32::new(0);

fn die(msg: &str) -> ! {
    eprintln!("engine-bench: {msg}");
    match ENGINE_PID.load(Ordering::Relaxed) {
        0 => {}
        pid => terminate(pid),
    }
    std::process::exit(2)
}

fn cli(engine: &Path, home: &Path, args: &[&str], stdin: &str) {
    let mut c = Command::new(engine)
        .args(args)
        .env("AGENTSECRETS_HOME", home)
        .env("AGENTSECRETS_KEY_STORE", "file")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| die(&format!("cannot run the engine: {e}")));
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    if !out.status.success() {
        die(&format!(
            "agentsecrets {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
}

/// Stores `n` more values shaped like API keys, in batches (the values are
/// made up, so passing them as `KEY=VALUE` does no harm here).
fn seed_secrets(engine: &Path, home: &Path, n: usize) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let items: Vec<String> = (0..n)
        .map(|i| {
            let len = 24 + (next() % 24) as usize;
            let body: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize] as char)
                .collect();
            let prefix = ["sk_live", "ghp", "xoxb", "AKIA", "key"][i % 5];
            format!("SEED_{i}={prefix}_{body}")
        })
        .collect();
    for batch in items.chunks(250) {
        let mut args = vec!["--json", "secrets", "set"];
        args.extend(batch.iter().map(String::as_str));
        cli(engine, home, &args, "");
    }
}

/// The engine process and how to reach it.
struct Engine {
    child: Child,
    pid: u32,
    socket: PathBuf,
}

impl Engine {
    fn start(engine: &Path, home: &Path) -> Engine {
        let child = Command::new(engine)
            .args(["proxy", "start", "--port", "0"])
            .env("AGENTSECRETS_HOME", home)
            .env("AGENTSECRETS_KEY_STORE", "file")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| die(&format!("cannot start the engine: {e}")));
        let state = home.join("run/proxy.json");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !state.exists() {
            if Instant::now() > deadline {
                die("the engine did not become ready in 10 s");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let pid = child.id();
        ENGINE_PID.store(pid, Ordering::Relaxed);
        Engine {
            child,
            pid,
            socket: home.join("run/proxy.sock"),
        }
    }

    /// User + system CPU time of the engine process so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0)
            + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
        // USER_HZ is 100 on every Linux this runs on.
        let hz = 100u64;
        Duration::from_micros(ticks * 1_000_000 / hz)
    }

    /// Peak resident set size in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    fn stop(mut self) {
        terminate(self.pid);
        let _ = self.child.wait();
    }
}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

/// One way of making the small call.
#[derive(Clone)]
enum Path_ {
    Direct {
        client: reqwest::Client,
        url: String,
    },
    Engine {
        client: reqwest::Client,
        target: String,
    },
}

impl Path_ {
    async fn call(&self) -> Result<(), String> {
        let resp = match self {
            Path_::Direct { client, url } => {
                client
                    .get(url)
                    .header("authorization", format!("Bearer {VALUE}"))
                    .send()
                    .await
            }
            Path_::Engine { client, target } => {
                client
                    .get("http://localhost/proxy")
                    .header("x-as-target-url", target)
                    .header(
                        "x-as-inject",
                        r#"[{"style":"bearer","secret":"BENCH_KEY"}]"#,
                    )
                    .send()
                    .await
            }
        }
        .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        resp.bytes().await.map_err(|e| e.to_string())?;
        Ok(())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn latency(path: &Path_, n: usize) -> Vec<Duration> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        path.call().await.unwrap_or_else(|e| die(&e));
        v.push(t.elapsed());
    }
    v
}

async fn throughput(path: &Path_, concurrency: usize, seconds: f64) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let p = path.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                p.call().await.unwrap_or_else(|e| die(&e));
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = done.load(Ordering::Relaxed);
    (n as f64 / start.elapsed().as_secs_f64(), n)
}

struct Stream {
    mib_per_s: f64,
    first_byte: Duration,
}

/// Streaming transfers per path (each path's median is reported).
const STREAM_ROUNDS: usize = 3;

/// The transfer with the median throughput.
fn median_stream(mut v: Vec<Stream>) -> Stream {
    v.sort_by(|a, b| a.mib_per_s.total_cmp(&b.mib_per_s));
    v.swap_remove(v.len() / 2)
}

async fn stream(req: reqwest::RequestBuilder, expect: u64) -> Stream {
    let start = Instant::now();
    let mut resp = req.send().await.unwrap_or_else(|e| die(&e.to_string()));
    let mut first = None;
    let mut got = 0u64;
    while let Some(chunk) = resp.chunk().await.unwrap_or_else(|e| die(&e.to_string())) {
        if first.is_none() {
            first = Some(start.elapsed());
        }
        got += chunk.len() as u64;
    }
    if got != expect {
        die(&format!("streamed {got} bytes, expected {expect}"));
    }
    Stream {
        mib_per_s: got as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64(),
        first_byte: first.unwrap_or_default(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    cli(
        &args.engine,
        h,
        &["init", "--admin-password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    cli(&args.engine, h, &["secrets", "set", "BENCH_KEY"], VALUE);
    seed_secrets(&args.engine, h, args.secrets - 1);
    cli(
        &args.engine,
        h,
        &[
            "workspace",
            "allowlist",
            "add",
            "127.0.0.1",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );

    let stream_bytes = args.stream_mib << 20;
    let up = upstream::start(stream_bytes, args.uniform);
    let engine = Engine::start(&args.engine, h);

    let direct_client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let engine_client = reqwest::Client::builder()
        .unix_socket(engine.socket.clone())
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let small = format!("http://{}/small", up.addr);
    let direct = Path_::Direct {
        client: direct_client.clone(),
        url: small.clone(),
    };
    let via = Path_::Engine {
        client: engine_client.clone(),
        target: small.clone(),
    };

    // Warm both paths (connections, caches).
    latency(&direct, 200).await;
    latency(&via, 200).await;

    // Latency at concurrency 1, interleaved in rounds so both see the same machine.
    let (mut d, mut e) = (Vec::new(), Vec::new());
    let rounds = 10;
    for _ in 0..rounds {
        d.extend(latency(&direct, args.latency_samples / rounds).await);
        e.extend(latency(&via, args.latency_samples / rounds).await);
    }
    d.sort();
    e.sort();

    // Throughput at 64 concurrent: direct, engine, direct.
    let (d1, _) = throughput(&direct, 64, args.seconds).await;
    let conns_before = up.connections.load(Ordering::Relaxed);
    let cpu_before = engine.cpu();
    let (et, en) = throughput(&via, 64, args.seconds).await;
    let cpu = engine.cpu() - cpu_before;
    let new_conns = up.connections.load(Ordering::Relaxed) - conns_before;
    let (d2, _) = throughput(&direct, 64, args.seconds).await;
    let direct_tp = (d1 + d2) / 2.0;

    // Streaming, on a fresh engine so that its peak RSS is this phase's alone
    // (the engine is not dumpable, so its peak cannot be reset from outside).
    let load_peak_rss = engine.peak_rss_kib();
    engine.stop();
    let engine = Engine::start(&args.engine, h);
    let engine_client = reqwest::Client::builder()
        .unix_socket(engine.socket.clone())
        .build()
        .unwrap();
    let big = format!("http://{}/stream", up.addr);
    let direct_req = || {
        direct_client
            .get(&big)
            .header("authorization", format!("Bearer {VALUE}"))
    };
    let engine_req = || {
        engine_client
            .get("http://localhost/proxy")
            .header("x-as-target-url", &big)
            .header(
                "x-as-inject",
                r#"[{"style":"bearer","secret":"BENCH_KEY"}]"#,
            )
    };
    // Rounds of direct, engine, direct; the medians are reported, since one
    // transfer of a few hundred MiB lasts a fraction of a second.
    let (mut sd, mut se, mut stream_cpu) = (Vec::new(), Vec::new(), Duration::ZERO);
    for _ in 0..STREAM_ROUNDS {
        sd.push(stream(direct_req(), stream_bytes).await);
        let before = engine.cpu();
        se.push(stream(engine_req(), stream_bytes).await);
        stream_cpu += engine.cpu() - before;
        sd.push(stream(direct_req(), stream_bytes).await);
    }
    let sd = median_stream(sd);
    let se = median_stream(se);
    let direct_stream = sd.mib_per_s;
    let streamed_gib = (stream_bytes * STREAM_ROUNDS as u64) as f64 / (1u64 << 30) as f64;
    let stream_cpu_s_per_gib = stream_cpu.as_secs_f64() / streamed_gib;
    let rss = engine.peak_rss_kib();
    engine.stop();

    let cpu_per_req_us = cpu.as_secs_f64() * 1e6 / en.max(1) as f64;
    let report = serde_json::json!({
        "secrets_in_vault": args.secrets,
        "latency_c1": {
            "direct_p50_ms": ms(percentile(&d, 0.5)), "direct_p99_ms": ms(percentile(&d, 0.99)),
            "engine_p50_ms": ms(percentile(&e, 0.5)), "engine_p99_ms": ms(percentile(&e, 0.99)),
            "added_p50_ms": ms(percentile(&e, 0.5)) - ms(percentile(&d, 0.5)),
            "ratio_p50": ms(percentile(&e, 0.5)) / ms(percentile(&d, 0.5)),
            "ratio_p99": ms(percentile(&e, 0.99)) / ms(percentile(&d, 0.99)),
        },
        "throughput_c64": {
            "direct_rps": direct_tp, "engine_rps": et, "ratio": et / direct_tp,
            "engine_requests": en, "engine_cpu_us_per_request": cpu_per_req_us,
            "new_upstream_connections_per_request": new_conns as f64 / en.max(1) as f64,
        },
        "stream": {
            "mib": args.stream_mib,
            "direct_mib_s": direct_stream, "engine_mib_s": se.mib_per_s, "ratio": se.mib_per_s / direct_stream,
            "direct_first_byte_ms": ms(sd.first_byte), "engine_first_byte_ms": ms(se.first_byte),
            "engine_peak_rss_mib": rss as f64 / 1024.0,
            "engine_cpu_s_per_gib": stream_cpu_s_per_gib,
            "engine_peak_rss_under_load_mib": load_peak_rss as f64 / 1024.0,
        },
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
        return;
    }
    let l = &report["latency_c1"];
    let t = &report["throughput_c64"];
    let s = &report["stream"];
    println!("engine benchmark (one loopback upstream; engine over its Unix socket; {} secrets in the vault; ratios are engine / direct)\n", args.secrets);
    println!("latency, concurrency 1   direct p50 {:.3} ms  p99 {:.3} ms | engine p50 {:.3} ms  p99 {:.3} ms | ratio p50 {:.2}x  p99 {:.2}x  (added {:.3} ms)",
        l["direct_p50_ms"].as_f64().unwrap(), l["direct_p99_ms"].as_f64().unwrap(), l["engine_p50_ms"].as_f64().unwrap(), l["engine_p99_ms"].as_f64().unwrap(),
        l["ratio_p50"].as_f64().unwrap(), l["ratio_p99"].as_f64().unwrap(), l["added_p50_ms"].as_f64().unwrap());
    println!(
        "throughput, concurrency 64  direct {:.0} req/s | engine {:.0} req/s | ratio {:.2}x",
        t["direct_rps"].as_f64().unwrap(),
        t["engine_rps"].as_f64().unwrap(),
        t["ratio"].as_f64().unwrap()
    );
    println!(
        "engine CPU per proxied request  {:.1} us   new upstream connections per request  {:.4}",
        t["engine_cpu_us_per_request"].as_f64().unwrap(),
        t["new_upstream_connections_per_request"].as_f64().unwrap()
    );
    println!(
        "engine peak RSS during the c=64 load {:.1} MiB",
        s["engine_peak_rss_under_load_mib"].as_f64().unwrap()
    );
    println!("stream {} MiB (median of {STREAM_ROUNDS})   direct {:.0} MiB/s | engine {:.0} MiB/s | ratio {:.2}x   first byte direct {:.2} ms, engine {:.2} ms   engine peak RSS while streaming {:.1} MiB   engine CPU {:.2} s/GiB",
        args.stream_mib, s["direct_mib_s"].as_f64().unwrap(), s["engine_mib_s"].as_f64().unwrap(), s["ratio"].as_f64().unwrap(),
        s["direct_first_byte_ms"].as_f64().unwrap(), s["engine_first_byte_ms"].as_f64().unwrap(), s["engine_peak_rss_mib"].as_f64().unwrap(),
        s["engine_cpu_s_per_gib"].as_f64().unwrap());
}
