//! The files of one `xft send`, read and hashed once for every recipient: stdin and
//! files whose size says nothing are spooled first; the MD5 that SI puts in its offer
//! (XEP-0096 §3) is computed in the background while xft logs in and looks for the
//! recipients, and only when a recipient takes SI is it waited for. A Jingle recipient
//! stops that pass (Jingle hashes beside the copy, and on two cores a useless pass
//! would slow it down); an SI recipient after it hashes what was left undone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::error::Error;
use crate::transfer::hash_cache::HashCache;
use crate::transfer::progress::{Progress, Silent};
use crate::transfer::source::{self, Source};

/// An MD5 and CRC-32 per source (`None` for a spool, which has them already).
type Hashed = Option<std::io::Result<(String, u32)>>;

pub(super) struct Files {
    sources: Vec<Source>,
    /// Whether MD5s are wanted at all (not with `--no-hash`).
    hash: bool,
    hashing: Mutex<Option<tokio::task::JoinHandle<Vec<Hashed>>>>,
    hashed: OnceCell<Vec<Source>>,
    cancel: Arc<AtomicBool>,
}

impl Files {
    /// `--name` and stdin each apply to one FILE only.
    pub(super) fn check(files: &[String], name: Option<&String>) -> Result<(), Error> {
        if name.is_some() && files.len() > 1 {
            return Err(Error::Usage("--name applies to a single FILE".into()));
        }
        if files.iter().filter(|f| *f == "-").count() > 1 {
            return Err(Error::Usage("stdin ('-') can be sent only once".into()));
        }
        Ok(())
    }

    /// Reads every FILE (or stdin for `-`) before logging in: a typo should not cost a
    /// login. With `hash`, the MD5s start in the background at once.
    pub(super) async fn prepare(
        files: &[String],
        name: Option<&str>,
        hash: Option<Arc<dyn Progress>>,
    ) -> Result<Files, Error> {
        let mut sources = Vec::new();
        for file in files {
            let (file, name) = (file.clone(), name.map(str::to_owned));
            let spooled_hash = hash.is_some() && file == "-";
            let prepared = tokio::task::spawn_blocking(move || {
                source::prepare(&file, name.as_deref(), spooled_hash)
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
            sources.push(prepared.map_err(|e| Error::Transfer(e.into()))?);
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let wanted = hash.is_some();
        let hashing = hash.map(|progress| in_background(&sources, progress, cancel.clone()));
        Ok(Files {
            sources,
            hash: wanted,
            hashing: Mutex::new(hashing),
            hashed: OnceCell::new(),
            cancel,
        })
    }

    /// The sources as read (for Jingle and uploads: no MD5 needed).
    pub(super) fn plain(&self) -> &[Source] {
        &self.sources
    }

    /// A Jingle transfer hashes beside the copy: the background pass can stop.
    pub(super) fn stop_hashing(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The sources with their MD5s (SI), computed once for every recipient; as they are
    /// when no hash is wanted.
    pub(super) async fn hashed(&self) -> Result<&[Source], Error> {
        if !self.hash {
            return Ok(&self.sources);
        }
        let sources = self.hashed.get_or_try_init(|| self.hash_all()).await?;
        Ok(sources)
    }

    async fn hash_all(&self) -> Result<Vec<Source>, Error> {
        let hashing = self.hashing.lock().ok().and_then(|mut h| h.take());
        let mut hashes = match hashing {
            Some(job) => job.await.map_err(|e| Error::Internal(e.to_string()))?,
            None => Vec::new(),
        };
        hashes.resize_with(self.sources.len(), || None);
        let mut sources = self.sources.clone();
        for (source, hashed) in sources.iter_mut().zip(hashes) {
            // A pass stopped for a Jingle recipient (or never started) is done now; a
            // spool has its MD5 already.
            let result = match hashed {
                Some(Ok(done)) => done,
                _ if source.md5.is_some() => continue,
                _ => hash_now(source).await?.map_err(|e| io_error(source, e))?,
            };
            (source.md5, source.crc32) = (Some(result.0), Some(result.1));
        }
        Ok(sources)
    }
}

fn io_error(source: &Source, e: std::io::Error) -> Error {
    Error::Transfer(
        source::SourceError::Io {
            path: source.path.clone(),
            source: e,
        }
        .into(),
    )
}

async fn hash_now(source: &Source) -> Result<std::io::Result<(String, u32)>, Error> {
    let path = source.path.clone();
    tokio::task::spawn_blocking(move || {
        let keep_going = AtomicBool::new(false);
        source::md5_of(&path, &Silent, &keep_going, &HashCache::from_env())
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))
}

/// MD5s (and CRC-32s) of the regular files among `sources`, on a blocking thread, one
/// file after the other (a spooled stdin already has them: `None` stands for it).
fn in_background(
    sources: &[Source],
    progress: Arc<dyn Progress>,
    cancel: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Hashed>> {
    let paths: Vec<Option<std::path::PathBuf>> = sources
        .iter()
        .map(|s| s.md5.is_none().then(|| s.path.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let cache = HashCache::from_env();
        paths
            .iter()
            .map(|path| {
                path.as_ref()
                    .map(|p| source::md5_of(p, &*progress, &cancel, &cache))
            })
            .collect()
    })
}
