//! What `xft send` reads: a regular file, or stdin spooled to a temporary file because
//! SI needs the size (and xft the MD5) before the first byte goes out (XEP-0096 §3).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::hash_cache::{HashCache, Identity};

/// A file ready to offer.
#[derive(Debug)]
pub(crate) struct Source {
    /// What to read the bytes from.
    pub path: PathBuf,
    /// The name to offer.
    pub name: String,
    pub size: u64,
    /// Lowercase hex MD5 of the content (None with `--no-hash`).
    pub md5: Option<String>,
    /// CRC-32 of the content, computed in the same pass as the MD5: while sending, the
    /// sender checks the bytes against it rather than hashing them with MD5 again.
    pub crc32: Option<u32>,
    pub modified: Option<SystemTime>,
    /// Keeps a stdin spool alive (deleted on drop).
    _spool: Option<tempfile::NamedTempFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a regular file", .0.display())]
    NotAFile(PathBuf),
    #[error("spooling stdin to a temporary file: {0}")]
    Spool(#[source] std::io::Error),
}

/// Prepares `arg` (a path, or `-` for stdin) for sending under `name` (or its own name).
/// With `hash`, reads the file once for its MD5 (XEP-0096 §3 puts the hash in the
/// offer, so it cannot be computed while sending). Blocking: run it on a blocking thread.
pub(crate) fn prepare(arg: &str, name: Option<&str>, hash: bool) -> Result<Source, SourceError> {
    if arg == "-" {
        return spool_stdin(name.unwrap_or("stdin"), hash);
    }
    let path = PathBuf::from(arg);
    let io = |source| SourceError::Io {
        path: path.clone(),
        source,
    };
    let meta = std::fs::metadata(&path).map_err(io)?;
    if !meta.is_file() {
        return Err(SourceError::NotAFile(path));
    }
    let mut file = std::fs::File::open(&path).map_err(io)?;
    let (size, md5, crc32) = if hash {
        let (size, md5, crc32) =
            super::pump::copy_with_md5(&mut file, &mut std::io::sink(), meta.len()).map_err(io)?;
        tracing::debug!("hashed {} ({size} bytes)", path.display());
        (size, Some(md5), Some(crc32))
    } else {
        (meta.len(), None, None)
    };
    let offered = name.map(str::to_owned).unwrap_or_else(|| file_name(&path));
    Ok(Source {
        name: offered,
        size,
        md5,
        crc32,
        modified: meta.modified().ok(),
        path,
        _spool: None,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into())
}

fn spool_stdin(name: &str, hash: bool) -> Result<Source, SourceError> {
    let mut spool = tempfile::Builder::new()
        .prefix("xft-stdin-")
        .tempfile()
        .map_err(SourceError::Spool)?;
    let (size, md5, crc32) = match hash {
        true => {
            let (size, md5, crc32) = super::pump::copy_with_md5(
                &mut std::io::stdin().lock(),
                spool.as_file_mut(),
                u64::MAX,
            )
            .map_err(SourceError::Spool)?;
            (size, Some(md5), Some(crc32))
        }
        false => {
            let size = std::io::copy(&mut std::io::stdin().lock(), spool.as_file_mut())
                .map_err(SourceError::Spool)?;
            (size, None, None)
        }
    };
    spool.as_file_mut().flush().map_err(SourceError::Spool)?;
    Ok(Source {
        path: spool.path().to_owned(),
        name: name.to_owned(),
        size,
        md5,
        crc32,
        modified: Some(SystemTime::now()),
        _spool: Some(spool),
    })
}

/// The MD5 and CRC-32 of the file at `path`, remembered from an earlier send of the
/// same unchanged file ([`HashCache`]) or read once with `progress` reporting
/// (blocking). xft send runs it while it logs in and looks for the recipient.
pub(crate) fn md5_of(
    path: &Path,
    progress: &dyn super::progress::Progress,
    cancel: &std::sync::atomic::AtomicBool,
    cache: &HashCache,
) -> std::io::Result<(String, u32)> {
    let file = std::fs::File::open(path)?;
    let before = Identity::of(&file.metadata()?);
    if let Some(known) = cache.find(&before) {
        tracing::debug!("MD5 of {} remembered from an earlier send", path.display());
        return Ok(known);
    }
    let (md5, crc32) = md5_of_file(file, path, progress, cancel)?;
    // Only a file that did not change while it was read.
    let after = std::fs::metadata(path).map(|m| Identity::of(&m));
    if after.is_ok_and(|after| after == before) {
        cache.remember(before, &md5, crc32);
    }
    Ok((md5, crc32))
}

fn md5_of_file(
    file: std::fs::File,
    path: &Path,
    progress: &dyn super::progress::Progress,
    cancel: &std::sync::atomic::AtomicBool,
) -> std::io::Result<(String, u32)> {
    let size = file.metadata()?.len();
    progress.start(&file_name(path), size, "md5");
    let mut counted = Counted {
        inner: file,
        progress,
        cancel,
    };
    let result = super::pump::copy_with_md5(&mut counted, &mut std::io::sink(), size);
    progress.finish(result.is_ok());
    let (_, md5, crc32) = result?;
    tracing::debug!("hashed {} ({size} bytes)", path.display());
    Ok((md5, crc32))
}

/// A reader that reports what it reads.
struct Counted<'a, R> {
    inner: R,
    progress: &'a dyn super::progress::Progress,
    /// Set when the hash is no longer wanted (Jingle sends its checksum after the data).
    cancel: &'a std::sync::atomic::AtomicBool,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            // Not `Interrupted`: the copy loop retries those.
            return Err(std::io::Error::other("hashing cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_hash_stops_with_an_error() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"abc").unwrap();
        let go_on = std::sync::atomic::AtomicBool::new(false);
        let silent = super::super::progress::Silent;
        let cache = HashCache::off();
        let (md5, _) = md5_of(file.path(), &silent, &go_on, &cache).unwrap();
        assert_eq!(md5, "900150983cd24fb0d6963f7d28e17f72");
        let stop = std::sync::atomic::AtomicBool::new(true);
        assert!(md5_of(file.path(), &silent, &stop, &cache).is_err());
    }

    #[test]
    fn md5_of_known_inputs() {
        // RFC 1321 §A.5 test suite.
        let md5 = |data: &[u8]| {
            super::super::pump::copy_with_md5(&mut &data[..], &mut std::io::sink(), u64::MAX)
                .unwrap()
        };
        assert_eq!(md5(b"").1, "d41d8cd98f00b204e9800998ecf8427e");
        // CRC-32 check value (the "123456789" test vector): cbf43926.
        assert_eq!(md5(b"123456789").2, 0xcbf4_3926);
        assert_eq!(
            md5(b"abc"),
            (3, "900150983cd24fb0d6963f7d28e17f72".into(), 0x3524_41c2)
        );
    }

    #[test]
    fn the_md5_thread_sees_every_block_in_order() {
        use md5::{Digest, Md5};
        // Several 1 MiB blocks through the hashing thread's buffers, and a short tail.
        let data: Vec<u8> = (0..(3 << 20) + 5)
            .map(|i: u32| (i * 7 % 251) as u8)
            .collect();
        let mut copy = Vec::new();
        let (n, md5, crc) =
            super::super::pump::copy_with_md5(&mut &data[..], &mut copy, u64::MAX).unwrap();
        assert_eq!(n, data.len() as u64);
        assert!(copy == data);
        assert_eq!(md5, hex(&Md5::digest(&data)));
        assert_eq!(crc, crc32fast::hash(&data));
        let (n, _, crc) =
            super::super::pump::copy_with_md5(&mut &data[..], &mut std::io::sink(), 100).unwrap();
        assert_eq!(
            (n, crc),
            (100, crc32fast::hash(&data[..100])),
            "at most len bytes"
        );
    }

    #[test]
    fn refuses_directories() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_file = prepare(dir.path().to_str().unwrap(), None, true);
        assert!(matches!(not_a_file, Err(SourceError::NotAFile(_))));
        assert!(matches!(
            prepare("/nonexistent/x", None, true),
            Err(SourceError::Io { .. })
        ));
    }

    #[test]
    fn no_hash_takes_the_size_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        let source = prepare(path.to_str().unwrap(), None, false).unwrap();
        assert_eq!((source.size, source.md5), (5, None));
    }
}
