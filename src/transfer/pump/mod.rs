//! The S5B byte loop: a plain blocking copy on one thread with 1 MiB buffers, like the
//! `cp` of the benchmark's baseline. Async file I/O would hand every chunk to another
//! thread and copy it once more; here the file and the socket are both plain blocking
//! descriptors. Progress runs in the loop, the optional hash on a thread of its own; with
//! nothing to check, the kernel copies on its own ([`super::kernel_copy`]). A checked
//! copy stays buffered: `sendfile`/`splice` with the hash reading the file's pages
//! beside the copy measured 0.05-0.1 of one core's SHA-256 slower (issue 22, bench
//! section `verified-file`), since the hash needs the bytes in our memory anyway and
//! here it finds them in the cache.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use crate::hash::{Algorithm, Hasher};

use super::progress::Progress;

pub(super) mod kernel_copy;

const BUFFER: usize = 1 << 20;

/// Copy buffers kept for the next copy of this process: buffers of 1 MiB freed on one
/// thread and allocated anew on another make the allocator keep memory per thread (one
/// `xft send` of 25 files peaked at 16.8 MiB, against 12.3 for one), so they are reused.
static SPARE_BUFFERS: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
/// At most the buffers of one hashed copy are kept.
const SPARE_MAX: usize = HASH_BUFFERS + 1;

/// A buffer of `size` bytes, from the spares when one is large enough.
fn buffer(size: usize) -> Vec<u8> {
    let reused = SPARE_BUFFERS
        .lock()
        .ok()
        .and_then(|mut spares| spares.pop());
    match reused {
        Some(mut buf) if buf.capacity() >= size => {
            buf.resize(size, 0);
            buf
        }
        _ => vec![0u8; size],
    }
}

/// Keeps `buf` for a later copy (only full-sized ones, and not too many).
fn recycle(mut buf: Vec<u8>) {
    if buf.capacity() < BUFFER {
        return;
    }
    if let Ok(mut spares) = SPARE_BUFFERS.lock() {
        if spares.len() < SPARE_MAX {
            buf.clear();
            spares.push(buf);
        }
    }
}

/// Which side of the copy failed: the caller's error differs (a socket that broke is
/// the network's fault, a full disk is ours), and so does the exit code.
#[derive(Debug)]
pub(super) enum PumpError {
    Read(std::io::Error),
    Write(std::io::Error),
    /// The peer went offline during the copy, which was then cut short.
    PeerGone,
    /// Fewer bytes than the stall floor moved in a whole `--timeout` (see `stall`): the
    /// copy was cut short.
    Stalled,
}

impl PumpError {
    /// The copy stalled: cut by the watch, or a socket deadline (`SO_RCVTIMEO`,
    /// `SO_SNDTIMEO`) passed with no progress at all.
    pub(super) fn is_stall(&self) -> bool {
        let e = match self {
            PumpError::Read(e) | PumpError::Write(e) => e,
            PumpError::PeerGone => return false,
            PumpError::Stalled => return true,
        };
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    }
}

/// How a copy checks the bytes it moves.
pub(super) enum Check {
    None,
    /// A verifying hash (MD5 for SI, XEP-0300 algorithms for Jingle), on a thread of its
    /// own (the receiver's verification); it may already hold a resumed file's prefix.
    Hash(Box<Hasher>),
    /// CRC-32 on the copying thread (gigabytes a second): the sender's own check that
    /// the bytes it sends are those it hashed for the offer, without a second MD5.
    Crc32(crc32fast::Hasher),
}

impl Check {
    /// The hash when given one.
    pub(super) fn hash(hasher: Option<Hasher>) -> Check {
        hasher.map_or(Check::None, |h| Check::Hash(Box::new(h)))
    }
}

/// What a finished copy reports.
pub(super) struct Pumped {
    pub bytes: u64,
    /// The digest of the bytes, when asked for.
    pub hash: Option<Vec<u8>>,
    /// CRC-32 of the bytes, when asked for.
    pub crc32: Option<u32>,
}

/// Copies exactly `len` bytes (fewer if `reader` ends first) on a blocking thread,
/// feeding them to `hasher` when given (it may already hold a resumed file's prefix).
/// On failure returns the bytes moved before it and the error.
pub(super) async fn copy<R, W>(
    (mut reader, mut writer): (R, W),
    len: u64,
    progress: Arc<dyn Progress>,
    check: Check,
    stall: Duration,
) -> Result<(Pumped, R, W), (u64, PumpError)>
where
    R: Read + AsFd + Send + 'static,
    W: Write + AsFd + Send + 'static,
{
    let job = tokio::task::spawn_blocking(move || {
        let mut patience = Patience::new(stall);
        let ends = (&mut reader, &mut writer);
        let pumped = match check {
            Check::None => copy_in_kernel(ends, len, &*progress, &mut patience)?,
            check => copy_blocking(ends, len, &*progress, check, &mut patience)?,
        };
        Ok((pumped, reader, writer))
    });
    match job.await {
        Ok(result) => result,
        Err(e) => Err((0, PumpError::Read(std::io::Error::other(e.to_string())))),
    }
}

/// A connected bytestream socket as a blocking descriptor, plus a second handle to cut
/// it short from outside. Its reads and writes come back at least every
/// [`crate::stall::StallWatch::poll`] of `stall`, with what they moved so far: a blocked
/// write reports the bytes the kernel took only when it returns, and the stall watch
/// must see them when they move (a socket deadline of a whole `stall` made a peer that
/// read nothing look busy for another `stall` each time the kernel took a few bytes).
pub(super) fn blocking_socket(
    socket: tokio::net::TcpStream,
    stall: Duration,
) -> std::io::Result<(std::net::TcpStream, std::net::TcpStream)> {
    let socket = socket.into_std()?;
    socket.set_nonblocking(false)?;
    let poll = crate::stall::poll_interval(stall);
    socket.set_read_timeout(Some(poll))?;
    socket.set_write_timeout(Some(poll))?;
    let handle = socket.try_clone()?;
    Ok((socket, handle))
}

/// After the peer went offline, how long the copy may go without moving a byte before
/// it is cut short. Its last bytes may still be in flight or in our socket buffer (a
/// sender logs out as soon as it has written everything), so "gone" alone is not the end.
const GONE_GRACE: Duration = Duration::from_millis(1500);

/// Counts the bytes a copy moves, for the watcher of [`copy_unless_gone`].
struct Counting {
    inner: Arc<dyn Progress>,
    moved: std::sync::atomic::AtomicU64,
}

impl Counting {
    fn moved(&self) -> u64 {
        self.moved.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Progress for Counting {
    fn start(&self, name: &str, size: u64, method: &str) {
        self.inner.start(name, size, method);
    }
    fn switch_method(&self, method: &str) {
        self.inner.switch_method(method);
    }
    fn advance(&self, bytes: u64) {
        self.moved
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        self.inner.advance(bytes);
    }
    fn finish(&self, ok: bool) {
        self.inner.finish(ok);
    }
}

/// [`copy`] for the S5B data phase, watched from here: the socket is shut down under
/// the copy when it stalls (fewer than [`crate::stall::FLOOR`] bytes in `stall`: the
/// per-call socket deadlines alone let a trickle keep it alive), or when the peer went
/// offline (`gone`) and then no byte moved for [`GONE_GRACE`] (what was in flight may
/// still arrive, but a frozen or vanished peer must not hold us until the stall).
pub(super) async fn copy_unless_gone<R, W>(
    (reader, writer): (R, W),
    len: u64,
    progress: Arc<dyn Progress>,
    check: Check,
    (socket, stall): (&std::net::TcpStream, Duration),
    gone: impl std::future::Future<Output = ()>,
) -> Result<Pumped, (u64, PumpError)>
where
    R: Read + AsFd + Send + 'static,
    W: Write + AsFd + Send + 'static,
{
    let counting = Arc::new(Counting {
        inner: progress,
        moved: 0.into(),
    });
    let job = copy((reader, writer), len, counting.clone(), check, stall);
    tokio::pin!(job);
    tokio::pin!(gone);
    let mut watch = crate::stall::StallWatch::new(stall, crate::stall::FLOOR, len, 0);
    // Since the peer went: the byte count last seen, and when it last changed.
    let mut since_gone: Option<(u64, tokio::time::Instant)> = None;
    let cut = loop {
        tokio::select! {
            done = &mut job => return done.map(|(pumped, _, _)| pumped),
            () = &mut gone, if since_gone.is_none() => {
                since_gone = Some((counting.moved(), tokio::time::Instant::now()));
            }
            () = tokio::time::sleep(watch.tick()) => {}
        }
        let (moved, now) = (counting.moved(), tokio::time::Instant::now());
        if watch.stalled(moved, now) {
            break PumpError::Stalled;
        }
        if let Some((seen, at)) = since_gone.as_mut() {
            if moved != *seen {
                (*seen, *at) = (moved, now);
            } else if now.duration_since(*at) >= GONE_GRACE {
                break PumpError::PeerGone;
            }
        }
    };
    let _ = socket.shutdown(std::net::Shutdown::Both);
    match job.await {
        Ok((pumped, _, _)) if pumped.bytes == len => Ok(pumped),
        Ok((pumped, _, _)) => Err((pumped.bytes, cut)),
        Err((moved, _)) => Err((moved, cut)),
    }
}

/// Copies `reader` into `writer` to its end (at most `len` bytes), with the MD5 on a
/// thread of its own and the CRC-32 on this one: `xft send`'s pass over a file for an SI
/// offer then takes as long as the MD5 alone, not the MD5 plus the read (a page-cache
/// read of 1 GiB took 0.66 s here, its MD5 2.2 s). Returns the bytes copied, the MD5
/// (hex) and the CRC-32.
pub(super) fn copy_with_md5(
    reader: &mut impl Read,
    writer: &mut impl Write,
    len: u64,
) -> std::io::Result<(u64, String, u32)> {
    let mut crc = CrcWriter {
        inner: writer,
        crc: crc32fast::Hasher::new(),
    };
    let md5 = Check::Hash(Box::new(Hasher::new(Algorithm::Md5)));
    let silent = &super::progress::Silent;
    let mut impatient = Patience::new(Duration::ZERO);
    let pumped =
        copy_blocking((reader, &mut crc), len, silent, md5, &mut impatient).map_err(|(_, e)| {
            match e {
                PumpError::Read(e) | PumpError::Write(e) => e,
                PumpError::PeerGone | PumpError::Stalled => {
                    std::io::Error::other("the copy was cut short")
                }
            }
        })?;
    let md5 = pumped
        .hash
        .map(|digest| crate::hash::hex(&digest))
        .ok_or_else(|| std::io::Error::other("no MD5 came back from its thread"))?;
    Ok((pumped.bytes, md5, crc.crc.finalize()))
}

/// A writer that keeps the CRC-32 of what it passes on.
struct CrcWriter<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// An unchecked copy: by the kernel when the descriptors allow it, else by
/// [`copy_blocking`].
fn copy_in_kernel<R, W>(
    (reader, writer): (&mut R, &mut W),
    len: u64,
    progress: &dyn Progress,
    patience: &mut Patience,
) -> Result<Pumped, (u64, PumpError)>
where
    R: Read + AsFd,
    W: Write + AsFd,
{
    // Whatever the writer buffered goes first.
    writer.flush().map_err(|e| (0, PumpError::Write(e)))?;
    let fds = (reader.as_fd(), writer.as_fd());
    match kernel_copy::copy(fds, len, progress, patience)? {
        kernel_copy::Outcome::Moved(bytes) => Ok(Pumped {
            bytes,
            hash: None,
            crc32: None,
        }),
        kernel_copy::Outcome::Unsupported => {
            copy_blocking((reader, writer), len, progress, Check::None, patience)
        }
    }
}

fn copy_blocking(
    (reader, writer): (&mut impl Read, &mut impl Write),
    len: u64,
    progress: &dyn Progress,
    check: Check,
    patience: &mut Patience,
) -> Result<Pumped, (u64, PumpError)> {
    let size = BUFFER.min(len.max(1) as usize);
    let mut buffers = match check {
        Check::Hash(hasher) => match HashThread::start((*hasher).clone(), size) {
            Some(thread) => Buffers::Hashing(thread),
            None => Buffers::Inline(buffer(size), *hasher),
        },
        Check::Crc32(crc) => Buffers::Crc(buffer(size), crc),
        Check::None => Buffers::One(buffer(size)),
    };
    let mut done = 0u64;
    while done < len {
        let mut buf = buffers.take();
        let want = (len - done).min(buf.len() as u64) as usize;
        let n = match reader.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if patience.retry(e.kind()) => {
                buffers.give_back(buf, 0);
                continue;
            }
            Err(e) => return Err((done, PumpError::Read(e))),
        };
        patience.progressed();
        write_counted(writer, &buf[..n], progress, patience)
            .map_err(|e| (done, PumpError::Write(e)))?;
        buffers.give_back(buf, n);
        done += n as u64;
    }
    writer.flush().map_err(|e| (done, PumpError::Write(e)))?;
    let (hash, crc32) = buffers.finish();
    Ok(Pumped {
        bytes: done,
        hash: hash.map(Hasher::finalize),
        crc32,
    })
}

/// Writes all of `data`, reporting each part the writer takes as it goes: a socket
/// that takes a few bytes now and then must look like the trickle it is to the stall
/// watch, not like a whole buffer moved when the last byte finally goes.
fn write_counted(
    writer: &mut impl Write,
    mut data: &[u8],
    progress: &dyn Progress,
    patience: &mut Patience,
) -> std::io::Result<()> {
    while !data.is_empty() {
        match writer.write(data) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                patience.progressed();
                progress.advance(n as u64);
                data = &data[n..];
            }
            Err(e) if patience.retry(e.kind()) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// How long the blocking calls of a copy may keep coming back empty (their socket's
/// short deadline passed, see [`blocking_socket`]) before the copy gives up on its own:
/// the backstop behind the stall watch, which decides first, on its floor.
pub(super) struct Patience {
    limit: Duration,
    last: std::time::Instant,
}

impl Patience {
    /// `limit` without progress at all; `Duration::ZERO` retries nothing.
    pub(super) fn new(limit: Duration) -> Patience {
        Patience {
            limit,
            last: std::time::Instant::now(),
        }
    }

    /// Something moved.
    pub(super) fn progressed(&mut self) {
        self.last = std::time::Instant::now();
    }

    /// Whether a call that failed with `kind` is tried again: always after a signal,
    /// after a socket deadline only while the limit has not passed.
    pub(super) fn retry(&self, kind: std::io::ErrorKind) -> bool {
        use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
        match kind {
            Interrupted => true,
            WouldBlock | TimedOut => self.last.elapsed() < self.limit,
            _ => false,
        }
    }
}

/// The copy's buffers: one, or a few circulating through a hashing thread (or one,
/// hashed on the copying thread, if no thread could be started), or one with a CRC.
enum Buffers {
    One(Vec<u8>),
    Inline(Vec<u8>, Hasher),
    Crc(Vec<u8>, crc32fast::Hasher),
    Hashing(HashThread),
}

impl Buffers {
    fn take(&mut self) -> Vec<u8> {
        match self {
            Buffers::One(buf) | Buffers::Inline(buf, _) | Buffers::Crc(buf, _) => {
                std::mem::take(buf)
            }
            Buffers::Hashing(thread) => thread.take(),
        }
    }

    /// Returns a buffer whose first `filled` bytes were copied (and are to be hashed).
    fn give_back(&mut self, buf: Vec<u8>, filled: usize) {
        match self {
            Buffers::One(slot) => *slot = buf,
            Buffers::Inline(slot, hasher) => {
                hasher.update(&buf[..filled]);
                *slot = buf;
            }
            Buffers::Crc(slot, crc) => {
                crc.update(&buf[..filled]);
                *slot = buf;
            }
            Buffers::Hashing(thread) => thread.hand_over(buf, filled),
        }
    }

    fn finish(self) -> (Option<Hasher>, Option<u32>) {
        match self {
            Buffers::One(buf) => {
                recycle(buf);
                (None, None)
            }
            Buffers::Inline(buf, hasher) => {
                recycle(buf);
                (Some(hasher), None)
            }
            Buffers::Crc(buf, crc) => {
                recycle(buf);
                (None, Some(crc.finalize()))
            }
            Buffers::Hashing(thread) => (thread.finish(), None),
        }
    }
}

/// Buffers in flight between the copy and the hashing thread: the copy runs ahead of
/// the hash by at most this many minus one.
const HASH_BUFFERS: usize = 3;

/// Hashes what was copied on a thread of its own, so a verified transfer runs at the
/// speed of the slower of copying and hashing rather than their sum (issue 12). The
/// copy fills a buffer, writes it, hands it over and takes a free one back; the hash
/// sees the bytes in the order they were written.
struct HashThread {
    full: Option<std::sync::mpsc::SyncSender<(Vec<u8>, usize)>>,
    empty: std::sync::mpsc::Receiver<Vec<u8>>,
    spare: Vec<u8>,
    thread: Option<std::thread::JoinHandle<Hasher>>,
}

impl HashThread {
    fn start(mut hasher: Hasher, size: usize) -> Option<HashThread> {
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, usize)>(HASH_BUFFERS);
        let (empty_tx, empty_rx) = std::sync::mpsc::sync_channel(HASH_BUFFERS);
        for _ in 1..HASH_BUFFERS {
            let _ = empty_tx.send(buffer(size));
        }
        let thread = std::thread::Builder::new()
            .name("xft-hash".into())
            .spawn(move || {
                for (buf, filled) in full_rx {
                    hasher.update(&buf[..filled]);
                    if empty_tx.send(buf).is_err() {
                        break;
                    }
                }
                hasher
            })
            .ok()?;
        Some(HashThread {
            full: Some(full_tx),
            empty: empty_rx,
            spare: buffer(size),
            thread: Some(thread),
        })
    }

    fn take(&mut self) -> Vec<u8> {
        if !self.spare.is_empty() {
            return std::mem::take(&mut self.spare);
        }
        self.empty.recv().unwrap_or_default()
    }

    fn hand_over(&mut self, buf: Vec<u8>, filled: usize) {
        if let Some(full) = &self.full {
            let _ = full.send((buf, filled));
        }
    }

    /// The hash of everything handed over; `None` if the thread could not run.
    fn finish(mut self) -> Option<Hasher> {
        drop(self.full.take());
        let hasher = self.thread.take()?.join().ok();
        recycle(std::mem::take(&mut self.spare));
        self.empty.try_iter().for_each(recycle);
        hasher
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_exactly_len_and_hashes() {
        let data = vec![7u8; 3 * BUFFER + 5];
        let mut out = Vec::new();
        let p = copy_blocking(
            (&mut &data[..], &mut out),
            data.len() as u64 - 1,
            &crate::transfer::progress::Silent,
            Check::Hash(Box::new(Hasher::new(Algorithm::Md5))),
            &mut Patience::new(Duration::ZERO),
        )
        .unwrap();
        assert_eq!(p.bytes, data.len() as u64 - 1);
        assert_eq!(out.len(), data.len() - 1);
        let whole = &data[..data.len() - 1];
        let mut expected = Hasher::new(Algorithm::Md5);
        expected.update(whole);
        assert_eq!(
            p.hash,
            Some(expected.finalize()),
            "the hash thread saw every byte in order"
        );
        let crc = copy_blocking(
            (&mut &data[..], &mut Vec::new()),
            data.len() as u64 - 1,
            &crate::transfer::progress::Silent,
            Check::Crc32(crc32fast::Hasher::new()),
            &mut Patience::new(Duration::ZERO),
        )
        .unwrap();
        assert_eq!(crc.crc32, Some(crc32fast::hash(whole)));
        let short = copy_blocking(
            (&mut &data[..10], &mut Vec::new()),
            100,
            &crate::transfer::progress::Silent,
            Check::None,
            &mut Patience::new(Duration::ZERO),
        )
        .unwrap();
        assert_eq!((short.bytes, short.hash), (10, None));
    }
}
