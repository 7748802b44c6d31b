//! The requester's side of XEP-0065 (§5.3.1, §6.3.1, §6.3.4, §6.3.5).
//!
//! Offers our own listeners first, then proxies (the order says which we prefer), and
//! while the target tries them, accepts SOCKS5 connections on our listeners, checking
//! the hash. The target's answer names the one that worked: our own (use the accepted
//! socket) or a proxy (connect there too and activate).

use crate::stanza::IqType;
use std::time::Duration;

use tokio::net::TcpStream;

use super::candidates::Listener;
use super::connector::{connect_via_proxy, Acceptor};
use super::{dst_addr, offer_element, streamhost_used, S5bError, StreamHost};

use crate::jid::FullJid;
use crate::session::{IqError, Session};
use crate::stanza;

/// After the target says it used our streamhost, how long its socket may take to show.
const DIRECT_GRACE: Duration = Duration::from_secs(5);

/// Negotiates the bytestream and returns the connected, ready-to-write socket.
/// `wait` bounds the target's answer (a Pidgin target may take 45 s: docs/interop.md §2).
pub async fn connect(
    session: &Session,
    target: &FullJid,
    sid: &str,
    listeners: Vec<Listener>,
    proxies: &[StreamHost],
    wait: Duration,
) -> Result<(TcpStream, StreamHost), S5bError> {
    let hash = dst_addr(sid, session.jid(), target);
    let mut offered: Vec<StreamHost> = listeners.iter().map(|l| l.streamhost.clone()).collect();
    offered.extend(proxies.iter().cloned());
    if offered.is_empty() {
        return Err(S5bError::NothingToOffer);
    }
    let mut acceptor = Acceptor::start(listeners, &hash);
    let request = stanza::iq(
        IqType::Set,
        Some(&target.to_string()),
        offer_element(sid, &offered),
    );
    let answer = session
        .iq_timeout(request, wait)
        .await
        .map_err(|e| match e {
            IqError::Stanza(se) => S5bError::TargetFailed(se),
            other => S5bError::NoAnswer(other),
        })?;
    let used =
        streamhost_used(&answer).ok_or_else(|| S5bError::UnknownStreamHost("none".into()))?;
    let chosen = offered
        .iter()
        .find(|h| h.jid == used)
        .cloned()
        .ok_or_else(|| S5bError::UnknownStreamHost(used.to_string()))?;
    if chosen.jid == *session.jid().as_jid() {
        let socket = acceptor
            .next(DIRECT_GRACE)
            .await
            .ok_or(S5bError::DirectNotConnected)?;
        return Ok((socket, chosen));
    }
    drop(acceptor);
    let socket = connect_via_proxy(session, &target.to_string(), sid, &hash, &chosen).await?;
    Ok((socket, chosen))
}
