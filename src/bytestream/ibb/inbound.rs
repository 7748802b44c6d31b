//! The receiving side of XEP-0047 as a pure state machine: it is handed each request of
//! the bytestream and says what it is (the open, a block of bytes, the close) or why it
//! is refused, with the stanza error to answer. No I/O: the driver in `receiver` reads
//! the requests from a route and writes the bytes.

use crate::ns::IBB_NS;
use crate::stanza::{Condition, ErrorType};
use crate::xml::Element;

use super::{decode_block, IbbError, MAX_BLOCK_SIZE};

/// A request refused: the error for our side, the stanza error for the peer's.
#[derive(Debug)]
pub struct Refusal {
    /// What went wrong, for the transfer.
    pub error: IbbError,
    /// §2.2, §2.1: the condition to answer the request with.
    pub condition: Condition,
    /// Its type.
    pub kind: ErrorType,
}

impl Refusal {
    fn new(error: IbbError, condition: Condition, kind: ErrorType) -> Refusal {
        Refusal {
            error,
            condition,
            kind,
        }
    }
}

/// What one request of the bytestream is.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// §2.1: the open, accepted with this block size.
    Opened(usize),
    /// §2.2: a block: these bytes, in order.
    Block(Vec<u8>),
    /// §2.3: the close (to be answered once the file is judged).
    Close,
}

/// One bytestream's state on the receiving side: its sid, the block size of the open,
/// the blocks taken (the next `seq` due follows from them, §2.2) and the bytes received
/// against the most that may come.
#[derive(Debug, Clone)]
pub struct Inbound {
    block_size: Option<usize>,
    blocks: u64,
    numbering: Numbering,
    received: u64,
    limit: u64,
}

/// How the sender numbers its blocks past 65535: §2.2 says the sequence starts again
/// at 0; Conversations counts on (65536, 65537, ...: docs/interop.md §4). The 65537th
/// block tells which, and from then on only that numbering is in order, so a lost or
/// repeated block is caught either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numbering {
    /// Fewer than 65536 blocks so far: both agree.
    Undecided,
    Wrapping,
    Counting,
}

impl Numbering {
    /// Whether `seq` is due as block number `blocks` (from 0), and the numbering it
    /// shows.
    fn admits(self, blocks: u64, seq: u64) -> Option<Numbering> {
        let wrapped = blocks % 65536;
        match self {
            _ if blocks < 65536 => (seq == blocks).then_some(self),
            Numbering::Undecided if seq == wrapped => Some(Numbering::Wrapping),
            Numbering::Undecided if seq == blocks => Some(Numbering::Counting),
            Numbering::Wrapping => (seq == wrapped).then_some(self),
            Numbering::Counting => (seq == blocks).then_some(self),
            Numbering::Undecided => None,
        }
    }

    /// The number due as block `blocks`, for the error message.
    fn due(self, blocks: u64) -> u64 {
        match self {
            Numbering::Counting => blocks,
            _ => blocks % 65536,
        }
    }
}

impl Inbound {
    /// A bytestream that may carry at most `limit` bytes.
    pub fn new(limit: u64) -> Inbound {
        Inbound {
            block_size: None,
            blocks: 0,
            numbering: Numbering::Undecided,
            received: 0,
            limit,
        }
    }

    /// At most `limit` bytes may come (the rest of the offered file).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether the open has come.
    pub fn is_open(&self) -> bool {
        self.block_size.is_some()
    }

    /// Judges one request of the bytestream (its `<open/>`, `<data/>` or `<close/>`).
    pub fn step(&mut self, request: &Element) -> Result<Step, Refusal> {
        let Some(payload) = request.children().next().filter(|c| c.ns() == IBB_NS) else {
            return Err(unexpected());
        };
        match (payload.name(), self.block_size) {
            ("open", None) => self.open(payload),
            ("data", Some(block_size)) => self.data(payload, block_size).map(Step::Block),
            ("close", Some(_)) => Ok(Step::Close),
            // A close before the open: the peer gave up.
            ("close", None) => Err(Refusal::new(
                IbbError::PeerClosed,
                Condition::UnexpectedRequest,
                ErrorType::Cancel,
            )),
            _ => Err(unexpected()),
        }
    }

    /// §2.1: iq stanzas only (no acknowledgements in message mode), a block size in
    /// 1..=65535.
    fn open(&mut self, open: &Element) -> Result<Step, Refusal> {
        if open.get_attr("stanza").is_some_and(|s| s != "iq") {
            return Err(Refusal::new(
                IbbError::MessageMode,
                Condition::NotAcceptable,
                ErrorType::Cancel,
            ));
        }
        let raw = open.get_attr("block-size").unwrap_or_default();
        match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_BLOCK_SIZE).contains(&n) => {
                self.block_size = Some(n);
                Ok(Step::Opened(n))
            }
            _ => Err(Refusal::new(
                IbbError::BadBlockSize(raw.chars().take(20).collect()),
                Condition::BadRequest,
                ErrorType::Modify,
            )),
        }
    }

    /// §2.2: the block due next, valid base64 (§6), no larger than the block size, and
    /// within the limit; taken, it advances the sequence.
    fn data(&mut self, data: &Element, block_size: usize) -> Result<Vec<u8>, Refusal> {
        let expected = self.numbering.due(self.blocks);
        let seq = data
            .get_attr("seq")
            .and_then(|s| s.trim().parse::<u64>().ok());
        let Some(seq) = seq else {
            let e = IbbError::SeqGap { expected, got: 0 };
            return Err(Refusal::new(e, Condition::BadRequest, ErrorType::Modify));
        };
        let Some(numbering) = self.numbering.admits(self.blocks, seq) else {
            // §2.2: out of sequence "MUST NOT" be processed; the stream is closed.
            let e = IbbError::SeqGap { expected, got: seq };
            return Err(Refusal::new(
                e,
                Condition::UnexpectedRequest,
                ErrorType::Cancel,
            ));
        };
        let chunk = decode_block(&data.text_content()).ok_or(Refusal::new(
            IbbError::BadBase64 { seq },
            Condition::BadRequest,
            ErrorType::Modify,
        ))?;
        if chunk.len() > block_size {
            let e = IbbError::BlockTooLarge {
                seq,
                got: chunk.len(),
                limit: block_size,
            };
            return Err(Refusal::new(e, Condition::BadRequest, ErrorType::Modify));
        }
        if self.received + chunk.len() as u64 > self.limit {
            return Err(Refusal::new(
                IbbError::TooMuchData { limit: self.limit },
                Condition::NotAcceptable,
                ErrorType::Cancel,
            ));
        }
        self.received += chunk.len() as u64;
        self.blocks += 1;
        self.numbering = numbering;
        Ok(chunk)
    }
}

fn unexpected() -> Refusal {
    Refusal::new(
        IbbError::PeerClosed,
        Condition::UnexpectedRequest,
        ErrorType::Cancel,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ns::CLIENT_NS;

    fn iq(payload: Element) -> Element {
        Element::new("iq", CLIENT_NS)
            .attr("type", "set")
            .attr("id", "x")
            .child(payload)
    }

    // XEP-0047 §2.1 Example 1.
    fn open(block_size: &str) -> Element {
        iq(Element::new("open", IBB_NS)
            .attr("block-size", block_size)
            .attr("sid", "i781hf64")
            .attr("stanza", "iq"))
    }

    // XEP-0047 §2.2 Example 5.
    fn data(seq: u16, text: &str) -> Element {
        iq(Element::new("data", IBB_NS)
            .attr("seq", seq.to_string())
            .attr("sid", "i781hf64")
            .text(text))
    }

    #[test]
    fn opens_then_takes_blocks_in_order_then_the_close() {
        let mut inbound = Inbound::new(100);
        assert_eq!(inbound.step(&open("4096")).unwrap(), Step::Opened(4096));
        assert_eq!(
            inbound.step(&data(0, "aGVs")).unwrap(),
            Step::Block(b"hel".to_vec())
        );
        assert_eq!(
            inbound.step(&data(1, "bG8=")).unwrap(),
            Step::Block(b"lo".to_vec())
        );
        assert_eq!(inbound.received(), 5);
        let close = iq(Element::new("close", IBB_NS).attr("sid", "i781hf64"));
        assert_eq!(inbound.step(&close).unwrap(), Step::Close);
    }

    /// §2.2: a gap, a repeat, bad base64, an oversize block, more than the limit.
    #[test]
    fn refuses_what_the_xep_refuses() {
        let mut inbound = Inbound::new(4);
        assert!(matches!(
            inbound.step(&data(0, "aGVs")).unwrap_err().error,
            IbbError::PeerClosed
        ));
        inbound.step(&open("2")).unwrap();
        let gap = inbound.step(&data(1, "aA==")).unwrap_err();
        assert!(matches!(
            gap.error,
            IbbError::SeqGap {
                expected: 0,
                got: 1
            }
        ));
        assert_eq!(gap.condition, Condition::UnexpectedRequest);
        assert!(matches!(
            inbound.step(&data(0, "aGVs")).unwrap_err().error,
            IbbError::BlockTooLarge { .. }
        ));
        assert!(matches!(
            inbound.step(&data(0, "a*==")).unwrap_err().error,
            IbbError::BadBase64 { .. }
        ));
        inbound.step(&data(0, "aGk=")).unwrap();
        inbound.step(&data(1, "aGk=")).unwrap();
        assert!(matches!(
            inbound.step(&data(2, "aA==")).unwrap_err().error,
            IbbError::TooMuchData { limit: 4 }
        ));
        assert!(matches!(
            inbound.step(&data(1, "aA==")).unwrap_err().error,
            IbbError::SeqGap { .. }
        ));
    }

    #[test]
    fn refuses_message_mode_and_bad_block_sizes() {
        let message = iq(Element::new("open", IBB_NS)
            .attr("block-size", "4096")
            .attr("sid", "s")
            .attr("stanza", "message"));
        assert!(matches!(
            Inbound::new(1).step(&message).unwrap_err().error,
            IbbError::MessageMode
        ));
        for bad in ["0", "65536", "x", ""] {
            assert!(matches!(
                Inbound::new(1).step(&open(bad)).unwrap_err().error,
                IbbError::BadBlockSize(_)
            ));
        }
    }

    /// §2.2: after 65535 the sequence starts again at 0.
    #[test]
    fn the_sequence_wraps() {
        let mut inbound = Inbound::new(u64::MAX);
        inbound.step(&open("1")).unwrap();
        for seq in 0..=65535u16 {
            inbound.step(&data(seq, "")).unwrap();
        }
        inbound.step(&data(0, "")).unwrap();
        assert!(inbound.step(&data(2, "")).is_err());
    }

    /// Conversations numbers on past 65535; a sender that did must go on doing so, and
    /// a lost or repeated block is still refused.
    #[test]
    fn a_sequence_counting_past_65535_is_taken_in_order() {
        let mut inbound = Inbound::new(u64::MAX);
        inbound.step(&open("1")).unwrap();
        for seq in 0..=65537u64 {
            inbound.step(&data_n(seq)).unwrap();
        }
        let mut repeated = inbound.clone();
        assert!(matches!(
            repeated.step(&data_n(65537)).unwrap_err().error,
            IbbError::SeqGap {
                expected: 65538,
                got: 65537
            }
        ));
        let mut lost = inbound.clone();
        assert!(lost.step(&data_n(65539)).is_err());
        let mut switched = inbound.clone();
        assert!(
            switched.step(&data_n(2)).is_err(),
            "no wrapping after counting"
        );
        inbound.step(&data_n(65538)).unwrap();
    }

    /// The block after 65535 is 0 or 65536, nothing else; a wrapping sender cannot count
    /// on later.
    #[test]
    fn after_65535_only_0_or_65536_is_due() {
        let mut inbound = Inbound::new(u64::MAX);
        inbound.step(&open("1")).unwrap();
        for seq in 0..=65535u64 {
            inbound.step(&data_n(seq)).unwrap();
        }
        for wrong in [1, 65535, 65537, u64::MAX] {
            assert!(inbound.clone().step(&data_n(wrong)).is_err(), "{wrong}");
        }
        let mut wrapping = inbound.clone();
        wrapping.step(&data_n(0)).unwrap();
        assert!(wrapping.clone().step(&data_n(65537)).is_err());
        wrapping.step(&data_n(1)).unwrap();
        assert!(inbound.step(&data_n(65536 + 65536)).is_err());
    }

    fn data_n(seq: u64) -> Element {
        iq(Element::new("data", IBB_NS)
            .attr("sid", "s")
            .attr("seq", seq.to_string()))
    }
}
