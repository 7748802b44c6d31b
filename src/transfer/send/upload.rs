//! A file to the server's HTTP upload service (XEP-0363), then, for `xft send`, its
//! link to the recipient in a message (XEP-0066 §3): the route that needs no online peer.
//!
//! Encrypted (XEP-0454), the file is encrypted while it streams to the service and the
//! slot is asked for under a random name with the file's extension, as
//! `application/octet-stream`: the service learns the size and the time, not the name
//! or the type. The link then goes only inside an OMEMO message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::aesgcm::FileKey;
use crate::hash::{Algorithm, Hasher};
use crate::http::{self, HttpError};
use crate::jid::Jid;
use crate::oob;
use crate::session::Session;
use crate::sfs::Metadata;
use crate::transfer::progress::Progress;
use crate::transfer::source::Source;
use crate::transfer::{Moved, Report, TransferError, UPLOAD as METHOD};
use crate::upload::{self, Service, UploadError};

/// What the service is asked for: the name, size and type of the slot, and the key
/// when the file is encrypted on the way.
struct Request {
    name: String,
    size: u64,
    content_type: String,
    key: Option<FileKey>,
}

impl Request {
    fn of(source: &Source, encrypt: bool) -> Request {
        match encrypt {
            false => Request {
                name: source.name.clone(),
                size: source.size,
                content_type: upload::content_type_of(&source.name),
                key: None,
            },
            true => Request {
                name: random_name(&source.name),
                size: source.size + crate::gcm::TAG_LEN as u64,
                content_type: "application/octet-stream".to_owned(),
                key: Some(FileKey::generate()),
            },
        }
    }
}

/// A random name keeping `name`'s extension (clients show a file by its extension).
fn random_name(name: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    let extension = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 10 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default();
    format!("{}{extension}", crate::hash::hex(&bytes))
}

/// A finished upload: its report, and for a plain file what a file share announces of
/// it (XEP-0446: name, size, type, date and the sha-256 computed while it was sent).
pub(crate) struct Uploaded {
    pub report: Report,
    pub share: Option<Metadata>,
}

/// Uploads `source` (asking for a second slot once when the PUT fails for a reason a new
/// slot may cure, XEP-0363 §5) and returns the report, whose `url` is the GET URL, or
/// with `encrypt` the `aesgcm://` link (XEP-0454).
pub(crate) async fn upload_file(
    session: &Session,
    http: &http::Client,
    (service, encrypt): (&Service, bool),
    source: &Source,
    timeout: Duration,
    progress: Arc<dyn Progress>,
) -> Result<Uploaded, TransferError> {
    let request = Request::of(source, encrypt);
    if let Some(max) = service.max_file_size.filter(|max| request.size > *max) {
        return Err(UploadError::TooLarge {
            name: source.name.clone(),
            size: request.size,
            max,
            from_service: false,
        }
        .into());
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let slot = upload::request_slot(
            session,
            service,
            &request.name,
            request.size,
            &request.content_type,
            timeout,
        )
        .await?;
        let plain_http = slot.put_url.starts_with("http://") || slot.get_url.starts_with("http://");
        if plain_http && request.key.is_some() {
            return Err(UploadError::NotHttps(slot.get_url).into());
        }
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
        let digest: Option<http::Digest> = request
            .key
            .is_none()
            .then(|| Arc::new(std::sync::Mutex::new(Hasher::new(Algorithm::Sha256))));
        let tap = (progress.clone(), digest.clone());
        let mut result = put(http, &slot, &request, source, tap).await;
        if result.is_ok() {
            result = http
                .check_served(&slot.get_url, request.size)
                .await
                .map_err(TransferError::Http);
        }
        progress.finish(result.is_ok());
        match result {
            Ok(()) => {
                let done = (started.elapsed(), digest);
                return Ok(uploaded(source, &request, &slot.get_url, done));
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

/// The report of an upload that took `elapsed`, and the share of a plain one.
fn uploaded(
    source: &Source,
    request: &Request,
    get_url: &str,
    (elapsed, digest): (Duration, Option<http::Digest>),
) -> Uploaded {
    let moved = Moved {
        size: source.size,
        protocol: METHOD,
        method: METHOD,
        hash: None,
        offset: 0,
        elapsed,
    };
    let url = match &request.key {
        Some(key) => crate::aesgcm::link(get_url, key),
        None => get_url.to_owned(),
    };
    let mut report = Report::uploaded(&source.name, &url).moved(moved);
    report.encrypted = request.key.is_some();
    let share = digest.map(|d| metadata_of(source, request, &d));
    Uploaded { report, share }
}

/// What a file share says of a plain upload (XEP-0446 §3).
fn metadata_of(source: &Source, request: &Request, digest: &http::Digest) -> Metadata {
    let sha256 = digest
        .lock()
        .map(|h| h.clone().finalize())
        .unwrap_or_default();
    Metadata {
        name: Some(source.name.clone()),
        size: Some(source.size),
        media_type: Some(request.content_type.clone()),
        date: source.modified.map(crate::si::xep0082_datetime),
        desc: None,
        hashes: vec![(Algorithm::Sha256.name().to_owned(), sha256)],
    }
}

async fn put(
    http: &http::Client,
    slot: &upload::Slot,
    request: &Request,
    source: &Source,
    (progress, digest): (Arc<dyn Progress>, Option<http::Digest>),
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
        (&request.content_type, request.key.as_ref()),
        (file, source.size),
        (on_bytes, digest),
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
/// recipient and copies it to every client of an online one): as a file share
/// (XEP-0447) with `share`'s metadata, whose body and `jabber:x:oob` serve the clients
/// that read only links; else as a link alone (XEP-0066).
pub(crate) async fn announce(
    session: &Session,
    to: &Jid,
    url: &str,
    share: Option<&Metadata>,
) -> Result<(), TransferError> {
    let to = to.bare().to_string();
    let message = match share {
        Some(file) => crate::sfs::share_message(&to, file, url),
        None => oob::announcement(&to, url),
    };
    Ok(session.send(message).await?)
}
