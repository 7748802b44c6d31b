//! The session's two tasks and where each incoming stanza goes (see the module docs of
//! `session`): the writer drains the outgoing queue; the reader hands every stanza to
//! exactly one destination and answers pings and disco#info itself (XEP-0199, XEP-0030).

use crate::ns::{DISCO_INFO_NS, PING_NS, STREAMS_NS, VERSION_NS};
use crate::stanza::IqType;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncWriteExt, BufWriter, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, Semaphore};

use super::delivery::Kind;
use super::stream::{self, Io, XmlReader};
use super::{refusal_of_request, Outgoing, Queued, SessionError, Shared, KEEPALIVE};
use crate::jid::Jid;
use crate::stanza;
use crate::xml::{Element, Frame};

/// How long the reader waits for a full route to take a presence.
const PRESENCE_HANDOFF: std::time::Duration = std::time::Duration::from_secs(1);

pub(super) async fn write_loop(
    io: WriteHalf<Box<dyn Io>>,
    mut rx: mpsc::Receiver<Outgoing>,
    shared: Arc<Shared>,
) {
    let mut io = BufWriter::with_capacity(256 * 1024, io);
    loop {
        let next = match tokio::time::timeout(KEEPALIVE, rx.recv()).await {
            Err(_) => Some(Outgoing::Stanza(" ".into(), Kind::Ignorable)),
            Ok(next) => next,
        };
        let Some(mut item) = next else { break };
        loop {
            match item {
                Outgoing::Stanza(text, kind) => {
                    stream::log_outgoing(&text);
                    shared.delivery.writing(kind);
                    if io.write_all(text.as_bytes()).await.is_err() {
                        return;
                    }
                }
                Outgoing::Close(written) => {
                    stream::log_outgoing("</stream:stream>");
                    let _ = io.write_all(b"</stream:stream>").await;
                    let _ = io.flush().await;
                    let _ = io.shutdown().await;
                    let _ = written.send(shared.delivery.all_processed());
                    return;
                }
            }
            match rx.try_recv() {
                Ok(more) => item = more,
                Err(_) => break,
            }
        }
        if io.flush().await.is_err() {
            return;
        }
    }
}

/// The general incoming queue and its byte budget.
pub(super) struct Unclaimed {
    pub(super) tx: mpsc::Sender<Queued>,
    pub(super) budget: Arc<Semaphore>,
}

pub(super) async fn read_loop(
    mut reader: XmlReader<ReadHalf<Box<dyn Io>>>,
    shared: Arc<Shared>,
    incoming: Unclaimed,
) {
    loop {
        let el = match reader.next_frame().await {
            Ok(Frame::Stanza(el)) if el.is("error", STREAMS_NS) => {
                let error = stream::stream_error(&el);
                tracing::warn!("{error}");
                set_error(&shared, error);
                break;
            }
            Ok(Frame::Stanza(el)) => el,
            Ok(Frame::TooDeep(head)) => {
                refuse_too_deep(&shared, &head).await;
                continue;
            }
            Ok(_) => break,
            Err(e) => {
                tracing::debug!("stream ended: {e}");
                set_error(&shared, e);
                break;
            }
        };
        let size = reader.last_frame_len();
        dispatch(&shared, &incoming, el, size).await;
    }
    shared.closed.store(true, Ordering::SeqCst);
    shared.closed_notify.notify_waiters();
    // Waiters see their sender dropped: Disconnected.
    if let Ok(mut pending) = shared.pending.lock() {
        pending.clear();
    }
    if let Ok(mut routes) = shared.routes.lock() {
        routes.clear();
    }
}

/// A stanza nested deeper than the framer builds (its opening tag only): anyone can
/// send one, and the server passes it on, so it is skipped rather than ending the
/// session; a request gets `bad-request` (RFC 6120 §8.3.3.1), as RFC 6120 §8.4 wants
/// every iq request answered.
async fn refuse_too_deep(shared: &Shared, head: &Element) {
    tracing::debug!(
        "skipped a <{}/> nested deeper than {} levels",
        head.name(),
        crate::xml::MAX_DEPTH
    );
    if IqType::of(head).is_some_and(|t| !t.is_request()) {
        // An answer we may be waiting for: its waiter gets what could be read (no
        // payload), which it refuses as it would any answer without one, at once.
        deliver_iq_answer(shared, head.clone());
        return;
    }
    if IqType::of(head).is_some_and(IqType::is_request) {
        let error = stanza::StanzaError::new(
            stanza::ErrorType::Modify,
            crate::stanza::Condition::BadRequest,
        )
        .with_text("the request is nested too deeply");
        let reply = stanza::error_reply(head, &error);
        let _ = shared.out.send(Outgoing::stanza(&reply)).await;
    }
}

fn set_error(shared: &Shared, error: SessionError) {
    if let Ok(mut slot) = shared.stream_error.lock() {
        slot.get_or_insert(error);
    }
}

/// The permits a stanza of `size` bytes takes from a queue's budget of `limit`.
fn permits(size: usize, limit: usize) -> u32 {
    size.clamp(1, limit).try_into().unwrap_or(u32::MAX)
}

/// Delivers one stanza (`size` bytes as received) to its single destination (see
/// module docs).
async fn dispatch(shared: &Shared, incoming: &Unclaimed, el: Element, size: usize) {
    if IqType::of(&el).is_some_and(|t| !t.is_request()) {
        deliver_iq_answer(shared, el);
        return;
    }
    if let Some(reply) = builtin_answer(shared, &el) {
        let _ = shared.out.send(Outgoing::stanza(&reply)).await;
        return;
    }
    let routes = matching_routes(shared, &el);
    if el.name() == "presence" && !routes.is_empty() {
        // Presence is news, not a request: every route that watches this peer hears that
        // it went away (a bytestream's data phase and its fallback may both be waiting).
        for route in routes {
            // A route whose owner is not reading must not stall the reader for good.
            let _ = tokio::time::timeout(PRESENCE_HANDOFF, deliver(&route, el.clone(), size)).await;
        }
        return;
    }
    if let Some(route) = routes.into_iter().next() {
        // Back-pressure: the reader waits while the route's owner catches up.
        deliver(&route, el, size).await;
        return;
    }
    let budget = incoming
        .budget
        .clone()
        .try_acquire_many_owned(permits(size, super::IN_QUEUE_BYTES));
    let refused = match budget {
        Ok(permit) => match incoming.tx.try_send((el, permit)) {
            Ok(()) => return,
            Err(
                mpsc::error::TrySendError::Full((el, _))
                | mpsc::error::TrySendError::Closed((el, _)),
            ) => el,
        },
        Err(_) => el,
    };
    // RFC 6120 §8.4: an iq request nobody handles gets service-unavailable; the rest of
    // an overflow (messages, presence) is dropped.
    match refusal_of_request(&refused) {
        Some(reply) => {
            let _ = shared.out.send(Outgoing::answer(reply)).await;
        }
        None => tracing::debug!("incoming queue full: dropped a <{}/>", refused.name()),
    }
}

/// A route and its byte budget.
struct Claimant {
    tx: mpsc::Sender<Queued>,
    budget: Arc<Semaphore>,
}

async fn deliver(route: &Claimant, el: Element, size: usize) {
    let Ok(permit) = route
        .budget
        .clone()
        .acquire_many_owned(permits(size, super::ROUTE_BYTES))
        .await
    else {
        return;
    };
    let _ = route.tx.send((el, permit)).await;
}

/// RFC 6120 §8.1.2.1: an answer must come from the entity we asked; anything else is
/// ignored, so a third party cannot inject results by guessing ids.
fn deliver_iq_answer(shared: &Shared, el: Element) {
    let Some(id) = el.get_attr("id") else { return };
    let Ok(mut pending) = shared.pending.lock() else {
        return;
    };
    let Some(waiter) = pending.get(id) else {
        return;
    };
    let from = el.get_attr("from").and_then(|f| Jid::parse(f).ok());
    let own = shared.jid.bare();
    let legitimate = match (&waiter.from, &from) {
        (None, None) => true,
        (None, Some(f)) => *f == own || *f == own.domain_jid() || f == shared.jid.as_jid(),
        (Some(to), Some(f)) => to == f,
        (Some(to), None) => *to == own || *to == own.domain_jid(),
    };
    if !legitimate {
        tracing::debug!("ignoring iq answer {id} from an entity we did not ask");
        return;
    }
    if let Some(waiter) = pending.remove(id) {
        shared.delivery.answered(id);
        let _ = waiter.tx.send(el);
    }
}

/// The live routes whose filter claims `el`, oldest first.
fn matching_routes(shared: &Shared, el: &Element) -> Vec<Claimant> {
    let Ok(mut routes) = shared.routes.lock() else {
        return Vec::new();
    };
    routes.retain(|r| !r.tx.is_closed());
    routes
        .iter()
        .filter(|r| (r.filter)(el))
        .map(|r| Claimant {
            tx: r.tx.clone(),
            budget: r.budget.clone(),
        })
        .collect()
}

/// Answers XEP-0199 pings, XEP-0092 version and XEP-0030 disco#info queries on our own.
fn builtin_answer(shared: &Shared, el: &Element) -> Option<Element> {
    if stanza::is_iq_request(el, IqType::Get, "ping", PING_NS) {
        return Some(stanza::iq_result(el));
    }
    if stanza::is_iq_request(el, IqType::Get, "query", VERSION_NS) {
        // XEP-0092 §2; no <os/>: that is nobody's business (§5 allows leaving it out).
        let answer = Element::new("query", VERSION_NS)
            .child(Element::new("name", VERSION_NS).text("xft"))
            .child(Element::new("version", VERSION_NS).text(env!("CARGO_PKG_VERSION")));
        return Some(stanza::iq_result(el).child(answer));
    }
    if stanza::is_iq_request(el, IqType::Get, "query", DISCO_INFO_NS) {
        let query = el.get_child("query", DISCO_INFO_NS)?;
        let answer = crate::caps::own_query(&shared.features, query.get_attr("node"));
        return Some(stanza::iq_result(el).child(answer));
    }
    None
}
