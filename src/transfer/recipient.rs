//! Turning `xft send FILE bare@jid` into a full JID (RFC 6121 §4, XEP-0030).
//!
//! An iq to a bare JID is answered by the server, not a client, so SI needs a resource.
//! Resources are learnt from presence, which the server sends only for contacts whose
//! presence we are subscribed to; each candidate is then asked whether it supports SI
//! file transfer, highest presence priority first.

use crate::ns::CLIENT_NS;
use std::time::Duration;

use tokio::time::Instant;

use super::TransferError;
use crate::disco;
use crate::jid::{FullJid, Jid};
use crate::roster;
use crate::session::{Incoming, Session};

use crate::xml::Element;

/// After the first presence of the recipient, wait this long for its other resources.
const SETTLE: Duration = Duration::from_millis(400);

/// The presence learnt so far, kept across recipients of one `xft send`: a presence
/// read while looking for one contact must not be lost to the next.
#[derive(Debug, Default)]
pub(crate) struct Presences {
    announced: bool,
    /// Available resources by bare JID, with their priorities.
    seen: std::collections::HashMap<Jid, Vec<(FullJid, i8)>>,
}

/// Most contacts whose presence is remembered: the roster is the server's, and so
/// is the size of this table.
const MAX_REMEMBERED: usize = 4096;

impl Presences {
    fn record(&mut self, stanza: &Element, own: &FullJid) {
        let Some((full, available, priority)) = any_presence(stanza) else {
            return;
        };
        if full == *own {
            return;
        }
        let bare = full.bare();
        if !self.seen.contains_key(&bare) && self.seen.len() >= MAX_REMEMBERED {
            return;
        }
        let resources = self.seen.entry(bare).or_default();
        resources.retain(|(j, _)| *j != full);
        if available && resources.len() < 64 {
            resources.push((full, priority));
        }
    }

    /// Available resources of `bare`, highest priority first.
    fn of(&self, bare: &Jid) -> Vec<(FullJid, i8)> {
        let mut found = self.seen.get(bare).cloned().unwrap_or_default();
        found.sort_by_key(|(_, p)| std::cmp::Reverse(*p));
        found
    }
}

/// Finds the resource of `jid` to send to, with its disco#info when `takes_files` asks
/// for one (`None` for SI on request: a full JID is then taken as given). A resource
/// qualifies when its disco#info passes `takes_files` (SI, Jingle, or either).
pub(crate) async fn resolve(
    session: &Session,
    incoming: &mut Incoming,
    presences: &mut Presences,
    jid: &Jid,
    wait: Duration,
    takes_files: Option<impl Fn(&disco::Info) -> bool>,
) -> Result<(FullJid, Option<disco::Info>), TransferError> {
    if let Some(full) = jid.to_full() {
        let info = match takes_files {
            Some(_) => features_of(session, &full).await?,
            None => None,
        };
        return Ok((full, info));
    }
    tracing::debug!("looking for the resources of {jid}");
    let bare = jid.bare();
    let shown = bare.to_string();
    let items = roster::fetch(session)
        .await
        .map_err(TransferError::Roster)?;
    let subscribed = items
        .iter()
        .any(|i| i.jid == bare && i.subscription.sees_their_presence());
    if !subscribed && bare != session.jid().bare() {
        return Err(TransferError::NotAContact { jid: shown });
    }
    if !presences.announced {
        session.send(roster::initial_presence()).await?;
        presences.announced = true;
    }
    let resources = collect_resources(incoming, presences, &bare, session.jid(), wait).await;
    if resources.is_empty() {
        return Err(TransferError::Offline { jid: shown });
    }
    // Every resource is asked at once, under one deadline: resources that stopped
    // answering cost one `--timeout` together, not one each.
    let asked = resources
        .iter()
        .map(|(r, _)| disco::info(session, r.as_jid()));
    let answers = futures_util::future::join_all(asked).await;
    for ((candidate, _), answer) in resources.into_iter().zip(answers) {
        match answer {
            Ok(info) if takes_files.as_ref().is_none_or(|takes| takes(&info)) => {
                return Ok((candidate, Some(info)))
            }
            Ok(_) => tracing::debug!("{candidate} does not advertise the file transfer wanted"),
            Err(e) => tracing::debug!("disco#info of {candidate} failed: {e}"),
        }
    }
    Err(TransferError::NoFileTransfer { jid: shown })
}

/// The disco#info of a full JID given on the command line, within `--timeout`: no
/// answer means nobody will answer the offer either (so it is the offer's timeout, not
/// a second wait, issue 19, item 5); an error from the server means the resource is
/// not there. A client that answers with another error simply does not do disco.
async fn features_of(
    session: &Session,
    full: &FullJid,
) -> Result<Option<disco::Info>, TransferError> {
    use crate::session::IqError;
    use crate::stanza::Condition;
    match disco::info(session, full.as_jid()).await {
        Ok(info) => Ok(Some(info)),
        Err(IqError::Timeout(after)) => Err(TransferError::OfferTimeout(after)),
        Err(IqError::Stanza(error))
            if error.is(Condition::ServiceUnavailable)
                || error.is(Condition::ItemNotFound)
                || error.is(Condition::RecipientUnavailable)
                || error.is(Condition::RemoteServerNotFound) =>
        {
            Err(TransferError::RecipientUnavailable {
                jid: full.to_string(),
                error,
            })
        }
        Err(IqError::Stanza(e)) => {
            tracing::debug!("disco#info of {full} failed: {e}; its features are unknown");
            Ok(None)
        }
        Err(IqError::Disconnected) => Err(TransferError::OfferIq(IqError::Disconnected)),
    }
}

/// Every available resource of `bare` that shows up within `wait` (for `xft probe`).
pub(crate) async fn online_resources(
    session: &Session,
    incoming: &mut Incoming,
    presences: &mut Presences,
    bare: &Jid,
    wait: Duration,
) -> Vec<(FullJid, i8)> {
    if !presences.announced {
        if session.send(roster::initial_presence()).await.is_err() {
            return Vec::new();
        }
        presences.announced = true;
    }
    collect_resources(incoming, presences, bare, session.jid(), wait).await
}

/// Available resources of `bare` (not ourselves), highest priority first: what is
/// known already, plus what arrives within `wait` (or `SETTLE` after the first).
async fn collect_resources(
    incoming: &mut Incoming,
    presences: &mut Presences,
    bare: &Jid,
    own: &FullJid,
    wait: Duration,
) -> Vec<(FullJid, i8)> {
    let hard_deadline = Instant::now() + wait;
    let mut deadline = if presences.of(bare).is_empty() {
        hard_deadline
    } else {
        (Instant::now() + SETTLE).min(hard_deadline)
    };
    while let Ok(Some(stanza)) = tokio::time::timeout_at(deadline, incoming.next()).await {
        presences.record(&stanza, own);
        if presence_of(&stanza, bare).is_some_and(|(_, available, _)| available) {
            deadline = (Instant::now() + SETTLE).min(hard_deadline);
        }
    }
    presences.of(bare)
}

/// `(full JID, available?, priority)` of a presence from anyone.
fn any_presence(stanza: &Element) -> Option<(FullJid, bool, i8)> {
    let from = Jid::parse(stanza.get_attr("from")?).ok()?;
    presence_of(stanza, &from.bare())
}

/// `(full JID, available?, priority)` of a presence from a resource of `bare`.
fn presence_of(stanza: &Element, bare: &Jid) -> Option<(FullJid, bool, i8)> {
    if stanza.name() != "presence" || stanza.ns() != CLIENT_NS {
        return None;
    }
    let from = Jid::parse(stanza.get_attr("from")?).ok()?;
    if from.bare() != *bare {
        return None;
    }
    let full = from.to_full()?;
    let available = match stanza.get_attr("type") {
        None => true,
        Some("unavailable") => false,
        Some(_) => return None,
    };
    let priority = stanza
        .child_text("priority", CLIENT_NS)
        .and_then(|p| p.trim().parse::<i8>().ok())
        .unwrap_or(0);
    Some((full, available, priority))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_presence() {
        let bare = Jid::parse("juliet@example.com").unwrap();
        // RFC 6121 §4.2.3 Example: presence with priority.
        let p = Element::new("presence", CLIENT_NS)
            .attr("from", "juliet@example.com/balcony")
            .child(Element::new("priority", CLIENT_NS).text("1"));
        let (full, available, priority) = presence_of(&p, &bare).unwrap();
        assert_eq!(full.resource(), "balcony");
        assert!(available);
        assert_eq!(priority, 1);
        let gone = Element::new("presence", CLIENT_NS)
            .attr("from", "juliet@example.com/balcony")
            .attr("type", "unavailable");
        assert!(!presence_of(&gone, &bare).unwrap().1);
        let other = p.clone().attr("from", "romeo@example.net/orchard");
        assert!(presence_of(&other, &bare).is_none());
        let subscribe = p.attr("type", "subscribe");
        assert!(presence_of(&subscribe, &bare).is_none());
    }
}
