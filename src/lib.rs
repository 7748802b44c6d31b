pub mod jid;
pub mod sasl;
pub mod session;
pub mod stanza;
pub mod transport;
pub mod xml;
