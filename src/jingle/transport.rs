//! Jingle transports: XEP-0261 in-band bytestreams (§2: block size and sid; the bytes
//! then move as XEP-0047 under that sid) and XEP-0260 SOCKS5: the peer's candidates
//! (§2.2), `candidate-used`/`candidate-error` (§2.3), `activated`/`proxy-error` (§2.4).

use crate::ns::{JINGLE_IBB_NS, JINGLE_S5B_NS};
use crate::xml::Element;

/// XEP-0261 §2: `<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size sid/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ibb {
    /// The bytestream's sid (XEP-0047's, not the session's).
    pub sid: String,
    /// The block size offered or accepted.
    pub block_size: u16,
}

impl Ibb {
    /// `<transport xmlns='urn:xmpp:jingle:transports:ibb:1' sid block-size/>`.
    pub fn to_element(&self) -> Element {
        Element::new("transport", JINGLE_IBB_NS)
            .attr("block-size", self.block_size.to_string())
            .attr("sid", self.sid.as_str())
    }

    /// `None` unless this is an IBB transport with a usable sid and block size (a
    /// missing block size is taken as 4096, XEP-0047's recommendation).
    pub fn from_element(el: &Element) -> Option<Ibb> {
        if !el.is("transport", JINGLE_IBB_NS) {
            return None;
        }
        let sid = el
            .get_attr("sid")
            .filter(|s| !s.is_empty() && s.len() <= 128)?
            .to_owned();
        let block_size = match el.get_attr("block-size") {
            Some(b) => b.trim().parse().ok().filter(|b| *b > 0)?,
            None => 4096,
        };
        if el.get_attr("stanza").is_some_and(|s| s != "iq") {
            return None;
        }
        Some(Ibb { sid, block_size })
    }
}

/// XEP-0260 §2.2: one candidate (type direct, assisted, tunnel or proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The candidate id, named in `candidate-used`.
    pub cid: String,
    /// Address or host name.
    pub host: String,
    /// The JID of the host (a party, or a proxy).
    pub jid: String,
    /// TCP port.
    pub port: u16,
    /// §2.2: higher wins.
    pub priority: u32,
    /// `type='proxy'` (else direct; assisted and tunnel are read as direct).
    pub proxy: bool,
}

impl Candidate {
    /// §2.2: `<candidate cid host jid port priority type/>`, every attribute present
    /// (Conversations rejects a candidate that lacks any of them).
    pub fn to_element(&self) -> Element {
        Element::new("candidate", JINGLE_S5B_NS)
            .attr("cid", self.cid.as_str())
            .attr("host", self.host.as_str())
            .attr("jid", self.jid.as_str())
            .attr("port", self.port.to_string())
            .attr("priority", self.priority.to_string())
            .attr("type", if self.proxy { "proxy" } else { "direct" })
    }
}

/// §2.2: a SOCKS5 transport offering `candidates`, with `dstaddr` (§2.2: the DST.ADDR
/// the proxies will see) when one of them is a proxy.
pub fn s5b_transport(sid: &str, dstaddr: &str, candidates: &[Candidate]) -> Element {
    let mut transport = s5b_without_candidates(sid);
    if candidates.iter().any(|c| c.proxy) {
        transport.set_attr("dstaddr", dstaddr);
    }
    for c in candidates {
        transport.push_child(c.to_element());
    }
    transport
}

/// §2.5: the proxy candidate `cid` is activated.
pub fn s5b_activated(sid: &str, cid: &str) -> Element {
    Element::new("transport", JINGLE_S5B_NS)
        .attr("sid", sid)
        .child(Element::new("activated", JINGLE_S5B_NS).attr("cid", cid))
}

/// Candidates read from one transport, at most: the list is the peer's.
const MAX_CANDIDATES: usize = 8;

/// XEP-0260 §2.2: the candidates of a SOCKS5 transport, highest priority first (at most
/// [`MAX_CANDIDATES`]; malformed ones skipped).
pub fn s5b_candidates(el: &Element) -> Vec<Candidate> {
    if !el.is("transport", JINGLE_S5B_NS) {
        return Vec::new();
    }
    let mut found: Vec<Candidate> = el
        .children()
        .filter(|c| c.is("candidate", JINGLE_S5B_NS))
        .filter_map(|c| {
            Some(Candidate {
                cid: c
                    .get_attr("cid")
                    .filter(|v| !v.is_empty() && v.len() <= 128)?
                    .to_owned(),
                host: c
                    .get_attr("host")
                    .filter(|v| !v.is_empty() && v.len() <= 255)?
                    .to_owned(),
                jid: c.get_attr("jid")?.to_owned(),
                port: c
                    .get_attr("port")
                    .and_then(|p| p.parse().ok())
                    .filter(|p| *p != 0)?,
                priority: c
                    .get_attr("priority")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0),
                proxy: c.get_attr("type") == Some("proxy"),
            })
        })
        .take(MAX_CANDIDATES)
        .collect();
    found.sort_by_key(|c| std::cmp::Reverse(c.priority));
    found
}

/// What a SOCKS5 transport-info says (§2.3, §2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S5bInfo {
    /// §2.3: this candidate (cid) worked.
    CandidateUsed(String),
    /// §2.3: none worked.
    CandidateError,
    /// §2.5: the proxy candidate (cid) is activated.
    Activated(String),
    /// §2.5: the proxy could not be used.
    ProxyError,
}

/// The notification in a SOCKS5 transport element, if any.
pub fn s5b_info(el: &Element) -> Option<S5bInfo> {
    if !el.is("transport", JINGLE_S5B_NS) {
        return None;
    }
    el.children().find_map(|c| {
        if c.ns() != JINGLE_S5B_NS {
            return None;
        }
        match c.name() {
            "candidate-used" => Some(S5bInfo::CandidateUsed(c.get_attr("cid")?.to_owned())),
            "candidate-error" => Some(S5bInfo::CandidateError),
            "activated" => Some(S5bInfo::Activated(c.get_attr("cid")?.to_owned())),
            "proxy-error" => Some(S5bInfo::ProxyError),
            _ => None,
        }
    })
}

/// §2.3: the candidate of the peer's that we connected to.
pub fn s5b_candidate_used(sid: &str, cid: &str) -> Element {
    Element::new("transport", JINGLE_S5B_NS)
        .attr("sid", sid)
        .child(Element::new("candidate-used", JINGLE_S5B_NS).attr("cid", cid))
}

/// The sid of an XEP-0260 transport, if `el` is one.
pub fn s5b_sid(el: &Element) -> Option<&str> {
    if el.is("transport", JINGLE_S5B_NS) {
        el.get_attr("sid")
            .filter(|s| !s.is_empty() && s.len() <= 128)
    } else {
        None
    }
}

/// XEP-0260 §2.2: our side's transport with no candidate of our own (the responder
/// may offer none), under the initiator's sid.
pub fn s5b_without_candidates(sid: &str) -> Element {
    Element::new("transport", JINGLE_S5B_NS)
        .attr("sid", sid)
        .attr("mode", "tcp")
}

/// XEP-0260 §2.4: none of the peer's candidates worked.
pub fn s5b_candidate_error(sid: &str) -> Element {
    Element::new("transport", JINGLE_S5B_NS)
        .attr("sid", sid)
        .child(Element::new("candidate-error", JINGLE_S5B_NS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// XEP-0261 Examples 1 and 3: offered 4096, answered 2048.
    #[test]
    fn reads_ibb_transports() {
        let offer = parse_document(
            "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ch3d9s71'/>",
        )
        .unwrap();
        assert_eq!(
            Ibb::from_element(&offer),
            Some(Ibb {
                sid: "ch3d9s71".into(),
                block_size: 4096
            })
        );
        let t = Ibb {
            sid: "ch3d9s71".into(),
            block_size: 2048,
        };
        assert_eq!(Ibb::from_element(&t.to_element()), Some(t));
        for bad in [
            "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='0' sid='x'/>",
            "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='70000' sid='x'/>",
            "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096'/>",
            "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' sid='x' stanza='message'/>",
            "<transport xmlns='urn:xmpp:jingle:transports:s5b:1' sid='x'/>",
        ] {
            assert!(
                Ibb::from_element(&parse_document(bad).unwrap()).is_none(),
                "{bad}"
            );
        }
    }

    /// XEP-0260 Example 1: three candidates, tried highest priority first.
    #[test]
    fn reads_candidates_by_priority() {
        let t = parse_document(
            "<transport xmlns='urn:xmpp:jingle:transports:s5b:1' dstaddr='972b7bf47291ca609517f67f86b5081086052dad' mode='tcp' sid='vj3hs98y'>
               <candidate cid='hft54dqy' host='192.168.4.1' jid='romeo@montague.lit/orchard' port='5086' priority='8257636' type='direct'/>
               <candidate cid='hutr46fe' host='24.24.24.1' jid='romeo@montague.lit/orchard' port='5087' priority='8258636' type='direct'/>
               <candidate cid='xmdh4b7i' host='123.456.7.8' jid='streamer.shakespeare.lit' port='7625' priority='7878787' type='proxy'/>
               <candidate cid='bad' host='h' jid='j' port='0' priority='9999999'/>
             </transport>",
        )
        .unwrap();
        let c = s5b_candidates(&t);
        let cids: Vec<&str> = c.iter().map(|c| c.cid.as_str()).collect();
        assert_eq!(cids, ["hutr46fe", "hft54dqy", "xmdh4b7i"]);
        assert!(c[2].proxy && !c[0].proxy);
        let used = s5b_candidate_used("vj3hs98y", "hr65dqyd");
        assert_eq!(
            s5b_info(&used),
            Some(S5bInfo::CandidateUsed("hr65dqyd".into()))
        );
        let activated = parse_document(
            "<transport xmlns='urn:xmpp:jingle:transports:s5b:1' sid='vj3hs98y'><activated cid='xmdh4b7i'/></transport>",
        )
        .unwrap();
        assert_eq!(
            s5b_info(&activated),
            Some(S5bInfo::Activated("xmdh4b7i".into()))
        );
    }

    /// What we offer reads back as offered, highest priority first, with the dstaddr
    /// only when a proxy is among the candidates.
    #[test]
    fn offered_candidates_read_back() {
        let direct = Candidate {
            cid: "c1".into(),
            host: "127.0.0.1".into(),
            jid: "a@b/c".into(),
            port: 5086,
            priority: (126 << 16) + 65535,
            proxy: false,
        };
        let proxy = Candidate {
            cid: "c2".into(),
            host: "127.0.0.2".into(),
            jid: "proxy.b".into(),
            port: 7777,
            priority: (10 << 16) + 65535,
            proxy: true,
        };
        let t = s5b_transport("s", "hash", &[proxy.clone(), direct.clone()]);
        assert_eq!(t.get_attr("dstaddr"), Some("hash"));
        assert_eq!(s5b_candidates(&t), [direct.clone(), proxy]);
        let t = s5b_transport("s", "hash", &[direct]);
        assert_eq!(t.get_attr("dstaddr"), None);
        let activated = s5b_activated("s", "c2");
        assert_eq!(s5b_info(&activated), Some(S5bInfo::Activated("c2".into())));
    }

    #[test]
    fn s5b_pieces() {
        let t = s5b_candidate_error("vj3hs98y");
        assert_eq!(s5b_sid(&t), Some("vj3hs98y"));
        assert!(t.get_child("candidate-error", JINGLE_S5B_NS).is_some());
    }
}
