//! The receiving side's driver: requests from a route into [`Inbound`], blocks into a
//! writer, every request answered, under the stall rule (see `stall`).
//!
//! The route is the receiver's own (SI: [`IbbReceiver`]), or one it shares with the
//! Jingle session that negotiated the bytestream (XEP-0261): then the session's own
//! requests come on the same route, in the order the peer sent them (RFC 6120 §10.1),
//! and go [`Aside`] to the session's owner. So a `session-terminate` that follows the
//! last block is read after that block, and one that interrupts the data is answered
//! and acted on at once.

use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::inbound::{Inbound, Step};
use super::{is_for_session, IbbError, FLOOR};
use crate::jid::Jid;
use crate::ns::IBB_NS;
use crate::session::{Route, Session};
use crate::stall::StallWatch;
use crate::stanza::{self, Condition, ErrorType, IqType, StanzaError};
use crate::xml::Element;

/// The `<close/>` that ended a bytestream, still to be answered.
pub struct CloseRequest {
    session: Session,
    request: Element,
}

impl CloseRequest {
    /// Everything arrived and checks out: acknowledge.
    pub async fn acknowledge(self) {
        let _ = self.session.reply_result(&self.request).await;
    }

    /// The request itself, for a caller that answers it some other way.
    pub fn into_request(self) -> Element {
        self.request
    }

    /// The data is not acceptable (short, wrong hash): tell the sender.
    pub async fn refuse(self, text: &str) {
        let error = StanzaError::new(ErrorType::Cancel, Condition::NotAcceptable).with_text(text);
        let _ = self.session.reply_error(&self.request, &error).await;
    }
}

/// Where a receiver's requests come from, and whose they are.
pub struct Link<'a> {
    /// The session to answer on.
    pub session: &'a Session,
    /// The route that carries the bytestream's requests (and maybe others).
    pub route: &'a mut Route,
    /// The sender.
    pub peer: &'a Jid,
    /// The bytestream's sid.
    pub sid: &'a str,
}

/// What the owner of a shared route makes of a request that is not the bytestream's
/// (it has been acknowledged already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aside {
    /// Nothing that concerns the bytes: go on.
    Continue,
    /// The session that carries the bytestream ended: no block will follow.
    Stop,
}

/// When the data is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// At the sender's `<close/>` (§2.3): XEP-0096 streams, whose close says the
    /// sender is done.
    Close,
    /// At the last of the `size` bytes: a Jingle session's stream (XEP-0261), whose
    /// size the offer states; Conversations sends no close, a close that comes later
    /// is acknowledged by the session.
    Size,
}

/// How a bytestream's data ended.
pub enum Ending {
    /// The sender closed it (§2.3); the close is answered once the file is judged.
    Closed(CloseRequest),
    /// All the bytes came ([`Until::Size`]).
    Whole,
    /// The owner of the route stopped it (the session ended without a close, as
    /// Conversations ends its in-band transfers).
    Stopped,
}

impl Link<'_> {
    /// The next request on the route, before `deadline`; the peer's unavailable
    /// presence and the end of the session are errors.
    async fn next(&mut self, deadline: Instant) -> Result<Option<Element>, IbbError> {
        match tokio::time::timeout_at(deadline, self.route.next()).await {
            Err(_) => Ok(None),
            Ok(None) => Err(IbbError::Disconnected),
            Ok(Some(el)) if el.name() == "presence" => Err(IbbError::PeerGone),
            Ok(Some(el)) => Ok(Some(el)),
        }
    }

    fn is_ours(&self, el: &Element) -> bool {
        is_for_session(el, self.peer, self.sid)
    }

    async fn refuse(&self, request: &Element, condition: Condition, kind: ErrorType) {
        let error = StanzaError::new(kind, condition);
        let _ = self.session.reply_error(request, &error).await;
    }

    /// Closes the bytestream from our side after an error (§2.3), without waiting.
    async fn abort(&self) {
        let close = Element::new("close", IBB_NS).attr("sid", self.sid);
        let to = self.peer.to_string();
        let _ = self
            .session
            .send(stanza::iq(IqType::Set, Some(&to), close))
            .await;
    }

    /// A request that is not the bytestream's: acknowledged, then handed aside.
    async fn aside(
        &self,
        el: &Element,
        aside: &mut (dyn FnMut(&Element) -> Aside + Send),
    ) -> Aside {
        if IqType::of(el).is_some_and(IqType::is_request) {
            let _ = self.session.reply_result(el).await;
        }
        aside(el)
    }
}

/// §2.1: waits up to `wait` for the `<open/>` and accepts it; returns the block size.
pub async fn accept_open(
    link: &mut Link<'_>,
    inbound: &mut Inbound,
    wait: Duration,
    aside: &mut (dyn FnMut(&Element) -> Aside + Send),
) -> Result<usize, IbbError> {
    let deadline = Instant::now() + wait;
    loop {
        let Some(request) = link.next(deadline).await? else {
            return Err(IbbError::NoOpen(wait));
        };
        if !link.is_ours(&request) {
            match link.aside(&request, aside).await {
                Aside::Continue => continue,
                Aside::Stop => return Err(IbbError::PeerClosed),
            }
        }
        return match inbound.step(&request) {
            Ok(Step::Opened(block_size)) => {
                let _ = link.session.reply_result(&request).await;
                Ok(block_size)
            }
            Ok(_) => Err(IbbError::PeerClosed),
            Err(refusal) => {
                link.refuse(&request, refusal.condition, refusal.kind).await;
                Err(refusal.error)
            }
        };
    }
}

/// §2.2: writes blocks to `sink` until the sender closes, or `until` the last byte
/// (or the route's owner stops it); the bytes are [`Inbound::received`]. A stall (see
/// `stall`), a refused block or a write that fails closes the bytestream from our side
/// and tells the sender why.
pub async fn receive<W: AsyncWrite + Unpin>(
    link: &mut Link<'_>,
    inbound: &mut Inbound,
    sink: &mut W,
    (size, stall, until): (u64, Duration, Until),
    aside: &mut (dyn FnMut(&Element) -> Aside + Send),
) -> Result<Ending, IbbError> {
    let mut watch = StallWatch::new(stall, FLOOR, size, inbound.received());
    if until == Until::Size && inbound.received() >= size {
        return Ok(Ending::Whole);
    }
    loop {
        let Some(request) = link.next(watch.deadline()).await? else {
            link.abort().await;
            return Err(IbbError::Stalled(stall));
        };
        if !link.is_ours(&request) {
            match link.aside(&request, aside).await {
                Aside::Continue => continue,
                Aside::Stop => return Ok(Ending::Stopped),
            }
        }
        let chunk = match inbound.step(&request) {
            Ok(Step::Block(chunk)) => chunk,
            Ok(Step::Close) => {
                let session = link.session.clone();
                return Ok(Ending::Closed(CloseRequest { session, request }));
            }
            // A second open (or one to a receiver that never waited for it).
            Ok(Step::Opened(_)) => {
                link.refuse(&request, Condition::UnexpectedRequest, ErrorType::Cancel)
                    .await;
                link.abort().await;
                return Err(IbbError::PeerClosed);
            }
            Err(refusal) => {
                link.refuse(&request, refusal.condition, refusal.kind).await;
                link.abort().await;
                return Err(refusal.error);
            }
        };
        write_block(link, &request, sink, &chunk).await?;
        if until == Until::Size && inbound.received() >= size {
            return Ok(Ending::Whole);
        }
        if watch.stalled(inbound.received(), Instant::now()) {
            // Blocks come, but too few bytes for too long: a trickle.
            link.abort().await;
            return Err(IbbError::Stalled(stall));
        }
    }
}

/// Writes a block and acknowledges it; a write that fails is told to the sender now,
/// with the cause, rather than leaving it to wait out its timeout on an unanswered
/// block (issue 8, item 12).
async fn write_block<W: AsyncWrite + Unpin>(
    link: &Link<'_>,
    request: &Element,
    sink: &mut W,
    chunk: &[u8],
) -> Result<(), IbbError> {
    if let Err(e) = sink.write_all(chunk).await {
        let error = StanzaError::new(ErrorType::Cancel, Condition::InternalServerError)
            .with_text(format!("the receiver cannot write the file: {e}"));
        let _ = link.session.reply_error(request, &error).await;
        link.abort().await;
        return Err(IbbError::Write(e));
    }
    let _ = link.session.reply_result(request).await;
    Ok(())
}

/// One bytestream received on a route of its own (SI: XEP-0095 negotiated it).
pub struct IbbReceiver {
    session: Session,
    route: Route,
    peer: Jid,
    sid: String,
    inbound: Inbound,
}

impl IbbReceiver {
    /// Claims every IBB request for `sid` from `peer`, and `peer` going offline. Call it
    /// before telling the peer to open, so nothing slips past the route.
    pub fn listen(session: &Session, peer: &Jid, sid: &str) -> IbbReceiver {
        let (peer_match, sid_match) = (peer.clone(), sid.to_owned());
        let route = session.route(move |el| is_for_session(el, &peer_match, &sid_match));
        IbbReceiver {
            session: session.clone(),
            route,
            peer: peer.clone(),
            sid: sid.to_owned(),
            inbound: Inbound::new(u64::MAX),
        }
    }

    fn link(&mut self) -> (Link<'_>, &mut Inbound) {
        let link = Link {
            session: &self.session,
            route: &mut self.route,
            peer: &self.peer,
            sid: &self.sid,
        };
        (link, &mut self.inbound)
    }

    /// §2.1: waits for `<open/>` and accepts it.
    pub async fn accept_open(&mut self, timeout: Duration) -> Result<usize, IbbError> {
        let (mut link, inbound) = self.link();
        accept_open(&mut link, inbound, timeout, &mut |_| Aside::Continue).await
    }

    /// §2.2: writes blocks to `sink` until the peer closes, at most `limit` bytes.
    /// Returns the byte count and the close request to answer.
    pub async fn receive<W: AsyncWrite + Unpin>(
        &mut self,
        sink: &mut W,
        limit: u64,
        stall: Duration,
    ) -> Result<(u64, CloseRequest), IbbError> {
        self.inbound.set_limit(limit);
        let (mut link, inbound) = self.link();
        let mut only_ours = |_: &Element| Aside::Continue;
        let want = (limit, stall, Until::Close);
        let ending = receive(&mut link, inbound, sink, want, &mut only_ours).await?;
        match ending {
            Ending::Closed(close) => Ok((self.inbound.received(), close)),
            // Its own route carries only the bytestream: nobody stops it.
            Ending::Stopped | Ending::Whole => Err(IbbError::PeerClosed),
        }
    }
}
