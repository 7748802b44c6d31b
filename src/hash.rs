//! The hash that verifies a file, whatever the negotiation: MD5 for SI (XEP-0096 §3
//! puts it in the offer), and the XEP-0300 algorithms Jingle file transfer names in
//! `<hash algo='…'/>` (XEP-0300 §2: sha-256 is the one to use; sha-1 and sha-512 are
//! read for compatibility; BLAKE2b-256 and -512 from the same registry are verified
//! too, never chosen for sending: with SHA-NI, SHA-256 is the cheapest of them).

use blake2::digest::consts::{U32, U64};
use blake2::Blake2b;
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// Lowercase hex of `bytes` (how SI carries MD5, and how digests are shown).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A hash algorithm xft can verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Not in XEP-0300's registry; only SI uses it.
    Md5,
    /// `sha-1` (read for compatibility: Conversations and Dino send it).
    Sha1,
    /// `sha-256`, what xft sends.
    Sha256,
    /// `sha-512`.
    Sha512,
    /// `blake2b-256`.
    Blake2b256,
    /// `blake2b-512`.
    Blake2b512,
}

impl Algorithm {
    /// XEP-0300 §2 / the IANA "Hash Function Textual Names" registry.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha-1",
            Algorithm::Sha256 => "sha-256",
            Algorithm::Sha512 => "sha-512",
            Algorithm::Blake2b256 => "blake2b-256",
            Algorithm::Blake2b512 => "blake2b-512",
        }
    }

    /// The algorithm of a textual name, if xft has it.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name.trim() {
            "md5" => Some(Algorithm::Md5),
            "sha-1" => Some(Algorithm::Sha1),
            "sha-256" => Some(Algorithm::Sha256),
            "sha-512" => Some(Algorithm::Sha512),
            "blake2b-256" => Some(Algorithm::Blake2b256),
            "blake2b-512" => Some(Algorithm::Blake2b512),
            _ => None,
        }
    }
}

/// A running hash of one of the [`Algorithm`]s.
#[derive(Clone)]
pub(crate) enum Hasher {
    Md5(Md5),
    Sha1(Sha1),
    Sha256(Sha256),
    Sha512(Sha512),
    Blake2b256(Blake2b<U32>),
    Blake2b512(Blake2b<U64>),
}

impl Hasher {
    pub(crate) fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Md5 => Hasher::Md5(Md5::new()),
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
            Algorithm::Blake2b256 => Hasher::Blake2b256(Blake2b::new()),
            Algorithm::Blake2b512 => Hasher::Blake2b512(Blake2b::new()),
        }
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Md5(_) => Algorithm::Md5,
            Hasher::Sha1(_) => Algorithm::Sha1,
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha512(_) => Algorithm::Sha512,
            Hasher::Blake2b256(_) => Algorithm::Blake2b256,
            Hasher::Blake2b512(_) => Algorithm::Blake2b512,
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Blake2b256(h) => h.update(data),
            Hasher::Blake2b512(h) => h.update(data),
        }
    }

    /// The digest's bytes.
    pub(crate) fn finalize(self) -> Vec<u8> {
        match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
            Hasher::Blake2b256(h) => h.finalize().to_vec(),
            Hasher::Blake2b512(h) => h.finalize().to_vec(),
        }
    }

    /// The digest in lowercase hex (how SI carries MD5).
    pub(crate) fn hex(self) -> String {
        hex(&self.finalize())
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hasher({})", self.algorithm().name())
    }
}

/// The hash of the next `len` bytes of `reader` (a resumed file's prefix); the reader is
/// left just past them.
pub(crate) fn hash_prefix(
    reader: &mut impl std::io::Read,
    len: u64,
    algorithm: Algorithm,
) -> std::io::Result<Hasher> {
    let mut hasher = Hasher::new(algorithm);
    feed_prefix(reader, len, |data| hasher.update(data))?;
    Ok(hasher)
}

/// CRC-32 of the next `len` bytes of `reader`; the reader is left just past them.
pub(crate) fn crc_prefix(
    reader: &mut impl std::io::Read,
    len: u64,
) -> std::io::Result<crc32fast::Hasher> {
    let mut crc = crc32fast::Hasher::new();
    feed_prefix(reader, len, |data| crc.update(data))?;
    Ok(crc)
}

fn feed_prefix(
    reader: &mut impl std::io::Read,
    len: u64,
    feed: impl FnMut(&[u8]),
) -> std::io::Result<()> {
    let copied = std::io::copy(&mut std::io::Read::take(reader, len), &mut FeedWriter(feed))?;
    if copied < len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file is shorter than the part to skip",
        ));
    }
    Ok(())
}

struct FeedWriter<F>(F);

impl<F: FnMut(&[u8])> std::io::Write for FeedWriter<F> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        (self.0)(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FIPS 180-2 and RFC 1321 test vectors for "abc", through the shared interface.
    #[test]
    fn known_digests_of_abc() {
        let hex = |algorithm| {
            let mut h = Hasher::new(algorithm);
            h.update(b"a");
            h.update(b"bc");
            h.hex()
        };
        assert_eq!(hex(Algorithm::Md5), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(Algorithm::Sha1),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(Algorithm::Sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hex(Algorithm::Sha512).starts_with("ddaf35a193617aba"));
        // RFC 7693 Appendix A (BLAKE2b-512 of "abc").
        assert!(hex(Algorithm::Blake2b512).starts_with("ba80a53f981c4d0d6a2797b69f12f6e9"));
        // BLAKE2b-256 is its own parameter set, not a truncation of -512.
        assert_eq!(
            hex(Algorithm::Blake2b256),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
    }

    /// XEP-0300 §2: the names, both ways; unknown names are not guessed at.
    #[test]
    fn names_round_trip() {
        for a in [
            Algorithm::Md5,
            Algorithm::Sha1,
            Algorithm::Sha256,
            Algorithm::Sha512,
            Algorithm::Blake2b256,
            Algorithm::Blake2b512,
        ] {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
            assert_eq!(Hasher::new(a).algorithm(), a);
        }
        assert_eq!(Algorithm::from_name("blake2b-384"), None);
        assert_eq!(Algorithm::from_name("SHA-256"), None);
    }
}
