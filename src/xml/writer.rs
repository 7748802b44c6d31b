//! Serializing elements and the stream header (RFC 6120 §4.7, §4.8).
//!
//! An element declares `xmlns` only where its namespace differs from its parent's,
//! so stanzas in `jabber:client` go out without a redundant declaration.

use super::element::{Element, Node};

/// Appends `el` to `out`; `parent_ns` is the namespace in scope (None = none declared).
pub(super) fn write_element(out: &mut String, el: &Element, parent_ns: Option<&str>) {
    out.push('<');
    out.push_str(el.name());
    if parent_ns != Some(el.ns()) {
        out.push_str(" xmlns='");
        escape_into(out, el.ns(), true);
        out.push('\'');
    }
    for (name, value) in el.attrs() {
        out.push(' ');
        out.push_str(name);
        out.push_str("='");
        escape_into(out, value, true);
        out.push('\'');
    }
    if el.nodes().is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for node in el.nodes() {
        match node {
            Node::Element(child) => write_element(out, child, Some(el.ns())),
            Node::Text(text) => escape_into(out, text, false),
        }
    }
    out.push_str("</");
    out.push_str(el.name());
    out.push('>');
}

/// Serializes a stanza inside a stream whose default namespace is `stream_ns`.
pub fn stanza_to_string(el: &Element, stream_ns: &str) -> String {
    let mut out = String::with_capacity(256);
    write_element(&mut out, el, Some(stream_ns));
    out
}

/// The opening `<stream:stream>` tag a client sends (RFC 6120 §4.7).
pub fn stream_header(to: &str, from: Option<&str>) -> String {
    let mut out = String::from("<?xml version='1.0'?><stream:stream to='");
    escape_into(&mut out, to, true);
    out.push('\'');
    if let Some(from) = from {
        out.push_str(" from='");
        escape_into(&mut out, from, true);
        out.push('\'');
    }
    out.push_str(
        " version='1.0' xml:lang='en' xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams'>",
    );
    out
}

/// Escapes character data or an attribute value. Characters XML 1.0 cannot carry
/// (most C0 controls) become U+FFFD: a peer would close the stream over them
/// (RFC 6120 §11.1, `not-well-formed`). In attributes, tab and line breaks are written
/// as character references so attribute-value normalisation keeps them.
pub fn escape_into(out: &mut String, s: &str, attribute: bool) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' if attribute => out.push_str("&apos;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
}

/// XML 1.0 `Char` production (§2.2).
pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

impl Element {
    /// Serializes the element as a standalone fragment (namespace declared on the root).
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        write_element(&mut out, self, None);
        out
    }
}

impl std::fmt::Display for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_xml())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_namespace_only_when_it_changes() {
        let iq = Element::new("iq", "jabber:client")
            .attr("id", "a'b")
            .child(Element::new("ping", "urn:xmpp:ping"));
        assert_eq!(
            stanza_to_string(&iq, "jabber:client"),
            "<iq id='a&apos;b'><ping xmlns='urn:xmpp:ping'/></iq>"
        );
    }

    #[test]
    fn never_writes_invalid_xml_characters() {
        let m = Element::new("file", "x")
            .attr("name", "a\u{1}b\tc\nd")
            .text("e\u{0}f");
        assert_eq!(
            stanza_to_string(&m, "x"),
            "<file name='a\u{FFFD}b&#9;c&#10;d'>e\u{FFFD}f</file>"
        );
    }

    #[test]
    fn escapes_text() {
        let m = Element::new("body", "jabber:client").text("a<b & c>d");
        assert_eq!(
            stanza_to_string(&m, "jabber:client"),
            "<body>a&lt;b &amp; c&gt;d</body>"
        );
    }
}
