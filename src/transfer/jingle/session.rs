//! One Jingle session (XEP-0166) as a value: the XMPP session it runs on, the peer and
//! the sid, the route that carries the peer's requests for it (and, once an in-band
//! transport is agreed, that bytestream's requests too, XEP-0261, so both are read in
//! the order they were sent), where the session stands (the pure state machine of
//! [`crate::jingle::next_state`] decides what a request may do), and the requests kept
//! for later. Both roles drive one; everything here is I/O around the state machine.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use super::super::TransferError;
use crate::bytestream::ibb::receiver::{self as ibb_receiver, Aside, Ending, Link};
use crate::bytestream::ibb::{inbound::Inbound, IbbError};
use crate::jid::FullJid;
use crate::jingle::{self, Action, Jingle, Reason, State};
use crate::ns::{IBB_NS, JINGLE_NS};
use crate::session::{IqError, PendingResult, Route, Session};
use crate::stanza::{self, Condition, ErrorType, IqType, StanzaError};
use crate::xml::Element;

/// Why a wait on the session ended without a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The deadline passed.
    Timeout,
    /// The peer went offline (or our connection did).
    Gone,
}

/// One session, either role.
pub(crate) struct JingleSession {
    pub(crate) session: Session,
    pub(crate) peer: FullJid,
    pub(crate) sid: String,
    /// `--timeout`: every wait of the session takes its bound from it.
    pub(crate) timeout: Duration,
    route: Route,
    state: State,
    kept: Kept,
    /// The sid of the in-band bytestream this route carries too, once agreed.
    carried: Arc<OnceLock<String>>,
    /// How long the peer took to acknowledge our first request (a round trip through
    /// both servers), once known (set by whoever waits for that acknowledgement).
    pub(crate) peer_rtt: Arc<OnceLock<Duration>>,
}

impl JingleSession {
    /// Claims the peer's requests for session `sid` (and its unavailable presence)
    /// from now on: call it before the request that can bring an answer.
    pub(crate) fn open(
        session: &Session,
        peer: &FullJid,
        sid: &str,
        timeout: Duration,
    ) -> JingleSession {
        let carried: Arc<OnceLock<String>> = Arc::default();
        let (who, ours, ibb) = (peer.as_jid().clone(), sid.to_owned(), carried.clone());
        let route = session.route(move |el| {
            crate::bytestream::claims(el, &who, |el| {
                IqType::of(el) == Some(IqType::Set)
                    && el.children().next().is_some_and(|c| {
                        (c.is("jingle", JINGLE_NS) && c.get_attr("sid") == Some(ours.as_str()))
                            || (c.ns() == IBB_NS
                                && ibb.get().is_some_and(|s| c.get_attr("sid") == Some(s)))
                    })
            })
        });
        JingleSession {
            session: session.clone(),
            peer: peer.clone(),
            sid: sid.to_owned(),
            timeout,
            route,
            state: State::Pending,
            kept: Kept::default(),
            carried,
            peer_rtt: Arc::default(),
        }
    }

    /// The session moved on because of something we sent (session-accept).
    pub(crate) fn moved_to(&mut self, state: State) {
        self.state = state;
    }

    /// Sends `jingle` and waits for its acknowledgement (XEP-0166 §6.2) up to the
    /// session's timeout.
    pub(crate) async fn request(&self, jingle: &Jingle) -> Result<Element, IqError> {
        let iq = stanza::iq(
            IqType::Set,
            Some(&self.peer.to_string()),
            jingle.to_element(),
        );
        self.session.iq_timeout(iq, self.timeout).await
    }

    /// Sends `jingle` without waiting for its acknowledgement: both sides send these
    /// (transport-info) while each may be busy, and waiting for the acks there would
    /// deadlock until the timeout.
    pub(crate) async fn notify(&self, jingle: &Jingle) -> Option<PendingResult> {
        let iq = stanza::iq(
            IqType::Set,
            Some(&self.peer.to_string()),
            jingle.to_element(),
        );
        self.session.iq_start(iq, self.timeout).await.ok()
    }

    /// Ends the session with `reason` (XEP-0166 §6.7) at once, without waiting for the
    /// acknowledgement: a peer that stopped must not cost a second wait (issue 19, item
    /// 5). The pending answer is returned for a caller with a reason to wait for it.
    pub(crate) async fn terminate(
        &mut self,
        reason: Reason,
        text: Option<&str>,
    ) -> Option<PendingResult> {
        self.state = State::Ended;
        let end = Jingle::new(Action::SessionTerminate, &self.sid).with_reason(reason, text);
        self.notify(&end).await
    }

    /// The next request of the session before `until`, acknowledged; the carried
    /// bytestream's close is acknowledged and skipped, a malformed request is answered
    /// `bad-request`, one the session's state does not allow `out-of-order`
    /// (§8), and skipped.
    pub(crate) async fn next(&mut self, until: Instant) -> Result<Jingle, Wait> {
        loop {
            let el = match tokio::time::timeout_at(until, self.route.next()).await {
                Err(_) => return Err(Wait::Timeout),
                Ok(None) => return Err(Wait::Gone),
                Ok(Some(el)) if el.name() == "presence" => return Err(Wait::Gone),
                Ok(Some(el)) => el,
            };
            if let Some(jingle) = self.admit(&el).await {
                return Ok(jingle);
            }
        }
    }

    /// Judges one request on the route: a Jingle request the state allows is
    /// acknowledged and returned; anything else is answered with an error.
    async fn admit(&mut self, el: &Element) -> Option<Jingle> {
        if el.get_child("close", IBB_NS).is_some() {
            // The carried bytestream's close after its last byte (XEP-0047 §2.3).
            let _ = self.session.reply_result(el).await;
            return None;
        }
        let parsed = el
            .get_child("jingle", JINGLE_NS)
            .and_then(Jingle::from_element);
        let Some(jingle) = parsed else {
            let error = StanzaError::new(ErrorType::Cancel, Condition::BadRequest);
            let _ = self.session.reply_error(el, &error).await;
            return None;
        };
        match jingle::next_state(self.state, jingle.action) {
            Some(state) => {
                self.state = state;
                // The end, and informational messages (the receiver's `<received/>`,
                // a checksum): their sender does not wait for our answer, so the
                // stream may end without proof that the server forwarded it.
                let _ = match jingle.action {
                    Action::SessionTerminate | Action::SessionInfo => {
                        self.session.reply_courtesy(el).await
                    }
                    _ => self.session.reply_result(el).await,
                };
                Some(jingle)
            }
            None => {
                let _ = self.session.reply_error(el, &jingle::out_of_order()).await;
                None
            }
        }
    }

    /// The next request within the session's timeout; when the wait ends first, the
    /// session is ended at once (`failed-transport`) and `what` is the error.
    pub(crate) async fn next_or_end(
        &mut self,
        what: &'static str,
    ) -> Result<Jingle, TransferError> {
        let until = Instant::now() + self.timeout;
        match self.next(until).await {
            Ok(jingle) => Ok(jingle),
            Err(Wait::Timeout) => {
                self.terminate(Reason::FailedTransport, None).await;
                Err(TransferError::JingleProtocol(what))
            }
            Err(Wait::Gone) => Err(TransferError::PeerGone { sent: 0, size: 0 }),
        }
    }

    /// Keeps a request that came while waiting for something else.
    pub(crate) fn keep(&mut self, jingle: Jingle) {
        self.kept.keep(jingle);
    }

    /// Takes the first kept request `wanted` picks.
    pub(crate) fn take(&mut self, wanted: impl Fn(&Jingle) -> bool) -> Option<Jingle> {
        let i = self.kept.0.iter().position(wanted)?;
        Some(self.kept.0.remove(i))
    }

    /// The requests kept so far.
    pub(crate) fn kept(&self) -> &[Jingle] {
        &self.kept.0
    }

    /// The peer's session-terminate, if one was kept.
    pub(crate) fn kept_end(&self) -> Option<&Jingle> {
        self.kept
            .0
            .iter()
            .find(|j| j.action == Action::SessionTerminate)
    }

    /// The error a session-terminate from the peer means.
    pub(crate) fn ended_by(&self, jingle: &Jingle) -> TransferError {
        terminated(&self.peer, jingle)
    }

    /// Runs a data phase while answering the session's requests: each is acknowledged
    /// and kept (a checksum may come before the last byte is through), and a
    /// session-terminate that is not `success` ends the phase at once with its reason
    /// (issue 19, item 3: it went unanswered until the stall deadline). A `success`
    /// may come before the last bytes: it is kept, and the data goes on.
    pub(crate) async fn during<T>(
        &mut self,
        work: impl std::future::Future<Output = Result<T, TransferError>>,
    ) -> Result<T, TransferError> {
        tokio::pin!(work);
        let mut listening = true;
        loop {
            tokio::select! {
                biased;
                done = &mut work => return done,
                next = self.route.next(), if listening => match next {
                    // The data phase watches the peer's presence itself.
                    Some(el) if el.name() == "presence" => {}
                    Some(el) => {
                        if let Some(jingle) = self.admit(&el).await {
                            if let Some(error) = self.interrupts(&jingle) {
                                return Err(error);
                            }
                            self.keep(jingle);
                        }
                    }
                    None => listening = false,
                },
            }
        }
    }

    /// A request that ends the data at once: a terminate that is not a success.
    fn interrupts(&self, jingle: &Jingle) -> Option<TransferError> {
        let success = matches!(jingle.reason, Some((Some(Reason::Success), _)) | None);
        (jingle.action == Action::SessionTerminate && !success).then(|| self.ended_by(jingle))
    }

    /// XEP-0261: the in-band bytestream `ibb_sid` is carried on this session's route
    /// from now on (call it before telling the peer to open).
    pub(crate) fn carry_ibb(&self, ibb_sid: &str) {
        let _ = self.carried.set(ibb_sid.to_owned());
    }

    /// XEP-0261 as receiver: waits for the open of the carried bytestream, answering
    /// the session's requests meanwhile; a terminate ends the wait.
    pub(crate) async fn ibb_open(&mut self, inbound: &mut Inbound) -> Result<usize, TransferError> {
        let sid = self.carried.get().cloned().unwrap_or_default();
        let wait = self.timeout;
        let (mut link, kept) = self.link(&sid);
        let mut aside = |el: &Element| keep_aside(kept, el);
        let opened = ibb_receiver::accept_open(&mut link, inbound, wait, &mut aside).await;
        match opened {
            Ok(block_size) => Ok(block_size),
            Err(IbbError::PeerClosed) if self.kept_end().is_some() => Err(self.end_error()),
            Err(e) => Err(e.into()),
        }
    }

    /// XEP-0261 as receiver: the carried bytestream's blocks into `sink` until the last
    /// of `size` bytes, or its close, or the end of the session (all blocks were sent
    /// before the terminate, so a `success` then means the sender is done).
    /// Conversations sends no close; a close after the last byte is acknowledged by
    /// [`JingleSession::next`].
    pub(crate) async fn ibb_receive<W: tokio::io::AsyncWrite + Unpin>(
        &mut self,
        inbound: &mut Inbound,
        sink: &mut W,
        size: u64,
    ) -> Result<Option<crate::bytestream::ibb::CloseRequest>, TransferError> {
        let sid = self.carried.get().cloned().unwrap_or_default();
        let stall = self.timeout;
        let (mut link, kept) = self.link(&sid);
        let mut aside = |el: &Element| keep_aside(kept, el);
        let want = (size, stall, ibb_receiver::Until::Size);
        let ending = ibb_receiver::receive(&mut link, inbound, sink, want, &mut aside);
        match ending.await? {
            Ending::Closed(close) => Ok(Some(close)),
            Ending::Whole => Ok(None),
            Ending::Stopped => match self.kept_end() {
                Some(end) if self.interrupts(end).is_none() => Ok(None),
                _ => Err(self.end_error()),
            },
        }
    }

    /// The error of the terminate that was kept (a general error without one).
    fn end_error(&self) -> TransferError {
        match self.kept_end() {
            Some(end) => self.ended_by(end),
            None => TransferError::JingleProtocol("the session ended"),
        }
    }

    fn link<'a>(&'a mut self, sid: &'a str) -> (Link<'a>, &'a mut Kept) {
        let link = Link {
            session: &self.session,
            route: &mut self.route,
            peer: self.peer.as_jid(),
            sid,
        };
        (link, &mut self.kept)
    }
}

/// A Jingle request that came on the in-band route, among the blocks: kept, and the
/// end of the data when it ends the session.
fn keep_aside(kept: &mut Kept, el: &Element) -> Aside {
    let Some(jingle) = el
        .get_child("jingle", JINGLE_NS)
        .and_then(Jingle::from_element)
    else {
        return Aside::Continue;
    };
    let ends = jingle.action == Action::SessionTerminate;
    kept.keep(jingle);
    if ends {
        Aside::Stop
    } else {
        Aside::Continue
    }
}

/// A session-terminate from the peer as the error it means.
pub(crate) fn terminated(jid: &FullJid, jingle: &Jingle) -> TransferError {
    let (reason, text) = jingle.reason.clone().unwrap_or((None, None));
    match reason {
        Some(Reason::Decline | Reason::Busy) => TransferError::Declined {
            jid: jid.to_string(),
            text,
        },
        _ => TransferError::Terminated {
            jid: jid.to_string(),
            reason: reason.unwrap_or(Reason::GeneralError),
            text,
        },
    }
}

/// Requests of the session that came while xft waited for something else, kept for
/// when it gets to them: a checksum or a terminate may come during the data, libervia's
/// candidate-used before its session-accept. At most [`Kept::MAX`]: a peer that floods
/// requests (each is acknowledged) cannot make it grow; a terminate is always kept.
#[derive(Debug, Default)]
pub(crate) struct Kept(Vec<Jingle>);

impl Kept {
    const MAX: usize = 16;

    fn keep(&mut self, jingle: Jingle) {
        if self.0.len() < Self::MAX {
            self.0.push(jingle);
        } else if jingle.action == Action::SessionTerminate {
            // The end of the session matters more than anything kept before it.
            self.0.pop();
            self.0.push(jingle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer flooding requests during a wait: the first ones are kept, no more, and a
    /// terminate that comes after them is kept all the same.
    #[test]
    fn kept_requests_are_bounded_but_the_end_is_kept() {
        let mut kept = Kept::default();
        for n in 0..1000 {
            kept.keep(Jingle::new(Action::SessionInfo, &format!("s{n}")));
        }
        assert_eq!(kept.0.len(), Kept::MAX);
        assert_eq!(kept.0[0].sid, "s0");
        kept.keep(Jingle::new(Action::SessionTerminate, "end"));
        assert_eq!(kept.0.len(), Kept::MAX);
        assert_eq!(kept.0[Kept::MAX - 1].action, Action::SessionTerminate);
    }
}
