//! What `xft send` reads: a regular file, or stdin spooled to a temporary file because
//! SI needs the size (and xft the MD5) before the first byte goes out (XEP-0096 §3).

use std::io::{Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::hash_cache::{HashCache, Identity};

/// A file ready to offer.
#[derive(Debug, Clone)]
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
    /// Keeps a stdin spool alive (deleted when the last copy goes).
    _spool: Option<std::sync::Arc<tempfile::NamedTempFile>>,
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
///
/// A file whose size says nothing about its content is read like stdin, into a spool,
/// and what was read is offered (issue 19, item 9): a pipe (`<(cmd)`), a file of a
/// pseudo file system (`/proc/cpuinfo` says 0 bytes and has content), any regular file
/// that says 0 bytes. A read that fails (`/proc/self/mem`) is a local error, never an
/// empty file sent.
pub(crate) fn prepare(arg: &str, name: Option<&str>, hash: bool) -> Result<Source, SourceError> {
    if arg == "-" {
        let spooled = spool(&mut std::io::stdin().lock(), hash).map_err(|e| match e {
            Spooling::Read(e) | Spooling::Spool(e) => SourceError::Spool(e),
        })?;
        return Ok(spooled.into_source(name.unwrap_or("stdin").to_owned()));
    }
    let path = PathBuf::from(arg);
    let io = |source| SourceError::Io {
        path: path.clone(),
        source,
    };
    let meta = std::fs::metadata(&path).map_err(io)?;
    let offered = name.map(str::to_owned).unwrap_or_else(|| file_name(&path));
    if !meta.is_file() && !meta.file_type().is_fifo() {
        return Err(SourceError::NotAFile(path));
    }
    let mut file = std::fs::File::open(&path).map_err(io)?;
    if !meta.is_file() || meta.len() == 0 || is_pseudo_file(&file) {
        tracing::debug!(
            "{} is read into a spool first: its size is not its content",
            path.display()
        );
        let spooled = spool(&mut file, hash).map_err(|e| match e {
            Spooling::Read(e) => io(e),
            Spooling::Spool(e) => SourceError::Spool(e),
        })?;
        return Ok(spooled.into_source(offered));
    }
    let (size, md5, crc32) = if hash {
        let (size, md5, crc32) =
            super::pump::copy_with_md5(&mut file, &mut std::io::sink(), meta.len()).map_err(io)?;
        tracing::debug!("hashed {} ({size} bytes)", path.display());
        (size, Some(md5), Some(crc32))
    } else {
        (meta.len(), None, None)
    };
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

/// File systems whose files report sizes unrelated to what reading them gives
/// (statfs(2) magic numbers): procfs, sysfs, debugfs, tracefs, securityfs, configfs,
/// cgroup (v1 and v2), efivarfs, pstore, bpf.
fn is_pseudo_file(file: &std::fs::File) -> bool {
    const PSEUDO: [u64; 11] = [
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x7363_6673, // securityfs
        0x6265_6570, // configfs
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0xde5e_81e4, // efivarfs
        0x6165_676c, // pstore
        0xcafe_4a11, // bpf
    ];
    rustix::fs::fstatfs(file).is_ok_and(|fs| PSEUDO.contains(&(fs.f_type as u64)))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into())
}

/// What a spool holds: the bytes read, in a temporary file deleted with it.
struct Spooled {
    spool: tempfile::NamedTempFile,
    size: u64,
    md5: Option<String>,
    crc32: Option<u32>,
}

impl Spooled {
    fn into_source(self, name: String) -> Source {
        Source {
            path: self.spool.path().to_owned(),
            name,
            size: self.size,
            md5: self.md5,
            crc32: self.crc32,
            modified: Some(SystemTime::now()),
            _spool: Some(std::sync::Arc::new(self.spool)),
        }
    }
}

/// Which side of spooling failed: the source read (the user's file), or the spool.
enum Spooling {
    Read(std::io::Error),
    Spool(std::io::Error),
}

/// Copies `reader` to its end into a temporary file, hashing on the way when `hash`.
fn spool(reader: &mut impl Read, hash: bool) -> Result<Spooled, Spooling> {
    let mut spool = tempfile::Builder::new()
        .prefix("xft-stdin-")
        .tempfile()
        .map_err(Spooling::Spool)?;
    let mut writer = SideOf {
        inner: spool.as_file_mut(),
        failed: false,
    };
    let copied = match hash {
        true => super::pump::copy_with_md5(reader, &mut writer, u64::MAX)
            .map(|(size, md5, crc32)| (size, Some(md5), Some(crc32))),
        false => std::io::copy(reader, &mut writer).map(|size| (size, None, None)),
    };
    let failed_writing = writer.failed;
    let (size, md5, crc32) = copied.map_err(|e| match failed_writing {
        true => Spooling::Spool(e),
        false => Spooling::Read(e),
    })?;
    spool.as_file_mut().flush().map_err(Spooling::Spool)?;
    Ok(Spooled {
        spool,
        size,
        md5,
        crc32,
    })
}

/// A writer that remembers whether it failed, so a copy's error can be told apart.
struct SideOf<W> {
    inner: W,
    failed: bool,
}

impl<W: Write> Write for SideOf<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|_| self.failed = true)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
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
        assert_eq!(md5, crate::hash::hex(&Md5::digest(&data)));
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

    /// Issue 19, item 9: `/proc` files say 0 bytes and have content; they were sent as
    /// empty files. They are spooled and offered as read; one that cannot be read is
    /// an error, not an empty file.
    #[test]
    fn pseudo_files_are_read_into_a_spool() {
        let expected = std::fs::read("/proc/version").unwrap();
        assert!(!expected.is_empty());
        for hash in [true, false] {
            let source = prepare("/proc/version", None, hash).unwrap();
            assert_eq!(source.name, "version");
            assert_eq!(source.size, expected.len() as u64);
            assert_eq!(std::fs::read(&source.path).unwrap(), expected);
            assert_eq!(source.md5.is_some(), hash);
        }
        assert!(matches!(
            prepare("/proc/self/mem", None, false),
            Err(SourceError::Io { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        let source = prepare(empty.to_str().unwrap(), None, true).unwrap();
        assert_eq!(
            (source.size, source.md5.as_deref()),
            (0, Some("d41d8cd98f00b204e9800998ecf8427e"))
        );
        let file = std::fs::File::open(&empty).unwrap();
        assert!(!is_pseudo_file(&file));
        assert!(is_pseudo_file(
            &std::fs::File::open("/proc/version").unwrap()
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
