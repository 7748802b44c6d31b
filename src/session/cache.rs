//! What earlier commands found about a server, kept in `$XDG_CACHE_HOME/xft/servers.json`
//! (else `~/.cache/xft/servers.json`): the SASL mechanisms it offered and the channel
//! binding types it listed, so that the next login sends its SASL request right behind
//! the stream header (XEP-0305 §2) instead of waiting a round trip for the features;
//! and its HTTP upload service (XEP-0363 §3), so that an upload skips two round trips
//! of discovery (the upload commands look again when the service refuses).
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    domain: String,
    mechanisms: Vec<String>,
    bindings: Vec<String>,
    /// The upload service's JID and its `max-file-size`.
    #[serde(default)]
    upload: Option<(String, Option<u64>)>,
    /// The JIDs of the SOCKS5 proxies discovery found (never their addresses: those are
    /// asked every time).
    #[serde(default)]
    proxies: Vec<String>,
}

/// Proxies taken from one entry.
const MAX_PROXIES: usize = 4;

/// Longest upload service JID taken.
const MAX_JID: usize = 1024;

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

fn entry(domain: &str) -> Option<Entry> {
    let entries: Vec<Entry> = list().load();
    entries.into_iter().rev().find(|e| e.domain == domain)
}

/// Changes `domain`'s entry (made when missing) under the file's lock.
fn edit(domain: &str, change: impl FnOnce(&mut Entry)) {
    list().update(|entries: &mut Vec<Entry>| {
        let mut entry = entries
            .iter()
            .rev()
            .find(|e| e.domain == domain)
            .cloned()
            .unwrap_or_else(|| Entry {
                domain: domain.to_owned(),
                ..Entry::default()
            });
        change(&mut entry);
        entries.retain(|e| e.domain != domain);
        entries.push(entry);
    });
}

/// What the last login to `domain` saw, if it is remembered and well formed.
pub(crate) fn seen(domain: &str) -> Option<Seen> {
    let entry = entry(domain)?;
    let known = !entry.mechanisms.is_empty();
    (known && names_ok(&entry.mechanisms) && names_ok(&entry.bindings)).then_some(Seen {
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
    edit(domain, |e| {
        e.mechanisms = now.mechanisms.clone();
        e.bindings = now.bindings.clone();
    });
}

/// Forgets what `domain` offered at login (it no longer holds).
pub(crate) fn forget(domain: &str) {
    if seen(domain).is_some() {
        edit(domain, |e| {
            e.mechanisms.clear();
            e.bindings.clear();
        });
    }
}

/// A remembered JID worth trying: not empty, not huge, no control characters (it is
/// only ever used as an XMPP address, which the server checks).
fn plausible_jid(jid: &str) -> bool {
    !jid.is_empty() && jid.len() <= MAX_JID && !jid.chars().any(char::is_control)
}

/// The upload service `domain` had, and its limit, if remembered and well formed.
pub(crate) fn upload_service(domain: &str) -> Option<(String, Option<u64>)> {
    let (jid, limit) = entry(domain)?.upload?;
    plausible_jid(&jid).then_some((jid, limit))
}

/// The JIDs of the SOCKS5 proxies `domain` had, if remembered and well formed.
pub(crate) fn proxies(domain: &str) -> Option<Vec<String>> {
    let proxies = entry(domain)?.proxies;
    let fine = !proxies.is_empty()
        && proxies.len() <= MAX_PROXIES
        && proxies.iter().all(|jid| plausible_jid(jid));
    fine.then_some(proxies)
}

/// Remembers `domain`'s SOCKS5 proxies (an empty list forgets them).
pub(crate) fn remember_proxies(domain: &str, found: Vec<String>) {
    let found: Vec<String> = found.into_iter().take(MAX_PROXIES).collect();
    if proxies(domain).unwrap_or_default() != found {
        edit(domain, |e| e.proxies = found);
    }
}

/// Remembers `domain`'s upload service (`None` forgets it).
pub(crate) fn remember_upload(domain: &str, service: Option<(String, Option<u64>)>) {
    if upload_service(domain) != service {
        edit(domain, |e| e.upload = service);
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
