//! The S5B byte loop: a plain blocking copy on one thread with 1 MiB buffers, like the
//! `cp` of the benchmark's baseline. Async file I/O would hand every chunk to another
//! thread and copy it once more; here the file and the socket are both plain blocking
//! descriptors. Progress and the optional MD5 run beside the copy, in the same loop.

use std::io::{Read, Write};
use std::sync::Arc;

use md5::{Digest, Md5};

use super::progress::Progress;
use super::source::hex;

const BUFFER: usize = 1 << 20;

/// What a finished copy reports.
pub struct Pumped {
    pub bytes: u64,
    /// Hex MD5 of the bytes, when asked for.
    pub md5: Option<String>,
}

/// Copies exactly `len` bytes (fewer if `reader` ends first) on a blocking thread.
/// On failure returns the bytes moved before it and the error.
pub async fn copy<R, W>(
    mut reader: R,
    mut writer: W,
    len: u64,
    progress: Arc<dyn Progress>,
    hash: bool,
) -> Result<(Pumped, R, W), (u64, std::io::Error)>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let job = tokio::task::spawn_blocking(move || {
        let pumped = copy_blocking(&mut reader, &mut writer, len, &*progress, hash)?;
        Ok((pumped, reader, writer))
    });
    match job.await {
        Ok(result) => result,
        Err(e) => Err((0, std::io::Error::other(e.to_string()))),
    }
}

fn copy_blocking(
    reader: &mut impl Read,
    writer: &mut impl Write,
    len: u64,
    progress: &dyn Progress,
    hash: bool,
) -> Result<Pumped, (u64, std::io::Error)> {
    let mut buf = vec![0u8; BUFFER.min(len.max(1) as usize)];
    let mut hasher = hash.then(Md5::new);
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(buf.len() as u64) as usize;
        let n = match reader.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err((done, e)),
        };
        writer.write_all(&buf[..n]).map_err(|e| (done, e))?;
        if let Some(h) = hasher.as_mut() {
            h.update(&buf[..n]);
        }
        done += n as u64;
        progress.advance(n as u64);
    }
    writer.flush().map_err(|e| (done, e))?;
    Ok(Pumped {
        bytes: done,
        md5: hasher.map(|h| hex(&h.finalize())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_exactly_len_and_hashes() {
        let data = vec![7u8; 3 * BUFFER + 5];
        let mut out = Vec::new();
        let p = copy_blocking(
            &mut &data[..],
            &mut out,
            data.len() as u64 - 1,
            &super::super::progress::Silent,
            true,
        )
        .unwrap();
        assert_eq!(p.bytes, data.len() as u64 - 1);
        assert_eq!(out.len(), data.len() - 1);
        assert_eq!(p.md5.as_deref().map(str::len), Some(32));
        let short = copy_blocking(
            &mut &data[..10],
            &mut Vec::new(),
            100,
            &super::super::progress::Silent,
            false,
        )
        .unwrap();
        assert_eq!((short.bytes, short.md5), (10, None));
    }
}
