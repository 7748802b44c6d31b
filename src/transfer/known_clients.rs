//! The clients seen before: disco#info answers kept by their XEP-0115 `ver` in
//! `$XDG_CACHE_HOME/xft/caps.json` (else `~/.cache/xft/caps.json`), so that sending to a
//! contact's bare JID skips asking a resource for its features (a round trip through
//! both users' servers) when its presence announces a `ver` whose answer is known.
//!
//! The file is xft's own but may be damaged or hostile, so it decides nothing alone:
//! an entry is the answer itself, and it is used only while it still hashes to the
//! `ver` the resource announced (XEP-0115 §5.1; making another answer hash to a given
//! SHA-1 `ver` is a preimage, §9.2). An entry is added only when the answer a resource
//! gave hashes to the `ver` it announced (§5.4 step 3.8). Bounded: 48 answers of at
//! most 16 KiB, the oldest dropped first.

use serde::{Deserialize, Serialize};

use crate::caps;
use crate::disco::Info;
use crate::json_list::JsonList;
use crate::xml::{parse_document, Element};

/// Answers kept.
const MAX_ENTRIES: usize = 48;
/// The longest answer kept (Conversations' is about 2 KiB, Gajim's about 5).
const MAX_ANSWER: usize = 16 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    ver: String,
    /// The `<query/>`, serialized.
    answer: String,
}

fn list() -> JsonList {
    JsonList::from_env("XDG_CACHE_HOME", ".cache", "caps.json", MAX_ENTRIES)
}

/// The answer remembered for `ver`, if there is one and it still hashes to `ver`.
pub(crate) fn recall(ver: &str) -> Option<Info> {
    recall_from(&list(), ver)
}

/// Remembers `answer` for `ver` if it hashes to it; says whether it did.
pub(crate) fn remember(ver: &str, answer: &Element) -> bool {
    remember_in(&list(), ver, answer)
}

fn recall_from(list: &JsonList, ver: &str) -> Option<Info> {
    let entries: Vec<Entry> = list.load();
    let entry = entries.into_iter().rev().find(|e| e.ver == ver)?;
    if entry.answer.len() > MAX_ANSWER {
        return None;
    }
    let answer = parse_document(&entry.answer).ok()?;
    (caps::ver_of(&answer)?.as_str() == ver).then(|| Info::from_query(&answer))
}

fn remember_in(list: &JsonList, ver: &str, answer: &Element) -> bool {
    if caps::ver_of(answer).as_deref() != Some(ver) {
        return false;
    }
    let text = answer.to_xml();
    if text.len() > MAX_ANSWER {
        return false;
    }
    list.update(|entries: &mut Vec<Entry>| {
        entries.retain(|e| e.ver != ver);
        entries.push(Entry {
            ver: ver.to_owned(),
            answer: text,
        });
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ns::{DISCO_INFO_NS, JINGLE_FT_NS};

    fn answer(features: &[&str]) -> Element {
        let owned: Vec<String> = features.iter().map(|f| f.to_string()).collect();
        caps::own_query(&owned, None)
    }

    /// An answer is kept only under its own `ver`, and comes back as it was.
    #[test]
    fn keeps_answers_under_their_own_ver() {
        let dir = tempfile::tempdir().unwrap();
        let list = JsonList::at(dir.path().join("caps.json"), MAX_ENTRIES);
        let jingle = answer(&[DISCO_INFO_NS, JINGLE_FT_NS]);
        let ver = caps::ver_of(&jingle).unwrap();
        let other = caps::ver_of(&answer(&[DISCO_INFO_NS])).unwrap();
        assert!(
            !remember_in(&list, &other, &jingle),
            "another ver is not this answer's"
        );
        assert!(recall_from(&list, &other).is_none());
        assert!(remember_in(&list, &ver, &jingle));
        let info = recall_from(&list, &ver).unwrap();
        assert!(info.has_feature(JINGLE_FT_NS));
        assert_eq!(info.names, ["xft"]);
    }

    /// A file edited to claim other features for a `ver` is not believed; nor is
    /// garbage, nor an oversized answer.
    #[test]
    fn a_tampered_file_decides_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("caps.json");
        let list = JsonList::at(file.clone(), MAX_ENTRIES);
        let plain = answer(&[DISCO_INFO_NS]);
        let ver = caps::ver_of(&plain).unwrap();
        assert!(remember_in(&list, &ver, &plain));
        let text = std::fs::read_to_string(&file).unwrap();
        let forged = text.replace(
            "disco#info'/>",
            &format!("disco#info'/><feature var='{JINGLE_FT_NS}'/>"),
        );
        assert_ne!(forged, text, "the test edits the entry");
        std::fs::write(&file, forged).unwrap();
        assert!(recall_from(&list, &ver).is_none());
        std::fs::write(&file, "[{\"ver\": 3}, garbage").unwrap();
        assert!(recall_from(&list, &ver).is_none());
        let huge = format!(
            "[{{\"ver\": \"{ver}\", \"answer\": \"{}\"}}]",
            "x".repeat(MAX_ANSWER + 1)
        );
        std::fs::write(&file, huge).unwrap();
        assert!(recall_from(&list, &ver).is_none());
        assert!(remember_in(&list, &ver, &plain), "a bad file is replaced");
        assert!(recall_from(&list, &ver).is_some());
    }

    /// Old answers give way to new ones.
    #[test]
    fn keeps_a_bounded_number() {
        let dir = tempfile::tempdir().unwrap();
        let list = JsonList::at(dir.path().join("caps.json"), MAX_ENTRIES);
        let feature = |i: usize| format!("urn:example:{i}");
        let vers: Vec<String> = (0..MAX_ENTRIES + 2)
            .map(|i| {
                let a = answer(&[DISCO_INFO_NS, &feature(i)]);
                let ver = caps::ver_of(&a).unwrap();
                assert!(remember_in(&list, &ver, &a));
                ver
            })
            .collect();
        assert!(recall_from(&list, &vers[0]).is_none());
        assert!(recall_from(&list, &vers[MAX_ENTRIES + 1]).is_some());
        assert_eq!(list.load::<Entry>().len(), MAX_ENTRIES);
    }
}
