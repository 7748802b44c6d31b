//! OMEMO messages that reach `xft recv` (XEP-0384 v0.3 §4.6): from an allowed sender,
//! decrypted with the account's device; an `aesgcm://` link (XEP-0454) in the body is
//! queued as a download that is decrypted on the way, other text is shown as chat.
//!
//! A file is taken only from a trusted device (blindly trusted or verified): a key the
//! user distrusted, or a new one of a contact whose keys were verified, is named with
//! the command that trusts it. Messages from senders the policy does not allow are not
//! decrypted at all (a stranger could otherwise use up our prekeys).

use super::{Accepted, Desk, LinkOffer};
use crate::jid::Jid;
use crate::omemo::account::Decrypted;
use crate::omemo::OmemoError;
use crate::transfer::{OmemoSender, TransferError};
use crate::xml::Element;

/// What became of a decrypted message.
pub(super) enum Outcome {
    /// A link to download.
    Link(Box<Accepted>),
    /// Chat to show.
    Chat(String),
    /// Nothing to do (a key transport element, or a refused link, logged).
    Nothing,
}

/// What to do with `decrypted`, which `from` sent in `message`.
pub(super) fn judge(message: &Element, from: &Jid, decrypted: Decrypted) -> Outcome {
    let Some(body) = decrypted.body else {
        tracing::debug!("an OMEMO key transport message from {from} (session upkeep)");
        return Outcome::Nothing;
    };
    let Some(link) = crate::oob::link_in_body(&body) else {
        return Outcome::Chat(body);
    };
    let fingerprint = decrypted.key.fingerprint();
    if !decrypted.level.is_trusted() {
        tracing::warn!(
            "ignored a file from {from}'s OMEMO device {} ({}): to accept it, compare the \
             fingerprint {fingerprint} with the sender and run: xft omemo trust {} '{fingerprint}'",
            decrypted.device,
            decrypted.level.as_str(),
            from.bare()
        );
        return Outcome::Nothing;
    }
    let omemo = OmemoSender {
        device: decrypted.device,
        fingerprint,
        trust: decrypted.level.word(),
    };
    Outcome::Link(Box::new(Accepted::Link(Box::new(LinkOffer {
        from: from.clone(),
        link,
        weight: message.to_xml().len(),
        omemo: Some(omemo),
    }))))
}

impl Desk<'_> {
    /// A message with an `<encrypted>` element.
    pub(super) async fn encrypted(
        &mut self,
        message: &Element,
        encrypted: &Element,
    ) -> Result<(), TransferError> {
        let Some(from) = message.get_attr("from").and_then(|f| Jid::parse(f).ok()) else {
            return Ok(());
        };
        let Some(device) = &self.options.omemo else {
            tracing::warn!(
                "{from} sent an OMEMO-encrypted message, which xft recv --no-omemo does not read"
            );
            return Ok(());
        };
        if !self.policy.allows(&from) {
            tracing::warn!("ignored an encrypted message from {from}: sender not allowed");
            return Ok(());
        }
        let decrypted = match device
            .decrypt(self.session, &from.bare().to_string(), encrypted)
            .await
        {
            Ok(decrypted) => decrypted,
            Err(OmemoError::NotForUs) => {
                tracing::debug!("an OMEMO message from {from} not encrypted for this device");
                return Ok(());
            }
            Err(e) => {
                tracing::warn!("could not decrypt an OMEMO message from {from}: {e}");
                return Ok(());
            }
        };
        match judge(message, &from, decrypted) {
            Outcome::Link(accepted) => {
                if self.waiting.push(*accepted).is_err() {
                    tracing::warn!("too many transfers waiting: an encrypted link was ignored");
                }
            }
            Outcome::Chat(body) => {
                let from_contact = self.policy.is_contact(&from);
                self.chat
                    .show_text(&from.to_string(), &body, (from_contact, true));
            }
            Outcome::Nothing => {}
        }
        Ok(())
    }
}
