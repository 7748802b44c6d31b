//! Sending to a full JID: the Jingle offer (XEP-0234) goes out beside the disco#info
//! (XEP-0030) that says whether the resource speaks Jingle, instead of after it, which
//! saves a round trip through both users' servers (issue 22). The clients that take
//! files peer to peer speak Jingle (Conversations, Dino, Gajim, Monal, libervia, xft);
//! one that does not answers the session-initiate with an error (XEP-0166 §6.3), and
//! only then is the disco#info answer awaited and the choice made as for any recipient:
//! SI, an upload, or the error. A peer that ignores the offer instead (it should not:
//! RFC 6120 §8.2.3) has it withdrawn as soon as the answer says it does not speak
//! Jingle, as xft would not have offered it then. What the answer tells later
//! (libervia, which reads checksums in a form of its own) is looked at when the
//! checksum is sent, after the data; the files after the first go by Jingle, which
//! worked.

use super::{print_report, send_files, upload_or_fail, Shared};
use crate::error::Error;
use crate::jid::{FullJid, Jid};
use crate::transfer::policy::{Features, Wanted};
use crate::transfer::send::Later;
use crate::transfer::{recipient, send, TransferError};

/// Every file to `full`, the first offered by Jingle while its features are asked.
pub(super) async fn offer_beside_disco(
    shared: &Shared<'_>,
    to_jid: &Jid,
    full: &FullJid,
    wanted: Wanted,
) -> Result<(), Error> {
    let session = shared.session.clone();
    let (told, later) = tokio::sync::watch::channel(None);
    let asked = {
        let (session, full) = (session.clone(), full.clone());
        tokio::spawn(async move {
            let features = recipient::features_of(&session, &full).await;
            let known = features.as_ref().ok().copied().flatten();
            let _ = told.send(Some(Later {
                libervia: known.is_some_and(|f| f.libervia),
                // As the choice before offering would have gone: no Jingle in the
                // answer (or no answer to read) means SI, unless Jingle was asked for.
                withdraw: wanted == Wanted::Auto && !known.is_some_and(|f| f.jingle),
            }));
            features
        })
    };
    let sources = shared.files.plain();
    let Some((first, rest)) = sources.split_first() else {
        return Ok(());
    };
    shared.files.stop_hashing();
    let mut options = shared.options.clone();
    options.later = Some(later);
    tracing::debug!("offering by Jingle (XEP-0234) to {full} while asking what it speaks");
    let progress = shared.progresses.file();
    match send::jingle::send_file(&session, full, first, &options, progress).await {
        Ok(report) => print_report(shared.global, &report, "Sent")?,
        Err(e @ (TransferError::OfferRefused(_) | TransferError::NoFileTransfer { .. })) => {
            let features = answer(asked).await;
            return after_refusal(shared, (to_jid, full), wanted, features, e).await;
        }
        Err(e) => {
            asked.abort();
            return upload_or_fail(shared, sources, to_jid, e).await;
        }
    }
    let features = answer(asked).await.ok().flatten();
    send_files(shared, to_jid, full, (Wanted::Jingle, features), rest).await
}

/// The disco#info answer (the task's failure reads as features unknown).
async fn answer(
    asked: tokio::task::JoinHandle<Result<Option<Features>, TransferError>>,
) -> Result<Option<Features>, TransferError> {
    asked.await.unwrap_or(Ok(None))
}

/// The Jingle offer was refused at once, or withdrawn: the choice the features make,
/// as for any recipient. If they say Jingle anyway (or it was asked for), `refusal`
/// stands.
async fn after_refusal(
    shared: &Shared<'_>,
    (to_jid, full): (&Jid, &FullJid),
    wanted: Wanted,
    features: Result<Option<Features>, TransferError>,
    refusal: TransferError,
) -> Result<(), Error> {
    let sources = shared.files.plain();
    let features = match features {
        Ok(features) => features,
        Err(e) => return upload_or_fail(shared, sources, to_jid, e).await,
    };
    let jingle_again = wanted == Wanted::Jingle || features.is_some_and(|f| f.jingle);
    if jingle_again {
        return upload_or_fail(shared, sources, to_jid, refusal).await;
    }
    tracing::debug!("{full} did not take the Jingle offer ({refusal}); choosing by its features");
    send_files(shared, to_jid, full, (wanted, features), sources).await
}
