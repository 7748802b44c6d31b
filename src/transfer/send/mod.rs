//! Sending one file, by each way xft knows: SI ([`si`], XEP-0096), Jingle ([`jingle`],
//! XEP-0234) and HTTP upload ([`upload`], XEP-0363). `transfer::policy` decides which.

pub(crate) mod jingle;
pub(crate) mod si;
pub(crate) mod upload;

use std::time::Duration;

use crate::bytestream::StreamMethod;

/// How to send.
#[derive(Debug, Clone)]
pub(crate) struct SendOptions {
    /// Stream methods to offer, in order of preference.
    pub methods: Vec<StreamMethod>,
    pub desc: Option<String>,
    /// IBB block size to ask for (XEP-0047 §2.1).
    pub block_size: usize,
    /// IBB blocks in flight before waiting for an acknowledgement.
    pub window: usize,
    /// How long the recipient may take to accept the offer.
    pub offer_timeout: Duration,
    /// How long any single protocol step may take.
    pub timeout: Duration,
    pub s5b: crate::bytestream::s5b::offer::S5bOptions,
    /// Let the receiver verify the file: a Jingle sender announces SHA-256 and sends
    /// the checksum after the data (`--no-hash` turns it off; SI's MD5 is computed by
    /// the caller, into the source).
    pub verify: bool,
    /// Send the Jingle checksum as libervia reads it: base64 of the lowercase hex
    /// digest, not of the digest (libervia 0.9 cannot parse the standard form,
    /// does not answer the session-info, and ends the session unverified 5 s later).
    pub hex_checksum: bool,
}
