//! Service discovery (XEP-0030): asking what an entity supports, and the feature list
//! xft itself advertises (answered by the session layer, XEP-0030 §3.1).

use crate::forms::Form;
use crate::jid::Jid;
use crate::ns::{
    BYTESTREAMS_NS, CAPS_NS, DISCO_INFO_NS, DISCO_ITEMS_NS, HASHES_NS, IBB_NS, JINGLE_FT_NS,
    JINGLE_IBB_NS, JINGLE_MESSAGE_NS, JINGLE_NS, JINGLE_S5B_NS, PING_NS, SI_FILE_TRANSFER_NS,
    SI_NS, VERSION_NS,
};
use crate::session::{IqError, Session};
use crate::stanza;
use crate::stanza::IqType;
use crate::xml::Element;

/// What `xft` advertises: peers such as Smack and Pidgin check these before offering
/// (docs/interop.md §1), so a receiver must list SI, its profile and both streams.
pub fn client_features() -> Vec<String> {
    [
        CAPS_NS,
        DISCO_INFO_NS,
        PING_NS,
        SI_NS,
        SI_FILE_TRANSFER_NS,
        BYTESTREAMS_NS,
        IBB_NS,
        VERSION_NS,
        JINGLE_NS,
        JINGLE_FT_NS,
        JINGLE_S5B_NS,
        JINGLE_IBB_NS,
        JINGLE_MESSAGE_NS,
        HASHES_NS,
        // XEP-0300 §4. Only SHA-256, though sha-1, sha-512 and blake2b are verified
        // too: Gajim hashes with the strongest algorithm listed, and each of the
        // others costs two to three times SHA-256 (with SHA-NI) on both sides.
        "urn:xmpp:hash-function-text-names:sha-256",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// An entity's identities and features (XEP-0030 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// `(category, type)` pairs.
    pub identities: Vec<(String, String)>,
    /// The identities' `name`s, where given (a client's name: "Libervia", "Gajim").
    pub names: Vec<String>,
    /// The `var`s of the features.
    pub features: Vec<String>,
    /// XEP-0128 extension forms (HTTP upload's size limit is in one).
    pub forms: Vec<Form>,
}

impl Info {
    /// True when `var` is listed.
    pub fn has_feature(&self, var: &str) -> bool {
        self.features.iter().any(|f| f == var)
    }

    /// The extension form whose `FORM_TYPE` is `form_type` (XEP-0128).
    pub fn form(&self, form_type: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.form_type() == Some(form_type))
    }

    /// True when an identity has this category and type.
    pub fn has_identity(&self, category: &str, kind: &str) -> bool {
        self.identities
            .iter()
            .any(|(c, t)| c == category && t == kind)
    }

    /// Reads a `<query xmlns='http://jabber.org/protocol/disco#info'/>`.
    pub fn from_query(query: &Element) -> Info {
        let mut info = Info::default();
        for child in query.children() {
            if child.is("identity", DISCO_INFO_NS) {
                let category = child.get_attr("category").unwrap_or_default().to_owned();
                let kind = child.get_attr("type").unwrap_or_default().to_owned();
                info.identities.push((category, kind));
                if let Some(name) = child.get_attr("name").filter(|n| !n.is_empty()) {
                    info.names.push(name.to_owned());
                }
            } else if child.is("feature", DISCO_INFO_NS) {
                if let Some(var) = child.get_attr("var") {
                    info.features.push(var.to_owned());
                }
            } else if let Some(form) = Form::from_element(child) {
                info.forms.push(form);
            }
        }
        info
    }
}

/// XEP-0030 §3.1: disco#info of `jid`.
pub async fn info(session: &Session, jid: &Jid) -> Result<Info, IqError> {
    Ok(Info::from_query(&info_query(session, jid).await?))
}

/// XEP-0030 §3.1: disco#info of `jid`, as the `<query/>` it answered (an empty one if
/// the answer had none), for what [`Info`] leaves out (a XEP-0115 hash covers all).
pub async fn info_query(session: &Session, jid: &Jid) -> Result<Element, IqError> {
    let request = stanza::iq(
        IqType::Get,
        Some(&jid.to_string()),
        Element::new("query", DISCO_INFO_NS),
    );
    let answer = session.iq(request).await?;
    Ok(answer
        .get_child("query", DISCO_INFO_NS)
        .cloned()
        .unwrap_or_else(|| Element::new("query", DISCO_INFO_NS)))
}

/// Items read from one disco#items answer: callers ask each of them something, at
/// once, and the list is the server's to make as long as it likes.
pub const MAX_ITEMS: usize = 32;

/// XEP-0030 §4.1: the JIDs of `jid`'s items (at most [`MAX_ITEMS`]).
pub async fn items(session: &Session, jid: &Jid) -> Result<Vec<Jid>, IqError> {
    let request = stanza::iq(
        IqType::Get,
        Some(&jid.to_string()),
        Element::new("query", DISCO_ITEMS_NS),
    );
    let answer = session.iq(request).await?;
    let Some(query) = answer.get_child("query", DISCO_ITEMS_NS) else {
        return Ok(Vec::new());
    };
    Ok(query
        .children()
        .filter(|c| c.is("item", DISCO_ITEMS_NS))
        .filter_map(|c| c.get_attr("jid").and_then(|j| Jid::parse(j).ok()))
        .take(MAX_ITEMS)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XEP-0363 §4 Example 2: the upload service's answer keeps its extension form.
    #[test]
    fn keeps_extension_forms() {
        let query = crate::xml::parse_document(
            "<query xmlns='http://jabber.org/protocol/disco#info'>
               <identity category='store' type='file' name='HTTP File Upload'/>
               <feature var='urn:xmpp:http:upload:0'/>
               <x type='result' xmlns='jabber:x:data'>
                 <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>
                 <field var='max-file-size'><value>5242880</value></field>
               </x>
             </query>",
        )
        .unwrap();
        let info = Info::from_query(&query);
        assert!(info.has_feature("urn:xmpp:http:upload:0"));
        let limit = info
            .form("urn:xmpp:http:upload:0")
            .and_then(|f| f.field("max-file-size"))
            .and_then(|f| f.value());
        assert_eq!(limit, Some("5242880"));
        assert!(info.form("urn:other").is_none());
    }

    /// XEP-0030 §3.1 Example 2, abridged.
    #[test]
    fn reads_identities_and_features() {
        let query = Element::new("query", DISCO_INFO_NS)
            .child(
                Element::new("identity", DISCO_INFO_NS)
                    .attr("category", "proxy")
                    .attr("type", "bytestreams")
                    .attr("name", "SOCKS5 Bytestreams Service"),
            )
            .child(Element::new("feature", DISCO_INFO_NS).attr("var", BYTESTREAMS_NS));
        let info = Info::from_query(&query);
        assert!(info.has_identity("proxy", "bytestreams"));
        assert!(info.has_feature(BYTESTREAMS_NS));
        assert!(!info.has_feature(IBB_NS));
    }
}
