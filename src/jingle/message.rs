//! Jingle Message Initiation (XEP-0353): a sender that only knows a bare JID proposes a
//! session in a message (§3.1) and waits for a resource to `<proceed/>` (§3.4) before
//! sending session-initiate to it, under the proposal's id. `xft recv` answers proposals
//! of file transfer (a description in the XEP-0234 namespace) from allowed senders,
//! and rejects the others' (§3.5); proposals of anything else (calls) are left alone.

use crate::ns::{CLIENT_NS, JINGLE_FT_NS, JINGLE_MESSAGE_NS, JINGLE_NS};
use crate::xml::Element;

/// A file-transfer proposal: its id (the future Jingle sid) and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The proposal's id, echoed in `<proceed/>` or `<reject/>`.
    pub id: String,
    /// The proposer's full JID.
    pub from: String,
}

/// §3.1: the proposal in `message`, if it is one for file transfer.
pub fn file_proposal(message: &Element) -> Option<Proposal> {
    if message.name() != "message" || message.get_attr("type") == Some("error") {
        return None;
    }
    let propose = message.get_child("propose", JINGLE_MESSAGE_NS)?;
    let id = propose
        .get_attr("id")
        .filter(|id| !id.is_empty() && id.len() <= 256)?;
    let for_files = propose
        .children()
        .any(|d| d.is("description", JINGLE_FT_NS));
    for_files.then(|| Proposal {
        id: id.to_owned(),
        from: message.get_attr("from").unwrap_or_default().to_owned(),
    })
}

fn answer(kind: &str, to: &str, id: &str) -> Element {
    Element::new("message", CLIENT_NS)
        .attr("to", to)
        .attr("type", "chat")
        .attr("id", crate::stanza::new_id())
        .child(Element::new(kind, JINGLE_MESSAGE_NS).attr("id", id))
        // §3: every message of this protocol carries a XEP-0334 store hint.
        .child(Element::new("store", "urn:xmpp:hints"))
}

/// §3.4: accept the proposal (sent to the proposer's full JID).
pub fn proceed(to: &str, id: &str) -> Element {
    answer("proceed", to, id)
}

/// §3.5: refuse it, with a Jingle reason (`decline` for a sender not allowed).
pub fn reject(to: &str, id: &str, text: &str) -> Element {
    let mut message = answer("reject", to, id);
    if let Some(reject) = message.get_child_mut("reject", JINGLE_MESSAGE_NS) {
        reject.push_child(
            Element::new("reason", JINGLE_NS)
                .child(Element::new("decline", JINGLE_NS))
                .child(Element::new("text", JINGLE_NS).text(text)),
        );
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    #[test]
    fn reads_file_proposals_only() {
        let m = parse_document(
            "<message xmlns='jabber:client' from='romeo@montague.example/orchard' to='juliet@capulet.example' type='chat'>
               <propose xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'>
                 <description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/>
               </propose>
               <store xmlns='urn:xmpp:hints'/>
             </message>",
        )
        .unwrap();
        let p = file_proposal(&m).unwrap();
        assert_eq!(p.id, "ca3cf894-5325-482f-a412-a6e9f832298d");
        assert_eq!(p.from, "romeo@montague.example/orchard");
        // §3.1 Example 1 itself proposes a call: not ours.
        let call = parse_document(
            "<message xmlns='jabber:client' from='romeo@montague.example/orchard' type='chat'>
               <propose xmlns='urn:xmpp:jingle-message:0' id='x'>
                 <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>
               </propose></message>",
        )
        .unwrap();
        assert!(file_proposal(&call).is_none());
    }

    #[test]
    fn answers_carry_the_id_and_a_store_hint() {
        let p = proceed("romeo@montague.example/orchard", "abc");
        assert_eq!(
            p.get_child("proceed", JINGLE_MESSAGE_NS)
                .and_then(|e| e.get_attr("id")),
            Some("abc")
        );
        assert!(p.get_child("store", "urn:xmpp:hints").is_some());
        let r = reject("romeo@montague.example/orchard", "abc", "not allowed");
        let reason = r
            .get_child("reject", JINGLE_MESSAGE_NS)
            .and_then(|e| e.get_child("reason", JINGLE_NS))
            .unwrap();
        assert!(reason.get_child("decline", JINGLE_NS).is_some());
    }
}
