//! The incremental stream reader: bytes in, whole stanzas out (RFC 6120 §4.2, §4.3, §11).
//!
//! An XMPP stream is one never-ending XML document, so a normal parser cannot be asked
//! for "the next stanza". The framer scans bytes as they arrive with a small state
//! machine that only knows where markup begins and ends and how deep it is. When a
//! depth-1 element closes, its bytes are handed to quick-xml in one piece and turned
//! into an [`Element`] with namespaces resolved against the stream header.
//!
//! The scan state survives between reads, so a stanza split over many reads costs one
//! pass, and any number of stanzas merged into one read come out one by one.
//!
//! RFC 6120 §11.1 restricts XML: no comments, processing instructions, DTDs or entity
//! references other than the predefined ones and character references. Each is refused
//! with its own [`XmlError`] variant, as are junk bytes between stanzas and stanzas over
//! the configured size limit (checked while scanning, before anything is buffered
//! beyond the limit).

use super::element::Element;
use super::error::XmlError;
use super::parse::{parse_fragment, parse_stream_header, NsScope, StreamHeader};

/// One thing the peer sent at the top level of its stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// The peer's `<stream:stream>` opening tag.
    StreamOpen(StreamHeader),
    /// A complete first-level element (a stanza, stream features, SASL, ...).
    Stanza(Element),
    /// A first-level element nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH): its
    /// opening tag only (name, namespace, attributes, no children). The rest was counted
    /// through without being built, so one hostile stanza costs the peer its stanza and
    /// not our stream: the session skips it (and answers an iq request with an error).
    TooDeep(Element),
    /// The peer's `</stream:stream>`.
    StreamClose,
}

/// Where the scanner is inside the markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Character data; looking for the next `<`.
    Text,
    /// Inside `<...`: `quote` is the open attribute quote, `end_tag` marks `</`.
    Tag { quote: Option<u8>, end_tag: bool },
    /// Inside `<![CDATA[`, looking for `]]>`.
    CData,
    /// Inside the `<?xml ...?>` declaration, looking for `?>`.
    Declaration,
}

/// What one scanning step achieved.
enum Step {
    /// Markup was consumed; keep scanning.
    Continue,
    /// The buffer ends before the markup can be classified or finished.
    NeedMore,
    Frame(Frame),
}

/// Sans-IO stanza framer. Feed it bytes, then drain frames.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Next byte to scan (index into `buf`).
    pos: usize,
    /// Index of the `<` that opened the markup being scanned.
    markup_start: usize,
    /// Index of the `<` that opened the current depth-1 element.
    stanza_start: usize,
    /// Index just past that element's opening tag.
    stanza_head_end: usize,
    /// The current depth-1 element went deeper than the limit: it is being skipped.
    too_deep: bool,
    depth: usize,
    scan: Scan,
    max_stanza: usize,
    scope: Option<NsScope>,
    closed: bool,
    /// Bytes of the last stanza returned (what queues budget it at).
    last_len: usize,
}

impl Framer {
    /// A framer that refuses first-level elements larger than `max_stanza` bytes.
    pub fn new(max_stanza: usize) -> Self {
        Framer {
            buf: Vec::new(),
            pos: 0,
            markup_start: 0,
            stanza_start: 0,
            stanza_head_end: 0,
            too_deep: false,
            depth: 0,
            scan: Scan::Text,
            max_stanza,
            scope: None,
            closed: false,
            last_len: 0,
        }
    }

    /// Forgets everything: a new stream starts (after STARTTLS or SASL success, RFC 6120 §5.4.3.3, §6.4.6).
    pub fn reset(&mut self) {
        *self = Framer::new(self.max_stanza);
    }

    /// Appends bytes read from the network.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Size in bytes, as received, of the last stanza returned.
    pub fn last_stanza_len(&self) -> usize {
        self.last_len
    }

    /// Bytes fed but not yet consumed by a returned frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, XmlError> {
        if self.closed {
            return Ok(None);
        }
        while self.pos < self.buf.len() {
            match self.step()? {
                Step::Continue => {}
                Step::NeedMore => break,
                Step::Frame(frame) => return Ok(Some(frame)),
            }
        }
        self.check_size()?;
        self.discard_consumed_whitespace();
        Ok(None)
    }

    /// Scans from `pos` until one piece of markup ends or the buffer runs out.
    fn step(&mut self) -> Result<Step, XmlError> {
        match self.scan {
            Scan::Text => self.scan_text(),
            Scan::Tag { .. } => self.scan_tag(),
            Scan::CData => self.scan_until(b"]]>"),
            Scan::Declaration => self.scan_until(b"?>"),
        }
    }

    fn scan_text(&mut self) -> Result<Step, XmlError> {
        let rest = &self.buf[self.pos..];
        let Some(offset) = memchr::memchr(b'<', rest) else {
            self.check_top_level_text(self.pos, self.buf.len())?;
            self.pos = self.buf.len();
            return Ok(Step::NeedMore);
        };
        let lt = self.pos + offset;
        self.check_top_level_text(self.pos, lt)?;
        // Decide what kind of markup starts here; may need a few more bytes.
        let ahead = &self.buf[lt..];
        if ahead.len() < 2 {
            self.pos = lt;
            return Ok(Step::NeedMore);
        }
        match ahead[1] {
            b'?' => self.start_declaration(lt),
            b'!' => self.start_bang(lt),
            b'/' => {
                self.begin_markup(
                    lt,
                    2,
                    Scan::Tag {
                        quote: None,
                        end_tag: true,
                    },
                );
                Ok(Step::Continue)
            }
            _ => {
                self.begin_markup(
                    lt,
                    1,
                    Scan::Tag {
                        quote: None,
                        end_tag: false,
                    },
                );
                Ok(Step::Continue)
            }
        }
    }

    fn begin_markup(&mut self, lt: usize, skip: usize, scan: Scan) {
        self.markup_start = lt;
        if self.depth == 1 && scan != Scan::CData {
            self.stanza_start = lt;
        }
        self.pos = lt + skip;
        self.scan = scan;
    }

    /// RFC 6120 §11.1: only the XML declaration may appear, and only before the stream header.
    fn start_declaration(&mut self, lt: usize) -> Result<Step, XmlError> {
        const DECL: &[u8] = b"<?xml ";
        let ahead = &self.buf[lt..];
        let n = ahead.len().min(DECL.len());
        if self.depth == 0 && self.scope.is_none() && ahead[..n] == DECL[..n] {
            if n < DECL.len() {
                self.pos = lt;
                return Ok(Step::NeedMore);
            }
            self.begin_markup(lt, DECL.len(), Scan::Declaration);
            return Ok(Step::Continue);
        }
        Err(XmlError::ProcessingInstruction)
    }

    /// `<!`: a CDATA section inside a stanza is fine; comments and DTDs are refused.
    fn start_bang(&mut self, lt: usize) -> Result<Step, XmlError> {
        const CDATA: &[u8] = b"<![CDATA[";
        let ahead = &self.buf[lt..];
        if ahead.starts_with(b"<!--") {
            return Err(XmlError::Comment);
        }
        let n = ahead.len().min(CDATA.len());
        if ahead[..n] != CDATA[..n] {
            if b"<!--".starts_with(&ahead[..ahead.len().min(4)]) {
                self.pos = lt; // could still become a comment; wait
                return Ok(Step::NeedMore);
            }
            return Err(XmlError::Doctype);
        }
        if n < CDATA.len() {
            self.pos = lt;
            return Ok(Step::NeedMore);
        }
        if self.depth < 2 {
            return Err(XmlError::Junk);
        }
        self.begin_markup(lt, CDATA.len(), Scan::CData);
        Ok(Step::Continue)
    }

    fn scan_until(&mut self, terminator: &[u8]) -> Result<Step, XmlError> {
        // Re-check a few bytes before `pos` so a terminator split across reads is found.
        let from = self
            .pos
            .saturating_sub(terminator.len() - 1)
            .max(self.markup_start);
        let hay = &self.buf[from..];
        match memchr::memmem::find(hay, terminator) {
            Some(i) => {
                self.pos = from + i + terminator.len();
                self.scan = Scan::Text;
                Ok(Step::Continue)
            }
            None => {
                self.pos = self.buf.len();
                Ok(Step::NeedMore)
            }
        }
    }

    fn scan_tag(&mut self) -> Result<Step, XmlError> {
        let Scan::Tag { mut quote, end_tag } = self.scan else {
            return Ok(Step::Continue);
        };
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            self.pos += 1;
            match (quote, b) {
                (Some(q), _) if b == q => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(b),
                (None, b'<') => return Err(XmlError::Malformed("'<' inside a tag".into())),
                (None, b'>') => {
                    self.scan = Scan::Text;
                    let self_closing = !end_tag && self.buf[self.pos - 2] == b'/';
                    return Ok(match self.tag_closed(end_tag, self_closing)? {
                        Some(frame) => Step::Frame(frame),
                        None => Step::Continue,
                    });
                }
                _ => {}
            }
        }
        self.scan = Scan::Tag { quote, end_tag };
        Ok(Step::NeedMore)
    }

    /// A tag just ended at `pos`; adjust depth and emit a frame if one completed.
    fn tag_closed(&mut self, end_tag: bool, self_closing: bool) -> Result<Option<Frame>, XmlError> {
        if end_tag {
            return self.end_tag_closed();
        }
        match self.depth {
            0 => self.stream_header_closed(self_closing).map(Some),
            1 if self_closing => self.emit_stanza().map(Some),
            _ if self_closing => Ok(None),
            _ => {
                if self.depth == 1 {
                    self.stanza_head_end = self.pos;
                }
                // `depth` counts the stream itself as 1, so a stanza's children are at 2.
                // Deeper than the limit, the rest of the stanza is only counted.
                if self.depth > super::MAX_DEPTH {
                    self.too_deep = true;
                }
                self.depth += 1;
                Ok(None)
            }
        }
    }

    fn end_tag_closed(&mut self) -> Result<Option<Frame>, XmlError> {
        match self.depth {
            0 => Err(XmlError::Malformed(
                "end tag before the stream header".into(),
            )),
            1 => {
                self.depth = 0;
                self.closed = true;
                self.consume(self.pos);
                Ok(Some(Frame::StreamClose))
            }
            2 if self.too_deep => {
                self.depth = 1;
                self.too_deep = false;
                self.emit_skipped().map(Some)
            }
            2 => {
                self.depth = 1;
                self.emit_stanza().map(Some)
            }
            _ => {
                self.depth -= 1;
                Ok(None)
            }
        }
    }

    fn stream_header_closed(&mut self, self_closing: bool) -> Result<Frame, XmlError> {
        if self_closing {
            return Err(XmlError::Malformed("self-closing stream header".into()));
        }
        let tag = &self.buf[self.markup_start..self.pos];
        let header = parse_stream_header(tag)?;
        self.scope = Some(header.scope.clone());
        self.depth = 1;
        self.consume(self.pos);
        Ok(Frame::StreamOpen(header))
    }

    fn emit_stanza(&mut self) -> Result<Frame, XmlError> {
        let scope = self.scope.as_ref().ok_or(XmlError::Junk)?;
        let element = parse_fragment(&self.buf[self.stanza_start..self.pos], scope)?;
        self.last_len = self.pos - self.stanza_start;
        self.consume(self.pos);
        Ok(Frame::Stanza(element))
    }

    /// The opening tag of a stanza that went too deep, as an element without children
    /// (the tag's closing `>` becomes `/>`), so the session can answer it.
    fn emit_skipped(&mut self) -> Result<Frame, XmlError> {
        let scope = self.scope.as_ref().ok_or(XmlError::Junk)?;
        let head = &self.buf[self.stanza_start..self.stanza_head_end];
        let mut tag = head[..head.len().saturating_sub(1)].to_vec();
        tag.extend_from_slice(b"/>");
        let element = parse_fragment(&tag, scope)?;
        self.last_len = self.pos - self.stanza_start;
        self.consume(self.pos);
        Ok(Frame::TooDeep(element))
    }

    /// Drops the first `upto` bytes of the buffer and rebases indices.
    fn consume(&mut self, upto: usize) {
        self.buf.drain(..upto);
        self.pos -= upto;
        self.markup_start = self.markup_start.saturating_sub(upto);
        self.stanza_start = self.stanza_start.saturating_sub(upto);
        self.stanza_head_end = self.stanza_head_end.saturating_sub(upto);
    }

    /// Between stanzas only whitespace may appear (RFC 6120 §11.7 allows it as keepalive).
    fn check_top_level_text(&self, from: usize, to: usize) -> Result<(), XmlError> {
        if self.depth >= 2 {
            return Ok(());
        }
        let junk = self.buf[from..to]
            .iter()
            .any(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        if junk {
            Err(XmlError::Junk)
        } else {
            Ok(())
        }
    }

    /// Whitespace scanned at the top level need not stay in memory.
    fn discard_consumed_whitespace(&mut self) {
        if self.depth <= 1 && self.scan == Scan::Text {
            self.consume(self.pos);
        }
    }

    fn check_size(&self) -> Result<(), XmlError> {
        let start = if self.depth >= 2 || self.scan != Scan::Text {
            self.stanza_start.min(self.markup_start)
        } else {
            self.pos
        };
        let pending = self.buf.len() - start;
        if pending > self.max_stanza {
            return Err(XmlError::StanzaTooLarge {
                limit: self.max_stanza,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com' version='1.0'>";

    fn frames_from_chunks(chunks: &[&[u8]]) -> Result<Vec<Frame>, XmlError> {
        let mut framer = Framer::new(1 << 20);
        let mut out = Vec::new();
        for chunk in chunks {
            framer.feed(chunk);
            while let Some(f) = framer.next_frame()? {
                out.push(f);
            }
        }
        Ok(out)
    }

    fn stanzas(frames: &[Frame]) -> Vec<String> {
        frames
            .iter()
            .filter_map(|f| match f {
                Frame::Stanza(e) => Some(e.to_xml()),
                _ => None,
            })
            .collect()
    }

    fn sample_stream() -> String {
        format!(
            "{HEADER}\n<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>\
             <message to='a@b' type='chat'><body>x &lt; y &amp; &#x263A; <![CDATA[<raw>]]></body></message> \
             <iq type='result' id='1'/></stream:stream>"
        )
    }

    fn nested(levels: usize) -> String {
        let mut s = String::from("<iq xmlns='jabber:client' type='set' id='d'>");
        s.push_str(&"<a>".repeat(levels - 1));
        s.push_str(&"</a>".repeat(levels - 1));
        s.push_str("</iq>");
        s
    }

    /// Issue 8, item 5: a stanza nested 36,000 levels deep overflowed the stack when it
    /// was dropped or logged. Issue 19, item 8: refusing it ended the whole stream, so
    /// one small stanza from a stranger stopped `xft recv`. The framer now counts through
    /// it without building it, hands over its opening tag, and goes on.
    #[test]
    fn skips_nesting_past_the_limit_and_goes_on() {
        let ok = format!("{HEADER}{}", nested(crate::xml::MAX_DEPTH));
        let frames = frames_from_chunks(&[ok.as_bytes()]).unwrap();
        assert_eq!(stanzas(&frames).len(), 1);
        for levels in [crate::xml::MAX_DEPTH + 1, 36_000] {
            let next = "<message xmlns='jabber:client' id='after'><body>hi</body></message>";
            let deep = format!("{HEADER}{}{next}", nested(levels));
            let bytes = deep.as_bytes();
            for chunks in [vec![bytes], bytes.chunks(7).collect::<Vec<_>>()] {
                let frames = frames_from_chunks(&chunks).unwrap();
                let Frame::TooDeep(head) = &frames[1] else {
                    panic!("{levels}: {:?}", frames[1])
                };
                assert!(head.is("iq", "jabber:client"));
                assert_eq!(head.get_attr("id"), Some("d"));
                assert_eq!(head.children().count(), 0);
                let Frame::Stanza(after) = &frames[2] else {
                    panic!("{levels}: the stream goes on")
                };
                assert_eq!(after.get_attr("id"), Some("after"));
            }
        }
        assert!(matches!(
            crate::xml::parse_document(&nested(crate::xml::MAX_DEPTH + 1)),
            Err(XmlError::TooDeep { .. })
        ));
    }

    /// Found by the `framer` fuzz body: a vertical tab in a namespace was accepted, and
    /// then could not be written back. XML 1.0 §2.2 does not allow it.
    #[test]
    fn refuses_characters_xml_does_not_allow() {
        for bad in [
            "<a xmlns='ur\u{b}n:x'/>",
            "<message><body>\u{1}</body></message>",
            "<message><body>\u{FFFF}</body></message>",
            "<message><body>\u{FFFE}</body></message>",
            "<iq type='&#1;'/>",
            "<iq type='&#xFFFF;'/>",
        ] {
            let stream = format!("{HEADER}{bad}");
            assert!(
                matches!(
                    frames_from_chunks(&[stream.as_bytes()]),
                    Err(XmlError::InvalidChar(_))
                ),
                "{bad:?}"
            );
        }
        let fine =
            format!("{HEADER}<message><body>tab\t cr\r lf\n \u{FFFD} \u{10FFFF}</body></message>");
        assert_eq!(
            stanzas(&frames_from_chunks(&[fine.as_bytes()]).unwrap()).len(),
            1
        );
    }

    /// Found by the `stanzas` fuzz body: `m<ime-type='x'` was taken as an attribute.
    #[test]
    fn refuses_names_that_are_not_xml_names() {
        for bad in [
            "<si m<ime-type='x'/>",
            "<si 1a='x'/>",
            "<a-b><c =''/></a-b>",
        ] {
            let stream = format!("{HEADER}{bad}");
            assert!(
                matches!(
                    frames_from_chunks(&[stream.as_bytes()]),
                    Err(XmlError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        let fine = format!("{HEADER}<a-b.c _x='1' xml:lang='en' data-é='2'/>");
        assert_eq!(
            stanzas(&frames_from_chunks(&[fine.as_bytes()]).unwrap()).len(),
            1
        );
    }

    #[test]
    fn every_split_of_a_stream_gives_the_same_frames() {
        let stream = sample_stream();
        let bytes = stream.as_bytes();
        let whole = frames_from_chunks(&[bytes]).unwrap();
        assert_eq!(whole.len(), 5);
        for cut in 1..bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(frames_from_chunks(&[a, b]).unwrap(), whole, "cut at {cut}");
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(frames_from_chunks(&singles).unwrap(), whole);
    }

    #[test]
    fn resolves_namespaces_entities_and_cdata() {
        let frames = frames_from_chunks(&[sample_stream().as_bytes()]).unwrap();
        let Frame::StreamOpen(h) = &frames[0] else {
            panic!("no header")
        };
        assert_eq!(h.id.as_deref(), Some("s1"));
        let Frame::Stanza(features) = &frames[1] else {
            panic!()
        };
        assert!(features.is("features", "http://etherx.jabber.org/streams"));
        let Frame::Stanza(msg) = &frames[2] else {
            panic!()
        };
        assert!(msg.is("message", "jabber:client"));
        assert_eq!(
            msg.child_text("body", "jabber:client").as_deref(),
            Some("x < y & \u{263A} <raw>")
        );
        assert_eq!(frames[4], Frame::StreamClose);
        assert_eq!(stanzas(&frames).len(), 3);
    }

    #[test]
    fn refuses_restricted_xml() {
        type Check = fn(&XmlError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("<!DOCTYPE foo [<!ENTITY x 'y'>]>", |e| {
                matches!(e, XmlError::Doctype)
            }),
            ("<!-- hi -->", |e| matches!(e, XmlError::Comment)),
            ("<?php x ?>", |e| {
                matches!(e, XmlError::ProcessingInstruction)
            }),
            ("<message><body>&xxe;</body></message>", |e| {
                matches!(e, XmlError::UnknownEntity(_))
            }),
            ("garbage", |e| matches!(e, XmlError::Junk)),
            ("<message><body>a</bodyx></message>", |e| {
                matches!(e, XmlError::Malformed(_))
            }),
            ("<x:message/>", |e| matches!(e, XmlError::UnknownPrefix(_))),
            ("<message><body>&#0;</body></message>", |e| {
                matches!(e, XmlError::Malformed(_))
            }),
            ("<message><body>&#x1;</body></message>", |e| {
                matches!(e, XmlError::Malformed(_))
            }),
        ];
        for (input, is_expected) in cases {
            let text = format!("{HEADER}{input}");
            let err = frames_from_chunks(&[text.as_bytes()]).unwrap_err();
            assert!(is_expected(&err), "{input}: got {err:?}");
        }
    }

    #[test]
    fn refuses_oversize_stanza_before_it_completes() {
        let mut framer = Framer::new(1000);
        framer.feed(HEADER.as_bytes());
        assert!(matches!(
            framer.next_frame(),
            Ok(Some(Frame::StreamOpen(_)))
        ));
        framer.feed(b"<message><body>");
        assert!(framer.next_frame().unwrap().is_none());
        let mut err = None;
        for _ in 0..20 {
            framer.feed(&[b'a'; 100]);
            if let Err(e) = framer.next_frame() {
                err = Some(e);
                break;
            }
        }
        assert!(matches!(
            err,
            Some(XmlError::StanzaTooLarge { limit: 1000 })
        ));
    }

    #[test]
    fn whitespace_keepalives_do_not_accumulate() {
        let mut framer = Framer::new(100);
        framer.feed(HEADER.as_bytes());
        framer.next_frame().unwrap();
        for _ in 0..1000 {
            framer.feed(b" \n");
            assert!(framer.next_frame().unwrap().is_none());
        }
        assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn refuses_invalid_utf8() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"<message><body>\xff\xfe</body></message>");
        assert!(matches!(
            frames_from_chunks(&[&bytes]),
            Err(XmlError::Encoding)
        ));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A cheap deterministic fuzz: mutate a valid stream and feed it in odd chunks.
        let base = sample_stream().into_bytes();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            let mut bytes = base.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % bytes.len();
                bytes[i] = (seed >> 32) as u8;
            }
            let chunk = 1 + (seed as usize % 17);
            let chunks: Vec<&[u8]> = bytes.chunks(chunk).collect();
            // Either frames or an error; the property is "no panic, no hang".
            let _ = frames_from_chunks(&chunks);
        }
    }
}
