//! Curve25519 keys as the Signal protocol (v3) and legacy OMEMO carry them: private
//! keys are X25519 scalars, public keys Montgomery u-coordinates, serialized with a
//! leading type byte 0x05 (33 bytes) wherever they cross the wire (XEP-0384 v0.3 §4.3:
//! bundles; inside `WhisperMessage` and `PreKeyWhisperMessage`).

use curve25519_dalek::montgomery::MontgomeryPoint;
use rand::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The type byte of a serialized Curve25519 public key ("DJB_TYPE").
pub const KEY_TYPE: u8 = 0x05;

/// A private key. Its bytes never appear in `Debug` output, and are wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct PrivateKey([u8; 32]);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(…)")
    }
}

impl PrivateKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl CryptoRng) -> PrivateKey {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        PrivateKey(bytes)
    }

    /// The key from its 32 bytes (as stored; clamping happens at use).
    pub fn from_bytes(bytes: [u8; 32]) -> PrivateKey {
        PrivateKey(bytes)
    }

    /// The stored form. Handle with care: this is the secret.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(MontgomeryPoint::mul_base_clamped(self.0).to_bytes())
    }

    /// X25519 with `theirs`; `None` when the result is all zeros (a low-order point: the
    /// peer chose a key that contributes nothing, which no honest client does).
    pub fn agree(&self, theirs: &PublicKey) -> Option<SharedSecret> {
        let shared = MontgomeryPoint(theirs.0).mul_clamped(self.0).to_bytes();
        (shared != [0u8; 32]).then_some(SharedSecret(shared))
    }
}

/// A symmetric key of the ratchet (root, chain or message key seed): wiped on drop,
/// never shown by `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SymmetricKey(pub [u8; 32]);

impl std::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SymmetricKey(…)")
    }
}

/// Keys are stored as lower-case hex strings (in files only xft reads, mode 0600).
macro_rules! hex_serde {
    ($type:ident, $get:expr, $make:expr) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&crate::hash::hex(&$get(self)))
            }
        }
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                hex32(&text)
                    .map($make)
                    .ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
            }
        }
    };
}

hex_serde!(PrivateKey, |k: &PrivateKey| k.0, PrivateKey);
hex_serde!(PublicKey, |k: &PublicKey| k.0, PublicKey);
hex_serde!(SymmetricKey, |k: &SymmetricKey| k.0, SymmetricKey);

/// 64 hex digits as 32 bytes.
fn hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

/// The output of one X25519, wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret(pub(crate) [u8; 32]);

/// A public key (Montgomery u-coordinate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", crate::hash::hex(&self.0))
    }
}

impl PublicKey {
    /// The 33-byte wire form: 0x05 ‖ u.
    pub fn serialize(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = KEY_TYPE;
        out[1..].copy_from_slice(&self.0);
        out
    }

    /// Reads the 33-byte wire form; anything else is `None`.
    pub fn parse(bytes: &[u8]) -> Option<PublicKey> {
        match bytes {
            [KEY_TYPE, rest @ ..] if rest.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(rest);
                Some(PublicKey(key))
            }
            _ => None,
        }
    }

    /// The fingerprint as clients show it: the 32 key bytes (without the type byte) in
    /// lower-case hex, in groups of eight (Conversations, Dino and Gajim group them so).
    pub fn fingerprint(&self) -> String {
        let hex = crate::hash::hex(&self.0);
        let groups: Vec<&str> = (0..hex.len()).step_by(8).map(|i| &hex[i..i + 8]).collect();
        groups.join(" ")
    }
}

/// A fingerprint as typed by a user: hex digits with any spaces, colons or dashes,
/// optionally with the `05` type prefix; `None` unless it names 32 bytes.
pub fn parse_fingerprint(text: &str) -> Option<PublicKey> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '-' | '\t'))
        .collect::<String>()
        .to_ascii_lowercase();
    let digits = match digits.len() {
        66 if digits.starts_with("05") => &digits[2..],
        _ => &digits[..],
    };
    hex32(digits).map(PublicKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7748 §6.1's Diffie-Hellman example.
    #[test]
    fn agrees_as_rfc_7748_says() {
        let h = |s: &str| -> [u8; 32] {
            let v: Vec<u8> = (0..64)
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect();
            v.try_into().unwrap()
        };
        let alice = PrivateKey::from_bytes(h(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        ));
        let bob = PrivateKey::from_bytes(h(
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        ));
        assert_eq!(
            alice.public().0,
            h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        assert_eq!(
            bob.public().0,
            h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        );
        let shared = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(alice.agree(&bob.public()).unwrap().0, shared);
        assert_eq!(bob.agree(&alice.public()).unwrap().0, shared);
        assert!(
            alice.agree(&PublicKey([0; 32])).is_none(),
            "a low-order point is refused"
        );
    }

    #[test]
    fn keys_serialize_with_their_type_byte_and_print_as_fingerprints() {
        let key = PublicKey([0xab; 32]);
        let wire = key.serialize();
        assert_eq!(wire[0], 5);
        assert_eq!(PublicKey::parse(&wire), Some(key));
        assert_eq!(PublicKey::parse(&wire[1..]), None);
        assert_eq!(PublicKey::parse(&[6; 33]), None);
        let shown = key.fingerprint();
        assert_eq!(shown.split(' ').count(), 8);
        assert_eq!(parse_fingerprint(&shown), Some(key));
        assert_eq!(
            parse_fingerprint(&format!("05{}", shown.replace(' ', ":"))),
            Some(key)
        );
        assert_eq!(parse_fingerprint("abcd"), None);
        assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
        assert_eq!(
            format!("{:?}", PrivateKey::from_bytes([7; 32])),
            "PrivateKey(…)"
        );
    }
}
