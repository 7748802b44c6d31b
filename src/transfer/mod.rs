//! One file's life: offer, choose a bytestream, move the bytes, verify, rename.
//!
//! This is the only layer that knows both SI (the offer) and the bytestreams; it wires
//! them to files, progress and the receiver's policy (who may send, how much).

pub(crate) mod hash_cache;
pub(crate) mod jingle;
pub(crate) mod known_clients;

pub(crate) mod policy;
pub(crate) mod progress;
mod pump;
pub(crate) mod receive;
pub(crate) mod recipient;
pub(crate) mod resume;
pub(crate) mod send;
pub(crate) mod sink;
pub(crate) mod source;

use std::time::Duration;

use serde::Serialize;

use crate::bytestream::ibb::IbbError;
use crate::bytestream::s5b::S5bError;
use crate::session::{IqError, SessionError};
use crate::si::SiError;
use crate::stanza::StanzaError;

/// The `method` and `protocol` of HTTP upload in reports (XEP-0363).
pub(crate) const UPLOAD: &str = "upload";

/// What a finished transfer reports (`--json` prints it as one object per file).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    pub name: String,
    pub size: u64,
    pub method: &'static str,
    pub seconds: f64,
    pub bytes_per_sec: f64,
    /// Hex MD5 of the content; null when the sender offered no hash (`--no-hash`) and
    /// so the receiver checked the size only.
    pub md5: Option<String>,
    /// Sender: the full JID the file went to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Receiver: where the file was written ("-" for stdout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Receiver: the sender's full JID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Receiver: the description that came with the offer, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// A resumed transfer (XEP-0096 `<range/>`): the offset the bytes started from;
    /// `seconds` and `bytes_per_sec` cover only what crossed this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<u64>,
    /// HTTP upload (XEP-0363): the URL the file can be fetched from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// "si" (XEP-0096), "jingle" (XEP-0234) or "upload" (XEP-0363).
    pub protocol: &'static str,
    /// The hash that was verified, as "algorithm:hex" ("md5:…" for SI, "sha-256:…" for
    /// Jingle); null when only the size could be checked.
    pub hash: Option<String>,
    /// Whether the file was end-to-end encrypted (OMEMO and XEP-0454).
    pub encrypted: bool,
    /// Receiver of an encrypted file: the sending device and what we think of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omemo: Option<OmemoSender>,
}

/// The OMEMO device an encrypted file came from.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct OmemoSender {
    /// Its device id.
    pub device: u32,
    /// Its identity key's fingerprint, as clients show it.
    pub fingerprint: String,
    /// "blind" (trusted, not verified), "verified", "undecided" or "distrusted".
    pub trust: &'static str,
}

/// What moved, as every protocol reports it: the file's size, how, the hash that was
/// verified, where the bytes started (a resumed file) and how long what crossed took.
#[derive(Debug, Clone)]
pub(crate) struct Moved {
    pub size: u64,
    pub protocol: &'static str,
    pub method: &'static str,
    /// The verified hash: its algorithm and lowercase hex.
    pub hash: Option<(crate::hash::Algorithm, String)>,
    pub offset: u64,
    pub elapsed: Duration,
}

impl Report {
    /// The one place a report is made; the role's fields are added by the callers.
    fn named(name: &str) -> Report {
        Report {
            name: name.to_owned(),
            size: 0,
            method: "",
            seconds: 0.0,
            bytes_per_sec: 0.0,
            md5: None,
            to: None,
            path: None,
            from: None,
            desc: None,
            resumed_from: None,
            url: None,
            protocol: "",
            hash: None,
            encrypted: false,
            omemo: None,
        }
    }

    /// A file sent to `to`.
    pub(crate) fn sent(name: &str, to: &impl std::fmt::Display) -> Report {
        Report {
            to: Some(to.to_string()),
            ..Report::named(name)
        }
    }

    /// A file received from `from` into `path` ("-" for stdout).
    pub(crate) fn received(
        name: &str,
        desc: Option<String>,
        from: &impl std::fmt::Display,
        path: String,
    ) -> Report {
        Report {
            from: Some(from.to_string()),
            path: Some(path),
            desc,
            ..Report::named(name)
        }
    }

    /// A file uploaded: the URL it can be fetched from (XEP-0363).
    pub(crate) fn uploaded(name: &str, url: &str) -> Report {
        Report {
            url: Some(url.to_owned()),
            ..Report::named(name)
        }
    }

    /// With the URL the file came from (a download).
    pub(crate) fn at(mut self, url: &str) -> Report {
        self.url = Some(url.to_owned());
        self
    }

    /// With what moved: size, method, the verified hash, timing over what crossed.
    pub(crate) fn moved(mut self, moved: Moved) -> Report {
        let crossed = moved.size.saturating_sub(moved.offset);
        let seconds = moved.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            crossed as f64 / seconds
        } else {
            0.0
        };
        self.size = moved.size;
        self.protocol = moved.protocol;
        self.method = moved.method;
        self.seconds = (seconds * 1000.0).round() / 1000.0;
        self.bytes_per_sec = rate.round();
        self.resumed_from = (moved.offset > 0).then_some(moved.offset);
        if let Some((algorithm, hex)) = moved.hash {
            self.hash = Some(format!("{}:{hex}", algorithm.name()));
            if algorithm == crate::hash::Algorithm::Md5 {
                self.md5 = Some(hex);
            }
        }
        self
    }
}

/// The two ends of a bytestream copy, to say whose fault a failure is.
enum Ends<'a> {
    /// The file (at this path) into the socket: a read failure is the file's, a write
    /// failure the network's.
    Sending(&'a std::path::Path),
    /// The socket into this output: the other way round.
    Receiving(&'a sink::Output),
}

/// A failed copy of a bytestream's `size` bytes (`sent` of them moved) as the transfer
/// error it means; the one place that maps [`PumpError`].
fn transfer_error(
    (sent, e): (u64, pump::PumpError),
    size: u64,
    stall: Duration,
    ends: Ends<'_>,
) -> TransferError {
    use TransferError as T;
    match (e, ends) {
        (e, _) if e.is_stall() => T::Stalled {
            sent,
            size,
            after: stall,
        },
        (pump::PumpError::PeerGone | pump::PumpError::Stalled, _) => T::PeerGone { sent, size },
        (pump::PumpError::Read(e), Ends::Sending(path)) => T::Source(source::SourceError::Io {
            path: path.to_owned(),
            source: e,
        }),
        (pump::PumpError::Write(e), Ends::Receiving(output)) => output.sink_error(e),
        (pump::PumpError::Write(source) | pump::PumpError::Read(source), _) => {
            T::StreamBroken { sent, size, source }
        }
    }
}

/// Why one file's transfer failed, grouped by what the user can do about it (the exit
/// codes are decided in `error.rs`).
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    // The recipient cannot be reached (exit 6): wait, add the contact, or upload.
    #[error(
        "{jid} is not in your contacts, so xft cannot see which resource to send to: \
         run `xft contact add {jid}` (and `xft contact approve YOUR-JID` on their side), \
         or give the full JID that `xft recv` prints"
    )]
    NotAContact { jid: String },
    #[error(
        "{jid} is offline (no available resource); start `xft recv` there, or give a full JID"
    )]
    Offline { jid: String },
    #[error("{jid} is not available: {error}")]
    RecipientUnavailable { jid: String, error: StanzaError },
    // A side lacks the protocol (exit 7).
    #[error("{jid} does not support {protocol}")]
    NoFileTransfer { jid: String, protocol: &'static str },
    /// XEP-0095 §4.2: `<no-valid-streams/>`.
    #[error("{jid} supports none of the offered stream methods ({offered})")]
    NoValidStreams { jid: String, offered: String },
    // The other side said no, or ended the session (exit 8; 14 for other refusals; a
    // Jingle reason maps to its own code).
    #[error("{jid} declined the file{}", text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Declined { jid: String, text: Option<String> },
    #[error("the offer was refused: {0}")]
    OfferRefused(StanzaError),
    /// The peer ended the Jingle session (XEP-0166 §7.4) for this reason.
    #[error("{jid} ended the session: {}{}", reason.as_str(), text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Terminated {
        jid: String,
        reason: crate::jingle::Reason,
        text: Option<String>,
    },
    // Nobody answered in time (exit 10).
    #[error("no answer to the offer within {} s", .0.as_secs())]
    OfferTimeout(Duration),
    /// The S5B data phase made no progress for the whole `--timeout`.
    #[error("no data moved for {} s after {sent} of {size} bytes; giving up", after.as_secs())]
    Stalled {
        sent: u64,
        size: u64,
        after: Duration,
    },
    // The bytes did not get through (exit 9, or the code of the cause): send again.
    #[error("in-band bytestream: {0}")]
    Ibb(#[from] IbbError),
    #[error("SOCKS5 bytestream: {0}")]
    S5b(#[from] S5bError),
    /// S5B failed, and so did the IBB fallback; the exit code is the fallback's.
    #[error("SOCKS5 bytestream failed ({s5b}), and the in-band fallback too: {ibb}")]
    FallbackFailed {
        s5b: S5bError,
        ibb: Box<TransferError>,
    },
    #[error("the SOCKS5 connection broke after {sent} of {size} bytes: {source}")]
    StreamBroken {
        sent: u64,
        size: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("the peer went offline after {sent} of {size} bytes")]
    PeerGone { sent: u64, size: u64 },
    // What arrived is not what was announced (exit 11): send again.
    /// The bytes sent do not hash to what the offer said: the file changed after it was
    /// hashed, and the receiver will refuse it.
    #[error("the file changed while it was being sent (CRC-32 {expected} when hashed for the offer, {actual} as sent); send it again")]
    SourceChanged { expected: String, actual: String },
    #[error("received {received} of {expected} bytes: the sender closed the stream early")]
    Incomplete { received: u64, expected: u64 },
    #[error("MD5 mismatch: the offer said {expected}, the data hashes to {actual}")]
    Md5Mismatch { expected: String, actual: String },
    #[error("{algo} mismatch: the sender's checksum is {expected}, the data hashes to {actual}")]
    HashMismatch {
        algo: &'static str,
        expected: String,
        actual: String,
    },
    /// A resumed file whose sender sent no checksum: its two parts came in different
    /// sessions, and only a hash of the whole ties them.
    #[error("the sender sent no checksum, and a resumed file cannot be trusted without one; send it again (it will start afresh)")]
    ResumeUnverified,
    // A local file (exit 12).
    #[error(transparent)]
    Source(#[from] source::SourceError),
    #[error("writing {path}: {source}")]
    Sink {
        path: String,
        #[source]
        source: std::io::Error,
    },
    // The peer broke the protocol (exit 15).
    #[error("the recipient's answer is invalid: {0}")]
    BadAnswer(SiError),
    #[error("Jingle: {0}")]
    JingleProtocol(&'static str),
    // Lower layers, mapped by their own errors: the session, an iq, the roster, HTTP upload.
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("offer: {0}")]
    OfferIq(IqError),
    #[error("roster: {0}")]
    Roster(IqError),
    #[error("HTTP upload: {0}")]
    Upload(#[from] crate::upload::UploadError),
    #[error("HTTP: {0}")]
    Http(#[from] crate::http::HttpError),
}
