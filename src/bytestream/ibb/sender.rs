//! The sending side of XEP-0047: the open with the largest block size the peer accepts
//! (§2.1), then a bounded window of data iqs in flight (§2.2: the sender "need not wait
//! for the acknowledgement"), stopping at the first error.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{iq_error, IbbError, B64, FLOOR, MAX_BLOCK_SIZE};
use crate::jid::Jid;
use crate::ns::IBB_NS;
use crate::session::{IqError, PendingResult, Session};
use crate::stall::StallWatch;
use crate::stanza::{self, Condition, IqType};
use crate::xml::Element;
use base64::Engine;

/// Sizes tried after a `resource-constraint` answer (QXmpp takes 4096, slixmpp 8192).
const STEP_DOWN: [usize; 3] = [16384, 8192, 4096];

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
            let gone = crate::bytestream::peer_gone(session, peer);
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
