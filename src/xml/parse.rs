//! Turning the bytes of one complete element into an [`Element`] (RFC 6120 §4.8, §11).
//!
//! quick-xml tokenizes; namespace resolution is done here against the scope the stream
//! header declared, because a stanza is parsed on its own, outside the stream document.

use crate::ns::STREAMS_NS;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::element::Element;
use super::error::XmlError;

/// Namespace declarations in force: `(prefix, namespace)`, `None` prefix = default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NsScope {
    decls: Vec<(Option<String>, String)>,
}

impl NsScope {
    fn resolve(&self, prefix: Option<&str>) -> Option<&str> {
        if prefix == Some("xml") {
            return Some("http://www.w3.org/XML/1998/namespace");
        }
        self.decls
            .iter()
            .rev()
            .find(|(p, _)| p.as_deref() == prefix)
            .map(|(_, ns)| ns.as_str())
    }
}

/// The attributes of the peer's `<stream:stream>` (RFC 6120 §4.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHeader {
    /// The stream id (RFC 6120 §4.7.3).
    pub id: Option<String>,
    /// The server's domain.
    pub from: Option<String>,
    /// "1.0" for a server that supports stream features.
    pub version: Option<String>,
    /// The namespace declarations in force for the stanzas that follow.
    pub scope: NsScope,
}

/// Parses the opening stream tag (bytes from `<` to `>`).
pub(super) fn parse_stream_header(tag: &[u8]) -> Result<StreamHeader, XmlError> {
    let text = std::str::from_utf8(tag).map_err(|_| XmlError::Encoding)?;
    check_chars(tag)?;
    let mut reader = Reader::from_str(text);
    let start = match reader.read_event().map_err(malformed)? {
        Event::Start(s) => s,
        _ => return Err(XmlError::NotAStream),
    };
    let mut scope = NsScope::default();
    let (name, attrs) = split_attributes(&start, &mut scope)?;
    let (prefix, local) = split_qname(&name);
    if local != "stream" || scope.resolve(prefix) != Some(STREAMS_NS) {
        return Err(XmlError::NotAStream);
    }
    let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Ok(StreamHeader {
        id: get("id"),
        from: get("from"),
        version: get("version"),
        scope,
    })
}

/// Parses one complete element, resolving prefixes against `outer` first.
pub(super) fn parse_fragment(bytes: &[u8], outer: &NsScope) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::Encoding)?;
    check_chars(bytes)?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<(Element, usize)> = Vec::new();
    let mut scope = outer.clone();
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::Start(start) => {
                if stack.len() >= super::MAX_DEPTH {
                    return Err(XmlError::TooDeep {
                        limit: super::MAX_DEPTH,
                    });
                }
                let mark = scope.decls.len();
                let el = open_element(&start, &mut scope)?;
                stack.push((el, mark));
            }
            Event::Empty(start) => {
                let mark = scope.decls.len();
                let el = open_element(&start, &mut scope)?;
                scope.decls.truncate(mark);
                if let Some(done) = attach(&mut stack, el) {
                    return Ok(done);
                }
            }
            Event::End(_) => {
                let (el, mark) = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                scope.decls.truncate(mark);
                if let Some(done) = attach(&mut stack, el) {
                    return Ok(done);
                }
            }
            Event::Text(t) => append_text(&mut stack, &t.xml10_content())?,
            Event::CData(t) => append_text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let c = resolve_reference(&r)?;
                append_text(&mut stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::Comment(_) => return Err(XmlError::Comment),
            Event::PI(_) | Event::Decl(_) => return Err(XmlError::ProcessingInstruction),
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Eof => return Err(malformed("element ends early")),
        }
    }
}

/// XML 1.0 §2.2 `Char`, on UTF-8 that is already valid: refuses the C0 controls other
/// than tab, LF and CR, and U+FFFE/U+FFFF (surrogates cannot occur in valid UTF-8).
/// quick-xml passes them through, and our writer would not write them back.
fn check_chars(bytes: &[u8]) -> Result<(), XmlError> {
    if let Some(&b) = bytes
        .iter()
        .find(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Err(XmlError::InvalidChar(u32::from(b)));
    }
    let mut at = 0;
    while let Some(i) = memchr::memchr(0xEF, &bytes[at..]) {
        let i = at + i;
        if let [0xBF, last @ (0xBE | 0xBF)] = bytes.get(i + 1..i + 3).unwrap_or_default() {
            return Err(XmlError::InvalidChar(0xFFFE + u32::from(*last - 0xBE)));
        }
        at = i + 1;
    }
    Ok(())
}

/// Adds a finished element to its parent; returns it when it was the root.
fn attach(stack: &mut [(Element, usize)], el: Element) -> Option<Element> {
    match stack.last_mut() {
        Some((parent, _)) => {
            parent.push_child(el);
            None
        }
        None => Some(el),
    }
}

fn append_text(stack: &mut [(Element, usize)], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some((parent, _)) => {
            parent.append_text(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Junk),
    }
}

/// RFC 6120 §11.1: the predefined entities and character references only.
fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<char, XmlError> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .ok()
            .flatten()
            .filter(|c| super::writer::is_xml_char(*c))
            .ok_or_else(|| malformed("character reference to a character XML forbids"));
    }
    let name = r.xml10_content();
    match &*name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(XmlError::UnknownEntity(other.chars().take(64).collect())),
    }
}

fn open_element(start: &BytesStart<'_>, scope: &mut NsScope) -> Result<Element, XmlError> {
    let (name, attrs) = split_attributes(start, scope)?;
    let (prefix, local) = split_qname(&name);
    let ns = scope
        .resolve(prefix)
        .ok_or_else(|| XmlError::UnknownPrefix(prefix.unwrap_or("").to_owned()))?;
    let mut el = Element::new(local, ns);
    for (k, v) in attrs {
        el.set_attr(k, v);
    }
    Ok(el)
}

/// Reads a start tag: namespace declarations go into `scope`, the rest is returned.
fn split_attributes(
    start: &BytesStart<'_>,
    scope: &mut NsScope,
) -> Result<(String, Vec<(String, String)>), XmlError> {
    let name = start.name().0.to_owned();
    check_name(&name)?;
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(malformed)?;
        let key = attr.key.0;
        check_name(key)?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(attribute_error)?
            .into_owned();
        // A character reference in an attribute (`&#1;`) is resolved by quick-xml
        // without XML's Char check; the `framer` fuzz body found it.
        if let Some(c) = value.chars().find(|c| !super::writer::is_xml_char(*c)) {
            return Err(XmlError::InvalidChar(u32::from(c)));
        }
        if key == "xmlns" {
            scope.decls.push((None, value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            scope.decls.push((Some(prefix.to_owned()), value));
        } else {
            attrs.push((key.to_owned(), value));
        }
    }
    Ok((name, attrs))
}

/// XML 1.0 §2.3 `Name`, in the ASCII range (anything beyond it is accepted as a name
/// character): quick-xml takes `m<ime` as an attribute name, which we could not write
/// back (found by the `stanzas` fuzz body).
/// Namespaces in XML §3 `QName` too: at most one colon, with a name on each side (the
/// `framer` fuzz body found `<stream: .../>`, an element with an empty local name).
fn check_name(name: &str) -> Result<(), XmlError> {
    let start_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
    let rest_ok = |c: char| start_ok(c) || c.is_ascii_digit() || c == '-' || c == '.';
    let ncname = |part: &str| {
        let mut chars = part.chars();
        chars.next().is_some_and(start_ok) && chars.all(rest_ok)
    };
    let valid = match name.split_once(':') {
        Some((prefix, local)) => ncname(prefix) && ncname(local),
        None => ncname(name),
    };
    if valid {
        Ok(())
    } else {
        Err(XmlError::Malformed(format!(
            "'{}' is not an XML name",
            name.chars().take(40).collect::<String>()
        )))
    }
}

fn split_qname(name: &str) -> (Option<&str>, &str) {
    match name.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, name),
    }
}

fn attribute_error(e: quick_xml::Error) -> XmlError {
    if let quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) =
        &e
    {
        return XmlError::UnknownEntity(name.chars().take(64).collect());
    }
    malformed(e)
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(e.to_string())
}

/// Parses a standalone document (a file the user gave): an optional XML declaration,
/// then one root element, under the same restrictions as the stream.
pub fn parse_document(text: &str) -> Result<Element, XmlError> {
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    if rest.starts_with("<?xml") {
        let end = rest
            .find("?>")
            .ok_or_else(|| malformed("unterminated XML declaration"))?;
        rest = rest[end + 2..].trim_start();
    }
    let rest = rest.trim_end();
    parse_fragment(rest.as_bytes(), &NsScope::default())
}
