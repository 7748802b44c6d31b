//! X3DH as Signal v3 runs it (Marlinspike & Perrin, "The X3DH Key Agreement Protocol",
//! 2016, §3), which starts every legacy OMEMO session (XEP-0384 v0.3 §4.4: "A random
//! preKeyPublic entry is selected, and used to build a SignalProtocol session").
//!
//! DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B), and when a
//! one-time prekey was used DH4 = DH(EK_A, OPK_B); the secret is HKDF over
//! 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4. The signed prekey's signature (XEdDSA over its
//! 33-byte serialization) is checked before anything is derived from it.

use zeroize::Zeroize;

use super::kdf;
use super::keys::{PrivateKey, PublicKey};
use super::xeddsa;

/// What a device publishes so that others can start sessions with it (§4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// IK.
    pub identity: PublicKey,
    /// SPK and its id.
    pub signed_pre_key: (u32, PublicKey),
    /// XEdDSA signature of the serialized SPK by IK.
    pub signature: [u8; 64],
    /// One-time prekeys and their ids.
    pub pre_keys: Vec<(u32, PublicKey)>,
}

impl Bundle {
    /// Whether the signed prekey is signed by the identity key.
    pub fn verifies(&self) -> bool {
        let (_, signed) = &self.signed_pre_key;
        xeddsa::verify(&self.identity, &signed.serialize(), &self.signature)
    }
}

/// Why no session could be agreed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum X3dhError {
    /// The signed prekey's signature does not verify with the identity key.
    #[error("the bundle's signed prekey is not signed by its identity key")]
    BadSignature,
    /// A DH output was all zeros: a key that is a low-order point.
    #[error("the bundle or message carries an invalid public key")]
    BadKey,
}

/// The result of the initiating side.
pub struct Initiated {
    /// The shared secret (the first root key).
    pub secret: [u8; 32],
    /// Our ephemeral public key (the message's base key).
    pub base_key: PublicKey,
}

/// Runs the initiator's side with `ephemeral` (fresh for each session) and the one-time
/// prekey chosen from the bundle, if any.
pub fn initiate(
    our_identity: &PrivateKey,
    bundle: &Bundle,
    pre_key: Option<&PublicKey>,
    ephemeral: &PrivateKey,
) -> Result<Initiated, X3dhError> {
    let (_, signed) = &bundle.signed_pre_key;
    if !bundle.verifies() {
        return Err(X3dhError::BadSignature);
    }
    let mut outputs = Vec::with_capacity(128);
    for (ours, theirs) in [
        (our_identity, signed),
        (ephemeral, &bundle.identity),
        (ephemeral, signed),
    ]
    .into_iter()
    .chain(pre_key.map(|k| (ephemeral, k)))
    {
        let shared = ours.agree(theirs).ok_or(X3dhError::BadKey)?;
        outputs.extend_from_slice(&shared.0);
    }
    let secret = kdf::x3dh_secret(&outputs);
    outputs.zeroize();
    Ok(Initiated {
        secret,
        base_key: ephemeral.public(),
    })
}

/// Runs the responder's side: our identity, the signed prekey and one-time prekey the
/// message names, and the initiator's identity and base key from the message.
pub fn respond(
    our_identity: &PrivateKey,
    signed_pre_key: &PrivateKey,
    one_time: Option<&PrivateKey>,
    their_identity: &PublicKey,
    base_key: &PublicKey,
) -> Result<[u8; 32], X3dhError> {
    let mut outputs = Vec::with_capacity(128);
    for (ours, theirs) in [
        (signed_pre_key, their_identity),
        (our_identity, base_key),
        (signed_pre_key, base_key),
    ]
    .into_iter()
    .chain(one_time.map(|k| (k, base_key)))
    {
        let shared = ours.agree(theirs).ok_or(X3dhError::BadKey)?;
        outputs.extend_from_slice(&shared.0);
    }
    let secret = kdf::x3dh_secret(&outputs);
    outputs.zeroize();
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> PrivateKey {
        PrivateKey::from_bytes([n; 32])
    }

    #[test]
    fn both_sides_agree_and_a_forged_bundle_is_refused() {
        let (ik_a, ik_b, spk, opk, ek) = (key(1), key(2), key(3), key(4), key(5));
        let mut bundle = Bundle {
            identity: ik_b.public(),
            signed_pre_key: (1, spk.public()),
            signature: xeddsa::sign(&ik_b, &spk.public().serialize(), &[9; 64]),
            pre_keys: vec![(7, opk.public())],
        };
        for one_time in [Some(&opk), None] {
            let a = initiate(&ik_a, &bundle, one_time.map(|k| k.public()).as_ref(), &ek).unwrap();
            let b = respond(&ik_b, &spk, one_time, &ik_a.public(), &a.base_key).unwrap();
            assert_eq!(a.secret, b);
        }
        bundle.signed_pre_key.1 = key(6).public();
        assert!(matches!(
            initiate(&ik_a, &bundle, None, &ek),
            Err(X3dhError::BadSignature)
        ));
    }
}
