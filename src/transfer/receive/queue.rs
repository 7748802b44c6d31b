//! Accepted offers waiting for a free slot: bounded in number and in bytes (beyond that
//! an offer is refused as busy), and withdrawn at once when their sender ends them while
//! they wait (a Jingle session-terminate for their sid) or goes offline (issue 19, item
//! 4: a contact who opened 50 sessions and cancelled them kept the next real file
//! waiting while each was accepted in turn). Pure: the dispatcher does the I/O.

use std::collections::VecDeque;

use crate::jid::Jid;

/// Offers kept waiting at most.
pub(super) const MAX_WAITING: usize = 16;
/// The bytes (as received) they may hold: offers are small, a stanza that is not is
/// refused rather than kept.
pub(super) const MAX_WAITING_BYTES: usize = 256 * 1024;

/// What the queue needs to know of an offer.
pub(super) trait Queued {
    /// The sender's full JID.
    fn sender(&self) -> &Jid;
    /// The Jingle session it opens, if it is a Jingle offer.
    fn session(&self) -> Option<&str>;
    /// Its size as received, for the byte bound.
    fn weight(&self) -> usize;
}

/// The waiting offers, oldest first.
#[derive(Debug)]
pub(super) struct Queue<T> {
    items: VecDeque<T>,
    bytes: usize,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            items: VecDeque::new(),
            bytes: 0,
        }
    }
}

impl<T: Queued> Queue<T> {
    /// Keeps `offer` to start later; gives it back when the queue is full.
    pub(super) fn push(&mut self, offer: T) -> Result<(), T> {
        let weight = offer.weight();
        if self.items.len() >= MAX_WAITING || self.bytes + weight > MAX_WAITING_BYTES {
            return Err(offer);
        }
        self.bytes += weight;
        self.items.push_back(offer);
        Ok(())
    }

    /// The oldest offer, to start now.
    pub(super) fn pop(&mut self) -> Option<T> {
        let offer = self.items.pop_front()?;
        self.bytes -= offer.weight();
        Some(offer)
    }

    /// The waiting offer of Jingle session `sid` from `sender`, taken out (the sender
    /// ended the session).
    pub(super) fn withdraw_session(&mut self, sender: &Jid, sid: &str) -> Option<T> {
        let i = self
            .items
            .iter()
            .position(|o| o.sender() == sender && o.session() == Some(sid))?;
        let offer = self.items.remove(i)?;
        self.bytes -= offer.weight();
        Some(offer)
    }

    /// Every waiting offer of `sender` (a full JID that went offline), taken out.
    pub(super) fn withdraw_sender(&mut self, sender: &Jid) -> Vec<T> {
        let (gone, kept): (Vec<T>, Vec<T>) =
            self.items.drain(..).partition(|o| o.sender() == sender);
        self.items = kept.into();
        self.bytes = self.items.iter().map(Queued::weight).sum();
        gone
    }

    /// Everything still waiting (at the end of the run).
    pub(super) fn drain(&mut self) -> Vec<T> {
        self.bytes = 0;
        self.items.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Offer(Jid, Option<String>, usize);

    impl Queued for Offer {
        fn sender(&self) -> &Jid {
            &self.0
        }
        fn session(&self) -> Option<&str> {
            self.1.as_deref()
        }
        fn weight(&self) -> usize {
            self.2
        }
    }

    fn offer(from: &str, sid: Option<&str>, weight: usize) -> Offer {
        Offer(Jid::parse(from).unwrap(), sid.map(str::to_owned), weight)
    }

    #[test]
    fn bounded_in_number_and_bytes() {
        let mut q = Queue::default();
        for n in 0..MAX_WAITING {
            q.push(offer("a@b/c", Some(&n.to_string()), 10)).unwrap();
        }
        assert!(q.push(offer("a@b/c", None, 10)).is_err());
        let mut q = Queue::default();
        q.push(offer("a@b/c", None, MAX_WAITING_BYTES - 5)).unwrap();
        assert!(q.push(offer("a@b/c", None, 6)).is_err());
        q.push(offer("a@b/c", None, 5)).unwrap();
        assert_eq!(q.pop().map(|o| o.2), Some(MAX_WAITING_BYTES - 5));
        q.push(offer("a@b/c", None, 1000)).unwrap();
    }

    /// A sender that ends a waiting session, or goes offline, takes its offers with it;
    /// the others keep their order.
    #[test]
    fn withdrawn_offers_never_start() {
        let mut q = Queue::default();
        for n in 0..5 {
            q.push(offer("mallory@b/x", Some(&format!("s{n}")), 10))
                .unwrap();
        }
        q.push(offer("alice@b/phone", Some("real"), 10)).unwrap();
        q.push(offer("carol@b/pc", None, 10)).unwrap();
        let mallory = Jid::parse("mallory@b/x").unwrap();
        assert_eq!(
            q.withdraw_session(&mallory, "s2").map(|o| o.1),
            Some(Some("s2".into()))
        );
        assert!(
            q.withdraw_session(&mallory, "real").is_none(),
            "another sender's session"
        );
        assert_eq!(q.withdraw_sender(&mallory).len(), 4);
        assert_eq!(q.pop().map(|o| o.1), Some(Some("real".into())));
        assert_eq!(q.pop().map(|o| o.0.to_string()), Some("carol@b/pc".into()));
        assert!(q.pop().is_none());
        assert_eq!(q.bytes, 0);
    }
}
