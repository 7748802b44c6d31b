//! Who may send to `xft recv` and what it takes, decided once for every kind of offer
//! (SI, Jingle, XEP-0353 proposals, links): `--accept-any`, or the `--from` JIDs (a
//! bare JID allows its every resource), or by default a contact (a roster item with a
//! subscription, kept current by roster pushes, RFC 6121 §2.1.6) or one of our own
//! resources; and no file over `--max-size`.

use std::collections::HashSet;

use crate::jid::{FullJid, Jid};
use crate::ns::ROSTER_NS;
use crate::roster::{Item, Subscription};
use crate::xml::Element;

/// The receiver's policy and what it needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// `--accept-any`.
    pub accept_any: bool,
    /// `--from`.
    pub allowed: Vec<Jid>,
    /// `--max-size`.
    pub max_size: Option<u64>,
    /// Our own account: its other resources may always send.
    pub own: FullJid,
    /// Bare JIDs with a subscription either way.
    pub contacts: HashSet<Jid>,
}

impl Policy {
    /// Whether `from` may send at all.
    pub(crate) fn allows(&self, from: &Jid) -> bool {
        if self.accept_any {
            true
        } else if !self.allowed.is_empty() {
            self.allowed.iter().any(|a| match a.resource() {
                Some(_) => a == from,
                None => *a == from.bare(),
            })
        } else {
            self.is_contact(from) || from.bare() == self.own.bare()
        }
    }

    /// Whether `from` is in the roster (with a subscription).
    pub(crate) fn is_contact(&self, from: &Jid) -> bool {
        self.contacts.contains(&from.bare())
    }

    /// Why an offer of `size` bytes from `from` is declined (the text the sender is
    /// given), or `None` to take it.
    pub(crate) fn decline(&self, from: &Jid, size: u64) -> Option<String> {
        if !self.allows(from) {
            return Some("Offer Declined: sender not allowed".into());
        }
        match self.max_size {
            Some(max) if size > max => Some(format!(
                "Offer Declined: file too large ({size} bytes, the limit is {max})"
            )),
            _ => None,
        }
    }

    /// A roster push (RFC 6121 §2.1.6) changes who the contacts are.
    pub(crate) fn update(&mut self, push: &Element) {
        let Some(query) = push.get_child("query", ROSTER_NS) else {
            return;
        };
        for el in query.children() {
            let Some(item) = Item::from_element(el) else {
                continue;
            };
            if Item::is_removal(el) || item.subscription == Subscription::None {
                self.contacts.remove(&item.jid);
            } else {
                self.contacts.insert(item.jid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    fn jid(s: &str) -> Jid {
        Jid::parse(s).unwrap()
    }

    fn policy() -> Policy {
        Policy {
            accept_any: false,
            allowed: Vec::new(),
            max_size: Some(100),
            own: jid("bob@example.org/recv").to_full().unwrap(),
            contacts: [jid("alice@example.org")].into_iter().collect(),
        }
    }

    #[test]
    fn contacts_and_own_resources_by_default() {
        let p = policy();
        assert!(p.allows(&jid("alice@example.org/phone")));
        assert!(p.allows(&jid("bob@example.org/laptop")));
        assert!(!p.allows(&jid("mallory@example.org/x")));
        assert_eq!(p.decline(&jid("alice@example.org/phone"), 100), None);
        assert!(p
            .decline(&jid("alice@example.org/phone"), 101)
            .unwrap()
            .contains("too large"));
        assert!(p
            .decline(&jid("mallory@example.org/x"), 1)
            .unwrap()
            .contains("not allowed"));
    }

    #[test]
    fn from_names_jids_and_any_allows_all() {
        let mut p = policy();
        p.allowed = vec![jid("carol@example.org"), jid("dave@example.org/desk")];
        assert!(p.allows(&jid("carol@example.org/any")));
        assert!(p.allows(&jid("dave@example.org/desk")));
        assert!(!p.allows(&jid("dave@example.org/phone")));
        assert!(
            !p.allows(&jid("alice@example.org/phone")),
            "--from replaces contacts"
        );
        p.accept_any = true;
        assert!(p.allows(&jid("mallory@example.org/x")));
    }

    /// RFC 6121 §2.1.6 Example: a push adds a contact, a removal takes it away.
    #[test]
    fn roster_pushes_change_the_contacts() {
        let mut p = policy();
        let add = parse_document(
            "<iq xmlns='jabber:client' type='set' id='a78b4q6ha463'><query xmlns='jabber:iq:roster'>
               <item jid='nurse@example.com' subscription='both'/></query></iq>",
        )
        .unwrap();
        p.update(&add);
        assert!(p.allows(&jid("nurse@example.com/x")));
        let remove = parse_document(
            "<iq xmlns='jabber:client' type='set' id='r1'><query xmlns='jabber:iq:roster'>
               <item jid='nurse@example.com' subscription='remove'/></query></iq>",
        )
        .unwrap();
        p.update(&remove);
        assert!(!p.allows(&jid("nurse@example.com/x")));
    }
}
