//! Contacts: the roster and presence subscriptions (RFC 6121 §2, §3, §4).
//!
//! xft needs them for two things: a sender sees a contact's resources only through
//! presence, which needs a subscription; and a receiver accepts offers from contacts by
//! default.

use crate::jid::Jid;
use crate::ns::{CLIENT_NS, ROSTER_NS};
use crate::session::{IqError, Session, SessionError};
use crate::stanza;
use crate::stanza::IqType;
use crate::xml::Element;

/// RFC 6121 §2.1.2.5: the subscription state of a roster item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subscription {
    None,
    /// We see their presence.
    To,
    /// They see ours.
    From,
    Both,
}

impl Subscription {
    fn parse(s: Option<&str>) -> Subscription {
        match s {
            Some("to") => Subscription::To,
            Some("from") => Subscription::From,
            Some("both") => Subscription::Both,
            _ => Subscription::None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Subscription::None => "none",
            Subscription::To => "to",
            Subscription::From => "from",
            Subscription::Both => "both",
        }
    }

    /// True when we receive their presence, so we can see their resources.
    pub(crate) fn sees_their_presence(self) -> bool {
        matches!(self, Subscription::To | Subscription::Both)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub jid: Jid,
    pub name: Option<String>,
    pub subscription: Subscription,
    /// RFC 6121 §3.1.2: we asked to subscribe and wait for their answer.
    pub pending_out: bool,
}

impl Item {
    pub(crate) fn from_element(el: &Element) -> Option<Item> {
        let jid = Jid::parse(el.get_attr("jid")?).ok()?.bare();
        Some(Item {
            jid,
            name: el.get_attr("name").map(str::to_owned),
            subscription: Subscription::parse(el.get_attr("subscription")),
            pending_out: el.get_attr("ask") == Some("subscribe"),
        })
    }

    /// A roster push removing the item (RFC 6121 §2.1.2.5 "remove").
    pub(crate) fn is_removal(el: &Element) -> bool {
        el.get_attr("subscription") == Some("remove")
    }
}

/// RFC 6121 §2.2: the whole roster.
pub(crate) async fn fetch(session: &Session) -> Result<Vec<Item>, IqError> {
    let answer = session
        .iq(stanza::iq(
            IqType::Get,
            None,
            Element::new("query", ROSTER_NS),
        ))
        .await?;
    Ok(answer
        .get_child("query", ROSTER_NS)
        .map(|q| q.children().filter_map(Item::from_element).collect())
        .unwrap_or_default())
}

/// RFC 6121 §2.5: removes `jid` from the roster (and cancels both subscriptions).
pub(crate) async fn remove(session: &Session, jid: &Jid) -> Result<(), IqError> {
    let item = Element::new("item", ROSTER_NS)
        .attr("jid", jid.bare().to_string())
        .attr("subscription", "remove");
    session
        .iq(stanza::iq(
            IqType::Set,
            None,
            Element::new("query", ROSTER_NS).child(item),
        ))
        .await?;
    Ok(())
}

/// True for a roster push we must acknowledge (RFC 6121 §2.1.6): from our own account.
pub(crate) fn is_roster_push(el: &Element, own: &Jid) -> bool {
    stanza::is_iq_request(el, IqType::Set, "query", ROSTER_NS)
        && el
            .get_attr("from")
            .is_none_or(|f| Jid::parse(f).is_ok_and(|j| j == own.bare()))
}

/// `<presence type=kind to=jid/>` for subscription management (RFC 6121 §3).
pub(crate) fn subscription_presence(kind: &str, jid: &Jid) -> Element {
    Element::new("presence", CLIENT_NS)
        .attr("type", kind)
        .attr("to", jid.bare().to_string())
}

/// Asks to see `jid`'s presence and pre-approves theirs (RFC 6121 §3.1, §3.4), so one
/// approval on their side makes the relation mutual.
pub(crate) async fn request_and_preapprove(
    session: &Session,
    jid: &Jid,
) -> Result<(), SessionError> {
    session
        .send(subscription_presence("subscribed", jid))
        .await?;
    session.send(subscription_presence("subscribe", jid)).await
}

/// Approves `jid`'s (pending or future) request and asks for theirs in return.
pub(crate) async fn approve(session: &Session, jid: &Jid) -> Result<(), SessionError> {
    request_and_preapprove(session, jid).await
}

/// Initial presence (RFC 6121 §4.2): makes us available and asks the server for our
/// contacts' presence. A negative priority keeps chat messages away from xft.
pub(crate) fn initial_presence() -> Element {
    Element::new("presence", CLIENT_NS).child(Element::new("priority", CLIENT_NS).text("-1"))
}

/// Initial presence for `xft recv`: priority 0, because links to uploaded files
/// (XEP-0363) are messages to the bare JID, which a server delivers (now, or from
/// offline storage at login) only to resources of non-negative priority (RFC 6121
/// §8.5.2.1.1).
pub(crate) fn receiving_presence() -> Element {
    Element::new("presence", CLIENT_NS).child(Element::new("priority", CLIENT_NS).text("0"))
}
