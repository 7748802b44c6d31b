//! Sending one file with SI: the offer (XEP-0095 §3.2, XEP-0096 §3), then the chosen
//! bytestream: SOCKS5 as requester (XEP-0065), with in-band bytestreams (XEP-0047) as
//! the fallback under the same sid.

use crate::ns::{SI_FILE_TRANSFER_NS, SI_NS};
use crate::stanza::Condition;
use crate::stanza::IqType;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::SendOptions;
use crate::bytestream::ibb::IbbSender;
use crate::bytestream::s5b::{candidates, requester, S5bError};
use crate::disco;
use crate::jid::FullJid;
use crate::session::{IqError, Session};
use crate::si::{self, FileOffer, StreamMethod};
use crate::stanza::{self, StanzaError};
use crate::transfer::progress::{Metered, Progress};
use crate::transfer::pump;
use crate::transfer::source::Source;
use crate::transfer::{Moved, Report, TransferError};

/// Offers `source` to `to` and sends it over the method the recipient picks.
pub(crate) async fn send_file(
    session: &Session,
    to: &FullJid,
    source: &Source,
    options: &SendOptions,
    progress: Arc<dyn Progress>,
) -> Result<Report, TransferError> {
    let offer = FileOffer {
        sid: stanza::new_id(),
        mime_type: None,
        name: source.name.clone(),
        size: source.size,
        md5: source.md5.clone(),
        date: source.modified.map(si::xep0082_datetime),
        desc: options.desc.clone(),
        methods: options.methods.clone(),
        ranged: true,
    };
    announce_presence_to(session, to).await?;
    tracing::debug!("offering {} ({} bytes) to {to}", source.name, source.size);
    let (chosen, span) = offer_file(session, to, &offer, options.offer_timeout).await?;
    tracing::debug!("offer accepted: {to} chose {chosen:?}, {span:?}");
    let started = Instant::now();
    progress.start(&source.name, source.size, chosen[0].short_name());
    progress.advance(span.offset);
    let result = send_over(
        session,
        to,
        &offer,
        &chosen,
        (source, span),
        options,
        progress.clone(),
    )
    .await;
    progress.finish(result.is_ok());
    let method = result?;
    tracing::debug!("transfer complete over {}", method.short_name());
    let moved = Moved {
        size: source.size,
        protocol: "si",
        method: method.short_name(),
        hash: source.md5.clone().map(|m| (crate::hash::Algorithm::Md5, m)),
        offset: span.offset,
        elapsed: started.elapsed(),
    };
    Ok(Report::sent(&source.name, to).moved(moved))
}

/// Directed presence (RFC 6121 §4.6): the server then tells the recipient when our
/// session ends, so a receiver is not left waiting for bytes from a sender that is gone.
async fn announce_presence_to(session: &Session, to: &FullJid) -> Result<(), TransferError> {
    Ok(session
        .send(stanza::directed_presence(&to.to_string()))
        .await?)
}

/// The part of the file to send: all of it, or what a resuming receiver asked for.
#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    len: u64,
}

/// XEP-0095 §3.2: sends the offer and returns the chosen method(s) and the part of the
/// file asked for (XEP-0096 §3 `<range/>`), mapping each kind of refusal (§4.2) to its
/// own error.
async fn offer_file(
    session: &Session,
    to: &FullJid,
    offer: &FileOffer,
    timeout: Duration,
) -> Result<(Vec<StreamMethod>, Span), TransferError> {
    let request = stanza::iq(IqType::Set, Some(&to.to_string()), offer.to_element());
    match session.iq_timeout(request, timeout).await {
        Ok(answer) => {
            let si = answer
                .get_child("si", SI_NS)
                .ok_or(TransferError::BadAnswer(si::SiError::BadAnswer))?;
            let methods = si::parse_answer(si, &offer.methods).map_err(TransferError::BadAnswer)?;
            let range = si::parse_range(si).map_err(TransferError::BadAnswer)?;
            let span = match range {
                None => Span {
                    offset: 0,
                    len: offer.size,
                },
                Some(range) => Span {
                    offset: range.offset,
                    len: range.span(offer.size).ok_or(TransferError::BadAnswer(
                        si::SiError::Malformed("the requested range is outside the file"),
                    ))?,
                },
            };
            Ok((methods, span))
        }
        Err(IqError::Stanza(e)) => Err(refusal(session, to, offer, e).await),
        Err(IqError::Timeout(t)) => Err(TransferError::OfferTimeout(t)),
        Err(other) => Err(TransferError::OfferIq(other)),
    }
}

async fn refusal(
    session: &Session,
    to: &FullJid,
    offer: &FileOffer,
    e: StanzaError,
) -> TransferError {
    let jid = to.to_string();
    if e.is(Condition::Forbidden) || e.is(Condition::NotAcceptable) || e.is(Condition::NotAllowed) {
        return TransferError::Declined { jid, text: e.text };
    }
    if e.has_app_condition("no-valid-streams", SI_NS) {
        let offered: Vec<&str> = offer.methods.iter().map(|m| m.short_name()).collect();
        return TransferError::NoValidStreams {
            jid,
            offered: offered.join(", "),
        };
    }
    if e.is(Condition::ServiceUnavailable)
        || e.is(Condition::FeatureNotImplemented)
        || e.is(Condition::ItemNotFound)
    {
        // Either the resource is gone (the server answers) or the client lacks SI (it
        // answers): disco#info tells which.
        return match disco::info(session, to.as_jid()).await {
            Ok(info) if !info.has_feature(SI_FILE_TRANSFER_NS) => TransferError::NoFileTransfer {
                jid,
                protocol: "SI file transfer (XEP-0096)",
            },
            Ok(_) => TransferError::OfferRefused(e),
            Err(_) => TransferError::RecipientUnavailable { jid, error: e },
        };
    }
    if e.is(Condition::RecipientUnavailable) || e.is(Condition::RemoteServerNotFound) {
        return TransferError::RecipientUnavailable { jid, error: e };
    }
    TransferError::OfferRefused(e)
}

/// Sends over the chosen method; when S5B fails before the first byte and IBB was
/// offered, falls back to IBB under the same sid (as Pidgin does: docs/interop.md §1).
/// Returns the method that carried the file.
async fn send_over(
    session: &Session,
    to: &FullJid,
    offer: &FileOffer,
    chosen: &[StreamMethod],
    what: (&Source, Span),
    options: &SendOptions,
    progress: Arc<dyn Progress>,
) -> Result<StreamMethod, TransferError> {
    if chosen[0] == StreamMethod::Ibb {
        send_ibb(session, to, &offer.sid, what, options, progress).await?;
        return Ok(StreamMethod::Ibb);
    }
    let s5b_error = match send_s5b(session, to, &offer.sid, what, options, progress.clone()).await {
        Ok(()) => return Ok(StreamMethod::Socks5),
        Err(SendS5bError::Negotiation(e)) => e,
        Err(SendS5bError::Transfer(e)) => return Err(e),
    };
    if !offer.methods.contains(&StreamMethod::Ibb) {
        return Err(TransferError::S5b(s5b_error));
    }
    tracing::warn!("SOCKS5 bytestream failed ({s5b_error}); falling back to in-band bytestream");
    progress.switch_method(StreamMethod::Ibb.short_name());
    match send_ibb(session, to, &offer.sid, what, options, progress).await {
        Ok(()) => Ok(StreamMethod::Ibb),
        Err(ibb) => Err(TransferError::FallbackFailed {
            s5b: s5b_error,
            ibb: Box::new(ibb),
        }),
    }
}

/// An S5B failure before any byte moved (fall back), or after (do not).
enum SendS5bError {
    Negotiation(S5bError),
    Transfer(TransferError),
}

/// XEP-0065: negotiate a connection, then copy the file into it.
async fn send_s5b(
    session: &Session,
    to: &FullJid,
    sid: &str,
    what: (&Source, Span),
    options: &SendOptions,
    progress: Arc<dyn Progress>,
) -> Result<(), SendS5bError> {
    let s5b = &options.s5b;
    let listeners = if s5b.direct {
        candidates::bind(session.jid(), &s5b.addresses, s5b.port)
            .map_err(SendS5bError::Negotiation)?
    } else {
        Vec::new()
    };
    let proxies = s5b.proxies(session).await;
    // Registered before the target can connect, so its going away is never missed.
    let gone = crate::bytestream::peer_gone(session, to.as_jid());
    let (socket, host) = requester::connect(session, to, sid, listeners, &proxies, s5b.wait)
        .await
        .map_err(SendS5bError::Negotiation)?;
    tracing::debug!("S5B via {} ({}:{})", host.jid, host.host, host.port);
    send_over_socket(socket, what, options.timeout, gone, progress)
        .await
        .map_err(SendS5bError::Transfer)
}

/// The S5B data phase as sender: the file (from the span's offset) into the socket,
/// hashing what is actually sent, plus a skipped prefix, when the offer carried a hash
/// (the file may change after it was hashed), with `stall` as the deadline for any
/// write and the receiver's presence watched.
async fn send_over_socket(
    socket: tokio::net::TcpStream,
    (source, span): (&Source, Span),
    stall: Duration,
    gone: impl std::future::Future<Output = ()>,
    progress: Arc<dyn Progress>,
) -> Result<(), TransferError> {
    let (file, crc) = open_at(source, span.offset, source.crc32.is_some()).await?;
    let check = crc.map_or(pump::Check::None, pump::Check::Crc32);
    let broken = |sent, e| TransferError::StreamBroken {
        sent,
        size: span.len,
        source: e,
    };
    let (blocking, handle) = pump::blocking_socket(socket, stall).map_err(|e| broken(0, e))?;
    let pumped = pump::copy_unless_gone(
        (file, blocking),
        span.len,
        progress,
        check,
        (&handle, stall),
        gone,
    )
    .await
    .map_err(|e| {
        crate::transfer::transfer_error(
            e,
            span.len,
            stall,
            crate::transfer::Ends::Sending(&source.path),
        )
    })?;
    let sent = pumped.bytes;
    if sent < span.len {
        let e = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file shrank while being sent",
        );
        return Err(source_error(source, e));
    }
    if let (Some(expected), Some(actual)) = (source.crc32, pumped.crc32) {
        if expected != actual {
            return Err(TransferError::SourceChanged {
                expected: format!("{expected:08x}"),
                actual: format!("{actual:08x}"),
            });
        }
    }
    let _ = handle.set_nonblocking(true);
    let mut socket = tokio::net::TcpStream::from_std(handle).map_err(|e| broken(sent, e))?;
    socket.shutdown().await.map_err(|e| broken(sent, e))?;
    // The receiver closes once it has every byte; a reset here means it did not.
    let mut probe = [0u8; 1];
    let wait = stall.min(Duration::from_secs(10));
    match tokio::time::timeout(wait, socket.read(&mut probe)).await {
        Ok(Err(e)) => Err(broken(sent, e)),
        _ => Ok(()),
    }
}

fn source_error(source: &Source, e: std::io::Error) -> TransferError {
    TransferError::Source(crate::transfer::source::SourceError::Io {
        path: source.path.clone(),
        source: e,
    })
}

/// XEP-0047 over the whole file.
async fn send_ibb(
    session: &Session,
    to: &FullJid,
    sid: &str,
    (source, span): (&Source, Span),
    options: &SendOptions,
    progress: Arc<dyn Progress>,
) -> Result<(), TransferError> {
    let (file, _) = open_at(source, span.offset, false).await?;
    let mut reader = Metered::new(
        tokio::io::BufReader::with_capacity(256 * 1024, tokio::fs::File::from_std(file)),
        progress,
        None,
    );
    let mut ibb = IbbSender::open(
        session,
        to.as_jid(),
        sid,
        options.block_size,
        options.timeout,
    )
    .await?;
    match ibb.send(&mut reader, span.len, options.window).await {
        Ok(_) => Ok(ibb.close().await?),
        Err(e) => {
            ibb.abort().await;
            Err(e.into())
        }
    }
}

/// Opens the file positioned at `offset`: by reading the skipped prefix into a CRC-32
/// when `check` (the sender's own check covers the whole file), by seeking otherwise.
async fn open_at(
    source: &Source,
    offset: u64,
    check: bool,
) -> Result<(std::fs::File, Option<crc32fast::Hasher>), TransferError> {
    let path = source.path.clone();
    let opened = tokio::task::spawn_blocking(move || {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::open(&path)?;
        if check {
            let crc = crate::hash::crc_prefix(&mut file, offset)?;
            return Ok((file, Some(crc)));
        }
        file.seek(SeekFrom::Start(offset))?;
        Ok((file, None))
    })
    .await
    .map_err(|e| source_error(source, std::io::Error::other(e.to_string())))?;
    opened.map_err(|e| source_error(source, e))
}
