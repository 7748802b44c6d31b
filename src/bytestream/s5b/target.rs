//! The target's side of XEP-0065 (§5.3.2, §5.3.3, §6.3.2, §6.3.3).
//!
//! Waits for the requester's streamhosts, tries them (staggered in the offered order,
//! several at once, first finished handshake wins: a Smack requester gives up after
//! 10 s, so everything must be over in about 8), and answers `streamhost-used` or
//! `item-not-found`.

use crate::ns::BYTESTREAMS_NS;
use crate::stanza::Condition;
use crate::stanza::IqType;
use std::time::Duration;

use tokio::net::TcpStream;

use super::connector::try_hosts;
use super::{S5bError, StreamHost};

use crate::jid::{FullJid, Jid};
use crate::session::{Route, Session};
use crate::stanza::{self, ErrorType, StanzaError};
use crate::xml::Element;

/// A hostile requester could list thousands of hosts; try the first few.
const MAX_HOSTS: usize = 8;

/// Waits for the streamhost offer of one session.
pub struct S5bTarget {
    session: Session,
    route: Route,
    requester: FullJid,
    sid: String,
}

impl S5bTarget {
    /// Claims the bytestreams offer for `sid` from `requester` (and its going offline).
    /// Call before accepting the SI offer, so nothing slips past.
    pub fn listen(session: &Session, requester: &FullJid, sid: &str) -> S5bTarget {
        let (peer, sid_match) = (requester.as_jid().clone(), sid.to_owned());
        let route = session.route(move |el| is_for_session(el, &peer, &sid_match));
        S5bTarget {
            session: session.clone(),
            route,
            requester: requester.clone(),
            sid: sid.to_owned(),
        }
    }

    /// Receives the offer, connects, answers; returns the socket to read from.
    pub async fn accept(&mut self, wait: Duration) -> Result<(TcpStream, StreamHost), S5bError> {
        let request = match tokio::time::timeout(wait, self.route.next()).await {
            Err(_) => return Err(S5bError::NoOffer(wait)),
            Ok(None) => return Err(S5bError::Disconnected),
            Ok(Some(el)) if el.name() == "presence" => return Err(S5bError::PeerGone),
            Ok(Some(el)) => el,
        };
        let hosts: Vec<StreamHost> = request
            .get_child("query", BYTESTREAMS_NS)
            .map(|q| {
                q.children()
                    .filter_map(StreamHost::from_element)
                    .take(MAX_HOSTS)
                    .collect()
            })
            .unwrap_or_default();
        if hosts.is_empty() {
            let error = StanzaError::new(ErrorType::Modify, Condition::BadRequest);
            let _ = self.session.reply_error(&request, &error).await;
            return Err(S5bError::BadOffer);
        }
        let hash = super::dst_addr(&self.sid, &self.requester, self.session.jid());
        match try_hosts(&hosts, &hash, wait).await {
            Ok((socket, host)) => {
                let used = Element::new("query", BYTESTREAMS_NS)
                    .attr("sid", self.sid.as_str())
                    .child(
                        Element::new("streamhost-used", BYTESTREAMS_NS)
                            .attr("jid", host.jid.to_string()),
                    );
                let _ = self
                    .session
                    .send(stanza::iq_result(&request).child(used))
                    .await;
                Ok((socket, host))
            }
            Err(report) => {
                // §5.3.2: none reachable is item-not-found; the text says why.
                let error = StanzaError::new(ErrorType::Cancel, Condition::ItemNotFound)
                    .with_text(report.clone());
                let _ = self.session.reply_error(&request, &error).await;
                Err(S5bError::NoStreamHost(report))
            }
        }
    }
}

/// The bytestreams offer for this session from this requester, or its unavailability.
fn is_for_session(el: &Element, requester: &Jid, sid: &str) -> bool {
    crate::bytestream::claims(el, requester, |el| {
        stanza::is_iq_request(el, IqType::Set, "query", BYTESTREAMS_NS)
            && el
                .get_child("query", BYTESTREAMS_NS)
                .and_then(|q| q.get_attr("sid"))
                == Some(sid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytestream::socks5;

    #[tokio::test]
    async fn a_stalling_streamhost_loses_to_a_working_one() {
        let hash = "a".repeat(40);
        // Host 1 accepts TCP and never answers; host 2 is a real SOCKS5 streamhost.
        let stalling = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let working = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = |l: &tokio::net::TcpListener, jid: &str| StreamHost {
            jid: Jid::parse(jid).unwrap(),
            host: "127.0.0.1".into(),
            port: l.local_addr().unwrap().port(),
        };
        let hosts = [
            host(&stalling, "stall.example"),
            host(&working, "ok.example"),
        ];
        let expected = hash.clone();
        tokio::spawn(async move {
            let _held = stalling.accept().await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        tokio::spawn(async move {
            let (mut s, _) = working.accept().await.unwrap();
            socks5::accept(&mut s, &expected, Duration::from_secs(5))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let started = std::time::Instant::now();
        let (_, used) = try_hosts(&hosts, &hash, Duration::from_secs(8))
            .await
            .unwrap();
        assert_eq!(used.jid.to_string(), "ok.example");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "did not wait for the stalling host"
        );
    }

    #[tokio::test]
    async fn wrong_hash_and_refused_ports_fail_with_a_report() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let _ = socks5::accept(&mut s, &"b".repeat(40), Duration::from_secs(5)).await;
        });
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_port = closed.local_addr().unwrap().port();
        drop(closed);
        let hosts = [
            StreamHost {
                jid: Jid::parse("a.example").unwrap(),
                host: "127.0.0.1".into(),
                port,
            },
            StreamHost {
                jid: Jid::parse("b.example").unwrap(),
                host: "127.0.0.1".into(),
                port: closed_port,
            },
        ];
        let report = try_hosts(&hosts, &"a".repeat(40), Duration::from_secs(8))
            .await
            .unwrap_err();
        assert!(
            report.contains("refused the connection (reply code 2)"),
            "{report}"
        );
        assert!(report.matches("127.0.0.1").count() == 2, "{report}");
    }
}
