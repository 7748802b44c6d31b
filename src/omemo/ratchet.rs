//! The Double Ratchet (Perrin & Marlinspike, 2016, §3) with Signal v3's encodings: one
//! session with one device of a peer, as a value. XEP-0384 v0.3 §4.5/§4.6 sends each
//! message's payload key through it.
//!
//! Decryption is a pure function from the old state to the new one: [`Session::decrypt`]
//! returns the session to keep only when the MAC and the padding check out, so a
//! forged, replayed or damaged message changes nothing (the caller stores the new state
//! only on success). Keys of skipped messages are kept for late arrivals, at most
//! [`MAX_SKIP`] per message and [`MAX_STORED_SKIPPED`] per session.
//!
//! The inner cipher is Signal v3's: AES-256-CBC with PKCS#7 padding, then an 8-byte
//! HMAC-SHA-256 over sender identity ‖ receiver identity ‖ message (see `wire`).

use std::collections::VecDeque;

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::kdf::{self, MessageKeys};
use super::keys::{PrivateKey, PublicKey, SymmetricKey};
use super::wire::{PreKeyWhisperMessage, WhisperMessage};
use super::x3dh::{self, Bundle, X3dhError};

/// Most message keys one message may make us skip (python-doubleratchet and Signal
/// refuse far more than this too): beyond it, the message is refused, not computed.
pub const MAX_SKIP: u32 = 1000;
/// Most skipped keys kept per session; the oldest go first.
pub const MAX_STORED_SKIPPED: usize = 2000;

/// Why a message did not decrypt. None of these changes the session.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RatchetError {
    /// The MAC did not match: forged, damaged, or for another session.
    #[error("the message's MAC does not match")]
    BadMac,
    /// The MAC matched but the padding did not (a broken sender).
    #[error("the message did not decrypt (bad padding)")]
    BadPadding,
    /// A message decrypted before (its key is gone, by design).
    #[error("the message was already decrypted (a replay)")]
    Duplicate,
    /// The message claims to be further ahead than [`MAX_SKIP`] allows.
    #[error("the message is too far ahead of the last one received")]
    TooFarAhead,
    /// A key in the message is a low-order point.
    #[error("the message carries an invalid ratchet key")]
    BadKey,
    /// We have not received from this device yet and did not start the session: we
    /// cannot send on it (cannot happen with sessions this module builds).
    #[error("the session has no sending chain yet")]
    NoSendingChain,
}

/// One chain: its key and the index of the next message key.
#[derive(Clone, Serialize, Deserialize, Debug)]
struct Chain {
    key: SymmetricKey,
    index: u32,
}

impl Chain {
    /// The seed of the message at `index` and the chain after it.
    fn step(&self) -> (SymmetricKey, Chain) {
        let (seed, next) = kdf::chain_step(&self.key.0);
        let chain = Chain {
            key: SymmetricKey(next),
            index: self.index.saturating_add(1),
        };
        (SymmetricKey(seed), chain)
    }
}

/// A key kept for a message that has not arrived yet.
#[derive(Clone, Serialize, Deserialize, Debug)]
struct Skipped {
    ratchet: PublicKey,
    index: u32,
    seed: SymmetricKey,
}

/// The X3DH header a session's initiator repeats in every message until the peer
/// answers (until then, the peer may not have the session yet).
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq)]
pub struct PendingPreKey {
    /// The one-time prekey used.
    pub pre_key_id: Option<u32>,
    /// The signed prekey used.
    pub signed_pre_key_id: u32,
    /// Our ephemeral key.
    pub base_key: PublicKey,
}

/// A session with one device.
#[derive(Clone, Serialize, Deserialize, Debug)]
pub struct Session {
    our_identity: PublicKey,
    their_identity: PublicKey,
    root: SymmetricKey,
    our_ratchet: PrivateKey,
    their_ratchet: Option<PublicKey>,
    sending: Option<Chain>,
    previous_sending: u32,
    receiving: Option<Chain>,
    skipped: VecDeque<Skipped>,
    /// Set on the initiating side until the first message from the peer decrypts.
    pending: Option<PendingPreKey>,
    /// On the responding side, the initiator's base key: a repeated prekey message
    /// with it belongs to this session.
    base_key: Option<PublicKey>,
}

/// A message key encrypted for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The `<key>` content.
    pub bytes: Vec<u8>,
    /// Whether it is a `PreKeyWhisperMessage` (`prekey='true'`).
    pub prekey: bool,
}

impl Session {
    /// Starts a session with the device that published `bundle`, using its one-time
    /// prekey `pre_key` (id and key). The ephemeral key is drawn first, then the first
    /// ratchet key (the order python-omemo draws them in, which the vectors replay).
    pub fn initiate(
        our_identity: &PrivateKey,
        bundle: &Bundle,
        pre_key: Option<(u32, PublicKey)>,
        rng: &mut impl CryptoRng,
    ) -> Result<Session, X3dhError> {
        let ephemeral = PrivateKey::generate(rng);
        let agreed = x3dh::initiate(
            our_identity,
            bundle,
            pre_key.as_ref().map(|(_, k)| k),
            &ephemeral,
        )?;
        let their_ratchet = bundle.signed_pre_key.1;
        let our_ratchet = PrivateKey::generate(rng);
        let dh = our_ratchet.agree(&their_ratchet).ok_or(X3dhError::BadKey)?;
        let (root, chain) = kdf::root_step(&agreed.secret, &dh.0);
        Ok(Session {
            our_identity: our_identity.public(),
            their_identity: bundle.identity,
            root: SymmetricKey(root),
            our_ratchet,
            their_ratchet: Some(their_ratchet),
            sending: Some(Chain {
                key: SymmetricKey(chain),
                index: 0,
            }),
            previous_sending: 0,
            receiving: None,
            skipped: VecDeque::new(),
            pending: Some(PendingPreKey {
                pre_key_id: pre_key.map(|(id, _)| id),
                signed_pre_key_id: bundle.signed_pre_key.0,
                base_key: agreed.base_key,
            }),
            base_key: None,
        })
    }

    /// The responder's session for `message` (before its inner message is decrypted,
    /// which [`Session::decrypt`] then does): our identity, the signed prekey and
    /// one-time prekey it names.
    pub fn respond(
        our_identity: &PrivateKey,
        signed_pre_key: &PrivateKey,
        one_time: Option<&PrivateKey>,
        message: &PreKeyWhisperMessage,
    ) -> Result<Session, X3dhError> {
        let secret = x3dh::respond(
            our_identity,
            signed_pre_key,
            one_time,
            &message.identity_key,
            &message.base_key,
        )?;
        Ok(Session {
            our_identity: our_identity.public(),
            their_identity: message.identity_key,
            root: SymmetricKey(secret),
            our_ratchet: signed_pre_key.clone(),
            their_ratchet: None,
            sending: None,
            previous_sending: 0,
            receiving: None,
            skipped: VecDeque::new(),
            pending: None,
            base_key: Some(message.base_key),
        })
    }

    /// The peer device's identity key.
    pub fn their_identity(&self) -> &PublicKey {
        &self.their_identity
    }

    /// The initiator's base key, on a session we responded to.
    pub fn base_key(&self) -> Option<&PublicKey> {
        self.base_key.as_ref()
    }

    /// Whether the peer has answered (on a session we started).
    pub fn confirmed(&self) -> bool {
        self.pending.is_none()
    }

    /// Encrypts `plaintext` (a payload key and tag) as the next message; a prekey
    /// message until the peer has answered.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Encrypted, RatchetError> {
        let chain = self.sending.as_ref().ok_or(RatchetError::NoSendingChain)?;
        let (seed, next) = chain.step();
        let keys = kdf::message_keys(&seed.0);
        let ciphertext = cbc::Encryptor::<aes::Aes256>::new(&keys.cipher.into(), &keys.iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
        let mut bytes = WhisperMessage::encode_body(
            &self.our_ratchet.public(),
            chain.index,
            self.previous_sending,
            &ciphertext,
        );
        let mac = kdf::message_mac(
            &keys.mac,
            &self.our_identity.serialize(),
            &self.their_identity.serialize(),
            &bytes,
        );
        bytes.extend_from_slice(&mac);
        self.sending = Some(next);
        let Some(pending) = &self.pending else {
            return Ok(Encrypted {
                bytes,
                prekey: false,
            });
        };
        let wrapped = PreKeyWhisperMessage {
            pre_key_id: pending.pre_key_id,
            signed_pre_key_id: pending.signed_pre_key_id,
            base_key: pending.base_key,
            identity_key: self.our_identity,
            message: bytes,
        };
        Ok(Encrypted {
            bytes: wrapped.encode(),
            prekey: true,
        })
    }

    /// Decrypts `message`: the plaintext and the session to keep. `self` is unchanged
    /// either way; store the returned session only on `Ok`.
    pub fn decrypt(
        &self,
        message: &WhisperMessage,
        rng: &mut impl CryptoRng,
    ) -> Result<(Session, Vec<u8>), RatchetError> {
        let mut next = self.clone();
        let seed = next.seed_for(message, rng)?;
        let keys = kdf::message_keys(&seed.0);
        let plaintext = open(&keys, message, &next.their_identity, &next.our_identity)?;
        next.pending = None;
        while next.skipped.len() > MAX_STORED_SKIPPED {
            next.skipped.pop_front();
        }
        Ok((next, plaintext))
    }

    /// The message key seed for `message`: a kept skipped key, or the receiving chain
    /// advanced (after a DH ratchet step when the sender's ratchet key is new).
    fn seed_for(
        &mut self,
        message: &WhisperMessage,
        rng: &mut impl CryptoRng,
    ) -> Result<SymmetricKey, RatchetError> {
        let kept = self
            .skipped
            .iter()
            .position(|s| s.ratchet == message.ratchet_key && s.index == message.counter);
        if let Some(position) = kept {
            let skipped = self
                .skipped
                .remove(position)
                .ok_or(RatchetError::Duplicate)?;
            return Ok(skipped.seed);
        }
        if self.their_ratchet != Some(message.ratchet_key) {
            self.ratchet_step(message, rng)?;
        }
        let mut chain = self.receiving.clone().ok_or(RatchetError::Duplicate)?;
        if message.counter < chain.index {
            return Err(RatchetError::Duplicate);
        }
        if message.counter - chain.index > MAX_SKIP {
            return Err(RatchetError::TooFarAhead);
        }
        while chain.index < message.counter {
            let (seed, next) = chain.step();
            self.skipped.push_back(Skipped {
                ratchet: message.ratchet_key,
                index: chain.index,
                seed,
            });
            chain = next;
        }
        let (seed, next) = chain.step();
        self.receiving = Some(next);
        Ok(seed)
    }

    /// The DH ratchet step (§3.5): keys left in the old receiving chain are kept (when
    /// not too many), a new receiving chain from the sender's new key, a new sending
    /// chain from a new key of ours.
    fn ratchet_step(
        &mut self,
        message: &WhisperMessage,
        rng: &mut impl CryptoRng,
    ) -> Result<(), RatchetError> {
        if let (Some(old), Some(their)) = (self.receiving.clone(), self.their_ratchet) {
            let missing = message.previous_counter.saturating_sub(old.index);
            if missing <= MAX_SKIP {
                let mut chain = old;
                while chain.index < message.previous_counter {
                    let (seed, next) = chain.step();
                    self.skipped.push_back(Skipped {
                        ratchet: their,
                        index: chain.index,
                        seed,
                    });
                    chain = next;
                }
            }
        }
        let dh = self
            .our_ratchet
            .agree(&message.ratchet_key)
            .ok_or(RatchetError::BadKey)?;
        let (root, receiving) = kdf::root_step(&self.root.0, &dh.0);
        let our_ratchet = PrivateKey::generate(rng);
        let dh = our_ratchet
            .agree(&message.ratchet_key)
            .ok_or(RatchetError::BadKey)?;
        let (root, sending) = kdf::root_step(&root, &dh.0);
        self.previous_sending = self.sending.as_ref().map_or(0, |c| c.index);
        self.root = SymmetricKey(root);
        self.their_ratchet = Some(message.ratchet_key);
        self.our_ratchet = our_ratchet;
        self.receiving = Some(Chain {
            key: SymmetricKey(receiving),
            index: 0,
        });
        self.sending = Some(Chain {
            key: SymmetricKey(sending),
            index: 0,
        });
        Ok(())
    }
}

/// Checks the MAC (sender ‖ receiver identities ‖ message), then decrypts.
fn open(
    keys: &MessageKeys,
    message: &WhisperMessage,
    sender: &PublicKey,
    receiver: &PublicKey,
) -> Result<Vec<u8>, RatchetError> {
    let mac = kdf::message_mac(
        &keys.mac,
        &sender.serialize(),
        &receiver.serialize(),
        &message.authenticated,
    );
    if !bool::from(mac.ct_eq(&message.mac)) {
        return Err(RatchetError::BadMac);
    }
    cbc::Decryptor::<aes::Aes256>::new(&keys.cipher.into(), &keys.iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&message.ciphertext)
        .map_err(|_| RatchetError::BadPadding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::omemo::xeddsa;

    fn pair() -> (Session, Session, PrivateKey) {
        let mut rng = rand::rng();
        let (ik_a, ik_b, spk, opk) = (
            PrivateKey::generate(&mut rng),
            PrivateKey::generate(&mut rng),
            PrivateKey::generate(&mut rng),
            PrivateKey::generate(&mut rng),
        );
        let bundle = Bundle {
            identity: ik_b.public(),
            signed_pre_key: (1, spk.public()),
            signature: xeddsa::sign(&ik_b, &spk.public().serialize(), &[3; 64]),
            pre_keys: vec![(5, opk.public())],
        };
        let mut alice =
            Session::initiate(&ik_a, &bundle, Some((5, opk.public())), &mut rng).unwrap();
        let first = alice.encrypt(b"first").unwrap();
        assert!(first.prekey);
        let message = PreKeyWhisperMessage::parse(&first.bytes).unwrap();
        assert_eq!(message.pre_key_id, Some(5));
        let bob = Session::respond(&ik_b, &spk, Some(&opk), &message).unwrap();
        let inner = WhisperMessage::parse(&message.message).unwrap();
        let (bob, plain) = bob.decrypt(&inner, &mut rng).unwrap();
        assert_eq!(plain, b"first");
        (alice, bob, opk)
    }

    fn whisper(e: &Encrypted) -> WhisperMessage {
        match e.prekey {
            true => WhisperMessage::parse(&PreKeyWhisperMessage::parse(&e.bytes).unwrap().message)
                .unwrap(),
            false => WhisperMessage::parse(&e.bytes).unwrap(),
        }
    }

    #[test]
    fn messages_flow_both_ways_out_of_order_and_replays_fail() {
        let mut rng = rand::rng();
        let (mut alice, mut bob, _) = pair();
        let answer = bob.encrypt(b"answer").unwrap();
        assert!(!answer.prekey);
        let (a, plain) = alice.decrypt(&whisper(&answer), &mut rng).unwrap();
        assert_eq!(plain, b"answer");
        alice = a;
        assert!(alice.confirmed());
        let batch: Vec<Encrypted> = (0..4).map(|i| alice.encrypt(&[i; 32]).unwrap()).collect();
        assert!(batch.iter().all(|e| !e.prekey));
        for i in [3usize, 0, 2, 1] {
            let (b, plain) = bob.decrypt(&whisper(&batch[i]), &mut rng).unwrap();
            assert_eq!(plain, vec![i as u8; 32]);
            bob = b;
        }
        assert_eq!(
            bob.decrypt(&whisper(&batch[2]), &mut rng).unwrap_err(),
            RatchetError::Duplicate
        );
        assert_eq!(
            bob.decrypt(&whisper(&batch[3]), &mut rng).unwrap_err(),
            RatchetError::Duplicate
        );
    }

    #[test]
    fn a_forged_message_changes_nothing() {
        let mut rng = rand::rng();
        let (mut alice, bob, _) = pair();
        let good = alice.encrypt(b"good").unwrap();
        let mut inner = PreKeyWhisperMessage::parse(&good.bytes).unwrap().message;
        let at = inner.len() - 12;
        inner[at] ^= 1;
        let forged = WhisperMessage::parse(&inner).unwrap();
        let before = serde_json::to_string(&bob).unwrap();
        assert_eq!(
            bob.decrypt(&forged, &mut rng).unwrap_err(),
            RatchetError::BadMac
        );
        let mut new_key = whisper(&good);
        new_key.ratchet_key = PrivateKey::generate(&mut rng).public();
        assert_eq!(
            bob.decrypt(&new_key, &mut rng).unwrap_err(),
            RatchetError::BadMac
        );
        let mut far = whisper(&good);
        far.counter = MAX_SKIP + 10;
        assert_eq!(
            bob.decrypt(&far, &mut rng).unwrap_err(),
            RatchetError::TooFarAhead
        );
        assert_eq!(serde_json::to_string(&bob).unwrap(), before);
        assert_eq!(bob.decrypt(&whisper(&good), &mut rng).unwrap().1, b"good");
    }

    #[test]
    fn skipped_keys_are_bounded() {
        let mut rng = rand::rng();
        let (mut alice, mut bob, _) = pair();
        let mut last = None;
        for _ in 0..3 {
            for _ in 0..MAX_SKIP {
                last = Some(alice.encrypt(b"x").unwrap());
            }
            let (b, _) = bob
                .decrypt(&whisper(last.as_ref().unwrap()), &mut rng)
                .unwrap();
            bob = b;
        }
        assert!(bob.skipped.len() <= MAX_STORED_SKIPPED);
    }
}
