//! A file to the server's HTTP upload service (XEP-0363), then, for `xft send`, its
//! link to the recipient in a message (XEP-0066 §3): the route that needs no online peer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::http::{self, HttpError};
use crate::jid::Jid;
use crate::oob;
use crate::session::Session;
use crate::transfer::progress::Progress;
use crate::transfer::source::Source;
use crate::transfer::{Moved, Report, TransferError, UPLOAD as METHOD};
use crate::upload::{self, Service, UploadError};

/// Uploads `source` (asking for a second slot once when the PUT fails for a reason a new
/// slot may cure, XEP-0363 §5) and returns the report, whose `url` is the GET URL.
pub(crate) async fn upload_file(
    session: &Session,
    http: &http::Client,
    service: &Service,
    source: &Source,
    timeout: Duration,
    progress: Arc<dyn Progress>,
) -> Result<Report, TransferError> {
    if let Some(max) = service.max_file_size.filter(|max| source.size > *max) {
        return Err(UploadError::TooLarge {
            name: source.name.clone(),
            size: source.size,
            max,
            from_service: false,
        }
        .into());
    }
    let content_type = upload::content_type_of(&source.name);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let slot = upload::request_slot(
            session,
            service,
            &source.name,
            source.size,
            &content_type,
            timeout,
        )
        .await?;
        if slot.put_url.starts_with("http://") {
            tracing::warn!("the upload service gave a plain-http URL: the file crosses the network unencrypted");
        }
        tracing::debug!(
            "slot: PUT {} ({} headers)",
            slot.put_url,
            slot.put_headers.len()
        );
        let started = Instant::now();
        progress.start(&source.name, source.size, METHOD);
        let mut result = put(http, &slot, &content_type, source, progress.clone()).await;
        if result.is_ok() {
            result = http
                .check_served(&slot.get_url, source.size)
                .await
                .map_err(TransferError::Http);
        }
        progress.finish(result.is_ok());
        match result {
            Ok(()) => {
                let moved = Moved {
                    size: source.size,
                    protocol: METHOD,
                    method: METHOD,
                    hash: None,
                    offset: 0,
                    elapsed: started.elapsed(),
                };
                return Ok(Report::uploaded(&source.name, &slot.get_url).moved(moved));
            }
            Err(TransferError::Http(e)) if attempt == 1 && worth_a_new_slot(&e) => {
                tracing::warn!("upload failed ({e}); trying once more with a new slot");
            }
            Err(e) => return Err(e),
        }
    }
}

/// Failures a fresh slot may cure: the slot's credentials, its expiry or reuse, the
/// server's trouble, the connection. Not: too large, our own file.
fn worth_a_new_slot(e: &HttpError) -> bool {
    match e {
        HttpError::Status { status, .. } => *status != 413 && *status != 400,
        HttpError::Request { .. } | HttpError::Stalled { .. } => true,
        _ => false,
    }
}

async fn put(
    http: &http::Client,
    slot: &upload::Slot,
    content_type: &str,
    source: &Source,
    progress: Arc<dyn Progress>,
) -> Result<(), TransferError> {
    let file = std::fs::File::open(&source.path).map_err(|e| {
        TransferError::Source(crate::transfer::source::SourceError::Io {
            path: source.path.clone(),
            source: e,
        })
    })?;
    let on_bytes: http::OnBytes = Arc::new(move |n| progress.advance(n));
    http.put_file(
        &slot.put_url,
        &slot.put_headers,
        content_type,
        file,
        source.size,
        on_bytes,
    )
    .await
    .map_err(|e| match e {
        HttpError::Read(e) => TransferError::Source(crate::transfer::source::SourceError::Io {
            path: source.path.clone(),
            source: e,
        }),
        e => TransferError::Http(e),
    })
}

/// Sends the link to `to` (its bare JID: the server stores it for an offline
/// recipient and copies it to every client of an online one).
pub(crate) async fn announce(session: &Session, to: &Jid, url: &str) -> Result<(), TransferError> {
    let to = to.bare().to_string();
    Ok(session.send(oob::announcement(&to, url)).await?)
}
