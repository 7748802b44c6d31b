//! Bytestreams: ways to move bytes between two XMPP entities, negotiated by SI today and
//! by Jingle later. Nothing here depends on SI: a bytestream needs a peer JID and a
//! session id, and offers "send these bytes" / "receive into this writer" (IBB) or a
//! connected socket (S5B).

pub mod ibb;
pub mod s5b;
pub mod socks5;
