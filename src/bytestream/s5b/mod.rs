//! SOCKS5 Bytestreams (XEP-0065): a TCP connection between the two parties, direct to
//! the requester's own listener or through a proxy (a "streamhost").
//!
//! Like IBB, this module knows a peer JID and a session id only, never SI:
//!
//! * [`requester`]: offer streamhosts (§5.3.1, §6.3.1), accept the target's SOCKS5
//!   connection on our own listeners, or connect to the chosen proxy and activate it
//!   (§6.3.4, §6.3.5);
//! * [`target`]: try the offered streamhosts (§5.3.2), say which one worked (§5.3.3) or
//!   `item-not-found`;
//! * [`candidates`]: the addresses a requester offers, from `--s5b-address` or a scan of
//!   the machine's interfaces;
//! * [`proxy`]: finding the server's proxy65 by service discovery (§4);
//! * `connector`: the socket work both XEP-0065 and XEP-0260 drive (trying hosts,
//!   accepting on our listeners, proxy activation).
//!
//! The SOCKS5 bytes themselves are in `bytestream::socks5`.

pub mod candidates;
pub(crate) mod connector;
pub mod offer;
pub mod proxy;
pub mod requester;
pub mod target;

use crate::ns::BYTESTREAMS_NS;
use sha1::{Digest, Sha1};

use crate::jid::{FullJid, Jid};
use crate::session::IqError;
use crate::stanza::StanzaError;
use crate::xml::Element;

use super::socks5::Socks5Error;

/// A host offering the bytestream: the requester itself or a proxy (§9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHost {
    /// Whose host it is (a party, or the proxy's JID).
    pub jid: Jid,
    /// IP address (RFC 5952 text for IPv6) or host name.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl StreamHost {
    /// `<streamhost jid host port/>` (§5.3.1).
    pub fn to_element(&self) -> Element {
        Element::new("streamhost", BYTESTREAMS_NS)
            .attr("jid", self.jid.to_string())
            .attr("host", self.host.as_str())
            .attr("port", self.port.to_string())
    }

    /// §9.2: `jid`, `host` and `port` are required; a zero port or an empty host is useless.
    pub fn from_element(el: &Element) -> Option<StreamHost> {
        let jid = Jid::parse(el.get_attr("jid")?).ok()?;
        let host = el.get_attr("host")?.trim();
        let port: u16 = el.get_attr("port")?.trim().parse().ok()?;
        if host.is_empty() || port == 0 || host.len() > 255 {
            return None;
        }
        Some(StreamHost {
            jid,
            host: host.to_owned(),
            port,
        })
    }
}

/// Why a SOCKS5 bytestream could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum S5bError {
    /// §5.3.2: the target answered the streamhosts with an error.
    #[error("the target could not connect to any streamhost: {0}")]
    TargetFailed(StanzaError),
    /// The streamhost offer got no answer.
    #[error("the target did not answer the streamhost offer: {0}")]
    NoAnswer(IqError),
    /// `<streamhost-used/>` names a host we did not offer.
    #[error("the target named a streamhost we did not offer ({0})")]
    UnknownStreamHost(String),
    /// The target said it used our listener, but no connection came.
    #[error("the target chose our own streamhost but never connected to it")]
    DirectNotConnected,
    /// The proxy could not be reached or spoke no SOCKS5.
    #[error("cannot connect to the proxy {jid} at {host}:{port}: {reason}")]
    Proxy {
        /// The proxy's JID.
        jid: String,
        /// Its address.
        host: String,
        /// Its port.
        port: u16,
        /// Why.
        reason: String,
    },
    /// §6.3.3: the proxy refused `<activate/>`.
    #[error("the proxy refused to activate the bytestream: {0}")]
    ActivationRefused(IqError),
    /// No address to listen on and no proxy.
    #[error("no streamhost to offer (no usable address and no proxy)")]
    NothingToOffer,
    /// As target: none of the offered hosts could be reached (the reasons).
    #[error("no streamhost worked: {0}")]
    NoStreamHost(String),
    /// As target: no streamhost offer in time.
    #[error("the requester did not offer streamhosts within {} s", .0.as_secs())]
    NoOffer(std::time::Duration),
    /// As target: the offer could not be read.
    #[error("the requester's streamhost offer is malformed")]
    BadOffer,
    /// The requester's unavailable presence came.
    #[error("the requester went offline")]
    PeerGone,
    /// Binding a listener failed.
    #[error("cannot listen for the direct connection: {0}")]
    Listen(std::io::Error),
    /// The SOCKS5 handshake failed.
    #[error(transparent)]
    Socks5(#[from] Socks5Error),
    /// The connection to the server closed.
    #[error("the connection to the server was lost")]
    Disconnected,
}

/// XEP-0065 §5.3.2: DST.ADDR = hex SHA-1 of SID + requester JID + target JID, with the
/// JIDs as used in the iq exchange (full JIDs here), prepared (our `Jid` is) and UTF-8.
pub fn dst_addr(sid: &str, requester: &FullJid, target: &FullJid) -> String {
    let mut h = Sha1::new();
    h.update(sid.as_bytes());
    h.update(requester.to_string().as_bytes());
    h.update(target.to_string().as_bytes());
    format!("{:x}", h.finalize())
}

/// §9.1: `<query sid mode='tcp'>` with streamhosts, as the requester sends it.
pub fn offer_element(sid: &str, hosts: &[StreamHost]) -> Element {
    let mut query = Element::new("query", BYTESTREAMS_NS)
        .attr("sid", sid)
        .attr("mode", "tcp");
    for host in hosts {
        query.push_child(host.to_element());
    }
    query
}

/// §5.3.3: the `jid` of `<streamhost-used/>` in the target's answer.
pub fn streamhost_used(answer: &Element) -> Option<Jid> {
    let used = answer
        .get_child("query", BYTESTREAMS_NS)?
        .get_child("streamhost-used", BYTESTREAMS_NS)?;
    Jid::parse(used.get_attr("jid")?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    #[test]
    fn hash_matches_an_independent_sha1() {
        let r = Jid::parse("requester@example.com/foo")
            .unwrap()
            .to_full()
            .unwrap();
        let t = Jid::parse("target@example.org/bar")
            .unwrap()
            .to_full()
            .unwrap();
        // sha1("vxf9n471bn46" "requester@example.com/foo" "target@example.org/bar"),
        // computed with Python's hashlib (XEP-0065 §5.3.2 Example 13's inputs).
        assert_eq!(
            dst_addr("vxf9n471bn46", &r, &t),
            "98b8d688d0f5d895fd41c5e7309a2e9e33ba32ff"
        );
    }

    /// XEP-0065 §5.3.1 Example 12, and Example 17 for the answer.
    #[test]
    fn parses_the_xep_offer_and_answer() {
        let offer = parse_document(
            "<query xmlns='http://jabber.org/protocol/bytestreams' sid='vxf9n471bn46' mode='tcp'>
               <streamhost jid='requester@example.com/foo' host='192.168.4.1' port='5086'/>
               <streamhost jid='streamer.example.com' host='24.24.24.1' zeroconf='_jabber.bytestreams'/>
             </query>",
        )
        .unwrap();
        let hosts: Vec<_> = offer
            .children()
            .filter_map(StreamHost::from_element)
            .collect();
        assert_eq!(
            hosts.len(),
            1,
            "the zeroconf host without a port is skipped"
        );
        assert_eq!(hosts[0].port, 5086);
        assert_eq!(
            StreamHost::from_element(&hosts[0].to_element()),
            Some(hosts[0].clone())
        );
        let answer = parse_document(
            "<iq xmlns='jabber:client' type='result'><query xmlns='http://jabber.org/protocol/bytestreams' sid='vxf9n471bn46'>
               <streamhost-used jid='requester@example.com/foo'/></query></iq>",
        )
        .unwrap();
        assert_eq!(
            streamhost_used(&answer).unwrap().to_string(),
            "requester@example.com/foo"
        );
    }
}
