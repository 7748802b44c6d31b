//! Vectors from independent implementations (python-xeddsa over libxeddsa, python-x3dh,
//! python-doubleratchet and python-oldmemo; made by
//! `tests/fixtures/omemo/make_vectors.py`, which records every random draw): xft must
//! verify and decrypt what they produced, and, given the same keys and draws, produce
//! the very same bytes.

use serde_json::Value;

use super::element;
use super::keys::{PrivateKey, PublicKey};
use super::ratchet::Session;
use super::wire::{PreKeyWhisperMessage, WhisperMessage};
use super::xeddsa;
use crate::xml::parse_document;

const VECTORS: &str = include_str!("../../tests/fixtures/omemo/vectors.json");

fn hex(value: &Value) -> Vec<u8> {
    let s = value.as_str().unwrap();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex32(value: &Value) -> [u8; 32] {
    hex(value).try_into().unwrap()
}

/// Replays recorded random draws, in order.
struct Replay(std::collections::VecDeque<Vec<u8>>);

impl rand::RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        unimplemented!("only whole keys are drawn")
    }
    fn next_u64(&mut self) -> u64 {
        unimplemented!("only whole keys are drawn")
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let next = self.0.pop_front().expect("a recorded draw");
        dest.copy_from_slice(&next);
    }
}
impl rand::CryptoRng for Replay {}

/// The draws recorded between the marker `section` and the next marker.
fn draws(session: &Value, section: &str) -> Replay {
    let all = session["draws"].as_array().unwrap();
    let start = all
        .iter()
        .position(|d| d["by"] == format!("--- {section} ---"))
        .unwrap();
    let taken = all[start + 1..]
        .iter()
        .take_while(|d| d.get("bytes").is_some())
        .filter(|d| {
            d["by"].as_str().unwrap().contains("make_vectors")
                || d["by"]
                    .as_str()
                    .unwrap()
                    .contains("get_shared_secret_active")
        })
        .map(|d| hex(&d["bytes"]))
        .collect();
    Replay(taken)
}

#[test]
fn xeddsa_matches_libxeddsa() {
    let v: Value = serde_json::from_str(VECTORS).unwrap();
    for case in v["xeddsa"].as_array().unwrap() {
        let private = PrivateKey::from_bytes(hex32(&case["priv"]));
        let public = PublicKey(hex32(&case["curve25519_pub"]));
        assert_eq!(private.public(), public);
        let message = hex(&case["message"]);
        let nonce: [u8; 64] = hex(&case["nonce"]).try_into().unwrap();
        let signature: [u8; 64] = hex(&case["signature"]).try_into().unwrap();
        assert_eq!(xeddsa::sign(&private, &message, &nonce), signature);
        assert!(xeddsa::verify(&public, &message, &signature));
        let seed_key = PublicKey(hex32(&case["seed_identity_curve25519_pub"]));
        let seed_sig: [u8; 64] = hex(&case["seed_signature_with_sign_bit"])
            .try_into()
            .unwrap();
        assert!(
            xeddsa::verify(&seed_key, &message, &seed_sig),
            "python-omemo's Ed25519 identities"
        );
        assert!(!xeddsa::verify(&seed_key, b"other", &seed_sig));
        assert_eq!(
            private.agree(&seed_key).unwrap().0,
            hex32(&case["x25519_with"])
        );
    }
}

fn message<'a>(session: &'a Value, name: &str) -> &'a Value {
    session["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap()
}

/// The payload layer: key ‖ tag from the ratchet opens the AES-128-GCM payload.
fn open_payload(m: &Value, key_and_tag: &[u8]) -> Vec<u8> {
    assert_eq!(key_and_tag, hex(&m["key_and_tag"]));
    let (key, tag) = key_and_tag.split_at(16);
    crate::gcm::open(key, &hex(&m["iv"]), &hex(&m["payload"]), tag).unwrap()
}

/// Bob's keys from the vectors, checked against his published bundle, and his session
/// built from m1 (the message that started it).
fn bob_responds(s: &Value) -> (Session, Vec<u8>) {
    let bob = &s["bob"];
    let bundle =
        element::parse_bundle(&parse_document(s["bob_bundle_xml"].as_str().unwrap()).unwrap())
            .unwrap();
    let identity = PrivateKey::from_bytes(hex32(&bob["identity_priv"]));
    assert_eq!(identity.public(), bundle.identity);
    let spk = PrivateKey::from_bytes(hex32(&bob["signed_pre_key_priv"]));
    assert_eq!(spk.public(), bundle.signed_pre_key.1);
    assert!(xeddsa::verify(
        &bundle.identity,
        &spk.public().serialize(),
        &bundle.signature
    ));

    let m1 = message(s, "m1");
    let first = PreKeyWhisperMessage::parse(&hex(&m1["key_blob"])).unwrap();
    let (_, used) = bundle
        .pre_keys
        .iter()
        .find(|(id, _)| Some(*id) == first.pre_key_id)
        .unwrap();
    let one_time = bob["pre_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| PrivateKey::from_bytes(hex32(k)))
        .find(|k| k.public() == *used)
        .unwrap();
    let fresh = Session::respond(&identity, &spk, Some(&one_time), &first).unwrap();
    let mut rng = draws(s, "bob receives m1");
    let (session, plain) = fresh
        .decrypt(&WhisperMessage::parse(&first.message).unwrap(), &mut rng)
        .unwrap();
    (session, open_payload(m1, &plain))
}

#[test]
fn bob_decrypts_python_and_answers_with_the_same_bytes() {
    let v: Value = serde_json::from_str(VECTORS).unwrap();
    let s = &v["session"];
    let (session, first) = bob_responds(s);
    assert_eq!(
        first,
        message(s, "m1")["plaintext"].as_str().unwrap().as_bytes()
    );
    let mut rng = draws(s, "bob receives m2");
    let m2 = message(s, "m2");
    let second = PreKeyWhisperMessage::parse(&hex(&m2["key_blob"])).unwrap();
    assert_eq!(
        Some(&second.base_key),
        session.base_key(),
        "a repeat of the same session"
    );
    let (mut session, plain) = session
        .decrypt(&WhisperMessage::parse(&second.message).unwrap(), &mut rng)
        .unwrap();
    assert_eq!(
        open_payload(m2, &plain),
        m2["plaintext"].as_str().unwrap().as_bytes()
    );

    let m3 = message(s, "m3");
    let answer = session.encrypt(&hex(&m3["key_and_tag"])).unwrap();
    assert!(!answer.prekey);
    assert_eq!(
        answer.bytes,
        hex(&m3["key_blob"]),
        "byte for byte what python-oldmemo sent"
    );

    let mut rng = draws(s, "bob receives m4, m6, m5");
    for name in ["m4", "m6", "m5"] {
        let m = message(s, name);
        let (next, plain) = session
            .decrypt(
                &WhisperMessage::parse(&hex(&m["key_blob"])).unwrap(),
                &mut rng,
            )
            .unwrap();
        assert_eq!(
            open_payload(m, &plain),
            m["plaintext"].as_str().unwrap().as_bytes(),
            "{name}"
        );
        session = next;
    }
}

#[test]
fn alice_starts_the_session_python_started_byte_for_byte() {
    let v: Value = serde_json::from_str(VECTORS).unwrap();
    let s = &v["session"];
    let bundle =
        element::parse_bundle(&parse_document(s["bob_bundle_xml"].as_str().unwrap()).unwrap())
            .unwrap();
    let identity = PrivateKey::from_bytes(hex32(&s["alice"]["identity_priv"]));
    // python's stand-in for secrets.choice took the smallest key.
    let chosen = *bundle.pre_keys.iter().min_by_key(|(_, k)| k.0).unwrap();
    let mut rng = draws(s, "alice m1");
    let mut session = Session::initiate(&identity, &bundle, Some(chosen), &mut rng).unwrap();
    for name in ["m1", "m2"] {
        let m = message(s, name);
        let sent = session.encrypt(&hex(&m["key_and_tag"])).unwrap();
        assert!(sent.prekey);
        assert_eq!(sent.bytes, hex(&m["key_blob"]), "{name}");
    }
    let m3 = message(s, "m3");
    let mut rng = draws(s, "alice receives m3");
    let (mut session, plain) = session
        .decrypt(
            &WhisperMessage::parse(&hex(&m3["key_blob"])).unwrap(),
            &mut rng,
        )
        .unwrap();
    assert_eq!(
        open_payload(m3, &plain),
        m3["plaintext"].as_str().unwrap().as_bytes()
    );
    assert!(session.confirmed());
    for name in ["m4", "m5", "m6"] {
        let m = message(s, name);
        let sent = session.encrypt(&hex(&m["key_and_tag"])).unwrap();
        assert!(!sent.prekey);
        assert_eq!(sent.bytes, hex(&m["key_blob"]), "{name}");
    }
}
