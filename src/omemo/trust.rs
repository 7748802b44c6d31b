//! Which devices a message may be encrypted for: "blind trust before verification", as
//! Conversations does it by default (it trusts a new key of a contact only while the
//! user has verified none of that contact's keys), or manual trust only.
//!
//! Trust belongs to an identity key (its fingerprint), not to a device id: a device id
//! that shows up with another key is a new key, judged anew. XEP-0384 v0.3 §6 asks that
//! nothing be sent to a device without the user's say: blind trust is that say, given
//! once for a contact's unverified keys, and withdrawn for new ones by verifying one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::keys::PublicKey;

/// What the user has said about a key, or what the policy decided for a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Trusted without verification (a new key while none of the contact's was verified).
    Blind,
    /// Verified by the user (`xft omemo trust`).
    Verified,
    /// Not trusted until the user decides (a new key after one was verified, or any
    /// new key under manual trust).
    Undecided,
    /// Refused by the user (`xft omemo distrust`).
    Distrusted,
}

impl Level {
    /// Whether messages are encrypted for, and accepted from, such a key.
    pub fn is_trusted(self) -> bool {
        matches!(self, Level::Blind | Level::Verified)
    }

    /// As shown to the user and in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Blind => "trusted (not verified)",
            Level::Verified => "verified",
            Level::Undecided => "undecided",
            Level::Distrusted => "distrusted",
        }
    }

    /// One word, for `--json`.
    pub fn word(self) -> &'static str {
        match self {
            Level::Blind => "blind",
            Level::Verified => "verified",
            Level::Undecided => "undecided",
            Level::Distrusted => "distrusted",
        }
    }
}

/// How a new key is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Blind trust before verification (the default).
    #[default]
    BlindUntilVerified,
    /// Every new key is undecided until the user trusts it.
    Manual,
}

/// What is known of one contact's keys (or of our own account's other devices).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contact {
    /// Each key the contact used, by fingerprint, and what we think of it.
    #[serde(default)]
    pub keys: BTreeMap<PublicKey, Level>,
    /// The key each device id last showed.
    #[serde(default)]
    pub devices: BTreeMap<u32, PublicKey>,
}

impl Contact {
    /// Whether the user verified any key of this contact.
    pub fn any_verified(&self) -> bool {
        self.keys.values().any(|l| *l == Level::Verified)
    }

    /// Records that `device` has `key` and returns its level: a key seen before keeps
    /// its level, a new one gets what `policy` gives it.
    pub fn learn(&mut self, device: u32, key: PublicKey, policy: Policy) -> Level {
        self.devices.insert(device, key);
        if let Some(level) = self.keys.get(&key) {
            return *level;
        }
        let level = match policy {
            Policy::BlindUntilVerified if !self.any_verified() => Level::Blind,
            _ => Level::Undecided,
        };
        self.keys.insert(key, level);
        level
    }

    /// The level of the key `device` last showed, if known.
    pub fn level_of_device(&self, device: u32) -> Option<(PublicKey, Level)> {
        let key = self.devices.get(&device)?;
        Some((*key, *self.keys.get(key).unwrap_or(&Level::Undecided)))
    }

    /// The user's decision about `key` (known or not yet seen).
    pub fn decide(&mut self, key: PublicKey, level: Level) {
        self.keys.insert(key, level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_blindly_trusted_until_one_is_verified() {
        let mut c = Contact::default();
        let (a, b, d) = (PublicKey([1; 32]), PublicKey([2; 32]), PublicKey([3; 32]));
        assert_eq!(c.learn(11, a, Policy::BlindUntilVerified), Level::Blind);
        assert_eq!(c.learn(12, b, Policy::BlindUntilVerified), Level::Blind);
        c.decide(b, Level::Verified);
        assert_eq!(c.learn(13, d, Policy::BlindUntilVerified), Level::Undecided);
        assert_eq!(
            c.learn(11, a, Policy::BlindUntilVerified),
            Level::Blind,
            "known keys keep their level"
        );
        assert_eq!(c.level_of_device(13), Some((d, Level::Undecided)));
        // A device that shows another key is judged as a new key.
        assert_eq!(
            c.learn(12, PublicKey([4; 32]), Policy::BlindUntilVerified),
            Level::Undecided
        );
        c.decide(a, Level::Distrusted);
        assert!(!c.level_of_device(11).unwrap().1.is_trusted());
        let mut manual = Contact::default();
        assert_eq!(manual.learn(1, a, Policy::Manual), Level::Undecided);
    }
}
