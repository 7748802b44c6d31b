//! Fuzz bodies: each takes arbitrary bytes, drives one parser that reads what peers
//! and servers send, and checks a property beyond "no panic". The coverage-guided
//! targets in `fuzz/` call these (`scripts/fuzz`), and `tests/fuzz_corpus.rs` runs them
//! over the kept corpus and crashes, and over random inputs, on stable Rust.

use std::io::Cursor;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::bytestream::ibb::decode_block;
use crate::bytestream::s5b::{streamhost_used, StreamHost};
use crate::bytestream::socks5;
use crate::disco::Info;
use crate::jid::Jid;
use crate::roster::Item;
use crate::sasl::scram::{Gs2, ScramClient, ScramHash};
use crate::si::{self, FileOffer, StreamMethod};
use crate::stanza::StanzaError;
use crate::vcard::VCardView;
use crate::xml::{parse_document, Element, Frame, Framer};

/// The stream header every framer input is preceded by.
const HEADER: &[u8] = b"<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='f' from='x.example' version='1.0'>";

/// The framer: any split of the input into reads gives the same frames (or the same
/// refusal) as one read, and every stanza it returns serialises to XML that parses
/// back to an equal element.
pub fn framer(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let whole = frames(body, body.len().max(1));
    let chunked = frames(body, usize::from(split % 64) + 1);
    assert_eq!(whole, chunked, "the split changed the frames");
    if let Ok(frames) = whole {
        for frame in frames {
            if let Frame::Stanza(el) = frame {
                let again = parse_document(&el.to_xml()).expect("own output parses");
                assert_eq!(again, el, "serialise-parse round trip");
            }
        }
    }
}

fn frames(body: &[u8], chunk: usize) -> Result<Vec<Frame>, String> {
    let mut framer = Framer::new(64 * 1024);
    let mut out = Vec::new();
    framer.feed(HEADER);
    for piece in body.chunks(chunk) {
        framer.feed(piece);
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => out.push(frame),
                Ok(None) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    Ok(out)
}

/// Every stanza parser, on every element of a parsed document: offers round-trip,
/// answers only name methods that were offered, ranges fit their numbers.
pub fn stanzas(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(root) = parse_document(&text) else {
        return;
    };
    let mut stack: Vec<&Element> = vec![&root];
    while let Some(el) = stack.pop() {
        every_parser(el);
        stack.extend(el.children());
    }
}

fn every_parser(el: &Element) {
    if let Ok(mut offer) = FileOffer::from_element(el) {
        let again = FileOffer::from_element(&offer.to_element()).expect("own offer parses");
        // xft always writes a mime-type, defaulting it.
        offer
            .mime_type
            .get_or_insert_with(|| "application/octet-stream".into());
        assert_eq!(again, offer, "offer round trip");
    }
    let offered = [StreamMethod::Ibb];
    if let Ok(methods) = si::parse_answer(el, &offered) {
        assert!(methods.iter().all(|m| offered.contains(m)));
    }
    if let Ok(Some(range)) = si::parse_range(el) {
        if let Some(len) = range.span(u64::MAX) {
            assert!(len <= u64::MAX - range.offset);
        }
    }
    if let Some(host) = StreamHost::from_element(el) {
        assert_eq!(StreamHost::from_element(&host.to_element()), Some(host));
    }
    let _ = streamhost_used(el);
    let _ = StanzaError::from_stanza(el).to_string();
    let _ = Item::from_element(el);
    let _ = Info::from_query(el);
    let _ = VCardView::from_element(el).to_lines();
    if let Some(block) = decode_block(&el.text_content()) {
        assert!(block.len() <= el.text_content().len());
    }
    for (_, value) in el.attrs() {
        if let Ok(jid) = Jid::parse(value) {
            assert_eq!(
                Jid::parse(&jid.to_string()).ok(),
                Some(jid),
                "JID round trip"
            );
        }
    }
}

/// An in-memory peer: reads come from the fuzz input, writes are collected.
struct Scripted {
    input: Cursor<Vec<u8>>,
    written: Vec<u8>,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.input).poll_read(cx, buf)
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.written.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

/// The SOCKS5 handshakes (RFC 1928, XEP-0065 §5.3.2) against a scripted peer: our
/// streamhost accepts only the exact CONNECT for its hash, and our client only a
/// well-formed success reply.
pub fn socks5(data: &[u8]) {
    let hash = "0123456789abcdef0123456789abcdef01234567";
    let deadline = std::time::Duration::from_secs(5);
    let mut server = Scripted {
        input: Cursor::new(data.to_vec()),
        written: Vec::new(),
    };
    let accepted = runtime().block_on(socks5::accept(&mut server, hash, deadline));
    if accepted.is_ok() {
        assert_eq!(data[0], 5, "accepted only SOCKS version 5");
        assert!(data.windows(hash.len()).any(|w| w == hash.as_bytes()));
        assert!(server.written.starts_with(&[5, 0]));
    }
    let mut client = Scripted {
        input: Cursor::new(data.to_vec()),
        written: Vec::new(),
    };
    let connected = runtime().block_on(socks5::connect(&mut client, hash, deadline));
    if connected.is_ok() {
        assert_eq!(
            &data[..2],
            [5, 0],
            "accepted only after 'no authentication'"
        );
    }
}

/// SCRAM (RFC 5802) against a scripted server: the input is server-first and
/// server-final, split at the first 0xFF. A server that cannot prove it knows the
/// password is never accepted.
pub fn scram(data: &[u8]) {
    let (first, last) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(mut client) = ScramClient::new(
        (ScramHash::Sha1, Gs2::NoBinding),
        "user",
        "pencil",
        "fyko+d2lbbFgONRv9qkxdawL",
    ) else {
        return;
    };
    if client.handle_server_first(first).is_ok() {
        // A forged signature must fail; only the real one (which the fuzzer cannot
        // compute without the password) could pass.
        if client.verify_server_final(last).is_ok() {
            assert!(
                last.starts_with(b"v="),
                "success without a server signature"
            );
        }
    }
}
