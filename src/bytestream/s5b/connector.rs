//! The SOCKS5 connection logic shared by XEP-0065 (SI's bytestreams) and XEP-0260
//! (Jingle's SOCKS5 transport): trying the other side's hosts in parallel, accepting
//! and checking connections on our own listeners, connecting to a proxy and
//! activating it. No iq of either XEP is sent here except the proxy activation.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::candidates::Listener;
use super::{S5bError, StreamHost};
use crate::bytestream::socks5;
use crate::ns::BYTESTREAMS_NS;
use crate::session::Session;
use crate::stanza::{self, IqType};
use crate::xml::Element;

/// Each attempt: TCP connect plus SOCKS5 handshake.
const ATTEMPT: Duration = Duration::from_secs(5);
/// All attempts together, at most (less when `--timeout` is shorter): a Smack sender
/// gives up on its target after 10 s.
const ALL_ATTEMPTS: Duration = Duration::from_secs(8);
/// Delay before starting the next streamhost while earlier ones are still trying.
const STAGGER: Duration = Duration::from_millis(250);
/// Time a peer has for the SOCKS5 handshake once its TCP connection is up.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// Time a connection to our own listener has to finish its handshake: anybody can
/// connect, and the real target does it in one round trip.
const INBOUND_HANDSHAKE: Duration = Duration::from_secs(5);
/// Unfinished inbound handshakes at once; more connections wait in the backlog.
const MAX_HANDSHAKES: usize = 16;

/// Our listeners, accepting SOCKS5 connections that present `hash`; dropped, it stops.
pub(crate) struct Acceptor {
    found: mpsc::Receiver<TcpStream>,
    loops: JoinSet<()>,
}

impl Acceptor {
    pub(crate) fn start(listeners: Vec<Listener>, hash: &str) -> Acceptor {
        let (tx, found) = mpsc::channel(4);
        let mut loops = JoinSet::new();
        for l in listeners {
            loops.spawn(accept_loop(l.listener, hash.to_owned(), tx.clone()));
        }
        Acceptor { found, loops }
    }

    /// The next connection that completed the handshake, within `wait`.
    pub(crate) async fn next(&mut self, wait: Duration) -> Option<TcpStream> {
        let socket = tokio::time::timeout(wait, self.found.recv())
            .await
            .ok()
            .flatten();
        if socket.is_some() {
            self.loops.abort_all();
        }
        socket
    }
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

/// XEP-0065 §6.3.4-6.3.5 (and XEP-0260 §2.5): connect to the proxy with the hash,
/// then ask it to activate the stream towards `target` (a full JID).
pub(crate) async fn connect_via_proxy(
    session: &Session,
    target: &str,
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
        .child(Element::new("activate", BYTESTREAMS_NS).text(target));
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

/// Tries `hosts`, starting one every `STAGGER` (or at once after a failure), within
/// `wait` (and [`ALL_ATTEMPTS`]); the first finished SOCKS5 handshake wins and the rest
/// are dropped.
pub(crate) async fn try_hosts(
    hosts: &[StreamHost],
    hash: &str,
    wait: Duration,
) -> Result<(TcpStream, StreamHost), String> {
    let all = ALL_ATTEMPTS.min(wait);
    let deadline = tokio::time::Instant::now() + all;
    let mut attempts = JoinSet::new();
    let mut next = 0;
    let mut failures = Vec::new();
    loop {
        if next < hosts.len() {
            let host = hosts[next].clone();
            let hash = hash.to_owned();
            attempts.spawn(async move {
                let result = try_one(&host, &hash).await;
                (host, result)
            });
            next += 1;
        }
        let wait = if next < hosts.len() { STAGGER } else { all };
        let outcome = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + wait),
            attempts.join_next(),
        )
        .await;
        match outcome {
            Ok(Some(Ok((host, Ok(socket))))) => return Ok((socket, host)),
            Ok(Some(Ok((host, Err(e))))) => {
                failures.push(format!("{}:{}: {e}", host.host, host.port))
            }
            Ok(Some(Err(_))) => {}
            Ok(None) if next >= hosts.len() => break,
            Ok(None) => {}
            Err(_) if tokio::time::Instant::now() >= deadline => {
                failures.push("out of time".into());
                break;
            }
            Err(_) => {}
        }
    }
    Err(failures.join("; "))
}

async fn try_one(host: &StreamHost, hash: &str) -> Result<TcpStream, String> {
    let connect = TcpStream::connect((host.host.as_str(), host.port));
    let mut socket = tokio::time::timeout(ATTEMPT, connect)
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let _ = socket.set_nodelay(true);
    socks5::connect(&mut socket, hash, ATTEMPT)
        .await
        .map_err(|e| e.to_string())?;
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
