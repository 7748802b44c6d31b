//! Chat that reaches `xft recv` is shown on stderr, not silently dropped: its presence
//! has priority 0 so that links to the bare JID reach it, and so do the messages the
//! server kept while we were offline. Shown within budgets, contacts first: a flood from
//! strangers must neither flood the terminal nor push the contacts' messages out
//! (issue 19: 100 strangers' messages used to take the whole budget); what was not
//! shown is counted and said.

use crate::xml::Element;

/// How much of one message is shown.
const SHOWN_CHARS: usize = 300;
/// Messages shown from contacts (and our own resources) in one run.
const CONTACTS_SHOWN: u32 = 100;
/// Messages shown from anybody else in one run.
const STRANGERS_SHOWN: u32 = 10;

/// What was shown and what was not.
#[derive(Debug, Default)]
pub(super) struct Chat {
    contacts: u32,
    strangers: u32,
    /// Messages with a body that were not shown, by whether a contact sent them.
    hidden: (u32, u32),
}

impl Chat {
    /// Shows the body of `stanza` (a message that is not an error), within the budget
    /// of its kind of sender.
    pub(super) fn show(&mut self, stanza: &Element, from_contact: bool) {
        if stanza.name() != "message" || stanza.get_attr("type") == Some("error") {
            return;
        }
        let Some(body) = stanza.child_text("body", crate::ns::CLIENT_NS) else {
            return;
        };
        let from = stanza.get_attr("from").unwrap_or("?");
        self.show_text(from, &body, (from_contact, false));
    }

    /// Shows `body` from `from`, within the budget of its kind of sender; `encrypted`
    /// says it was decrypted from an OMEMO message.
    pub(super) fn show_text(
        &mut self,
        from: &str,
        body: &str,
        (from_contact, encrypted): (bool, bool),
    ) {
        let (shown, budget, hidden) = match from_contact {
            true => (&mut self.contacts, CONTACTS_SHOWN, &mut self.hidden.0),
            false => (&mut self.strangers, STRANGERS_SHOWN, &mut self.hidden.1),
        };
        if *shown >= budget {
            if *hidden == 0 {
                let who = if from_contact {
                    "contacts"
                } else {
                    "strangers"
                };
                tracing::warn!("more messages from {who} than xft shows; counting the rest");
            }
            *hidden += 1;
            return;
        }
        *shown += 1;
        let text: String = body.chars().take(SHOWN_CHARS).collect();
        let cut = if text.len() < body.len() {
            " […]"
        } else {
            ""
        };
        let stranger = if from_contact { "" } else { " (not a contact)" };
        let kind = if encrypted {
            "encrypted message"
        } else {
            "message"
        };
        tracing::warn!(
            "{kind} from {}{stranger} (not a file): {}{cut}",
            crate::text::printable(from),
            crate::text::printable(&text)
        );
    }

    /// How many messages were not shown, said once at the end.
    pub(super) fn summary(&self) -> Option<String> {
        let (contacts, strangers) = self.hidden;
        (contacts + strangers > 0).then(|| {
            format!(
                "{} messages were not shown ({contacts} from contacts, {strangers} from strangers)",
                contacts + strangers
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ns::CLIENT_NS;

    fn message(from: &str) -> Element {
        Element::new("message", CLIENT_NS)
            .attr("from", from)
            .child(Element::new("body", CLIENT_NS).text("hi"))
    }

    /// Strangers use up their own budget only; contacts are still shown after them, and
    /// what was not shown is counted.
    #[test]
    fn strangers_cannot_crowd_out_contacts() {
        let mut chat = Chat::default();
        for _ in 0..500 {
            chat.show(&message("mallory@example.org/x"), false);
        }
        chat.show(&message("alice@example.org/phone"), true);
        assert_eq!(chat.contacts, 1);
        assert_eq!(chat.strangers, STRANGERS_SHOWN);
        assert_eq!(chat.hidden, (0, 500 - STRANGERS_SHOWN));
        assert!(chat.summary().unwrap().contains("490 from strangers"));
        let quiet = Chat::default();
        assert_eq!(quiet.summary(), None);
    }
}
