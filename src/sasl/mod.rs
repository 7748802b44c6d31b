//! SASL authentication as pure state machines: no I/O here (RFC 6120 §6).
//!
//! The session layer carries the base64 payloads in `<auth/>`, `<challenge/>`,
//! `<response/>` and `<success/>`; this module only computes them. Mechanisms are
//! chosen strongest first ([`binding::plan`]): the SCRAM `-PLUS` mechanisms bound to
//! the TLS channel (RFC 5802 §6), then SCRAM-SHA-512, SCRAM-SHA-256 (RFC 7677),
//! SCRAM-SHA-1 (RFC 5802), then PLAIN (RFC 4616), and PLAIN only over an encrypted
//! stream.

pub(crate) mod binding;
pub(crate) mod scram;

pub(crate) use binding::{plan, Channel};
pub(crate) use scram::{Gs2, ScramClient, ScramHash};

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

/// A mechanism xft can run: SCRAM with its hash, `-PLUS` or not; PLAIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    Scram(ScramHash, bool),
    Plain,
}

impl Mechanism {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mechanism::Scram(ScramHash::Sha512, true) => "SCRAM-SHA-512-PLUS",
            Mechanism::Scram(ScramHash::Sha256, true) => "SCRAM-SHA-256-PLUS",
            Mechanism::Scram(ScramHash::Sha1, true) => "SCRAM-SHA-1-PLUS",
            Mechanism::Scram(ScramHash::Sha512, false) => "SCRAM-SHA-512",
            Mechanism::Scram(ScramHash::Sha256, false) => "SCRAM-SHA-256",
            Mechanism::Scram(ScramHash::Sha1, false) => "SCRAM-SHA-1",
            Mechanism::Plain => "PLAIN",
        }
    }

    /// A `-PLUS` mechanism (bound to the channel).
    pub(crate) fn is_plus(self) -> bool {
        matches!(self, Mechanism::Scram(_, true))
    }
}

/// One client-side exchange, whatever the mechanism.
pub(crate) enum Exchange {
    Scram(ScramClient),
    Plain,
}

impl Exchange {
    /// Starts `mechanism` (with the gs2 flag [`plan`] chose); returns the initial
    /// response.
    pub(crate) fn new(
        (mechanism, gs2): (Mechanism, Gs2),
        user: &str,
        password: &str,
    ) -> Result<(Exchange, Vec<u8>), SaslError> {
        match mechanism {
            Mechanism::Plain => Ok((Exchange::Plain, plain_message(user, password)?)),
            Mechanism::Scram(hash, _) => {
                let client = ScramClient::new((hash, gs2), user, password, &scram::random_nonce())?;
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
        let none = Channel::default();
        let choose = |o: &[&str], encrypted| plan(&offered(o), &none, encrypted).map(|p| p.0);
        assert_eq!(
            choose(&["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"], true).unwrap(),
            Mechanism::Scram(ScramHash::Sha256, false)
        );
        assert_eq!(
            choose(&["PLAIN", "SCRAM-SHA-1"], true).unwrap(),
            Mechanism::Scram(ScramHash::Sha1, false)
        );
        assert!(choose(&["PLAIN"], false).is_err());
        assert_eq!(
            choose(&["PLAIN", "X-OAUTH2"], true).unwrap(),
            Mechanism::Plain
        );
        // No channel to bind to: -PLUS is never picked.
        assert_eq!(
            choose(&["SCRAM-SHA-512-PLUS", "SCRAM-SHA-1"], true).unwrap(),
            Mechanism::Scram(ScramHash::Sha1, false)
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
