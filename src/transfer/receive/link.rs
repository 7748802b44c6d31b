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
use crate::http::{self, HttpError};
use crate::jid::Jid;
use crate::oob::Link;
use crate::transfer::progress::Progress;
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
    let size = download.length.map(|l| l.saturating_sub(overhead));
    if let (Some(length), Some(max)) = (size, options.max_size) {
        if length > max {
            return Err(HttpError::TooLarge {
                url: link.url.clone(),
                length,
                max,
            }
            .into());
        }
    }
    let name = http::file_name_of(&link.url).unwrap_or_else(|| FALLBACK_NAME.to_owned());
    let (target, output) = open_target(&options.destination, &name, options.overwrite)?;
    let started = Instant::now();
    progress.start(&name, size.unwrap_or(0), METHOD);
    let copied = async {
        let mut writer = output.async_writer().map_err(|e| output.sink_error(e))?;
        let on_bytes: http::OnBytes = {
            let progress = progress.clone();
            Arc::new(move |n| progress.advance(n))
        };
        download
            .copy_to(&mut writer, (options.max_size, link.key.as_ref()), on_bytes)
            .await
            .map_err(|e| match e {
                HttpError::Write(e) => output.sink_error(e),
                e => TransferError::Http(e),
            })
    }
    .await;
    progress.finish(copied.is_ok());
    let bytes = match copied {
        Ok(bytes) => bytes,
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
        hash: None,
        offset: 0,
        elapsed: started.elapsed(),
    };
    let mut report = Report::received(&name, link.desc.clone(), from, path);
    report.encrypted = link.key.is_some();
    report.omemo = omemo;
    Ok(report.at(&link.url).moved(moved))
}
