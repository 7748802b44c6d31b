//! The top-level error and the exit-code table every subcommand shares.
//!
//! Each layer has its own error enum; this one wraps them, and [`Error::exit_status`] is
//! the single exhaustive `match` that decides the exit code, so a new variant anywhere
//! forces a decision here. The README's table is checked against [`ExitStatus::ALL`].

use crate::bytestream::ibb::IbbError;
use crate::bytestream::s5b::S5bError;
use crate::http::HttpError;
use crate::omemo::OmemoError;
use crate::session::{IqError, SessionError};
use crate::transfer::TransferError;
use crate::transport::TransportError;
use crate::upload::UploadError;
use crate::vcard::VcardError;

/// Documented process exit codes, grouped by what the user can do about the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done.
    Success = 0,
    /// A bug in xft: report it.
    Internal = 1,
    /// Fix the command line.
    Usage = 2,
    /// Fix the configuration file, the password or `--ca`.
    Config = 3,
    /// Check the network, the server's address or its certificate; try again.
    Connection = 4,
    /// Check the JID and the password.
    Auth = 5,
    /// The recipient is not there: wait, add the contact, or upload instead.
    Unavailable = 6,
    /// A side lacks the protocol: use another method, server or client.
    Unsupported = 7,
    /// The other side said no (policy or size).
    Declined = 8,
    /// The bytes did not get through: send again (a receiver resumes).
    TransferFailed = 9,
    /// Nobody answered within `--timeout`.
    Timeout = 10,
    /// What arrived is not what was announced: send again.
    Integrity = 11,
    /// A local file could not be read, written or renamed.
    LocalIo = 12,
    /// No such vCard, user or link.
    NotFound = 13,
    /// The server or peer reported another error (see the message).
    Remote = 14,
    /// The server or peer broke the protocol (see the message; report it to them).
    Protocol = 15,
    /// No trusted OMEMO device to encrypt for: verify a fingerprint.
    Untrusted = 16,
    /// Ctrl-C.
    Interrupted = 130,
}

impl ExitStatus {
    /// Every status, in the README's order.
    pub const ALL: [ExitStatus; 18] = [
        ExitStatus::Success,
        ExitStatus::Internal,
        ExitStatus::Usage,
        ExitStatus::Config,
        ExitStatus::Connection,
        ExitStatus::Auth,
        ExitStatus::Unavailable,
        ExitStatus::Unsupported,
        ExitStatus::Declined,
        ExitStatus::TransferFailed,
        ExitStatus::Timeout,
        ExitStatus::Integrity,
        ExitStatus::LocalIo,
        ExitStatus::NotFound,
        ExitStatus::Remote,
        ExitStatus::Protocol,
        ExitStatus::Untrusted,
        ExitStatus::Interrupted,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// One line for `--help` and the README.
    pub fn describe(self) -> &'static str {
        match self {
            ExitStatus::Success => "success",
            ExitStatus::Internal => "internal error (a bug in xft)",
            ExitStatus::Usage => "invalid command line",
            ExitStatus::Config => "configuration or credentials missing or invalid",
            ExitStatus::Connection => "cannot reach the server, TLS failure, or connection lost",
            ExitStatus::Auth => "authentication failed (wrong JID or password)",
            ExitStatus::Unavailable => {
                "recipient unavailable: offline, no resource visible, not a contact"
            }
            ExitStatus::Unsupported => {
                "peer or server lacks support: no SI file transfer, no common stream method, no upload service"
            }
            ExitStatus::Declined => "offer declined or refused (not allowed, too large)",
            ExitStatus::TransferFailed => {
                "transfer failed: every bytestream failed or the stream broke"
            }
            ExitStatus::Timeout => "no answer in time",
            ExitStatus::Integrity => {
                "integrity failure: size or hash does not match what was announced"
            }
            ExitStatus::LocalIo => "local file error (read, write, rename)",
            ExitStatus::NotFound => "not found (no vCard, no such user, a link that is gone)",
            ExitStatus::Remote => "other error reported by the server or peer",
            ExitStatus::Protocol => "protocol violation by the server or peer",
            ExitStatus::Untrusted => {
                "no trusted OMEMO device of the recipient (--encrypt): verify a fingerprint"
            }
            ExitStatus::Interrupted => "interrupted (Ctrl-C)",
        }
    }
}

/// Every error a subcommand can end with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration or missing credentials.
    #[error("{0}")]
    Config(String),
    /// Arguments that parse but do not fit together.
    #[error("{0}")]
    Usage(String),
    /// Sending or receiving a file (any protocol).
    #[error(transparent)]
    Transfer(#[from] crate::transfer::TransferError),
    /// Logging in, or the session after it.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// `xft vcard`.
    #[error(transparent)]
    Vcard(#[from] VcardError),
    /// End-to-end encryption (`--encrypt`, `xft omemo`).
    #[error(transparent)]
    Omemo(#[from] OmemoError),
    /// A local file or stream outside a transfer (stdout, the config file).
    #[error("{context}: {source}")]
    LocalIo {
        /// What xft was doing.
        context: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// `xft send --to A --to B`: some recipients failed; the exit code is the first
    /// failure's.
    #[error("{failed} of {total} recipients failed; the first: {first}")]
    Several {
        /// Recipients that failed.
        failed: usize,
        /// Recipients in all.
        total: usize,
        /// The first failure.
        first: Box<Error>,
    },
    /// `xft probe JID`: no method would reach JID.
    #[error("nothing would work with this peer (see the advice above)")]
    NothingWouldWork,
    /// A bug in xft: a task panicked or was cancelled.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A [`Error::LocalIo`] while doing `context`.
    pub fn local_io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::LocalIo {
            context: context.into(),
            source,
        }
    }

    /// The exit code for this error (the one exhaustive decision, see the module docs).
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Config(_) => ExitStatus::Config,
            Error::Usage(_) => ExitStatus::Usage,
            Error::Transfer(e) => transfer_status(e),
            Error::Session(e) => session_status(e),
            Error::Vcard(e) => match e {
                VcardError::NotFound { .. } => ExitStatus::NotFound,
                VcardError::Refused(_) => ExitStatus::Remote,
                VcardError::Iq(e) => iq_status(e),
                VcardError::Malformed => ExitStatus::Protocol,
                VcardError::BadInput(_) => ExitStatus::Usage,
            },
            Error::Omemo(e) => omemo_status(e),
            Error::LocalIo { .. } => ExitStatus::LocalIo,
            Error::Interrupted => ExitStatus::Interrupted,
            Error::Internal(_) => ExitStatus::Internal,
            Error::Several { first, .. } => first.exit_status(),
            Error::NothingWouldWork => ExitStatus::Unsupported,
        }
    }
}

/// The exit code of an OMEMO failure.
pub fn omemo_status(e: &OmemoError) -> ExitStatus {
    use crate::omemo::pep::PepError;
    use crate::omemo::store::StoreError;
    match e {
        OmemoError::Store(StoreError::Busy(_)) => ExitStatus::Timeout,
        OmemoError::Store(StoreError::NoHome) => ExitStatus::Config,
        OmemoError::Store(_) => ExitStatus::LocalIo,
        OmemoError::Pep(PepError::Iq { source, .. }) => iq_status(source),
        OmemoError::Pep(PepError::Malformed { .. }) => ExitStatus::Protocol,
        OmemoError::NoDevices { .. } => ExitStatus::Unsupported,
        OmemoError::NoneTrusted { .. } => ExitStatus::Untrusted,
        OmemoError::NoIdentity => ExitStatus::Internal,
        OmemoError::NotForUs
        | OmemoError::NoSession { .. }
        | OmemoError::UnknownPreKey(_)
        | OmemoError::Element(_)
        | OmemoError::Wire(_)
        | OmemoError::Ratchet(_)
        | OmemoError::X3dh(_)
        | OmemoError::Payload(_)
        | OmemoError::NotText => ExitStatus::Integrity,
    }
}

/// The exit code for a login or session failure.
pub fn session_status(e: &SessionError) -> ExitStatus {
    match e {
        SessionError::Transport(TransportError::CaFile { .. }) => ExitStatus::Config,
        SessionError::Transport(_)
        | SessionError::Io(_)
        | SessionError::Disconnected
        | SessionError::StaleServerCache
        | SessionError::NoStartTls => ExitStatus::Connection,
        SessionError::AuthFailed { .. } => ExitStatus::Auth,
        SessionError::LoginTimeout { .. } => ExitStatus::Timeout,
        SessionError::Sasl(crate::sasl::SaslError::Prep) => ExitStatus::Config,
        SessionError::Sasl(crate::sasl::SaslError::NoMechanism(_)) => ExitStatus::Auth,
        SessionError::Sasl(_) => ExitStatus::Auth,
        SessionError::Bind(_) => ExitStatus::Remote,
        SessionError::Xml(_)
        | SessionError::StreamError { .. }
        | SessionError::Unexpected { .. } => ExitStatus::Protocol,
    }
}

/// The exit code for an iq that got no result.
pub fn iq_status(e: &IqError) -> ExitStatus {
    match e {
        IqError::Stanza(_) => ExitStatus::Remote,
        IqError::Timeout(_) => ExitStatus::Timeout,
        IqError::Disconnected => ExitStatus::Connection,
    }
}

/// The exit code of a transfer failure.
pub fn transfer_status(e: &TransferError) -> ExitStatus {
    match e {
        TransferError::Source(_) | TransferError::Sink { .. } => ExitStatus::LocalIo,
        TransferError::Session(e) => session_status(e),
        TransferError::NotAContact { .. }
        | TransferError::Offline { .. }
        | TransferError::RecipientUnavailable { .. } => ExitStatus::Unavailable,
        TransferError::NoFileTransfer { .. } | TransferError::NoValidStreams { .. } => {
            ExitStatus::Unsupported
        }
        TransferError::Declined { .. } => ExitStatus::Declined,
        TransferError::OfferRefused(_) => ExitStatus::Remote,
        TransferError::OfferTimeout(_) => ExitStatus::Timeout,
        TransferError::OfferIq(e) | TransferError::Roster(e) => iq_status(e),
        TransferError::BadAnswer(_) => ExitStatus::Protocol,
        TransferError::Ibb(e) => ibb_status(e),
        TransferError::S5b(e) => s5b_status(e),
        TransferError::FallbackFailed { ibb, .. } => transfer_status(ibb),
        TransferError::StreamBroken { .. } | TransferError::PeerGone { .. } => {
            ExitStatus::TransferFailed
        }
        TransferError::Stalled { .. } => ExitStatus::Timeout,
        TransferError::SourceChanged { .. } => ExitStatus::Integrity,
        TransferError::Incomplete { .. } | TransferError::Md5Mismatch { .. } => {
            ExitStatus::Integrity
        }
        TransferError::Terminated { reason, .. } => jingle_status(*reason),
        TransferError::HashMismatch { .. } | TransferError::ResumeUnverified => {
            ExitStatus::Integrity
        }
        TransferError::JingleProtocol(_) => ExitStatus::Protocol,
        TransferError::Upload(e) => upload_status(e),
        TransferError::Http(e) => http_status(e),
    }
}

/// XEP-0166 §7.4 reasons a peer ends a session with.
fn jingle_status(reason: crate::jingle::Reason) -> ExitStatus {
    use crate::jingle::Reason as R;
    match reason {
        R::Decline | R::Busy => ExitStatus::Declined,
        R::MediaError | R::SecurityError => ExitStatus::Integrity,
        R::Timeout | R::Expired => ExitStatus::Timeout,
        R::UnsupportedApplications | R::UnsupportedTransports | R::IncompatibleParameters => {
            ExitStatus::Unsupported
        }
        R::Success
        | R::Cancel
        | R::FailedTransport
        | R::FailedApplication
        | R::ConnectivityError
        | R::GeneralError
        | R::AlternativeSession
        | R::Gone => ExitStatus::TransferFailed,
    }
}

fn upload_status(e: &UploadError) -> ExitStatus {
    match e {
        UploadError::NoService => ExitStatus::Unsupported,
        UploadError::TooLarge { .. } | UploadError::Refused(_) => ExitStatus::Declined,
        UploadError::TryLater { .. } => ExitStatus::Remote,
        UploadError::Iq(e) => iq_status(e),
        UploadError::BadSlot(_) => ExitStatus::Protocol,
        UploadError::NotHttps(_) => ExitStatus::Unsupported,
    }
}

fn http_status(e: &HttpError) -> ExitStatus {
    match e {
        HttpError::Setup(_) => ExitStatus::Config,
        HttpError::Request { .. } => ExitStatus::Connection,
        HttpError::Status { status: 413, .. } | HttpError::TooLarge { .. } => ExitStatus::Declined,
        HttpError::Status {
            status: 404 | 410, ..
        } => ExitStatus::NotFound,
        HttpError::Status { .. } => ExitStatus::Remote,
        HttpError::Stalled { .. } => ExitStatus::Timeout,
        HttpError::Incomplete { .. } | HttpError::WrongLength { .. } | HttpError::BadTag { .. } => {
            ExitStatus::Integrity
        }
        HttpError::Read(_) | HttpError::Write(_) => ExitStatus::LocalIo,
    }
}

fn s5b_status(e: &S5bError) -> ExitStatus {
    match e {
        S5bError::NoAnswer(e) => iq_status(e),
        S5bError::NoOffer(_) => ExitStatus::Timeout,
        S5bError::UnknownStreamHost(_) | S5bError::BadOffer => ExitStatus::Protocol,
        S5bError::Listen(_) => ExitStatus::Config,
        S5bError::Disconnected => ExitStatus::Connection,
        S5bError::TargetFailed(_)
        | S5bError::DirectNotConnected
        | S5bError::Proxy { .. }
        | S5bError::ActivationRefused(_)
        | S5bError::NothingToOffer
        | S5bError::NoStreamHost(_)
        | S5bError::PeerGone
        | S5bError::Socks5(_) => ExitStatus::TransferFailed,
    }
}

fn ibb_status(e: &IbbError) -> ExitStatus {
    match e {
        IbbError::OpenRefused(_)
        | IbbError::DataRefused { .. }
        | IbbError::PeerClosed
        | IbbError::PeerGone => ExitStatus::TransferFailed,
        IbbError::CloseRefused(_) | IbbError::TooMuchData { .. } => ExitStatus::Integrity,
        IbbError::Iq(e) => iq_status(e),
        IbbError::SeqGap { .. }
        | IbbError::BlockTooLarge { .. }
        | IbbError::BadBase64 { .. }
        | IbbError::BadBlockSize(_)
        | IbbError::MessageMode => ExitStatus::Protocol,
        IbbError::NoOpen(_) | IbbError::Stalled(_) => ExitStatus::Timeout,
        IbbError::SourceShort { .. } | IbbError::Read(_) | IbbError::Write(_) => {
            ExitStatus::LocalIo
        }
        IbbError::Disconnected => ExitStatus::Connection,
    }
}
