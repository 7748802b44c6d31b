//! In-Band Bytestreams (XEP-0047): base64 blocks in iq stanzas through the server.
//!
//! Knows a peer JID and a session id, nothing about SI or Jingle.
//!
//! * [`IbbSender`] opens with the largest block size the peer accepts (§2.1: a
//!   `resource-constraint` answer means "smaller"), then keeps a bounded window of data
//!   iqs in flight (§2.2: the sender "need not wait for the acknowledgement") and stops
//!   at the first error.
//! * [`IbbReceiver`] checks every block: the sid and sender (by its route), the `seq`
//!   (a wrapping u16, §2.2), strict base64 (§6), the block size, and the byte budget.
//!   It returns the `<close/>` request unanswered, so the caller can verify the file
//!   first and answer with an error if it is not whole.

use crate::ns::IBB_NS;
use crate::stanza::Condition;
use crate::stanza::IqType;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::jid::Jid;
use crate::session::{IqError, PendingResult, Route, Session};
use crate::stall::StallWatch;
use crate::stanza::{self, ErrorType, StanzaError};
use crate::xml::Element;

/// §2.1: "MUST NOT be greater than 65535".
pub const MAX_BLOCK_SIZE: usize = 65535;
/// Sizes tried after a `resource-constraint` answer (QXmpp takes 4096, slixmpp 8192).
const STEP_DOWN: [usize; 3] = [16384, 8192, 4096];
/// Bytes that must move in every `--timeout` (see `stall`): one block of the size
/// §5 recommends, whatever block size the peer chose. Not more: the server's rate
/// limit, not the peer, may set the pace (Prosody ships 10 kB/s, ejabberd 3 kB/s).
const FLOOR: u64 = 4096;

/// Why an in-band bytestream failed.
#[derive(Debug, thiserror::Error)]
pub enum IbbError {
    /// §2.1: the `<open/>` got an error.
    #[error("the peer refused to open the in-band bytestream: {0}")]
    OpenRefused(StanzaError),
    /// §2.2: a `<data/>` got an error.
    #[error("the peer refused block {seq}: {error}")]
    DataRefused {
        /// The block.
        seq: u16,
        /// The peer's error.
        error: StanzaError,
    },
    /// The peer answered our `<close/>` with an error: it did not get the whole file.
    #[error("the receiver reported a problem when the stream closed: {0}")]
    CloseRefused(StanzaError),
    /// An iq got no answer, or the connection went.
    #[error("{0}")]
    Iq(IqError),
    /// §2.2: out-of-sequence data "MUST NOT" be processed; the stream is closed.
    #[error("block {got} arrived where block {expected} was due (XEP-0047 §2.2)")]
    SeqGap {
        /// The sequence number due.
        expected: u16,
        /// The one that came.
        got: u16,
    },
    /// A block larger than the block size agreed in `<open/>`.
    #[error("block {seq} holds {got} bytes, more than the negotiated block size {limit}")]
    BlockTooLarge {
        /// The block.
        seq: u16,
        /// Its decoded size.
        got: usize,
        /// The block size.
        limit: usize,
    },
    /// §6: "MUST reject (not ignore) any characters not explicitly allowed".
    #[error("block {seq} is not valid base64")]
    BadBase64 {
        /// The block.
        seq: u16,
    },
    /// More bytes than the offer's size.
    #[error("the peer sent more than the {limit} bytes it offered")]
    TooMuchData {
        /// The offered size.
        limit: u64,
    },
    /// §2.1: `block-size` is not a number in range.
    #[error("the peer asked for block size '{0}', which is not in 1..=65535")]
    BadBlockSize(String),
    /// §2.1 `stanza='message'`, which xft does not accept (no acknowledgements).
    #[error("the peer wants to send data in message stanzas; xft accepts iq stanzas only")]
    MessageMode,
    /// No `<open/>` in time.
    #[error("the peer did not open the in-band bytestream within {} s", .0.as_secs())]
    NoOpen(Duration),
    /// Fewer than 4 KiB moved (blocks received, or acknowledged) in `--timeout`.
    #[error("no data moved for {} s (or only a trickle); giving up", .0.as_secs())]
    Stalled(Duration),
    /// §2.3: `<close/>` before the whole file.
    #[error("the peer closed the bytestream")]
    PeerClosed,
    /// The peer's unavailable presence came.
    #[error("the peer went offline")]
    PeerGone,
    /// The file had fewer bytes than announced.
    #[error("the file ended after {read} of {expected} bytes (did it shrink while being sent?)")]
    SourceShort {
        /// Bytes read.
        read: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// Reading the file failed.
    #[error("reading the file: {0}")]
    Read(std::io::Error),
    /// Writing the file failed.
    #[error("writing the file: {0}")]
    Write(std::io::Error),
    /// The connection closed.
    #[error("the connection to the server was lost")]
    Disconnected,
}

fn iq_error(e: IqError, on_stanza: impl FnOnce(StanzaError) -> IbbError) -> IbbError {
    match e {
        IqError::Stanza(se) => on_stanza(se),
        other => IbbError::Iq(other),
    }
}

/// The sending side of one bytestream.
pub struct IbbSender {
    session: Session,
    peer: String,
    sid: String,
    block_size: usize,
    seq: u16,
    timeout: Duration,
    /// Resolves when the receiver goes offline (it sent us directed presence), so a
    /// vanished receiver ends the send at once instead of after `timeout`.
    gone: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl IbbSender {
    /// §2.1: opens the bytestream, stepping down the block size while the peer answers
    /// `resource-constraint`.
    pub async fn open(
        session: &Session,
        peer: &Jid,
        sid: &str,
        block_size: usize,
        timeout: Duration,
    ) -> Result<IbbSender, IbbError> {
        let mut size = block_size.clamp(1, MAX_BLOCK_SIZE);
        loop {
            let open = Element::new("open", IBB_NS)
                .attr("block-size", size.to_string())
                .attr("sid", sid)
                .attr("stanza", "iq");
            let peer_text = peer.to_string();
            let gone = super::peer_gone(session, peer);
            match session
                .iq_timeout(stanza::iq(IqType::Set, Some(&peer_text), open), timeout)
                .await
            {
                Ok(_) => {
                    tracing::debug!("IBB {sid} open with block size {size}");
                    return Ok(IbbSender {
                        session: session.clone(),
                        peer: peer_text,
                        sid: sid.to_owned(),
                        block_size: size,
                        seq: 0,
                        timeout,
                        gone: Some(Box::pin(gone)),
                    });
                }
                Err(IqError::Stanza(e)) if e.is(Condition::ResourceConstraint) => {
                    match STEP_DOWN.iter().find(|s| **s < size) {
                        Some(smaller) => {
                            tracing::debug!(
                                "IBB: peer wants blocks smaller than {size}; trying {smaller}"
                            );
                            size = *smaller;
                        }
                        None => return Err(IbbError::OpenRefused(e)),
                    }
                }
                Err(e) => return Err(iq_error(e, IbbError::OpenRefused)),
            }
        }
    }

    /// The block size the receiver accepted.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// §2.2: sends exactly `len` bytes from `reader`, with up to `window` blocks awaiting
    /// acknowledgement. Returns when every block is acknowledged.
    pub async fn send<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
        len: u64,
        window: usize,
    ) -> Result<u64, IbbError> {
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let mut buf = vec![0u8; self.block_size];
        let mut sent = 0u64;
        let mut acked = Acked {
            bytes: 0,
            watch: StallWatch::new(self.timeout, FLOOR, len, 0),
        };
        while sent < len {
            let want = (len - sent).min(self.block_size as u64) as usize;
            let n = read_full(reader, &mut buf[..want])
                .await
                .map_err(IbbError::Read)?;
            if n < want {
                return Err(IbbError::SourceShort {
                    read: sent + n as u64,
                    expected: len,
                });
            }
            let seq = self.seq;
            let pending = self
                .session
                .iq_start(self.data_iq(seq, &buf[..n]), self.timeout)
                .await
                .map_err(IbbError::Iq)?;
            self.seq = self.seq.wrapping_add(1);
            sent += n as u64;
            in_flight.push_back((seq, n, pending));
            if in_flight.len() >= window.max(1) {
                self.ack_unless_gone(&mut in_flight, &mut acked).await?;
            }
        }
        while !in_flight.is_empty() {
            self.ack_unless_gone(&mut in_flight, &mut acked).await?;
        }
        Ok(sent)
    }

    /// Waits for the oldest block's acknowledgement, unless the receiver goes offline
    /// first (then an error it already sent for any block in flight, say that it cannot
    /// write the file, is the better report than "gone"), or unless too few bytes were
    /// acknowledged for too long (a receiver that acknowledges a block now and then).
    async fn ack_unless_gone(
        &mut self,
        in_flight: &mut VecDeque<InFlight>,
        acked: &mut Acked,
    ) -> Result<(), IbbError> {
        let Some((seq, n, pending)) = in_flight.pop_front() else {
            return Ok(());
        };
        let stalled = IbbError::Stalled(acked.watch.limit());
        let ack = tokio::time::timeout_at(acked.watch.deadline(), await_ack(seq, pending));
        let never = std::future::pending::<()>();
        let result = tokio::select! {
            biased;
            done = ack => done.unwrap_or(Err(stalled)),
            () = async { match self.gone.as_mut() { Some(gone) => gone.await, None => never.await } } => {
                self.gone = None;
                for (seq, _, pending) in in_flight.iter_mut() {
                    if let Some(Err(IqError::Stanza(error))) = pending.try_answer() {
                        return Err(IbbError::DataRefused { seq: *seq, error });
                    }
                }
                Err(IbbError::PeerGone)
            }
        };
        result?;
        acked.bytes += n as u64;
        if acked
            .watch
            .stalled(acked.bytes, tokio::time::Instant::now())
        {
            return Err(IbbError::Stalled(acked.watch.limit()));
        }
        Ok(())
    }

    fn data_iq(&self, seq: u16, chunk: &[u8]) -> Element {
        let data = Element::new("data", IBB_NS)
            .attr("seq", seq.to_string())
            .attr("sid", self.sid.as_str())
            .text(B64.encode(chunk));
        stanza::iq(IqType::Set, Some(&self.peer), data)
    }

    /// §2.3: closes the bytestream after every block was acknowledged. Only
    /// `not-acceptable` (xft's own answer when the file is short or its hash is wrong)
    /// says the file is not whole; any other error is a warning: gloox 1.0.24 drops the
    /// stream once the size is reached and answers `service-unavailable` (issue 8,
    /// item 9), and §2.3 does not make the close an integrity signal.
    pub async fn close(self) -> Result<(), IbbError> {
        let close = Element::new("close", IBB_NS).attr("sid", self.sid.as_str());
        let answer = self
            .session
            .iq_timeout(
                stanza::iq(IqType::Set, Some(&self.peer), close),
                self.timeout,
            )
            .await;
        match answer {
            Ok(_) => Ok(()),
            Err(IqError::Stanza(e)) if e.is(Condition::NotAcceptable) => {
                Err(IbbError::CloseRefused(e))
            }
            Err(IqError::Stanza(e)) => {
                tracing::warn!(
                    "the receiver acknowledged every block but answered the close with {e}; \
                     treating the transfer as complete"
                );
                Ok(())
            }
            Err(e) => Err(IbbError::Iq(e)),
        }
    }

    /// Best-effort close after a failure; errors are ignored.
    pub async fn abort(self) {
        let close = Element::new("close", IBB_NS).attr("sid", self.sid.as_str());
        let _ = self
            .session
            .send(stanza::iq(IqType::Set, Some(&self.peer), close))
            .await;
    }
}

/// A block on its way: its seq, its length, and its acknowledgement to come.
type InFlight = (u16, usize, PendingResult);

/// What the receiver has acknowledged, watched for a stall.
struct Acked {
    bytes: u64,
    watch: StallWatch,
}

async fn await_ack(seq: u16, pending: PendingResult) -> Result<(), IbbError> {
    pending
        .wait()
        .await
        .map(|_| ())
        .map_err(|e| iq_error(e, |error| IbbError::DataRefused { seq, error }))
}

/// Reads until `buf` is full or the reader ends.
async fn read_full<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = reader.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// The `<close/>` that ended a bytestream, still to be answered.
pub struct CloseRequest {
    session: Session,
    request: Element,
}

impl CloseRequest {
    /// Everything arrived and checks out: acknowledge.
    pub async fn acknowledge(self) {
        let _ = self.session.reply_result(&self.request).await;
    }

    /// The request itself, for a caller that answers it some other way.
    pub fn into_request(self) -> Element {
        self.request
    }

    /// The data is not acceptable (short, wrong hash): tell the sender.
    pub async fn refuse(self, text: &str) {
        let error = StanzaError::new(ErrorType::Cancel, Condition::NotAcceptable).with_text(text);
        let _ = self.session.reply_error(&self.request, &error).await;
    }
}

/// The receiving side of one bytestream.
pub struct IbbReceiver {
    session: Session,
    route: Route,
    peer: Jid,
    sid: String,
    block_size: usize,
    next_seq: u16,
}

impl IbbReceiver {
    /// Claims every IBB request for `sid` from `peer`, and `peer` going offline. Call it
    /// before telling the peer to open, so nothing slips past the route.
    pub fn listen(session: &Session, peer: &Jid, sid: &str) -> IbbReceiver {
        let (peer_match, sid_match) = (peer.clone(), sid.to_owned());
        let route = session.route(move |el| is_for_session(el, &peer_match, &sid_match));
        IbbReceiver {
            session: session.clone(),
            route,
            peer: peer.clone(),
            sid: sid.to_owned(),
            block_size: 0,
            next_seq: 0,
        }
    }

    /// §2.1: waits for `<open/>` and accepts it.
    pub async fn accept_open(&mut self, timeout: Duration) -> Result<usize, IbbError> {
        let request = match tokio::time::timeout(timeout, self.next_request()).await {
            Err(_) => return Err(IbbError::NoOpen(timeout)),
            Ok(r) => r?,
        };
        let Some(open) = request.get_child("open", IBB_NS) else {
            self.refuse(&request, Condition::UnexpectedRequest, ErrorType::Cancel)
                .await;
            return Err(IbbError::PeerClosed);
        };
        if open.get_attr("stanza").is_some_and(|s| s != "iq") {
            self.refuse(&request, Condition::NotAcceptable, ErrorType::Cancel)
                .await;
            return Err(IbbError::MessageMode);
        }
        let raw = open.get_attr("block-size").unwrap_or_default();
        let block_size = match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_BLOCK_SIZE).contains(&n) => n,
            _ => {
                self.refuse(&request, Condition::BadRequest, ErrorType::Modify)
                    .await;
                return Err(IbbError::BadBlockSize(raw.chars().take(20).collect()));
            }
        };
        self.block_size = block_size;
        let _ = self.session.reply_result(&request).await;
        Ok(block_size)
    }

    /// §2.2: writes blocks to `sink` until the peer closes, at most `limit` bytes.
    /// Returns the byte count and the close request to answer.
    pub async fn receive<W: AsyncWrite + Unpin>(
        &mut self,
        sink: &mut W,
        limit: u64,
        stall: Duration,
    ) -> Result<(u64, CloseRequest), IbbError> {
        let mut received = 0u64;
        let mut watch = StallWatch::new(stall, FLOOR, limit, 0);
        loop {
            let next = tokio::time::timeout_at(watch.deadline(), self.next_request());
            let request = match next.await {
                Err(_) => {
                    self.abort().await;
                    return Err(IbbError::Stalled(stall));
                }
                Ok(r) => r?,
            };
            if request.get_child("close", IBB_NS).is_some() {
                let close = CloseRequest {
                    session: self.session.clone(),
                    request,
                };
                return Ok((received, close));
            }
            let chunk = match self.check_block(&request, received, limit) {
                Ok(chunk) => chunk,
                Err((e, condition, kind)) => {
                    self.refuse(&request, condition, kind).await;
                    self.abort().await;
                    return Err(e);
                }
            };
            if let Err(e) = sink.write_all(&chunk).await {
                // Tell the sender now, with the cause, rather than let it wait out its
                // timeout on an unanswered block (issue 8, item 12).
                let error = StanzaError::new(ErrorType::Cancel, Condition::InternalServerError)
                    .with_text(format!("the receiver cannot write the file: {e}"));
                let _ = self.session.reply_error(&request, &error).await;
                self.abort().await;
                return Err(IbbError::Write(e));
            }
            received += chunk.len() as u64;
            self.next_seq = self.next_seq.wrapping_add(1);
            let _ = self.session.reply_result(&request).await;
            if watch.stalled(received, tokio::time::Instant::now()) {
                // Blocks come, but too few bytes for too long: a trickle.
                self.abort().await;
                return Err(IbbError::Stalled(stall));
            }
        }
    }

    /// Validates one `<data/>`; on failure returns the error and the stanza error to send.
    fn check_block(
        &self,
        request: &Element,
        received: u64,
        limit: u64,
    ) -> Result<Vec<u8>, (IbbError, Condition, ErrorType)> {
        let Some(data) = request.get_child("data", IBB_NS) else {
            return Err((
                IbbError::PeerClosed,
                Condition::UnexpectedRequest,
                ErrorType::Cancel,
            ));
        };
        let seq = data
            .get_attr("seq")
            .and_then(|s| s.trim().parse::<u16>().ok());
        let Some(seq) = seq else {
            let e = IbbError::SeqGap {
                expected: self.next_seq,
                got: 0,
            };
            return Err((e, Condition::BadRequest, ErrorType::Modify));
        };
        if seq != self.next_seq {
            let e = IbbError::SeqGap {
                expected: self.next_seq,
                got: seq,
            };
            return Err((e, Condition::UnexpectedRequest, ErrorType::Cancel));
        }
        let chunk = decode_block(&data.text_content()).ok_or((
            IbbError::BadBase64 { seq },
            Condition::BadRequest,
            ErrorType::Modify,
        ))?;
        if chunk.len() > self.block_size {
            let e = IbbError::BlockTooLarge {
                seq,
                got: chunk.len(),
                limit: self.block_size,
            };
            return Err((e, Condition::BadRequest, ErrorType::Modify));
        }
        if received + chunk.len() as u64 > limit {
            return Err((
                IbbError::TooMuchData { limit },
                Condition::NotAcceptable,
                ErrorType::Cancel,
            ));
        }
        Ok(chunk)
    }

    async fn next_request(&mut self) -> Result<Element, IbbError> {
        let el = self.route.next().await.ok_or(IbbError::Disconnected)?;
        if el.name() == "presence" {
            return Err(IbbError::PeerGone);
        }
        Ok(el)
    }

    async fn refuse(&self, request: &Element, condition: Condition, kind: ErrorType) {
        let _ = self
            .session
            .reply_error(request, &StanzaError::new(kind, condition))
            .await;
    }

    /// Closes the bytestream from our side after an error (§2.3), without waiting.
    pub async fn abort(&self) {
        let close = Element::new("close", IBB_NS).attr("sid", self.sid.as_str());
        let _ = self
            .session
            .send(stanza::iq(IqType::Set, Some(&self.peer.to_string()), close))
            .await;
    }
}

/// IBB requests for this session from this peer, or the peer's unavailable presence.
fn is_for_session(el: &Element, peer: &Jid, sid: &str) -> bool {
    super::claims(el, peer, |el| {
        IqType::of(el) == Some(IqType::Set)
            && el
                .children()
                .next()
                .is_some_and(|c| c.ns() == IBB_NS && c.get_attr("sid") == Some(sid))
    })
}

/// §6: RFC 4648 base64 with padding; XML whitespace (line wrapping, as in the XEP's own
/// Example 7) is allowed, any other character is an error.
pub fn decode_block(text: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    B64.decode(compact).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ns::CLIENT_NS;

    #[test]
    fn decodes_wrapped_base64_and_refuses_junk() {
        // XEP-0047 §2.2 Example 7 wraps its base64 over lines.
        assert_eq!(
            decode_block("aGVs\n  bG8=\n").as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(decode_block("").as_deref(), Some(&b""[..]));
        assert!(decode_block("aGVsbG8").is_none(), "missing padding");
        assert!(decode_block("aGVs*bG8=").is_none());
        assert!(decode_block("aGVsbG8=aGVs").is_none(), "data after padding");
    }

    #[test]
    fn route_filter_matches_sid_and_peer_only() {
        let peer = Jid::parse("romeo@montague.example/orchard").unwrap();
        // XEP-0047 §2.2 Example 5, with `from` as the server stamps it.
        let data = |from: &str, sid: &str| {
            Element::new("iq", CLIENT_NS)
                .attr("from", from)
                .attr("type", "set")
                .attr("id", "kr91n475")
                .child(
                    Element::new("data", IBB_NS)
                        .attr("seq", "0")
                        .attr("sid", sid)
                        .text("qANQ"),
                )
        };
        assert!(is_for_session(
            &data("romeo@montague.example/orchard", "i781hf64"),
            &peer,
            "i781hf64"
        ));
        assert!(!is_for_session(
            &data("romeo@montague.example/other", "i781hf64"),
            &peer,
            "i781hf64"
        ));
        assert!(!is_for_session(
            &data("romeo@montague.example/orchard", "zzz"),
            &peer,
            "i781hf64"
        ));
        let gone = Element::new("presence", CLIENT_NS)
            .attr("from", "romeo@montague.example/orchard")
            .attr("type", "unavailable");
        assert!(is_for_session(&gone, &peer, "i781hf64"));
    }

    #[test]
    fn seq_wraps() {
        assert_eq!(65535u16.wrapping_add(1), 0);
    }
}
