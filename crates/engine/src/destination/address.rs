//! Addresses secrets are never sent to, and loopback hosts that may get
//! them over plain http. Used for IP literals in the target URL and again
//! for every address a host name resolves to at connect time.

use super::allowlist::trim_dot;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Loopback targets (127.0.0.0/8, ::1, localhost) may get secrets over plain http.
/// Loopback targets (127.0.0.0/8, ::1, localhost) may get secrets over plain http.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = trim_dot(d).to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(a)) => a.is_loopback(),
        Some(Host::Ipv6(a)) => {
            a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// Link-local, cloud metadata and unspecified addresses: never a target.
pub fn is_refused_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_refused_v4(a),
        IpAddr::V6(a) => {
            let seg = a.segments();
            // IPv4 carried in IPv6 reaches the IPv4 address: ::ffff:a.b.c.d
            // (mapped), ::a.b.c.d (compatible) and NAT64's 64:ff9b::a.b.c.d.
            let embedded = Ipv4Addr::from((u32::from(seg[6]) << 16) | u32::from(seg[7]));
            let carries_v4 = a.to_ipv4_mapped().is_some()
                || (seg[..6] == [0; 6] && !a.is_unspecified() && !a.is_loopback())
                || seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
            if carries_v4 && is_refused_v4(embedded) {
                return true;
            }
            a.is_unspecified()
                || a.is_multicast()
                || (seg[0] & 0xffc0) == 0xfe80
                || a == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
    }
}

fn is_refused_v4(a: Ipv4Addr) -> bool {
    a.is_link_local() // 169.254.0.0/16, incl. the 169.254.169.254 metadata service
        || a == Ipv4Addr::new(100, 100, 100, 200) // Alibaba Cloud metadata
        || a == Ipv4Addr::new(192, 0, 0, 192) // Oracle Cloud Classic metadata
        || a.octets()[0] == 0 // "this network", incl. 0.0.0.0
        || a.is_multicast()
        || a.is_broadcast()
}

/// The target's host when it is an IP literal.
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(ip.into()),
        Host::Ipv6(ip) => Some(ip.into()),
        Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    #[test]
    fn loopback_hosts() {
        for t in [
            "http://127.0.0.1/",
            "http://127.8.9.10:1234/",
            "http://2130706433/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost:8080/",
        ] {
            assert!(is_loopback_host(&url(t)), "{t}");
        }
        for t in [
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost.evil.com/",
            "http://evillocalhost/",
            "http://localhostx/",
            "http://0.0.0.0/",
            "http://10.0.0.1/",
            "http://user@localhost.evil.com/",
            "http://localhost@evil.com/",
            "data:text/plain,localhost",
        ] {
            assert!(!is_loopback_host(&url(t)), "{t}");
        }
    }

    #[test]
    fn refused_addresses() {
        for ip in [
            "169.254.169.254",
            "169.254.0.1",
            "169.254.255.255",
            "100.100.100.200",
            "192.0.0.192",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "fe80::1",
            "febf:ffff::1",
            "fd00:ec2::254",
            "::",
            "ff02::1",
            "::ffff:169.254.169.254",
            "::ffff:100.100.100.200",
            "::ffff:0.0.0.0",
            "::169.254.169.254",
            "64:ff9b::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_refused_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.1.1",
            "100.100.100.201",
            "169.253.255.255",
            "169.255.0.0",
            "1.1.1.1",
            "::1",
            "fec0::1",
            "fd00:ec2::253",
            "fd00::254",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
        ] {
            assert!(!is_refused_ip(ip.parse().unwrap()), "{ip}");
        }
    }
}
