//! Receiving one file offered with SI (XEP-0095 stream initiation, XEP-0096 file
//! profile): the offer read and answered (§3.2, §4.2), then the chosen bytestream: SOCKS5
//! as target (XEP-0065), with the sender's in-band fallback (XEP-0047) awaited beside
//! it; the byte count and MD5 checked before the rename, and the IBB close answered
//! only then.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::destination::{self, Offered, Opened, Resumable};
use super::RecvOptions;
use crate::bytestream::ibb::{CloseRequest, IbbError, IbbReceiver};
use crate::bytestream::s5b::target::S5bTarget;
use crate::hash::{Algorithm, Hasher};
use crate::jid::{FullJid, Jid};
use crate::ns::SI_NS;
use crate::session::Session;
use crate::si::{self, FileOffer, SiError, StreamMethod};
use crate::stanza::{self, Condition, ErrorType, StanzaError};
use crate::transfer::progress::{Metered, Progress};
use crate::transfer::pump::{self, Check};
use crate::transfer::sink::{discard_if_empty, finish_target, Output};
use crate::transfer::Ends;
use crate::transfer::{Moved, Report, TransferError};
use crate::xml::Element;

/// Stream methods this receiver can use, best first.
const SUPPORTED: [StreamMethod; 2] = [StreamMethod::Socks5, StreamMethod::Ibb];

/// After S5B failed, how long to wait for the sender's IBB fallback (Pidgin: 30 s).
const FALLBACK_WAIT: Duration = Duration::from_secs(30);

/// An SI offer that reads well and has a stream method in common.
pub(crate) struct SiOffer {
    pub(crate) request: Element,
    pub(crate) from: FullJid,
    pub(crate) offer: FileOffer,
    method: StreamMethod,
}

/// Reads the SI offer in `request`; one that cannot be taken (no full JID, malformed,
/// no stream method in common) is answered with the error XEP-0095 §4.2 names, and
/// `None` returned.
pub(crate) async fn read(
    session: &Session,
    request: Element,
) -> Result<Option<SiOffer>, TransferError> {
    let from = request
        .get_attr("from")
        .and_then(|f| Jid::parse(f).ok())
        .and_then(|j| j.to_full());
    let Some(from) = from else {
        let error = StanzaError::new(ErrorType::Modify, Condition::BadRequest);
        session.reply_error(&request, &error).await?;
        return Ok(None);
    };
    let offer = match request.get_child("si", SI_NS).map(FileOffer::from_element) {
        Some(Ok(offer)) => offer,
        Some(Err(e)) => {
            tracing::warn!("refusing a malformed offer from {from}: {e}");
            session.reply_error(&request, &offer_error(&e)).await?;
            return Ok(None);
        }
        None => return Ok(None),
    };
    let Some(method) = SUPPORTED.into_iter().find(|m| offer.methods.contains(m)) else {
        let error = offer_error(&SiError::NoValidStreams);
        session.reply_error(&request, &error).await?;
        return Ok(None);
    };
    Ok(Some(SiOffer {
        request,
        from,
        offer,
        method,
    }))
}

/// XEP-0095 §4.2 errors for offers that cannot be parsed.
fn offer_error(e: &SiError) -> StanzaError {
    let bad_request = StanzaError::new(ErrorType::Cancel, Condition::BadRequest);
    match e {
        SiError::BadProfile(_) => bad_request.with_app_condition("bad-profile", SI_NS),
        SiError::NoValidStreams => bad_request.with_app_condition("no-valid-streams", SI_NS),
        SiError::Malformed(_) | SiError::BadAnswer => bad_request.with_text(e.to_string()),
    }
}

/// §4.2: the offer declined, with the policy's reason.
pub(crate) async fn decline(
    session: &Session,
    si: &SiOffer,
    text: &str,
) -> Result<(), TransferError> {
    let name = crate::text::printable(&si.offer.name);
    tracing::warn!(
        "declined '{name}' ({} bytes) from {}: {text}",
        si.offer.size,
        si.from
    );
    let error = StanzaError::new(ErrorType::Cancel, Condition::Forbidden).with_text(text);
    Ok(session.reply_error(&si.request, &error).await?)
}

/// What the bytestream must deliver: `len` bytes (the whole file, or the rest of a
/// resumed one), hashed on top of `hasher` when the offer carried an MD5.
struct Expect {
    len: u64,
    hasher: Option<Hasher>,
}

/// What a bytestream delivered.
struct Received {
    bytes: u64,
    /// The IBB close still to be answered (None for S5B).
    close: Option<CloseRequest>,
    method: StreamMethod,
    /// The MD5 of the bytes, computed when the offer carried one to check against.
    md5: Option<String>,
}

/// Accepts the offer and receives the file.
pub(crate) async fn receive(
    session: &Session,
    si: SiOffer,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<Option<Report>, TransferError> {
    let SiOffer {
        request,
        from,
        offer,
        method,
    } = si;
    let file = Offered {
        name: &offer.name,
        size: offer.size,
        ranged: offer.ranged,
    };
    let key = offer.md5.as_ref().map(|md5| Resumable {
        identity: md5.clone(),
        algorithm: Algorithm::Md5,
    });
    let opened = match destination::open(&from, file, key, options).await {
        Ok(opened) => opened,
        Err(e) => {
            let error = StanzaError::new(ErrorType::Cancel, Condition::InternalServerError)
                .with_text("cannot store the file");
            session.reply_error(&request, &error).await?;
            return Err(e);
        }
    };
    let offset = opened.offset;
    let started = Instant::now();
    let (received, target) = accept_and_receive(
        session,
        (&request, &from, &offer),
        method,
        opened,
        options,
        progress,
    )
    .await?;
    let verdict = match verify(&offer, offset + received.bytes, received.md5.as_deref()) {
        Ok(()) => finish_target(target, &options.registry),
        Err(e) => {
            discard_if_empty(&target, &options.registry);
            Err(e)
        }
    };
    let path = match verdict {
        Ok(path) => path,
        Err(e) => {
            if let Some(close) = received.close {
                close.refuse(&e.to_string()).await;
            }
            return Err(e);
        }
    };
    if let Some(close) = received.close {
        close.acknowledge().await;
    }
    let moved = Moved {
        size: offset + received.bytes,
        protocol: "si",
        method: received.method.short_name(),
        hash: received.md5.map(|m| (Algorithm::Md5, m)),
        offset,
        elapsed: started.elapsed(),
    };
    Ok(Some(
        Report::received(&offer.name, offer.desc.clone(), &from, path).moved(moved),
    ))
}

/// Answers the offer (with the rest's range when resuming) and receives over the chosen
/// bytestream; returns what arrived and the target (not yet judged).
async fn accept_and_receive(
    session: &Session,
    (request, from, offer): (&Element, &FullJid, &FileOffer),
    method: StreamMethod,
    opened: Opened,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<(Received, crate::transfer::sink::Target), TransferError> {
    let Opened {
        target,
        output,
        offset,
        hasher,
    } = opened;
    // Route the bytestreams before accepting, so their first stanza cannot slip past.
    // The IBB route also catches the fallback after a failed S5B attempt.
    let mut ibb = IbbReceiver::listen(session, from.as_jid(), &offer.sid);
    let mut s5b =
        (method == StreamMethod::Socks5).then(|| S5bTarget::listen(session, from, &offer.sid));
    let answer = match offset {
        0 => si::answer_element(method),
        _ => si::answer_with_offset(method, offset),
    };
    // Directed presence first: should we vanish, the sender hears it at once.
    session
        .send(stanza::directed_presence(&from.to_string()))
        .await?;
    session
        .send(stanza::iq_result(request).child(answer))
        .await?;
    progress.start(&offer.name, offer.size, method.short_name());
    progress.advance(offset);
    let expect = Expect {
        len: offer.size - offset,
        hasher,
    };
    let streams = Streams {
        session,
        from,
        ibb: &mut ibb,
        output: &output,
        timeout: options.timeout,
    };
    let outcome = match s5b.as_mut() {
        Some(s5b) => s5b_or_fallback(streams, s5b, &expect, &progress).await,
        None => streams.ibb_whole(&expect, options.timeout, &progress).await,
    };
    progress.finish(outcome.is_ok());
    match outcome {
        Ok(received) => Ok((received, target)),
        Err(e) => {
            discard_if_empty(&target, &options.registry);
            Err(e)
        }
    }
}

/// The bytestreams of one SI transfer.
struct Streams<'a> {
    session: &'a Session,
    from: &'a FullJid,
    ibb: &'a mut IbbReceiver,
    output: &'a Output,
    timeout: Duration,
}

/// XEP-0065 as target. The sender may open IBB on the same sid instead: after we
/// answered `item-not-found`, or at any moment if it had nothing to offer, so the IBB
/// open is awaited alongside the streamhost offer.
async fn s5b_or_fallback(
    mut streams: Streams<'_>,
    target: &mut S5bTarget,
    expect: &Expect,
    progress: &Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    // Watch for the sender going away from now on: it may log out the moment it has
    // written its last byte, before the socket is even handed to the copy.
    let gone = crate::bytestream::peer_gone(streams.session, streams.from.as_jid());
    let timeout = streams.timeout;
    let s5b_error = tokio::select! {
        accepted = target.accept(timeout) => match accepted {
            Ok((socket, host)) => {
                tracing::debug!("S5B via {} ({}:{})", host.jid, host.host, host.port);
                return from_socket(socket, streams.output, expect, timeout, gone, progress).await;
            }
            Err(e) => e,
        },
        opened = streams.ibb.accept_open(timeout) => {
            opened?;
            tracing::warn!("the sender skipped SOCKS5 and opened an in-band bytestream");
            progress.switch_method(StreamMethod::Ibb.short_name());
            return streams.ibb_data(expect, progress).await;
        }
    };
    tracing::warn!("SOCKS5 bytestream failed ({s5b_error}); waiting for an in-band fallback");
    progress.switch_method(StreamMethod::Ibb.short_name());
    let wait = FALLBACK_WAIT.min(timeout);
    match streams.ibb_whole(expect, wait, progress).await {
        Ok(received) => Ok(received),
        Err(ibb_error) => Err(TransferError::FallbackFailed {
            s5b: s5b_error,
            ibb: Box::new(ibb_error),
        }),
    }
}

/// The S5B data: exactly `size` bytes from the socket, by the blocking pump, under the
/// stall rule, with the sender's presence watched. A local write failure drops the
/// socket, which resets the sender's side at once.
async fn from_socket(
    socket: tokio::net::TcpStream,
    output: &Output,
    expect: &Expect,
    stall: Duration,
    gone: impl std::future::Future<Output = ()>,
    progress: &Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    let broken = |source| TransferError::StreamBroken {
        sent: 0,
        size: expect.len,
        source,
    };
    let (socket, handle) = pump::blocking_socket(socket, stall).map_err(broken)?;
    let writer = output.blocking_writer().map_err(|e| output.sink_error(e))?;
    let checked = Check::hash(expect.hasher.clone());
    let copy = pump::copy_unless_gone(
        (socket, writer),
        expect.len,
        progress.clone(),
        checked,
        (&handle, stall),
        gone,
    );
    let pumped = copy.await.map_err(|e| {
        crate::transfer::transfer_error(e, expect.len, stall, Ends::Receiving(output))
    })?;
    Ok(Received {
        bytes: pumped.bytes,
        close: None,
        method: StreamMethod::Socks5,
        md5: pumped.hash.map(|digest| crate::hash::hex(&digest)),
    })
}

impl Streams<'_> {
    /// XEP-0047 as responder: the open within `wait`, then the data.
    async fn ibb_whole(
        mut self,
        expect: &Expect,
        wait: Duration,
        progress: &Arc<dyn Progress>,
    ) -> Result<Received, TransferError> {
        self.ibb.accept_open(wait).await?;
        self.ibb_data(expect, progress).await
    }

    /// XEP-0047 §2.2: the blocks into the output, hashed; the close is left to answer
    /// once the file is judged.
    async fn ibb_data(
        &mut self,
        expect: &Expect,
        progress: &Arc<dyn Progress>,
    ) -> Result<Received, TransferError> {
        let writer = self
            .output
            .async_writer()
            .map_err(|e| TransferError::Ibb(IbbError::Write(e)))?;
        let mut writer = Metered::new(writer, progress.clone(), expect.hasher.clone());
        let (bytes, close) = match self
            .ibb
            .receive(&mut writer, expect.len, self.timeout)
            .await
        {
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
            return Err(TransferError::Ibb(IbbError::Write(e)));
        }
        Ok(Received {
            bytes,
            close: Some(close),
            method: StreamMethod::Ibb,
            md5: writer.hash_hex(),
        })
    }
}

/// The file is whole only if the byte count and (when offered) the MD5 match.
fn verify(offer: &FileOffer, bytes: u64, md5: Option<&str>) -> Result<(), TransferError> {
    if bytes != offer.size {
        return Err(TransferError::Incomplete {
            received: bytes,
            expected: offer.size,
        });
    }
    match &offer.md5 {
        Some(expected) if Some(expected.as_str()) != md5 => Err(TransferError::Md5Mismatch {
            expected: expected.clone(),
            actual: md5.unwrap_or_default().to_owned(),
        }),
        _ => Ok(()),
    }
}
