//! XEP-0260 §2.2-§2.5, the SOCKS5 candidate negotiation, written once for both roles:
//! each side offers candidates (its listeners and its server's proxies), tries the
//! other's while the other tries its own, reports `candidate-used` or
//! `candidate-error`, and the pair with the higher priority is nominated (on a tie, the
//! one the initiator used). A proxy is activated by the side that offered it.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use super::session::{JingleSession, Wait};
use crate::bytestream::s5b::connector::{self, Acceptor};
use crate::bytestream::s5b::offer::S5bOptions;
use crate::bytestream::s5b::{candidates, StreamHost};
use crate::jid::Jid;
use crate::jingle::transport::{self, Candidate, S5bInfo};
use crate::jingle::{Action, Content, Jingle};
use crate::stanza;
use crate::transfer::TransferError;
use crate::xml::Element;

/// After the peer used a direct candidate of ours, how long its connection may take to
/// show on our listener.
const DIRECT_GRACE: Duration = Duration::from_secs(5);

/// Which side of the session we are: it decides ties (§2.4) and what silence means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Initiator,
    Responder,
}

impl Role {
    /// The other side, as the log names it: xft initiates to send.
    fn peer(self) -> &'static str {
        match self {
            Role::Initiator => "receiver",
            Role::Responder => "sender",
        }
    }
}

/// Our side of a SOCKS5 transport (§2.2): our listeners and proxies as candidates, with
/// priorities 2^16 x type preference + local preference (direct 126, proxy 10), and the
/// listeners already accepting connections that present our DST.ADDR.
pub(crate) struct OurCandidates {
    /// The transport's sid (the same on both sides).
    pub(crate) sid: String,
    /// SHA-1(sid + our JID + the peer's): what connections to our candidates present.
    hash: String,
    candidates: Vec<(Candidate, StreamHost)>,
    acceptor: Acceptor,
}

impl OurCandidates {
    /// Binds our listeners and finds our proxies (possibly none at all: the peer's may
    /// still work, §2.2) for the transport `sid` of `js`.
    pub(crate) async fn prepare(js: &JingleSession, s5b: &S5bOptions, sid: &str) -> OurCandidates {
        let hash = crate::bytestream::s5b::dst_addr(sid, js.session.jid(), &js.peer);
        let listeners = if s5b.direct {
            candidates::bind(js.session.jid(), &s5b.addresses, s5b.port).unwrap_or_else(|e| {
                tracing::warn!("no direct SOCKS5 candidate: {e}");
                Vec::new()
            })
        } else {
            Vec::new()
        };
        let proxies = s5b.proxies(&js.session).await;
        let mut candidates = Vec::new();
        for (i, l) in listeners.iter().enumerate() {
            let priority = (126 << 16) + 65535 - i as u32;
            candidates.push((
                candidate(&l.streamhost, priority, false),
                l.streamhost.clone(),
            ));
        }
        for (i, p) in proxies.iter().enumerate() {
            let priority = (10 << 16) + 65535 - i as u32;
            candidates.push((candidate(p, priority, true), p.clone()));
        }
        let acceptor = Acceptor::start(listeners, &hash);
        OurCandidates {
            sid: sid.to_owned(),
            hash,
            candidates,
            acceptor,
        }
    }

    /// The `<transport/>` that offers them.
    pub(crate) fn element(&self) -> Element {
        let offered: Vec<Candidate> = self.candidates.iter().map(|(c, _)| c.clone()).collect();
        transport::s5b_transport(&self.sid, &self.hash, &offered)
    }

    fn find(&self, cid: &str) -> Option<(Candidate, StreamHost)> {
        self.candidates.iter().find(|(c, _)| c.cid == cid).cloned()
    }
}

fn candidate(host: &StreamHost, priority: u32, proxy: bool) -> Candidate {
    Candidate {
        cid: stanza::new_id(),
        host: host.host.clone(),
        jid: host.jid.to_string(),
        port: host.port,
        priority,
        proxy,
    }
}

/// How the negotiation ended.
pub(crate) enum Nominated {
    /// The nominated socket, ready for the data.
    Socket(TcpStream),
    /// No pair worked on either side (then the initiator replaces the transport).
    Nothing(String),
    /// The initiator replaced the transport before a pair was nominated (this request).
    Replaced(Jingle),
}

/// The candidate-used or candidate-error of a transport-info (§2.3): `Some(Some(cid))`,
/// `Some(None)`, or `None` when it is not such a report.
pub(crate) fn verdict(jingle: &Jingle) -> Option<Option<String>> {
    if jingle.action != Action::TransportInfo {
        return None;
    }
    let info = jingle
        .contents
        .iter()
        .find_map(|c| c.transport.as_ref().and_then(transport::s5b_info))?;
    match info {
        S5bInfo::CandidateUsed(cid) => Some(Some(cid)),
        S5bInfo::CandidateError => Some(None),
        _ => None,
    }
}

/// What each side found: our connection to one of their candidates (or none), and
/// their report on ours (the cid they used, or none).
struct Findings {
    mine: Option<(TcpStream, Candidate)>,
    theirs: Option<String>,
}

/// §2.3-§2.5 for `role`: tries `offered` (the peer's candidates) while the peer tries
/// `ours`, exchanges the reports, and returns the nominated socket (activating the proxy
/// when it is ours, waiting for the peer's activation when it is theirs).
pub(crate) async fn nominate(
    js: &mut JingleSession,
    role: Role,
    content: &Content,
    (ours, offered): (OurCandidates, Vec<Candidate>),
) -> Result<Nominated, TransferError> {
    let findings = match exchange_reports(js, role, content, (&ours, offered)).await? {
        Exchange::Done(findings) => findings,
        Exchange::Replaced(jingle) => return Ok(Nominated::Replaced(jingle)),
        Exchange::Silent => {
            return Ok(Nominated::Nothing(
                "the peer did not say which candidate it used".into(),
            ))
        }
    };
    let their_pick = findings.theirs.and_then(|cid| ours.find(&cid));
    // §2.4: the higher priority wins; on a tie, the pair the initiator used.
    let use_mine = match (&findings.mine, &their_pick) {
        (Some((_, mine)), Some((theirs, _))) => match role {
            Role::Initiator => mine.priority >= theirs.priority,
            Role::Responder => mine.priority > theirs.priority,
        },
        (Some(_), None) => true,
        (None, _) => false,
    };
    match (findings.mine, their_pick) {
        (Some((socket, used)), _) if use_mine => use_their_candidate(js, role, socket, &used).await,
        (_, Some((chosen, host))) => {
            use_our_candidate(js, (role, content), ours, (&chosen, &host)).await
        }
        _ => Ok(Nominated::Nothing(
            "no SOCKS5 candidate worked on either side".into(),
        )),
    }
}

/// How the exchange of reports ended.
enum Exchange {
    Done(Findings),
    Replaced(Jingle),
    /// The peer never reported, and we have nothing of our own.
    Silent,
}

/// Tries the peer's candidates (as a task) and waits for its report on ours, sending
/// ours when the attempt ends; both within the session's timeout.
async fn exchange_reports(
    js: &mut JingleSession,
    role: Role,
    content: &Content,
    (ours, offered): (&OurCandidates, Vec<Candidate>),
) -> Result<Exchange, TransferError> {
    // DST.ADDR for the peer's candidates: SHA-1(sid + the peer's JID + ours) (§2.3).
    let hash = crate::bytestream::s5b::dst_addr(&ours.sid, &js.peer, js.session.jid());
    let wait = js.timeout;
    let mut trying = Some(tokio::spawn(
        async move { reach(&offered, &hash, wait).await },
    ));
    let mut mine: Option<Option<(TcpStream, Candidate)>> = None;
    // A report that came early (libervia's overtakes its session-accept); without
    // candidates of ours there is none to wait for.
    let mut theirs: Option<Option<String>> =
        js.take(|j| verdict(j).is_some()).and_then(|j| verdict(&j));
    if ours.candidates.is_empty() && theirs.is_none() {
        theirs = Some(None);
    }
    let until = Instant::now() + js.timeout;
    while mine.is_none() || theirs.is_none() {
        tokio::select! {
            tried = async { match trying.as_mut() { Some(t) => t.await.ok().flatten(), None => None } }, if trying.is_some() => {
                trying = None;
                let report = match &tried {
                    Some((_, c)) => transport::s5b_candidate_used(&ours.sid, &c.cid),
                    None => transport::s5b_candidate_error(&ours.sid),
                };
                js.notify(&Jingle::about(Action::TransportInfo, &js.sid, content.with_transport(report))).await;
                mine = Some(tried);
            }
            next = js.next(until), if theirs.is_none() => match next {
                Ok(jingle) => match (verdict(&jingle), jingle.action) {
                    (Some(verdict), _) => theirs = Some(verdict),
                    (None, Action::SessionTerminate) => return Err(js.ended_by(&jingle)),
                    (None, Action::TransportReplace) if role == Role::Responder => {
                        if let Some(trying) = trying.take() {
                            trying.abort();
                        }
                        return Ok(Exchange::Replaced(jingle));
                    }
                    (None, _) => js.keep(jingle),
                },
                // A peer that never reports on our candidates: the responder uses its
                // own connection if it has one (the initiator waits for the reports).
                Err(Wait::Timeout) if role == Role::Responder && matches!(mine, Some(Some(_))) => theirs = Some(None),
                Err(Wait::Timeout) => return Ok(Exchange::Silent),
                Err(Wait::Gone) => return Err(TransferError::PeerGone { sent: 0, size: 0 }),
            },
        }
    }
    Ok(Exchange::Done(Findings {
        mine: mine.flatten(),
        theirs: theirs.flatten(),
    }))
}

/// We connected to the peer's candidate `used` and it wins: a proxy of theirs is
/// activated by them (§2.5), and we wait for their word.
async fn use_their_candidate(
    js: &mut JingleSession,
    role: Role,
    socket: TcpStream,
    used: &Candidate,
) -> Result<Nominated, TransferError> {
    tracing::debug!(
        "Jingle S5B via {} ({}:{}), using the {}'s {} candidate",
        used.jid,
        used.host,
        used.port,
        role.peer(),
        if used.proxy { "proxy" } else { "direct" },
    );
    if used.proxy {
        wait_activated(js, &used.cid).await?;
    }
    Ok(Nominated::Socket(socket))
}

/// The peer used our candidate `chosen` and it wins: its connection to our listener, or
/// our proxy, which we connect to and activate (§2.5), then say so.
async fn use_our_candidate(
    js: &mut JingleSession,
    (role, content): (Role, &Content),
    mut ours: OurCandidates,
    (chosen, host): (&Candidate, &StreamHost),
) -> Result<Nominated, TransferError> {
    tracing::debug!(
        "Jingle S5B: the {} used our {} candidate {}:{} ({})",
        role.peer(),
        if chosen.proxy { "proxy" } else { "direct" },
        chosen.host,
        chosen.port,
        chosen.jid
    );
    if !chosen.proxy {
        return Ok(match ours.acceptor.next(DIRECT_GRACE).await {
            Some(socket) => Nominated::Socket(socket),
            None => {
                Nominated::Nothing("the peer's connection to our listener never completed".into())
            }
        });
    }
    drop(ours.acceptor);
    let peer = js.peer.to_string();
    let socket =
        connector::connect_via_proxy(&js.session, &peer, &ours.sid, &ours.hash, host).await?;
    let activated = transport::s5b_activated(&ours.sid, &chosen.cid);
    js.notify(&Jingle::about(
        Action::TransportInfo,
        &js.sid,
        content.with_transport(activated),
    ))
    .await;
    Ok(Nominated::Socket(socket))
}

/// §2.3: tries the peer's candidates (highest priority first, staggered, as XEP-0065
/// streamhosts with DST.ADDR `hash`), within `wait`.
async fn reach(
    candidates: &[Candidate],
    hash: &str,
    wait: Duration,
) -> Option<(TcpStream, Candidate)> {
    let hosts: Vec<StreamHost> = candidates
        .iter()
        .filter_map(|c| {
            Some(StreamHost {
                jid: Jid::parse(&c.jid).ok()?,
                host: c.host.clone(),
                port: c.port,
            })
        })
        .collect();
    if hosts.is_empty() {
        return None;
    }
    match connector::try_hosts(&hosts, hash, wait).await {
        Ok((socket, host)) => {
            let used = candidates.iter().find(|c| {
                c.host == host.host && c.port == host.port && c.jid == host.jid.to_string()
            })?;
            Some((socket, used.clone()))
        }
        Err(report) => {
            tracing::info!("no SOCKS5 candidate of the peer worked: {report}");
            None
        }
    }
}

/// §2.5: the peer activates its proxy candidate `cid` that we used, and says so.
async fn wait_activated(js: &mut JingleSession, cid: &str) -> Result<(), TransferError> {
    loop {
        let jingle = js.next_or_end("the proxy was never activated").await?;
        let info = jingle
            .contents
            .iter()
            .find_map(|c| c.transport.as_ref().and_then(transport::s5b_info));
        match (jingle.action, info) {
            (Action::TransportInfo, Some(S5bInfo::Activated(c))) if c == cid => return Ok(()),
            (Action::TransportInfo, Some(S5bInfo::ProxyError)) => {
                return Err(TransferError::JingleProtocol(
                    "the peer could not use its proxy",
                ))
            }
            (Action::SessionTerminate, _) => return Err(js.ended_by(&jingle)),
            _ => js.keep(jingle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XEP-0260 §2.3: candidate-used and candidate-error in a transport-info are the
    /// verdicts; the same payload under another action, or an activation, is not.
    #[test]
    fn verdicts() {
        let with = |action, transport: Element| {
            Jingle::about(
                action,
                "s",
                Content {
                    creator: "initiator".into(),
                    name: "f".into(),
                    senders: None,
                    description: None,
                    transport: Some(transport),
                },
            )
        };
        let used = transport::s5b_candidate_used("t", "c1");
        let error = transport::s5b_candidate_error("t");
        assert_eq!(
            verdict(&with(Action::TransportInfo, used.clone())),
            Some(Some("c1".into()))
        );
        assert_eq!(verdict(&with(Action::TransportInfo, error)), Some(None));
        assert_eq!(verdict(&with(Action::SessionInfo, used)), None);
        let activated = transport::s5b_activated("t", "c1");
        assert_eq!(verdict(&with(Action::TransportInfo, activated)), None);
    }
}
