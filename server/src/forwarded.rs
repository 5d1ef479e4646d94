//! Behind a load balancer every request's peer is the proxy. Only when the peer is
//! one of `ROSTER_TRUSTED_PROXIES` are the client's address and scheme taken from
//! `X-Forwarded-For` and `X-Forwarded-Proto`; from anyone else those headers are
//! ignored, so no client can choose the address that sign-in throttling, sessions and
//! the audit log record.
//!
//! The middleware replaces the request's `ConnectInfo` with the client's address, so
//! everything after it (the caller extractor, the access log) sees the real client
//! without knowing about proxies.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The scheme the client used, as a trusted proxy reported it (`http` when the
/// request came straight to Roster or through an untrusted peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The networks whose forwarded headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    pub fn new(networks: &[IpNet]) -> Self {
        Self(networks.into())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Who the client is, given the peer that sent the request. Proxies append the
    /// address they received from, so `X-Forwarded-For` is read from the right:
    /// each trusted hop is skipped, and the first untrusted one is the client (an
    /// address a client wrote itself sits further left and is never reached). A
    /// malformed entry ends the walk at the last hop that could be believed.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> (IpAddr, Scheme) {
        if !self.trusts(peer) {
            return (peer, Scheme::Http);
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip.to_canonical();
                    if !self.trusts(client) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let scheme = match headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
        {
            Some(proto) if proto.eq_ignore_ascii_case("https") => Scheme::Https,
            _ => Scheme::Http,
        };
        (client, scheme)
    }
}

/// Puts the client's address in place of the proxy's, and the scheme beside it.
pub async fn take_forwarded(State(proxies): State<TrustedProxies>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    if let Some(peer) = peer {
        let (client, scheme) = proxies.client(peer.ip(), request.headers());
        if client != peer.ip() {
            request.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, 0)));
        }
        request.extensions_mut().insert(scheme);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(&list.iter().map(|n| n.parse().unwrap()).collect::<Vec<IpNet>>())
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peers_forwarded_headers_are_ignored() {
        let p = proxies(&["10.0.0.0/8"]);
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-proto", "https")]);
        assert_eq!(p.client(ip("203.0.113.9"), &spoofed), (ip("203.0.113.9"), Scheme::Http));
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("127.0.0.1"), &spoofed), (ip("127.0.0.1"), Scheme::Http));
    }

    #[test]
    fn a_trusted_peer_names_the_client_and_its_scheme() {
        let p = proxies(&["127.0.0.1/32"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.7"), ("x-forwarded-proto", "https")]);
        assert_eq!(p.client(ip("127.0.0.1"), &h), (ip("198.51.100.7"), Scheme::Https));
        let plain = headers(&[("x-forwarded-for", "198.51.100.7"), ("x-forwarded-proto", "http")]);
        assert_eq!(p.client(ip("127.0.0.1"), &plain).1, Scheme::Http);
    }

    #[test]
    fn what_a_client_wrote_itself_is_never_taken() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real address.
        let p = proxies(&["127.0.0.1/32"]);
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7")]);
        assert_eq!(p.client(ip("127.0.0.1"), &h).0, ip("198.51.100.7"));
        // Split over two header lines, in order.
        let split = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(p.client(ip("127.0.0.1"), &split).0, ip("198.51.100.7"));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_to_the_first_untrusted_hop() {
        let p = proxies(&["10.0.0.0/8", "127.0.0.1/32"]);
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 10.1.2.3")]);
        assert_eq!(p.client(ip("127.0.0.1"), &h).0, ip("198.51.100.7"));
        // Every hop trusted: the leftmost is the best that is known.
        let internal = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.2.3")]);
        assert_eq!(p.client(ip("127.0.0.1"), &internal).0, ip("10.9.9.9"));
    }

    #[test]
    fn a_malformed_hop_stops_at_the_last_believable_one() {
        let p = proxies(&["10.0.0.0/8", "127.0.0.1/32"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.7, not-an-ip, 10.1.2.3")]);
        assert_eq!(p.client(ip("127.0.0.1"), &h).0, ip("10.1.2.3"));
        let only_garbage = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(p.client(ip("127.0.0.1"), &only_garbage).0, ip("127.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_addresses_match_ipv4_networks() {
        let p = proxies(&["127.0.0.1/32"]);
        let h = headers(&[("x-forwarded-for", "::ffff:198.51.100.7")]);
        assert_eq!(p.client(ip("::ffff:127.0.0.1"), &h).0, ip("198.51.100.7"));
    }
}
