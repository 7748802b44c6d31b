//! A short list of records kept in a JSON file of the user's state or cache directory
//! (the resume registry, the hash cache): read whole, changed under a lock file so
//! concurrent xft processes lose no entry, replaced by rename so a reader never sees
//! half a file. Failures only lose what the list was for (resuming, a cached hash).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};

/// A file larger than this is ignored (and rewritten) rather than read.
const MAX_FILE: u64 = 1 << 20;

/// A list of `T` in one JSON file, at most `max` entries, the oldest dropped first.
#[derive(Debug, Clone)]
pub(crate) struct JsonList {
    file: Option<PathBuf>,
    max: usize,
}

impl JsonList {
    /// The list in `$VAR/xft/NAME`, or `~/FALLBACK/xft/NAME` (FALLBACK as XDG's
    /// default for VAR); without either variable there is no list.
    pub(crate) fn from_env(var: &str, fallback: &str, name: &str, max: usize) -> JsonList {
        let base = std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(fallback))
            });
        JsonList {
            file: base.map(|b| b.join("xft").join(name)),
            max,
        }
    }

    /// No file: nothing is kept.
    #[cfg(test)]
    pub(crate) fn off() -> JsonList {
        JsonList { file: None, max: 0 }
    }

    /// The list in exactly this file.
    #[cfg(test)]
    pub(crate) fn at(file: PathBuf, max: usize) -> JsonList {
        JsonList {
            file: Some(file),
            max,
        }
    }

    pub(crate) fn load<T: DeserializeOwned>(&self) -> Vec<T> {
        let Some(file) = &self.file else {
            return Vec::new();
        };
        let too_big = std::fs::metadata(file).is_ok_and(|m| m.len() > MAX_FILE);
        if too_big {
            return Vec::new();
        }
        std::fs::read(file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Read-modify-write under the lock; then the oldest entries past the maximum go.
    pub(crate) fn update<T: DeserializeOwned + Serialize>(&self, change: impl FnOnce(&mut Vec<T>)) {
        let Some(file) = &self.file else { return };
        let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
            return;
        };
        if create_private_dir(dir).is_err() {
            return;
        }
        let name = name.to_string_lossy();
        let stem = name.strip_suffix(".json").unwrap_or(&name);
        let Ok(lock) = std::fs::File::create(dir.join(format!("{stem}.lock"))) else {
            return;
        };
        if lock.lock().is_err() {
            return;
        }
        let mut entries = self.load();
        change(&mut entries);
        let excess = entries.len().saturating_sub(self.max);
        entries.drain(..excess);
        let Ok(text) = serde_json::to_vec_pretty(&entries) else {
            return;
        };
        let temp = dir.join(format!("{name}.new"));
        let written = std::fs::File::create(&temp)
            .and_then(|mut f| f.write_all(&text))
            .and_then(|()| std::fs::rename(&temp, file));
        if let Err(e) = written {
            tracing::debug!("cannot update {}: {e}", file.display());
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
