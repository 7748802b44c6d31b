//! SASL authentication as pure state machines: no I/O here (RFC 6120 §6).
//!
//! The session layer carries the base64 payloads in `<auth/>`, `<challenge/>`,
//! `<response/>` and `<success/>`; this module only computes them. Mechanisms are
//! chosen strongest first: SCRAM-SHA-256 (RFC 7677), SCRAM-SHA-1 (RFC 5802), then PLAIN
//! (RFC 4616), and PLAIN only over an encrypted stream.

pub(crate) mod scram;

pub(crate) use scram::{ScramClient, ScramHash};

#[derive(Debug, thiserror::Error)]
pub enum SaslError {
    #[error("the server offers no SASL mechanism xft supports (offered: {0})")]
    NoMechanism(String),
    #[error("the server's SCRAM message is malformed: {0}")]
    Malformed(&'static str),
    #[error("the server changed the client nonce (possible attack)")]
    NonceMismatch,
    #[error("the server's signature is wrong: it does not know the password (possible attack)")]
    BadServerSignature,
    #[error("the server reported a SCRAM error: {0}")]
    ServerError(String),
    #[error("the iteration count {0} is outside 4096..=1000000")]
    BadIterations(u32),
    #[error("the user name or password contains characters SASLprep forbids")]
    Prep,
}

/// A mechanism xft can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    ScramSha256,
    ScramSha1,
    Plain,
}

impl Mechanism {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::Plain => "PLAIN",
        }
    }

    /// Picks the strongest offered mechanism; PLAIN only when the stream is encrypted.
    pub(crate) fn choose(offered: &[String], encrypted: bool) -> Result<Mechanism, SaslError> {
        let candidates = [
            Mechanism::ScramSha256,
            Mechanism::ScramSha1,
            Mechanism::Plain,
        ];
        candidates
            .into_iter()
            .filter(|m| *m != Mechanism::Plain || encrypted)
            .find(|m| offered.iter().any(|o| o == m.name()))
            .ok_or_else(|| SaslError::NoMechanism(offered.join(", ")))
    }
}

/// One client-side exchange, whatever the mechanism.
pub(crate) enum Exchange {
    Scram(ScramClient),
    Plain,
}

impl Exchange {
    pub(crate) fn new(
        mechanism: Mechanism,
        user: &str,
        password: &str,
    ) -> Result<(Exchange, Vec<u8>), SaslError> {
        match mechanism {
            Mechanism::Plain => Ok((Exchange::Plain, plain_message(user, password)?)),
            Mechanism::ScramSha256 | Mechanism::ScramSha1 => {
                let hash = if mechanism == Mechanism::ScramSha256 {
                    ScramHash::Sha256
                } else {
                    ScramHash::Sha1
                };
                let client = ScramClient::new(hash, user, password, &scram::random_nonce())?;
                let first = client.client_first().into_bytes();
                Ok((Exchange::Scram(client), first))
            }
        }
    }

    /// Answers a server challenge.
    pub(crate) fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        match self {
            Exchange::Scram(c) => Ok(c.handle_server_first(challenge)?.into_bytes()),
            Exchange::Plain => Err(SaslError::Malformed("PLAIN takes no challenge")),
        }
    }

    /// Checks the additional data of `<success/>` (the SCRAM server signature).
    pub(crate) fn finish(&self, success_data: &[u8]) -> Result<(), SaslError> {
        match self {
            Exchange::Scram(c) => c.verify_server_final(success_data),
            Exchange::Plain => Ok(()),
        }
    }
}

/// RFC 4616 §2: `[authzid] NUL authcid NUL passwd`.
fn plain_message(user: &str, password: &str) -> Result<Vec<u8>, SaslError> {
    let user = stringprep::saslprep(user).map_err(|_| SaslError::Prep)?;
    let password = stringprep::saslprep(password).map_err(|_| SaslError::Prep)?;
    let mut msg = vec![0u8];
    msg.extend_from_slice(user.as_bytes());
    msg.push(0);
    msg.extend_from_slice(password.as_bytes());
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_strongest_and_plain_only_when_encrypted() {
        let offered = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Mechanism::choose(&offered(&["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"]), true).unwrap(),
            Mechanism::ScramSha256
        );
        assert_eq!(
            Mechanism::choose(&offered(&["PLAIN", "SCRAM-SHA-1"]), true).unwrap(),
            Mechanism::ScramSha1
        );
        assert!(Mechanism::choose(&offered(&["PLAIN"]), false).is_err());
        assert_eq!(
            Mechanism::choose(&offered(&["PLAIN", "X-OAUTH2"]), true).unwrap(),
            Mechanism::Plain
        );
    }

    #[test]
    fn plain_message_layout() {
        assert_eq!(
            plain_message("tim", "tanstaaftanstaaf").unwrap(),
            b"\0tim\0tanstaaftanstaaf"
        );
    }
}
