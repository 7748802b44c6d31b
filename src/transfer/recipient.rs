//! Turning `xft send FILE bare@jid` into a full JID (RFC 6121 §4, XEP-0030).
//!
//! An iq to a bare JID is answered by the server, not a client, so SI needs a resource.
//! Resources are learnt from presence, which the server sends only for contacts whose
//! presence we are subscribed to; each candidate is then asked whether it supports SI
//! file transfer, highest presence priority first.

use crate::ns::{CLIENT_NS, SI_FILE_TRANSFER_NS};
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

/// Finds the resource of `jid` to send to; a full JID is taken as given.
pub async fn resolve(
    session: &Session,
    incoming: &mut Incoming,
    jid: &Jid,
    wait: Duration,
) -> Result<FullJid, TransferError> {
    if let Some(full) = jid.to_full() {
        return Ok(full);
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
    session.send(roster::initial_presence()).await?;
    let resources = collect_resources(incoming, &bare, session.jid(), wait).await;
    if resources.is_empty() {
        return Err(TransferError::Offline { jid: shown });
    }
    for (candidate, _) in &resources {
        match disco::info(session, candidate.as_jid()).await {
            Ok(info) if info.has_feature(SI_FILE_TRANSFER_NS) => return Ok(candidate.clone()),
            Ok(_) => tracing::debug!("{candidate} does not advertise SI file transfer"),
            Err(e) => tracing::debug!("disco#info of {candidate} failed: {e}"),
        }
    }
    Err(TransferError::NoFileTransfer { jid: shown })
}

/// Available resources of `bare` (not ourselves), highest priority first.
async fn collect_resources(
    incoming: &mut Incoming,
    bare: &Jid,
    own: &FullJid,
    wait: Duration,
) -> Vec<(FullJid, i8)> {
    let mut found: Vec<(FullJid, i8)> = Vec::new();
    let hard_deadline = Instant::now() + wait;
    let mut deadline = hard_deadline;
    while let Ok(Some(stanza)) = tokio::time::timeout_at(deadline, incoming.next()).await {
        let Some((full, available, priority)) = presence_of(&stanza, bare) else {
            continue;
        };
        if full == *own {
            continue;
        }
        found.retain(|(j, _)| *j != full);
        if available {
            found.push((full, priority));
            deadline = (Instant::now() + SETTLE).min(hard_deadline);
        }
    }
    found.sort_by_key(|(_, p)| std::cmp::Reverse(*p));
    found
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
