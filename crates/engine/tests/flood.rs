//! S20: thousands of idle TCP connections from another local user (who
//! cannot read the caller token) must not stop the owner's calls. The real
//! engine runs with a low descriptor limit; the flood comes from a forked
//! process running as a second OS user when the test runs as root.

mod support;
use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};
use support::*;

const CANARY: &str = "canary-s20-flood-91c4be20d7";
/// The engine's descriptor limit (soft and hard) in this test.
const ENGINE_FDS: libc::rlim_t = 512;
/// Idle connections the flood opens: several times the engine's limit.
const FLOOD: usize = 3000;
/// The engine closes a TCP connection without the token this long after
/// accepting it (`caps::UNAUTHENTICATED_DEADLINE`), plus slack for a loaded machine.
const DEADLINE: Duration = Duration::from_secs(5);
const SLACK: Duration = Duration::from_secs(4);
const FLOOD_USER: &str = "asflood";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The (uid, gid) of a second OS user, created when missing.
fn second_user() -> (libc::uid_t, libc::gid_t) {
    let id = |flag: &str| {
        std::process::Command::new("id")
            .args([flag, FLOOD_USER])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
    };
    if id("-u").is_none() {
        let ok = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                FLOOD_USER,
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok || id("-u").is_some(), "useradd {FLOOD_USER} failed");
    }
    (id("-u").unwrap(), id("-g").unwrap())
}

/// A forked process holding `n` connections to 127.0.0.1:`port`, as `user`.
struct Flood {
    pid: libc::pid_t,
    opened: usize,
}

impl Flood {
    fn start(port: u16, n: usize, user: Option<(libc::uid_t, libc::gid_t)>) -> Flood {
        let mut fds = [0; 2];
        // SAFETY: pipe fills two descriptors we own.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the child only makes async-signal-safe system calls (no
        // allocation, no locks) and ends with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            unsafe { flood_child(fds[1], port, n, user) }
        }
        // SAFETY: closing our copy of the write end; reading 8 bytes into a local.
        let mut buf = [0u8; 8];
        let got = unsafe {
            libc::close(fds[1]);
            let r = libc::read(fds[0], buf.as_mut_ptr().cast(), 8);
            libc::close(fds[0]);
            r
        };
        assert_eq!(got, 8, "the flood process did not report");
        Flood {
            pid,
            opened: u64::from_ne_bytes(buf) as usize,
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        // SAFETY: our own child, killed and reaped.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

/// In the forked child: become `user`, open `n` non-blocking connections,
/// report how many on `report`, then hold them until killed.
unsafe fn flood_child(
    report: libc::c_int,
    port: u16,
    n: usize,
    user: Option<(libc::uid_t, libc::gid_t)>,
) -> ! {
    if let Some((uid, gid)) = user {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
        {
            libc::_exit(3);
        }
    }
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    lim.rlim_cur = lim.rlim_max;
    libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    // Zeroed, then filled: macOS has one more field (`sin_len`, which its
    // kernel sets from the length passed to connect).
    let mut addr = std::mem::zeroed::<libc::sockaddr_in>();
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_port = port.to_be();
    addr.sin_addr = libc::in_addr {
        s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
    };
    let mut opened: u64 = 0;
    for _ in 0..n {
        // SOCK_NONBLOCK is Linux-only: fcntl does the same everywhere.
        let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        if s < 0 {
            break;
        }
        libc::fcntl(s, libc::F_SETFL, libc::O_NONBLOCK);
        let r = libc::connect(
            s,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        if r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EINPROGRESS) {
            opened += 1;
        }
    }
    let bytes = opened.to_ne_bytes();
    libc::write(report, bytes.as_ptr().cast(), 8);
    libc::close(report);
    loop {
        libc::pause();
    }
}

/// Starts the real engine, detached, with a descriptor limit of `fds`.
fn start_engine(home: &Home, fds: libc::rlim_t) -> Detached {
    home.start_proxy_with(|cmd| {
        // SAFETY: setrlimit is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: fds,
                    rlim_max: fds,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    })
}

/// One proxied call with a deadline: the status and body, or what failed.
fn call(
    client: &reqwest::Client,
    base: &str,
    target: &str,
    token: Option<&str>,
) -> Result<(u16, String), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut rb = client
            .get(format!("{base}/proxy"))
            .header("X-AS-Target-URL", target)
            .header("X-AS-Inject-Bearer", "FLOOD_KEY")
            .timeout(Duration::from_secs(10));
        if let Some(t) = token {
            rb = rb.header("X-AS-Token", t);
        }
        let r = rb.send().await.map_err(|e| format!("{e:?}"))?;
        let status = r.status().as_u16();
        Ok((status, r.text().await.map_err(|e| e.to_string())?))
    })
}

/// Seconds until the engine closes `s` (end of file or reset), at most `limit`.
fn closed_within(mut s: TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) => Some(started.elapsed()),
        Err(e)
            if e.kind() != std::io::ErrorKind::WouldBlock
                && e.kind() != std::io::ErrorKind::TimedOut =>
        {
            Some(started.elapsed())
        }
        _ => None,
    }
}

#[test]
fn s20_a_flood_of_idle_tcp_connections_does_not_stop_the_owner() {
    let user = if is_root() {
        Some(second_user())
    } else {
        eprintln!("note: not root, so the flood runs as this user instead of a second OS user (the engine cannot tell them apart: neither has the token)");
        None
    };
    let home = Home::new();
    home.set_secret("FLOOD_KEY", CANARY);
    home.allow(&["127.0.0.1"]);
    let up = Upstream::start(|_| Reply::ok("served"));
    let target = up.url("/ok");
    let engine = start_engine(&home, ENGINE_FDS);
    let (port, socket, token) = (engine.port, engine.socket, engine.token);

    // Idle connections opened before the flood, to time their closing.
    let idle: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let opened_at = Instant::now();
    let flood = Flood::start(port, FLOOD, user);
    assert!(
        flood.opened >= FLOOD / 2,
        "the flood opened only {}",
        flood.opened
    );

    // The owner's call over the Unix socket succeeds during the flood.
    let unix = reqwest::Client::builder()
        .unix_socket(socket.as_path())
        .no_proxy()
        .build()
        .unwrap();
    let got = call(&unix, "http://localhost", &target, None);
    assert_eq!(
        got,
        Ok((200, "served".to_owned())),
        "the owner's Unix-socket call during the flood"
    );

    // Idle connections without the token are closed at the deadline.
    for s in idle {
        let left = (DEADLINE + SLACK).saturating_sub(opened_at.elapsed());
        let took = closed_within(s, left).map(|_| opened_at.elapsed());
        assert!(
            took.is_some_and(|t| t >= DEADLINE - Duration::from_millis(500)),
            "an idle TCP connection without the token must be closed about {DEADLINE:?} after it was accepted, got {took:?}"
        );
    }

    // Once the flood's connections are dropped, a fresh authenticated TCP call works.
    std::thread::sleep(Duration::from_secs(1));
    let tcp = reqwest::Client::builder().no_proxy().build().unwrap();
    let got = call(
        &tcp,
        &format!("http://127.0.0.1:{port}"),
        &target,
        Some(token.trim()),
    );
    assert_eq!(
        got,
        Ok((200, "served".to_owned())),
        "an authenticated TCP call after the flood was dropped"
    );
    drop(flood);

    let err = std::fs::read_to_string(home.path().join("run/proxy.err")).unwrap_or_default();
    assert!(
        !err.contains("out of file descriptors"),
        "the caps must keep the engine within its descriptors:\n{err}"
    );
    assert!(!err.contains(CANARY));
}
