//! Jingle (XEP-0166): the session around a file transfer. This module holds the
//! `<jingle/>` element (§7.1), its actions (§7.2), contents (§7.3) and reasons (§7.4),
//! and the session's life as a pure state machine (§6: pending, active, ended).
//! [`file`] is the application (XEP-0234), [`transport`] the transports (XEP-0261 IBB,
//! XEP-0260 SOCKS5), [`message`] the proposal that may precede a session (XEP-0353).

pub mod file;
pub mod message;
pub mod transport;

use crate::ns::{JINGLE_ERRORS_NS, JINGLE_NS};
use crate::stanza::{Condition, ErrorType, StanzaError};
use crate::xml::Element;

/// §8: the answer to a request the session's state does not allow.
pub fn out_of_order() -> StanzaError {
    StanzaError::new(ErrorType::Cancel, Condition::UnexpectedRequest)
        .with_app_condition("out-of-order", JINGLE_ERRORS_NS)
}

/// §8: the answer to a request about a session we do not know.
pub fn unknown_session() -> StanzaError {
    StanzaError::new(ErrorType::Cancel, Condition::ItemNotFound)
        .with_app_condition("unknown-session", JINGLE_ERRORS_NS)
}

/// §7.2: the actions xft sends or understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `session-initiate`
    SessionInitiate,
    /// `session-accept`
    SessionAccept,
    /// `session-info`
    SessionInfo,
    /// `session-terminate`
    SessionTerminate,
    /// `transport-info`
    TransportInfo,
    /// `transport-replace`
    TransportReplace,
    /// `transport-accept`
    TransportAccept,
    /// `transport-reject`
    TransportReject,
    /// `content-add`
    ContentAdd,
    /// `content-accept`
    ContentAccept,
    /// `content-reject`
    ContentReject,
    /// `content-remove`
    ContentRemove,
    /// `content-modify`
    ContentModify,
    /// `description-info`
    DescriptionInfo,
    /// `security-info`
    SecurityInfo,
}

impl Action {
    const ALL: [(Action, &'static str); 15] = [
        (Action::SessionInitiate, "session-initiate"),
        (Action::SessionAccept, "session-accept"),
        (Action::SessionInfo, "session-info"),
        (Action::SessionTerminate, "session-terminate"),
        (Action::TransportInfo, "transport-info"),
        (Action::TransportReplace, "transport-replace"),
        (Action::TransportAccept, "transport-accept"),
        (Action::TransportReject, "transport-reject"),
        (Action::ContentAdd, "content-add"),
        (Action::ContentAccept, "content-accept"),
        (Action::ContentReject, "content-reject"),
        (Action::ContentRemove, "content-remove"),
        (Action::ContentModify, "content-modify"),
        (Action::DescriptionInfo, "description-info"),
        (Action::SecurityInfo, "security-info"),
    ];

    /// The `action` attribute's value.
    pub fn as_str(self) -> &'static str {
        Action::ALL
            .iter()
            .find(|(a, _)| *a == self)
            .map(|(_, s)| *s)
            .unwrap_or("session-info")
    }

    /// The action named `s`, if §7.2 defines it.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.iter().find(|(_, n)| *n == s).map(|(a, _)| *a)
    }
}

/// §7.4: why a session (or a transport) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `success`
    Success,
    /// `decline`
    Decline,
    /// `cancel`
    Cancel,
    /// `busy`
    Busy,
    /// `expired`
    Expired,
    /// `failed-transport`
    FailedTransport,
    /// `failed-application`
    FailedApplication,
    /// `media-error`
    MediaError,
    /// `connectivity-error`
    ConnectivityError,
    /// `general-error`
    GeneralError,
    /// `timeout`
    Timeout,
    /// `unsupported-transports`
    UnsupportedTransports,
    /// `unsupported-applications`
    UnsupportedApplications,
    /// `incompatible-parameters`
    IncompatibleParameters,
    /// `security-error`
    SecurityError,
    /// `alternative-session`
    AlternativeSession,
    /// `gone`
    Gone,
}

impl Reason {
    const ALL: [(Reason, &'static str); 17] = [
        (Reason::Success, "success"),
        (Reason::Decline, "decline"),
        (Reason::Cancel, "cancel"),
        (Reason::Busy, "busy"),
        (Reason::Expired, "expired"),
        (Reason::FailedTransport, "failed-transport"),
        (Reason::FailedApplication, "failed-application"),
        (Reason::MediaError, "media-error"),
        (Reason::ConnectivityError, "connectivity-error"),
        (Reason::GeneralError, "general-error"),
        (Reason::Timeout, "timeout"),
        (Reason::UnsupportedTransports, "unsupported-transports"),
        (Reason::UnsupportedApplications, "unsupported-applications"),
        (Reason::IncompatibleParameters, "incompatible-parameters"),
        (Reason::SecurityError, "security-error"),
        (Reason::AlternativeSession, "alternative-session"),
        (Reason::Gone, "gone"),
    ];

    /// The condition's element name.
    pub fn as_str(self) -> &'static str {
        Reason::ALL
            .iter()
            .find(|(r, _)| *r == self)
            .map(|(_, s)| *s)
            .unwrap_or("general-error")
    }

    /// The reason named `s`, if §7.4 defines it.
    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.iter().find(|(_, n)| *n == s).map(|(r, _)| *r)
    }
}

/// §7.3: one content: an application description and a transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// "initiator" or "responder": who created the content.
    pub creator: String,
    /// Names the content within the session.
    pub name: String,
    /// "initiator" for a file offer (XEP-0234 §4.1).
    pub senders: Option<String>,
    /// The application's `<description/>` (XEP-0234's file).
    pub description: Option<Element>,
    /// The `<transport/>` (XEP-0260 or XEP-0261).
    pub transport: Option<Element>,
}

impl Content {
    /// `<content creator name senders>` with the description and transport.
    pub fn to_element(&self) -> Element {
        let mut el = Element::new("content", JINGLE_NS)
            .attr("creator", self.creator.as_str())
            .attr("name", self.name.as_str())
            .attr_opt("senders", self.senders.as_deref());
        if let Some(d) = &self.description {
            el.push_child(d.clone());
        }
        if let Some(t) = &self.transport {
            el.push_child(t.clone());
        }
        el
    }

    /// This content with `transport` and no description: what a transport-info,
    /// -replace or -accept carries (§7.2).
    pub fn with_transport(&self, transport: Element) -> Content {
        Content {
            description: None,
            transport: Some(transport),
            ..self.clone()
        }
    }

    fn from_element(el: &Element) -> Option<Content> {
        Some(Content {
            creator: el.get_attr("creator")?.to_owned(),
            name: el.get_attr("name")?.to_owned(),
            senders: el.get_attr("senders").map(str::to_owned),
            description: el.children().find(|c| c.name() == "description").cloned(),
            transport: el.children().find(|c| c.name() == "transport").cloned(),
        })
    }
}

/// §7.1: the `<jingle/>` element of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Jingle {
    /// What this request does.
    pub action: Action,
    /// The session id.
    pub sid: String,
    /// The initiator's full JID (session-initiate).
    pub initiator: Option<String>,
    /// The responder's full JID (session-accept).
    pub responder: Option<String>,
    /// The contents (one per file for xft).
    pub contents: Vec<Content>,
    /// The reason's condition and text, when there is a reason.
    pub reason: Option<(Option<Reason>, Option<String>)>,
    /// Other children (session-info payloads: `<checksum/>`, `<received/>`).
    pub payload: Vec<Element>,
}

/// Contents accepted in one `<jingle/>`: xft sends one file per session, and a peer's
/// list is bounded by the stanza size anyway; more than this is refused.
const MAX_CONTENTS: usize = 16;

impl Jingle {
    /// An empty request of `action` in session `sid`.
    pub fn new(action: Action, sid: &str) -> Jingle {
        Jingle {
            action,
            sid: sid.to_owned(),
            initiator: None,
            responder: None,
            contents: Vec::new(),
            reason: None,
            payload: Vec::new(),
        }
    }

    /// `action` about one content.
    pub fn about(action: Action, sid: &str, content: Content) -> Jingle {
        let mut jingle = Jingle::new(action, sid);
        jingle.contents.push(content);
        jingle
    }

    /// With a `<reason/>` (session-terminate).
    pub fn with_reason(mut self, reason: Reason, text: Option<&str>) -> Jingle {
        self.reason = Some((Some(reason), text.map(str::to_owned)));
        self
    }

    /// The `<jingle/>` element.
    pub fn to_element(&self) -> Element {
        let mut el = Element::new("jingle", JINGLE_NS)
            .attr("action", self.action.as_str())
            .attr("sid", self.sid.as_str())
            .attr_opt("initiator", self.initiator.as_deref())
            .attr_opt("responder", self.responder.as_deref());
        for c in &self.contents {
            el.push_child(c.to_element());
        }
        if let Some((condition, text)) = &self.reason {
            let mut reason = Element::new("reason", JINGLE_NS);
            reason.push_child(Element::new(
                condition.unwrap_or(Reason::GeneralError).as_str(),
                JINGLE_NS,
            ));
            if let Some(text) = text {
                reason.push_child(Element::new("text", JINGLE_NS).text(text.as_str()));
            }
            el.push_child(reason);
        }
        for p in &self.payload {
            el.push_child(p.clone());
        }
        el
    }

    /// Reads a `<jingle/>`; `None` when the action or sid is missing or unknown, or a
    /// content lacks its creator or name (§7: bad-request).
    pub fn from_element(el: &Element) -> Option<Jingle> {
        if !el.is("jingle", JINGLE_NS) {
            return None;
        }
        let action = Action::parse(el.get_attr("action")?)?;
        let sid = el
            .get_attr("sid")
            .filter(|s| !s.is_empty() && s.len() <= 256)?;
        let mut jingle = Jingle::new(action, sid);
        jingle.initiator = el.get_attr("initiator").map(str::to_owned);
        jingle.responder = el.get_attr("responder").map(str::to_owned);
        for child in el.children() {
            if child.is("content", JINGLE_NS) {
                if jingle.contents.len() == MAX_CONTENTS {
                    return None;
                }
                jingle.contents.push(Content::from_element(child)?);
            } else if child.is("reason", JINGLE_NS) {
                let condition = child
                    .children()
                    .filter(|c| c.ns() == JINGLE_NS && c.name() != "text")
                    .find_map(|c| Reason::parse(c.name()));
                let text = child.child_text("text", JINGLE_NS);
                jingle.reason = Some((condition, text));
            } else if jingle.payload.len() < MAX_CONTENTS {
                jingle.payload.push(child.clone());
            }
        }
        Some(jingle)
    }
}

/// Where a session stands (XEP-0166 §6): xft's sessions carry one file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// session-initiate sent or received, not yet accepted.
    Pending,
    /// session-accept sent or received.
    Active,
    /// session-terminate sent or received.
    Ended,
}

/// The actions allowed in each state (§6, §7.2): anything else is answered with
/// `out-of-order` (§8) and changes nothing.
pub fn next_state(state: State, action: Action) -> Option<State> {
    use Action::*;
    match (state, action) {
        (State::Ended, _) => None,
        (_, SessionTerminate) => Some(State::Ended),
        (State::Pending, SessionAccept) => Some(State::Active),
        (State::Pending, SessionInitiate) => None,
        (State::Active, SessionAccept | SessionInitiate) => None,
        (
            s,
            SessionInfo | TransportInfo | TransportReplace | TransportAccept | TransportReject
            | DescriptionInfo | SecurityInfo,
        ) => Some(s),
        (s, ContentAdd | ContentAccept | ContentReject | ContentRemove | ContentModify) => Some(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// XEP-0166 §6.1 (as in XEP-0261 Example 1): a session-initiate.
    #[test]
    fn reads_a_session_initiate() {
        let el = parse_document(
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'
                     initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>
               <content creator='initiator' name='ex'>
                 <description xmlns='urn:xmpp:example'/>
                 <transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ch3d9s71'/>
               </content>
             </jingle>",
        )
        .unwrap();
        let j = Jingle::from_element(&el).unwrap();
        assert_eq!(j.action, Action::SessionInitiate);
        assert_eq!(j.sid, "a73sjjvkla37jfea");
        assert_eq!(j.initiator.as_deref(), Some("romeo@montague.lit/orchard"));
        assert_eq!(j.contents.len(), 1);
        assert_eq!(j.contents[0].name, "ex");
        assert!(j.contents[0].transport.is_some());
        // Round trip.
        assert_eq!(Jingle::from_element(&j.to_element()).unwrap(), j);
    }

    /// §6.7: session-terminate with a reason and text.
    #[test]
    fn reads_and_writes_reasons() {
        let el = parse_document(
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfea'>
               <reason><decline/><text>not now</text></reason>
             </jingle>",
        )
        .unwrap();
        let j = Jingle::from_element(&el).unwrap();
        assert_eq!(
            j.reason,
            Some((Some(Reason::Decline), Some("not now".into())))
        );
        let out = Jingle::new(Action::SessionTerminate, "s")
            .with_reason(Reason::Success, None)
            .to_element();
        assert!(out
            .get_child("reason", JINGLE_NS)
            .unwrap()
            .get_child("success", JINGLE_NS)
            .is_some());
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-dance' sid='s'/>",
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'/>",
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid=''/>",
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content name='x'/></jingle>",
            "<jingle xmlns='urn:xmpp:jingle:0' action='session-initiate' sid='s'/>",
        ] {
            assert!(Jingle::from_element(&parse_document(bad).unwrap()).is_none(), "{bad}");
        }
        let many = format!(
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'>{}</jingle>",
            "<content creator='initiator' name='c'/>".repeat(MAX_CONTENTS + 1)
        );
        assert!(Jingle::from_element(&parse_document(&many).unwrap()).is_none());
    }

    #[test]
    fn the_session_moves_only_forward() {
        assert_eq!(
            next_state(State::Pending, Action::SessionAccept),
            Some(State::Active)
        );
        assert_eq!(next_state(State::Active, Action::SessionAccept), None);
        assert_eq!(
            next_state(State::Active, Action::SessionInfo),
            Some(State::Active)
        );
        assert_eq!(
            next_state(State::Pending, Action::TransportReplace),
            Some(State::Pending)
        );
        assert_eq!(
            next_state(State::Active, Action::SessionTerminate),
            Some(State::Ended)
        );
        assert_eq!(next_state(State::Ended, Action::SessionInfo), None);
        assert_eq!(next_state(State::Pending, Action::SessionInitiate), None);
    }
}
