//! An XML stream over an async byte stream: reading frames, writing stanzas, logging the
//! exchange at trace level with credentials redacted (RFC 6120 §4).

use crate::ns::{SASL_NS, STREAMS_NS};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::SessionError;
use crate::xml::{self, Element, Frame, Framer};

/// Largest first-level element accepted from the server. IBB blocks of 65535 bytes are
/// about 87 KiB in base64; leave room, but do not let a peer exhaust memory.
pub const MAX_STANZA: usize = 1 << 20;

/// Any byte stream a session can run over (TCP, TLS, an in-memory pipe in tests).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// Reads frames from `R`.
pub struct XmlReader<R> {
    io: R,
    framer: Framer,
    buf: Vec<u8>,
}

impl<R> XmlReader<R> {
    /// Takes the byte stream out, keeping the framer (and any bytes it buffered).
    pub fn split_io(self) -> (R, XmlReader<()>) {
        let rest = XmlReader {
            io: (),
            framer: self.framer,
            buf: self.buf,
        };
        (self.io, rest)
    }

    /// Puts a (new) byte stream under the framer.
    pub fn with_io<T>(self, io: T) -> XmlReader<T> {
        XmlReader {
            io,
            framer: self.framer,
            buf: self.buf,
        }
    }
}

impl<R: AsyncRead + Unpin> XmlReader<R> {
    /// A reader with an empty framer over `io`.
    pub fn new(io: R) -> Self {
        XmlReader {
            io,
            framer: Framer::new(MAX_STANZA),
            buf: vec![0; 64 * 1024],
        }
    }

    /// Size in bytes, as received, of the last stanza returned.
    pub fn last_frame_len(&self) -> usize {
        self.framer.last_stanza_len()
    }

    /// The connection, to write on it.
    pub fn io_mut(&mut self) -> &mut R {
        &mut self.io
    }

    /// The connection back (for the TLS upgrade after STARTTLS).
    pub fn into_inner(self) -> R {
        self.io
    }

    /// Starts parsing a new stream (after STARTTLS or SASL).
    pub fn reset(&mut self) {
        self.framer.reset();
    }

    /// The next frame; end of input is `SessionError::Disconnected`.
    pub async fn next_frame(&mut self) -> Result<Frame, SessionError> {
        loop {
            if let Some(frame) = self.framer.next_frame()? {
                log_incoming(&frame);
                return Ok(frame);
            }
            let n = self.io.read(&mut self.buf).await?;
            if n == 0 {
                return Err(SessionError::Disconnected);
            }
            self.framer.feed(&self.buf[..n]);
        }
    }

    /// The next first-level element; a stream error or close becomes an error.
    pub async fn next_element(&mut self) -> Result<Element, SessionError> {
        match self.next_frame().await? {
            Frame::Stanza(el) if el.is("error", STREAMS_NS) => Err(stream_error(&el)),
            Frame::Stanza(el) => Ok(el),
            // During the negotiation every element matters: one we cannot read ends it.
            Frame::TooDeep(_) => Err(SessionError::Xml(crate::xml::XmlError::TooDeep {
                limit: crate::xml::MAX_DEPTH,
            })),
            Frame::StreamClose => Err(SessionError::Disconnected),
            Frame::StreamOpen(_) => Err(SessionError::Unexpected {
                expected: "a stanza",
                got: "a second stream header".into(),
            }),
        }
    }
}

/// Writes one stanza (or raw stream markup) and flushes.
pub async fn write_str<W: AsyncWrite + Unpin>(io: &mut W, text: &str) -> Result<(), SessionError> {
    log_outgoing(text);
    io.write_all(text.as_bytes()).await?;
    io.flush().await?;
    Ok(())
}

/// Serialises `el` as a stanza of the client namespace and writes it (logged at trace).
pub async fn write_element<W: AsyncWrite + Unpin>(
    io: &mut W,
    el: &Element,
) -> Result<(), SessionError> {
    write_str(io, &xml::stanza_to_string(el, crate::ns::CLIENT_NS)).await
}

/// Turns `<stream:error>` into a typed error (RFC 6120 §4.9).
pub fn stream_error(el: &Element) -> SessionError {
    use crate::ns::STREAM_ERRORS_NS as NS;
    let condition = el
        .children()
        .find(|c| c.ns() == NS && c.name() != "text")
        .map(|c| c.name().to_owned())
        .unwrap_or_else(|| "undefined-condition".into());
    let text = el.child_text("text", NS).filter(|t| !t.is_empty());
    SessionError::StreamError { condition, text }
}

/// Longest XML text written to the log; IBB payloads would drown everything else.
const LOG_LIMIT: usize = 1200;

fn log_incoming(frame: &Frame) {
    if !tracing::enabled!(target: "xft::xml", tracing::Level::TRACE) {
        return;
    }
    let text = match frame {
        Frame::StreamOpen(h) => format!("<stream:stream id={:?} from={:?}>", h.id, h.from),
        Frame::StreamClose => "</stream:stream>".into(),
        Frame::Stanza(el) if el.ns() == SASL_NS => {
            format!("<{} xmlns='{}'>[redacted]", el.name(), SASL_NS)
        }
        Frame::Stanza(el) => el.to_xml(),
        Frame::TooDeep(el) => format!("{} [skipped: nested too deeply]", el.to_xml()),
    };
    tracing::trace!(target: "xft::xml", "RECV {}", truncate(&text));
}

/// Logs what we send at trace level (`-vv`), SASL redacted, long text truncated.
pub fn log_outgoing(text: &str) {
    if !tracing::enabled!(target: "xft::xml", tracing::Level::TRACE) {
        return;
    }
    let redacted;
    let shown = if text.contains(SASL_NS) {
        redacted = "<SASL exchange> [redacted]".to_owned();
        &redacted
    } else {
        text
    };
    tracing::trace!(target: "xft::xml", "SEND {}", truncate(shown));
}

fn truncate(s: &str) -> String {
    if s.len() <= LOG_LIMIT {
        return s.to_owned();
    }
    let mut end = LOG_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}
