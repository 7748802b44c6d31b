//! Resuming a broken receive (XEP-0096 §3, `<range/>`).
//!
//! When a transfer breaks, the receiver keeps `NAME.part`. If the same sender (bare
//! JID) later offers a file with the same name, size and MD5, and says it can send a
//! range (an empty `<range/>` in its offer), the receiver asks for the file from the
//! end of the `.part` on, appends, and verifies the MD5 over the whole file.
//!
//! What a `.part` belongs to is kept in a small registry file in the user's state
//! directory (`$XDG_STATE_HOME/xft/partials.json`), not next to the download: the
//! directory stays clean, and a `.part` nobody registered (or one swapped for a
//! symlink) is never appended to. Offsets are u64 throughout: resume must work past
//! 2 GiB and 4 GiB.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::json_list::JsonList;

/// One resumable `.part`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Partial {
    /// The `.part` file (absolute).
    pub part: PathBuf,
    /// Where it goes once whole (absolute).
    pub target: PathBuf,
    /// The sender's bare JID.
    pub from: String,
    /// The name as offered (before sanitising).
    pub name: String,
    pub size: u64,
    /// What else identifies the file: SI's MD5 of the whole file (lowercase hex, from
    /// the offer), or `jingle:` and the offer's date for Jingle, whose offers carry the
    /// checksum only after the data (XEP-0234 §8.2) that then checks the whole file.
    #[serde(alias = "md5")]
    pub identity: String,
}

impl Partial {
    /// The `.part` is the target's own (`TARGET.part`), both absolute, with no `..`.
    fn is_consistent(&self) -> bool {
        let plain = |p: &Path| {
            p.is_absolute()
                && p.components()
                    .all(|c| !matches!(c, std::path::Component::ParentDir))
        };
        plain(&self.target) && plain(&self.part) && self.part == part_path(&self.target)
    }
}

/// Where the bytes of `target` go while they arrive: `TARGET.part`.
pub(crate) fn part_path(target: &Path) -> PathBuf {
    let mut os = target.as_os_str().to_owned();
    os.push(".part");
    PathBuf::from(os)
}

/// Registry entries kept; the oldest go first.
const MAX_ENTRIES: usize = 256;

/// The registry of resumable `.part` files.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    list: JsonList,
}

impl Registry {
    /// `$XDG_STATE_HOME/xft/partials.json`, or `~/.local/state/xft/partials.json`;
    /// without either variable, resuming is off.
    pub(crate) fn from_env() -> Registry {
        Registry {
            list: JsonList::from_env(
                "XDG_STATE_HOME",
                ".local/state",
                "partials.json",
                MAX_ENTRIES,
            ),
        }
    }

    /// A registry in exactly this file (tests).
    #[cfg(test)]
    pub(crate) fn at(file: PathBuf) -> Registry {
        Registry {
            list: JsonList::at(file, MAX_ENTRIES),
        }
    }

    /// Remembers `partial` (replacing an entry for the same `.part`).
    pub(crate) fn record(&self, partial: Partial) {
        self.list.update(|entries: &mut Vec<Partial>| {
            entries.retain(|e| e.part != partial.part);
            entries.push(partial);
        });
    }

    /// Forgets the entry of `part` (finished, or removed).
    pub(crate) fn forget(&self, part: &Path) {
        self.list
            .update(|entries: &mut Vec<Partial>| entries.retain(|e| e.part != part));
    }

    /// The newest registered `.part` for this offer whose target `wanted` accepts, if it
    /// still exists as a regular file holding some but not all of the bytes.
    ///
    /// The registry is a file anyone with the user's rights may have written: an entry
    /// counts only when its `.part` is its target's name plus `.part` (so it lies where
    /// the target does, which `wanted` checks). Entries that are not so are dropped
    /// (issue 19, item 1: one whose `.part` lay outside the download directory made xft
    /// append the sender's bytes there).
    pub(crate) fn find(
        &self,
        wanted: &dyn Fn(&Path) -> bool,
        from: &str,
        name: &str,
        size: u64,
        identity: &str,
    ) -> Option<Partial> {
        let entries: Vec<Partial> = self.list.load();
        if !entries.iter().all(Partial::is_consistent) {
            tracing::warn!("the resume registry names .part files away from their targets; dropping those entries");
            self.list
                .update(|entries: &mut Vec<Partial>| entries.retain(Partial::is_consistent));
        }
        entries.into_iter().rev().find(|e| {
            e.is_consistent()
                && wanted(&e.target)
                && e.from == from
                && e.name == name
                && e.size == size
                && e.identity == identity
                && partial_len(&e.part).is_some_and(|len| len > 0 && len < size)
        })
    }
}

/// The length of `part` if it is a regular file (a symlink does not count).
pub(crate) fn partial_len(part: &Path) -> Option<u64> {
    std::fs::symlink_metadata(part)
        .ok()
        .filter(|m| m.file_type().is_file())
        .map(|m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dir: &Path, n: u64) -> Partial {
        Partial {
            part: dir.join(format!("f{n}.part")),
            target: dir.join(format!("f{n}")),
            from: "alice@example.org".into(),
            name: format!("f{n}"),
            size: 100,
            identity: "00112233445566778899aabbccddeeff".into(),
        }
    }

    #[test]
    fn records_finds_and_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::at(dir.path().join("state/xft/partials.json"));
        let e = entry(dir.path(), 1);
        registry.record(e.clone());
        let same = |t: &Path| t == e.target;
        let find = || registry.find(&same, &e.from, &e.name, e.size, &e.identity);
        assert_eq!(find(), None, "no .part on disk yet");
        std::fs::write(&e.part, b"half").unwrap();
        assert_eq!(find(), Some(e.clone()));
        assert_eq!(
            registry.find(&same, "mallory@example.org", &e.name, 100, &e.identity),
            None
        );
        let other_md5 = "ffffffffffffffffffffffffffffffff";
        assert_eq!(registry.find(&same, &e.from, &e.name, 100, other_md5), None);
        assert_eq!(
            registry.find(&same, &e.from, &e.name, 4, &e.identity),
            None,
            "already whole"
        );
        assert_eq!(
            registry.find(&|_| false, &e.from, &e.name, 100, &e.identity),
            None
        );
        registry.forget(&e.part);
        assert_eq!(find(), None);
    }

    /// Registries written before Jingle resumes named the identity `md5`.
    #[test]
    fn reads_entries_of_older_versions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("partials.json");
        let e = entry(dir.path(), 3);
        let old = serde_json::json!([{
            "part": e.part, "target": e.target, "from": e.from, "name": e.name,
            "size": e.size, "md5": e.identity,
        }]);
        std::fs::write(&file, old.to_string()).unwrap();
        std::fs::write(&e.part, b"half").unwrap();
        let same = |t: &Path| t == e.target;
        let registry = Registry::at(file);
        assert_eq!(
            registry.find(&same, &e.from, &e.name, e.size, &e.identity),
            Some(e)
        );
    }

    /// Issue 19, item 1: entries whose `.part` is not their target's, or that climb out
    /// with `..`, are never found, and are dropped from the file.
    #[test]
    fn entries_pointing_elsewhere_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let registry = Registry::at(dir.path().join("partials.json"));
        let good = entry(dir.path(), 1);
        let elsewhere = Partial {
            part: outside.path().join("victim.part"),
            ..entry(dir.path(), 2)
        };
        let climbing = Partial {
            part: dir.path().join("../x.part"),
            target: dir.path().join("../x"),
            ..entry(dir.path(), 3)
        };
        for e in [&good, &elsewhere, &climbing] {
            std::fs::write(&e.part, b"half").unwrap();
            registry.record(e.clone());
        }
        let same_dir = |t: &Path| t.parent() == Some(dir.path());
        let anywhere = |_: &Path| true;
        for e in [&elsewhere, &climbing] {
            assert_eq!(
                registry.find(&anywhere, &e.from, &e.name, e.size, &e.identity),
                None
            );
        }
        assert_eq!(
            registry.find(&same_dir, &good.from, &good.name, good.size, &good.identity),
            Some(good.clone())
        );
        let kept: Vec<Partial> = registry.list.load();
        assert_eq!(kept, [good]);
    }

    #[test]
    fn a_symlinked_part_is_not_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::at(dir.path().join("partials.json"));
        let e = entry(dir.path(), 2);
        std::fs::write(dir.path().join("elsewhere"), b"half").unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &e.part).unwrap();
        registry.record(e.clone());
        let same = |t: &Path| t == e.target;
        assert_eq!(
            registry.find(&same, &e.from, &e.name, e.size, &e.identity),
            None
        );
    }

    #[test]
    fn keeps_a_bounded_number_of_entries_and_survives_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("partials.json");
        std::fs::write(&file, b"{not json").unwrap();
        let registry = Registry::at(file);
        for n in 0..(MAX_ENTRIES as u64 + 10) {
            registry.record(entry(dir.path(), n));
        }
        let entries: Vec<Partial> = registry.list.load();
        assert_eq!(entries.len(), MAX_ENTRIES);
        assert_eq!(entries[0], entry(dir.path(), 10), "the oldest went first");
    }
}
