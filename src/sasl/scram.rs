//! SCRAM client (RFC 5802 §3, §5, §7; SHA-256 per RFC 7677, SHA-512 as
//! draft-melnikov-scram-sha-512 names it), with channel binding (RFC 5802 §6: the
//! `-PLUS` mechanisms, bound with `tls-exporter`, RFC 9266, or `tls-server-end-point`,
//! RFC 5929) and its downgrade protection (the `y` flag).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::SaslError;

/// The hash function a SCRAM mechanism is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    Sha1,
    Sha256,
    Sha512,
}

/// Iteration counts outside this range are refused: too low is a downgrade, too high a
/// denial of service against the client.
const ITERATIONS: std::ops::RangeInclusive<u32> = 4096..=1_000_000;

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => hmac_with::<Hmac<Sha1>>(key, data),
            ScramHash::Sha256 => hmac_with::<Hmac<Sha256>>(key, data),
            ScramHash::Sha512 => hmac_with::<Hmac<Sha512>>(key, data),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// RFC 5802 §2.2 Hi(): PBKDF2 with HMAC as the PRF.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => {
                let mut out = [0u8; 20];
                pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out);
                out.to_vec()
            }
            ScramHash::Sha256 => {
                let mut out = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out.to_vec()
            }
            ScramHash::Sha512 => {
                let mut out = [0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out);
                out.to_vec()
            }
        }
    }
}

fn hmac_with<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A random nonce of 32 alphanumeric characters (~190 bits). RFC 5802 allows any
/// printable character but ','; Prosody 0.12 refuses some of them ('+', '/'), so stay
/// with the characters everybody accepts.
pub(crate) fn random_nonce() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// RFC 5802 §7 gs2-cbind-flag, with the channel binding data for `p`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gs2 {
    /// `n`: the client cannot bind to the channel.
    NoBinding,
    /// `y`: the client can, but the server offered no `-PLUS` mechanism. A server that
    /// can bind fails the exchange: someone removed `-PLUS` from its offer (§6).
    ServerCannot,
    /// `p=TYPE`: bound to the channel with this type and data (a `-PLUS` mechanism).
    Bound { kind: &'static str, data: Vec<u8> },
}

impl Gs2 {
    /// The gs2-header ("n,,", "y,," or "p=tls-exporter,,"), without authzid.
    fn header(&self) -> String {
        match self {
            Gs2::NoBinding => "n,,".to_owned(),
            Gs2::ServerCannot => "y,,".to_owned(),
            Gs2::Bound { kind, .. } => format!("p={kind},,"),
        }
    }

    /// The `c=` attribute: base64 of the header and the binding data (§7).
    fn channel_binding(&self) -> String {
        let mut input = self.header().into_bytes();
        if let Gs2::Bound { data, .. } = self {
            input.extend_from_slice(data);
        }
        B64.encode(input)
    }
}

/// Client side of one SCRAM exchange.
pub(crate) struct ScramClient {
    hash: ScramHash,
    password: String,
    client_nonce: String,
    client_first_bare: String,
    gs2: Gs2,
    /// Set once the server-first message is processed.
    expected_server_signature: Option<Vec<u8>>,
}

impl ScramClient {
    pub(crate) fn new(
        (hash, gs2): (ScramHash, Gs2),
        user: &str,
        password: &str,
        nonce: &str,
    ) -> Result<Self, SaslError> {
        let user = stringprep::saslprep(user).map_err(|_| SaslError::Prep)?;
        let password = stringprep::saslprep(password).map_err(|_| SaslError::Prep)?;
        // RFC 5802 §5.1: ',' and '=' in the user name are sent as '=2C' and '=3D'.
        let user = user.replace('=', "=3D").replace(',', "=2C");
        Ok(ScramClient {
            hash,
            password: password.into_owned(),
            client_nonce: nonce.to_owned(),
            client_first_bare: format!("n={user},r={nonce}"),
            gs2,
            expected_server_signature: None,
        })
    }

    /// RFC 5802 §7 client-first-message: the gs2 header (no authzid), then the bare part.
    pub(crate) fn client_first(&self) -> String {
        format!("{}{}", self.gs2.header(), self.client_first_bare)
    }

    /// Takes server-first-message, returns client-final-message.
    pub(crate) fn handle_server_first(&mut self, msg: &[u8]) -> Result<String, SaslError> {
        let msg = std::str::from_utf8(msg).map_err(|_| SaslError::Malformed("not UTF-8"))?;
        let nonce = attribute(msg, 'r').ok_or(SaslError::Malformed("no nonce"))?;
        let salt = attribute(msg, 's').ok_or(SaslError::Malformed("no salt"))?;
        let iterations = attribute(msg, 'i').ok_or(SaslError::Malformed("no iteration count"))?;
        // RFC 5802 §5.1: the server nonce starts with the client's.
        if !nonce.starts_with(&self.client_nonce) || nonce.len() == self.client_nonce.len() {
            return Err(SaslError::NonceMismatch);
        }
        let salt = B64
            .decode(salt)
            .map_err(|_| SaslError::Malformed("salt is not base64"))?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| SaslError::Malformed("iteration count is not a number"))?;
        if !ITERATIONS.contains(&iterations) {
            return Err(SaslError::BadIterations(iterations));
        }
        let h = self.hash;
        // Under the fuzzer, one round: parsing is what is fuzzed, and a million PBKDF2
        // rounds per input would leave it a few thousand inputs a second.
        let rounds = if cfg!(fuzzing) { 1 } else { iterations };
        let salted = h.salted_password(self.password.as_bytes(), &salt, rounds);
        let client_key = h.hmac(&salted, b"Client Key");
        let stored_key = h.hash(&client_key);
        let without_proof = format!("c={},r={nonce}", self.gs2.channel_binding());
        let auth_message = format!("{},{msg},{without_proof}", self.client_first_bare);
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = h.hmac(&salted, b"Server Key");
        self.expected_server_signature = Some(h.hmac(&server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", B64.encode(proof)))
    }

    /// Checks server-final-message; a server that cannot prove the password is refused.
    pub(crate) fn verify_server_final(&self, msg: &[u8]) -> Result<(), SaslError> {
        let msg = std::str::from_utf8(msg).map_err(|_| SaslError::Malformed("not UTF-8"))?;
        if let Some(e) = attribute(msg, 'e') {
            return Err(SaslError::ServerError(e.to_owned()));
        }
        let expected = self
            .expected_server_signature
            .as_ref()
            .ok_or(SaslError::Malformed("success before the challenge"))?;
        let v = attribute(msg, 'v').ok_or(SaslError::BadServerSignature)?;
        let got = B64.decode(v).map_err(|_| SaslError::BadServerSignature)?;
        if &got != expected {
            return Err(SaslError::BadServerSignature);
        }
        Ok(())
    }
}

/// The value of `key=` in a comma-separated SCRAM message.
fn attribute(msg: &str, key: char) -> Option<&str> {
    msg.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(key) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5802 §5 example exchange (SCRAM-SHA-1).
    #[test]
    fn rfc5802_vector() {
        let mut c = ScramClient::new(
            (ScramHash::Sha1, Gs2::NoBinding),
            "user",
            "pencil",
            "fyko+d2lbbFgONRv9qkxdawL",
        )
        .unwrap();
        assert_eq!(c.client_first(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        let server_first =
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        assert_eq!(
            c.handle_server_first(server_first).unwrap(),
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        c.verify_server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
            .unwrap();
        assert!(matches!(
            c.verify_server_final(b"v=AAAApqV8S7suAoZWja4dJRkFsKQ="),
            Err(SaslError::BadServerSignature)
        ));
    }

    /// RFC 7677 §3 example exchange (SCRAM-SHA-256).
    #[test]
    fn rfc7677_vector() {
        let mut c = ScramClient::new(
            (ScramHash::Sha256, Gs2::NoBinding),
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO",
        )
        .unwrap();
        assert_eq!(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            c.handle_server_first(server_first).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        c.verify_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
    }

    #[test]
    fn refuses_a_server_that_changes_our_nonce() {
        let mut c =
            ScramClient::new((ScramHash::Sha1, Gs2::NoBinding), "user", "pencil", "abc").unwrap();
        assert!(matches!(
            c.handle_server_first(b"r=xyz123,s=QSXCR+Q6sek8bf92,i=4096"),
            Err(SaslError::NonceMismatch)
        ));
        assert!(matches!(
            c.handle_server_first(b"r=abc123,s=QSXCR+Q6sek8bf92,i=1"),
            Err(SaslError::BadIterations(1))
        ));
    }

    /// RFC 5802 §6-§7: the gs2 header is in the client-first message and, with the
    /// binding data, base64 in `c=`; and it enters the proof (the AuthMessage holds
    /// `c=`), so a server that binds to another channel computes another proof.
    #[test]
    fn channel_binding_goes_into_c_and_the_proof() {
        let server_first = b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096";
        let bound = Gs2::Bound {
            kind: "tls-exporter",
            data: vec![1, 2, 3],
        };
        let mut c = ScramClient::new((ScramHash::Sha512, bound), "u", "p", "abc").unwrap();
        assert_eq!(c.client_first(), "p=tls-exporter,,n=u,r=abc");
        let last = c.handle_server_first(server_first).unwrap();
        let c_attr = B64.encode(b"p=tls-exporter,,\x01\x02\x03");
        assert!(
            last.starts_with(&format!("c={c_attr},r=abcdef,p=")),
            "{last}"
        );
        let mut y =
            ScramClient::new((ScramHash::Sha512, Gs2::ServerCannot), "u", "p", "abc").unwrap();
        assert_eq!(y.client_first(), "y,,n=u,r=abc");
        let last_y = y.handle_server_first(server_first).unwrap();
        assert!(last_y.starts_with("c=eSws,r=abcdef,p="), "{last_y}");
        let proof = |m: &str| m.rsplit_once("p=").map(|(_, p)| p.to_owned());
        assert_ne!(proof(&last), proof(&last_y));
        // SHA-512: a 64-byte proof.
        let decoded = B64.decode(proof(&last).unwrap()).unwrap();
        assert_eq!(decoded.len(), 64);
    }

    /// SCRAM-SHA-512-PLUS with tls-exporter data 0x00..0x1f, RFC 7677's user, password,
    /// nonces and salt; the expected messages computed with Python's hashlib and hmac.
    #[test]
    fn sha512_plus_vector() {
        let bound = Gs2::Bound {
            kind: "tls-exporter",
            data: (0u8..32).collect(),
        };
        let mut c = ScramClient::new(
            (ScramHash::Sha512, bound),
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO",
        )
        .unwrap();
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            c.handle_server_first(server_first).unwrap(),
            "c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f,\
             r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=jVaGV/PIJ7hgkpxV9a1jdpzyYkHQH9gW6fn3DbAL2oEA+5w4CCSJjoq8G37bn2FsGaVEMsk4kiHRqMUoN/aiiA=="
        );
        c.verify_server_final(b"v=bTvxua5nsJsvSd2bk+1WbSe84MBgjkACQPOqiN7MhTBLYxVX2QUqwET2NLcZEv2CfexR6NbAMluKltOEs5vLYw==")
            .unwrap();
    }

    #[test]
    fn escapes_user_name() {
        let c = ScramClient::new((ScramHash::Sha1, Gs2::NoBinding), "a=b,c", "p", "n").unwrap();
        assert_eq!(c.client_first(), "n,,n=a=3Db=2Cc,r=n");
    }
}
