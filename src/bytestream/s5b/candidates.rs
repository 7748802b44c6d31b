//! The requester's own streamhosts (XEP-0065 §5): where the target may connect to us.
//!
//! With `--s5b-address` the user pins exactly the addresses to offer (a forwarded port,
//! a public address, or loopback for tests); otherwise every usable address of the
//! machine's interfaces is offered. One listener is bound per offered address, never a
//! wildcard unless the address is not local (a forwarded port), so nothing listens
//! where nothing was offered.

use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpListener;

use super::{S5bError, StreamHost};
use crate::jid::FullJid;

/// What the user pinned with `--s5b-address` (an IP or a host name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pinned {
    /// An address to listen on and offer.
    Ip(IpAddr),
    /// A name the target resolves (e.g. a dynamic-DNS name for a forwarded port).
    Name(String),
}

impl Pinned {
    /// An IP (IPv6 with or without brackets), else a host name.
    pub fn parse(s: &str) -> Pinned {
        let t = s.trim().trim_start_matches('[').trim_end_matches(']');
        match t.parse::<IpAddr>() {
            Ok(ip) => Pinned::Ip(ip),
            Err(_) => Pinned::Name(t.to_owned()),
        }
    }
}

/// Addresses worth offering: not loopback, unspecified, multicast or link-local (a
/// link-local IPv6 address needs a scope the target cannot know).
pub fn usable_for_direct(ip: &IpAddr) -> bool {
    if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => !v4.is_link_local() && !v4.is_broadcast(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
    }
}

/// The machine's usable interface addresses, IPv4 first. Reads the interface list only;
/// nothing is connected or bound.
pub fn scan_interfaces() -> Vec<IpAddr> {
    let mut found: Vec<IpAddr> = if_addrs::get_if_addrs()
        .map(|ifs| ifs.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default();
    found.retain(usable_for_direct);
    found.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    found.dedup();
    found
}

/// The scanned addresses; loopback when there are none. A target on this host reaches
/// our interface addresses anyway, so loopback matters only when nothing else exists,
/// and then only a target on this same host can connect directly.
fn addresses_to_offer(scanned: Vec<IpAddr>) -> Vec<Pinned> {
    if scanned.is_empty() {
        let loopback: [IpAddr; 2] = [
            std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::Ipv6Addr::LOCALHOST.into(),
        ];
        return loopback.into_iter().map(Pinned::Ip).collect();
    }
    scanned.into_iter().map(Pinned::Ip).collect()
}

/// A bound listener and the streamhost that advertises it.
pub struct Listener {
    /// Bound and listening.
    pub listener: TcpListener,
    /// How it is offered.
    pub streamhost: StreamHost,
}

/// Binds one listener per address to offer. `pinned` empty = scan the interfaces.
/// `port` 0 = any free port.
pub fn bind(own: &FullJid, pinned: &[Pinned], port: u16) -> Result<Vec<Listener>, S5bError> {
    let targets: Vec<Pinned> = if pinned.is_empty() {
        addresses_to_offer(scan_interfaces())
    } else {
        pinned.to_vec()
    };
    let mut listeners = Vec::new();
    for target in targets {
        match bind_one(&target, port) {
            Ok(listener) => {
                let bound_port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
                let host = match &target {
                    Pinned::Ip(ip) => ip.to_string(),
                    Pinned::Name(name) => name.clone(),
                };
                listeners.push(Listener {
                    listener,
                    streamhost: StreamHost {
                        jid: own.as_jid().clone(),
                        host,
                        port: bound_port,
                    },
                });
            }
            Err(e) if pinned.is_empty() => tracing::debug!("not offering {target:?}: {e}"),
            Err(e) => return Err(S5bError::Listen(e)),
        }
    }
    Ok(listeners)
}

/// Binds the address itself; for an address that is not local (a router's public
/// address) or a name, binds the wildcard of its family on the given port.
fn bind_one(target: &Pinned, port: u16) -> std::io::Result<TcpListener> {
    match target {
        Pinned::Ip(ip) => match listen_on(SocketAddr::new(*ip, port)) {
            Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable && port != 0 => {
                let wildcard: IpAddr = if ip.is_ipv6() {
                    std::net::Ipv6Addr::UNSPECIFIED.into()
                } else {
                    std::net::Ipv4Addr::UNSPECIFIED.into()
                };
                listen_on(SocketAddr::new(wildcard, port))
            }
            other => other,
        },
        Pinned::Name(_) if port == 0 => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a host name in --s5b-address needs --s5b-port (the port forwarded to this machine)",
        )),
        Pinned::Name(_) => listen_on(SocketAddr::new(
            std::net::Ipv4Addr::UNSPECIFIED.into(),
            port,
        )),
    }
}

fn listen_on(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(16)?;
    TcpListener::from_std(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_addresses_not_worth_offering() {
        let keep = ["192.0.2.10", "10.1.2.3", "2001:db8::1", "fd00::5"];
        let drop = [
            "127.0.0.1",
            "::1",
            "0.0.0.0",
            "::",
            "169.254.3.4",
            "fe80::1",
            "224.0.0.1",
            "255.255.255.255",
        ];
        for a in keep {
            assert!(usable_for_direct(&a.parse().unwrap()), "{a}");
        }
        for a in drop {
            assert!(!usable_for_direct(&a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn loopback_only_when_no_interface_address() {
        let offered = addresses_to_offer(vec![]);
        assert_eq!(offered, [Pinned::parse("127.0.0.1"), Pinned::parse("::1")]);
        let lan: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(addresses_to_offer(vec![lan]), [Pinned::Ip(lan)]);
    }

    #[test]
    fn interface_scan_reads_without_connecting() {
        // Whatever this machine has, the scan never returns loopback or link-local.
        for ip in scan_interfaces() {
            assert!(usable_for_direct(&ip), "{ip}");
        }
    }

    #[test]
    fn pinned_forms() {
        assert_eq!(
            Pinned::parse("127.0.0.1"),
            Pinned::Ip("127.0.0.1".parse().unwrap())
        );
        assert_eq!(Pinned::parse("[::1]"), Pinned::Ip("::1".parse().unwrap()));
        assert_eq!(
            Pinned::parse("home.example.org"),
            Pinned::Name("home.example.org".into())
        );
    }

    #[tokio::test]
    async fn binds_exactly_the_pinned_loopback_addresses() {
        let own = crate::jid::Jid::parse("a@b/c").unwrap().to_full().unwrap();
        let pinned = [Pinned::parse("127.0.0.1"), Pinned::parse("::1")];
        let listeners = bind(&own, &pinned, 0).unwrap();
        assert_eq!(listeners.len(), 2);
        for l in &listeners {
            let local = l.listener.local_addr().unwrap();
            assert!(local.ip().is_loopback());
            assert_eq!(l.streamhost.port, local.port());
            assert_eq!(l.streamhost.host, local.ip().to_string());
        }
        let name_without_port = bind(&own, &[Pinned::parse("home.example.org")], 0);
        assert!(name_without_port.is_err());
    }
}
