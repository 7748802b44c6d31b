//! Entity capabilities (XEP-0115): the `<c/>` a client puts in its presence, whose
//! `ver` is a hash of its disco#info answer (identities, features, extension forms).
//! Two resources announcing the same `ver` run the same software with the same
//! features, so a disco#info answer checked against its `ver` once can stand in for
//! the round trip to any later resource announcing it (`transfer::known_clients`).
//!
//! Only SHA-1 `ver`s are read: the hash every client sends (XEP-0115 §8.1 makes it
//! mandatory); others are treated as no caps at all (§5.4 step 2: ask every time).

use base64::Engine as _;
use sha1::{Digest, Sha1};

pub use crate::ns::CAPS_NS;
use crate::ns::{DATA_FORMS_NS, DISCO_INFO_NS};
use crate::xml::Element;

/// Our `node` (XEP-0115 §4: a URI naming the software).
pub const NODE: &str = "urn:xmpp:xft";

/// The longest `ver` taken from a presence (a SHA-1 in base64 is 28 characters).
const MAX_VER: usize = 64;

/// The `ver` a presence announces with SHA-1 (§5.4 steps 1-2), if any.
pub fn announced(presence: &Element) -> Option<String> {
    let c = presence.get_child("c", CAPS_NS)?;
    if c.get_attr("hash")? != "sha-1" {
        return None;
    }
    let ver = c.get_attr("ver")?;
    (!ver.is_empty() && ver.len() <= MAX_VER).then(|| ver.to_owned())
}

/// The `<c/>` for our own presence, announcing `ver` (§6.1).
pub fn element(ver: &str) -> Element {
    Element::new("c", CAPS_NS)
        .attr("hash", "sha-1")
        .attr("node", NODE)
        .attr("ver", ver)
}

/// Our own disco#info answer (XEP-0030 §3.1) listing `features`, with the `node` asked
/// about echoed (XEP-0115 §6.2 asks `NODE#ver`). It is here because our `ver` is its hash:
/// the session answers with it and our presence announces [`own_ver`] of it.
pub fn own_query(features: &[String], node: Option<&str>) -> Element {
    let mut query = Element::new("query", DISCO_INFO_NS).attr_opt("node", node);
    query.push_child(
        Element::new("identity", DISCO_INFO_NS)
            .attr("category", "client")
            .attr("type", "pc")
            .attr("name", "xft"),
    );
    for feature in features {
        query.push_child(Element::new("feature", DISCO_INFO_NS).attr("var", feature.as_str()));
    }
    query
}

/// The `ver` of [`own_query`] for `features`.
pub fn own_ver(features: &[String]) -> String {
    ver_of(&own_query(features, None)).unwrap_or_default()
}

/// The SHA-1 `ver` of a disco#info `<query/>` (§5.1), or `None` when §5.4 calls the
/// answer ill-formed (an identity, a feature or a form's FORM_TYPE given twice, or a
/// FORM_TYPE with differing values): such an answer is never remembered.
pub fn ver_of(query: &Element) -> Option<String> {
    let text = verification_string(query)?;
    let digest = Sha1::digest(text.as_bytes());
    Some(base64::engine::general_purpose::STANDARD.encode(digest))
}

/// §5.1 steps 1-8: the string that is hashed.
fn verification_string(query: &Element) -> Option<String> {
    if !query.is("query", DISCO_INFO_NS) {
        return None;
    }
    let mut identities: Vec<[&str; 4]> = query
        .children()
        .filter(|c| c.is("identity", DISCO_INFO_NS))
        .map(|i| {
            let attr = |name| i.get_attr(name).unwrap_or_default();
            [
                attr("category"),
                attr("type"),
                attr("xml:lang"),
                attr("name"),
            ]
        })
        .collect();
    let mut features: Vec<&str> = query
        .children()
        .filter(|c| c.is("feature", DISCO_INFO_NS))
        .filter_map(|f| f.get_attr("var"))
        .collect();
    let mut forms = Vec::new();
    for x in query.children().filter(|c| c.is("x", DATA_FORMS_NS)) {
        if let Some(form) = form_text(x)? {
            forms.push(form);
        }
    }
    identities.sort_unstable();
    features.sort_unstable();
    forms.sort_unstable();
    let repeated = identities.windows(2).any(|w| w[0] == w[1])
        || features.windows(2).any(|w| w[0] == w[1])
        || forms.windows(2).any(|w| w[0].0 == w[1].0);
    if repeated {
        return None;
    }
    let mut s = String::new();
    for identity in identities {
        s.push_str(&identity.join("/"));
        s.push('<');
    }
    for feature in features {
        s.push_str(feature);
        s.push('<');
    }
    for (_, text) in forms {
        s.push_str(&text);
    }
    Some(s)
}

/// One extension form's `(FORM_TYPE, its part of the string)` (§5.1 step 7);
/// `Some(None)` for a form that is ignored (no hidden FORM_TYPE, §5.4 step 3.6), `None`
/// for one that makes the answer ill-formed (FORM_TYPE values that differ, step 3.5).
fn form_text(x: &Element) -> Option<Option<(String, String)>> {
    let fields: Vec<(&str, Option<&str>, Vec<String>)> = x
        .children()
        .filter(|c| c.is("field", DATA_FORMS_NS))
        .map(|f| {
            let values = f
                .children()
                .filter(|v| v.is("value", DATA_FORMS_NS))
                .map(Element::text_content)
                .collect();
            (
                f.get_attr("var").unwrap_or_default(),
                f.get_attr("type"),
                values,
            )
        })
        .collect();
    let Some((_, kind, type_values)) = fields.iter().find(|(var, _, _)| *var == "FORM_TYPE") else {
        return Some(None);
    };
    if *kind != Some("hidden") {
        return Some(None);
    }
    let form_type = type_values.first()?.clone();
    if type_values.iter().any(|v| *v != form_type) {
        return None;
    }
    let mut others: Vec<&(&str, Option<&str>, Vec<String>)> = fields
        .iter()
        .filter(|(var, _, _)| *var != "FORM_TYPE")
        .collect();
    others.sort_by(|a, b| a.0.cmp(b.0));
    let mut text = format!("{form_type}<");
    for (var, _, values) in others {
        text.push_str(var);
        text.push('<');
        let mut values = values.clone();
        values.sort_unstable();
        for value in values {
            text.push_str(&value);
            text.push('<');
        }
    }
    Some(Some((form_type, text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// XEP-0115 §5.2: Exodus, one identity and four features.
    #[test]
    fn simple_generation_example() {
        let query = parse_document(
            "<query xmlns='http://jabber.org/protocol/disco#info'>
               <identity category='client' type='pc' name='Exodus 0.9.1'/>
               <feature var='http://jabber.org/protocol/muc'/>
               <feature var='http://jabber.org/protocol/disco#info'/>
               <feature var='http://jabber.org/protocol/disco#items'/>
               <feature var='http://jabber.org/protocol/caps'/>
             </query>",
        )
        .unwrap();
        assert_eq!(
            ver_of(&query).as_deref(),
            Some("QgayPKawpkPSDYmwT/WM94uAlu0=")
        );
    }

    /// XEP-0115 §5.3: Psi, two identities in two languages and a software form.
    #[test]
    fn complex_generation_example() {
        let query = parse_document(COMPLEX).unwrap();
        assert_eq!(
            ver_of(&query).as_deref(),
            Some("q07IKJEyjvHSyhy//CH0CxmKi8w=")
        );
    }

    const COMPLEX: &str = "<query xmlns='http://jabber.org/protocol/disco#info'
         node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
    <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
    <identity xml:lang='el' category='client' name='\u{3a8} 0.11' type='pc'/>
    <feature var='http://jabber.org/protocol/caps'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='http://jabber.org/protocol/muc'/>
    <x xmlns='jabber:x:data' type='result'>
      <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
      <field var='ip_version' type='text-multi' ><value>ipv4</value><value>ipv6</value></field>
      <field var='os'><value>Mac</value></field>
      <field var='os_version'><value>10.5.1</value></field>
      <field var='software'><value>Psi</value></field>
      <field var='software_version'><value>0.11</value></field>
    </x>
  </query>";

    /// §5.4: a feature or an identity given twice, or two forms of one FORM_TYPE, make
    /// the answer ill-formed; a form without a hidden FORM_TYPE is left out.
    #[test]
    fn ill_formed_answers_have_no_ver() {
        let twice = COMPLEX.replace(
            "<feature var='http://jabber.org/protocol/muc'/>",
            "<feature var='http://jabber.org/protocol/muc'/><feature var='http://jabber.org/protocol/muc'/>",
        );
        assert_eq!(ver_of(&parse_document(&twice).unwrap()), None);
        let identity = COMPLEX.replace(
            "<feature var='http://jabber.org/protocol/caps'/>",
            "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/><feature var='http://jabber.org/protocol/caps'/>",
        );
        assert_eq!(ver_of(&parse_document(&identity).unwrap()), None);
        let form_start = COMPLEX.find("<x ").unwrap();
        let form_end = COMPLEX.find("</x>").unwrap() + 4;
        let form = &COMPLEX[form_start..form_end];
        let two_forms = COMPLEX.replace(form, &format!("{form}{form}"));
        assert_eq!(ver_of(&parse_document(&two_forms).unwrap()), None);
        let shown = COMPLEX.replace("var='FORM_TYPE' type='hidden'", "var='FORM_TYPE'");
        let without_form = format!("{}{}", &COMPLEX[..form_start], &COMPLEX[form_end..]);
        assert_eq!(
            ver_of(&parse_document(&shown).unwrap()),
            ver_of(&parse_document(&without_form).unwrap()),
            "a form whose FORM_TYPE is not hidden is ignored"
        );
    }

    /// What our presence announces is the hash of what our session answers.
    #[test]
    fn own_ver_matches_own_answer() {
        let features = crate::disco::client_features();
        let answer = own_query(&features, Some("urn:xmpp:xft#x"));
        assert_eq!(ver_of(&answer).unwrap(), own_ver(&features));
        assert!(features.iter().any(|f| f == CAPS_NS));
    }

    /// A presence's SHA-1 caps are read; another hash, none, or an oversized `ver` are not.
    #[test]
    fn reads_announced_caps() {
        let presence = |c: Element| Element::new("presence", crate::ns::CLIENT_NS).child(c);
        let ver = "QgayPKawpkPSDYmwT/WM94uAlu0=";
        assert_eq!(announced(&presence(element(ver))).as_deref(), Some(ver));
        let sha256 = element(ver).attr("hash", "sha-256");
        assert_eq!(announced(&presence(sha256)), None);
        let legacy = Element::new("c", CAPS_NS).attr("ver", "1.0");
        assert_eq!(announced(&presence(legacy)), None);
        assert_eq!(announced(&presence(element(&"A".repeat(65)))), None);
    }
}
