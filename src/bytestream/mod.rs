//! Bytestreams: ways to move bytes between two XMPP entities, negotiated by SI or by
//! Jingle. Nothing here depends on SI: a bytestream needs a peer JID and a
//! session id, and offers "send these bytes" / "receive into this writer" (IBB) or a
//! connected socket (S5B).

pub mod ibb;
pub mod s5b;
pub mod socks5;

use crate::jid::Jid;
use crate::ns::{BYTESTREAMS_NS, CLIENT_NS, IBB_NS};

use crate::xml::Element;

/// A bytestream method: what SI negotiates by namespace (XEP-0096 §3.1 makes both
/// mandatory), and what `--method` chooses for Jingle's transports too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamMethod {
    /// SOCKS5 Bytestreams, XEP-0065.
    Socks5,
    /// In-Band Bytestreams, XEP-0047.
    Ibb,
}

impl StreamMethod {
    /// The method's namespace, as SI's feature negotiation names it.
    pub fn namespace(self) -> &'static str {
        match self {
            StreamMethod::Socks5 => BYTESTREAMS_NS,
            StreamMethod::Ibb => IBB_NS,
        }
    }

    /// The method of a namespace, if xft has it.
    pub fn from_namespace(ns: &str) -> Option<StreamMethod> {
        match ns.trim() {
            BYTESTREAMS_NS => Some(StreamMethod::Socks5),
            IBB_NS => Some(StreamMethod::Ibb),
            _ => None,
        }
    }

    /// The name used in output and `--method`: "s5b" or "ibb".
    pub fn short_name(self) -> &'static str {
        match self {
            StreamMethod::Socks5 => "s5b",
            StreamMethod::Ibb => "ibb",
        }
    }
}

/// Resolves when `peer` goes offline (its unavailable presence; RFC 6121 §4.6.3). The
/// route is claimed now, so a presence that arrives before the first poll still counts;
/// if our own connection drops, it never resolves (the bytestream may live on).
pub(crate) fn peer_gone(
    session: &crate::session::Session,
    peer: &Jid,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let watched = peer.clone();
    let mut route = session.route(move |el| claims(el, &watched, |_| false));
    async move {
        if route.next().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}

/// The route filter of one bytestream session: stanzas from `peer` that `is_request`
/// accepts, and `peer`'s unavailable presence (so a vanished peer ends the wait at
/// once, RFC 6121 §4.6.3).
pub(crate) fn claims(el: &Element, peer: &Jid, is_request: impl Fn(&Element) -> bool) -> bool {
    if el.ns() != CLIENT_NS {
        return false;
    }
    let from_peer = el
        .get_attr("from")
        .and_then(|f| Jid::parse(f).ok())
        .is_some_and(|f| f == *peer);
    if !from_peer {
        return false;
    }
    if el.name() == "presence" {
        return el.get_attr("type") == Some("unavailable");
    }
    is_request(el)
}
