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

pub mod element;
pub mod kdf;
pub mod keys;
pub mod ratchet;
pub mod wire;
pub mod x3dh;
pub mod xeddsa;

/// The legacy OMEMO namespace (XEP-0384 v0.3 §7).
pub const NS: &str = "eu.siacs.conversations.axolotl";

#[cfg(test)]
mod vectors;
