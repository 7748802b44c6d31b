//! The receiving end of an HTTP upload: a link announced in a message (XEP-0066 §3,
//! XEP-0363) downloaded into the destination with the same naming, `.part` and rename
//! rules as a peer-to-peer transfer, and `--max-size` checked against Content-Length
//! before the first byte and against the count during the copy. A failed download
//! leaves nothing behind: it cannot be resumed, so its `.part` is removed.
//!
//! An `aesgcm://` link (XEP-0454) is fetched over HTTPS and decrypted while it streams
//! into the `.part`, which is renamed only once the tag at its end matched: an altered
//! or truncated file leaves nothing.

use std::sync::Arc;
use std::time::Instant;

use super::RecvOptions;
use crate::hash::{Algorithm, Hasher};
use crate::http::{self, HttpError};
use crate::jid::Jid;
use crate::oob::{Link, Shared};
use crate::transfer::progress::{Metered, Progress};
use crate::transfer::sink::{discard, finish_target, open_target};
use crate::transfer::{Moved, OmemoSender, Report, TransferError, UPLOAD as METHOD};

/// The name a download gets when its URL has none.
const FALLBACK_NAME: &str = "download";

/// Downloads `link` (sent by `from`, by `omemo`'s device when the message was
/// encrypted) and reports where it went.
pub(crate) async fn receive_link(
    http: &http::Client,
    (from, omemo): (&Jid, Option<OmemoSender>),
    link: &Link,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<Report, TransferError> {
    let download = http.get(&link.url).await?;
    let overhead = if link.key.is_some() {
        crate::gcm::TAG_LEN as u64
    } else {
        0
    };
    let shared = link.shared.clone().unwrap_or_default();
    let size = download.length.map(|l| l.saturating_sub(overhead));
    check_length(&link.url, (size, shared.size), options.max_size)?;
    let name = shared
        .name
        .clone()
        .or_else(|| http::file_name_of(&link.url))
        .unwrap_or_else(|| FALLBACK_NAME.to_owned());
    let (target, output) = open_target(&options.destination, &name, options.overwrite)?;
    let started = Instant::now();
    progress.start(&name, size.or(shared.size).unwrap_or(0), METHOD);
    let hasher = shared.hash.as_ref().map(|(algo, _)| Hasher::new(*algo));
    let copied = async {
        let writer = output.async_writer().map_err(|e| output.sink_error(e))?;
        let mut writer = Metered::new(writer, progress.clone(), hasher);
        let counted_by_writer: http::OnBytes = Arc::new(|_| {});
        let limit = (options.max_size, link.key.as_ref());
        let bytes = download
            .copy_to(&mut writer, limit, counted_by_writer)
            .await
            .map_err(|e| match e {
                HttpError::Write(e) => output.sink_error(e),
                e => TransferError::Http(e),
            })?;
        Ok((bytes, writer.take_hash()))
    }
    .await;
    progress.finish(copied.is_ok());
    let verified = copied.and_then(|(bytes, hasher)| {
        let hash = verify_shared(&link.url, &shared, (bytes, hasher))?;
        Ok((bytes, hash))
    });
    let (bytes, hash) = match verified {
        Ok(done) => done,
        Err(e) => {
            discard(&target);
            return Err(e);
        }
    };
    let path = finish_target(target, &options.registry)?;
    let moved = Moved {
        size: bytes,
        protocol: METHOD,
        method: METHOD,
        hash,
        offset: 0,
        elapsed: started.elapsed(),
    };
    let mut report = Report::received(&name, link.desc.clone(), from, path);
    report.encrypted = link.key.is_some();
    report.omemo = omemo;
    Ok(report.at(&link.url).moved(moved))
}

/// `--max-size` against the length the server announced, or else the share's size;
/// and the two must agree when both are known.
fn check_length(
    url: &str,
    (served, shared): (Option<u64>, Option<u64>),
    max: Option<u64>,
) -> Result<(), TransferError> {
    if let (Some(length), Some(expected)) = (served, shared) {
        if length != expected {
            let url = url.to_owned();
            return Err(HttpError::WrongLength {
                url,
                length,
                expected,
            }
            .into());
        }
    }
    match (served.or(shared), max) {
        (Some(length), Some(max)) if length > max => Err(HttpError::TooLarge {
            url: url.to_owned(),
            length,
            max,
        }
        .into()),
        _ => Ok(()),
    }
}

/// What a share announced (XEP-0446) against what came: the size, and the hash,
/// before the file gets its name. Returns the verified hash.
fn verify_shared(
    url: &str,
    shared: &Shared,
    (bytes, hasher): (u64, Option<Hasher>),
) -> Result<Option<(Algorithm, String)>, TransferError> {
    if let Some(expected) = shared.size.filter(|s| *s != bytes) {
        let url = url.to_owned();
        return Err(HttpError::WrongLength {
            url,
            length: bytes,
            expected,
        }
        .into());
    }
    let (Some((algo, want)), Some(hasher)) = (&shared.hash, hasher) else {
        return Ok(None);
    };
    let digest = hasher.finalize();
    if digest != *want {
        return Err(TransferError::HashMismatch {
            algo: algo.name(),
            expected: crate::hash::hex(want),
            actual: crate::hash::hex(&digest),
        });
    }
    Ok(Some((*algo, crate::hash::hex(&digest))))
}
