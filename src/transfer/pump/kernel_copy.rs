//! The unverified S5B data phase without passing the bytes through our memory: the
//! sender hands the file to the socket with `sendfile(2)`, the receiver moves the socket
//! into the file with `splice(2)` through a pipe of its own. Nothing has to see the
//! bytes when no hash is computed (`--no-hash`, or an SI offer without one), and each
//! side saves one copy between the kernel and a user buffer per byte (issue 12: the
//! `--no-hash` ceiling).
//!
//! Only descriptors the kernel handles this way are used: a regular file, a socket or a
//! pipe, not opened for appending. Anything else (a terminal, `/dev/full`, a character
//! device) is left to the ordinary copy, decided before a byte moves. The socket's
//! `SO_RCVTIMEO`/`SO_SNDTIMEO` deadlines apply to `splice` and `sendfile` as they do to
//! `read` and `write`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{FileType, OFlags};
use rustix::io::Errno;
use rustix::pipe::SpliceFlags;

use super::{Patience, PumpError};
use crate::transfer::progress::Progress;

/// Bytes asked of the kernel per call, and the size asked for our pipe: progress is
/// reported at least this often.
const CHUNK: usize = 1 << 20;

/// How the copy went: done, or not attempted because a descriptor does not suit.
#[derive(Debug)]
pub(super) enum Outcome {
    /// This many bytes were moved (fewer than asked if the reader ended first).
    Moved(u64),
    /// The descriptors do not suit; nothing was read or written.
    Unsupported,
}

/// Which system call suits a pair of descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// From a regular file: `sendfile(2)`, to a socket, a pipe or a file.
    Sendfile,
    /// From a socket or a pipe: `splice(2)` into a pipe, and from it to the writer.
    Splice,
}

/// The route for a reader and a writer of these kinds, if any: a pure decision, so it is
/// tested without descriptors.
fn route(reader: (FileType, bool), writer: (FileType, bool)) -> Option<Route> {
    let (reader_type, _) = reader;
    let (writer_type, appending) = writer;
    let writable = matches!(
        writer_type,
        FileType::RegularFile | FileType::Socket | FileType::Fifo
    );
    if !writable || appending {
        return None;
    }
    match reader_type {
        FileType::RegularFile => Some(Route::Sendfile),
        FileType::Socket | FileType::Fifo => Some(Route::Splice),
        _ => None,
    }
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Sendfile => "the kernel (sendfile)",
            Route::Splice => "the kernel (splice)",
        }
    }
}

fn kind(fd: BorrowedFd<'_>) -> Option<(FileType, bool)> {
    let stat = rustix::fs::fstat(fd).ok()?;
    let flags = rustix::fs::fcntl_getfl(fd).ok()?;
    Some((
        FileType::from_raw_mode(stat.st_mode),
        flags.contains(OFlags::APPEND),
    ))
}

/// Copies up to `len` bytes from `reader` to `writer` in the kernel, reporting progress,
/// or says [`Outcome::Unsupported`] before moving anything. On failure returns the bytes
/// moved before it and which side failed.
pub(super) fn copy(
    (reader, writer): (BorrowedFd<'_>, BorrowedFd<'_>),
    len: u64,
    progress: &dyn Progress,
    patience: &mut Patience,
) -> Result<Outcome, (u64, PumpError)> {
    let (Some(from), Some(to)) = (kind(reader), kind(writer)) else {
        return Ok(Outcome::Unsupported);
    };
    let chosen = route(from, to);
    tracing::debug!(
        "S5B data copied by {}",
        chosen.map_or("our buffers", Route::name)
    );
    match chosen {
        Some(Route::Sendfile) => sendfile((reader, writer), len, progress, patience),
        Some(Route::Splice) => match Pipe::new() {
            Some(pipe) => pipe.splice((reader, writer), len, progress, patience),
            None => Ok(Outcome::Unsupported),
        },
        None => Ok(Outcome::Unsupported),
    }
}

fn sendfile(
    (reader, writer): (BorrowedFd<'_>, BorrowedFd<'_>),
    len: u64,
    progress: &dyn Progress,
    patience: &mut Patience,
) -> Result<Outcome, (u64, PumpError)> {
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(CHUNK as u64) as usize;
        match rustix::fs::sendfile(writer, reader, None, want) {
            Ok(0) => break,
            Ok(n) => {
                patience.progressed();
                done += n as u64;
                progress.advance(n as u64);
            }
            Err(e) if patience.retry(std::io::Error::from(e).kind()) => continue,
            // Refused outright by this kernel or file system: nothing moved yet.
            Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) if done == 0 => {
                return Ok(Outcome::Unsupported)
            }
            Err(e) => return Err((done, sendfile_side(e))),
        }
    }
    Ok(Outcome::Moved(done))
}

/// `sendfile(2)` reports both sides' failures: the network's belong to the writer (the
/// socket), the rest (an I/O error reading the disk) to the reader.
fn sendfile_side(e: Errno) -> PumpError {
    let socket_side = [
        Errno::AGAIN,
        Errno::PIPE,
        Errno::CONNRESET,
        Errno::NOTCONN,
        Errno::TIMEDOUT,
        Errno::NOSPC,
        Errno::DQUOT,
        Errno::FBIG,
    ];
    let io = std::io::Error::from(e);
    if socket_side.contains(&e) {
        PumpError::Write(io)
    } else {
        PumpError::Read(io)
    }
}

/// Our pipe between a socket and the writer.
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Its capacity: the most one splice into it can carry.
    size: usize,
}

impl Pipe {
    fn new() -> Option<Pipe> {
        let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).ok()?;
        // A larger pipe means fewer calls; the default (64 KiB) still works if refused.
        let size = rustix::pipe::fcntl_setpipe_size(write.as_fd(), CHUNK)
            .or_else(|_| rustix::pipe::fcntl_getpipe_size(write.as_fd()))
            .ok()?;
        Some(Pipe { read, write, size })
    }

    fn splice(
        self,
        (reader, writer): (BorrowedFd<'_>, BorrowedFd<'_>),
        len: u64,
        progress: &dyn Progress,
        patience: &mut Patience,
    ) -> Result<Outcome, (u64, PumpError)> {
        let flags = SpliceFlags::MOVE | SpliceFlags::MORE;
        let mut done = 0u64;
        while done < len {
            let want = (len - done).min(self.size as u64) as usize;
            let got = match rustix::pipe::splice(reader, None, &self.write, None, want, flags) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if patience.retry(std::io::Error::from(e).kind()) => continue,
                Err(Errno::INVAL | Errno::NOSYS) if done == 0 => return Ok(Outcome::Unsupported),
                Err(e) => return Err((done, PumpError::Read(e.into()))),
            };
            let mut left = got;
            while left > 0 {
                match rustix::pipe::splice(&self.read, None, writer, None, left, flags) {
                    Ok(0) => {
                        let e = std::io::Error::from(std::io::ErrorKind::WriteZero);
                        return Err((done, PumpError::Write(e)));
                    }
                    Ok(n) => {
                        patience.progressed();
                        left -= n;
                        done += n as u64;
                        progress.advance(n as u64);
                    }
                    Err(e) if patience.retry(std::io::Error::from(e).kind()) => continue,
                    Err(e) => return Err((done, PumpError::Write(e.into()))),
                }
            }
        }
        Ok(Outcome::Moved(done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn routes_by_descriptor_kind() {
        let file = (FileType::RegularFile, false);
        let socket = (FileType::Socket, false);
        let fifo = (FileType::Fifo, false);
        let tty = (FileType::CharacterDevice, false);
        assert_eq!(route(file, socket), Some(Route::Sendfile));
        assert_eq!(route(socket, file), Some(Route::Splice));
        assert_eq!(route(socket, fifo), Some(Route::Splice));
        assert_eq!(route(fifo, socket), Some(Route::Splice));
        assert_eq!(route(socket, tty), None, "a terminal or /dev/full");
        assert_eq!(route(tty, socket), None);
        assert_eq!(
            route(socket, (FileType::RegularFile, true)),
            None,
            "splice refuses files opened for appending"
        );
        assert_eq!(route((FileType::Directory, false), socket), None);
    }

    fn patient() -> Patience {
        Patience::new(std::time::Duration::from_secs(10))
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4096) as u8).collect()
    }

    /// Both routes over a real loopback connection: file → socket by sendfile, socket →
    /// file by splice, exactly `len` bytes, the rest of the file left alone.
    #[test]
    fn file_to_socket_to_file() {
        let data = sample(3 * CHUNK + 12345);
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        std::fs::write(&source, &data).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let len = data.len() as u64 - 10;
        let sender = std::thread::spawn(move || {
            let file = std::fs::File::open(&source).unwrap();
            let socket = std::net::TcpStream::connect(addr).unwrap();
            let silent = crate::transfer::progress::Silent;
            copy((file.as_fd(), socket.as_fd()), len, &silent, &mut patient()).unwrap()
        });
        let (socket, _) = listener.accept().unwrap();
        let target = dir.path().join("target");
        let out = std::fs::File::create(&target).unwrap();
        let silent = crate::transfer::progress::Silent;
        let received = copy((socket.as_fd(), out.as_fd()), len, &silent, &mut patient()).unwrap();
        assert!(matches!(sender.join().unwrap(), Outcome::Moved(n) if n == len));
        assert!(matches!(received, Outcome::Moved(n) if n == len));
        assert_eq!(std::fs::read(&target).unwrap(), &data[..len as usize]);
    }

    /// A reader that ends early: the bytes it had, no error (the caller judges).
    #[test]
    fn short_reader_reports_what_moved() {
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.write_all(b"only this").unwrap();
        drop(a);
        let dir = tempfile::tempdir().unwrap();
        let out = std::fs::File::create(dir.path().join("t")).unwrap();
        let silent = crate::transfer::progress::Silent;
        let moved = copy((b.as_fd(), out.as_fd()), 100, &silent, &mut patient()).unwrap();
        assert!(matches!(moved, Outcome::Moved(9)));
        let mut back = String::new();
        std::fs::File::open(dir.path().join("t"))
            .unwrap()
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, "only this");
    }

    /// `/dev/full` (a character device) is not a route: the caller's copy reports the
    /// full disk as before.
    #[test]
    fn character_devices_are_left_to_the_ordinary_copy() {
        let (_a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let silent = crate::transfer::progress::Silent;
        let outcome = copy((b.as_fd(), full.as_fd()), 100, &silent, &mut patient()).unwrap();
        assert!(matches!(outcome, Outcome::Unsupported));
    }

    /// A socket that goes quiet: its `SO_RCVTIMEO` ends `splice` as it ends `read`, as a
    /// stall, with the bytes moved before it counted.
    #[test]
    fn stalled_socket_is_a_stall() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_millis(100)))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = std::fs::File::create(dir.path().join("t")).unwrap();
        (&client).write_all(b"abc").unwrap();
        let silent = crate::transfer::progress::Silent;
        let err = copy(
            (socket.as_fd(), out.as_fd()),
            100,
            &silent,
            &mut Patience::new(std::time::Duration::ZERO),
        )
        .unwrap_err();
        assert_eq!(err.0, 3, "the bytes before the stall are counted");
        assert!(err.1.is_stall(), "{:?}", err.1);
        drop(client);
    }
}
