//! How the transfer core's progress events are shown: bars on a terminal (one per file
//! moving, several at once when transfers run side by side), NDJSON events on stderr
//! for scripts (`--progress json`), or nothing.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::args::{GlobalArgs, ProgressMode};
use crate::transfer::progress::{Progress, Progresses, Silent};

/// The progress display `--progress`, `-q` and the terminal ask for.
pub(super) fn progresses(global: &GlobalArgs) -> Arc<dyn Progresses> {
    match global.progress {
        ProgressMode::Json => Arc::new(JsonEvents),
        ProgressMode::None => Arc::new(Silent),
        _ if global.quiet => Arc::new(Silent),
        ProgressMode::Bar => Arc::new(Bars::default()),
        ProgressMode::Auto if std::io::stderr().is_terminal() => Arc::new(Bars::default()),
        ProgressMode::Auto => Arc::new(Silent),
    }
}

/// The "hashing" bar of `xft send`, on a terminal only: NDJSON events describe
/// transfers.
pub(super) fn hash_progress(global: &GlobalArgs) -> Arc<dyn Progress> {
    match global.progress {
        ProgressMode::Bar | ProgressMode::Auto if global.quiet => Arc::new(Silent),
        ProgressMode::Bar => Bars::default().file(),
        ProgressMode::Auto if std::io::stderr().is_terminal() => Bars::default().file(),
        _ => Arc::new(Silent),
    }
}

/// Bars on stderr, one per file, stacked while several move.
#[derive(Default)]
struct Bars {
    multi: indicatif::MultiProgress,
}

impl Progresses for Bars {
    fn file(&self) -> Arc<dyn Progress> {
        Arc::new(Bar {
            multi: self.multi.clone(),
            bar: Mutex::new(None),
            name: Mutex::new(String::new()),
        })
    }
}

/// The bar of one file.
struct Bar {
    multi: indicatif::MultiProgress,
    bar: Mutex<Option<indicatif::ProgressBar>>,
    name: Mutex<String>,
}

impl Bar {
    fn label(name: &str, method: &str) -> String {
        format!("{} [{method}]", crate::text::printable(name))
    }
}

impl Progress for Bar {
    fn start(&self, name: &str, size: u64, method: &str) {
        let bar = self.multi.add(indicatif::ProgressBar::new(size));
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
                self.multi.remove(&bar);
            }
        }
    }
}

/// NDJSON events on stderr: `start`, `method`, `progress` (at most 4 a second per
/// file), `done`; each line names its file, so files moving at once interleave safely.
struct JsonEvents;

impl Progresses for JsonEvents {
    fn file(&self) -> Arc<dyn Progress> {
        Arc::new(JsonFile {
            state: Mutex::new(JsonState::default()),
        })
    }
}

struct JsonFile {
    state: Mutex<JsonState>,
}

#[derive(Default)]
struct JsonState {
    name: String,
    size: u64,
    bytes: u64,
    method: String,
    last: Option<Instant>,
}

/// One event, one write: lines of files moving at once never mix.
fn emit(value: serde_json::Value) {
    let line = format!("{value}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

const JSON_INTERVAL: Duration = Duration::from_millis(250);

impl Progress for JsonFile {
    fn start(&self, name: &str, size: u64, method: &str) {
        if let Ok(mut s) = self.state.lock() {
            *s = JsonState {
                name: name.to_owned(),
                size,
                method: method.to_owned(),
                ..JsonState::default()
            };
        }
        emit(serde_json::json!({"event": "start", "name": name, "size": size, "method": method}));
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
        emit(serde_json::json!({"event": "method", "name": name, "method": method}));
    }

    fn advance(&self, bytes: u64) {
        let Ok(mut s) = self.state.lock() else { return };
        s.bytes += bytes;
        let due = s.last.is_none_or(|t| t.elapsed() >= JSON_INTERVAL) || s.bytes >= s.size;
        if due {
            s.last = Some(Instant::now());
            emit(serde_json::json!({
                "event": "progress", "name": s.name, "bytes": s.bytes, "size": s.size, "method": s.method
            }));
        }
    }

    fn finish(&self, ok: bool) {
        let Ok(s) = self.state.lock() else { return };
        emit(serde_json::json!({"event": "done", "name": s.name, "ok": ok, "bytes": s.bytes}));
    }
}
