pub mod bytestream;
pub mod cli;
pub mod disco;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod jid;
pub mod roster;
pub mod sasl;
pub mod session;
pub mod si;
pub mod stanza;
pub mod text;
pub mod transfer;
pub mod transport;
pub mod vcard;
pub mod xml;
