//! How many connections the proxy holds at once, derived from its file
//! descriptor limit (raised to the hard limit at start where allowed), so a
//! flood of connections can never take the descriptors the vault, the audit
//! log, the upstream connections and the owner's Unix socket need.

use std::time::Duration;

/// Descriptors kept out of the connection budget (vault, log, listeners,
/// resolver, upstream pool), at least this many and at least an eighth.
const RESERVED_FDS: u64 = 64;

/// Assumed when the limit cannot be read.
const FALLBACK_FD_LIMIT: u64 = 1024;

/// What an unlimited (`RLIM_INFINITY`) limit counts as.
const UNLIMITED: u64 = 1 << 20;

/// A TCP connection that has not presented the caller token within this
/// time after it was accepted is closed (Unix-socket callers are trusted by
/// the socket's permissions and have no such limit).
pub const UNAUTHENTICATED_DEADLINE: Duration = Duration::from_secs(5);

/// Connection caps of one proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// The descriptor limit the caps come from.
    pub fd_limit: u64,
    /// Unix-socket connections: a share no TCP flood can take.
    pub unix: usize,
    /// TCP connections, authenticated or not.
    pub tcp: usize,
    /// TCP connections that have not presented the token yet (the only kind
    /// another local user can open).
    pub unauthenticated: usize,
}

impl Caps {
    /// Each caller connection may need an upstream connection: two
    /// descriptors. A quarter of the connections are kept for the Unix
    /// socket, and half of TCP for callers that presented the token.
    pub fn from_fd_limit(fd_limit: u64) -> Caps {
        let reserved = RESERVED_FDS.max(fd_limit / 8);
        let connections = (fd_limit.saturating_sub(reserved) / 2).max(8);
        let unix = (connections / 4).max(4);
        let tcp = connections.saturating_sub(unix).max(4);
        let unauthenticated = (tcp / 2).max(2);
        Caps {
            fd_limit,
            unix: usize::try_from(unix).unwrap_or(usize::MAX),
            tcp: usize::try_from(tcp).unwrap_or(usize::MAX),
            unauthenticated: usize::try_from(unauthenticated).unwrap_or(usize::MAX),
        }
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit where allowed and
/// returns the soft limit now in force.
pub fn raise_fd_limit() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return FALLBACK_FD_LIMIT;
    }
    let current = as_count(r.rlim_cur);
    if r.rlim_cur >= r.rlim_max {
        return current;
    }
    for want in wanted_limits(r.rlim_max) {
        let raised = libc::rlimit {
            rlim_cur: want,
            rlim_max: r.rlim_max,
        };
        // SAFETY: setrlimit reads one rlimit struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return as_count(want);
        }
    }
    current
}

/// The hard limit; on macOS, which refuses more than `OPEN_MAX` for an
/// unlimited hard limit, that as a second try.
fn wanted_limits(hard: libc::rlim_t) -> Vec<libc::rlim_t> {
    let mut v = vec![hard];
    if cfg!(target_os = "macos") {
        v.push(hard.min(10_240));
    }
    v
}

fn as_count(n: libc::rlim_t) -> u64 {
    if n == libc::RLIM_INFINITY {
        UNLIMITED
    } else {
        n.min(UNLIMITED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_fit_the_budget_and_keep_room_for_the_owner() {
        for limit in [64, 256, 1024, 20_000, 1 << 20] {
            let c = Caps::from_fd_limit(limit);
            let conns = (c.unix + c.tcp) as u64;
            assert!(conns * 2 <= limit.max(32), "{limit}: {c:?}");
            assert!(c.unauthenticated < c.tcp, "{limit}: {c:?}");
            assert!(c.unix >= 4, "{limit}: {c:?}");
        }
        let c = Caps::from_fd_limit(20_000);
        assert_eq!((c.unix, c.tcp, c.unauthenticated), (2187, 6563, 3281));
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let n = raise_fd_limit();
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
        assert_eq!(n, as_count(r.rlim_cur));
    }
}
