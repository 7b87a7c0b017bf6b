//! The caller's address. It is the socket peer, unless that peer is a trusted proxy: then it is
//! the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Entries left of
//! that one were written by the client and prove nothing.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(Arc::new(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The rule, without IO: `forwarded_for` are the `X-Forwarded-For` header values in order.
pub fn resolve<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut last_trusted = peer;
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(ip) if trusted.contains(ip) => last_trusted = ip,
            Some(ip) => return ip,
            // A malformed hop: nothing left of it can be believed; the last trusted hop is
            // the best we know.
            None => return last_trusted,
        }
    }
    last_trusted
}

/// An `X-Forwarded-For` entry: an address, possibly with a port or in brackets.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = entry.parse::<SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    entry
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .and_then(|s| s.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
}

/// Extractor: the caller's address by the rule above. Needs the server to be started with
/// connect info (as [`crate::server`] does) and the [`TrustedProxies`] extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    pub fn from_parts(parts: &Parts) -> Option<Self> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
        let default_trusted = TrustedProxies::default();
        let trusted = parts
            .extensions
            .get::<TrustedProxies>()
            .unwrap_or(&default_trusted);
        Some(Self(resolve(
            peer,
            forwarded_values(&parts.headers),
            trusted,
        )))
    }
}

fn forwarded_values(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Without connect info (never in the real server) the address is unknown: use the
        // unspecified address rather than fail, so it can match no allow-list.
        Ok(Self::from_parts(parts).unwrap_or(ClientAddr(IpAddr::from([0, 0, 0, 0]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(
            list.iter()
                .map(|s| crate::config::parse_ip_net(s).unwrap())
                .collect(),
        )
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_and_xff_is_ignored() {
        let t = trusted(&[]);
        assert_eq!(
            resolve(ip("203.0.113.7"), ["1.2.3.4"], &t),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_forge_its_address() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("203.0.113.7"), ["10.0.0.1, 1.2.3.4"], &t),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_entry_counts() {
        let t = trusted(&["10.0.0.0/8"]);
        // The client forged 6.6.6.6; the proxy appended the real 198.51.100.9.
        assert_eq!(
            resolve(ip("10.0.0.2"), ["6.6.6.6, 198.51.100.9"], &t),
            ip("198.51.100.9")
        );
        // Two proxies in a row.
        assert_eq!(
            resolve(ip("10.0.0.2"), ["6.6.6.6, 198.51.100.9, 10.0.0.3"], &t),
            ip("198.51.100.9")
        );
        // Several header lines count as one list, in order.
        assert_eq!(
            resolve(ip("10.0.0.2"), ["6.6.6.6", "198.51.100.9"], &t),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn trusted_peer_without_header_or_only_proxies_is_the_last_proxy() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(resolve(ip("10.0.0.2"), [], &t), ip("10.0.0.2"));
        assert_eq!(resolve(ip("10.0.0.2"), ["10.0.0.9"], &t), ip("10.0.0.9"));
    }

    #[test]
    fn malformed_entries_stop_the_walk() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("10.0.0.2"), ["1.2.3.4, garbage"], &t),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let t = trusted(&["127.0.0.1"]);
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), ["1.2.3.4:5555"], &t),
            ip("1.2.3.4")
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), ["[2001:db8::1]"], &t),
            ip("2001:db8::1")
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), ["[2001:db8::1]:443"], &t),
            ip("2001:db8::1")
        );
    }
}
