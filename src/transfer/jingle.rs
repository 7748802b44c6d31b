//! One file over Jingle file transfer (XEP-0234 over XEP-0166), both roles, with the
//! in-band transport (XEP-0261). As responder, an offer over SOCKS5 (XEP-0260) is
//! answered without candidates of our own and a `candidate-error`, so the initiator
//! replaces the transport with IBB (XEP-0166 §7.2.11; libervia and Conversations do).
//! The sender hashes with SHA-256 while sending and sends the `<checksum/>` after the
//! data (XEP-0234 §8.2); the receiver hashes while receiving and renames the file only
//! when the size and the checksum match (or, from a sender that sends none, the size).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::progress::{Metered, Progress};
use super::recv::{Opened, RecvOptions, Resumable};
use super::sink::{discard, discard_if_empty, finish_target, open_target};
use super::source::Source;
use super::{Report, TransferError};
use crate::bytestream::ibb::{IbbReceiver, IbbSender};
use crate::hash::{Algorithm, Hasher};
use crate::jid::{FullJid, Jid};
use crate::jingle::file::{self, FileDesc};
use crate::jingle::transport::{self, Ibb};
use crate::jingle::{Action, Content, Jingle, Reason};
use crate::ns::{JINGLE_ERRORS_NS, JINGLE_NS};
use crate::session::{IqError, Route, Session};
use crate::stanza::{self, Condition, ErrorType, IqType, StanzaError};
use crate::xml::Element;

/// The `method` of reports: Jingle with the in-band transport.
pub(crate) const METHOD_IBB: &str = "jingle-ibb";
/// The `method` of reports: Jingle with the SOCKS5 transport.
pub(crate) const METHOD_S5B: &str = "jingle-s5b";
/// What the sender hashes with (XEP-0234 §8.2 `<hash-used/>`).
const SENDER_HASH: Algorithm = Algorithm::Sha256;
/// After the data: how long a receiver waits for a checksum that was announced, and a
/// sender for the receiver's session-terminate before ending the session itself.
const AFTER_DATA_WAIT: Duration = Duration::from_secs(10);
/// The content name of xft's offers.
const CONTENT_NAME: &str = "a-file-offer";

/// The Jingle requests of one session from `peer` (and its unavailable presence).
fn session_route(session: &Session, peer: &Jid, sid: &str) -> Route {
    let (peer, sid) = (peer.clone(), sid.to_owned());
    session.route(move |el| {
        crate::bytestream::claims(el, &peer, |el| {
            IqType::of(el) == Some(IqType::Set)
                && el
                    .get_child("jingle", JINGLE_NS)
                    .is_some_and(|j| j.get_attr("sid") == Some(sid.as_str()))
        })
    })
}

/// The next Jingle request on `route`, acknowledged (XEP-0166 §6.2); a malformed one is
/// answered bad-request and skipped. `Err` when the peer went away or the wait ended.
async fn next_request(
    session: &Session,
    route: &mut Route,
    until: tokio::time::Instant,
) -> Result<Jingle, Wait> {
    loop {
        let el = match tokio::time::timeout_at(until, route.next()).await {
            Err(_) => return Err(Wait::Timeout),
            Ok(None) => return Err(Wait::Gone),
            Ok(Some(el)) => el,
        };
        if el.name() == "presence" {
            return Err(Wait::Gone);
        }
        match el
            .get_child("jingle", JINGLE_NS)
            .and_then(Jingle::from_element)
        {
            Some(jingle) => {
                let _ = session.reply_result(&el).await;
                return Ok(jingle);
            }
            None => {
                let error = StanzaError::new(ErrorType::Cancel, Condition::BadRequest);
                let _ = session.reply_error(&el, &error).await;
            }
        }
    }
}

/// The next request; when the wait ends first, the session is ended at once
/// (`failed-transport`, so the peer does not wait on) and `what` is the error.
async fn next_or_end(
    session: &Session,
    route: &mut Route,
    peer: &FullJid,
    sid: &str,
    until: tokio::time::Instant,
    what: &'static str,
) -> Result<Jingle, TransferError> {
    match next_request(session, route, until).await {
        Ok(j) => Ok(j),
        Err(Wait::Timeout) => {
            terminate(session, peer, sid, Reason::FailedTransport, None).await;
            Err(TransferError::JingleProtocol(what))
        }
        Err(Wait::Gone) => Err(TransferError::PeerGone { sent: 0, size: 0 }),
    }
}

/// Why a wait on the session ended without a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Timeout,
    Gone,
}

async fn send_jingle(
    session: &Session,
    to: &FullJid,
    jingle: &Jingle,
    timeout: Duration,
) -> Result<Element, IqError> {
    let iq = stanza::iq(IqType::Set, Some(&to.to_string()), jingle.to_element());
    session.iq_timeout(iq, timeout).await
}

/// Sends a transport-info without waiting for its acknowledgement: both sides send
/// these while each may be busy (connecting, waiting for the other's report), and
/// waiting for acks there deadlocks until the timeout.
fn notify(session: &Session, to: &FullJid, jingle: &Jingle, timeout: Duration) {
    let iq = stanza::iq(IqType::Set, Some(&to.to_string()), jingle.to_element());
    let session = session.clone();
    tokio::spawn(async move {
        if let Err(e) = session.iq_timeout(iq, timeout).await {
            tracing::debug!("a transport-info was not acknowledged: {e}");
        }
    });
}

/// Ends the session with `reason` (XEP-0166 §6.7), without waiting long for the ack.
async fn terminate(session: &Session, to: &FullJid, sid: &str, reason: Reason, text: Option<&str>) {
    let jingle = Jingle::new(Action::SessionTerminate, sid).with_reason(reason, text);
    let _ = send_jingle(session, to, &jingle, Duration::from_secs(5)).await;
}

/// A session-terminate from the peer as the error it means.
fn terminated(jid: &FullJid, jingle: &Jingle) -> TransferError {
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

fn hash_text(algorithm: Algorithm, digest: &[u8]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}:{hex}", algorithm.name())
}

// ---------------------------------------------------------------------------------
// Sending (initiator, XEP-0234 §5).

/// Offers `source` to `to` over SOCKS5 (XEP-0260: our listeners and the server's
/// proxies as candidates) when `--method` allows it and there is a candidate, else
/// in-band (XEP-0261); when no SOCKS5 candidate works, replaces the transport with IBB.
pub(crate) async fn send_file(
    session: &Session,
    to: &FullJid,
    source: &Source,
    options: &super::send::SendOptions,
    progress: Arc<dyn Progress>,
) -> Result<Report, TransferError> {
    let sid = stanza::new_id();
    let ibb = Ibb {
        sid: stanza::new_id(),
        block_size: u16::try_from(options.block_size.clamp(1, 65535)).unwrap_or(4096),
    };
    let ibb_allowed = options.methods.contains(&crate::si::StreamMethod::Ibb);
    let s5b = if options.methods.contains(&crate::si::StreamMethod::Socks5) {
        let sid = stanza::new_id();
        let hash = crate::bytestream::s5b::dst_addr(&sid, session.jid(), to);
        // Offered even without a candidate of ours: the receiver's may work (XEP-0260
        // §2.2, a sender behind NAT); if none does, IBB replaces it.
        Some(S5bOffer::prepare(session, &options.s5b, sid, hash).await)
    } else {
        None
    };
    if s5b.is_none() && !ibb_allowed {
        return Err(TransferError::S5b(
            crate::bytestream::s5b::S5bError::NothingToOffer,
        ));
    }
    let offer = FileDesc {
        name: source.name.clone(),
        size: source.size,
        media_type: Some(crate::upload::content_type_of(&source.name)),
        date: source.modified.map(crate::si::xep0082_datetime_ms),
        desc: options.desc.clone(),
        hashes: Vec::new(),
        hash_used: options.verify.then(|| SENDER_HASH.name().to_owned()),
        // §7: we can send from an offset, so a receiver may resume a broken transfer
        // (only one that gets the checksum can trust the result).
        ranged: options.verify,
        range_offset: 0,
        range_length: None,
    };
    let content = Content {
        creator: "initiator".into(),
        name: CONTENT_NAME.into(),
        senders: Some("initiator".into()),
        description: Some(offer.to_description()),
        transport: Some(match &s5b {
            Some(s5b) => s5b.element(),
            None => ibb.to_element(),
        }),
    };
    let mut initiate = Jingle::new(Action::SessionInitiate, &sid);
    initiate.initiator = Some(session.jid().to_string());
    initiate.contents.push(content.clone());
    session
        .send(stanza::directed_presence(&to.to_string()))
        .await?;
    // Routed before the offer leaves, so the answer cannot slip past.
    let mut route = session_route(session, to.as_jid(), &sid);
    match send_jingle(session, to, &initiate, options.timeout).await {
        Ok(_) => {}
        Err(IqError::Stanza(e)) => return Err(TransferError::OfferRefused(e)),
        Err(IqError::Timeout(t)) => return Err(TransferError::OfferTimeout(t)),
        Err(e) => return Err(TransferError::OfferIq(e)),
    }
    tracing::debug!("Jingle session {sid} offered to {to}; waiting for session-accept");
    let mut seen = Early::default();
    let accept = wait_for_accept(
        session,
        &mut route,
        (to, &sid),
        options.offer_timeout,
        &mut seen,
    )
    .await?;
    let offset = match accepted_offset(&accept, source.size) {
        Ok(offset) => offset,
        Err(why) => {
            terminate(session, to, &sid, Reason::FailedApplication, Some(why)).await;
            return Err(TransferError::JingleProtocol(why));
        }
    };
    if offset > 0 {
        tracing::info!(
            "{to} resumes '{}' from byte {offset}",
            crate::text::printable(&source.name)
        );
    }
    // The transport the data will take: the nominated SOCKS5 socket, or IBB (offered
    // from the start, or after replacing a SOCKS5 transport nothing could use).
    let path = match s5b {
        Some(s5b) => {
            let nominated = s5b
                .negotiate(
                    session, &mut route, to, &sid, &content, &accept, options, &mut seen,
                )
                .await;
            match nominated {
                Ok(socket) => DataPath::S5b(socket),
                Err(why) if ibb_allowed => {
                    tracing::warn!("Jingle SOCKS5 failed ({why}); replacing the transport with in-band bytestreams");
                    let replaced = replace_with_ibb(
                        session,
                        &mut route,
                        to,
                        &sid,
                        &content,
                        &ibb,
                        options.timeout,
                    );
                    DataPath::Ibb(replaced.await?)
                }
                Err(why) => {
                    terminate(session, to, &sid, Reason::FailedTransport, Some(&why)).await;
                    return Err(TransferError::JingleProtocol(
                        "no SOCKS5 candidate worked and --method excludes IBB",
                    ));
                }
            }
        }
        None => match accepted_block_size(&accept, &ibb) {
            Some(block) => DataPath::Ibb(block),
            None => {
                terminate(session, to, &sid, Reason::IncompatibleParameters, None).await;
                return Err(TransferError::JingleProtocol(
                    "the session-accept changed the IBB sid or raised the block size",
                ));
            }
        },
    };
    let started = Instant::now();
    let sent = match path {
        DataPath::S5b(socket) => {
            progress.start(&source.name, source.size, METHOD_S5B);
            progress.advance(offset);
            let stall = options.timeout;
            send_socket(
                session,
                &mut route,
                to,
                socket,
                (source, offset, options.verify),
                stall,
                progress.clone(),
                &mut seen,
            )
            .await
            .map(|digest| (METHOD_S5B, digest))
        }
        DataPath::Ibb(block) => {
            progress.start(&source.name, source.size, METHOD_IBB);
            progress.advance(offset);
            send_ibb(
                session,
                to,
                (source, offset, options.verify),
                &ibb.sid,
                block,
                options,
                progress.clone(),
            )
            .await
            .map(|digest| (METHOD_IBB, digest))
        }
    };
    progress.finish(sent.is_ok());
    let (method, digest) = match sent {
        Ok(sent) => sent,
        Err(e) => {
            terminate(
                session,
                to,
                &sid,
                Reason::FailedTransport,
                Some(&e.to_string()),
            )
            .await;
            return Err(e);
        }
    };
    if let Some(digest) = &digest {
        let mut info = Jingle::new(Action::SessionInfo, &sid);
        let hex;
        let encoded: &[u8] = if options.hex_checksum {
            hex = crate::hash::hex(digest);
            hex.as_bytes()
        } else {
            digest
        };
        info.payload.push(file::checksum(
            "initiator",
            CONTENT_NAME,
            SENDER_HASH.name(),
            encoded,
        ));
        if let Err(e) = send_jingle(session, to, &info, options.timeout).await {
            tracing::debug!("the checksum was not acknowledged: {e}");
        }
    }
    match seen.iter().find(|j| j.action == Action::SessionTerminate) {
        Some(end) => match end.reason.as_ref().and_then(|r| r.0) {
            Some(Reason::Success) | None => {}
            _ => return Err(terminated(to, end)),
        },
        None => wait_for_end(session, &mut route, to, &sid).await?,
    }
    let (seconds, bytes_per_sec) = Report::timing(source.size - offset, started.elapsed());
    Ok(Report {
        name: source.name.clone(),
        size: source.size,
        method,
        seconds,
        bytes_per_sec,
        md5: None,
        to: Some(to.to_string()),
        path: None,
        from: None,
        desc: None,
        resumed_from: (offset > 0).then_some(offset),
        url: None,
        protocol: "jingle",
        hash: digest.map(|d| hash_text(SENDER_HASH, &d)),
    })
}

/// What a transport-info says of the candidates its sender was given (XEP-0260 §2.3):
/// `Some(Some(cid))` for candidate-used, `Some(None)` for candidate-error, `None` when
/// it is not such a report.
fn candidate_verdict(jingle: &Jingle) -> Option<Option<String>> {
    if jingle.action != Action::TransportInfo {
        return None;
    }
    let info = jingle
        .contents
        .iter()
        .find_map(|c| c.transport.as_ref().and_then(transport::s5b_info))?;
    match info {
        transport::S5bInfo::CandidateUsed(cid) => Some(Some(cid)),
        transport::S5bInfo::CandidateError => Some(None),
        _ => None,
    }
}

/// §7: where the responder's session-accept asks the data to start (0 without a
/// `<range/>`). xft's checksum covers the whole file, so a range must run to its end.
fn accepted_offset(accept: &Jingle, size: u64) -> Result<u64, &'static str> {
    let description = accept.contents.first().and_then(|c| c.description.as_ref());
    let Some(description) = description else {
        return Ok(0);
    };
    match file::range_of(description) {
        Ok(None) => Ok(0),
        Ok(Some(range)) if range.offset > size => {
            Err("the session-accept asks for a range past the end of the file")
        }
        Ok(Some(range)) => match range.length {
            Some(length) if range.offset.checked_add(length) != Some(size) => {
                Err("the session-accept asks for a range that stops before the end of the file")
            }
            _ => Ok(range.offset),
        },
        Err(file::BadRange) => Err("the session-accept's range is not a number"),
    }
}

/// `source` opened at `offset`, with (when `verify`) a hasher that has seen the bytes
/// before it: the checksum covers the whole file, also when the receiver resumes.
async fn open_at(
    source: &Source,
    offset: u64,
    verify: bool,
) -> Result<(std::fs::File, Option<Hasher>), TransferError> {
    let path = source.path.clone();
    let opened = tokio::task::spawn_blocking(move || {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::open(&path)?;
        if !verify {
            file.seek(SeekFrom::Start(offset))?;
            return Ok((file, None));
        }
        let hasher = super::pump::hash_prefix(&mut file, offset, SENDER_HASH)?;
        Ok((file, Some(hasher)))
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    opened.map_err(|e| {
        TransferError::Source(super::source::SourceError::Io {
            path: source.path.clone(),
            source: e,
        })
    })
}

/// How the sender's data goes: the nominated SOCKS5 socket, or IBB with this block size.
enum DataPath {
    S5b(tokio::net::TcpStream),
    Ibb(usize),
}

/// The block size of an accepted IBB offer: the responder may lower it, not raise it
/// or change the sid (XEP-0261 §2.1); no transport in the accept keeps ours.
fn accepted_block_size(accept: &Jingle, offered: &Ibb) -> Option<usize> {
    let answered = accept
        .contents
        .iter()
        .find_map(|c| c.transport.as_ref().and_then(Ibb::from_element));
    match answered {
        Some(t) if t.sid == offered.sid && t.block_size <= offered.block_size => {
            Some(usize::from(t.block_size))
        }
        None => Some(usize::from(offered.block_size)),
        Some(_) => None,
    }
}

/// Requests of the session that came while xft waited for something else, kept for
/// when it gets to them: a checksum or a terminate may come during the data, libervia's
/// candidate-used before its session-accept. At most [`Early::MAX`]: a peer that floods
/// requests (each is acknowledged) cannot make it grow.
#[derive(Debug, Default)]
struct Early(Vec<Jingle>);

impl Early {
    const MAX: usize = 16;

    fn keep(&mut self, jingle: Jingle) {
        if self.0.len() < Self::MAX {
            self.0.push(jingle);
        }
    }

    fn remove(&mut self, i: usize) -> Jingle {
        self.0.remove(i)
    }
}

impl std::ops::Deref for Early {
    type Target = [Jingle];
    fn deref(&self) -> &[Jingle] {
        &self.0
    }
}

/// Waits for session-accept (and returns it) or a session-terminate; other requests
/// on the way are acknowledged.
async fn wait_for_accept(
    session: &Session,
    route: &mut Route,
    (to, sid): (&FullJid, &str),
    timeout: Duration,
    early: &mut Early,
) -> Result<Jingle, TransferError> {
    let until = tokio::time::Instant::now() + timeout;
    loop {
        let jingle = match next_request(session, route, until).await {
            Ok(j) => j,
            Err(Wait::Timeout) => {
                terminate(session, to, sid, Reason::Timeout, None).await;
                return Err(TransferError::OfferTimeout(timeout));
            }
            Err(Wait::Gone) => return Err(TransferError::PeerGone { sent: 0, size: 0 }),
        };
        match jingle.action {
            Action::SessionAccept => return Ok(jingle),
            Action::SessionTerminate => return Err(terminated(to, &jingle)),
            // Kept: libervia's transport-info can overtake its session-accept.
            _ => early.keep(jingle),
        }
    }
}

/// The SOCKS5 side of an offer we make (XEP-0260 §2.2): our listeners and proxies as
/// candidates, their priorities (§2.2: 2^16 x type preference + local preference;
/// direct 126, proxy 10), and the listeners already accepting.
struct S5bOffer {
    sid: String,
    hash: String,
    candidates: Vec<(transport::Candidate, crate::bytestream::s5b::StreamHost)>,
    acceptor: crate::bytestream::s5b::connector::Acceptor,
}

/// How long the responder may take to report which candidate it used.
const S5B_REPORT_WAIT: Duration = Duration::from_secs(30);
/// After it used a direct candidate, how long its connection may take to show.
const DIRECT_GRACE: Duration = Duration::from_secs(5);

impl S5bOffer {
    /// Our candidates for the transport `sid`: listeners (accepting connections whose
    /// DST.ADDR is `hash`) and proxies, possibly none (the peer's may still work).
    async fn prepare(
        session: &Session,
        s5b: &super::send::S5bOptions,
        sid: String,
        hash: String,
    ) -> S5bOffer {
        use crate::bytestream::s5b::candidates;
        let listeners = if s5b.direct {
            candidates::bind(session.jid(), &s5b.addresses, s5b.port).unwrap_or_else(|e| {
                tracing::warn!("no direct SOCKS5 candidate: {e}");
                Vec::new()
            })
        } else {
            Vec::new()
        };
        let proxies = s5b.proxies(session).await;
        let mut candidates = Vec::new();
        for (i, l) in listeners.iter().enumerate() {
            candidates.push((
                candidate(&l.streamhost, (126 << 16) + 65535 - i as u32, false),
                l.streamhost.clone(),
            ));
        }
        for (i, p) in proxies.iter().enumerate() {
            candidates.push((candidate(p, (10 << 16) + 65535 - i as u32, true), p.clone()));
        }
        let acceptor = crate::bytestream::s5b::connector::Acceptor::start(listeners, &hash);
        S5bOffer {
            sid,
            hash,
            candidates,
            acceptor,
        }
    }

    fn element(&self) -> Element {
        let mut transport = transport::s5b_without_candidates(&self.sid);
        if self.candidates.iter().any(|(c, _)| c.proxy) {
            transport.set_attr("dstaddr", self.hash.as_str());
        }
        for (c, _) in &self.candidates {
            transport.push_child(
                Element::new("candidate", crate::ns::JINGLE_S5B_NS)
                    .attr("cid", c.cid.as_str())
                    .attr("host", c.host.as_str())
                    .attr("jid", c.jid.as_str())
                    .attr("port", c.port.to_string())
                    .attr("priority", c.priority.to_string())
                    .attr("type", if c.proxy { "proxy" } else { "direct" }),
            );
        }
        transport
    }

    /// §2.3-§2.5: we report `candidate-error` for the responder's candidates (xft does
    /// not try them yet), wait for its report on ours, and return the nominated socket
    /// (activating a proxy); `Err` with the reason when no candidate of ours worked.
    #[allow(clippy::too_many_arguments)]
    async fn negotiate(
        mut self,
        session: &Session,
        route: &mut Route,
        to: &FullJid,
        sid: &str,
        content: &Content,
        accept: &Jingle,
        options: &super::send::SendOptions,
        seen: &mut Early,
    ) -> Result<tokio::net::TcpStream, String> {
        let info = |transport: Element| {
            let mut info = Jingle::new(Action::TransportInfo, sid);
            info.contents.push(Content {
                description: None,
                transport: Some(transport),
                ..content.clone()
            });
            info
        };
        // §2.3: both sides try the other's candidates. Theirs are tried here, beside
        // the wait for their report on ours (DST.ADDR = SHA-1(sid + responder +
        // initiator) for candidates the responder offered).
        let theirs: Vec<transport::Candidate> = accept
            .contents
            .iter()
            .find_map(|c| c.transport.as_ref())
            .map(transport::s5b_candidates)
            .unwrap_or_default();
        let mut trying = None;
        let mut ours: Option<Option<(tokio::net::TcpStream, transport::Candidate)>> = None;
        if theirs.is_empty() {
            notify(
                session,
                to,
                &info(transport::s5b_candidate_error(&self.sid)),
                options.timeout,
            );
            ours = Some(None);
        } else {
            let hash = crate::bytestream::s5b::dst_addr(&self.sid, to, session.jid());
            trying = Some(tokio::spawn(async move {
                reach_candidate(&theirs, &hash).await
            }));
        }
        let until = tokio::time::Instant::now()
            + S5B_REPORT_WAIT.min(options.s5b.wait.max(Duration::from_secs(1)) * 2);
        // A report that came before the session-accept (see wait_for_accept).
        let mut reported: Option<Option<String>> = None;
        if let Some(i) = seen.iter().position(|j| candidate_verdict(j).is_some()) {
            reported = candidate_verdict(&seen.remove(i));
        }
        while ours.is_none() || reported.is_none() {
            tokio::select! {
                tried = async { trying.as_mut().expect("guarded").await }, if trying.is_some() => {
                    trying = None;
                    let tried = tried.ok().flatten();
                    let report = match &tried {
                        Some((_, c)) => transport::s5b_candidate_used(&self.sid, &c.cid),
                        None => transport::s5b_candidate_error(&self.sid),
                    };
                    notify(session, to, &info(report), options.timeout);
                    ours = Some(tried);
                }
                next = next_request(session, route, until), if reported.is_none() => {
                    let jingle = match next {
                        Ok(j) => j,
                        Err(Wait::Timeout) => {
                            return Err("the receiver did not say which candidate it used".into())
                        }
                        Err(Wait::Gone) => return Err("the receiver went offline".into()),
                    };
                    match (candidate_verdict(&jingle), jingle.action) {
                        (Some(verdict), _) => reported = Some(verdict),
                        (None, Action::SessionTerminate) => {
                            seen.keep(jingle);
                            return Err("the receiver ended the session".into());
                        }
                        (None, _) => seen.keep(jingle),
                    }
                }
            }
        }
        // §2.4: the higher priority wins; on a tie, the initiator's choice (theirs).
        let their_pick = reported
            .flatten()
            .and_then(|cid| self.candidates.iter().find(|(c, _)| c.cid == cid).cloned());
        let our_pick = ours.flatten();
        let use_theirs = match (&our_pick, &their_pick) {
            (Some((_, c)), Some((mine, _))) => c.priority >= mine.priority,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if use_theirs {
            let (socket, candidate) = our_pick.expect("checked above");
            tracing::debug!(
                "Jingle S5B: using the receiver's {} candidate {}:{}",
                if candidate.proxy { "proxy" } else { "direct" },
                candidate.host,
                candidate.port
            );
            if candidate.proxy {
                wait_activated(
                    session,
                    route,
                    (to, sid),
                    &candidate.cid,
                    options.timeout,
                    seen,
                )
                .await
                .map_err(|e| e.to_string())?;
            }
            return Ok(socket);
        }
        let Some((chosen, host)) = their_pick else {
            return Err("no SOCKS5 candidate worked on either side".into());
        };
        tracing::debug!(
            "Jingle S5B: the receiver used our {} candidate {}:{} ({})",
            if chosen.proxy { "proxy" } else { "direct" },
            chosen.host,
            chosen.port,
            chosen.jid
        );
        if !chosen.proxy {
            return self.acceptor.next(DIRECT_GRACE).await.ok_or_else(|| {
                "the receiver's connection to our listener never completed".to_owned()
            });
        }
        drop(self.acceptor);
        let socket = crate::bytestream::s5b::connector::connect_via_proxy(
            session,
            &to.to_string(),
            &self.sid,
            &self.hash,
            &host,
        )
        .await
        .map_err(|e| e.to_string())?;
        notify(
            session,
            to,
            &info(
                Element::new("transport", crate::ns::JINGLE_S5B_NS)
                    .attr("sid", self.sid.as_str())
                    .child(
                        Element::new("activated", crate::ns::JINGLE_S5B_NS)
                            .attr("cid", chosen.cid.as_str()),
                    ),
            ),
            options.timeout,
        );
        Ok(socket)
    }
}

fn candidate(
    host: &crate::bytestream::s5b::StreamHost,
    priority: u32,
    proxy: bool,
) -> transport::Candidate {
    transport::Candidate {
        cid: stanza::new_id(),
        host: host.host.clone(),
        jid: host.jid.to_string(),
        port: host.port,
        priority,
        proxy,
    }
}

/// XEP-0166 §7.2.11 / XEP-0260 §3: replaces the failed SOCKS5 transport with IBB and
/// waits for transport-accept; returns the block size.
async fn replace_with_ibb(
    session: &Session,
    route: &mut Route,
    to: &FullJid,
    sid: &str,
    content: &Content,
    ibb: &Ibb,
    timeout: Duration,
) -> Result<usize, TransferError> {
    let mut replace = Jingle::new(Action::TransportReplace, sid);
    replace.contents.push(Content {
        description: None,
        transport: Some(ibb.to_element()),
        ..content.clone()
    });
    send_jingle(session, to, &replace, timeout)
        .await
        .map_err(TransferError::OfferIq)?;
    let until = tokio::time::Instant::now() + timeout;
    loop {
        let jingle = next_or_end(
            session,
            route,
            to,
            sid,
            until,
            "no answer to transport-replace",
        )
        .await?;
        match jingle.action {
            Action::TransportAccept => {
                return accepted_block_size(&jingle, ibb).ok_or(TransferError::JingleProtocol(
                    "the transport-accept changed the IBB transport",
                ))
            }
            Action::TransportReject => {
                terminate(session, to, sid, Reason::FailedTransport, None).await;
                return Err(TransferError::JingleProtocol(
                    "the receiver rejected in-band bytestreams",
                ));
            }
            Action::SessionTerminate => return Err(terminated(to, &jingle)),
            _ => {}
        }
    }
}

/// The S5B data phase as sender: the file into the socket by the blocking pump, hashed
/// beside it, while the session's requests are acknowledged and kept.
#[allow(clippy::too_many_arguments)]
async fn send_socket(
    session: &Session,
    route: &mut Route,
    to: &FullJid,
    socket: tokio::net::TcpStream,
    (source, offset, verify): (&Source, u64, bool),
    stall: Duration,
    progress: Arc<dyn Progress>,
    seen: &mut Early,
) -> Result<Option<Vec<u8>>, TransferError> {
    let size = source.size - offset;
    let broken = |sent, source| TransferError::StreamBroken { sent, size, source };
    let (file, hasher) = open_at(source, offset, verify).await?;
    let gone = crate::bytestream::peer_gone(session, to.as_jid());
    let (writer, handle) = super::pump::blocking_socket(socket, stall).map_err(|e| broken(0, e))?;
    let copy = super::pump::copy_unless_gone(
        (file, writer),
        size,
        progress,
        super::pump::Check::hash(hasher),
        (&handle, stall),
        gone,
    );
    let pumped = while_acking(session, route, seen, copy).await;
    let ends = super::pump::Ends::Sending(&source.path);
    let pumped = pumped.map_err(|e| super::pump::transfer_error(e, size, stall, ends))?;
    if pumped.bytes < size {
        return Err(TransferError::Source(super::source::SourceError::Io {
            path: source.path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while being sent",
            ),
        }));
    }
    // The receiver reads exactly the size and closes; our write side ends here.
    let _ = handle.shutdown(std::net::Shutdown::Write);
    Ok(pumped.hash.as_deref().and_then(unhex))
}

/// XEP-0261 §2.2-§2.3: opens IBB under the transport's sid and sends the file, hashing
/// it; returns the digest.
async fn send_ibb(
    session: &Session,
    to: &FullJid,
    (source, offset, verify): (&Source, u64, bool),
    ibb_sid: &str,
    block_size: usize,
    options: &super::send::SendOptions,
    progress: Arc<dyn Progress>,
) -> Result<Option<Vec<u8>>, TransferError> {
    let (file, hasher) = open_at(source, offset, verify).await?;
    let mut reader = Metered::new(
        tokio::io::BufReader::with_capacity(256 * 1024, tokio::fs::File::from_std(file)),
        progress,
        hasher,
    );
    let mut ibb =
        IbbSender::open(session, to.as_jid(), ibb_sid, block_size, options.timeout).await?;
    match ibb
        .send(&mut reader, source.size - offset, options.window)
        .await
    {
        Ok(_) => ibb.close().await?,
        Err(e) => {
            ibb.abort().await;
            return Err(e.into());
        }
    }
    Ok(reader.take_hash().map(Hasher::finalize))
}

/// After the checksum: the receiver ends the session (success, or why not); a
/// `<received/>` on the way is acknowledged. Without an answer in time, we end it.
async fn wait_for_end(
    session: &Session,
    route: &mut Route,
    to: &FullJid,
    sid: &str,
) -> Result<(), TransferError> {
    let until = tokio::time::Instant::now() + AFTER_DATA_WAIT;
    loop {
        match next_request(session, route, until).await {
            Ok(j) if j.action == Action::SessionTerminate => {
                return match j.reason.as_ref().and_then(|r| r.0) {
                    Some(Reason::Success) | None => Ok(()),
                    _ => Err(terminated(to, &j)),
                };
            }
            Ok(_) => {}
            Err(Wait::Timeout) => {
                terminate(session, to, sid, Reason::Success, None).await;
                return Ok(());
            }
            // Every byte was acknowledged and the checksum sent: a receiver that
            // leaves now had the whole file.
            Err(Wait::Gone) => return Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------
// Receiving (responder).

/// True for a Jingle session-initiate request.
pub(crate) fn is_offer(stanza: &Element) -> bool {
    stanza::is_iq_request(stanza, IqType::Set, "jingle", JINGLE_NS)
        && stanza
            .get_child("jingle", JINGLE_NS)
            .and_then(|j| j.get_attr("action"))
            == Some("session-initiate")
}

/// XEP-0166 §8: a Jingle request for a session we do not know.
pub(crate) fn unknown_session() -> StanzaError {
    StanzaError::new(ErrorType::Cancel, Condition::ItemNotFound)
        .with_app_condition("unknown-session", JINGLE_ERRORS_NS)
}

/// The offer's pieces xft needs.
struct Offer {
    sid: String,
    content: Content,
    file: FileDesc,
    /// IBB offered at once, or SOCKS5 (whose sid we answer under).
    transport: Offered,
}

enum Offered {
    Ibb(Ibb),
    /// The SOCKS5 transport's sid and the initiator's candidates.
    S5b(String, Vec<transport::Candidate>),
}

fn read_offer(jingle: &Jingle) -> Option<Offer> {
    let content = jingle.contents.first()?.clone();
    let file = FileDesc::from_description(content.description.as_ref()?)?;
    let transport = content.transport.as_ref()?;
    let transport = match Ibb::from_element(transport) {
        Some(ibb) => Offered::Ibb(ibb),
        None => Offered::S5b(
            transport::s5b_sid(transport)?.to_owned(),
            transport::s5b_candidates(transport),
        ),
    };
    Some(Offer {
        sid: jingle.sid.clone(),
        content,
        file,
        transport,
    })
}

/// Judges and receives one Jingle offer (`request` is the session-initiate iq).
/// `allowed` is the receiver's verdict on the sender; `Ok(None)` when declined.
pub(super) async fn receive_offer(
    session: &Session,
    request: &Element,
    from: &FullJid,
    allowed: bool,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<Option<Report>, TransferError> {
    let jingle = request
        .get_child("jingle", JINGLE_NS)
        .and_then(Jingle::from_element);
    let Some(offer) = jingle.as_ref().and_then(read_offer) else {
        let error = StanzaError::new(ErrorType::Cancel, Condition::BadRequest)
            .with_text("not a Jingle file offer xft can read");
        session.reply_error(request, &error).await?;
        return Ok(None);
    };
    // Routed before the ack, so nothing the sender sends next is missed.
    let mut route = session_route(session, from.as_jid(), &offer.sid);
    session.reply_result(request).await?;
    let decline = if !allowed {
        Some("Offer Declined: sender not allowed".to_owned())
    } else {
        match options.max_size {
            Some(max) if offer.file.size > max => Some(format!(
                "Offer Declined: file too large ({} bytes, the limit is {max})",
                offer.file.size
            )),
            _ => None,
        }
    };
    if let Some(text) = decline {
        tracing::warn!(
            "declined '{}' ({} bytes) from {from}: {text}",
            crate::text::printable(&offer.file.name),
            offer.file.size
        );
        terminate(session, from, &offer.sid, Reason::Decline, Some(&text)).await;
        return Ok(None);
    }
    let algorithm = receiving_hash(&offer.file);
    let opened = match open_destination(from, &offer.file, algorithm, options).await {
        Ok(opened) => opened,
        Err(e) => {
            terminate(
                session,
                from,
                &offer.sid,
                Reason::FailedApplication,
                Some("cannot store the file"),
            )
            .await;
            return Err(e);
        }
    };
    let Opened {
        target,
        output,
        offset,
        hasher,
    } = opened;
    let already = Already {
        offset,
        hasher: hasher.unwrap_or_else(|| Hasher::new(algorithm)),
    };
    // Directed presence first: should we vanish, the sender hears it at once (a
    // stranger accepted with --accept-any sees no presence of ours otherwise).
    session
        .send(stanza::directed_presence(&from.to_string()))
        .await?;
    let result = accept_and_receive(
        session, &mut route, from, &offer, &output, already, options, progress,
    )
    .await;
    let (bytes, hash, started, method) = match result {
        Ok(done) => done,
        // A whole file that does not match (or cannot be checked) is of no use, also
        // as a part to resume.
        Err(e @ (TransferError::HashMismatch { .. } | TransferError::ResumeUnverified)) => {
            discard(&target);
            return Err(e);
        }
        Err(e) => {
            discard_if_empty(&target, &options.registry);
            return Err(e);
        }
    };
    let path = finish_target(target, &options.registry)?;
    let mut received = Jingle::new(Action::SessionInfo, &offer.sid);
    received
        .payload
        .push(file::received(&offer.content.creator, &offer.content.name));
    // The terminate follows without waiting for the ack of `received`: the server keeps
    // their order (RFC 6120 §10.1), and the sender, who waits for the terminate, hears
    // the end one round trip sooner. The ack is still awaited (it is due first).
    let iq = stanza::iq(IqType::Set, Some(&from.to_string()), received.to_element());
    let received_ack = session.iq_start(iq, Duration::from_secs(5)).await;
    terminate(session, from, &offer.sid, Reason::Success, None).await;
    if let Ok(ack) = received_ack {
        let _ = ack.wait().await;
    }
    let (seconds, bytes_per_sec) = Report::timing(bytes - offset, started.elapsed());
    Ok(Some(Report {
        name: offer.file.name.clone(),
        size: bytes,
        method,
        seconds,
        bytes_per_sec,
        md5: None,
        to: None,
        path: Some(path),
        from: Some(from.to_string()),
        desc: offer.file.desc.clone(),
        resumed_from: (offset > 0).then_some(offset),
        url: None,
        protocol: "jingle",
        hash,
    }))
}

/// The algorithm the receiver hashes with: the offer's strongest `<hash/>` we have,
/// else its `<hash-used/>`, else SHA-256 (the checksum may still name it).
fn receiving_hash(file: &FileDesc) -> Algorithm {
    file.checkable_hash()
        .map(|(a, _)| a)
        .or_else(|| file.hash_used.as_deref().and_then(Algorithm::from_name))
        .filter(|a| *a != Algorithm::Md5)
        .unwrap_or(SENDER_HASH)
}

/// The `.part` this sender left of this file, to resume (§7) when the offer says it can
/// send a range and announces a hash that will check the whole file; else a fresh
/// destination, registered when a later offer could resume it.
async fn open_destination(
    from: &FullJid,
    file: &FileDesc,
    algorithm: Algorithm,
    options: &RecvOptions,
) -> Result<Opened, TransferError> {
    let announced = file.checkable_hash().is_some() || file.hash_used.is_some();
    let key = announced.then(|| Resumable {
        name: &file.name,
        size: file.size,
        identity: format!("jingle:{}", file.date.as_deref().unwrap_or_default()),
        algorithm,
    });
    if let Some(key) = key.as_ref().filter(|_| file.ranged) {
        if let Some(opened) = super::recv::resume_partial(from, key, options).await {
            return Ok(opened);
        }
    }
    let (target, output) = open_target(&options.destination, &file.name, options.overwrite)?;
    if let Some(key) = &key {
        super::recv::register(&target, from, key, options);
    }
    Ok(Opened {
        target,
        output,
        offset: 0,
        hasher: None,
    })
}

/// What the destination holds already: the bytes of a resumed `.part` (0 for a fresh
/// file) and a hasher that has seen them.
struct Already {
    offset: u64,
    hasher: Hasher,
}

/// Accepts (asking for the rest of the file when resuming, §7), receives (over the
/// initiator's SOCKS5 candidate we could reach, or IBB when none or after a
/// transport-replace), and verifies: the byte count, the hash when one is known (and
/// one must be, to trust a resumed file). Returns the file's size, the verified hash,
/// the start, the method.
#[allow(clippy::too_many_arguments)]
async fn accept_and_receive(
    session: &Session,
    route: &mut Route,
    from: &FullJid,
    offer: &Offer,
    output: &super::sink::Output,
    already: Already,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<(u64, Option<String>, Instant, &'static str), TransferError> {
    let timeout = options.timeout;
    let Already { offset, hasher } = already;
    let algorithm = hasher.algorithm();
    let want = Want {
        name: &offer.file.name,
        size: offer.file.size,
        offset,
    };
    let mut accept = Jingle::new(Action::SessionAccept, &offer.sid);
    accept.responder = Some(session.jid().to_string());
    let mut content = offer.content.clone();
    if offset > 0 {
        let rest = FileDesc {
            range_offset: offset,
            range_length: None,
            ranged: true,
            ..offer.file.clone()
        };
        content.description = Some(rest.to_description());
    }
    let fail = |e: TransferError| async move {
        terminate(
            session,
            from,
            &offer.sid,
            Reason::FailedTransport,
            Some(&e.to_string()),
        )
        .await;
        e
    };
    let (bytes, digest, seen, started, method) = match &offer.transport {
        Offered::Ibb(ibb) => {
            content.transport = Some(ibb.to_element());
            accept.contents.push(content);
            let mut receiver = IbbReceiver::listen(session, from.as_jid(), &ibb.sid);
            send_jingle(session, from, &accept, timeout)
                .await
                .map_err(TransferError::OfferIq)?;
            let phase = ibb_phase(&mut receiver, output, &want, hasher, timeout, &progress);
            let (bytes, digest, started) = match phase.await {
                Ok(r) => r,
                Err(e) => return Err(fail(e).await),
            };
            (bytes, Some(digest), Early::default(), started, METHOD_IBB)
        }
        Offered::S5b(s5b_sid, candidates) => {
            // §2.2: our own candidates go in the session-accept (DST.ADDR for them is
            // SHA-1(sid + responder + initiator)).
            let ours_hash = crate::bytestream::s5b::dst_addr(s5b_sid, session.jid(), from);
            let ours = S5bOffer::prepare(session, &options.s5b, s5b_sid.clone(), ours_hash).await;
            content.transport = Some(ours.element());
            accept.contents.push(content.clone());
            send_jingle(session, from, &accept, timeout)
                .await
                .map_err(TransferError::OfferIq)?;
            let mut seen = Early::default();
            let nominated = responder_s5b(
                session,
                route,
                (from, offer.sid.as_str()),
                &content,
                (candidates, ours),
                timeout,
                &mut seen,
            )
            .await;
            match nominated {
                Ok(Nominated::Socket(socket)) => {
                    let started = Instant::now();
                    progress.start(&offer.file.name, offer.file.size, METHOD_S5B);
                    progress.advance(offset);
                    // With no checksum announced, most senders send none (Dino, xft
                    // --no-hash): the kernel copies, and an unannounced checksum that
                    // comes anyway is checked against the file afterwards.
                    let announced =
                        offer.file.checkable_hash().is_some() || offer.file.hash_used.is_some();
                    let hash_now = announced || offset > 0 || !output.can_be_reread();
                    let received = receive_socket(
                        session,
                        route,
                        from,
                        socket,
                        output,
                        (offer.file.size - offset, hash_now.then_some(hasher)),
                        timeout,
                        progress.clone(),
                        &mut seen,
                    )
                    .await;
                    progress.finish(received.is_ok());
                    let (bytes, digest) = match received {
                        Ok(r) => r,
                        Err(e) => return Err(fail(e).await),
                    };
                    (bytes, digest, seen, started, METHOD_S5B)
                }
                Ok(Nominated::Ibb(pending)) => {
                    let ids = (from, offer.sid.as_str());
                    let mut receiver =
                        replaced_by_ibb(session, route, ids, pending, timeout).await?;
                    let phase = ibb_phase(&mut receiver, output, &want, hasher, timeout, &progress);
                    let (bytes, digest, started) = match phase.await {
                        Ok(r) => r,
                        Err(e) => return Err(fail(e).await),
                    };
                    (bytes, Some(digest), Early::default(), started, METHOD_IBB)
                }
                Err(e) => return Err(fail(e).await),
            }
        }
    };
    let bytes = offset + bytes;
    if bytes != offer.file.size {
        terminate(
            session,
            from,
            &offer.sid,
            Reason::MediaError,
            Some("size mismatch"),
        )
        .await;
        return Err(TransferError::Incomplete {
            received: bytes,
            expected: offer.file.size,
        });
    }
    let early = seen
        .iter()
        .find_map(|j| j.payload.iter().find_map(file::read_checksum))
        .and_then(|hashes| file::best_hash(&hashes));
    let ended = seen.iter().any(|j| j.action == Action::SessionTerminate);
    let expected = match (offer.file.checkable_hash(), early) {
        (Some(known), _) | (None, Some(known)) => Some(known),
        // Wait for a checksum only when the offer announced one: a sender that hashes
        // nothing (Dino, `--no-hash`) waits for our session-terminate instead.
        (None, None) if ended || offer.file.hash_used.is_none() => None,
        (None, None) => wait_for_checksum(session, route, from, &offer.sid).await?,
    };
    // The hash of what was received, and its algorithm: from the copy, or (when the
    // copy hashed nothing) the file read back with the checksum's own algorithm.
    let computed = match (digest, &expected) {
        (Some(digest), _) => Some((algorithm, digest)),
        (None, Some((algo, _))) => Some((*algo, hash_written(output, *algo).await?)),
        (None, None) => None,
    };
    let verified = match (expected, computed) {
        (Some((algo, want)), Some((done, digest))) if algo == done => {
            if !file::digest_matches(&digest, &want) {
                terminate(
                    session,
                    from,
                    &offer.sid,
                    Reason::MediaError,
                    Some("checksum mismatch"),
                )
                .await;
                return Err(TransferError::HashMismatch {
                    algo: algo.name(),
                    expected: crate::hash::hex(&want),
                    actual: crate::hash::hex(&digest),
                });
            }
            Some(hash_text(algo, &digest))
        }
        (Some((algo, _)), _) => {
            tracing::warn!(
                "the checksum uses {}, not the announced {}: checked the size only",
                algo.name(),
                algorithm.name()
            );
            None
        }
        (None, _) if offset > 0 => {
            // The first part came in an earlier session: only the checksum ties the two.
            terminate(
                session,
                from,
                &offer.sid,
                Reason::MediaError,
                Some("no checksum for a resumed file"),
            )
            .await;
            return Err(TransferError::ResumeUnverified);
        }
        (None, _) => {
            tracing::info!("the sender sent no checksum: checked the size only");
            None
        }
    };
    Ok((bytes, verified, started, method))
}

/// XEP-0260 §2.3-§2.5 as responder: tries the initiator's candidates while it tries
/// ours, reports on its (`candidate-used` or `candidate-error`), takes its report on
/// ours, and returns the nominated socket: the higher priority wins, on a tie the
/// initiator's choice (a proxy is activated by the side that offered it); or IBB when
/// no candidate worked on either side or the initiator replaced the transport anyway.
async fn responder_s5b(
    session: &Session,
    route: &mut Route,
    (from, jingle_sid): (&FullJid, &str),
    content: &Content,
    (theirs, mut ours): (&[transport::Candidate], S5bOffer),
    timeout: Duration,
    seen: &mut Early,
) -> Result<Nominated, TransferError> {
    let info = |transport: Element| {
        let mut info = Jingle::new(Action::TransportInfo, jingle_sid);
        info.contents.push(Content {
            description: None,
            transport: Some(transport),
            ..content.clone()
        });
        info
    };
    let hash = crate::bytestream::s5b::dst_addr(&ours.sid, from, session.jid());
    let theirs = theirs.to_vec();
    let mut trying = Some(tokio::spawn(async move {
        reach_candidate(&theirs, &hash).await
    }));
    let mut mine: Option<Option<(tokio::net::TcpStream, transport::Candidate)>> = None;
    // Without candidates of ours there is no report to wait for.
    let mut reported: Option<Option<String>> = ours.candidates.is_empty().then_some(None);
    let until =
        tokio::time::Instant::now() + S5B_REPORT_WAIT.min(timeout.max(Duration::from_secs(1)) * 2);
    while mine.is_none() || reported.is_none() {
        tokio::select! {
            tried = async { trying.as_mut().expect("guarded").await }, if trying.is_some() => {
                trying = None;
                let tried = tried.ok().flatten();
                let report = match &tried {
                    Some((_, c)) => transport::s5b_candidate_used(&ours.sid, &c.cid),
                    None => transport::s5b_candidate_error(&ours.sid),
                };
                notify(session, from, &info(report), timeout);
                mine = Some(tried);
            }
            next = next_request(session, route, until), if reported.is_none() => {
                let jingle = match next {
                    Ok(j) => j,
                    // A sender that never reports on our candidates: use our connection
                    // if we have one.
                    Err(Wait::Timeout) if matches!(mine, Some(Some(_))) => {
                        reported = Some(None);
                        continue;
                    }
                    Err(Wait::Timeout) => {
                        return Err(TransferError::JingleProtocol(
                            "the sender did not say whether it reached our candidates",
                        ))
                    }
                    Err(Wait::Gone) => return Err(TransferError::PeerGone { sent: 0, size: 0 }),
                };
                match (candidate_verdict(&jingle), jingle.action) {
                    (Some(verdict), _) => reported = Some(verdict),
                    (None, Action::SessionTerminate) => return Err(terminated(from, &jingle)),
                    // An initiator that gives up on SOCKS5 without a word on ours.
                    (None, Action::TransportReplace) => {
                        if let Some(trying) = trying.take() {
                            trying.abort();
                        }
                        return Ok(Nominated::Ibb(Some(jingle)));
                    }
                    (None, _) => seen.keep(jingle),
                }
            }
        }
    }
    let their_pick = reported
        .flatten()
        .and_then(|cid| ours.candidates.iter().find(|(c, _)| c.cid == cid).cloned());
    let my_pick = mine.flatten();
    let use_mine = match (&my_pick, &their_pick) {
        (Some((_, c)), Some((y, _))) => c.priority > y.priority,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if let Some((socket, candidate)) = my_pick.filter(|_| use_mine) {
        tracing::debug!(
            "Jingle S5B via {} ({}:{})",
            candidate.jid,
            candidate.host,
            candidate.port
        );
        if candidate.proxy {
            let ids = (from, jingle_sid);
            wait_activated(session, route, ids, &candidate.cid, timeout, seen).await?;
        }
        return Ok(Nominated::Socket(socket));
    }
    let Some((chosen, host)) = their_pick else {
        return Ok(Nominated::Ibb(None));
    };
    tracing::debug!(
        "Jingle S5B: the sender used our {} candidate {}:{} ({})",
        if chosen.proxy { "proxy" } else { "direct" },
        chosen.host,
        chosen.port,
        chosen.jid
    );
    if !chosen.proxy {
        return match ours.acceptor.next(DIRECT_GRACE).await {
            Some(socket) => Ok(Nominated::Socket(socket)),
            None => Err(TransferError::JingleProtocol(
                "the sender's connection to our listener never completed",
            )),
        };
    }
    drop(ours.acceptor);
    let socket = crate::bytestream::s5b::connector::connect_via_proxy(
        session,
        &from.to_string(),
        &ours.sid,
        &ours.hash,
        &host,
    )
    .await?;
    let activated = Element::new("transport", crate::ns::JINGLE_S5B_NS)
        .attr("sid", ours.sid.as_str())
        .child(
            Element::new("activated", crate::ns::JINGLE_S5B_NS).attr("cid", chosen.cid.as_str()),
        );
    notify(session, from, &info(activated), timeout);
    Ok(Nominated::Socket(socket))
}

/// Where a responder's data comes from after the SOCKS5 negotiation.
enum Nominated {
    Socket(tokio::net::TcpStream),
    /// In-band, after the initiator's transport-replace (already received, or to come).
    Ibb(Option<Jingle>),
}

/// XEP-0260 §2.3: tries the initiator's candidates (highest priority first, staggered,
/// as XEP-0065 streamhosts with DST.ADDR = SHA-1(sid + initiator + responder), which
/// is also what the initiator gives as `dstaddr` for its proxies).
async fn reach_candidate(
    candidates: &[transport::Candidate],
    hash: &str,
) -> Option<(tokio::net::TcpStream, transport::Candidate)> {
    let hosts: Vec<crate::bytestream::s5b::StreamHost> = candidates
        .iter()
        .filter_map(|c| {
            Some(crate::bytestream::s5b::StreamHost {
                jid: Jid::parse(&c.jid).ok()?,
                host: c.host.clone(),
                port: c.port,
            })
        })
        .collect();
    if hosts.is_empty() {
        return None;
    }
    match crate::bytestream::s5b::connector::try_hosts(&hosts, hash).await {
        Ok((socket, host)) => {
            let candidate = candidates
                .iter()
                .find(|c| {
                    c.host == host.host && c.port == host.port && c.jid == host.jid.to_string()
                })?
                .clone();
            Some((socket, candidate))
        }
        Err(report) => {
            tracing::info!("no SOCKS5 candidate of the sender worked: {report}");
            None
        }
    }
}

/// XEP-0260 §2.4: the sender activates a proxy candidate we used and says so.
async fn wait_activated(
    session: &Session,
    route: &mut Route,
    (peer, sid): (&FullJid, &str),
    cid: &str,
    timeout: Duration,
    seen: &mut Early,
) -> Result<(), TransferError> {
    let until = tokio::time::Instant::now() + timeout;
    loop {
        let what = "the proxy was never activated";
        let jingle = next_or_end(session, route, peer, sid, until, what).await?;
        let info = jingle
            .contents
            .iter()
            .find_map(|c| c.transport.as_ref().and_then(transport::s5b_info));
        match (jingle.action, info) {
            (Action::TransportInfo, Some(transport::S5bInfo::Activated(c))) if c == cid => {
                return Ok(())
            }
            (Action::TransportInfo, Some(transport::S5bInfo::ProxyError)) => {
                return Err(TransferError::JingleProtocol(
                    "the sender could not use the proxy",
                ))
            }
            (Action::SessionTerminate, _) => {
                return Err(TransferError::Terminated {
                    jid: String::new(),
                    reason: jingle
                        .reason
                        .and_then(|r| r.0)
                        .unwrap_or(Reason::GeneralError),
                    text: None,
                })
            }
            _ => seen.keep(jingle),
        }
    }
}

/// The SOCKS5 data into `output` by the blocking pump, hashed with `algorithm`, while
/// the session's requests (the checksum may come early) are acknowledged and kept.
#[allow(clippy::too_many_arguments)]
async fn receive_socket(
    session: &Session,
    route: &mut Route,
    from: &FullJid,
    socket: tokio::net::TcpStream,
    output: &super::sink::Output,
    (size, hasher): (u64, Option<Hasher>),
    stall: Duration,
    progress: Arc<dyn Progress>,
    seen: &mut Early,
) -> Result<(u64, Option<Vec<u8>>), TransferError> {
    let broken = |sent, source| TransferError::StreamBroken { sent, size, source };
    let gone = crate::bytestream::peer_gone(session, from.as_jid());
    let (reader, handle) = super::pump::blocking_socket(socket, stall).map_err(|e| broken(0, e))?;
    let writer = output.blocking_writer().map_err(|e| output.sink_error(e))?;
    let copy = super::pump::copy_unless_gone(
        (reader, writer),
        size,
        progress,
        super::pump::Check::hash(hasher),
        (&handle, stall),
        gone,
    );
    let ends = super::pump::Ends::Receiving(output);
    let pumped = while_acking(session, route, seen, copy)
        .await
        .map_err(|e| super::pump::transfer_error(e, size, stall, ends))?;
    Ok((pumped.bytes, pumped.hash.as_deref().and_then(unhex)))
}

fn unhex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// After our candidate-error: the initiator's transport-replace to IBB (accepted with
/// transport-accept), or its session-terminate.
async fn replaced_by_ibb(
    session: &Session,
    route: &mut Route,
    (from, sid): (&FullJid, &str),
    mut pending: Option<Jingle>,
    timeout: Duration,
) -> Result<IbbReceiver, TransferError> {
    let until = tokio::time::Instant::now() + timeout;
    loop {
        let what = "no transport-replace to IBB after our candidate-error";
        let jingle = match pending.take() {
            Some(jingle) => jingle,
            None => next_or_end(session, route, from, sid, until, what).await?,
        };
        match jingle.action {
            Action::TransportReplace => {
                let Some((content, ibb)) = jingle
                    .contents
                    .iter()
                    .find_map(|c| Some((c.clone(), Ibb::from_element(c.transport.as_ref()?)?)))
                else {
                    let mut reject = Jingle::new(Action::TransportReject, sid);
                    reject.contents = jingle.contents.clone();
                    let _ = send_jingle(session, from, &reject, timeout).await;
                    continue;
                };
                let receiver = IbbReceiver::listen(session, from.as_jid(), &ibb.sid);
                let mut accept = Jingle::new(Action::TransportAccept, sid);
                accept.contents.push(Content {
                    description: None,
                    transport: Some(ibb.to_element()),
                    ..content
                });
                send_jingle(session, from, &accept, timeout)
                    .await
                    .map_err(TransferError::OfferIq)?;
                return Ok(receiver);
            }
            Action::SessionTerminate => return Err(terminated(from, &jingle)),
            _ => {}
        }
    }
}

/// The in-band data phase as receiver, with its progress: bytes, digest, start.
/// The hash of the file `output` holds (read back from its start), for a checksum that
/// came although the copy computed none. An error reading our own file is the sink's.
async fn hash_written(
    output: &super::sink::Output,
    algorithm: Algorithm,
) -> Result<Vec<u8>, TransferError> {
    let Some(file) = output.reread() else {
        return Err(output.sink_error(std::io::Error::other("the file cannot be read back")));
    };
    let hashed = tokio::task::spawn_blocking(move || {
        let mut file = file;
        let mut hasher = Hasher::new(algorithm);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut file, &mut buf)?;
            if n == 0 {
                return Ok(hasher.finalize());
            }
            hasher.update(&buf[..n]);
        }
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()));
    hashed
        .and_then(|r| r)
        .map_err(|e: std::io::Error| output.sink_error(e))
}

async fn ibb_phase(
    receiver: &mut IbbReceiver,
    output: &super::sink::Output,
    want: &Want<'_>,
    hasher: Hasher,
    timeout: Duration,
    progress: &Arc<dyn Progress>,
) -> Result<(u64, Vec<u8>, Instant), TransferError> {
    let started = Instant::now();
    progress.start(want.name, want.size, METHOD_IBB);
    progress.advance(want.offset);
    let received = receive_ibb(
        receiver,
        output,
        want.size - want.offset,
        hasher,
        timeout,
        progress.clone(),
    )
    .await;
    progress.finish(received.is_ok());
    received.map(|(bytes, digest)| (bytes, digest, started))
}

/// The file as the data phase sees it: its name and size, and where the data starts.
struct Want<'a> {
    name: &'a str,
    size: u64,
    offset: u64,
}

/// Runs `work` (a data phase) while acknowledging the session's requests on `route`,
/// keeping them in `seen` (a checksum or a terminate may come early).
async fn while_acking<T>(
    session: &Session,
    route: &mut Route,
    seen: &mut Early,
    work: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut listening = true;
    loop {
        tokio::select! {
            biased;
            done = &mut work => return done,
            next = route.next(), if listening => match next {
                Some(el) if el.name() == "presence" => {}
                Some(el) => {
                    let _ = session.reply_result(&el).await;
                    if let Some(j) = el.get_child("jingle", JINGLE_NS).and_then(Jingle::from_element) {
                        seen.keep(j);
                    }
                }
                None => listening = false,
            },
        }
    }
}

/// The IBB data into `output`, hashed with `algorithm`.
async fn receive_ibb(
    ibb: &mut IbbReceiver,
    output: &super::sink::Output,
    size: u64,
    hasher: Hasher,
    timeout: Duration,
    progress: Arc<dyn Progress>,
) -> Result<(u64, Vec<u8>), TransferError> {
    ibb.accept_open(timeout).await?;
    let writer = output.async_writer().map_err(|e| output.sink_error(e))?;
    let mut writer = Metered::new(writer, progress, Some(hasher));
    let (bytes, close) = match ibb.receive(&mut writer, size, timeout).await {
        Ok(received) => received,
        Err(e) => {
            // Keep what did arrive in the .part: it is the user's, to inspect or resume.
            let _ = writer.flush().await;
            return Err(e.into());
        }
    };
    if let Err(e) = writer.flush().await {
        close
            .refuse(&format!("the receiver cannot write the file: {e}"))
            .await;
        return Err(output.sink_error(e));
    }
    let digest = writer.take_hash().map(Hasher::finalize).unwrap_or_default();
    close.acknowledge().await;
    Ok((bytes, digest))
}

/// The checksum that `<hash-used/>` promised, if it comes within the wait: the sender
/// may also end the session (success) without one, as Dino does.
async fn wait_for_checksum(
    session: &Session,
    route: &mut Route,
    from: &FullJid,
    sid: &str,
) -> Result<Option<(Algorithm, Vec<u8>)>, TransferError> {
    let until = tokio::time::Instant::now() + AFTER_DATA_WAIT;
    loop {
        match next_request(session, route, until).await {
            Ok(j) if j.action == Action::SessionInfo => {
                if let Some(hashes) = j.payload.iter().find_map(file::read_checksum) {
                    return Ok(file::best_hash(&hashes));
                }
            }
            Ok(j) if j.action == Action::SessionTerminate => {
                return match j.reason.as_ref().and_then(|r| r.0) {
                    Some(Reason::Success) | None => Ok(None),
                    _ => Err(terminated(from, &j)),
                };
            }
            Ok(_) => {}
            Err(_) => {
                let _ = sid;
                return Ok(None);
            }
        }
    }
}

/// Answers a Jingle request whose session is unknown (XEP-0166 §8).
pub(super) async fn refuse_unknown(session: &Session, request: &Element) {
    let _ = session.reply_error(request, &unknown_session()).await;
}

/// Jingle requests that are not offers, outside any session of ours.
pub(crate) fn is_jingle_request(stanza: &Element) -> bool {
    stanza::is_iq_request(stanza, IqType::Set, "jingle", JINGLE_NS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XEP-0260 §2.3: candidate-used and candidate-error in a transport-info are the
    /// verdicts; the same payload under another action, or an activation, is not.
    #[test]
    fn candidate_verdicts() {
        let with = |action, transport: Element| {
            let mut j = Jingle::new(action, "s");
            j.contents.push(Content {
                creator: "initiator".into(),
                name: "f".into(),
                senders: None,
                description: None,
                transport: Some(transport),
            });
            j
        };
        let used = transport::s5b_candidate_used("t", "c1");
        let error = transport::s5b_candidate_error("t");
        assert_eq!(
            candidate_verdict(&with(Action::TransportInfo, used.clone())),
            Some(Some("c1".into()))
        );
        assert_eq!(
            candidate_verdict(&with(Action::TransportInfo, error)),
            Some(None)
        );
        assert_eq!(candidate_verdict(&with(Action::SessionInfo, used)), None);
        let activated = Element::new("transport", crate::ns::JINGLE_S5B_NS)
            .attr("sid", "t")
            .child(Element::new("activated", crate::ns::JINGLE_S5B_NS).attr("cid", "c1"));
        assert_eq!(
            candidate_verdict(&with(Action::TransportInfo, activated)),
            None
        );
    }

    /// A peer flooding requests during a wait: the first ones are kept, no more.
    #[test]
    fn early_requests_are_bounded() {
        let mut early = Early::default();
        for n in 0..1000 {
            early.keep(Jingle::new(Action::SessionInfo, &format!("s{n}")));
        }
        assert_eq!(early.len(), Early::MAX);
        assert_eq!(early[0].sid, "s0");
        assert_eq!(early.remove(0).sid, "s0");
        assert_eq!(early.len(), Early::MAX - 1);
    }
}
