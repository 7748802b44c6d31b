//! The Signal v3 messages legacy OMEMO puts in each `<key>` (XEP-0384 v0.3 §4.5):
//! `WhisperMessage` = version byte ‖ protobuf ‖ 8-byte MAC, and `PreKeyWhisperMessage`
//! = version byte ‖ protobuf carrying the X3DH header and a whole `WhisperMessage`.
//!
//! The version byte is 0x33 (message version 3 in the high nibble, current version 3 in
//! the low one); a message whose high nibble is not 3 is refused, as Signal refuses it.
//! Field numbers are those every implementation uses (the Signal protocol's
//! `WhisperTextProtocol.proto`, also in python-oldmemo).

use prost::Message;

use super::keys::PublicKey;

/// The version byte xft writes.
pub const VERSION: u8 = 0x33;
/// Length of the truncated MAC after a `WhisperMessage`.
pub const MAC_LEN: usize = 8;
/// Largest `<key>` content accepted (a real one is under 200 bytes: a key exchange
/// header and a 48-byte ciphertext).
pub const MAX_KEY_BLOB: usize = 4096;

/// Why a blob is not a message of ours.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// Empty, too long, or another protocol version.
    #[error("not a Signal v3 message (version byte or length)")]
    Version,
    /// The protobuf did not parse, or lacked a required field.
    #[error("the message's protobuf is malformed")]
    Protobuf,
    /// A public key that is not 0x05 ‖ 32 bytes.
    #[error("the message carries a malformed public key")]
    Key,
}

/// The protobuf inside a `WhisperMessage` (Signal's `SignalMessage`).
#[derive(Clone, PartialEq, Message)]
struct WhisperProto {
    #[prost(bytes = "vec", optional, tag = "1")]
    ratchet_key: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "2")]
    counter: Option<u32>,
    #[prost(uint32, optional, tag = "3")]
    previous_counter: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "4")]
    ciphertext: Option<Vec<u8>>,
}

/// The protobuf of a `PreKeyWhisperMessage` (Signal's `PreKeySignalMessage`).
#[derive(Clone, PartialEq, Message)]
struct PreKeyProto {
    #[prost(uint32, optional, tag = "1")]
    pre_key_id: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "2")]
    base_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "3")]
    identity_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "4")]
    message: Option<Vec<u8>>,
    #[prost(uint32, optional, tag = "5")]
    registration_id: Option<u32>,
    #[prost(uint32, optional, tag = "6")]
    signed_pre_key_id: Option<u32>,
}

/// A `WhisperMessage` with its header read; the MAC is checked by the ratchet, which
/// knows the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhisperMessage {
    /// The sender's current ratchet key.
    pub ratchet_key: PublicKey,
    /// Its index in the sender's current sending chain.
    pub counter: u32,
    /// The length of the sender's previous sending chain.
    pub previous_counter: u32,
    /// AES-256-CBC ciphertext.
    pub ciphertext: Vec<u8>,
    /// The bytes the MAC covers: version byte and protobuf, as received.
    pub authenticated: Vec<u8>,
    /// The MAC.
    pub mac: [u8; MAC_LEN],
}

impl WhisperMessage {
    /// Version byte and protobuf of a new message; the MAC is appended by the caller.
    pub fn encode_body(
        ratchet_key: &PublicKey,
        counter: u32,
        previous_counter: u32,
        ciphertext: &[u8],
    ) -> Vec<u8> {
        let proto = WhisperProto {
            ratchet_key: Some(ratchet_key.serialize().to_vec()),
            counter: Some(counter),
            previous_counter: Some(previous_counter),
            ciphertext: Some(ciphertext.to_vec()),
        };
        let mut out = vec![VERSION];
        proto
            .encode(&mut out)
            .unwrap_or_else(|_| unreachable!("a Vec grows"));
        out
    }

    /// Reads `bytes` (version ‖ protobuf ‖ MAC).
    pub fn parse(bytes: &[u8]) -> Result<WhisperMessage, WireError> {
        if bytes.len() <= 1 + MAC_LEN || bytes.len() > MAX_KEY_BLOB || bytes[0] >> 4 != 3 {
            return Err(WireError::Version);
        }
        let (authenticated, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        let proto = WhisperProto::decode(&authenticated[1..]).map_err(|_| WireError::Protobuf)?;
        let (Some(key), Some(counter), Some(ciphertext)) =
            (proto.ratchet_key, proto.counter, proto.ciphertext)
        else {
            return Err(WireError::Protobuf);
        };
        let mut tag = [0u8; MAC_LEN];
        tag.copy_from_slice(mac);
        Ok(WhisperMessage {
            ratchet_key: PublicKey::parse(&key).ok_or(WireError::Key)?,
            counter,
            previous_counter: proto.previous_counter.unwrap_or(0),
            ciphertext,
            authenticated: authenticated.to_vec(),
            mac: tag,
        })
    }
}

/// A `PreKeyWhisperMessage`: the X3DH header of a session its sender started, and the
/// first (or a repeated) `WhisperMessage` of that session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreKeyWhisperMessage {
    /// The one-time prekey the sender used, when it used one.
    pub pre_key_id: Option<u32>,
    /// The signed prekey the sender used.
    pub signed_pre_key_id: u32,
    /// The sender's ephemeral key (X3DH's EK).
    pub base_key: PublicKey,
    /// The sender's identity key.
    pub identity_key: PublicKey,
    /// The `WhisperMessage` inside, still serialized.
    pub message: Vec<u8>,
}

impl PreKeyWhisperMessage {
    /// Serializes the message (version ‖ protobuf).
    pub fn encode(&self) -> Vec<u8> {
        let proto = PreKeyProto {
            pre_key_id: self.pre_key_id,
            base_key: Some(self.base_key.serialize().to_vec()),
            identity_key: Some(self.identity_key.serialize().to_vec()),
            message: Some(self.message.clone()),
            registration_id: None,
            signed_pre_key_id: Some(self.signed_pre_key_id),
        };
        let mut out = vec![VERSION];
        proto
            .encode(&mut out)
            .unwrap_or_else(|_| unreachable!("a Vec grows"));
        out
    }

    /// Reads `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<PreKeyWhisperMessage, WireError> {
        if bytes.len() < 2 || bytes.len() > MAX_KEY_BLOB || bytes[0] >> 4 != 3 {
            return Err(WireError::Version);
        }
        let proto = PreKeyProto::decode(&bytes[1..]).map_err(|_| WireError::Protobuf)?;
        let (Some(base), Some(identity), Some(message), Some(signed)) = (
            proto.base_key,
            proto.identity_key,
            proto.message,
            proto.signed_pre_key_id,
        ) else {
            return Err(WireError::Protobuf);
        };
        Ok(PreKeyWhisperMessage {
            pre_key_id: proto.pre_key_id,
            signed_pre_key_id: signed,
            base_key: PublicKey::parse(&base).ok_or(WireError::Key)?,
            identity_key: PublicKey::parse(&identity).ok_or(WireError::Key)?,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_garbage_is_refused() {
        let key = PublicKey([7; 32]);
        let mut bytes = WhisperMessage::encode_body(&key, 5, 2, b"0123456789abcdef");
        bytes.extend_from_slice(&[9; MAC_LEN]);
        let m = WhisperMessage::parse(&bytes).unwrap();
        assert_eq!((m.ratchet_key, m.counter, m.previous_counter), (key, 5, 2));
        assert_eq!(m.mac, [9; MAC_LEN]);
        let p = PreKeyWhisperMessage {
            pre_key_id: Some(3),
            signed_pre_key_id: 1,
            base_key: key,
            identity_key: PublicKey([8; 32]),
            message: bytes.clone(),
        };
        assert_eq!(PreKeyWhisperMessage::parse(&p.encode()), Ok(p));
        assert_eq!(WhisperMessage::parse(&[]), Err(WireError::Version));
        assert_eq!(WhisperMessage::parse(&[0x23; 40]), Err(WireError::Version));
        assert_eq!(
            WhisperMessage::parse(&[0x33, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(WireError::Protobuf)
        );
        assert_eq!(
            PreKeyWhisperMessage::parse(&[0x33]),
            Err(WireError::Version)
        );
        assert_eq!(
            PreKeyWhisperMessage::parse(&[0x33, 0x08, 0x01]),
            Err(WireError::Protobuf)
        );
        let mut short_key = vec![VERSION];
        WhisperProto {
            ratchet_key: Some(vec![5; 10]),
            counter: Some(0),
            previous_counter: None,
            ciphertext: Some(vec![]),
        }
        .encode(&mut short_key)
        .unwrap();
        short_key.extend_from_slice(&[0; MAC_LEN]);
        assert_eq!(WhisperMessage::parse(&short_key), Err(WireError::Key));
    }
}
