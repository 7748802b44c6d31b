//! The session's two tasks and where each incoming stanza goes (see the module docs of
//! `session`): the writer drains the outgoing queue; the reader hands every stanza to
//! exactly one destination and answers pings and disco#info itself (XEP-0199, XEP-0030).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncWriteExt, BufWriter, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

use super::stream::{self, Io, XmlReader};
use super::{
    refusal_of_request, Outgoing, SessionError, Shared, DISCO_INFO_NS, KEEPALIVE, PING_NS,
};
use crate::jid::Jid;
use crate::stanza::{self, CLIENT_NS};
use crate::xml::{self, Element, Frame, STREAMS_NS};

/// How long the reader waits for a full route to take a presence.
const PRESENCE_HANDOFF: std::time::Duration = std::time::Duration::from_secs(1);

pub(super) async fn write_loop(io: WriteHalf<Box<dyn Io>>, mut rx: mpsc::Receiver<Outgoing>) {
    let mut io = BufWriter::with_capacity(256 * 1024, io);
    loop {
        let next = match tokio::time::timeout(KEEPALIVE, rx.recv()).await {
            Err(_) => Some(Outgoing::Stanza(" ".into())),
            Ok(next) => next,
        };
        let Some(mut item) = next else { break };
        loop {
            match item {
                Outgoing::Stanza(text) => {
                    stream::log_outgoing(&text);
                    if io.write_all(text.as_bytes()).await.is_err() {
                        return;
                    }
                }
                Outgoing::Close => {
                    stream::log_outgoing("</stream:stream>");
                    let _ = io.write_all(b"</stream:stream>").await;
                    let _ = io.flush().await;
                    let _ = io.shutdown().await;
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

pub(super) async fn read_loop(
    mut reader: XmlReader<ReadHalf<Box<dyn Io>>>,
    shared: Arc<Shared>,
    incoming: mpsc::Sender<Element>,
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
            Ok(_) => break,
            Err(e) => {
                tracing::debug!("stream ended: {e}");
                set_error(&shared, e);
                break;
            }
        };
        dispatch(&shared, &incoming, el).await;
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

fn set_error(shared: &Shared, error: SessionError) {
    if let Ok(mut slot) = shared.stream_error.lock() {
        slot.get_or_insert(error);
    }
}

/// Delivers one stanza to its single destination (see module docs).
async fn dispatch(shared: &Shared, incoming: &mpsc::Sender<Element>, el: Element) {
    if el.name() == "iq" && matches!(el.get_attr("type"), Some("result" | "error")) {
        deliver_iq_answer(shared, el);
        return;
    }
    if let Some(reply) = builtin_answer(shared, &el) {
        let _ = shared
            .out
            .send(Outgoing::Stanza(xml::stanza_to_string(&reply, CLIENT_NS)))
            .await;
        return;
    }
    if el.name() == "presence" {
        // Presence is news, not a request: every route that watches this peer hears that
        // it went away (a bytestream's data phase and its fallback may both be waiting).
        let watchers = matching_routes(shared, &el);
        if !watchers.is_empty() {
            for tx in watchers {
                // A route whose owner is not reading must not stall the reader for good.
                let _ = tokio::time::timeout(PRESENCE_HANDOFF, tx.send(el.clone())).await;
            }
            return;
        }
    } else if let Some(tx) = matching_routes(shared, &el).into_iter().next() {
        let _ = tx.send(el).await;
        return;
    }
    match incoming.try_send(el) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(el) | mpsc::error::TrySendError::Closed(el)) => {
            // RFC 6120 §8.4: an iq request nobody handles gets service-unavailable.
            if let Some(reply) = refusal_of_request(&el) {
                let _ = shared.out.send(Outgoing::Stanza(reply)).await;
            }
        }
    }
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
        let _ = waiter.tx.send(el);
    }
}

/// The live routes whose filter claims `el`, oldest first.
fn matching_routes(shared: &Shared, el: &Element) -> Vec<mpsc::Sender<Element>> {
    let Ok(mut routes) = shared.routes.lock() else {
        return Vec::new();
    };
    routes.retain(|r| !r.tx.is_closed());
    routes
        .iter()
        .filter(|r| (r.filter)(el))
        .map(|r| r.tx.clone())
        .collect()
}

/// Answers XEP-0199 pings and XEP-0030 disco#info queries on our own.
fn builtin_answer(shared: &Shared, el: &Element) -> Option<Element> {
    if stanza::is_iq_request(el, "get", "ping", PING_NS) {
        return Some(stanza::iq_result(el));
    }
    if stanza::is_iq_request(el, "get", "query", DISCO_INFO_NS) {
        let query = el.get_child("query", DISCO_INFO_NS)?;
        let mut answer =
            Element::new("query", DISCO_INFO_NS).attr_opt("node", query.get_attr("node"));
        answer.push_child(
            Element::new("identity", DISCO_INFO_NS)
                .attr("category", "client")
                .attr("type", "pc")
                .attr("name", "xft"),
        );
        for feature in &shared.features {
            answer.push_child(Element::new("feature", DISCO_INFO_NS).attr("var", feature.as_str()));
        }
        return Some(stanza::iq_result(el).child(answer));
    }
    None
}
