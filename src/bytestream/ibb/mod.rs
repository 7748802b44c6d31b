//! In-Band Bytestreams (XEP-0047): base64 blocks in iq stanzas through the server.
//!
//! Knows a peer JID and a session id, nothing about SI or Jingle.
//!
//! * [`IbbSender`] opens with the largest block size the peer accepts (§2.1: a
//!   `resource-constraint` answer means "smaller"), then keeps a bounded window of data
//!   iqs in flight (§2.2: the sender "need not wait for the acknowledgement") and stops
//!   at the first error.
//! * [`inbound::Inbound`] is the receiving side as a pure state machine: it checks every
//!   request (the `seq`, a wrapping u16, §2.2; strict base64, §6; the block size; the
//!   byte budget) and says what it is.
//! * [`receiver`] drives it from a route: its own ([`IbbReceiver`], for SI), or one it
//!   shares with the Jingle session that negotiated it (XEP-0261), so that both are read
//!   in order. It returns the `<close/>` request unanswered, so the caller can verify
//!   the file first and answer with an error if it is not whole.

pub mod inbound;
pub mod receiver;
mod sender;

pub use receiver::{CloseRequest, IbbReceiver};
pub use sender::IbbSender;

use crate::ns::IBB_NS;
use crate::stanza::IqType;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::jid::Jid;
use crate::session::IqError;
use crate::stanza::StanzaError;
use crate::xml::Element;

/// §2.1: "MUST NOT be greater than 65535".
pub const MAX_BLOCK_SIZE: usize = 65535;
/// Bytes that must move in every `--timeout` (see `stall`): one block of the size
/// §5 recommends, whatever block size the peer chose. Not more: the server's rate
/// limit, not the peer, may set the pace (Prosody ships 10 kB/s, ejabberd 3 kB/s).
const FLOOR: u64 = 4096;

/// Why an in-band bytestream failed.
#[derive(Debug, thiserror::Error)]
pub enum IbbError {
    /// §2.1: the `<open/>` got an error.
    #[error("the peer refused to open the in-band bytestream: {0}")]
    OpenRefused(StanzaError),
    /// §2.2: a `<data/>` got an error.
    #[error("the peer refused block {seq}: {error}")]
    DataRefused {
        /// The block.
        seq: u16,
        /// The peer's error.
        error: StanzaError,
    },
    /// The peer answered our `<close/>` with an error: it did not get the whole file.
    #[error("the receiver reported a problem when the stream closed: {0}")]
    CloseRefused(StanzaError),
    /// An iq got no answer, or the connection went.
    #[error("{0}")]
    Iq(IqError),
    /// §2.2: out-of-sequence data "MUST NOT" be processed; the stream is closed.
    #[error("block {got} arrived where block {expected} was due (XEP-0047 §2.2)")]
    SeqGap {
        /// The sequence number due.
        expected: u64,
        /// The one that came (0 when it was no number).
        got: u64,
    },
    /// A block larger than the block size agreed in `<open/>`.
    #[error("block {seq} holds {got} bytes, more than the negotiated block size {limit}")]
    BlockTooLarge {
        /// The block.
        seq: u64,
        /// Its decoded size.
        got: usize,
        /// The block size.
        limit: usize,
    },
    /// §6: "MUST reject (not ignore) any characters not explicitly allowed".
    #[error("block {seq} is not valid base64")]
    BadBase64 {
        /// The block.
        seq: u64,
    },
    /// More bytes than the offer's size.
    #[error("the peer sent more than the {limit} bytes it offered")]
    TooMuchData {
        /// The offered size.
        limit: u64,
    },
    /// §2.1: `block-size` is not a number in range.
    #[error("the peer asked for block size '{0}', which is not in 1..=65535")]
    BadBlockSize(String),
    /// §2.1 `stanza='message'`, which xft does not accept (no acknowledgements).
    #[error("the peer wants to send data in message stanzas; xft accepts iq stanzas only")]
    MessageMode,
    /// No `<open/>` in time.
    #[error("the peer did not open the in-band bytestream within {} s", .0.as_secs())]
    NoOpen(Duration),
    /// Fewer than 4 KiB moved (blocks received, or acknowledged) in `--timeout`.
    #[error("no data moved for {} s (or only a trickle); giving up", .0.as_secs())]
    Stalled(Duration),
    /// §2.3: `<close/>` before the whole file.
    #[error("the peer closed the bytestream")]
    PeerClosed,
    /// The peer's unavailable presence came.
    #[error("the peer went offline")]
    PeerGone,
    /// The file had fewer bytes than announced.
    #[error("the file ended after {read} of {expected} bytes (did it shrink while being sent?)")]
    SourceShort {
        /// Bytes read.
        read: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// Reading the file failed.
    #[error("reading the file: {0}")]
    Read(std::io::Error),
    /// Writing the file failed.
    #[error("writing the file: {0}")]
    Write(std::io::Error),
    /// The connection closed.
    #[error("the connection to the server was lost")]
    Disconnected,
}

fn iq_error(e: IqError, on_stanza: impl FnOnce(StanzaError) -> IbbError) -> IbbError {
    match e {
        IqError::Stanza(se) => on_stanza(se),
        other => IbbError::Iq(other),
    }
}

/// IBB requests for this session from this peer, or the peer's unavailable presence.
fn is_for_session(el: &Element, peer: &Jid, sid: &str) -> bool {
    super::claims(el, peer, |el| {
        IqType::of(el) == Some(IqType::Set)
            && el
                .children()
                .next()
                .is_some_and(|c| c.ns() == IBB_NS && c.get_attr("sid") == Some(sid))
    })
}

/// §6: RFC 4648 base64 with padding; XML whitespace (line wrapping, as in the XEP's own
/// Example 7) is allowed, any other character is an error.
pub fn decode_block(text: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    B64.decode(compact).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ns::CLIENT_NS;

    #[test]
    fn decodes_wrapped_base64_and_refuses_junk() {
        // XEP-0047 §2.2 Example 7 wraps its base64 over lines.
        assert_eq!(
            decode_block("aGVs\n  bG8=\n").as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(decode_block("").as_deref(), Some(&b""[..]));
        assert!(decode_block("aGVsbG8").is_none(), "missing padding");
        assert!(decode_block("aGVs*bG8=").is_none());
        assert!(decode_block("aGVsbG8=aGVs").is_none(), "data after padding");
    }

    #[test]
    fn route_filter_matches_sid_and_peer_only() {
        let peer = Jid::parse("romeo@montague.example/orchard").unwrap();
        // XEP-0047 §2.2 Example 5, with `from` as the server stamps it.
        let data = |from: &str, sid: &str| {
            Element::new("iq", CLIENT_NS)
                .attr("from", from)
                .attr("type", "set")
                .attr("id", "kr91n475")
                .child(
                    Element::new("data", IBB_NS)
                        .attr("seq", "0")
                        .attr("sid", sid)
                        .text("qANQ"),
                )
        };
        assert!(is_for_session(
            &data("romeo@montague.example/orchard", "i781hf64"),
            &peer,
            "i781hf64"
        ));
        assert!(!is_for_session(
            &data("romeo@montague.example/other", "i781hf64"),
            &peer,
            "i781hf64"
        ));
        assert!(!is_for_session(
            &data("romeo@montague.example/orchard", "zzz"),
            &peer,
            "i781hf64"
        ));
        let gone = Element::new("presence", CLIENT_NS)
            .attr("from", "romeo@montague.example/orchard")
            .attr("type", "unavailable");
        assert!(is_for_session(&gone, &peer, "i781hf64"));
    }
}
