//! Progress reporting, kept out of the protocol code: the IBB byte paths are wrapped in
//! a [`Metered`] reader or writer that calls [`Progress::advance`] (and hashes, on the
//! receiving side); the S5B pump calls it from its copy loop.
//!
//! Three kinds: an indicatif bar on a terminal, NDJSON events on stderr for scripts
//! (`--progress json`), and silence.

use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

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

/// No output at all (`-q`, or stderr is not a terminal).
pub(crate) struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: u64, _: &str) {}
    fn switch_method(&self, _: &str) {}
    fn advance(&self, _: u64) {}
    fn finish(&self, _: bool) {}
}

/// A progress bar on stderr.
pub(crate) struct Bar {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    name: Mutex<String>,
}

impl Bar {
    pub(crate) fn new() -> Bar {
        Bar {
            bar: Mutex::new(None),
            name: Mutex::new(String::new()),
        }
    }

    fn label(name: &str, method: &str) -> String {
        format!("{} [{method}]", crate::text::printable(name))
    }
}

impl Default for Bar {
    fn default() -> Self {
        Bar::new()
    }
}

impl Progress for Bar {
    fn start(&self, name: &str, size: u64, method: &str) {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(size),
            indicatif::ProgressDrawTarget::stderr(),
        );
        let style = indicatif::ProgressStyle::with_template(
            "{msg} {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(Bar::label(name, method));
        if let Ok(mut n) = self.name.lock() {
            *n = name.to_owned();
        }
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn switch_method(&self, method: &str) {
        let name = self.name.lock().map(|n| n.clone()).unwrap_or_default();
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.set_position(0);
                bar.set_message(Bar::label(&name, method));
            }
        }
    }

    fn advance(&self, bytes: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.inc(bytes);
            }
        }
    }

    /// The bar gives way to the summary or error line that follows.
    fn finish(&self, _ok: bool) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

/// NDJSON events on stderr: `start`, `method`, `progress` (at most 4 a second), `done`.
pub(crate) struct JsonEvents {
    state: Mutex<JsonState>,
}

struct JsonState {
    name: String,
    size: u64,
    bytes: u64,
    method: String,
    last: Option<Instant>,
}

impl JsonEvents {
    pub(crate) fn new() -> JsonEvents {
        JsonEvents {
            state: Mutex::new(JsonState {
                name: String::new(),
                size: 0,
                bytes: 0,
                method: String::new(),
                last: None,
            }),
        }
    }

    fn emit(value: serde_json::Value) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{value}");
    }
}

impl Default for JsonEvents {
    fn default() -> Self {
        JsonEvents::new()
    }
}

const JSON_INTERVAL: Duration = Duration::from_millis(250);

impl Progress for JsonEvents {
    fn start(&self, name: &str, size: u64, method: &str) {
        if let Ok(mut s) = self.state.lock() {
            *s = JsonState {
                name: name.to_owned(),
                size,
                bytes: 0,
                method: method.to_owned(),
                last: None,
            };
        }
        JsonEvents::emit(
            serde_json::json!({"event": "start", "name": name, "size": size, "method": method}),
        );
    }

    fn switch_method(&self, method: &str) {
        let name = match self.state.lock() {
            Ok(mut s) => {
                s.method = method.to_owned();
                s.bytes = 0;
                s.name.clone()
            }
            Err(_) => return,
        };
        JsonEvents::emit(serde_json::json!({"event": "method", "name": name, "method": method}));
    }

    fn advance(&self, bytes: u64) {
        let Ok(mut s) = self.state.lock() else { return };
        s.bytes += bytes;
        let due = s.last.is_none_or(|t| t.elapsed() >= JSON_INTERVAL) || s.bytes >= s.size;
        if due {
            s.last = Some(Instant::now());
            JsonEvents::emit(serde_json::json!({
                "event": "progress", "name": s.name, "bytes": s.bytes, "size": s.size, "method": s.method
            }));
        }
    }

    fn finish(&self, ok: bool) {
        let Ok(s) = self.state.lock() else { return };
        JsonEvents::emit(
            serde_json::json!({"event": "done", "name": s.name, "ok": ok, "bytes": s.bytes}),
        );
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
