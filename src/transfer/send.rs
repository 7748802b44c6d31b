//! The sending side: offer (XEP-0095 §3.2, XEP-0096 §3), then the chosen bytestream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::progress::{Metered, Progress};
use super::source::Source;
use super::{Report, TransferError};
use crate::bytestream::ibb::IbbSender;
use crate::disco::{self, SI_FILE_TRANSFER_NS, SI_NS};
use crate::jid::FullJid;
use crate::session::{IqError, Session};
use crate::si::{self, FileOffer, StreamMethod};
use crate::stanza::{self, StanzaError};

/// How to send.
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// Stream methods to offer, in order of preference.
    pub methods: Vec<StreamMethod>,
    pub desc: Option<String>,
    /// IBB block size to ask for (XEP-0047 §2.1).
    pub block_size: usize,
    /// IBB blocks in flight before waiting for an acknowledgement.
    pub window: usize,
    /// How long the recipient may take to accept the offer.
    pub offer_timeout: Duration,
    /// How long any single protocol step may take.
    pub timeout: Duration,
}

/// Offers `source` to `to` and sends it over the method the recipient picks.
pub async fn send_file(
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
        md5: Some(source.md5.clone()),
        date: source.modified.map(si::xep0082_datetime),
        desc: options.desc.clone(),
        methods: options.methods.clone(),
    };
    let chosen = offer_file(session, to, &offer, options.offer_timeout).await?;
    tracing::debug!("{to} chose {:?}", chosen);
    let started = Instant::now();
    let method = chosen[0];
    progress.start(&source.name, source.size, method.short_name());
    let result = match method {
        StreamMethod::Ibb => {
            send_ibb(session, to, &offer.sid, source, options, progress.clone()).await
        }
        StreamMethod::Socks5 => Err(TransferError::NoValidStreams {
            jid: to.to_string(),
            offered: "SOCKS5 bytestreams are not implemented yet".into(),
        }),
    };
    progress.finish(result.is_ok());
    result?;
    let (seconds, bytes_per_sec) = Report::timing(source.size, started.elapsed());
    Ok(Report {
        name: source.name.clone(),
        size: source.size,
        method: method.short_name(),
        seconds,
        bytes_per_sec,
        md5: source.md5.clone(),
        to: Some(to.to_string()),
        path: None,
        from: None,
    })
}

/// XEP-0095 §3.2: sends the offer and returns the chosen method(s), mapping each kind
/// of refusal (§4.2) to its own error.
async fn offer_file(
    session: &Session,
    to: &FullJid,
    offer: &FileOffer,
    timeout: Duration,
) -> Result<Vec<StreamMethod>, TransferError> {
    let request = stanza::iq("set", Some(&to.to_string()), offer.to_element());
    match session.iq_timeout(request, timeout).await {
        Ok(answer) => {
            let si = answer
                .get_child("si", SI_NS)
                .ok_or(TransferError::BadAnswer(si::SiError::BadAnswer))?;
            si::parse_answer(si, &offer.methods).map_err(TransferError::BadAnswer)
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
    if e.is("forbidden") || e.is("not-acceptable") || e.is("not-allowed") {
        return TransferError::Declined { jid, text: e.text };
    }
    if e.has_app_condition("no-valid-streams", SI_NS) {
        let offered: Vec<&str> = offer.methods.iter().map(|m| m.short_name()).collect();
        return TransferError::NoValidStreams {
            jid,
            offered: offered.join(", "),
        };
    }
    if e.is("service-unavailable") || e.is("feature-not-implemented") || e.is("item-not-found") {
        // Either the resource is gone (the server answers) or the client lacks SI (it
        // answers): disco#info tells which.
        return match disco::info(session, to.as_jid()).await {
            Ok(info) if !info.has_feature(SI_FILE_TRANSFER_NS) => {
                TransferError::NoFileTransfer { jid }
            }
            Ok(_) => TransferError::OfferRefused(e),
            Err(_) => TransferError::RecipientUnavailable { jid, error: e },
        };
    }
    if e.is("recipient-unavailable") || e.is("remote-server-not-found") {
        return TransferError::RecipientUnavailable { jid, error: e };
    }
    TransferError::OfferRefused(e)
}

/// XEP-0047 over the whole file.
async fn send_ibb(
    session: &Session,
    to: &FullJid,
    sid: &str,
    source: &Source,
    options: &SendOptions,
    progress: Arc<dyn Progress>,
) -> Result<(), TransferError> {
    let file = open_source(source).await?;
    let mut reader = Metered::new(
        tokio::io::BufReader::with_capacity(256 * 1024, file),
        progress,
        false,
    );
    let mut ibb = IbbSender::open(
        session,
        to.as_jid(),
        sid,
        options.block_size,
        options.timeout,
    )
    .await?;
    match ibb.send(&mut reader, source.size, options.window).await {
        Ok(_) => Ok(ibb.close().await?),
        Err(e) => {
            ibb.abort().await;
            Err(e.into())
        }
    }
}

async fn open_source(source: &Source) -> Result<tokio::fs::File, TransferError> {
    tokio::fs::File::open(&source.path).await.map_err(|e| {
        TransferError::Source(super::source::SourceError::Io {
            path: source.path.clone(),
            source: e,
        })
    })
}
