//! One file over Jingle file transfer (XEP-0234 over XEP-0166), both roles.
//!
//! * [`session`]: a Jingle session as a value (its route, its state, what it kept),
//!   around the pure state machine of [`crate::jingle`];
//! * [`negotiation`]: the XEP-0260 SOCKS5 candidate negotiation, once for both roles;
//! * [`data`]: the data phase over the nominated socket or in-band (XEP-0261), hashed
//!   as it goes;
//!
//! The two roles are front-ends of their sides: `send::jingle` (the initiator: offer,
//! transport, data, checksum, XEP-0234 §8.2) and `receive::jingle` (the responder:
//! accept, data, verify, rename).
//!
//! Every wait takes its bound from `--timeout`, and a peer that stops costs one of
//! them: requests that need no answer before the next step are not waited for.

pub(crate) mod data;
pub(crate) mod negotiation;
pub(crate) mod session;

use crate::hash::Algorithm;
use crate::ns::JINGLE_NS;
use crate::stanza::{self, IqType};
use crate::xml::Element;

/// The `method` of reports: Jingle with the in-band transport.
pub(crate) const METHOD_IBB: &str = "jingle-ibb";
/// The `method` of reports: Jingle with the SOCKS5 transport.
pub(crate) const METHOD_S5B: &str = "jingle-s5b";
/// What the sender hashes with (XEP-0234 §8.2 `<hash-used/>`).
pub(crate) const SENDER_HASH: Algorithm = Algorithm::Sha256;
/// The content name of xft's offers.
pub(crate) const CONTENT_NAME: &str = "a-file-offer";

/// True for a Jingle session-initiate request.
pub(crate) fn is_offer(stanza: &Element) -> bool {
    stanza::is_iq_request(stanza, IqType::Set, "jingle", JINGLE_NS)
        && stanza
            .get_child("jingle", JINGLE_NS)
            .and_then(|j| j.get_attr("action"))
            == Some("session-initiate")
}

/// Jingle requests that are not offers, outside any session of ours.
pub(crate) fn is_jingle_request(stanza: &Element) -> bool {
    stanza::is_iq_request(stanza, IqType::Set, "jingle", JINGLE_NS)
}
