//! What the last login found about a server, kept in `$XDG_CACHE_HOME/xft/servers.json`
//! (else `~/.cache/xft/servers.json`): the SASL mechanisms it offered and the channel
//! binding types it listed. The next login sends its SASL request right behind the
//! stream header (XEP-0305 §2) instead of waiting a round trip for the features.
//!
//! Nothing is decided from the cache alone: the features that come are checked, and
//! when they would make xft choose otherwise (another mechanism, a stronger one, another
//! binding), that connection is dropped and the login starts over without the cache.
//! The file is xft's own but may be damaged or hostile: entries are bounded and
//! checked, a bad file reads as empty.

use serde::{Deserialize, Serialize};

use crate::json_list::JsonList;

/// Servers remembered, the oldest dropped first.
const MAX_SERVERS: usize = 64;
/// Mechanisms or binding types taken from one entry, and the longest name.
const MAX_NAMES: usize = 16;
const MAX_NAME: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    domain: String,
    mechanisms: Vec<String>,
    bindings: Vec<String>,
}

/// What the last login to one server saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    pub mechanisms: Vec<String>,
    pub bindings: Vec<String>,
}

fn list() -> JsonList {
    JsonList::from_env("XDG_CACHE_HOME", ".cache", "servers.json", MAX_SERVERS)
}

fn names_ok(names: &[String]) -> bool {
    names.len() <= MAX_NAMES
        && names.iter().all(|n| {
            !n.is_empty()
                && n.len() <= MAX_NAME
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// What the last login to `domain` saw, if it is remembered and well formed.
pub(crate) fn seen(domain: &str) -> Option<Seen> {
    let entries: Vec<Entry> = list().load();
    let entry = entries.into_iter().rev().find(|e| e.domain == domain)?;
    (names_ok(&entry.mechanisms) && names_ok(&entry.bindings)).then_some(Seen {
        mechanisms: entry.mechanisms,
        bindings: entry.bindings,
    })
}

/// Remembers what `domain` offered (written only when it changed).
pub(crate) fn remember(domain: &str, now: &Seen) {
    if seen(domain).as_ref() == Some(now) || !names_ok(&now.mechanisms) || !names_ok(&now.bindings)
    {
        return;
    }
    list().update(|entries: &mut Vec<Entry>| {
        entries.retain(|e| e.domain != domain);
        entries.push(Entry {
            domain: domain.to_owned(),
            mechanisms: now.mechanisms.clone(),
            bindings: now.bindings.clone(),
        });
    });
}

/// Forgets `domain` (what was remembered no longer holds).
pub(crate) fn forget(domain: &str) {
    if seen(domain).is_some() {
        list().update(|entries: &mut Vec<Entry>| entries.retain(|e| e.domain != domain));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        let ok = |v: &[&str]| names_ok(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(ok(&["SCRAM-SHA-1", "PLAIN", "tls-exporter"]));
        assert!(!ok(&["SCRAM SHA"]));
        assert!(!ok(&[""]));
        assert!(!ok(&["<auth>"]));
        assert!(!ok(&[&"A".repeat(41)]));
        let many: Vec<String> = (0..17).map(|i| format!("M{i}")).collect();
        assert!(!names_ok(&many));
    }
}
