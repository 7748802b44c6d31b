//! Getting bytes to the server: SRV lookup, TCP connect, TLS (RFC 6120 §3, §5; XEP-0368).

/// Finding the server (DNS SRV).
pub mod srv;
/// TLS: trust settings and the handshake.
pub mod tls;

use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpStream;

mod quickack;
pub use quickack::QuickAck;

pub use srv::Endpoint;
pub use tls::TrustSettings;

/// Time allowed for one TCP connection attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why xft could not reach the server.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The SRV lookup failed.
    #[error("DNS lookup for {domain} failed: {source}")]
    Dns {
        /// The JID's domain.
        domain: String,
        /// The resolver's error.
        #[source]
        source: hickory_resolver::ResolveError,
    },
    /// RFC 6120 §3.2.1: a target of "." says the service is not offered.
    #[error("{domain} publishes no XMPP client service (its SRV record target is '.')")]
    NotOffered {
        /// The JID's domain.
        domain: String,
    },
    /// A host name did not resolve to an address.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Every address refused or failed.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// `host:port`.
        target: String,
        /// The last failure.
        #[source]
        source: std::io::Error,
    },
    /// No TCP connection within the connect timeout.
    #[error("connecting to {target} timed out")]
    ConnectTimeout {
        /// `host:port`.
        target: String,
    },
    /// The server's certificate did not verify.
    #[error(
        "the TLS certificate of {domain} is not trusted ({reason}); \
         pass --ca FILE with the server's certificate or its CA, or --insecure to skip verification"
    )]
    Certificate {
        /// The name it was checked against.
        domain: String,
        /// The verifier's reason.
        reason: String,
    },
    /// The TLS handshake broke.
    #[error("TLS handshake failed: {0}")]
    Tls(#[source] std::io::Error),
    /// The TLS configuration could not be built.
    #[error("TLS setup: {0}")]
    TlsSetup(String),
    /// `--ca` is unreadable or holds no certificate.
    #[error("cannot use --ca {path}: {reason}", path = path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Where to connect: the `--server` override, or what DNS says for `domain`.
pub async fn endpoints(
    domain: &str,
    server: Option<&str>,
    direct_tls: bool,
) -> Result<Vec<Endpoint>, TransportError> {
    if let Some(server) = server {
        let default_port = if direct_tls { 5223 } else { 5222 };
        let (host, port) = split_host_port(server, default_port);
        return Ok(vec![Endpoint {
            host,
            port,
            direct_tls,
        }]);
    }
    let records = srv::lookup(domain)
        .await
        .map_err(|source| TransportError::Dns {
            domain: domain.to_owned(),
            source,
        })?;
    match srv::plan(domain, records, &mut rand::rng()) {
        srv::SrvPlan::Endpoints(e) => Ok(e),
        srv::SrvPlan::Fallback(mut e) => {
            if direct_tls {
                e.port = 5223;
                e.direct_tls = true;
            }
            Ok(vec![e])
        }
        srv::SrvPlan::NotOffered => Err(TransportError::NotOffered {
            domain: domain.to_owned(),
        }),
    }
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
pub fn split_host_port(s: &str, default_port: u16) -> (String, u16) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            let port = tail
                .strip_prefix(':')
                .and_then(|p| p.parse().ok())
                .unwrap_or(default_port);
            return (host.to_owned(), port);
        }
    }
    if s.matches(':').count() == 1 {
        if let Some((host, port)) = s.rsplit_once(':') {
            if let Ok(port) = port.parse() {
                return (host.to_owned(), port);
            }
        }
    }
    (s.to_owned(), default_port)
}

/// Connects to the first endpoint (and address) that answers.
pub async fn connect(endpoints: &[Endpoint]) -> Result<(TcpStream, Endpoint), TransportError> {
    let mut last_error = None;
    for endpoint in endpoints {
        match connect_one(endpoint).await {
            Ok(tcp) => return Ok((tcp, endpoint.clone())),
            Err(e) => {
                tracing::debug!("{e}");
                last_error = Some(e);
            }
        }
    }
    Err(last_error.unwrap_or(TransportError::ConnectTimeout {
        target: "(no endpoint)".into(),
    }))
}

async fn connect_one(endpoint: &Endpoint) -> Result<TcpStream, TransportError> {
    let target = format!("{}:{}", endpoint.host, endpoint.port);
    let addrs = tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|source| TransportError::Resolve {
            host: endpoint.host.clone(),
            source,
        })?;
    let mut last_error = None;
    for addr in addrs {
        tracing::debug!("connecting to {addr}");
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Ok(Err(source)) => {
                last_error = Some(TransportError::Connect {
                    target: target.clone(),
                    source,
                })
            }
            Err(_) => {
                last_error = Some(TransportError::ConnectTimeout {
                    target: target.clone(),
                })
            }
        }
    }
    Err(last_error.unwrap_or(TransportError::ConnectTimeout { target }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(
            split_host_port("example.org", 5222),
            ("example.org".into(), 5222)
        );
        assert_eq!(
            split_host_port("127.0.0.1:5333", 5222),
            ("127.0.0.1".into(), 5333)
        );
        assert_eq!(split_host_port("[::1]:5333", 5222), ("::1".into(), 5333));
        assert_eq!(split_host_port("::1", 5222), ("::1".into(), 5222));
    }
}
