//! AES-GCM (NIST SP 800-38D) as a stream: the ciphertext is produced, or checked, a
//! chunk at a time, in constant memory for a file of any size.
//!
//! Two users: the OMEMO payload (AES-128-GCM, 12-byte IV, XEP-0384 v0.3 §4.5) and
//! encrypted uploads (AES-256-GCM, XEP-0454 §3: a 12-byte IV, and on receipt also the
//! 16-byte IV older clients send). RustCrypto's `aes-gcm` only seals whole buffers, so
//! this builds the mode from its parts: `aes` for the block cipher, `ctr` for the
//! keystream (32-bit big-endian counter, SP 800-38D §6.5), `ghash` for the
//! authenticator. Both use the CPU's AES and carry-less multiply instructions when
//! present. The tag is checked in constant time.

use aes::cipher::{BlockEncrypt, KeyInit, KeyIvInit, StreamCipher};
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Length of the tag GCM appends, and the only length xft makes or accepts.
pub const TAG_LEN: usize = 16;

/// What went wrong with a key, an IV or a tag.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GcmError {
    /// A key of another length than 16 or 32 bytes.
    #[error("an AES-GCM key is 16 or 32 bytes, not {0}")]
    KeyLength(usize),
    /// An empty IV (SP 800-38D §5.2.1.1 needs at least one bit).
    #[error("an AES-GCM IV cannot be empty")]
    EmptyIv,
    /// The tag did not match: the ciphertext, the key, the IV or the tag was altered.
    #[error("the authentication tag does not match: the data was altered or the key is wrong")]
    BadTag,
}

enum Keystream {
    Aes128(Box<ctr::Ctr32BE<aes::Aes128>>),
    Aes256(Box<ctr::Ctr32BE<aes::Aes256>>),
}

impl Keystream {
    fn apply(&mut self, data: &mut [u8]) {
        match self {
            Keystream::Aes128(c) => c.apply_keystream(data),
            Keystream::Aes256(c) => c.apply_keystream(data),
        }
    }
}

/// Direction of a [`Gcm`] stream.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Seal,
    Open,
}

/// One message in progress: [`Gcm::seal`] or [`Gcm::open`], then [`Gcm::update`] per
/// chunk (any sizes), then [`Gcm::finish_seal`] or [`Gcm::finish_open`].
pub struct Gcm {
    keystream: Keystream,
    ghash: GHash,
    /// E(K, J0): masks the GHASH output into the tag (§7.1 step 6).
    tag_mask: [u8; 16],
    /// Ciphertext bytes not yet a whole block for GHASH.
    pending: [u8; 16],
    pending_len: usize,
    length: u64,
    direction: Direction,
}

impl Gcm {
    /// Starts encrypting with `key` (16 or 32 bytes) and `iv` (12 bytes as everyone
    /// sends; other lengths per §7.1 step 2).
    pub fn seal(key: &[u8], iv: &[u8]) -> Result<Gcm, GcmError> {
        Gcm::new(key, iv, Direction::Seal)
    }

    /// Starts decrypting; the tag is checked by [`Gcm::finish_open`].
    pub fn open(key: &[u8], iv: &[u8]) -> Result<Gcm, GcmError> {
        Gcm::new(key, iv, Direction::Open)
    }

    fn new(key: &[u8], iv: &[u8], direction: Direction) -> Result<Gcm, GcmError> {
        if iv.is_empty() {
            return Err(GcmError::EmptyIv);
        }
        let mut h = [0u8; 16];
        let (keystream, tag_mask) = match key.len() {
            16 => {
                let cipher =
                    aes::Aes128::new_from_slice(key).map_err(|_| GcmError::KeyLength(16))?;
                cipher.encrypt_block((&mut h).into());
                let j0 = pre_counter(&h, iv);
                let mut mask = j0;
                cipher.encrypt_block((&mut mask).into());
                let stream = ctr::Ctr32BE::<aes::Aes128>::new(key.into(), &incremented(j0).into());
                (Keystream::Aes128(Box::new(stream)), mask)
            }
            32 => {
                let cipher =
                    aes::Aes256::new_from_slice(key).map_err(|_| GcmError::KeyLength(32))?;
                cipher.encrypt_block((&mut h).into());
                let j0 = pre_counter(&h, iv);
                let mut mask = j0;
                cipher.encrypt_block((&mut mask).into());
                let stream = ctr::Ctr32BE::<aes::Aes256>::new(key.into(), &incremented(j0).into());
                (Keystream::Aes256(Box::new(stream)), mask)
            }
            n => return Err(GcmError::KeyLength(n)),
        };
        let ghash = GHash::new(&h.into());
        h.zeroize();
        Ok(Gcm {
            keystream,
            ghash,
            tag_mask,
            pending: [0; 16],
            pending_len: 0,
            length: 0,
            direction,
        })
    }

    /// Encrypts (seal) or decrypts (open) `data` in place. On the open side, the
    /// plaintext is not authentic until [`Gcm::finish_open`] says so.
    pub fn update(&mut self, data: &mut [u8]) {
        self.length += data.len() as u64;
        if self.direction == Direction::Open {
            self.authenticate(data);
            self.keystream.apply(data);
        } else {
            self.keystream.apply(data);
            self.authenticate(data);
        }
    }

    /// Feeds ciphertext to GHASH a block at a time, keeping a partial block for later.
    fn authenticate(&mut self, mut ciphertext: &[u8]) {
        if self.pending_len > 0 {
            let take = (16 - self.pending_len).min(ciphertext.len());
            self.pending[self.pending_len..self.pending_len + take]
                .copy_from_slice(&ciphertext[..take]);
            self.pending_len += take;
            ciphertext = &ciphertext[take..];
            if self.pending_len < 16 {
                return;
            }
            self.ghash.update(&[self.pending.into()]);
            self.pending_len = 0;
        }
        let whole = ciphertext.len() / 16 * 16;
        let (blocks, rest) = ciphertext.split_at(whole);
        if !blocks.is_empty() {
            self.ghash.update_padded(blocks);
        }
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The tag over what went through [`Gcm::update`] (§7.1 steps 5-6, no AAD).
    fn tag(mut self) -> [u8; 16] {
        if self.pending_len > 0 {
            self.ghash.update_padded(&self.pending[..self.pending_len]);
        }
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&(self.length.wrapping_mul(8)).to_be_bytes());
        self.ghash.update(&[lengths.into()]);
        let mut tag: [u8; 16] = self.ghash.clone().finalize().into();
        for (t, m) in tag.iter_mut().zip(self.tag_mask.iter()) {
            *t ^= m;
        }
        tag
    }

    /// Ends encryption and returns the tag to append.
    pub fn finish_seal(self) -> [u8; TAG_LEN] {
        self.tag()
    }

    /// Ends decryption: `Ok` only when `tag` is the one the data and key produce.
    pub fn finish_open(self, tag: &[u8]) -> Result<(), GcmError> {
        let ours = self.tag();
        match tag.len() == TAG_LEN && bool::from(ours.ct_eq(tag)) {
            true => Ok(()),
            false => Err(GcmError::BadTag),
        }
    }
}

impl Drop for Gcm {
    fn drop(&mut self) {
        self.tag_mask.zeroize();
        self.pending.zeroize();
    }
}

/// Encrypts `plaintext` whole and returns ciphertext and tag (for small messages).
pub fn seal(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<(Vec<u8>, [u8; TAG_LEN]), GcmError> {
    let mut gcm = Gcm::seal(key, iv)?;
    let mut data = plaintext.to_vec();
    gcm.update(&mut data);
    Ok((data, gcm.finish_seal()))
}

/// Decrypts `ciphertext` whole, checking `tag`; nothing is returned unless it matches.
pub fn open(key: &[u8], iv: &[u8], ciphertext: &[u8], tag: &[u8]) -> Result<Vec<u8>, GcmError> {
    let mut gcm = Gcm::open(key, iv)?;
    let mut data = ciphertext.to_vec();
    gcm.update(&mut data);
    match gcm.finish_open(tag) {
        Ok(()) => Ok(data),
        Err(e) => {
            data.zeroize();
            Err(e)
        }
    }
}

/// J0 (§7.1 step 2): IV ‖ 0³¹ ‖ 1 for a 12-byte IV, else GHASH of the padded IV and
/// its length in bits.
fn pre_counter(h: &[u8; 16], iv: &[u8]) -> [u8; 16] {
    let mut j0 = [0u8; 16];
    if iv.len() == 12 {
        j0[..12].copy_from_slice(iv);
        j0[15] = 1;
        return j0;
    }
    let mut ghash = GHash::new(&(*h).into());
    ghash.update_padded(iv);
    let mut lengths = [0u8; 16];
    lengths[8..].copy_from_slice(&((iv.len() as u64).wrapping_mul(8)).to_be_bytes());
    ghash.update(&[lengths.into()]);
    j0.copy_from_slice(&ghash.finalize());
    j0
}

/// inc32 (§6.2): the low 32 bits plus one, wrapping.
fn incremented(mut block: [u8; 16]) -> [u8; 16] {
    let low = u32::from_be_bytes([block[12], block[13], block[14], block[15]]).wrapping_add(1);
    block[12..].copy_from_slice(&low.to_be_bytes());
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The GCM specification's test cases 3 (AES-128) and 15 (AES-256), 12-byte IV,
    /// without additional data.
    #[test]
    fn matches_the_specification_test_cases() {
        let plain = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
        let cases = [
            ("feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
             "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
             "4d5c2af327cd64a62cf35abd2ba6fab4"),
            ("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
             "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
             "b094dac5d93471bdec1a502270e3cc6c"),
        ];
        for (key, iv, cipher, tag) in cases {
            let (c, t) = seal(&hex(key), &hex(iv), &plain).unwrap();
            assert_eq!((c.clone(), t.to_vec()), (hex(cipher), hex(tag)));
            assert_eq!(open(&hex(key), &hex(iv), &c, &t).unwrap(), plain);
        }
    }

    /// Any chunking gives the bytes RustCrypto's one-shot `aes-gcm` gives, for both key
    /// sizes and for the 16-byte IV some clients send.
    #[test]
    fn streams_like_the_one_shot_implementation() {
        use aes_gcm::aead::{Aead, KeyInit as _};
        use aes_gcm::aes::Aes256;
        use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let key16 = [3u8; 16];
        let key32 = [9u8; 32];
        let iv12 = [5u8; 12];
        let iv16 = [6u8; 16];
        let expect128 = Aes128Gcm::new((&key16).into())
            .encrypt((&iv12).into(), &data[..])
            .unwrap();
        let expect256 = Aes256Gcm::new((&key32).into())
            .encrypt((&iv12).into(), &data[..])
            .unwrap();
        let expect256_16 = AesGcm::<Aes256, aes_gcm::aead::consts::U16>::new((&key32).into())
            .encrypt((&iv16).into(), &data[..])
            .unwrap();
        for (key, iv, expect) in [
            (&key16[..], &iv12[..], expect128),
            (&key32[..], &iv12[..], expect256),
            (&key32[..], &iv16[..], expect256_16),
        ] {
            for chunk in [1usize, 7, 16, 17, 4096] {
                let mut gcm = Gcm::seal(key, iv).unwrap();
                let mut out = data.clone();
                for piece in out.chunks_mut(chunk) {
                    gcm.update(piece);
                }
                out.extend_from_slice(&gcm.finish_seal());
                assert_eq!(out, expect, "chunk {chunk}");
                let mut back = Gcm::open(key, iv).unwrap();
                let (body, tag) = out.split_at_mut(data.len());
                for piece in body.chunks_mut(chunk + 3) {
                    back.update(piece);
                }
                back.finish_open(tag).unwrap();
                assert_eq!(body, &data[..]);
            }
        }
    }

    #[test]
    fn a_changed_bit_or_tag_fails_and_bad_parameters_are_refused() {
        let (mut c, t) = seal(&[1; 32], &[2; 12], b"attack at dawn").unwrap();
        c[3] ^= 1;
        assert_eq!(open(&[1; 32], &[2; 12], &c, &t), Err(GcmError::BadTag));
        c[3] ^= 1;
        assert_eq!(
            open(&[1; 32], &[2; 12], &c, &t[..15]),
            Err(GcmError::BadTag)
        );
        assert_eq!(open(&[1; 16], &[2; 12], &c, &t), Err(GcmError::BadTag));
        assert!(matches!(
            Gcm::seal(&[0; 24], &[0; 12]),
            Err(GcmError::KeyLength(24))
        ));
        assert!(matches!(Gcm::seal(&[0; 16], &[]), Err(GcmError::EmptyIv)));
    }
}
