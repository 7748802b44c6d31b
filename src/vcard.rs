//! vcard-temp (XEP-0054): fetching, reading and updating a vCard.
//!
//! The element as received stays the source of truth, so `vcard set` changes only the
//! fields the user named and keeps the rest (XEP-0054 §3.2: a set replaces the whole
//! vCard, there is no partial update). [`VCardView`] is the typed reading used for
//! display and JSON.

use crate::stanza::Condition;
use crate::stanza::IqType;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Serialize;

use crate::jid::Jid;
use crate::session::{IqError, Session};
use crate::stanza::{self, StanzaError};
use crate::xml::Element;

use crate::ns::VCARD_NS as NS;

#[derive(Debug, thiserror::Error)]
pub enum VcardError {
    /// XEP-0054 §3.3: `service-unavailable` (since 1.3) or `item-not-found` (older
    /// servers) for a user with no vCard or no account; Prosody answers an empty vCard.
    #[error("{jid} has no vCard (or no such account exists)")]
    NotFound { jid: String },
    #[error("the server refused the vCard request: {0}")]
    Refused(StanzaError),
    #[error("vCard request: {0}")]
    Iq(IqError),
    #[error("the server's answer holds no vCard element")]
    Malformed,
    #[error("the XML file is not a vCard: {0}")]
    BadInput(String),
}

/// XEP-0054 §3.1 / §3.3: retrieves the vCard of `jid` (None or our own bare JID = ours).
pub(crate) async fn fetch(session: &Session, jid: Option<&Jid>) -> Result<Element, VcardError> {
    let own = session.jid().bare();
    let target = jid.map(Jid::bare).filter(|j| *j != own);
    let shown = target.as_ref().unwrap_or(&own).to_string();
    let request = stanza::iq(
        IqType::Get,
        target.as_ref().map(|j| j.to_string()).as_deref(),
        Element::new("vCard", NS),
    );
    let answer = session.iq(request).await.map_err(|e| match e {
        IqError::Stanza(se)
            if se.is(Condition::ServiceUnavailable) || se.is(Condition::ItemNotFound) =>
        {
            VcardError::NotFound { jid: shown.clone() }
        }
        IqError::Stanza(se) => VcardError::Refused(se),
        other => VcardError::Iq(other),
    })?;
    let vcard = answer.get_child("vCard", NS).cloned();
    match vcard {
        Some(v) if v.children().next().is_some() => Ok(v),
        // An empty <vCard/> result is how Prosody says "nothing stored" (XEP-0054 §3.1).
        _ => Err(VcardError::NotFound { jid: shown }),
    }
}

/// XEP-0054 §3.2: publishes `vcard` as our own (the whole vCard is replaced).
pub(crate) async fn publish(session: &Session, vcard: Element) -> Result<(), VcardError> {
    let request = stanza::iq(IqType::Set, None, vcard);
    session.iq(request).await.map_err(|e| match e {
        IqError::Stanza(se) => VcardError::Refused(se),
        other => VcardError::Iq(other),
    })?;
    Ok(())
}

/// Reads a whole vCard from XML text (for `vcard set --xml FILE`).
pub(crate) fn parse_vcard_xml(text: &str) -> Result<Element, VcardError> {
    let el = crate::xml::parse_document(text).map_err(|e| VcardError::BadInput(e.to_string()))?;
    if !el.is("vCard", NS) {
        return Err(VcardError::BadInput(format!(
            "the root element is <{}> in namespace '{}', expected <vCard xmlns='vcard-temp'>",
            el.name(),
            el.ns()
        )));
    }
    Ok(el)
}

/// Field changes requested on the command line; `Some("")` removes a field.
#[derive(Debug, Default, Clone)]
pub(crate) struct Changes {
    pub full_name: Option<String>,
    pub nickname: Option<String>,
    pub emails: Option<Vec<String>>,
    pub url: Option<String>,
    pub note: Option<String>,
    /// MIME type and raw image bytes.
    pub photo: Option<(String, Vec<u8>)>,
}

impl Changes {
    pub(crate) fn is_empty(&self) -> bool {
        self.full_name.is_none()
            && self.nickname.is_none()
            && self.emails.is_none()
            && self.url.is_none()
            && self.note.is_none()
            && self.photo.is_none()
    }
}

/// Applies `changes` to `vcard`, keeping every field not mentioned.
pub(crate) fn apply(vcard: &mut Element, changes: &Changes) {
    set_text_field(vcard, "FN", changes.full_name.as_deref());
    set_text_field(vcard, "NICKNAME", changes.nickname.as_deref());
    set_text_field(vcard, "URL", changes.url.as_deref());
    set_text_field(vcard, "NOTE", changes.note.as_deref());
    if let Some(emails) = &changes.emails {
        vcard.remove_children("EMAIL", NS);
        for address in emails.iter().filter(|a| !a.is_empty()) {
            vcard.push_child(
                Element::new("EMAIL", NS)
                    .child(Element::new("INTERNET", NS))
                    .child(Element::new("USERID", NS).text(address.as_str())),
            );
        }
    }
    if let Some((mime, bytes)) = &changes.photo {
        vcard.remove_children("PHOTO", NS);
        vcard.push_child(
            Element::new("PHOTO", NS)
                .child(Element::new("TYPE", NS).text(mime.as_str()))
                .child(Element::new("BINVAL", NS).text(B64.encode(bytes))),
        );
    }
}

fn set_text_field(vcard: &mut Element, name: &str, value: Option<&str>) {
    let Some(value) = value else { return };
    vcard.remove_children(name, NS);
    if !value.is_empty() {
        vcard.push_child(Element::new(name, NS).text(value));
    }
}

/// Guesses an image MIME type from its first bytes.
pub(crate) fn sniff_image_type(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
    ];
    if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, mime)| *mime)
}

/// The fields of a vCard that xft shows, as typed values.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub(crate) struct VCardView {
    #[serde(rename = "fn", skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<Typed>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tel: Vec<Typed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<Org>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adr: Vec<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bday: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jabberid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<Photo>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub(crate) struct Name {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
}

/// An EMAIL (USERID) or TEL (NUMBER) value with its type flags (HOME, WORK, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Typed {
    pub value: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Org {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub(crate) struct Address {
    /// `(element name, value)` pairs in vCard order: POBOX, EXTADD, STREET, LOCALITY,
    /// REGION, PCODE, CTRY.
    #[serde(flatten)]
    pub parts: std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Photo {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Size of the decoded image, when it is inline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

const ADR_PARTS: [&str; 7] = [
    "POBOX", "EXTADD", "STREET", "LOCALITY", "REGION", "PCODE", "CTRY",
];
const TYPE_FLAGS: [&str; 20] = [
    "HOME", "WORK", "INTERNET", "PREF", "X400", "VOICE", "FAX", "PAGER", "MSG", "CELL", "VIDEO",
    "BBS", "MODEM", "ISDN", "PCS", "DOM", "INTL", "POSTAL", "PARCEL", "X-NONE",
];

impl VCardView {
    pub(crate) fn from_element(v: &Element) -> VCardView {
        VCardView {
            full_name: text(v, "FN"),
            n: v.get_child("N", NS)
                .map(read_name)
                .filter(|n| *n != Name::default()),
            nickname: text(v, "NICKNAME"),
            email: typed_values(v, "EMAIL", "USERID"),
            tel: typed_values(v, "TEL", "NUMBER"),
            url: text(v, "URL"),
            org: v.get_child("ORG", NS).and_then(read_org),
            title: text(v, "TITLE"),
            role: text(v, "ROLE"),
            adr: v
                .children()
                .filter(|c| c.is("ADR", NS))
                .map(read_address)
                .filter(|a| !a.parts.is_empty())
                .collect(),
            bday: text(v, "BDAY"),
            note: text(v, "NOTE"),
            desc: text(v, "DESC"),
            jabberid: text(v, "JABBERID"),
            photo: v.get_child("PHOTO", NS).and_then(read_photo),
        }
    }

    /// One `Label: value` line per field that is set, in vCard order.
    pub(crate) fn to_lines(&self) -> Vec<(String, String)> {
        let mut lines = Vec::new();
        let mut push = |label: &str, value: String| lines.push((label.to_owned(), value));
        if let Some(v) = &self.full_name {
            push("Name", v.clone());
        }
        if let Some(n) = &self.n {
            let parts = [&n.prefix, &n.given, &n.middle, &n.family, &n.suffix];
            push(
                "Structured name",
                parts
                    .iter()
                    .filter_map(|p| p.as_deref())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        if let Some(v) = &self.nickname {
            push("Nickname", v.clone());
        }
        for e in &self.email {
            push("Email", with_types(e));
        }
        for t in &self.tel {
            push("Phone", with_types(t));
        }
        if let Some(v) = &self.url {
            push("URL", v.clone());
        }
        if let Some(o) = &self.org {
            let mut all = vec![o.name.clone()];
            all.extend(o.units.iter().cloned());
            push("Organization", all.join(", "));
        }
        for (label, value) in [("Title", &self.title), ("Role", &self.role)] {
            if let Some(v) = value {
                push(label, v.clone());
            }
        }
        for a in &self.adr {
            let joined = ADR_PARTS
                .iter()
                .filter_map(|p| a.parts.get(*p).cloned())
                .collect::<Vec<_>>()
                .join(", ");
            push("Address", with_type_list(joined, &a.types));
        }
        for (label, value) in [
            ("Birthday", &self.bday),
            ("Note", &self.note),
            ("Description", &self.desc),
            ("JID", &self.jabberid),
        ] {
            if let Some(v) = value {
                push(label, v.clone());
            }
        }
        if let Some(p) = &self.photo {
            push("Photo", describe_photo(p));
        }
        lines
    }
}

fn with_types(t: &Typed) -> String {
    with_type_list(t.value.clone(), &t.types)
}

fn with_type_list(value: String, types: &[String]) -> String {
    if types.is_empty() {
        value
    } else {
        format!("{value} ({})", types.join(", ").to_lowercase())
    }
}

fn describe_photo(p: &Photo) -> String {
    match (&p.url, p.bytes) {
        (Some(url), _) => format!("{} at {url}", p.mime_type.as_deref().unwrap_or("image")),
        (None, Some(n)) => format!(
            "{}, {n} bytes",
            p.mime_type.as_deref().unwrap_or("image of unknown type")
        ),
        (None, None) => "present but empty".into(),
    }
}

fn text(v: &Element, name: &str) -> Option<String> {
    v.child_text(name, NS)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn read_name(n: &Element) -> Name {
    Name {
        family: text(n, "FAMILY"),
        given: text(n, "GIVEN"),
        middle: text(n, "MIDDLE"),
        prefix: text(n, "PREFIX"),
        suffix: text(n, "SUFFIX"),
    }
}

fn read_org(o: &Element) -> Option<Org> {
    let name = text(o, "ORGNAME")?;
    let units = o
        .children()
        .filter(|c| c.is("ORGUNIT", NS))
        .map(|c| c.text_content().trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    Some(Org { name, units })
}

fn type_flags(el: &Element) -> Vec<String> {
    el.children()
        .filter(|c| c.ns() == NS && TYPE_FLAGS.contains(&c.name()))
        .map(|c| c.name().to_owned())
        .collect()
}

/// EMAIL/USERID and TEL/NUMBER; XEP-0054 §8 notes some clients put the address as text
/// of EMAIL itself, which is accepted too.
fn typed_values(v: &Element, outer: &str, inner: &str) -> Vec<Typed> {
    v.children()
        .filter(|c| c.is(outer, NS))
        .filter_map(|c| {
            let value = text(c, inner)
                .or_else(|| Some(c.text_content().trim().to_owned()).filter(|t| !t.is_empty()))?;
            Some(Typed {
                value,
                types: type_flags(c),
            })
        })
        .collect()
}

fn read_address(a: &Element) -> Address {
    let parts = ADR_PARTS
        .iter()
        .filter_map(|p| text(a, p).map(|t| ((*p).to_owned(), t)))
        .collect();
    Address {
        parts,
        types: type_flags(a),
    }
}

fn read_photo(p: &Element) -> Option<Photo> {
    let mime_type = text(p, "TYPE");
    if let Some(url) = text(p, "EXTVAL") {
        return Some(Photo {
            mime_type,
            bytes: None,
            url: Some(url),
        });
    }
    // BINVAL may be wrapped over lines (XEP-0054 §8); count the decoded bytes.
    let binval: String = p.child_text("BINVAL", NS)?.split_whitespace().collect();
    let bytes = B64.decode(binval.as_bytes()).ok().map(|b| b.len());
    Some(Photo {
        mime_type,
        bytes,
        url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XEP-0054 §3.1 Example 2 (abridged to the fields xft shows, content as in the XEP).
    const EXAMPLE_2: &str = "<vCard xmlns='vcard-temp'>
        <FN>Peter Saint-Andre</FN>
        <N><FAMILY>Saint-Andre</FAMILY><GIVEN>Peter</GIVEN><MIDDLE/></N>
        <NICKNAME>stpeter</NICKNAME>
        <URL>http://www.xmpp.org/xsf/people/stpeter.shtml</URL>
        <BDAY>1966-08-06</BDAY>
        <ORG><ORGNAME>XMPP Standards Foundation</ORGNAME><ORGUNIT/></ORG>
        <TITLE>Executive Director</TITLE>
        <ROLE>Patron Saint</ROLE>
        <TEL><WORK/><VOICE/><NUMBER>303-308-3282</NUMBER></TEL>
        <TEL><WORK/><FAX/><NUMBER/></TEL>
        <ADR><WORK/><EXTADD>Suite 600</EXTADD><STREET>1899 Wynkoop Street</STREET>
          <LOCALITY>Denver</LOCALITY><REGION>CO</REGION><PCODE>80202</PCODE><CTRY>USA</CTRY></ADR>
        <EMAIL><INTERNET/><PREF/><USERID>stpeter@jabber.org</USERID></EMAIL>
        <JABBERID>stpeter@jabber.org</JABBERID>
        <DESC>More information about me is located on my personal website: http://www.saint-andre.com/</DESC>
      </vCard>";

    fn example() -> Element {
        parse_vcard_xml(EXAMPLE_2).unwrap()
    }

    #[test]
    fn reads_the_xep_example() {
        let view = VCardView::from_element(&example());
        assert_eq!(view.full_name.as_deref(), Some("Peter Saint-Andre"));
        assert_eq!(
            view.n.as_ref().unwrap().family.as_deref(),
            Some("Saint-Andre")
        );
        assert_eq!(view.tel.len(), 1, "the empty FAX number is not shown");
        assert_eq!(view.tel[0].types, ["WORK", "VOICE"]);
        assert_eq!(view.email[0].value, "stpeter@jabber.org");
        assert_eq!(view.adr[0].parts["LOCALITY"], "Denver");
        assert_eq!(view.org.as_ref().unwrap().units.len(), 0);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["fn"], "Peter Saint-Andre");
        assert_eq!(json["adr"][0]["CTRY"], "USA");
        assert!(json.get("photo").is_none());
    }

    #[test]
    fn apply_changes_named_fields_only() {
        let mut v = example();
        apply(
            &mut v,
            &Changes {
                nickname: Some("peter".into()),
                emails: Some(vec!["a@example.org".into(), "b@example.org".into()]),
                note: Some(String::new()),
                photo: Some(("image/png".into(), vec![1, 2, 3])),
                ..Changes::default()
            },
        );
        let view = VCardView::from_element(&v);
        assert_eq!(view.nickname.as_deref(), Some("peter"));
        assert_eq!(view.email.len(), 2);
        assert_eq!(view.full_name.as_deref(), Some("Peter Saint-Andre"));
        assert_eq!(view.title.as_deref(), Some("Executive Director"));
        assert_eq!(view.photo.unwrap().bytes, Some(3));
    }

    #[test]
    fn photo_binval_may_be_wrapped() {
        let v = parse_vcard_xml("<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>AAEC\n  AwQF</BINVAL></PHOTO></vCard>").unwrap();
        assert_eq!(VCardView::from_element(&v).photo.unwrap().bytes, Some(6));
    }

    #[test]
    fn refuses_other_roots_and_sniffs_images() {
        assert!(parse_vcard_xml("<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>").is_err());
        assert_eq!(
            sniff_image_type(b"\x89PNG\r\n\x1a\nxxxx"),
            Some("image/png")
        );
        assert_eq!(sniff_image_type(b"hello"), None);
    }
}
