//! Which way `xft send` takes to a peer, decided in one place: `xft send` acts on it and
//! `xft probe` reports it, so the verdict cannot drift from what a send does.
//!
//! Jingle file transfer (XEP-0234) first when the peer lists it: it is what today's
//! clients speak, and it hashes beside the copy instead of reading the file once before
//! sending (SI puts the MD5 in its offer, XEP-0096 §3). SI otherwise, also when the
//! peer's features are unknown. Failures that nobody refused (offline, no resource
//! visible, no file transfer, no answer) leave HTTP upload (XEP-0363) as the way.

use crate::disco;
use crate::ns::{JINGLE_FT_NS, SI_FILE_TRANSFER_NS};

use super::TransferError;

/// `--protocol`: what the user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    Auto,
    Jingle,
    Si,
}

/// What a peer's resource advertises that decides the protocol (XEP-0030 features).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Features {
    /// `http://jabber.org/protocol/si/profile/file-transfer` (XEP-0096).
    pub si: bool,
    /// `urn:xmpp:jingle:apps:file-transfer:5` (XEP-0234).
    pub jingle: bool,
    /// The client names itself libervia (formerly Salut à Toi) in its disco identity:
    /// libervia 0.9 reads a Jingle checksum only as base64 of the hex digest (without
    /// it, it leaves the checksum unanswered and ends the session unverified 5 s later).
    pub libervia: bool,
}

impl Features {
    pub(crate) fn of(info: &disco::Info) -> Features {
        let libervia = info.names.iter().any(|n| {
            let n = n.to_lowercase();
            n.starts_with("libervia") || n.starts_with("salut à toi")
        });
        Features {
            si: info.has_feature(SI_FILE_TRANSFER_NS),
            jingle: info.has_feature(JINGLE_FT_NS),
            libervia,
        }
    }
}

/// A peer-to-peer protocol for files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Jingle,
    Si,
}

impl Protocol {
    /// The name in reports: "jingle" or "si".
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Jingle => "jingle",
            Protocol::Si => "si",
        }
    }
}

/// Whether a resource with `features` can take a file the way `wanted` asks.
pub(crate) fn takes_files(wanted: Wanted, features: Features) -> bool {
    match wanted {
        Wanted::Si => features.si,
        Wanted::Jingle => features.jingle,
        Wanted::Auto => features.si || features.jingle,
    }
}

/// The protocol for a peer with `features` (`None`: unknown), and why.
pub(crate) fn protocol(wanted: Wanted, features: Option<Features>) -> (Protocol, &'static str) {
    match (wanted, features) {
        (Wanted::Si, _) => (Protocol::Si, "--protocol si"),
        (Wanted::Jingle, _) => (Protocol::Jingle, "--protocol jingle"),
        (Wanted::Auto, Some(f)) if f.jingle => (
            Protocol::Jingle,
            "the recipient speaks Jingle file transfer",
        ),
        (Wanted::Auto, Some(f)) if f.si => (
            Protocol::Si,
            "the recipient speaks SI file transfer but not Jingle",
        ),
        (Wanted::Auto, Some(_)) => (Protocol::Si, "the recipient advertises neither; trying SI"),
        (Wanted::Auto, None) => (
            Protocol::Si,
            "the recipient's features are unknown; trying SI",
        ),
    }
}

/// Of a bare JID's resources (highest presence priority first), the one `xft send`
/// sends to: the first that takes files the way `wanted` asks.
pub(crate) fn pick<T>(
    wanted: Wanted,
    resources: impl IntoIterator<Item = (T, Features)>,
) -> Option<(T, Features)> {
    resources
        .into_iter()
        .find(|(_, features)| takes_files(wanted, *features))
}

/// Failures of the peer-to-peer route that an upload can get around: nobody online to
/// take the file, nobody visible, nobody able or answering. Not a refusal.
pub(crate) fn upload_may_reach(e: &TransferError) -> bool {
    matches!(
        e,
        TransferError::Offline { .. }
            | TransferError::NotAContact { .. }
            | TransferError::NoFileTransfer { .. }
            | TransferError::NoValidStreams { .. }
            | TransferError::RecipientUnavailable { .. }
            | TransferError::OfferTimeout(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SI: Features = Features {
        si: true,
        jingle: false,
        libervia: false,
    };
    const JINGLE: Features = Features {
        si: false,
        jingle: true,
        libervia: false,
    };

    #[test]
    fn jingle_first_si_otherwise() {
        let both = Features {
            si: true,
            jingle: true,
            libervia: false,
        };
        assert_eq!(protocol(Wanted::Auto, Some(both)).0, Protocol::Jingle);
        assert_eq!(protocol(Wanted::Auto, Some(SI)).0, Protocol::Si);
        assert_eq!(protocol(Wanted::Auto, None).0, Protocol::Si);
        assert_eq!(protocol(Wanted::Si, Some(both)).0, Protocol::Si);
        assert_eq!(protocol(Wanted::Jingle, Some(SI)).0, Protocol::Jingle);
    }

    /// The highest-priority resource that takes files wins, whatever the others offer.
    #[test]
    fn the_first_resource_that_takes_files() {
        let resources = [("pc", Features::default()), ("old", SI), ("phone", JINGLE)];
        assert_eq!(pick(Wanted::Auto, resources).map(|(r, _)| r), Some("old"));
        assert_eq!(
            pick(Wanted::Jingle, resources).map(|(r, _)| r),
            Some("phone")
        );
        assert_eq!(pick(Wanted::Si, [("pc", JINGLE)]), None);
    }
}
