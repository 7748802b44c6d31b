//! Turning `xft send FILE bare@jid` into a full JID (RFC 6121 §4, XEP-0030).
//!
//! An iq to a bare JID is answered by the server, not a client, so a file needs a
//! resource. Resources are learnt from presence, which the server sends only for
//! contacts whose presence we are subscribed to: one task ([`Presences::watch`]) reads
//! everything that reaches the command and keeps what presence said, so recipients
//! looked for side by side share it and none is lost. The candidates are then asked
//! for their features all at once, and [`super::policy::pick`] chooses, highest
//! presence priority first.
//!
//! How long to listen: a server handles our stanzas in order, and answers our initial
//! presence with the presence of its own users among our contacts before it handles
//! the next stanza (docs/interop.md §6). So right behind the initial presence xft sends
//! itself a headline message; when it comes back, every local contact that is online
//! has been heard, and nothing more need be waited for. Contacts on other servers are
//! heard when their servers answer: for them xft listens until [`SETTLE`] after their
//! first resource, or the `--presence-wait` deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, OnceCell};
use tokio::time::Instant;

use super::policy::{self, Features, Wanted};
use super::TransferError;
use crate::disco;
use crate::jid::{FullJid, Jid};
use crate::ns::CLIENT_NS;
use crate::roster;
use crate::session::{Incoming, Session};
use crate::stanza::{Condition, ErrorType, IqType, StanzaError};
use crate::xml::Element;

/// The namespace of the message xft sends itself behind its initial presence.
const SETTLE_NS: &str = "urn:xmpp:xft:settled:0";
/// After the first presence of a remote recipient, wait this long for its other
/// resources.
const SETTLE: Duration = Duration::from_millis(400);
/// Most contacts whose presence is remembered: the roster is the server's, and so is
/// the size of this table.
const MAX_REMEMBERED: usize = 4096;
/// Most resources remembered per contact.
const MAX_RESOURCES: usize = 64;

/// An available resource, as its presence described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Online {
    pub(crate) jid: FullJid,
    pub(crate) priority: i8,
    /// The XEP-0115 `ver` it announced, if any.
    pub(crate) caps: Option<String>,
}

/// What presence said so far, by bare JID: the available resources, and when the list
/// last changed.
#[derive(Debug, Default)]
struct Seen {
    resources: HashMap<Jid, (Vec<Online>, Instant)>,
}

impl Seen {
    fn record(&mut self, stanza: &Element, own: &FullJid) -> bool {
        let Some((full, available, priority)) = any_presence(stanza) else {
            return false;
        };
        if full == *own {
            return false;
        }
        let bare = full.bare();
        if !self.resources.contains_key(&bare) && self.resources.len() >= MAX_REMEMBERED {
            return false;
        }
        let (resources, changed) = self
            .resources
            .entry(bare)
            .or_insert_with(|| (Vec::new(), Instant::now()));
        resources.retain(|r| r.jid != full);
        if available && resources.len() < MAX_RESOURCES {
            resources.push(Online {
                jid: full,
                priority,
                caps: crate::caps::announced(stanza),
            });
        }
        *changed = Instant::now();
        true
    }

    /// Available resources of `bare`, highest priority first, and when they changed.
    fn of(&self, bare: &Jid) -> (Vec<Online>, Option<Instant>) {
        let Some((found, changed)) = self.resources.get(bare) else {
            return (Vec::new(), None);
        };
        let mut found = found.clone();
        found.sort_by_key(|r| std::cmp::Reverse(r.priority));
        (found, Some(*changed))
    }
}

/// The presence the command hears, kept by a task that reads everything reaching it
/// (and answers requests nobody else will: `service-unavailable`, RFC 6120 §8.4).
pub(crate) struct Presences {
    seen: Arc<Mutex<Seen>>,
    changed: Arc<Notify>,
    announced: OnceCell<()>,
    /// Our message to ourselves came back: every local contact online was heard.
    local_heard: Arc<std::sync::atomic::AtomicBool>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Presences {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Presences {
    /// Starts reading `incoming` for presence.
    pub(crate) fn watch(session: &Session, mut incoming: Incoming) -> Presences {
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let changed: Arc<Notify> = Arc::default();
        let local_heard: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let (own, session) = (session.jid().clone(), session.clone());
        let (into, told, heard) = (seen.clone(), changed.clone(), local_heard.clone());
        let reader = tokio::spawn(async move {
            while let Some(stanza) = incoming.next().await {
                let recorded = into.lock().is_ok_and(|mut s| s.record(&stanza, &own));
                if recorded {
                    told.notify_waiters();
                } else if is_settle_marker(&stanza, &own) {
                    heard.store(true, std::sync::atomic::Ordering::SeqCst);
                    told.notify_waiters();
                } else if IqType::of(&stanza).is_some_and(IqType::is_request) {
                    let error = StanzaError::new(ErrorType::Cancel, Condition::ServiceUnavailable);
                    let _ = session.reply_error(&stanza, &error).await;
                }
            }
        });
        Presences {
            seen,
            changed,
            announced: OnceCell::new(),
            local_heard,
            reader,
        }
    }

    /// Our initial presence (RFC 6121 §4.2), once: the server answers it with the
    /// presence of every contact we see.
    async fn announce(&self, session: &Session) -> Result<(), TransferError> {
        self.announced
            .get_or_try_init(|| async {
                session
                    .send(roster::initial_presence().child(session.caps()))
                    .await?;
                session.send(settle_marker(session.jid())).await
            })
            .await?;
        Ok(())
    }

    /// Every available resource of `bare` that shows up within `wait` (or [`SETTLE`]
    /// after the last one came), highest priority first.
    pub(crate) async fn resources_of(
        &self,
        session: &Session,
        bare: &Jid,
        wait: Duration,
    ) -> Result<Vec<Online>, TransferError> {
        self.announce(session).await?;
        let hard = Instant::now() + wait;
        let local = bare.domain() == session.jid().as_jid().domain();
        loop {
            // Registered before looking, so a presence in between wakes it.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let (found, last) = self.seen.lock().map(|s| s.of(bare)).unwrap_or_default();
            if local && self.local_heard.load(std::sync::atomic::Ordering::SeqCst) {
                return Ok(found);
            }
            let until = match last {
                Some(last) if !found.is_empty() && !local => (last + SETTLE).min(hard),
                _ => hard,
            };
            if Instant::now() >= until {
                return Ok(found);
            }
            let _ = tokio::time::timeout_at(until, changed).await;
        }
    }
}

/// The headline message xft sends itself behind its initial presence.
fn settle_marker(own: &FullJid) -> Element {
    Element::new("message", CLIENT_NS)
        .attr("to", own.to_string())
        .attr("type", "headline")
        .child(Element::new("settled", SETTLE_NS))
}

/// Our own marker, come back (from our own full JID: nobody else can send it so).
fn is_settle_marker(stanza: &Element, own: &FullJid) -> bool {
    stanza.name() == "message"
        && stanza.get_attr("from") == Some(own.to_string().as_str())
        && stanza.get_child("settled", SETTLE_NS).is_some()
}

/// Finds the resource of `jid` to send to, with its features when `wanted` needs them
/// (`None` for a full JID and SI on request: it is taken as given).
pub(crate) async fn resolve(
    session: &Session,
    presences: &Presences,
    jid: &Jid,
    (wanted, wait): (Wanted, Duration),
) -> Result<(FullJid, Option<Features>), TransferError> {
    if let Some(full) = jid.to_full() {
        let features = match wanted {
            Wanted::Si => None,
            _ => features_of(session, &full).await?,
        };
        return Ok((full, features));
    }
    tracing::debug!("looking for the resources of {jid}");
    let bare = jid.bare();
    let shown = bare.to_string();
    // The roster request and then our presence, without waiting in between: the
    // request still goes first (RFC 6121 §2.2), and the answers come one round trip
    // later instead of two.
    let (items, announced) = tokio::join!(roster::fetch(session), presences.announce(session));
    let items = items.map_err(TransferError::Roster)?;
    announced?;
    let subscribed = items
        .iter()
        .any(|i| i.jid == bare && i.subscription.sees_their_presence());
    if !subscribed && bare != session.jid().bare() {
        return Err(TransferError::NotAContact { jid: shown });
    }
    let resources = presences.resources_of(session, &bare, wait).await?;
    if resources.is_empty() {
        return Err(TransferError::Offline { jid: shown });
    }
    // Every resource is asked at once, under one deadline: resources that stopped
    // answering cost one `--timeout` together, not one each.
    let asked = resources.iter().map(|r| resource_features(session, r));
    let answers = futures_util::future::join_all(asked).await;
    let known = resources
        .into_iter()
        .zip(answers)
        .filter_map(|(resource, features)| Some((resource.jid, features?)));
    match policy::pick(wanted, known) {
        Some((resource, features)) => Ok((resource, Some(features))),
        None => Err(TransferError::NoFileTransfer {
            jid: shown,
            protocol: match wanted {
                Wanted::Si => "SI file transfer (XEP-0096)",
                Wanted::Jingle => "Jingle file transfer (XEP-0234)",
                Wanted::Auto => "SI or Jingle file transfer (XEP-0096, XEP-0234)",
            },
        }),
    }
}

/// The features of an online resource: from the disco#info answer remembered for the
/// XEP-0115 `ver` its presence announced, when one is (and still hashes to it, see
/// [`super::known_clients`]), else asked, and remembered when it hashes to that `ver`.
/// `None` when it did not answer.
async fn resource_features(session: &Session, online: &Online) -> Option<Features> {
    let ver = online.caps.as_deref();
    if let Some(info) = ver.and_then(super::known_clients::recall) {
        tracing::debug!("features of {} from its capabilities", online.jid);
        return Some(Features::of(&info));
    }
    match disco::info_query(session, online.jid.as_jid()).await {
        Ok(query) => {
            if let Some(ver) = ver {
                super::known_clients::remember(ver, &query);
            }
            Some(Features::of(&disco::Info::from_query(&query)))
        }
        Err(e) => {
            tracing::debug!("disco#info of {} failed: {e}", online.jid);
            None
        }
    }
}

/// The features of a full JID given on the command line, asked once within
/// `--timeout`: no answer means nobody will answer the offer either (so it is the
/// offer's timeout, not a second wait, issue 19, item 5); an error from the server
/// means the resource is not there. A client that answers with another error simply
/// does not do disco: its features are unknown.
pub(crate) async fn features_of(
    session: &Session,
    full: &FullJid,
) -> Result<Option<Features>, TransferError> {
    use crate::session::IqError;
    match disco::info(session, full.as_jid()).await {
        Ok(info) => Ok(Some(Features::of(&info))),
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

    /// Resources come highest priority first; an unavailable presence takes one away.
    #[test]
    fn keeps_what_presence_said() {
        let own = Jid::parse("me@example.com/x").unwrap().to_full().unwrap();
        let mut seen = Seen::default();
        let presence = |from: &str, priority: &str| {
            Element::new("presence", CLIENT_NS)
                .attr("from", from)
                .child(Element::new("priority", CLIENT_NS).text(priority))
        };
        assert!(seen.record(&presence("j@example.com/a", "1"), &own));
        assert!(seen.record(&presence("j@example.com/b", "5"), &own));
        assert!(!seen.record(&presence("me@example.com/x", "9"), &own));
        let bare = Jid::parse("j@example.com").unwrap();
        let names: Vec<String> = seen
            .of(&bare)
            .0
            .iter()
            .map(|r| r.jid.resource().to_owned())
            .collect();
        assert_eq!(names, ["b", "a"]);
        let gone = Element::new("presence", CLIENT_NS)
            .attr("from", "j@example.com/b")
            .attr("type", "unavailable");
        seen.record(&gone, &own);
        assert_eq!(seen.of(&bare).0.len(), 1);
    }
}
