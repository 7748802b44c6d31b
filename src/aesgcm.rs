//! Encrypted files behind `aesgcm://` links (XEP-0454 §3): the file is encrypted with
//! AES-256-GCM under a fresh key and IV, the 16-byte tag appended, uploaded as any file
//! (XEP-0363), and the GET URL is sent with its scheme replaced by `aesgcm` and the
//! fragment hex(IV) ‖ hex(key): 88 hex digits for the 12-byte IV every client sends, 96
//! for the 16-byte IV older ones sent (Conversations, Gajim, Dino and libervia accept
//! both; xft reads both and writes 12). The link only ever travels inside an
//! end-to-end encrypted message: whoever reads it can read the file.

use rand::Rng;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The key and IV of one file. Never shown by `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct FileKey {
    /// AES-256 key.
    pub key: [u8; 32],
    /// 12 (or, read from older clients, 16) bytes.
    pub iv: Vec<u8>,
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(…)")
    }
}

impl FileKey {
    /// A fresh key and 12-byte IV.
    pub fn generate() -> FileKey {
        let mut rng = rand::rng();
        let mut key = [0u8; 32];
        let mut iv = vec![0u8; 12];
        rng.fill(&mut key[..]);
        rng.fill(&mut iv[..]);
        FileKey { key, iv }
    }
}

/// `https://host/path` and `key` as the `aesgcm://` link (an `http://` URL, which no
/// client should be given, keeps its host and path the same way).
pub fn link(get_url: &str, key: &FileKey) -> String {
    let rest = get_url
        .split_once("://")
        .map_or(get_url, |(_, rest)| rest)
        .split('#')
        .next()
        .unwrap_or_default();
    format!(
        "aesgcm://{rest}#{}{}",
        crate::hash::hex(&key.iv),
        crate::hash::hex(&key.key)
    )
}

/// The `https://` URL to fetch and the key of an `aesgcm://` link; `None` when it is
/// not one (wrong scheme, or a fragment that is not 88 or 96 hex digits).
pub fn parse(link: &str) -> Option<(String, FileKey)> {
    let (scheme, rest) = link.trim().split_once("://")?;
    if !scheme.eq_ignore_ascii_case("aesgcm") {
        return None;
    }
    let (location, fragment) = rest.rsplit_once('#')?;
    if location.is_empty() || location.contains(char::is_whitespace) {
        return None;
    }
    let iv_len = match fragment.len() {
        88 => 12,
        96 => 16,
        _ => return None,
    };
    let bytes = unhex(fragment)?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes[iv_len..]);
    let iv = bytes[..iv_len].to_vec();
    Some((format!("https://{location}"), FileKey { key, iv }))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.is_ascii() || !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XEP-0454 §3's example: its URL, IV and key make its link, and back.
    #[test]
    fn reads_and_writes_links() {
        let get = "https://download.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg";
        let example = "aesgcm://download.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg#8c3d050e9386ec173861778f68e9af38a97aaf82faa4063b4d0878a61261534410c8a84331eaac851759f587";
        let (url, key) = parse(example).unwrap();
        assert_eq!(url, get);
        assert_eq!(crate::hash::hex(&key.iv), "8c3d050e9386ec173861778f");
        assert_eq!(
            crate::hash::hex(&key.key),
            "68e9af38a97aaf82faa4063b4d0878a61261534410c8a84331eaac851759f587"
        );
        assert_eq!(link(get, &key), example);
        let key = FileKey {
            key: [0xab; 32],
            iv: vec![0x01; 12],
        };
        let made = link("https://up.example/x/a%20b.jpg", &key);
        assert!(made.starts_with("aesgcm://up.example/x/a%20b.jpg#010101"));
        let (url, back) = parse(&made).unwrap();
        assert_eq!(
            (url.as_str(), &back),
            ("https://up.example/x/a%20b.jpg", &key)
        );
        let sixteen = FileKey {
            key: [7; 32],
            iv: vec![9; 16],
        };
        let (_, back) = parse(&link("https://h/p", &sixteen)).unwrap();
        assert_eq!(back.iv.len(), 16);
        assert!(parse("https://h/p#00").is_none());
        assert!(parse(&format!("aesgcm://h/p#{}", "zz".repeat(44))).is_none());
        assert_eq!(format!("{key:?}"), "FileKey(…)");
    }
}
