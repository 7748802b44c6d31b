//! Progress reporting, kept out of the protocol code: the IBB byte paths are wrapped in
//! a [`Metered`] reader or writer that calls [`Progress::advance`] (and hashes, on the
//! receiving side); the S5B pump calls it from its copy loop.
//!
//! The core only emits events; how they are shown (a bar on a terminal, NDJSON events
//! for scripts, nothing) is the command line's business (`cli::progress`). Several files
//! may move at once: each gets a [`Progress`] of its own from [`Progresses`].

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::hash::Hasher;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Receives progress events for one file at a time.
pub(crate) trait Progress: Send + Sync {
    fn start(&self, name: &str, size: u64, method: &str);
    /// The transfer moved to another bytestream (S5B failed, IBB took over).
    fn switch_method(&self, method: &str);
    fn advance(&self, bytes: u64);
    fn finish(&self, ok: bool);
}

/// Makes the [`Progress`] of each file that moves.
pub(crate) trait Progresses: Send + Sync {
    /// A fresh reporter for one file.
    fn file(&self) -> Arc<dyn Progress>;
}

/// No output at all (`-q`, or stderr is not a terminal).
pub(crate) struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: u64, _: &str) {}
    fn switch_method(&self, _: &str) {}
    fn advance(&self, _: u64) {}
    fn finish(&self, _: bool) {}
}

impl Progresses for Silent {
    fn file(&self) -> Arc<dyn Progress> {
        Arc::new(Silent)
    }
}

/// Wraps a reader or writer: reports bytes to a [`Progress`] and, optionally, hashes
/// them with MD5 (the receiver's integrity check), so neither concern enters the
/// protocol loops.
pub(crate) struct Metered<T> {
    inner: T,
    progress: Arc<dyn Progress>,
    hash: Option<Hasher>,
    bytes: u64,
}

impl<T> Metered<T> {
    /// `hasher`, when given, may already hold a resumed file's prefix.
    pub(crate) fn new(inner: T, progress: Arc<dyn Progress>, hasher: Option<Hasher>) -> Metered<T> {
        Metered {
            inner,
            progress,
            hash: hasher,
            bytes: 0,
        }
    }

    /// The hasher, with everything that passed so far (leaves none behind).
    pub(crate) fn take_hash(&mut self) -> Option<Hasher> {
        self.hash.take()
    }

    /// The lowercase hex hash of what passed (if hashing).
    pub(crate) fn hash_hex(&self) -> Option<String> {
        self.hash.clone().map(Hasher::hex)
    }

    fn account(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if let Some(h) = self.hash.as_mut() {
            h.update(data);
        }
        self.bytes += data.len() as u64;
        self.progress.advance(data.len() as u64);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Metered<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            self.account(&buf.filled()[before..]);
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Metered<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = poll {
            self.account(&data[..n]);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
