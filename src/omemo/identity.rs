//! This device's own keys (XEP-0384 v0.3 §3, §4.3): a device id, the identity key pair,
//! a signed prekey and one-time prekeys, as stored and as published.
//!
//! A consumed one-time prekey is removed and replaced by a new one with a new id: an id
//! is never used twice, so a second message naming a consumed prekey finds nothing and
//! fails (the replay of a session start cannot build a second session).

use rand::{CryptoRng, Rng};
use serde::{Deserialize, Serialize};

use super::keys::{PrivateKey, PublicKey};
use super::x3dh::Bundle;
use super::xeddsa;

/// One-time prekeys kept published (§4.3: "SHOULD contain 100 PreKeys").
pub const PRE_KEYS: usize = 100;

/// A signature, stored as hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hash::hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        let bytes: Option<Vec<u8>> = (text.len() == 128 && text.is_ascii())
            .then(|| {
                (0..64)
                    .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                    .collect()
            })
            .flatten();
        bytes
            .and_then(|b| b.try_into().ok())
            .map(Signature)
            .ok_or_else(|| serde::de::Error::custom("expected 128 hex digits"))
    }
}

/// The signed prekey.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedPreKey {
    /// Its id.
    pub id: u32,
    /// The key.
    pub key: PrivateKey,
    /// XEdDSA signature of its public key's wire form by the identity key.
    pub signature: Signature,
}

/// A one-time prekey.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreKey {
    /// Its id.
    pub id: u32,
    /// The key.
    pub key: PrivateKey,
}

/// Everything this device keeps about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    /// 1 to 2³¹ − 1.
    pub device_id: u32,
    /// The identity key.
    pub identity: PrivateKey,
    /// The signed prekey.
    pub signed_pre_key: SignedPreKey,
    /// Unused one-time prekeys.
    pub pre_keys: Vec<PreKey>,
    /// The id the next new prekey gets.
    pub next_pre_key_id: u32,
}

impl Identity {
    /// A new device, with an id not in `taken` (the ids our account's list names
    /// already: §4.9 "MUST check whether that Device ID already exists").
    pub fn generate(taken: &[u32], rng: &mut impl CryptoRng) -> Identity {
        let device_id = loop {
            let id = rng.random_range(1..=0x7fff_ffffu32);
            if !taken.contains(&id) {
                break id;
            }
        };
        let identity = PrivateKey::generate(rng);
        let key = PrivateKey::generate(rng);
        let mut nonce = [0u8; 64];
        rng.fill_bytes(&mut nonce);
        let signature = Signature(xeddsa::sign(&identity, &key.public().serialize(), &nonce));
        let mut me = Identity {
            device_id,
            identity,
            signed_pre_key: SignedPreKey {
                id: 1,
                key,
                signature,
            },
            pre_keys: Vec::new(),
            next_pre_key_id: 1,
        };
        me.replenish(rng);
        me
    }

    /// Fills the one-time prekeys up to [`PRE_KEYS`], with ids never used before.
    pub fn replenish(&mut self, rng: &mut impl CryptoRng) {
        while self.pre_keys.len() < PRE_KEYS {
            let id = self.next_pre_key_id;
            self.next_pre_key_id = self.next_pre_key_id.wrapping_add(1).max(1);
            self.pre_keys.push(PreKey {
                id,
                key: PrivateKey::generate(rng),
            });
        }
    }

    /// The unused one-time prekey `id`.
    pub fn pre_key(&self, id: u32) -> Option<&PrivateKey> {
        self.pre_keys.iter().find(|k| k.id == id).map(|k| &k.key)
    }

    /// Removes the one-time prekey `id` (it was used to start a session).
    pub fn consume(&mut self, id: u32) {
        self.pre_keys.retain(|k| k.id != id);
    }

    /// Our identity's public key.
    pub fn public(&self) -> PublicKey {
        self.identity.public()
    }

    /// The bundle to publish.
    pub fn bundle(&self) -> Bundle {
        Bundle {
            identity: self.identity.public(),
            signed_pre_key: (self.signed_pre_key.id, self.signed_pre_key.key.public()),
            signature: self.signed_pre_key.signature.0,
            pre_keys: self
                .pre_keys
                .iter()
                .map(|k| (k.id, k.key.public()))
                .collect(),
        }
    }

    /// Whether the stored keys fit together: the signed prekey's signature verifies
    /// (a tampered or mixed-up store is refused rather than published).
    pub fn is_consistent(&self) -> bool {
        let bundle = self.bundle();
        (1..=0x7fff_ffff).contains(&self.device_id)
            && xeddsa::verify(
                &bundle.identity,
                &bundle.signed_pre_key.1.serialize(),
                &bundle.signature,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_identity_is_consistent_and_prekey_ids_are_never_reused() {
        let mut rng = rand::rng();
        let mut me = Identity::generate(&[], &mut rng);
        assert!(me.is_consistent());
        assert_eq!(me.pre_keys.len(), PRE_KEYS);
        let first = me.pre_keys[0].id;
        me.consume(first);
        assert!(me.pre_key(first).is_none());
        me.replenish(&mut rng);
        assert_eq!(me.pre_keys.len(), PRE_KEYS);
        assert!(
            me.pre_key(first).is_none(),
            "the consumed id is not given out again"
        );
        let text = serde_json::to_string(&me).unwrap();
        let back: Identity = serde_json::from_str(&text).unwrap();
        assert_eq!(back.bundle(), me.bundle());
        me.signed_pre_key.signature.0[5] ^= 1;
        assert!(!me.is_consistent());
    }
}
