//! Sending one file as the initiator of a Jingle session (XEP-0234 §5): the offer with
//! a SOCKS5 transport (XEP-0260) when `--method` allows it, else in-band (XEP-0261);
//! IBB replaces SOCKS5 when no candidate works (XEP-0166 §7.2.11); the checksum after
//! the data (XEP-0234 §8.2); the receiver ends the session.

use std::sync::Arc;
use std::time::Instant;

use crate::bytestream::StreamMethod;
use crate::jid::FullJid;
use crate::jingle::file::{self, FileDesc};
use crate::jingle::transport::Ibb;
use crate::jingle::{Action, Content, Jingle, Reason};
use crate::session::{IqError, PendingResult, Session};
use crate::stanza;
use crate::transfer::jingle::data::{self, Outgoing};
use crate::transfer::jingle::negotiation::{self, Nominated, OurCandidates, Role};
use crate::transfer::jingle::session::{JingleSession, Wait};
use crate::transfer::jingle::{CONTENT_NAME, METHOD_IBB, METHOD_S5B, SENDER_HASH};
use crate::transfer::progress::Progress;
use crate::transfer::send::SendOptions;
use crate::transfer::source::Source;
use crate::transfer::{Moved, Report, TransferError};

/// How the data will go: the nominated SOCKS5 socket, or IBB with this block size.
enum DataPath {
    S5b(tokio::net::TcpStream),
    Ibb(usize),
}

/// Offers `source` to `to` and sends it; returns the report once the receiver ended
/// the session (or kept silent for `--timeout` after the checksum).
pub(crate) async fn send_file(
    session: &Session,
    to: &FullJid,
    source: &Source,
    options: &SendOptions,
    progress: Arc<dyn Progress>,
) -> Result<Report, TransferError> {
    let sid = stanza::new_id();
    // Routed before the offer leaves, so the answer cannot slip past.
    let mut js = JingleSession::open(session, to, &sid, options.timeout);
    let ibb = Ibb {
        sid: stanza::new_id(),
        block_size: u16::try_from(options.block_size.clamp(1, 65535)).unwrap_or(4096),
    };
    let s5b = match options.methods.contains(&StreamMethod::Socks5) {
        // Offered even without a candidate of ours: the receiver's may work (XEP-0260
        // §2.2, a sender behind NAT); if none does, IBB replaces it.
        true => Some(OurCandidates::prepare(&js, &options.s5b, &stanza::new_id()).await),
        false => None,
    };
    let ibb_allowed = options.methods.contains(&StreamMethod::Ibb);
    if s5b.is_none() && !ibb_allowed {
        return Err(crate::bytestream::s5b::S5bError::NothingToOffer.into());
    }
    let content = offer_content(
        source,
        options,
        s5b.as_ref()
            .map_or_else(|| ibb.to_element(), OurCandidates::element),
    );
    let accept = offer_unless_withdrawn(&mut js, &content, options).await?;
    let offset = match accepted_offset(&accept, source.size) {
        Ok(offset) => offset,
        Err(why) => {
            js.terminate(Reason::FailedApplication, Some(why)).await;
            return Err(TransferError::JingleProtocol(why));
        }
    };
    if offset > 0 {
        let name = crate::text::printable(&source.name);
        tracing::info!("{to} resumes '{name}' from byte {offset}");
    }
    let path = data_path(&mut js, &content, &accept, (s5b, &ibb, ibb_allowed)).await?;
    let out = Outgoing {
        source,
        offset,
        verify: options.verify,
    };
    let started = Instant::now();
    let (method, digest) = send_data(&mut js, path, out, (&ibb, options), progress).await?;
    // A receiver that ended the session already will not read a checksum.
    let mut checksum = match (&digest, js.kept_end()) {
        (Some(digest), None) => send_checksum(&js, digest, options.hex_checksum().await).await,
        _ => None,
    };
    let ended_by_receiver = wait_for_end(&mut js).await?;
    let checked = ended_by_receiver && acknowledged(checksum.as_mut());
    if digest.is_some() && !checked {
        tracing::warn!(
            "{to} ended the session without taking our checksum: it checked the size only"
        );
    }
    let moved = Moved {
        size: source.size,
        protocol: "jingle",
        method,
        hash: digest
            .filter(|_| checked)
            .map(|d| (SENDER_HASH, crate::hash::hex(&d))),
        offset,
        elapsed: started.elapsed(),
    };
    Ok(Report::sent(&source.name, to).moved(moved))
}

/// The one content of the offer: the file (XEP-0234 §4) and the transport.
fn offer_content(
    source: &Source,
    options: &SendOptions,
    transport: crate::xml::Element,
) -> Content {
    let file = FileDesc {
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
    Content {
        creator: "initiator".into(),
        name: CONTENT_NAME.into(),
        senders: Some("initiator".into()),
        description: Some(file.to_description()),
        transport: Some(transport),
    }
}

/// [`offer`], withdrawn (XEP-0166 §6.7, reason `cancel`) when the disco#info answer
/// that comes beside it says the peer does not speak Jingle (`SendOptions::later`):
/// a peer that ignores what it does not know must not hold us until `--timeout`.
async fn offer_unless_withdrawn(
    js: &mut JingleSession,
    content: &Content,
    options: &SendOptions,
) -> Result<Jingle, TransferError> {
    let answered = {
        let offered = offer(js, content);
        tokio::pin!(offered);
        tokio::select! {
            answer = &mut offered => Some(answer),
            () = options.withdrawn() => None,
        }
    };
    if let Some(answer) = answered {
        return answer;
    }
    js.terminate(
        Reason::Cancel,
        Some("the recipient does not speak Jingle file transfer"),
    )
    .await;
    Err(TransferError::NoFileTransfer {
        jid: js.peer.to_string(),
        protocol: "Jingle file transfer (XEP-0234)",
    })
}

/// §6.2-§6.4: session-initiate (after directed presence, so the receiver hears at once
/// should we vanish), then the receiver's session-accept within `--timeout`. Requests
/// that come first (libervia's candidate-used can) are kept.
async fn offer(js: &mut JingleSession, content: &Content) -> Result<Jingle, TransferError> {
    let to = js.peer.to_string();
    js.session.send(stanza::directed_presence(&to)).await?;
    let mut initiate = Jingle::about(Action::SessionInitiate, &js.sid, content.clone());
    initiate.initiator = Some(js.session.jid().to_string());
    match js.request(&initiate).await {
        Ok(_) => {}
        Err(IqError::Stanza(e)) => return Err(TransferError::OfferRefused(e)),
        Err(IqError::Timeout(t)) => return Err(TransferError::OfferTimeout(t)),
        Err(e) => return Err(TransferError::OfferIq(e)),
    }
    tracing::debug!(
        "Jingle session {} offered to {to}; waiting for session-accept",
        js.sid
    );
    let until = tokio::time::Instant::now() + js.timeout;
    loop {
        let jingle = match js.next(until).await {
            Ok(jingle) => jingle,
            Err(Wait::Timeout) => {
                js.terminate(Reason::Timeout, None).await;
                return Err(TransferError::OfferTimeout(js.timeout));
            }
            Err(Wait::Gone) => return Err(TransferError::PeerGone { sent: 0, size: 0 }),
        };
        match jingle.action {
            Action::SessionAccept => return Ok(jingle),
            Action::SessionTerminate => return Err(js.ended_by(&jingle)),
            _ => js.keep(jingle),
        }
    }
}

/// §7: where the responder's session-accept asks the data to start (0 without a
/// `<range/>`). xft's checksum covers the whole file, so a range must run to its end.
pub(crate) fn accepted_offset(accept: &Jingle, size: u64) -> Result<u64, &'static str> {
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

/// The block size of an accepted IBB transport: the responder may lower it, not raise
/// it or change the sid (XEP-0261 §2.1); no transport in the answer keeps ours.
fn accepted_block_size(answer: &Jingle, offered: &Ibb) -> Option<usize> {
    let answered = answer
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

/// The transport the data will take: the nominated SOCKS5 socket, or IBB (offered from
/// the start, or after replacing a SOCKS5 transport nothing could use).
async fn data_path(
    js: &mut JingleSession,
    content: &Content,
    accept: &Jingle,
    (s5b, ibb, ibb_allowed): (Option<OurCandidates>, &Ibb, bool),
) -> Result<DataPath, TransferError> {
    let Some(ours) = s5b else {
        return match accepted_block_size(accept, ibb) {
            Some(block) => Ok(DataPath::Ibb(block)),
            None => {
                js.terminate(Reason::IncompatibleParameters, None).await;
                Err(TransferError::JingleProtocol(
                    "the session-accept changed the IBB sid or raised the block size",
                ))
            }
        };
    };
    let offered = accept
        .contents
        .iter()
        .find_map(|c| c.transport.as_ref())
        .map(crate::jingle::transport::s5b_candidates)
        .unwrap_or_default();
    let why = match negotiation::nominate(js, Role::Initiator, content, (ours, offered)).await? {
        Nominated::Socket(socket) => return Ok(DataPath::S5b(socket)),
        Nominated::Nothing(why) => why,
        // Only a responder sees a replacement: the initiator makes them.
        Nominated::Replaced(_) => "the receiver replaced the transport".into(),
    };
    if !ibb_allowed {
        js.terminate(Reason::FailedTransport, Some(&why)).await;
        return Err(TransferError::JingleProtocol(
            "no SOCKS5 candidate worked and --method excludes IBB",
        ));
    }
    tracing::warn!(
        "Jingle SOCKS5 failed ({why}); replacing the transport with in-band bytestreams"
    );
    replace_with_ibb(js, content, ibb).await.map(DataPath::Ibb)
}

/// XEP-0166 §7.2.11 / XEP-0260 §3: replaces the failed SOCKS5 transport with IBB and
/// waits for transport-accept; returns the block size.
async fn replace_with_ibb(
    js: &mut JingleSession,
    content: &Content,
    ibb: &Ibb,
) -> Result<usize, TransferError> {
    let replace = Jingle::about(
        Action::TransportReplace,
        &js.sid,
        content.with_transport(ibb.to_element()),
    );
    js.request(&replace).await.map_err(TransferError::OfferIq)?;
    loop {
        let jingle = js.next_or_end("no answer to transport-replace").await?;
        match jingle.action {
            Action::TransportAccept => {
                return accepted_block_size(&jingle, ibb).ok_or(TransferError::JingleProtocol(
                    "the transport-accept changed the IBB transport",
                ))
            }
            Action::TransportReject => {
                js.terminate(Reason::FailedTransport, None).await;
                return Err(TransferError::JingleProtocol(
                    "the receiver rejected in-band bytestreams",
                ));
            }
            Action::SessionTerminate => return Err(js.ended_by(&jingle)),
            _ => js.keep(jingle),
        }
    }
}

/// The data over the chosen path, with its progress; a failure ends the session at once
/// (`failed-transport`, with the cause). Returns the method and the digest.
async fn send_data(
    js: &mut JingleSession,
    path: DataPath,
    out: Outgoing<'_>,
    (ibb, options): (&Ibb, &SendOptions),
    progress: Arc<dyn Progress>,
) -> Result<(&'static str, Option<Vec<u8>>), TransferError> {
    let method = match path {
        DataPath::S5b(_) => METHOD_S5B,
        DataPath::Ibb(_) => METHOD_IBB,
    };
    progress.start(&out.source.name, out.source.size, method);
    progress.advance(out.offset);
    let sent = match path {
        DataPath::S5b(socket) => data::send_socket(js, socket, out, progress.clone()).await,
        DataPath::Ibb(block) => {
            let ibb = (ibb.sid.as_str(), block, options.window);
            data::send_ibb(js, out, ibb, progress.clone()).await
        }
    };
    progress.finish(sent.is_ok());
    match sent {
        Ok(digest) => Ok((method, digest)),
        Err(e) => {
            if !matches!(
                e,
                TransferError::Terminated { .. } | TransferError::Declined { .. }
            ) {
                js.terminate(Reason::FailedTransport, Some(&e.to_string()))
                    .await;
            }
            Err(e)
        }
    }
}

/// XEP-0234 §8.2: the checksum in a session-info, not waited for: its acknowledgement
/// and the receiver's session-terminate come within one `--timeout` (see
/// [`wait_for_end`]). To libervia as it reads it (base64 of the hex digest).
async fn send_checksum(js: &JingleSession, digest: &[u8], hex: bool) -> Option<PendingResult> {
    let text;
    let encoded: &[u8] = if hex {
        text = crate::hash::hex(digest);
        text.as_bytes()
    } else {
        digest
    };
    let mut info = Jingle::new(Action::SessionInfo, &js.sid);
    info.payload.push(file::checksum(
        "initiator",
        CONTENT_NAME,
        SENDER_HASH.name(),
        encoded,
    ));
    js.notify(&info).await
}

/// Whether the receiver acknowledged our checksum before it ended the session: one
/// that checks it does (and answers in order, so the answer is here by now).
/// Conversations ends the session once the last byte is in, before our checksum, and
/// answers it as a request for an unknown session (docs/interop.md §4): then the
/// receiver checked the size only, and the report says so (no hash).
fn acknowledged(checksum: Option<&mut PendingResult>) -> bool {
    checksum
        .and_then(PendingResult::try_answer)
        .is_some_and(|answer| answer.is_ok())
}

/// After the data: the receiver ends the session (success, or why not), within one
/// `--timeout`; a `<received/>` on the way is acknowledged. Without an answer in time,
/// we end it. Returns whether the receiver ended it with success.
async fn wait_for_end(js: &mut JingleSession) -> Result<bool, TransferError> {
    if let Some(end) = js.kept_end().cloned() {
        return ended_well(js, &end);
    }
    let until = tokio::time::Instant::now() + js.timeout;
    loop {
        match js.next(until).await {
            Ok(j) if j.action == Action::SessionTerminate => return ended_well(js, &j),
            Ok(_) => {}
            Err(Wait::Timeout) => {
                js.terminate(Reason::Success, None).await;
                return Ok(false);
            }
            // Every byte was acknowledged and the checksum sent: a receiver that
            // leaves now had the whole file.
            Err(Wait::Gone) => return Ok(false),
        }
    }
}

fn ended_well(js: &JingleSession, end: &Jingle) -> Result<bool, TransferError> {
    match end.reason.as_ref().and_then(|r| r.0) {
        Some(Reason::Success) | None => Ok(true),
        _ => Err(js.ended_by(end)),
    }
}
