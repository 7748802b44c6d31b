//! Serializing elements and the stream header (RFC 6120 §4.7, §4.8).
//!
//! An element declares `xmlns` only where its namespace differs from its parent's,
//! so stanzas in `jabber:client` go out without a redundant declaration.

use super::element::{Element, Node};

/// Appends `el` to `out`; `parent_ns` is the namespace in scope (None = none declared).
pub fn write_element(out: &mut String, el: &Element, parent_ns: Option<&str>) {
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

/// Escapes character data or an attribute value.
pub fn escape_into(out: &mut String, s: &str, attribute: bool) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' if attribute => out.push_str("&apos;"),
            '"' if attribute => out.push_str("&quot;"),
            _ => out.push(c),
        }
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
    fn escapes_text() {
        let m = Element::new("body", "jabber:client").text("a<b & c>d");
        assert_eq!(
            stanza_to_string(&m, "jabber:client"),
            "<body>a&lt;b &amp; c&gt;d</body>"
        );
    }
}
