//! File shares (XEP-0447) from allowed senders: one with a `url-data` source is a link
//! like any other, held to the name, size and hash its metadata announced (XEP-0446);
//! one without a source waits (bounded) for the message that attaches its sources
//! (XEP-0447 §4), as Dino sends them once its upload is done. Sources are taken only
//! from the full JID that shared the file, for the message id it shared it in.

use std::collections::VecDeque;

use super::Desk;
use crate::jid::Jid;
use crate::jingle::file::best_hash;
use crate::oob::{self, Found, Shared};
use crate::sfs::{Attachment, Metadata, Share};
use crate::xml::Element;

/// Shares waiting for their sources: at most this many, and this many bytes of XML.
const MAX_WAITING: usize = 16;
const MAX_WAITING_BYTES: usize = 64 * 1024;

/// One share that came without a source.
#[derive(Debug, Clone)]
struct Waiting {
    from: String,
    message_id: String,
    share: Share,
    weight: usize,
}

/// Shares that wait for their sources, oldest first; the oldest go when the bounds
/// are reached (a sender that never attaches sources cannot make this grow).
#[derive(Debug, Default)]
pub(super) struct WaitingShares {
    entries: VecDeque<Waiting>,
    bytes: usize,
}

impl WaitingShares {
    fn remember(&mut self, from: &str, message_id: &str, share: Share, weight: usize) {
        if weight > MAX_WAITING_BYTES {
            return;
        }
        self.entries.push_back(Waiting {
            from: from.to_owned(),
            message_id: message_id.to_owned(),
            share,
            weight,
        });
        self.bytes += weight;
        while self.entries.len() > MAX_WAITING || self.bytes > MAX_WAITING_BYTES {
            match self.entries.pop_front() {
                Some(old) => self.bytes -= old.weight,
                None => break,
            }
        }
    }

    /// The share `attachment` (from `from`) attaches to: same sender, same message id,
    /// and the share's own id repeated when it had one (XEP-0447 §4).
    fn take(&mut self, from: &str, attachment: &Attachment) -> Option<Share> {
        let i = self.entries.iter().position(|w| {
            w.from == from
                && w.message_id == attachment.to_message
                && (w.share.id.is_none() || w.share.id == attachment.share_id)
        })?;
        let taken = self.entries.remove(i)?;
        self.bytes -= taken.weight;
        Some(taken.share)
    }
}

/// What a download of a share is held to.
fn shared_of(file: &Metadata) -> Shared {
    Shared {
        name: file.name.clone(),
        size: file.size,
        hash: best_hash(&file.hashes),
    }
}

/// The first source xft can fetch: an http(s) URL (an encrypted file comes as an
/// `aesgcm://` link inside OMEMO, not as a share).
fn first_download(urls: &[String], file: &Metadata) -> Option<oob::Link> {
    urls.iter()
        .find_map(|url| match oob::found(url.clone(), file.desc.clone()) {
            Some(Found::Download(link)) if link.key.is_none() => Some(oob::Link {
                shared: Some(shared_of(file)),
                ..link
            }),
            _ => None,
        })
}

impl Desk<'_> {
    /// A `<file-sharing/>`: downloaded now when it has a source, else kept for the
    /// message that attaches one.
    pub(super) fn share(&mut self, message: &Element, share: Share) {
        let Some(from) = message.get_attr("from").and_then(|f| Jid::parse(f).ok()) else {
            return;
        };
        if !self.policy.allows(&from) {
            tracing::warn!("ignored a link from {from} (a file share): sender not allowed");
            return;
        }
        if share.file.hashes.is_empty() {
            tracing::info!("{from} shares a file with no hash: only its size will be checked");
        }
        if let Some(link) = first_download(&share.urls, &share.file) {
            return self.link(message, Found::Download(link));
        }
        match message.get_attr("id") {
            Some(id) if share.urls.is_empty() => {
                let weight = message.to_xml().len();
                self.shares.remember(&from.to_string(), id, share, weight);
            }
            _ => tracing::warn!("{from} shares a file with no source xft can fetch"),
        }
    }

    /// Sources attached to an earlier message: for a share we keep, its download.
    /// Returns false when there is none (then the message is read as a plain link).
    pub(super) fn attached(&mut self, message: &Element, attachment: &Attachment) -> bool {
        let Some(from) = message.get_attr("from") else {
            return false;
        };
        let Some(share) = self.shares.take(from, attachment) else {
            return false;
        };
        match first_download(&attachment.urls, &share.file) {
            Some(link) => self.link(message, Found::Download(link)),
            None => tracing::warn!("{from} attached no source xft can fetch to its file share"),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(id: Option<&str>) -> Share {
        Share {
            id: id.map(str::to_owned),
            file: Metadata::default(),
            urls: Vec::new(),
        }
    }

    fn attachment(to: &str, id: Option<&str>) -> Attachment {
        Attachment {
            to_message: to.into(),
            share_id: id.map(str::to_owned),
            urls: vec!["https://x/f".into()],
        }
    }

    #[test]
    fn sources_are_taken_only_from_the_sender_for_its_message() {
        let mut waiting = WaitingShares::default();
        waiting.remember("a@x/phone", "m1", share(Some("s1")), 100);
        assert!(waiting
            .take("mallory@x/r", &attachment("m1", Some("s1")))
            .is_none());
        assert!(waiting
            .take("a@x/laptop", &attachment("m1", Some("s1")))
            .is_none());
        assert!(waiting
            .take("a@x/phone", &attachment("m2", Some("s1")))
            .is_none());
        assert!(waiting
            .take("a@x/phone", &attachment("m1", Some("s2")))
            .is_none());
        assert!(waiting
            .take("a@x/phone", &attachment("m1", Some("s1")))
            .is_some());
        assert!(waiting
            .take("a@x/phone", &attachment("m1", Some("s1")))
            .is_none());
        waiting.remember("a@x/phone", "m3", share(None), 100);
        assert!(waiting.take("a@x/phone", &attachment("m3", None)).is_some());
        assert_eq!(waiting.bytes, 0);
    }

    #[test]
    fn waiting_shares_are_bounded_in_count_and_bytes() {
        let mut waiting = WaitingShares::default();
        for i in 0..100 {
            waiting.remember("a@x/r", &format!("m{i}"), share(None), 100);
        }
        assert_eq!(waiting.entries.len(), MAX_WAITING);
        assert!(waiting.take("a@x/r", &attachment("m0", None)).is_none());
        assert!(waiting.take("a@x/r", &attachment("m99", None)).is_some());
        for i in 0..10 {
            waiting.remember("a@x/r", &format!("big{i}"), share(None), 20_000);
        }
        assert!(waiting.bytes <= MAX_WAITING_BYTES);
        waiting.remember("a@x/r", "huge", share(None), MAX_WAITING_BYTES + 1);
        assert!(waiting.take("a@x/r", &attachment("huge", None)).is_none());
    }
}
