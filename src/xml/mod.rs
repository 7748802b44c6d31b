//! XML for XMPP: an owned element tree, an incremental framer that turns the peer's
//! byte stream into whole stanzas, and a writer (RFC 6120 §4, §11).

mod element;
mod error;
mod framer;
mod parse;
mod writer;

pub use element::{Element, Node};
pub use error::XmlError;
pub use framer::{Frame, Framer};
pub use parse::{parse_document, StreamHeader};
pub use writer::{escape_into, stanza_to_string, stream_header};

/// Deepest element nesting accepted from a peer, counting the stanza itself as 1.
/// The deepest stanza xft reads (a data form inside SI inside an iq) has 6 levels;
/// Prosody lets 36,000 through, enough to overflow the stack of recursive tree code.
pub const MAX_DEPTH: usize = 32;
