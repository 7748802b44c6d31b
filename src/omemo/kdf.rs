//! The key derivations of the Signal protocol v3 that legacy OMEMO uses (XEP-0384 v0.3
//! §2: "OMEMO currently uses version 3 SignalProtocol"), with the info strings its
//! implementations use: HKDF-SHA-256 (RFC 5869) for the X3DH secret, the root chain and
//! the message keys, HMAC-SHA-256 with the constants 1 and 2 for the sending and
//! receiving chains.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Info of the X3DH key derivation.
const X3DH_INFO: &[u8] = b"WhisperText";
/// Info of a root chain step.
const ROOT_INFO: &[u8] = b"WhisperRatchet";
/// Info of the per-message keys.
const MESSAGE_INFO: &[u8] = b"WhisperMessageKeys";

/// HKDF-SHA-256 into `out`; `out` is at most 80 bytes here, far below HKDF's limit.
fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    // Expand fails only past 255 × 32 bytes of output.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, out);
}

/// The X3DH shared secret from the concatenated DH outputs (the 32 bytes of 0xFF that
/// Signal prefixes for curve25519 are added here).
pub fn x3dh_secret(dh_outputs: &[u8]) -> [u8; 32] {
    let mut ikm = Vec::with_capacity(32 + dh_outputs.len());
    ikm.extend_from_slice(&[0xff; 32]);
    ikm.extend_from_slice(dh_outputs);
    let mut out = [0u8; 32];
    hkdf(&[0; 32], &ikm, X3DH_INFO, &mut out);
    ikm.zeroize();
    out
}

/// One step of the root chain: the new root key and a new chain key.
pub fn root_step(root: &[u8; 32], dh_output: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let mut out = [0u8; 64];
    hkdf(root, dh_output, ROOT_INFO, &mut out);
    let mut next_root = [0u8; 32];
    let mut chain = [0u8; 32];
    next_root.copy_from_slice(&out[..32]);
    chain.copy_from_slice(&out[32..]);
    out.zeroize();
    (next_root, chain)
}

fn hmac(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// One step of a sending or receiving chain: the message key seed, and the next chain
/// key.
pub fn chain_step(chain: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    (hmac(chain, &[1]), hmac(chain, &[2]))
}

/// The keys of one message: AES-256-CBC key and IV, and the HMAC key of its MAC.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MessageKeys {
    /// AES-256 key.
    pub cipher: [u8; 32],
    /// HMAC-SHA-256 key of the 8-byte MAC.
    pub mac: [u8; 32],
    /// CBC IV.
    pub iv: [u8; 16],
}

/// The message keys from a message key seed.
pub fn message_keys(seed: &[u8; 32]) -> MessageKeys {
    let mut out = [0u8; 80];
    hkdf(&[0; 32], seed, MESSAGE_INFO, &mut out);
    let mut keys = MessageKeys {
        cipher: [0; 32],
        mac: [0; 32],
        iv: [0; 16],
    };
    keys.cipher.copy_from_slice(&out[..32]);
    keys.mac.copy_from_slice(&out[32..64]);
    keys.iv.copy_from_slice(&out[64..]);
    out.zeroize();
    keys
}

/// The truncated MAC of a `WhisperMessage`: HMAC-SHA-256 over sender identity ‖
/// receiver identity ‖ the serialized message, first 8 bytes.
pub fn message_mac(
    key: &[u8; 32],
    sender: &[u8; 33],
    receiver: &[u8; 33],
    message: &[u8],
) -> [u8; 8] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(sender);
    mac.update(receiver);
    mac.update(message);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 8];
    out.copy_from_slice(&full[..8]);
    out
}
