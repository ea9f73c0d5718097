//! Who the client is: the peer address, or, when the peer is a trusted reverse proxy
//! (`fleet server --trusted-proxy CIDR`), the right-most address in `X-Forwarded-For` that is not
//! itself a trusted proxy. Entries left of that one were written by the client and prove nothing.
//! From an untrusted peer the header is ignored, so it cannot be used to dodge brute-force
//! protection.

use std::net::IpAddr;

use axum::http::HeaderMap;
pub use ipnet::IpNet;

/// The client address the service acts on, set on every request by the connection layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

const FORWARDED_FOR: &str = "x-forwarded-for";

/// Parses a `--trusted-proxy` value: a CIDR range (`10.0.0.0/8`, `fd00::/8`) or one address.
pub fn parse_trusted_proxy(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("`{value}` is not an IP address or CIDR range (e.g. 10.0.0.0/8 or 192.0.2.7)")
        })
}

/// The client behind `peer`, reading `X-Forwarded-For` only when `peer` is trusted.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    // Several headers count as one list, in order.
    let entries: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        // An entry that is no address was not written by a trusted proxy: stop at the last
        // hop known, which keeps such clients in that hop's bucket rather than their own.
        let Some(address) = parse_entry(entry) else {
            break;
        };
        client = address;
        if !is_trusted(address, trusted) {
            break;
        }
    }
    client
}

/// Whether the connection's `peer` is one of the `trusted` proxies.
pub fn is_trusted_peer(peer: IpAddr, trusted: &[IpNet]) -> bool {
    is_trusted(canonical(peer), trusted)
}

fn is_trusted(address: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&address))
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.7:5123`,
/// `[2001:db8::1]:5123`), as some proxies write it.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4 addresses seen over an IPv6 socket (`::ffff:192.0.2.7`) as plain IPv4, so one client
/// has one bucket and `--trusted-proxy 10.0.0.0/8` matches it.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(FORWARDED_FOR, value.parse().expect("header value"));
        }
        headers
    }

    fn proxies() -> Vec<IpNet> {
        ["10.0.0.0/8", "192.0.2.1"]
            .iter()
            .map(|p| parse_trusted_proxy(p).expect("range"))
            .collect()
    }

    #[test]
    fn the_header_counts_only_from_trusted_peers() {
        let headers = xff(&["198.51.100.9"]);
        assert_eq!(
            resolve(ip("10.1.2.3"), &headers, &proxies()),
            ip("198.51.100.9")
        );
        assert_eq!(
            resolve(ip("203.0.113.5"), &headers, &proxies()),
            ip("203.0.113.5")
        );
        assert_eq!(resolve(ip("10.1.2.3"), &headers, &[]), ip("10.1.2.3"));
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        // The client wrote `1.1.1.1` itself; the proxies appended the rest.
        let headers = xff(&["1.1.1.1, 198.51.100.9", "10.9.9.9"]);
        assert_eq!(
            resolve(ip("192.0.2.1"), &headers, &proxies()),
            ip("198.51.100.9")
        );
        // Only trusted hops: the left-most of them is as far as anyone can tell.
        let headers = xff(&["10.0.0.7, 10.0.0.8"]);
        assert_eq!(
            resolve(ip("10.0.0.9"), &headers, &proxies()),
            ip("10.0.0.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.9"), &HeaderMap::new(), &proxies()),
            ip("10.0.0.9")
        );
        // Garbage stops the walk at the last trusted hop.
        let headers = xff(&["198.51.100.9, unknown, 10.0.0.8"]);
        assert_eq!(
            resolve(ip("10.0.0.9"), &headers, &proxies()),
            ip("10.0.0.8")
        );
        let headers = xff(&["[2001:db8::1]:4711"]);
        assert_eq!(
            resolve(ip("10.0.0.9"), &headers, &proxies()),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn trusted_proxies_parse_as_ranges_or_addresses() {
        assert_eq!(
            parse_trusted_proxy("192.0.2.7").map(|n| n.prefix_len()),
            Ok(32)
        );
        assert_eq!(
            parse_trusted_proxy("fd00::/8").map(|n| n.prefix_len()),
            Ok(8)
        );
        assert!(parse_trusted_proxy("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxy("proxy.local").is_err());
        assert_eq!(canonical(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }
}
