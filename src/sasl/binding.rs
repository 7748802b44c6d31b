//! Channel binding for SCRAM (RFC 5802 §6): what the TLS channel offers to bind to, and
//! the choice of mechanism and binding.
//!
//! * `tls-exporter` (RFC 9266): 32 bytes exported from TLS 1.3 with the label
//!   "EXPORTER-Channel-Binding" and no context; the default for TLS 1.3.
//! * `tls-server-end-point` (RFC 5929 §4.1): the hash of the server's certificate, with
//!   the hash of its signature algorithm (SHA-256 where that is MD5 or SHA-1).
//!
//! xft binds only to a type the server lists (XEP-0440). `tls-unique`, the default for
//! TLS 1.2 (and what ejabberd 23.01 binds to whatever the version), cannot be had from
//! rustls.

use sha2::{Digest, Sha256, Sha384, Sha512};

use super::scram::{Gs2, ScramHash};
use super::{Mechanism, SaslError};

/// RFC 9266 §2.
pub(crate) const EXPORTER_LABEL: &[u8] = b"EXPORTER-Channel-Binding";
/// XEP-0440.
pub(crate) const SASL_CB_NS: &str = "urn:xmpp:sasl-cb:0";

/// What the TLS channel offers to bind to, and the types the server lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Channel {
    /// The `tls-exporter` data (TLS 1.3 only).
    pub exporter: Option<Vec<u8>>,
    /// The `tls-server-end-point` data.
    pub end_point: Option<Vec<u8>>,
    /// The types the server lists in `<sasl-channel-binding/>` (XEP-0440); empty when
    /// it lists none.
    pub advertised: Vec<String>,
}

impl Channel {
    /// The binding type and data both sides have, among the types the server lists,
    /// `tls-exporter` first. A server that lists none gets no binding: RFC 9266 makes
    /// `tls-exporter` the default with TLS 1.3, but ejabberd 23.01 binds to `tls-unique`
    /// even there (docs/interop.md §6), which rustls cannot give.
    fn common(&self) -> Option<(&'static str, Vec<u8>)> {
        let listed = |kind: &str| self.advertised.iter().any(|a| a == kind);
        if let Some(data) = self.exporter.as_ref().filter(|_| listed("tls-exporter")) {
            return Some(("tls-exporter", data.clone()));
        }
        let data = self
            .end_point
            .as_ref()
            .filter(|_| listed("tls-server-end-point"))?;
        Some(("tls-server-end-point", data.clone()))
    }

    /// Whether xft could bind to this channel at all.
    fn can_bind(&self) -> bool {
        self.exporter.is_some() || self.end_point.is_some()
    }
}

/// Mechanisms strongest first: every `-PLUS` before any other (binding to the channel
/// matters more than the hash), then the plain SCRAMs, then PLAIN (over TLS only).
const PREFERENCE: [Mechanism; 7] = [
    Mechanism::Scram(ScramHash::Sha512, true),
    Mechanism::Scram(ScramHash::Sha256, true),
    Mechanism::Scram(ScramHash::Sha1, true),
    Mechanism::Scram(ScramHash::Sha512, false),
    Mechanism::Scram(ScramHash::Sha256, false),
    Mechanism::Scram(ScramHash::Sha1, false),
    Mechanism::Plain,
];

/// Picks the mechanism and the gs2 flag (RFC 5802 §6-§7): a `-PLUS` mechanism when the
/// server offers one and both sides have a binding type; otherwise the strongest
/// other one, flagged `y` when xft could bind but the server offered no `-PLUS` (a
/// server that can bind then refuses: someone removed `-PLUS` from its offer), `n`
/// when xft cannot bind or the two share no binding type.
pub(crate) fn plan(
    offered: &[String],
    channel: &Channel,
    encrypted: bool,
) -> Result<(Mechanism, Gs2), SaslError> {
    let common = channel.common();
    let offers_plus = offered.iter().any(|m| m.ends_with("-PLUS"));
    let mechanism = PREFERENCE
        .into_iter()
        .filter(|m| !m.is_plus() || common.is_some())
        .filter(|m| *m != Mechanism::Plain || encrypted)
        .find(|m| offered.iter().any(|o| o == m.name()))
        .ok_or_else(|| SaslError::NoMechanism(offered.join(", ")))?;
    let gs2 = match (mechanism.is_plus(), common) {
        (true, Some((kind, data))) => Gs2::Bound { kind, data },
        _ if !offers_plus && channel.can_bind() => Gs2::ServerCannot,
        _ => Gs2::NoBinding,
    };
    Ok((mechanism, gs2))
}

/// RFC 5929 §4.1: the hash of the server's certificate (DER) with its signature
/// algorithm's hash, SHA-256 for MD5 and SHA-1; `None` for an algorithm with no single
/// hash (Ed25519, RSA-PSS) or a certificate that does not parse.
pub(crate) fn end_point_hash(certificate: &[u8]) -> Option<Vec<u8>> {
    let algorithm = signature_algorithm(certificate)?;
    let hash = match algorithm.as_slice() {
        // md5WithRSA, sha1WithRSA, ecdsa-with-SHA1 / dsa-with-sha1 style: SHA-256.
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04 | 0x05 | 0x0b]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02] => Sha256::digest(certificate).to_vec(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03] => Sha384::digest(certificate).to_vec(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04] => Sha512::digest(certificate).to_vec(),
        _ => return None,
    };
    Some(hash)
}

/// The OID (its content bytes) of a certificate's outer signatureAlgorithm:
/// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm SEQUENCE { OID, … }, … }`.
fn signature_algorithm(der: &[u8]) -> Option<Vec<u8>> {
    let (tag, certificate, _) = der_item(der)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, after_tbs) = der_item(certificate)?;
    let (tag, algorithm, _) = der_item(after_tbs)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, _) = der_item(algorithm)?;
    (tag == 0x06).then(|| oid.to_vec())
}

/// One DER item: its tag, its contents and what follows it. Definite lengths only
/// (DER has no other), at most 4 length bytes; no recursion.
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = match first {
        0..=0x7f => (first as usize, rest),
        0x81..=0x84 => {
            let count = (first & 0x7f) as usize;
            let (bytes, rest) = (rest.get(..count)?, rest.get(count..)?);
            let length = bytes.iter().fold(0usize, |n, b| (n << 8) | *b as usize);
            (length, rest)
        }
        _ => return None,
    };
    Some((tag, rest.get(..length)?, rest.get(length..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn tls13() -> Channel {
        Channel {
            exporter: Some(vec![9; 32]),
            end_point: Some(vec![8; 32]),
            advertised: vec!["tls-exporter".into(), "tls-server-end-point".into()],
        }
    }

    const EJABBERD: [&str; 8] = [
        "SCRAM-SHA-512-PLUS",
        "SCRAM-SHA-512",
        "SCRAM-SHA-256-PLUS",
        "SCRAM-SHA-256",
        "SCRAM-SHA-1-PLUS",
        "SCRAM-SHA-1",
        "PLAIN",
        "X-OAUTH2",
    ];

    #[test]
    fn plus_first_with_the_binding_both_sides_have() {
        let (m, gs2) = plan(&offered(&EJABBERD), &tls13(), true).unwrap();
        assert_eq!(m.name(), "SCRAM-SHA-512-PLUS");
        assert!(matches!(
            gs2,
            Gs2::Bound {
                kind: "tls-exporter",
                ..
            }
        ));
        let listed = Channel {
            advertised: vec!["tls-server-end-point".into()],
            ..tls13()
        };
        let (_, gs2) = plan(&offered(&EJABBERD), &listed, true).unwrap();
        assert_eq!(
            gs2,
            Gs2::Bound {
                kind: "tls-server-end-point",
                data: vec![8; 32]
            }
        );
        let only_sha1_plus = offered(&["SCRAM-SHA-1-PLUS", "SCRAM-SHA-512"]);
        assert_eq!(
            plan(&only_sha1_plus, &tls13(), true).unwrap().0.name(),
            "SCRAM-SHA-1-PLUS"
        );
    }

    /// RFC 5802 §6: a server that offers no -PLUS gets `y` from a client that could
    /// bind; `n` when the client cannot, or when the two share no binding type.
    #[test]
    fn downgrade_protection() {
        let stripped = offered(&["SCRAM-SHA-512", "SCRAM-SHA-1", "PLAIN"]);
        let (m, gs2) = plan(&stripped, &tls13(), true).unwrap();
        assert_eq!((m.name(), gs2), ("SCRAM-SHA-512", Gs2::ServerCannot));
        let (_, gs2) = plan(&stripped, &Channel::default(), true).unwrap();
        assert_eq!(gs2, Gs2::NoBinding);
        let tls12_unique_only = Channel {
            exporter: None,
            end_point: Some(vec![1]),
            advertised: vec!["tls-unique".into()],
        };
        let (m, gs2) = plan(&offered(&EJABBERD), &tls12_unique_only, true).unwrap();
        assert_eq!((m.name(), gs2), ("SCRAM-SHA-512", Gs2::NoBinding));
        // ejabberd 23.01: -PLUS offered, no list (it binds to tls-unique): no binding,
        // and `n`, not `y` (the server does offer -PLUS).
        let unlisted = Channel {
            advertised: Vec::new(),
            ..tls13()
        };
        let (m, gs2) = plan(&offered(&EJABBERD), &unlisted, true).unwrap();
        assert_eq!((m.name(), gs2), ("SCRAM-SHA-512", Gs2::NoBinding));
        let prosody = offered(&["SCRAM-SHA-1", "PLAIN"]);
        assert_eq!(
            plan(&prosody, &tls13(), true).unwrap().0.name(),
            "SCRAM-SHA-1"
        );
        assert!(plan(&offered(&["PLAIN"]), &tls13(), false).is_err());
        assert!(plan(&offered(&["X-OAUTH2"]), &tls13(), true).is_err());
    }

    #[test]
    fn end_point_hash_follows_the_signature_algorithm() {
        for (alg, len) in [
            (&rcgen::PKCS_ECDSA_P256_SHA256, 32),
            (&rcgen::PKCS_ECDSA_P384_SHA384, 48),
        ] {
            let key = rcgen::KeyPair::generate_for(alg).unwrap();
            let params = rcgen::CertificateParams::new(vec!["xft.test".to_owned()]).unwrap();
            let cert = params.self_signed(&key).unwrap();
            let hash = end_point_hash(cert.der()).unwrap();
            assert_eq!(hash.len(), len);
        }
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let params = rcgen::CertificateParams::new(vec!["xft.test".to_owned()]).unwrap();
        assert_eq!(
            end_point_hash(params.self_signed(&key).unwrap().der()),
            None
        );
        assert_eq!(end_point_hash(b"\x30\x84\xff\xff\xff\xff"), None);
        assert_eq!(end_point_hash(b""), None);
    }
}
