//! End-to-end encryption with OMEMO as the clients people use speak it: the legacy
//! namespace `eu.siacs.conversations.axolotl` (XEP-0384 version 0.3), which is the
//! Signal protocol's v3 wire format over PEP.
//!
//! The layers, bottom up, each pure (keys and randomness come in as arguments):
//! - `keys`: Curve25519 keys, their 0x05-prefixed wire form and fingerprints;
//!   `xeddsa`: signatures with those keys;
//! - `kdf`: Signal v3's HKDF/HMAC derivations; `wire`: `WhisperMessage` and
//!   `PreKeyWhisperMessage` (protobuf);
//! - `x3dh`: session agreement from a bundle; `ratchet`: the Double Ratchet, one
//!   session per peer device, decryption that changes nothing unless the message is
//!   authentic.
//!
//! `urn:xmpp:omemo:2` would sit beside these as its own wire and element layers; the
//! key types, X3DH and the ratchet's shape carry over.

pub mod account;
pub mod element;
pub mod identity;
pub mod kdf;
pub mod keys;
pub mod pep;
pub mod ratchet;
pub mod store;
pub mod trust;
pub mod wire;
pub mod x3dh;
pub mod xeddsa;

/// The legacy OMEMO namespace (XEP-0384 v0.3 §7).
pub const NS: &str = "eu.siacs.conversations.axolotl";

#[cfg(test)]
mod vectors;

/// Why OMEMO could not do what was asked, grouped by what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum OmemoError {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A PEP request failed.
    #[error(transparent)]
    Pep(#[from] pep::PepError),
    /// The peer publishes no OMEMO device.
    #[error("{jid} has no OMEMO device that we can see (none published, or only to its contacts): nothing can be encrypted for it")]
    NoDevices {
        /// The peer.
        jid: String,
    },
    /// None of the peer's devices is trusted.
    #[error("no trusted OMEMO device of {jid}{}: verify one with `xft omemo devices {jid}` and `xft omemo trust {jid} FINGERPRINT`",
        if untrusted.is_empty() { String::new() } else { format!(" (devices: {})", untrusted.join(", ")) })]
    NoneTrusted {
        /// The peer.
        jid: String,
        /// Its devices and their trust.
        untrusted: Vec<String>,
    },
    /// Our device has no identity yet (not published).
    #[error("this account has no OMEMO identity yet")]
    NoIdentity,
    /// The message holds no key for this device.
    #[error("the message was not encrypted for this device")]
    NotForUs,
    /// A `WhisperMessage` from a device we have no session with.
    #[error("no OMEMO session with {jid}'s device {device}")]
    NoSession {
        /// The sender.
        jid: String,
        /// Its device.
        device: u32,
    },
    /// A session start naming a prekey we do not hold (consumed, or never ours).
    #[error("the message names an unknown or used {0}")]
    UnknownPreKey(String),
    /// A malformed element.
    #[error(transparent)]
    Element(#[from] element::ElementError),
    /// A malformed Signal message.
    #[error(transparent)]
    Wire(#[from] wire::WireError),
    /// The ratchet refused the message (MAC, replay...).
    #[error(transparent)]
    Ratchet(#[from] ratchet::RatchetError),
    /// The session could not be agreed.
    #[error(transparent)]
    X3dh(#[from] x3dh::X3dhError),
    /// The payload's tag did not match.
    #[error("the encrypted payload: {0}")]
    Payload(#[from] crate::gcm::GcmError),
    /// The payload is not UTF-8 text.
    #[error("the decrypted payload is not text")]
    NotText,
}
