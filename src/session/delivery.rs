//! Whether the server has acted on every stanza we sent that matters, so that the
//! stream can end without waiting for the server's closing tag (RFC 6120 §4.4).
//!
//! A server processes the stanzas of one stream in the order it received them (RFC 6120
//! §10.1). So when the answer to one of our requests arrives, the server has handled that
//! request and everything we wrote before it. If nothing that matters was written after
//! the last request answered, closing at once loses nothing; otherwise
//! [`super::Session::close`] waits for the server to close its side, as it always did.
//! Waiting costs a round trip through the server's session teardown on every command
//! (`xft vcard get`, a small `xft send`): 1 ms on a quiet machine, several on a busy one.

use crate::stanza::IqType;
use crate::xml::Element;
use std::sync::Mutex;

/// What a stanza on its way out needs from the server before the stream may end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// An iq request: its answer proves it (and all before it) processed.
    Request(String),
    /// Must reach the server before we go: a message, an answer, a subscription.
    Matters,
    /// Availability presence and keepalives: the server announces our departure itself.
    Ignorable,
}

impl Kind {
    /// Classifies a stanza we are about to send.
    pub(super) fn of(el: &Element) -> Kind {
        if el.name() == "iq" && IqType::of(el).is_some_and(IqType::is_request) {
            return match el.get_attr("id") {
                Some(id) => Kind::Request(id.to_owned()),
                None => Kind::Matters,
            };
        }
        let availability = matches!(el.get_attr("type"), None | Some("unavailable"));
        if el.name() == "presence" && availability {
            return Kind::Ignorable;
        }
        Kind::Matters
    }
}

/// Counts stanzas as the writer writes them, and what the answers prove processed.
#[derive(Debug, Default)]
pub(super) struct Delivery {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Stanzas written so far (a stanza's number is its position in the stream).
    written: u64,
    /// The number of the last stanza written that matters (requests included).
    last_that_matters: u64,
    /// The latest request written, by id and number: only its answer is looked for.
    last_request: Option<(String, u64)>,
    /// Every stanza up to this number has certainly been processed.
    processed_up_to: u64,
}

impl Delivery {
    /// The writer is about to write a stanza of this kind (in stream order).
    pub(super) fn writing(&self, kind: Kind) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.written += 1;
        let number = state.written;
        match kind {
            Kind::Ignorable => {}
            Kind::Matters => state.last_that_matters = number,
            Kind::Request(id) => {
                state.last_that_matters = number;
                state.last_request = Some((id, number));
            }
        }
    }

    /// The answer to our request `id` arrived (from the entity we asked).
    pub(super) fn answered(&self, id: &str) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let proven = match &state.last_request {
            Some((last, number)) if last == id => *number,
            _ => return,
        };
        state.processed_up_to = state.processed_up_to.max(proven);
    }

    /// True when no stanza that matters could still be unprocessed by the server.
    pub(super) fn all_processed(&self) -> bool {
        self.state
            .lock()
            .map(|state| state.last_that_matters <= state.processed_up_to)
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// The kind of a stanza given without its namespace (jabber:client is added).
    fn kind(xml: &str) -> Kind {
        let name_end = xml.find([' ', '>', '/']).unwrap();
        let xml = format!(
            "{} xmlns='jabber:client'{}",
            &xml[..name_end],
            &xml[name_end..]
        );
        Kind::of(&parse_document(&xml).unwrap())
    }

    #[test]
    fn requests_answers_messages_and_presence_are_told_apart() {
        assert_eq!(
            kind("<iq type='get' id='a1'><vCard xmlns='vcard-temp'/></iq>"),
            Kind::Request("a1".into())
        );
        assert_eq!(kind("<iq type='set' id='b'/>"), Kind::Request("b".into()));
        assert_eq!(kind("<iq type='result' id='c'/>"), Kind::Matters);
        assert_eq!(kind("<iq type='error' id='c'/>"), Kind::Matters);
        assert_eq!(kind("<iq type='set'/>"), Kind::Matters);
        assert_eq!(
            kind("<message to='a@b'><body>x</body></message>"),
            Kind::Matters
        );
        assert_eq!(kind("<presence type='subscribe' to='a@b'/>"), Kind::Matters);
        assert_eq!(
            kind("<presence type='subscribed' to='a@b'/>"),
            Kind::Matters
        );
        assert_eq!(
            kind("<presence><priority>-1</priority></presence>"),
            Kind::Ignorable
        );
        assert_eq!(kind("<presence type='unavailable'/>"), Kind::Ignorable);
    }

    #[test]
    fn nothing_written_is_all_processed() {
        let d = Delivery::default();
        assert!(d.all_processed());
        d.writing(Kind::Ignorable);
        assert!(d.all_processed());
    }

    #[test]
    fn an_answered_request_proves_everything_before_it() {
        let d = Delivery::default();
        d.writing(Kind::Matters);
        d.writing(Kind::Request("r1".into()));
        assert!(!d.all_processed(), "nothing answered yet");
        d.answered("r1");
        assert!(d.all_processed());
        d.writing(Kind::Ignorable);
        assert!(
            d.all_processed(),
            "presence written after it does not count"
        );
    }

    #[test]
    fn what_matters_after_the_last_answer_keeps_the_stream_waiting() {
        let d = Delivery::default();
        d.writing(Kind::Request("r1".into()));
        d.answered("r1");
        d.writing(Kind::Matters);
        assert!(
            !d.all_processed(),
            "an answer written after the last request"
        );
        d.writing(Kind::Request("r2".into()));
        d.answered("r2");
        assert!(d.all_processed());
    }

    #[test]
    fn only_the_answer_to_the_latest_request_proves_anything() {
        let d = Delivery::default();
        d.writing(Kind::Request("r1".into()));
        d.writing(Kind::Request("r2".into()));
        d.answered("r1");
        assert!(!d.all_processed(), "r2 may be unprocessed");
        d.answered("unknown");
        assert!(!d.all_processed());
        d.answered("r2");
        assert!(d.all_processed());
    }
}
