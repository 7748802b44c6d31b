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
pub use parse::{parse_document, StreamHeader, STREAMS_NS};
pub use writer::{escape_into, stanza_to_string, stream_header};
