//! SCRAM client (RFC 5802 §3, §5, §7; SHA-256 per RFC 7677), without channel binding.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::SaslError;

/// The hash function a SCRAM mechanism is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    Sha1,
    Sha256,
}

/// Iteration counts outside this range are refused: too low is a downgrade, too high a
/// denial of service against the client.
const ITERATIONS: std::ops::RangeInclusive<u32> = 4096..=1_000_000;

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => hmac_with::<Hmac<Sha1>>(key, data),
            ScramHash::Sha256 => hmac_with::<Hmac<Sha256>>(key, data),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
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

/// Client side of one SCRAM exchange.
pub(crate) struct ScramClient {
    hash: ScramHash,
    password: String,
    client_nonce: String,
    client_first_bare: String,
    /// Set once the server-first message is processed.
    expected_server_signature: Option<Vec<u8>>,
}

impl ScramClient {
    pub(crate) fn new(
        hash: ScramHash,
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
            expected_server_signature: None,
        })
    }

    /// RFC 5802 §7 client-first-message; "n,," = no channel binding, no authzid.
    pub(crate) fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
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
        let without_proof = format!("c=biws,r={nonce}");
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
            ScramHash::Sha1,
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
        let mut c =
            ScramClient::new(ScramHash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO").unwrap();
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
        let mut c = ScramClient::new(ScramHash::Sha1, "user", "pencil", "abc").unwrap();
        assert!(matches!(
            c.handle_server_first(b"r=xyz123,s=QSXCR+Q6sek8bf92,i=4096"),
            Err(SaslError::NonceMismatch)
        ));
        assert!(matches!(
            c.handle_server_first(b"r=abc123,s=QSXCR+Q6sek8bf92,i=1"),
            Err(SaslError::BadIterations(1))
        ));
    }

    #[test]
    fn escapes_user_name() {
        let c = ScramClient::new(ScramHash::Sha1, "a=b,c", "p", "n").unwrap();
        assert_eq!(c.client_first(), "n,,n=a=3Db=2Cc,r=n");
    }
}
