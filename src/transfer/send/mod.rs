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
    /// What the recipient's disco#info answer said, when it is asked beside the offer
    /// rather than before it (`None` in the channel until it came).
    pub later: Option<tokio::sync::watch::Receiver<Option<Later>>>,
}

/// What a disco#info answer that comes beside a Jingle offer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Later {
    /// The peer is libervia: the checksum goes in its form.
    pub libervia: bool,
    /// The peer does not say it speaks Jingle: an offer not yet accepted is withdrawn
    /// (the caller chooses again, as it would have before offering).
    pub withdraw: bool,
}

impl SendOptions {
    /// Whether the Jingle checksum goes in libervia's form: known before the offer, or
    /// from the answer that comes beside it (waited for within `--timeout`; it has
    /// nearly always come by the end of the data).
    pub(crate) async fn hex_checksum(&self) -> bool {
        if self.hex_checksum {
            return true;
        }
        let libervia = matches!(self.later_answer().await, Some(later) if later.libervia);
        if libervia {
            tracing::debug!("the peer is Libervia: the checksum goes as base64 of the hex digest");
        }
        libervia
    }

    /// Resolves when the answer beside the offer says to withdraw it; never otherwise.
    pub(crate) async fn withdrawn(&self) {
        if !matches!(self.later_answer().await, Some(later) if later.withdraw) {
            std::future::pending::<()>().await;
        }
    }

    /// The answer beside the offer, waited for within `--timeout`.
    async fn later_answer(&self) -> Option<Later> {
        let mut later = self.later.clone()?;
        let told = tokio::time::timeout(self.timeout, later.wait_for(Option::is_some)).await;
        match told {
            Ok(Ok(said)) => *said,
            _ => None,
        }
    }
}
