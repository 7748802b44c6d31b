//! Jingle transports: XEP-0261 in-band bytestreams (§2: block size and sid; the bytes
//! then move as XEP-0047 under that sid) and, for now, the part of XEP-0260 SOCKS5
//! needed to say that no candidate worked (§2.4 `candidate-error`), after which the
//! initiator replaces the transport with IBB (XEP-0166 §7.2.11 transport-replace).

use crate::ns::{JINGLE_IBB_NS, JINGLE_S5B_NS};
use crate::xml::Element;

/// XEP-0261 §2: `<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size sid/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ibb {
    pub sid: String,
    pub block_size: u16,
}

impl Ibb {
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
    Element::new("transport", JINGLE_S5B_NS).attr("sid", sid)
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

    #[test]
    fn s5b_pieces() {
        let t = s5b_candidate_error("vj3hs98y");
        assert_eq!(s5b_sid(&t), Some("vj3hs98y"));
        assert!(t.get_child("candidate-error", JINGLE_S5B_NS).is_some());
    }
}
