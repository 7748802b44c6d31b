//! The requester's side of XEP-0065 (§5.3.1, §6.3.1, §6.3.4, §6.3.5).
//!
//! Offers our own listeners first, then proxies (the order says which we prefer), and
//! while the target tries them, accepts SOCKS5 connections on our listeners, checking
//! the hash. The target's answer names the one that worked: our own (use the accepted
//! socket) or a proxy (connect there too and activate).

use crate::ns::BYTESTREAMS_NS;
use crate::stanza::IqType;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::candidates::Listener;
use super::{dst_addr, offer_element, streamhost_used, S5bError, StreamHost};
use crate::bytestream::socks5;

use crate::jid::FullJid;
use crate::session::{IqError, Session};
use crate::stanza;
use crate::xml::Element;

/// Time a peer has for the SOCKS5 handshake once its TCP connection is up.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// Time a connection to our own listener has to finish its handshake: anybody can
/// connect, and the real target does it in one round trip.
const INBOUND_HANDSHAKE: Duration = Duration::from_secs(5);
/// Unfinished inbound handshakes at once; more connections wait in the backlog.
const MAX_HANDSHAKES: usize = 16;
/// After the target says it used our streamhost, how long its socket may take to show.
const DIRECT_GRACE: Duration = Duration::from_secs(5);

/// Negotiates the bytestream and returns the connected, ready-to-write socket.
/// `wait` bounds the target's answer (PROTOCOL-NOTES §2.3: Pidgin may take 45 s).
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
    let (accepted_tx, mut accepted_rx) = mpsc::channel(4);
    let mut acceptors = JoinSet::new();
    for l in listeners {
        acceptors.spawn(accept_loop(l.listener, hash.clone(), accepted_tx.clone()));
    }
    drop(accepted_tx);
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
        let socket = tokio::time::timeout(DIRECT_GRACE, accepted_rx.recv())
            .await
            .ok()
            .flatten()
            .ok_or(S5bError::DirectNotConnected)?;
        acceptors.abort_all();
        return Ok((socket, chosen));
    }
    acceptors.abort_all();
    let socket = connect_via_proxy(session, target, sid, &hash, &chosen).await?;
    Ok((socket, chosen))
}

/// Accepts connections until one completes the SOCKS5 handshake with our hash; a
/// connection that stalls or sends another hash is dropped, not waited for. Third
/// parties can connect too: at most [`MAX_HANDSHAKES`] run at once, each for at most
/// [`INBOUND_HANDSHAKE`], and a failing `accept` (EMFILE) backs off instead of spinning.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    hash: String,
    found: mpsc::Sender<TcpStream>,
) {
    let mut handshakes = JoinSet::new();
    let mut backoff = Backoff::default();
    loop {
        tokio::select! {
            accepted = listener.accept(), if handshakes.len() < MAX_HANDSHAKES => {
                let (mut socket, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        let pause = backoff.next_pause();
                        tracing::debug!("S5B accept failed ({e}); pausing {pause:?}");
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                };
                backoff = Backoff::default();
                let hash = hash.clone();
                handshakes.spawn(async move {
                    match socks5::accept(&mut socket, &hash, INBOUND_HANDSHAKE).await {
                        Ok(()) => Some(socket),
                        Err(e) => {
                            tracing::debug!("S5B connection from {peer} refused: {e}");
                            None
                        }
                    }
                });
            }
            Some(done) = handshakes.join_next() => {
                if let Ok(Some(socket)) = done {
                    let _ = socket.set_nodelay(true);
                    if found.send(socket).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Pauses after consecutive `accept` failures: 10 ms, doubling up to 1 s.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next_pause(&mut self) -> Duration {
        let pause = Duration::from_millis(10u64 << self.failures.min(7));
        self.failures = self.failures.saturating_add(1);
        pause.min(Duration::from_secs(1))
    }
}

/// §6.3.4-6.3.5: connect to the proxy with the same hash, then ask it to activate.
async fn connect_via_proxy(
    session: &Session,
    target: &FullJid,
    sid: &str,
    hash: &str,
    proxy: &StreamHost,
) -> Result<TcpStream, S5bError> {
    let proxy_error = |reason: String| S5bError::Proxy {
        jid: proxy.jid.to_string(),
        host: proxy.host.clone(),
        port: proxy.port,
        reason,
    };
    let mut socket = tokio::time::timeout(
        HANDSHAKE,
        TcpStream::connect((proxy.host.as_str(), proxy.port)),
    )
    .await
    .map_err(|_| proxy_error("timed out".into()))?
    .map_err(|e| proxy_error(e.to_string()))?;
    let _ = socket.set_nodelay(true);
    socks5::connect(&mut socket, hash, HANDSHAKE)
        .await
        .map_err(|e| proxy_error(e.to_string()))?;
    // §6.3.5: activate with the target's full JID, and wait for the result before
    // writing (Pidgin did not; the proxy drops early bytes).
    let activate = Element::new("query", BYTESTREAMS_NS)
        .attr("sid", sid)
        .child(Element::new("activate", BYTESTREAMS_NS).text(target.to_string()));
    session
        .iq(stanza::iq(
            IqType::Set,
            Some(&proxy.jid.to_string()),
            activate,
        ))
        .await
        .map_err(S5bError::ActivationRefused)?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_back_off_up_to_a_second() {
        let mut b = Backoff::default();
        let pauses: Vec<u64> = (0..10).map(|_| b.next_pause().as_millis() as u64).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
    }
}
