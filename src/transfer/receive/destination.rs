//! Where an accepted file goes, for every kind of offer: the registered `.part` this
//! sender left of the same file (resumed when the offer can send a range, XEP-0096 §3
//! `<range/>`, XEP-0234 §7), or a fresh destination, registered so that a broken
//! transfer can be resumed later.

use std::path::{Path, PathBuf};

use super::RecvOptions;
use crate::hash::{Algorithm, Hasher};
use crate::jid::FullJid;
use crate::transfer::resume::Partial;
use crate::transfer::sink::{
    open_target, reopen_part, sanitize_file_name, Destination, Output, Target,
};
use crate::transfer::TransferError;

/// The opened destination of one offer.
pub(crate) struct Opened {
    pub(crate) target: Target,
    pub(crate) output: Output,
    /// Bytes already there (a resumed `.part`); 0 for a fresh file.
    pub(crate) offset: u64,
    /// A hash over those bytes, when the offer has a hash to check.
    pub(crate) hasher: Option<Hasher>,
}

/// The offered file: its name and size as the sender gives them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offered<'a> {
    pub(crate) name: &'a str,
    pub(crate) size: u64,
    /// The sender can send a range (an empty `<range/>` in its offer).
    pub(crate) ranged: bool,
}

/// What makes an offered file resumable: what else identifies it (see
/// [`Partial::identity`]) and the hash that will check the whole file.
#[derive(Debug, Clone)]
pub(crate) struct Resumable {
    pub(crate) identity: String,
    pub(crate) algorithm: Algorithm,
}

/// The `.part` to resume, or a fresh destination (registered when `key` makes the file
/// resumable).
pub(crate) async fn open(
    from: &FullJid,
    file: Offered<'_>,
    key: Option<Resumable>,
    options: &RecvOptions,
) -> Result<Opened, TransferError> {
    if let Some(key) = key.as_ref().filter(|_| file.ranged) {
        if let Some(opened) = resume_partial(from, file, key, options).await {
            return Ok(opened);
        }
    }
    let (target, output) = open_target(&options.destination, file.name, options.overwrite)?;
    if let Some(key) = &key {
        register(&target, from, file, key, options);
    }
    Ok(Opened {
        target,
        output,
        offset: 0,
        hasher: key.map(|k| Hasher::new(k.algorithm)),
    })
}

/// Remembers a fresh `.part`, so that a broken transfer of it can be resumed.
fn register(
    target: &Target,
    from: &FullJid,
    file: Offered<'_>,
    key: &Resumable,
    options: &RecvOptions,
) {
    if let Target::Part(part) = target {
        options.registry.record(Partial {
            part: absolute(&part.part),
            target: absolute(&part.target),
            from: from.bare().to_string(),
            name: file.name.to_owned(),
            size: file.size,
            identity: key.identity.clone(),
        });
    }
}

/// The registered `.part` that `from` left of this file at this destination, reopened
/// for appending with its bytes hashed; `None` when there is none (or resuming is off).
async fn resume_partial(
    from: &FullJid,
    file: Offered<'_>,
    key: &Resumable,
    options: &RecvOptions,
) -> Option<Opened> {
    if !options.resume {
        return None;
    }
    let wanted: Box<dyn Fn(&Path) -> bool + Send> = match &options.destination {
        Destination::Dir(dir) => {
            let dir = absolute(dir);
            Box::new(move |t| t.parent() == Some(dir.as_path()))
        }
        Destination::Path(path) => {
            let path = absolute(path);
            Box::new(move |t| t == path)
        }
        Destination::Stdout => return None,
    };
    let sender = from.bare().to_string();
    let partial = options
        .registry
        .find(&*wanted, &sender, file.name, file.size, &key.identity)?;
    let base_name = match &options.destination {
        Destination::Dir(_) => Some(sanitize_file_name(file.name)),
        _ => None,
    };
    let reopened = tokio::task::spawn_blocking({
        let partial = partial.clone();
        let (overwrite, algorithm) = (options.overwrite, key.algorithm);
        move || reopen_part(&partial, overwrite, base_name, algorithm)
    })
    .await;
    match reopened {
        Ok(Ok((target, output, offset, hasher))) => {
            let path = partial.part.display().to_string();
            let shown = crate::text::printable(&path);
            tracing::info!("resuming {shown} from byte {offset} of {}", file.size);
            Some(Opened {
                target,
                output,
                offset,
                hasher: Some(hasher),
            })
        }
        Ok(Err(e)) => {
            tracing::warn!("cannot resume {}: {e}", partial.part.display());
            None
        }
        Err(_) => None,
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
