//! What `xft send` reads: a regular file, or stdin spooled to a temporary file because
//! SI needs the size (and xft the MD5) before the first byte goes out (XEP-0096 §3).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use md5::{Digest, Md5};

/// A file ready to offer.
#[derive(Debug)]
pub struct Source {
    /// What to read the bytes from.
    pub path: PathBuf,
    /// The name to offer.
    pub name: String,
    pub size: u64,
    /// Lowercase hex MD5 of the content.
    pub md5: String,
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

const BUF: usize = 1 << 20;

/// Prepares `arg` (a path, or `-` for stdin) for sending under `name` (or its own name).
/// Blocking: run it on a blocking thread.
pub fn prepare(arg: &str, name: Option<&str>) -> Result<Source, SourceError> {
    if arg == "-" {
        return spool_stdin(name.unwrap_or("stdin"));
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
    let file = std::fs::File::open(&path).map_err(io)?;
    let (size, md5) = hash_copy(file, std::io::sink()).map_err(io)?;
    tracing::debug!("hashed {} ({size} bytes)", path.display());
    let offered = name.map(str::to_owned).unwrap_or_else(|| file_name(&path));
    Ok(Source {
        name: offered,
        size,
        md5,
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

fn spool_stdin(name: &str) -> Result<Source, SourceError> {
    let mut spool = tempfile::Builder::new()
        .prefix("xft-stdin-")
        .tempfile()
        .map_err(SourceError::Spool)?;
    let (size, md5) =
        hash_copy(std::io::stdin().lock(), spool.as_file_mut()).map_err(SourceError::Spool)?;
    spool.as_file_mut().flush().map_err(SourceError::Spool)?;
    Ok(Source {
        path: spool.path().to_owned(),
        name: name.to_owned(),
        size,
        md5,
        modified: Some(SystemTime::now()),
        _spool: Some(spool),
    })
}

/// Copies `from` into `to`, returning the byte count and MD5 in one pass.
fn hash_copy(mut from: impl Read, mut to: impl Write) -> std::io::Result<(u64, String)> {
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        total += n as u64;
    }
    Ok((total, hex(&hasher.finalize())))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_known_inputs() {
        // RFC 1321 §A.5 test suite.
        assert_eq!(
            hash_copy(&b""[..], std::io::sink()).unwrap().1,
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            hash_copy(&b"abc"[..], std::io::sink()).unwrap(),
            (3, "900150983cd24fb0d6963f7d28e17f72".into())
        );
    }

    #[test]
    fn refuses_directories() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            prepare(dir.path().to_str().unwrap(), None),
            Err(SourceError::NotAFile(_))
        ));
        assert!(matches!(
            prepare("/nonexistent/x", None),
            Err(SourceError::Io { .. })
        ));
    }
}
