//! Engine benchmark: one loopback upstream, the real engine binary as a
//! separate process, and this process as the client. Every engine figure is
//! measured right next to a direct run against the same upstream and
//! reported as a ratio.
//!
//! Usage: engine-bench [--engine PATH] [--seconds S] [--stream-mib N] [--secrets N] [--uniform-body] [--json]
//!
//! Every answer is scanned for every value in the vault, so the vault holds
//! `--secrets` values (default 100) shaped like API keys; one is injected.
//! Two floors (see [`floor`]) are measured the same way beside the engine,
//! so its cost reads against the least its process layout must cost; the
//! streamed download goes through the forward floor too.

mod floor;
mod process;
mod upstream;

use process::Server;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use upstream::Upstream;

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
                println!("engine-bench [--engine PATH] [--seconds S] [--stream-mib N] [--samples N] [--secrets N] [--uniform-body] [--json]\n\n--secrets N: values in the vault (default 100), every one scanned for in every answer\n--uniform-body: stream one repeated byte instead of JSON-like text\n\nThe small call is also measured through two floors, each its own process on a Unix socket\nlike the engine: `echo` answers at once (the socket round trip itself), `forward` is a\ntrivial pooled proxy adding a bearer header (no auth, vault, audit or redaction);\nthe streamed download also goes through `forward`, the per-byte cost of the layout.\n\nBuild first: cargo build --release -p agentsecrets-engine -p agentsecrets-bench");
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

/// Stops every server this run started, so that a failed run leaves none behind.
fn die(msg: &str) -> ! {
    eprintln!("engine-bench: {msg}");
    process::stop_all();
    std::process::exit(2)
}

fn cli(engine: &Path, home: &Path, args: &[&str], stdin: &str) {
    let mut c = process::engine_command(engine, home)
        .args(args)
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

/// One way of making the small call.
#[derive(Clone)]
enum Path_ {
    Direct {
        client: reqwest::Client,
        url: String,
    },
    /// Through a server on a Unix socket (the engine or a floor), each sent
    /// the engine's request; the floors ignore what they do not use.
    Socket {
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
            Path_::Socket { client, target } => {
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

/// Callers kept busy at once in the throughput phase.
const CONCURRENCY: usize = 64;

/// One path under load.
struct Load {
    rps: f64,
    requests: u64,
    /// CPU of the server between client and upstream (none when direct).
    cpu_us_per_request: f64,
    new_upstream_connections_per_request: f64,
}

async fn load(path: &Path_, server: Option<&Server>, up: &Upstream, seconds: f64) -> Load {
    let conns_before = up.connections.load(Ordering::Relaxed);
    let cpu_before = server.map(Server::cpu).unwrap_or_default();
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
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
    let requests = done.load(Ordering::Relaxed);
    let rps = requests as f64 / start.elapsed().as_secs_f64();
    let cpu = server.map(Server::cpu).unwrap_or_default() - cpu_before;
    let new_conns = up.connections.load(Ordering::Relaxed) - conns_before;
    let per_request = |x: f64| x / requests.max(1) as f64;
    Load {
        rps,
        requests,
        cpu_us_per_request: per_request(cpu.as_secs_f64() * 1e6),
        new_upstream_connections_per_request: per_request(new_conns as f64),
    }
}

/// A server on a Unix socket and its small-call figures.
struct SocketPath<'a> {
    /// Its key in the JSON report; the text report says it with spaces.
    key: &'static str,
    server: &'a Server,
    path: Path_,
    /// Latency at concurrency 1, sorted once all rounds are in.
    latency: Vec<Duration>,
}

impl SocketPath<'_> {
    /// Its figures beside the direct path's.
    fn summary(&self, load: &Load, direct: &[Duration], direct_rps: f64) -> serde_json::Value {
        let (p50, p99) = (
            percentile(&self.latency, 0.5),
            percentile(&self.latency, 0.99),
        );
        let (d50, d99) = (percentile(direct, 0.5), percentile(direct, 0.99));
        serde_json::json!({
            "p50_ms": ms(p50), "p99_ms": ms(p99),
            "added_p50_us": (p50.as_secs_f64() - d50.as_secs_f64()) * 1e6,
            "ratio_p50": ms(p50) / ms(d50), "ratio_p99": ms(p99) / ms(d99),
            "rps_c64": load.rps, "ratio_rps_c64": load.rps / direct_rps,
            "requests_c64": load.requests,
            "cpu_us_per_request": load.cpu_us_per_request,
            "new_upstream_connections_per_request": load.new_upstream_connections_per_request,
        })
    }
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

fn main() {
    if let Some((kind, socket)) = floor::from_args() {
        floor::serve(kind, socket);
        return;
    }
    let args = parse_args();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| die(&format!("cannot start the runtime: {e}")))
        .block_on(run(args));
}

async fn run(args: Args) {
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
    let engine = Server::engine(&args.engine, h);
    let floor_dir = tempfile::tempdir().unwrap();
    let [echo, forward] = floor::Kind::ALL
        .map(|k| Server::floor(k, floor_dir.path().join(format!("{}.sock", k.name()))));

    let direct_client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let small = format!("http://{}/small", up.addr);
    let direct = Path_::Direct {
        client: direct_client.clone(),
        url: small.clone(),
    };
    let mut socket_paths: Vec<SocketPath> = [
        ("engine", &engine),
        ("echo_floor", &echo),
        ("forward_floor", &forward),
    ]
    .into_iter()
    .map(|(key, server)| SocketPath {
        key,
        server,
        path: Path_::Socket {
            client: server.client(),
            target: small.clone(),
        },
        latency: Vec::new(),
    })
    .collect();

    // Warm every path (connections, caches).
    latency(&direct, 200).await;
    for s in &socket_paths {
        latency(&s.path, 200).await;
    }

    // Latency at concurrency 1, interleaved in rounds so all see the same machine.
    let mut d = Vec::new();
    let rounds = 10;
    for _ in 0..rounds {
        d.extend(latency(&direct, args.latency_samples / rounds).await);
        for s in &mut socket_paths {
            let v = latency(&s.path, args.latency_samples / rounds).await;
            s.latency.extend(v);
        }
    }
    d.sort();
    for s in &mut socket_paths {
        s.latency.sort();
    }

    // Throughput at 64 concurrent: direct, each socket path, direct.
    let d1 = load(&direct, None, &up, args.seconds).await;
    let mut loads = Vec::new();
    for s in &socket_paths {
        loads.push(load(&s.path, Some(s.server), &up, args.seconds).await);
    }
    let d2 = load(&direct, None, &up, args.seconds).await;
    let direct_tp = (d1.rps + d2.rps) / 2.0;
    let paths: serde_json::Map<String, serde_json::Value> = socket_paths
        .iter()
        .zip(&loads)
        .map(|(s, l)| (s.key.to_string(), s.summary(l, &d, direct_tp)))
        .collect();
    drop(socket_paths);
    echo.stop();

    // Streaming, on a fresh engine so that its peak RSS is this phase's alone
    // (the engine is not dumpable, so its peak cannot be reset from outside).
    let load_peak_rss = engine.peak_rss_kib();
    engine.stop();
    let engine = Server::engine(&args.engine, h);
    let engine_client = engine.client();
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
    // The forward floor streams too: the copies and socket work any proxy
    // in this layout pays per byte, with no redaction.
    let floor_client = forward.client();
    let floor_req = || {
        floor_client
            .get("http://localhost/")
            .header("x-as-target-url", &big)
    };
    // Rounds of direct, engine, forward floor, direct; the medians are
    // reported, since one transfer of a few hundred MiB lasts a fraction of
    // a second.
    let (mut sd, mut se, mut sf) = (Vec::new(), Vec::new(), Vec::new());
    let (mut stream_cpu, mut floor_cpu) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..STREAM_ROUNDS {
        sd.push(stream(direct_req(), stream_bytes).await);
        let before = engine.cpu();
        se.push(stream(engine_req(), stream_bytes).await);
        stream_cpu += engine.cpu() - before;
        let before = forward.cpu();
        sf.push(stream(floor_req(), stream_bytes).await);
        floor_cpu += forward.cpu() - before;
        sd.push(stream(direct_req(), stream_bytes).await);
    }
    let sd = median_stream(sd);
    let se = median_stream(se);
    let sf = median_stream(sf);
    let direct_stream = sd.mib_per_s;
    let streamed_gib = (stream_bytes * STREAM_ROUNDS as u64) as f64 / (1u64 << 30) as f64;
    let stream_cpu_s_per_gib = stream_cpu.as_secs_f64() / streamed_gib;
    let floor_cpu_s_per_gib = floor_cpu.as_secs_f64() / streamed_gib;
    let rss = engine.peak_rss_kib();
    engine.stop();
    forward.stop();

    let e = &paths["engine"];
    let f = &paths["forward_floor"];
    let num = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let report = serde_json::json!({
        "secrets_in_vault": args.secrets,
        "latency_c1": {
            "direct_p50_ms": ms(percentile(&d, 0.5)), "direct_p99_ms": ms(percentile(&d, 0.99)),
            "engine_p50_ms": e["p50_ms"], "engine_p99_ms": e["p99_ms"],
            "added_p50_ms": num(e, "added_p50_us") / 1000.0,
            "ratio_p50": e["ratio_p50"], "ratio_p99": e["ratio_p99"],
        },
        "throughput_c64": {
            "direct_rps": direct_tp, "engine_rps": e["rps_c64"], "ratio": e["ratio_rps_c64"],
            "engine_requests": e["requests_c64"], "engine_cpu_us_per_request": e["cpu_us_per_request"],
            "new_upstream_connections_per_request": e["new_upstream_connections_per_request"],
        },
        "unix_socket_paths": paths,
        "engine_over_forward_floor": {
            "added_p50_us": num(e, "added_p50_us") - num(f, "added_p50_us"),
            "added_cpu_us_per_request": num(e, "cpu_us_per_request") - num(f, "cpu_us_per_request"),
        },
        "stream": {
            "mib": args.stream_mib,
            "direct_mib_s": direct_stream, "engine_mib_s": se.mib_per_s, "ratio": se.mib_per_s / direct_stream,
            "direct_first_byte_ms": ms(sd.first_byte), "engine_first_byte_ms": ms(se.first_byte),
            "engine_peak_rss_mib": rss as f64 / 1024.0,
            "engine_cpu_s_per_gib": stream_cpu_s_per_gib,
            "forward_floor_mib_s": sf.mib_per_s,
            "forward_floor_cpu_s_per_gib": floor_cpu_s_per_gib,
            "engine_peak_rss_under_load_mib": load_peak_rss as f64 / 1024.0,
        },
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
        return;
    }
    print_text(&report, args.secrets, args.stream_mib);
}

fn print_text(report: &serde_json::Value, secrets: usize, stream_mib: u64) {
    let n = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let l = &report["latency_c1"];
    let t = &report["throughput_c64"];
    let s = &report["stream"];
    println!("engine benchmark (one loopback upstream; engine over its Unix socket; {secrets} secrets in the vault; ratios are engine / direct)\n");
    println!("latency, concurrency 1   direct p50 {:.3} ms  p99 {:.3} ms | engine p50 {:.3} ms  p99 {:.3} ms | ratio p50 {:.2}x  p99 {:.2}x  (added {:.3} ms)",
        n(l, "direct_p50_ms"), n(l, "direct_p99_ms"), n(l, "engine_p50_ms"), n(l, "engine_p99_ms"),
        n(l, "ratio_p50"), n(l, "ratio_p99"), n(l, "added_p50_ms"));
    println!(
        "throughput, concurrency 64  direct {:.0} req/s | engine {:.0} req/s | ratio {:.2}x",
        n(t, "direct_rps"),
        n(t, "engine_rps"),
        n(t, "ratio")
    );
    println!(
        "engine CPU per proxied request  {:.1} us   new upstream connections per request  {:.4}",
        n(t, "engine_cpu_us_per_request"),
        n(t, "new_upstream_connections_per_request")
    );
    println!(
        "engine peak RSS during the c=64 load {:.1} MiB",
        n(s, "engine_peak_rss_under_load_mib")
    );
    println!("stream {stream_mib} MiB (median of {STREAM_ROUNDS})   direct {:.0} MiB/s | engine {:.0} MiB/s | ratio {:.2}x   first byte direct {:.2} ms, engine {:.2} ms   engine peak RSS while streaming {:.1} MiB   engine CPU {:.2} s/GiB",
        n(s, "direct_mib_s"), n(s, "engine_mib_s"), n(s, "ratio"),
        n(s, "direct_first_byte_ms"), n(s, "engine_first_byte_ms"), n(s, "engine_peak_rss_mib"),
        n(s, "engine_cpu_s_per_gib"));
    println!(
        "stream through the forward floor (no redaction)   {:.0} MiB/s   CPU {:.2} s/GiB",
        n(s, "forward_floor_mib_s"),
        n(s, "forward_floor_cpu_s_per_gib")
    );
    println!("\nUnix-socket paths beside the floors (echo: answers at once; forward: a trivial pooled proxy, no auth/vault/audit/redaction)");
    println!(
        "  {:<14} {:>14} {:>10} {:>15} {:>17}",
        "", "added p50", "ratio p50", "req/s at c=64", "CPU per request"
    );
    for key in ["echo_floor", "forward_floor", "engine"] {
        let p = &report["unix_socket_paths"][key];
        println!(
            "  {:<14} {:>11.0} us {:>9.2}x {:>15.0} {:>14.1} us",
            key.replace('_', " "),
            n(p, "added_p50_us"),
            n(p, "ratio_p50"),
            n(p, "rps_c64"),
            n(p, "cpu_us_per_request")
        );
    }
    let o = &report["engine_over_forward_floor"];
    println!(
        "engine over forward floor: {:+.0} us p50, {:+.1} us CPU/request",
        n(o, "added_p50_us"),
        n(o, "added_cpu_us_per_request")
    );
}
