//! MD5s remembered across `xft send`s. SI puts the file's MD5 in the offer (XEP-0096
//! §3), so a file is read whole before its first byte goes out: about 2 s per GiB here,
//! every time. A file sent again (to another recipient, or to resume a broken transfer)
//! that has not changed is offered with the hash remembered from the last time.
//!
//! "Not changed" is what the kernel updates on every write: device, inode, size, and
//! the modification and change times to the nanosecond (the change time cannot be set
//! from user space). Kernels before Linux 6.13 stamp files with a clock of a few
//! milliseconds' resolution, so a same-size write within that window after the hash
//! was taken goes unseen here. Should a file change unnoticed, nothing wrong is
//! delivered: the sender checks the bytes it sends against the remembered CRC-32
//! (exit 11) and the receiver checks the MD5.
//!
//! Kept in `$XDG_CACHE_HOME/xft/hashes.json` (else `~/.cache/xft/hashes.json`), files of
//! [`MIN_SIZE`] and more, the newest [`MAX_ENTRIES`]; deleting the file forgets them.

use serde::{Deserialize, Serialize};

use crate::json_list::JsonList;

/// Smaller files are hashed again: it takes less than about 15 ms.
pub(crate) const MIN_SIZE: u64 = 8 << 20;
const MAX_ENTRIES: usize = 256;

/// What changes whenever a file's content does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Identity {
    pub(crate) fn of(meta: &std::fs::Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    file: Identity,
    md5: String,
    crc32: u32,
}

/// The remembered hashes.
#[derive(Debug, Clone)]
pub(crate) struct HashCache {
    list: JsonList,
}

impl HashCache {
    pub(crate) fn from_env() -> HashCache {
        HashCache {
            list: JsonList::from_env("XDG_CACHE_HOME", ".cache", "hashes.json", MAX_ENTRIES),
        }
    }

    /// No cache: every file is read.
    #[cfg(test)]
    pub(crate) fn off() -> HashCache {
        HashCache {
            list: JsonList::off(),
        }
    }

    #[cfg(test)]
    fn at(file: std::path::PathBuf) -> HashCache {
        HashCache {
            list: JsonList::at(file, MAX_ENTRIES),
        }
    }

    /// The MD5 (lowercase hex) and CRC-32 remembered for this exact file.
    pub(crate) fn find(&self, file: &Identity) -> Option<(String, u32)> {
        if file.size < MIN_SIZE {
            return None;
        }
        let entries: Vec<Entry> = self.list.load();
        entries
            .into_iter()
            .rev()
            .find(|e| e.file == *file && is_md5_hex(&e.md5))
            .map(|e| (e.md5, e.crc32))
    }

    /// Remembers the hashes of `file` (replacing older ones for the same inode).
    pub(crate) fn remember(&self, file: Identity, md5: &str, crc32: u32) {
        if file.size < MIN_SIZE || !is_md5_hex(md5) {
            return;
        }
        let entry = Entry {
            file,
            md5: md5.to_owned(),
            crc32,
        };
        self.list.update(|entries: &mut Vec<Entry>| {
            entries.retain(|e| (e.file.dev, e.file.ino) != (file.dev, file.ino));
            entries.push(entry);
        });
    }
}

fn is_md5_hex(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big_file(dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("big");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(MIN_SIZE).unwrap();
        path
    }

    fn identity(path: &std::path::Path) -> Identity {
        Identity::of(&std::fs::metadata(path).unwrap())
    }

    #[test]
    fn remembers_until_the_file_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HashCache::at(dir.path().join("cache/xft/hashes.json"));
        let path = big_file(dir.path());
        let before = identity(&path);
        assert_eq!(cache.find(&before), None);
        let md5 = "0123456789abcdef0123456789abcdef";
        cache.remember(before, md5, 7);
        assert_eq!(cache.find(&before), Some((md5.to_owned(), 7)));
        // Any write moves the change time, whatever the content and the mtime become.
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_at(&[0], 5).unwrap();
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        f.set_modified(mtime).unwrap();
        assert_ne!(identity(&path), before);
        assert_eq!(cache.find(&identity(&path)), None);
    }

    #[test]
    fn small_files_and_bad_entries_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache/xft/hashes.json");
        let cache = HashCache::at(file.clone());
        let small = dir.path().join("small");
        std::fs::write(&small, b"tiny").unwrap();
        let md5 = "0123456789abcdef0123456789abcdef";
        cache.remember(identity(&small), md5, 1);
        assert!(!file.exists(), "nothing written for a small file");
        let big = identity(&big_file(dir.path()));
        cache.remember(big, "not a hash", 1);
        assert_eq!(cache.find(&big), None);
        // An entry edited by hand into something unusable is never offered.
        cache.remember(big, md5, 1);
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace(md5, "0123456789ABCDEF<script>/ff0123")).unwrap();
        assert_eq!(cache.find(&big), None);
    }
}
