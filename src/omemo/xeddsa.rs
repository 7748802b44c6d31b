//! XEdDSA (Trevor Perrin, "The XEdDSA and VXEdDSA Signature Schemes", rev. 1, 2016):
//! Ed25519-compatible signatures made and checked with a Curve25519 key, which is how
//! a legacy OMEMO identity key signs its signed prekey (XEP-0384 v0.3 §4.3).
//!
//! Verification also accepts what older Signal code and python-omemo produce: the sign
//! bit of the signer's Edwards key carried in the top bit of the signature's last byte
//! (which XEdDSA itself always leaves zero, since s < 2²⁵³).

use curve25519_dalek::constants::ED25519_BASEPOINT_TABLE;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::{clamp_integer, Scalar};
use sha2::{Digest, Sha512};
use zeroize::Zeroize;

use super::keys::{PrivateKey, PublicKey};

/// Signs `message` with `key` and 64 random bytes `nonce` (§2.5 `xeddsa_sign`).
pub fn sign(key: &PrivateKey, message: &[u8], nonce: &[u8; 64]) -> [u8; 64] {
    let mut clamped = clamp_integer(key.to_bytes());
    let k = Scalar::from_bytes_mod_order(clamped);
    clamped.zeroize();
    let edwards = &k * ED25519_BASEPOINT_TABLE;
    let mut public = edwards.compress().to_bytes();
    // calculate_key_pair (§2.3): the Edwards key with sign bit 0, the scalar to match.
    let a = if public[31] & 0x80 != 0 { -k } else { k };
    public[31] &= 0x7f;
    let mut hasher = Sha512::new();
    hasher.update([0xfe]);
    hasher.update([0xff; 31]);
    hasher.update(a.as_bytes());
    hasher.update(message);
    hasher.update(nonce);
    let r = scalar_of(hasher);
    let big_r = (&r * ED25519_BASEPOINT_TABLE).compress();
    let h = scalar_of(
        Sha512::new()
            .chain_update(big_r.as_bytes())
            .chain_update(public)
            .chain_update(message),
    );
    let s = r + h * a;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(big_r.as_bytes());
    signature[32..].copy_from_slice(s.as_bytes());
    signature
}

/// Whether `signature` over `message` was made by the key whose Montgomery form is
/// `key` (§2.6 `xeddsa_verify`, with the sign bit taken from the signature as above).
pub fn verify(key: &PublicKey, message: &[u8], signature: &[u8; 64]) -> bool {
    let mut signature = *signature;
    let sign_bit = signature[63] >> 7;
    signature[63] &= 0x7f;
    if !below_field_prime(&key.0) {
        return false;
    }
    let Some(a) = MontgomeryPoint(key.0).to_edwards(sign_bit) else {
        return false;
    };
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&signature[32..]);
    if s_bytes[31] & 0xe0 != 0 {
        return false;
    }
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
        return false;
    };
    let h = scalar_of(
        Sha512::new()
            .chain_update(&signature[..32])
            .chain_update(a.compress().as_bytes())
            .chain_update(message),
    );
    let check = EdwardsPoint::vartime_double_scalar_mul_basepoint(&-h, &a, &s);
    check.compress().as_bytes()[..] == signature[..32]
}

/// A SHA-512 digest reduced mod the group order.
fn scalar_of(hasher: Sha512) -> Scalar {
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

/// u < 2²⁵⁵ − 19, read little-endian (§2.6: larger encodings are refused).
fn below_field_prime(u: &[u8; 32]) -> bool {
    const P: [u8; 32] = {
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        p
    };
    for i in (0..32).rev() {
        if u[i] != P[i] {
            return u[i] < P[i];
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_refuses_changes() {
        let key = PrivateKey::from_bytes([42; 32]);
        let sig = sign(&key, b"message", &[1; 64]);
        assert!(verify(&key.public(), b"message", &sig));
        assert!(!verify(&key.public(), b"messagf", &sig));
        let mut bad = sig;
        bad[10] ^= 4;
        assert!(!verify(&key.public(), b"message", &bad));
        let other = PrivateKey::from_bytes([43; 32]).public();
        assert!(!verify(&other, b"message", &sig));
        assert!(!verify(&PublicKey([0xff; 32]), b"message", &sig));
    }
}
