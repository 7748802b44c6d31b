//! Errors of the XML layer, grouped by cause (RFC 6120 §4.9.3, §11).

/// Why the peer's XML was refused.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// RFC 6120 §11.1: "MUST NOT contain ... internal or external DTD subsets".
    #[error("peer sent a DTD, which XMPP forbids")]
    Doctype,
    /// RFC 6120 §11.1: comments are not allowed.
    #[error("peer sent an XML comment, which XMPP forbids")]
    Comment,
    /// RFC 6120 §11.1: processing instructions are not allowed.
    #[error("peer sent a processing instruction, which XMPP forbids")]
    ProcessingInstruction,
    /// RFC 6120 §11.1: only the five predefined entities and character references.
    #[error("peer used the undeclared entity &{0};")]
    UnknownEntity(String),
    /// A prefix no enclosing element declared (Namespaces in XML §5).
    #[error("peer used the undeclared namespace prefix '{0}'")]
    UnknownPrefix(String),
    /// Text or garbage where only elements (or whitespace) may be.
    #[error("peer sent bytes that are not XML markup between stanzas")]
    Junk,
    /// RFC 6120 §11.1 (XML 1.0 §2.2): a character XML does not allow, such as a C0
    /// control other than tab, line feed and carriage return.
    #[error("peer sent a character that XML does not allow (U+{0:04X})")]
    InvalidChar(u32),
    /// RFC 6120 §11.6: UTF-8 only.
    #[error("peer sent bytes that are not UTF-8")]
    Encoding,
    /// Nesting deeper than [`MAX_DEPTH`](super::MAX_DEPTH): no stanza xft knows needs
    /// it, and tree code (drop, serialise, log) must not recurse on the peer's say-so.
    #[error("peer nested elements deeper than the limit of {limit} levels")]
    TooDeep {
        /// The depth allowed.
        limit: usize,
    },
    /// A first-level element over the byte limit (a bounded buffer, not a grown one).
    #[error("peer sent an element larger than the {limit}-byte limit")]
    StanzaTooLarge {
        /// The bytes allowed.
        limit: usize,
    },
    /// Not well-formed (the parser's reason).
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// The first element was not the stream header (RFC 6120 §4.2).
    #[error("the stream did not open with <stream:stream>")]
    NotAStream,
}
