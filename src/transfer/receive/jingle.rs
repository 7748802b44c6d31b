//! Receiving one file as the responder of a Jingle session (XEP-0234 §5): judged by the
//! receiver's policy, accepted (asking for the rest of a kept `.part`, §7; with our own
//! SOCKS5 candidates, XEP-0260 §2.2), received over the nominated socket or in-band
//! (offered so, or after the initiator's transport-replace), hashed while it arrives,
//! and renamed into place only when the size and the checksum match (or, from a sender
//! that sends none, the size).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::destination::{self, Opened, Resumable};
use super::RecvOptions;
use crate::hash::{Algorithm, Hasher};
use crate::jid::FullJid;
use crate::jingle::file::{self, FileDesc};
use crate::jingle::transport::{self, Candidate, Ibb};
use crate::jingle::{Action, Content, Jingle, Reason, State};
use crate::ns::JINGLE_NS;
use crate::session::Session;
use crate::stanza::{self, Condition, ErrorType, StanzaError};
use crate::transfer::jingle::data;
use crate::transfer::jingle::negotiation::{self, Nominated, OurCandidates, Role};
use crate::transfer::jingle::session::JingleSession;
use crate::transfer::jingle::{METHOD_IBB, METHOD_S5B, SENDER_HASH};
use crate::transfer::progress::Progress;
use crate::transfer::sink::{discard, discard_if_empty, finish_target, Output};
use crate::transfer::{Report, TransferError};
use crate::xml::Element;

/// The offer's pieces xft needs.
struct Offer {
    content: Content,
    file: FileDesc,
    transport: Offered,
}

/// What the initiator offered to carry the bytes.
enum Offered {
    Ibb(Ibb),
    /// The SOCKS5 transport's sid and the initiator's candidates.
    S5b(String, Vec<Candidate>),
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
        content,
        file,
        transport,
    })
}

/// A Jingle file offer that reads well: the session-initiate request, its sender, the
/// session and the file.
pub(crate) struct JingleOffer {
    request: Element,
    from: FullJid,
    sid: String,
    offer: Offer,
}

impl JingleOffer {
    /// The offer in a session-initiate request; the request back when it is not one
    /// xft can read (no full JID, no file, no transport it knows).
    pub(crate) fn read(request: Element) -> Result<JingleOffer, Element> {
        let from = request
            .get_attr("from")
            .and_then(|f| crate::jid::Jid::parse(f).ok())
            .and_then(|j| j.to_full());
        let jingle = request
            .get_child("jingle", JINGLE_NS)
            .and_then(Jingle::from_element);
        let read = jingle.and_then(|j| Some((j.sid.clone(), read_offer(&j)?)));
        match (from, read) {
            (Some(from), Some((sid, offer))) => Ok(JingleOffer {
                request,
                from,
                sid,
                offer,
            }),
            _ => Err(request),
        }
    }

    /// The sender's full JID.
    pub(crate) fn from(&self) -> &FullJid {
        &self.from
    }

    /// The session's id.
    pub(crate) fn sid(&self) -> &str {
        &self.sid
    }

    /// The offered file's size.
    pub(crate) fn size(&self) -> u64 {
        self.offer.file.size
    }

    /// The session-initiate request.
    pub(crate) fn request(&self) -> &Element {
        &self.request
    }
}

/// Answers a session-initiate xft cannot read (XEP-0166 §6.3.2: bad-request).
pub(crate) async fn refuse_unreadable(
    session: &Session,
    request: &Element,
) -> Result<(), TransferError> {
    let error = StanzaError::new(ErrorType::Cancel, Condition::BadRequest)
        .with_text("not a Jingle file offer xft can read");
    Ok(session.reply_error(request, &error).await?)
}

/// XEP-0166 §6.2: the responder acknowledges the session-initiate at once, whether or
/// not (or when) it accepts.
pub(crate) async fn acknowledge(
    session: &Session,
    offer: &JingleOffer,
) -> Result<(), TransferError> {
    Ok(session.reply_result(&offer.request).await?)
}

/// §6.4: declines the (acknowledged) offer with `text`.
pub(crate) async fn decline(session: &Session, offer: JingleOffer, text: &str, timeout: Duration) {
    let name = crate::text::printable(&offer.offer.file.name);
    tracing::warn!(
        "declined '{name}' ({} bytes) from {}: {text}",
        offer.offer.file.size,
        offer.from
    );
    let mut js = JingleSession::open(session, &offer.from, &offer.sid, timeout);
    js.terminate(Reason::Decline, Some(text)).await;
}

/// Refuses an (acknowledged) offer that cannot wait any longer: too many wait already,
/// or the receiver stopped (§7.4 `busy`).
pub(crate) async fn decline_busy(
    session: &Session,
    offer: JingleOffer,
    text: &str,
    timeout: Duration,
) {
    let mut js = JingleSession::open(session, &offer.from, &offer.sid, timeout);
    js.terminate(Reason::Busy, Some(text)).await;
}

/// An offer whose session has its route: the peer's requests are claimed from now on.
pub(crate) struct Begun {
    js: JingleSession,
    from: FullJid,
    offer: Offer,
}

/// Starts taking an (acknowledged) offer: claims its session's requests now, before
/// anything is awaited, so that none slips past.
pub(crate) fn begin(session: &Session, offer: JingleOffer, timeout: std::time::Duration) -> Begun {
    Begun {
        js: JingleSession::open(session, &offer.from, &offer.sid, timeout),
        from: offer.from,
        offer: offer.offer,
    }
}

/// Receives the file of a begun offer (already judged by the policy).
pub(crate) async fn receive(
    begun: Begun,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<Option<Report>, TransferError> {
    let Begun {
        mut js,
        from,
        offer,
    } = begun;
    let algorithm = receiving_hash(&offer.file);
    let opened = match open_destination(&from, &offer.file, algorithm, options).await {
        Ok(opened) => opened,
        Err(e) => {
            js.terminate(Reason::FailedApplication, Some("cannot store the file"))
                .await;
            return Err(e);
        }
    };
    // Directed presence first: should we vanish, the sender hears it at once (a
    // stranger accepted with --accept-any sees no presence of ours otherwise).
    js.session
        .send(stanza::directed_presence(&from.to_string()))
        .await?;
    let offset = opened.offset;
    let hasher = opened.hasher.unwrap_or_else(|| Hasher::new(algorithm));
    let result = accept_and_receive(
        &mut js,
        &offer,
        &opened.output,
        (offset, hasher),
        options,
        progress,
    )
    .await;
    let received = match result {
        Ok(received) => received,
        // A whole file that does not match (or cannot be checked) is of no use, also
        // as a part to resume.
        Err(e @ (TransferError::HashMismatch { .. } | TransferError::ResumeUnverified)) => {
            discard(&opened.target);
            return Err(e);
        }
        Err(e) => {
            discard_if_empty(&opened.target, &options.registry);
            return Err(e);
        }
    };
    let path = finish_target(opened.target, &options.registry)?;
    end_with_success(&mut js, &offer.content).await;
    let report = Report::received(&offer.file.name, offer.file.desc.clone(), &from, path);
    Ok(Some(report.moved(received.moved(offset))))
}

/// §8.1 `<received/>`, then the terminate: the server keeps their order (RFC 6120
/// §10.1), so neither waits for an acknowledgement (a sender that stopped must not
/// cost a second wait), and the sender, who waits for the terminate, hears the end one
/// round trip sooner.
async fn end_with_success(js: &mut JingleSession, content: &Content) {
    let mut received = Jingle::new(Action::SessionInfo, &js.sid);
    received
        .payload
        .push(file::received(&content.creator, &content.name));
    js.notify(&received).await;
    js.terminate(Reason::Success, None).await;
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
/// destination, registered when a later offer could resume it. What identifies the
/// file across sessions is its date (the checksum comes only after the data).
async fn open_destination(
    from: &FullJid,
    file: &FileDesc,
    algorithm: Algorithm,
    options: &RecvOptions,
) -> Result<Opened, TransferError> {
    let announced = file.checkable_hash().is_some() || file.hash_used.is_some();
    let key = announced.then(|| Resumable {
        identity: format!("jingle:{}", file.date.as_deref().unwrap_or_default()),
        algorithm,
    });
    let offered = destination::Offered {
        name: &file.name,
        size: file.size,
        ranged: file.ranged,
    };
    destination::open(from, offered, key, options).await
}

/// What arrived: the bytes (after the offset), the verified hash, the start, the method.
struct Received {
    bytes: u64,
    hash: Option<(Algorithm, Vec<u8>)>,
    started: Instant,
    method: &'static str,
}

impl Received {
    fn moved(self, offset: u64) -> crate::transfer::Moved {
        crate::transfer::Moved {
            size: offset + self.bytes,
            protocol: "jingle",
            method: self.method,
            hash: self
                .hash
                .map(|(algorithm, digest)| (algorithm, crate::hash::hex(&digest))),
            offset,
            elapsed: self.started.elapsed(),
        }
    }
}

/// Accepts, receives and verifies: the byte count, the hash when one is known (and one
/// must be, to trust a resumed file).
async fn accept_and_receive(
    js: &mut JingleSession,
    offer: &Offer,
    output: &Output,
    (offset, hasher): (u64, Hasher),
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    let algorithm = hasher.algorithm();
    let mut content = offer.content.clone();
    if offset > 0 {
        // §7: the rest of the file, from the end of the kept `.part`.
        let rest = FileDesc {
            range_offset: offset,
            range_length: None,
            ranged: true,
            ..offer.file.clone()
        };
        content.description = Some(rest.to_description());
    }
    let into = Into {
        output,
        size: offer.file.size - offset,
        hasher,
    };
    let received = match receive_data(js, (offer, content), into, options, progress).await {
        Ok(received) => received,
        Err(e) => {
            if !matches!(
                e,
                TransferError::Terminated { .. } | TransferError::Declined { .. }
            ) {
                js.terminate(Reason::FailedTransport, Some(&e.to_string()))
                    .await;
            }
            return Err(e);
        }
    };
    let bytes = offset + received.bytes;
    if bytes != offer.file.size {
        js.terminate(Reason::MediaError, Some("size mismatch"))
            .await;
        return Err(TransferError::Incomplete {
            received: bytes,
            expected: offer.file.size,
        });
    }
    let hash = verify(
        js,
        (offer, output),
        (received.hash.clone(), algorithm),
        offset,
    )
    .await?;
    Ok(Received { hash, ..received })
}

/// Where the data goes: the output, how many bytes are still to come, and a hasher
/// that has seen the bytes already there.
struct Into<'a> {
    output: &'a Output,
    size: u64,
    hasher: Hasher,
}

/// Sends the session-accept and receives the data: over the initiator's candidate or
/// ours (whichever XEP-0260 nominates), or in-band (offered, or replaced to). The hash
/// in the result is the digest of what arrived (not yet checked), when computed.
async fn receive_data(
    js: &mut JingleSession,
    (offer, mut content): (&Offer, Content),
    into: Into<'_>,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    let mut accept = Jingle::new(Action::SessionAccept, &js.sid);
    accept.responder = Some(js.session.jid().to_string());
    let (s5b_sid, offered) = match &offer.transport {
        Offered::Ibb(ibb) => {
            js.carry_ibb(&ibb.sid);
            content.transport = Some(ibb.to_element());
            accept.contents.push(content);
            send_accept(js, &accept).await?;
            return receive_ibb(js, &offer.file, into, progress).await;
        }
        Offered::S5b(sid, candidates) => (sid, candidates.clone()),
    };
    // §2.2: our own candidates go in the session-accept.
    let ours = OurCandidates::prepare(js, &options.s5b, s5b_sid).await;
    content.transport = Some(ours.element());
    accept.contents.push(content.clone());
    match accept_and_nominate(js, &accept, &content, (ours, offered)).await? {
        Nominated::Socket(socket) => receive_s5b(js, socket, &offer.file, into, progress).await,
        Nominated::Nothing(why) => {
            tracing::info!(
                "no SOCKS5 pair worked ({why}); waiting for the sender's in-band fallback"
            );
            replaced_by_ibb(js, None).await?;
            receive_ibb(js, &offer.file, into, progress).await
        }
        Nominated::Replaced(replace) => {
            replaced_by_ibb(js, Some(replace)).await?;
            receive_ibb(js, &offer.file, into, progress).await
        }
    }
}

/// §6.3: the session-accept, acknowledged; the session is active from now on.
async fn send_accept(js: &mut JingleSession, accept: &Jingle) -> Result<(), TransferError> {
    let sent = Instant::now();
    js.request(accept).await.map_err(TransferError::OfferIq)?;
    let _ = js.peer_rtt.set(sent.elapsed());
    js.moved_to(State::Active);
    Ok(())
}

/// §6.3 and XEP-0260 §2.3-§2.5: the session-accept, and the S5B negotiation without
/// waiting for the accept's acknowledgement: our candidate report then leaves right
/// behind the accept, in order on the same path, and the sender knows the outcome a
/// round trip through both servers earlier. A refused accept still ends it at once.
async fn accept_and_nominate(
    js: &mut JingleSession,
    accept: &Jingle,
    content: &Content,
    candidates: (OurCandidates, Vec<Candidate>),
) -> Result<Nominated, TransferError> {
    let sent = Instant::now();
    let Some(pending) = js.notify(accept).await else {
        return Err(TransferError::OfferIq(
            crate::session::IqError::Disconnected,
        ));
    };
    js.moved_to(State::Active);
    let rtt = js.peer_rtt.clone();
    let mut ack = Box::pin(pending.wait());
    let nominated = {
        let nominate = negotiation::nominate(js, Role::Responder, content, candidates);
        tokio::pin!(nominate);
        let mut acked = false;
        loop {
            tokio::select! {
                nominated = &mut nominate => break nominated,
                answer = &mut ack, if !acked => {
                    answer.map_err(TransferError::OfferIq)?;
                    let _ = rtt.set(sent.elapsed());
                    acked = true;
                }
            }
        }
    };
    if rtt.get().is_none() {
        // Measured for the unannounced-checksum wait, later; the data need not wait.
        tokio::spawn(async move {
            if ack.await.is_ok() {
                let _ = rtt.set(sent.elapsed());
            }
        });
    }
    nominated
}

/// The data over the nominated socket. With no checksum announced, most senders send
/// none (Dino, xft --no-hash): then a regular file is not hashed while it arrives (the
/// kernel copies it), and a checksum that comes anyway is checked by reading it back.
async fn receive_s5b(
    js: &mut JingleSession,
    socket: tokio::net::TcpStream,
    file: &FileDesc,
    into: Into<'_>,
    progress: Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    let started = Instant::now();
    progress.start(&file.name, file.size, METHOD_S5B);
    progress.advance(file.size - into.size);
    let announced = file.checkable_hash().is_some() || file.hash_used.is_some();
    let resumed = into.size < file.size;
    let hash_now = announced || resumed || !into.output.can_be_reread();
    let algorithm = into.hasher.algorithm();
    let want = (into.size, hash_now.then_some(into.hasher));
    let received = data::receive_socket(js, socket, into.output, want, progress.clone()).await;
    progress.finish(received.is_ok());
    let (bytes, digest) = received?;
    Ok(Received {
        bytes,
        hash: digest.map(|d| (algorithm, d)),
        started,
        method: METHOD_S5B,
    })
}

/// The in-band data, carried on the session's route.
async fn receive_ibb(
    js: &mut JingleSession,
    file: &FileDesc,
    into: Into<'_>,
    progress: Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    let started = Instant::now();
    progress.start(&file.name, file.size, METHOD_IBB);
    progress.advance(file.size - into.size);
    let algorithm = into.hasher.algorithm();
    let want = (into.size, into.hasher);
    let received = data::receive_ibb(js, into.output, want, progress.clone()).await;
    progress.finish(received.is_ok());
    let (bytes, digest) = received?;
    Ok(Received {
        bytes,
        hash: Some((algorithm, digest)),
        started,
        method: METHOD_IBB,
    })
}

/// After our candidate-error (or with it pending): the initiator's transport-replace to
/// IBB, accepted with transport-accept (its bytestream carried on the session's route
/// from then on), or its session-terminate.
async fn replaced_by_ibb(
    js: &mut JingleSession,
    mut pending: Option<Jingle>,
) -> Result<(), TransferError> {
    loop {
        let jingle = match pending.take() {
            Some(jingle) => jingle,
            None => {
                js.next_or_end("no transport-replace to IBB after our candidate-error")
                    .await?
            }
        };
        match jingle.action {
            Action::TransportReplace => {
                let replacement = jingle
                    .contents
                    .iter()
                    .find_map(|c| Some((c.clone(), Ibb::from_element(c.transport.as_ref()?)?)));
                let Some((content, ibb)) = replacement else {
                    let mut reject = Jingle::new(Action::TransportReject, &js.sid);
                    reject.contents = jingle.contents.clone();
                    js.notify(&reject).await;
                    continue;
                };
                js.carry_ibb(&ibb.sid);
                let accept = Jingle::about(
                    Action::TransportAccept,
                    &js.sid,
                    content.with_transport(ibb.to_element()),
                );
                js.request(&accept).await.map_err(TransferError::OfferIq)?;
                return Ok(());
            }
            Action::SessionTerminate => return Err(js.ended_by(&jingle)),
            _ => js.keep(jingle),
        }
    }
}

/// After the data: the checksum (from the offer, or one that came, or the one the offer
/// announced, awaited within `--timeout`) against the hash of what arrived (computed
/// while it came, or by reading the file back). Returns the verified hash; a mismatch
/// ends the session with `media-error`; a resumed file without a checksum is refused.
async fn verify(
    js: &mut JingleSession,
    (offer, output): (&Offer, &Output),
    (digest, algorithm): (Option<(Algorithm, Vec<u8>)>, Algorithm),
    offset: u64,
) -> Result<Option<(Algorithm, Vec<u8>)>, TransferError> {
    let expected = expected_checksum(js, &offer.file).await?;
    let computed = match (digest, &expected) {
        (Some(digest), _) => Some(digest),
        (None, Some((algo, _))) => Some((*algo, data::hash_written(output, *algo).await?)),
        (None, None) => None,
    };
    match (expected, computed) {
        (Some((algo, want)), Some((done, digest))) if algo == done => {
            if file::digest_matches(&digest, &want) {
                return Ok(Some((algo, digest)));
            }
            js.terminate(Reason::MediaError, Some("checksum mismatch"))
                .await;
            Err(TransferError::HashMismatch {
                algo: algo.name(),
                expected: crate::hash::hex(&want),
                actual: crate::hash::hex(&digest),
            })
        }
        (Some((algo, _)), _) => {
            let (used, announced) = (algo.name(), algorithm.name());
            tracing::warn!(
                "the checksum uses {used}, not the announced {announced}: checked the size only"
            );
            Ok(None)
        }
        (None, _) if offset > 0 => {
            // The first part came in an earlier session: only the checksum ties the two.
            js.terminate(Reason::MediaError, Some("no checksum for a resumed file"))
                .await;
            Err(TransferError::ResumeUnverified)
        }
        (None, _) => {
            tracing::info!("the sender sent no checksum: checked the size only");
            Ok(None)
        }
    }
}

/// How long a sender that announced no hash gets to send a checksum after the data:
/// Conversations announces none and sends its `<checksum/>` once the last byte is
/// through (docs/interop.md §4), about one round trip to the peer after it; Dino and
/// `xft --no-hash` send none at all, and should not wait long. Four times the peer's
/// round trip (measured on our session-accept), within these bounds.
const UNANNOUNCED_CHECKSUM_GRACE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(2));

fn unannounced_checksum_grace(peer_rtt: Option<Duration>) -> Duration {
    let (least, most) = UNANNOUNCED_CHECKSUM_GRACE;
    peer_rtt.map_or(most, |rtt| (rtt * 4).clamp(least, most))
}

/// The checksum to check against: the offer's own `<hash/>`, or a `<checksum/>` that
/// came already, or the one that comes within `--timeout` when the offer announced one
/// (`<hash-used/>`), or within [`unannounced_checksum_grace`] when it did not. A sender
/// that ended the session sends none.
async fn expected_checksum(
    js: &mut JingleSession,
    file: &FileDesc,
) -> Result<Option<(Algorithm, Vec<u8>)>, TransferError> {
    if let Some(known) = file.checkable_hash() {
        return Ok(Some(known));
    }
    let came = js
        .kept()
        .iter()
        .find_map(|j| j.payload.iter().find_map(file::read_checksum))
        .and_then(|hashes| file::best_hash(&hashes));
    if came.is_some() || js.kept_end().is_some() {
        return Ok(came);
    }
    let wait = match file.hash_used {
        Some(_) => js.timeout,
        None => js
            .timeout
            .min(unannounced_checksum_grace(js.peer_rtt.get().copied())),
    };
    let until = tokio::time::Instant::now() + wait;
    loop {
        match js.next(until).await {
            Ok(j) if j.action == Action::SessionInfo => {
                if let Some(hashes) = j.payload.iter().find_map(file::read_checksum) {
                    return Ok(file::best_hash(&hashes));
                }
            }
            Ok(j) if j.action == Action::SessionTerminate => {
                return match j.reason.as_ref().and_then(|r| r.0) {
                    Some(Reason::Success) | None => Ok(None),
                    _ => Err(js.ended_by(&j)),
                };
            }
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
    }
}

/// Answers a Jingle request whose session is unknown (XEP-0166 §8).
pub(crate) async fn refuse_unknown(session: &Session, request: &Element) {
    let _ = session
        .reply_error(request, &crate::jingle::unknown_session())
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grace_for_an_unannounced_checksum_follows_the_peer_round_trip() {
        let ms = Duration::from_millis;
        assert_eq!(unannounced_checksum_grace(None), ms(2000));
        assert_eq!(unannounced_checksum_grace(Some(ms(1))), ms(1000));
        assert_eq!(unannounced_checksum_grace(Some(ms(400))), ms(1600));
        assert_eq!(unannounced_checksum_grace(Some(ms(5000))), ms(2000));
    }
}
