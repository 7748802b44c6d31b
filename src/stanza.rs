//! Stanza plumbing shared by every protocol: ids, iq replies and stanza errors
//! (RFC 6120 §8.2.3, §8.3).

use crate::ns::{CLIENT_NS, STANZAS_NS};
use std::fmt;

use crate::xml::Element;

/// RFC 6120 §8.3.2: what the error tells the sender to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// Retry after providing credentials.
    Auth,
    /// Do not retry: the error is final.
    Cancel,
    /// Proceed: the condition was only a warning.
    Continue,
    /// Retry after changing the data sent.
    Modify,
    /// Retry after waiting: the error is temporary.
    Wait,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::Auth => "auth",
            ErrorType::Cancel => "cancel",
            ErrorType::Continue => "continue",
            ErrorType::Modify => "modify",
            ErrorType::Wait => "wait",
        }
    }

    /// §8.3.2 makes `type` one of five; a missing or unknown one is read as `cancel`
    /// (do not retry), the safe reading of an error we cannot classify, and logged.
    fn parse(s: &str) -> ErrorType {
        match s {
            "auth" => ErrorType::Auth,
            "cancel" => ErrorType::Cancel,
            "continue" => ErrorType::Continue,
            "modify" => ErrorType::Modify,
            "wait" => ErrorType::Wait,
            other => {
                tracing::debug!(
                    "stanza error of unknown type '{}' read as cancel",
                    crate::text::printable(&other.chars().take(40).collect::<String>())
                );
                ErrorType::Cancel
            }
        }
    }
}

/// RFC 6120 §8.3.3: the defined stanza error conditions. An unknown one is read as
/// `undefined-condition` (§8.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `<bad-request/>`
    BadRequest,
    /// `<conflict/>`
    Conflict,
    /// `<feature-not-implemented/>`
    FeatureNotImplemented,
    /// `<forbidden/>`
    Forbidden,
    /// `<gone/>`
    Gone,
    /// `<internal-server-error/>`
    InternalServerError,
    /// `<item-not-found/>`
    ItemNotFound,
    /// `<jid-malformed/>`
    JidMalformed,
    /// `<not-acceptable/>`
    NotAcceptable,
    /// `<not-allowed/>`
    NotAllowed,
    /// `<not-authorized/>`
    NotAuthorized,
    /// `<policy-violation/>`
    PolicyViolation,
    /// `<recipient-unavailable/>`
    RecipientUnavailable,
    /// `<redirect/>`
    Redirect,
    /// `<registration-required/>`
    RegistrationRequired,
    /// `<remote-server-not-found/>`
    RemoteServerNotFound,
    /// `<remote-server-timeout/>`
    RemoteServerTimeout,
    /// `<resource-constraint/>`
    ResourceConstraint,
    /// `<service-unavailable/>`
    ServiceUnavailable,
    /// `<subscription-required/>`
    SubscriptionRequired,
    /// `<undefined-condition/>`
    UndefinedCondition,
    /// `<unexpected-request/>`
    UnexpectedRequest,
}

impl Condition {
    const ALL: [Condition; 22] = [
        Condition::BadRequest,
        Condition::Conflict,
        Condition::FeatureNotImplemented,
        Condition::Forbidden,
        Condition::Gone,
        Condition::InternalServerError,
        Condition::ItemNotFound,
        Condition::JidMalformed,
        Condition::NotAcceptable,
        Condition::NotAllowed,
        Condition::NotAuthorized,
        Condition::PolicyViolation,
        Condition::RecipientUnavailable,
        Condition::Redirect,
        Condition::RegistrationRequired,
        Condition::RemoteServerNotFound,
        Condition::RemoteServerTimeout,
        Condition::ResourceConstraint,
        Condition::ServiceUnavailable,
        Condition::SubscriptionRequired,
        Condition::UndefinedCondition,
        Condition::UnexpectedRequest,
    ];

    /// The element name, e.g. `service-unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::BadRequest => "bad-request",
            Condition::Conflict => "conflict",
            Condition::FeatureNotImplemented => "feature-not-implemented",
            Condition::Forbidden => "forbidden",
            Condition::Gone => "gone",
            Condition::InternalServerError => "internal-server-error",
            Condition::ItemNotFound => "item-not-found",
            Condition::JidMalformed => "jid-malformed",
            Condition::NotAcceptable => "not-acceptable",
            Condition::NotAllowed => "not-allowed",
            Condition::NotAuthorized => "not-authorized",
            Condition::PolicyViolation => "policy-violation",
            Condition::RecipientUnavailable => "recipient-unavailable",
            Condition::Redirect => "redirect",
            Condition::RegistrationRequired => "registration-required",
            Condition::RemoteServerNotFound => "remote-server-not-found",
            Condition::RemoteServerTimeout => "remote-server-timeout",
            Condition::ResourceConstraint => "resource-constraint",
            Condition::ServiceUnavailable => "service-unavailable",
            Condition::SubscriptionRequired => "subscription-required",
            Condition::UndefinedCondition => "undefined-condition",
            Condition::UnexpectedRequest => "unexpected-request",
        }
    }

    /// The condition named `name`, if RFC 6120 defines it.
    pub fn from_name(name: &str) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// RFC 6120 §8.2.3: the four kinds of iq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IqType {
    /// Asks for information.
    Get,
    /// Asks for a change.
    Set,
    /// Answers with success.
    Result,
    /// Answers with an error.
    Error,
}

impl IqType {
    /// The `type` attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            IqType::Get => "get",
            IqType::Set => "set",
            IqType::Result => "result",
            IqType::Error => "error",
        }
    }

    /// The kind of `stanza` when it is an iq of the client namespace with a valid type.
    pub fn of(stanza: &Element) -> Option<IqType> {
        if stanza.name() != "iq" || stanza.ns() != CLIENT_NS {
            return None;
        }
        match stanza.get_attr("type")? {
            "get" => Some(IqType::Get),
            "set" => Some(IqType::Set),
            "result" => Some(IqType::Result),
            "error" => Some(IqType::Error),
            _ => None,
        }
    }

    /// `get` and `set` ask; `result` and `error` answer.
    pub fn is_request(self) -> bool {
        matches!(self, IqType::Get | IqType::Set)
    }
}

/// An `<error/>` child of a stanza (RFC 6120 §8.3): a defined condition, optional text,
/// and an optional application-specific condition (e.g. SI's `<no-valid-streams/>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanzaError {
    /// What the sender should do.
    pub error_type: ErrorType,
    /// The defined condition.
    pub condition: Condition,
    /// The `<text/>`, if any.
    pub text: Option<String>,
    /// The application-specific condition element, whole: some carry details, such as
    /// XEP-0363's `<file-too-large><max-file-size/>` (boxed: rare, and it would
    /// double the size of every error that carries a `StanzaError`).
    pub app_condition: Option<Box<Element>>,
}

impl StanzaError {
    /// An error with no text and no application condition.
    pub fn new(error_type: ErrorType, condition: Condition) -> Self {
        StanzaError {
            error_type,
            condition,
            text: None,
            app_condition: None,
        }
    }

    /// With a human-readable `<text/>`.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// With an empty application-specific condition element `name` in `ns`.
    pub fn with_app_condition(mut self, name: &str, ns: &str) -> Self {
        self.app_condition = Some(Box::new(Element::new(name, ns)));
        self
    }

    /// Reads the `<error/>` child of an error stanza; a missing or empty one becomes
    /// `undefined-condition` rather than a parse failure, since it still means "no".
    pub fn from_stanza(stanza: &Element) -> StanzaError {
        let Some(error) = stanza.children().find(|c| c.name() == "error") else {
            return StanzaError::new(ErrorType::Cancel, Condition::UndefinedCondition);
        };
        let error_type = ErrorType::parse(error.get_attr("type").unwrap_or("cancel"));
        let mut out = StanzaError::new(error_type, Condition::UndefinedCondition);
        for child in error.children() {
            if child.ns() == STANZAS_NS {
                if child.name() == "text" {
                    out.text = Some(child.text_content()).filter(|t| !t.is_empty());
                } else {
                    out.condition =
                        Condition::from_name(child.name()).unwrap_or(Condition::UndefinedCondition);
                }
            } else {
                out.app_condition = Some(Box::new(child.clone()));
            }
        }
        out
    }

    /// True when the defined condition is `condition`.
    pub fn is(&self, condition: Condition) -> bool {
        self.condition == condition
    }

    /// True when the application condition is `name` in `ns`.
    pub fn has_app_condition(&self, name: &str, ns: &str) -> bool {
        self.app_condition
            .as_ref()
            .is_some_and(|app| app.is(name, ns))
    }

    /// The application condition element `name` in `ns`, with its content.
    pub fn raw_app_condition(&self, name: &str, ns: &str) -> Option<&Element> {
        self.app_condition.as_deref().filter(|app| app.is(name, ns))
    }

    fn to_element(&self) -> Element {
        let mut error = Element::new("error", CLIENT_NS)
            .attr("type", self.error_type.as_str())
            .child(Element::new(self.condition.as_str(), STANZAS_NS));
        if let Some(text) = &self.text {
            error.push_child(Element::new("text", STANZAS_NS).text(text.as_str()));
        }
        if let Some(app) = &self.app_condition {
            error.push_child((**app).clone());
        }
        error
    }
}

impl fmt::Display for StanzaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.condition.as_str())?;
        if let Some(app) = &self.app_condition {
            write!(f, " ({})", app.name())?;
        }
        if let Some(text) = &self.text {
            write!(f, ": {text}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StanzaError {}

/// A fresh random stanza id or stream id: 16 characters of `[A-Za-z0-9]`, which also
/// satisfies the NMTOKEN rule XEP-0047 §2.1 sets for session ids.
pub fn new_id() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 16)
}

/// `<iq type='get|set' to=... id=...>payload</iq>`.
pub fn iq(kind: IqType, to: Option<&str>, payload: Element) -> Element {
    Element::new("iq", CLIENT_NS)
        .attr("type", kind.as_str())
        .attr("id", new_id())
        .attr_opt("to", to)
        .child(payload)
}

/// Directed presence (RFC 6121 §4.6) at priority -1: the server then tells `to` when our
/// session ends, so a peer in the middle of a transfer with us learns at once that we
/// are gone. The negative priority keeps messages to our bare JID away from us.
pub fn directed_presence(to: &str) -> Element {
    Element::new("presence", CLIENT_NS)
        .attr("to", to)
        .child(Element::new("priority", CLIENT_NS).text("-1"))
}

/// The empty result that acknowledges an iq request (RFC 6120 §8.2.3).
pub fn iq_result(request: &Element) -> Element {
    Element::new("iq", CLIENT_NS)
        .attr("type", "result")
        .attr("id", request.get_attr("id").unwrap_or_default())
        .attr_opt("to", request.get_attr("from"))
}

/// An error reply to `request` (RFC 6120 §8.3.1).
pub fn error_reply(request: &Element, error: &StanzaError) -> Element {
    Element::new(request.name(), CLIENT_NS)
        .attr("type", "error")
        .attr("id", request.get_attr("id").unwrap_or_default())
        .attr_opt("to", request.get_attr("from"))
        .child(error.to_element())
}

/// The `type` attribute, with RFC 6120's defaults (`normal` for message, none for presence).
pub fn stanza_type(stanza: &Element) -> &str {
    stanza.get_attr("type").unwrap_or(match stanza.name() {
        "message" => "normal",
        "presence" => "available",
        _ => "",
    })
}

/// True for an iq request (`get` or `set`) whose first child is `name` in `ns`.
pub fn is_iq_request(stanza: &Element, kind: IqType, name: &str, ns: &str) -> bool {
    IqType::of(stanza) == Some(kind) && stanza.children().next().is_some_and(|c| c.is(name, ns))
}

/// The first child element of an iq: its payload.
pub fn payload(stanza: &Element) -> Option<&Element> {
    stanza.children().find(|c| c.name() != "error")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6120 §8.3.3: every defined condition by name, and §8.3.2: an unknown one
    /// reads as undefined-condition.
    #[test]
    fn conditions_by_name() {
        for c in Condition::ALL {
            assert_eq!(Condition::from_name(c.as_str()), Some(c));
        }
        assert_eq!(Condition::ALL.len(), 22);
        let odd = crate::xml::parse_document(
            "<iq xmlns='jabber:client' type='error'><error type='bogus'>\
             <made-up xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        )
        .unwrap();
        let e = StanzaError::from_stanza(&odd);
        assert_eq!(e.condition, Condition::UndefinedCondition);
        assert_eq!(e.error_type, ErrorType::Cancel);
    }

    #[test]
    fn parses_error_with_app_condition() {
        // XEP-0095 §4.2 Example 4: no valid streams.
        let stanza = Element::new("iq", CLIENT_NS).attr("type", "error").child(
            Element::new("error", CLIENT_NS)
                .attr("code", "400")
                .attr("type", "cancel")
                .child(Element::new("bad-request", STANZAS_NS))
                .child(Element::new(
                    "no-valid-streams",
                    "http://jabber.org/protocol/si",
                )),
        );
        let e = StanzaError::from_stanza(&stanza);
        assert!(e.is(Condition::BadRequest));
        assert!(e.has_app_condition("no-valid-streams", "http://jabber.org/protocol/si"));
        assert_eq!(e.error_type, ErrorType::Cancel);
    }

    #[test]
    fn error_reply_round_trips() {
        let req = Element::new("iq", CLIENT_NS)
            .attr("type", "set")
            .attr("id", "x1")
            .attr("from", "a@b/c");
        let err =
            StanzaError::new(ErrorType::Cancel, Condition::Forbidden).with_text("Offer Declined");
        let reply = error_reply(&req, &err);
        assert_eq!(reply.get_attr("to"), Some("a@b/c"));
        assert_eq!(reply.get_attr("id"), Some("x1"));
        assert_eq!(StanzaError::from_stanza(&reply), err);
    }

    #[test]
    fn ids_are_nmtokens() {
        let id = new_id();
        assert_eq!(id.len(), 16);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(id, new_id());
    }
}
