//! Jingle File Transfer (XEP-0234, namespace version 5): the file offer (§4, §5), the
//! `<checksum/>` and `<received/>` session-info payloads (§8.1, §8.2), and XEP-0300
//! `<hash/>` elements.

use base64::Engine;

use crate::hash::Algorithm;
use crate::ns::{HASHES_NS, JINGLE_FT_NS};
use crate::xml::Element;

/// The file of an offer (§4 table 1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileDesc {
    /// The file name as the sender gives it (unsanitised).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// `<media-type/>` (or Conversations' `<mediaType/>`).
    pub media_type: Option<String>,
    /// `<date/>`: the last modification (XEP-0082).
    pub date: Option<String>,
    /// `<desc/>`: the sender's description.
    pub desc: Option<String>,
    /// `<hash/>`es with a value: (algorithm name, digest bytes).
    pub hashes: Vec<(String, Vec<u8>)>,
    /// `<hash-used/>` or an empty `<hash/>`: the algorithm of a checksum to come.
    pub hash_used: Option<String>,
    /// The offer carried `<range/>` (ranged transfers supported).
    pub ranged: bool,
    /// §7 ranged transfers: `<range offset='…'/>` (0 when absent), the first byte to send.
    pub range_offset: u64,
    /// `<range length='…'/>`: how many bytes from the offset, when limited.
    pub range_length: Option<u64>,
}

/// Hashes accepted per file; more is refused as malformed.
const MAX_HASHES: usize = 8;
/// Longest digest accepted (SHA-512 is 64 bytes; libervia's base64-of-hex doubles it).
const MAX_DIGEST: usize = 256;

impl FileDesc {
    /// `<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file>…`.
    pub fn to_description(&self) -> Element {
        Element::new("description", JINGLE_FT_NS).child(self.to_file())
    }

    /// The `<file/>` element alone.
    pub fn to_file(&self) -> Element {
        let mut file = Element::new("file", JINGLE_FT_NS);
        let text = |name: &str, value: &str| Element::new(name, JINGLE_FT_NS).text(value);
        if let Some(date) = &self.date {
            file.push_child(text("date", date));
        }
        // libervia refuses an offer without <desc/> (docs/interop.md §4): always send one.
        file.push_child(text("desc", self.desc.as_deref().unwrap_or("")));
        file.push_child(text(
            "media-type",
            self.media_type
                .as_deref()
                .unwrap_or("application/octet-stream"),
        ));
        file.push_child(text("name", &self.name));
        if self.ranged || self.range_offset > 0 || self.range_length.is_some() {
            let mut range = Element::new("range", JINGLE_FT_NS);
            if self.range_offset > 0 {
                range = range.attr("offset", self.range_offset.to_string());
            }
            if let Some(length) = self.range_length {
                range = range.attr("length", length.to_string());
            }
            file.push_child(range);
        }
        file.push_child(text("size", &self.size.to_string()));
        for (algo, digest) in &self.hashes {
            file.push_child(hash_element(algo, digest));
        }
        if let Some(algo) = &self.hash_used {
            file.push_child(Element::new("hash-used", HASHES_NS).attr("algo", algo.as_str()));
        }
        file
    }

    /// Reads the `<file/>` of a description; `None` when there is none, or the size is
    /// missing or not a number (xft needs it), or hashes are malformed.
    pub fn from_description(description: &Element) -> Option<FileDesc> {
        if !description.is("description", JINGLE_FT_NS) {
            return None;
        }
        FileDesc::from_file(description.get_child("file", JINGLE_FT_NS)?)
    }

    /// Reads a `<file/>` element (see [`FileDesc::from_description`]).
    pub fn from_file(file: &Element) -> Option<FileDesc> {
        let text = |name: &str| {
            file.child_text(name, JINGLE_FT_NS)
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        let mut desc = FileDesc {
            name: text("name").unwrap_or_default(),
            size: text("size")?.parse().ok()?,
            // Conversations writes <mediaType> (docs/interop.md §4).
            media_type: text("media-type").or_else(|| text("mediaType")),
            date: text("date"),
            desc: text("desc"),
            hashes: Vec::new(),
            hash_used: None,
            ranged: false,
            range_offset: 0,
            range_length: None,
        };
        // A number that does not parse makes the whole offer unreadable, as the size.
        if let Some(range) = read_range(file).ok()? {
            desc.ranged = true;
            desc.range_offset = range.offset;
            desc.range_length = range.length;
        }
        for child in file.children() {
            if child.is("hash", HASHES_NS) {
                let algo = child.get_attr("algo")?.to_owned();
                let value = child.text_content();
                if value.trim().is_empty() {
                    desc.hash_used.get_or_insert(algo);
                } else if desc.hashes.len() < MAX_HASHES {
                    desc.hashes.push((algo, decode_digest(&value)?));
                } else {
                    return None;
                }
            } else if child.is("hash-used", HASHES_NS) {
                desc.hash_used = Some(child.get_attr("algo")?.to_owned());
            }
        }
        Some(desc)
    }

    /// The strongest hash xft can check among those given: (algorithm, digest).
    pub fn checkable_hash(&self) -> Option<(Algorithm, Vec<u8>)> {
        best_hash(&self.hashes)
    }
}

/// §7: the part of a file asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first byte (0 when not given).
    pub offset: u64,
    /// How many bytes from there; `None`: to the end.
    pub length: Option<u64>,
}

/// A `<range/>` whose offset or length is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRange;

/// §7: the `<range/>` of a description's `<file/>`, as a responder puts it in its
/// session-accept to resume (read on its own: the rest of that file may be sparse).
pub fn range_of(description: &Element) -> Result<Option<Range>, BadRange> {
    match description.get_child("file", JINGLE_FT_NS) {
        Some(file) => read_range(file),
        None => Ok(None),
    }
}

fn read_range(file: &Element) -> Result<Option<Range>, BadRange> {
    let Some(range) = file.get_child("range", JINGLE_FT_NS) else {
        return Ok(None);
    };
    let number = |name: &str| {
        range
            .get_attr(name)
            .map(|v| v.trim().parse::<u64>().map_err(|_| BadRange))
            .transpose()
    };
    Ok(Some(Range {
        offset: number("offset")?.unwrap_or(0),
        length: number("length")?,
    }))
}

/// XEP-0300 §2: `<hash xmlns='urn:xmpp:hashes:2' algo='…'>base64</hash>`.
pub fn hash_element(algo: &str, digest: &[u8]) -> Element {
    Element::new("hash", HASHES_NS)
        .attr("algo", algo)
        .text(base64::engine::general_purpose::STANDARD.encode(digest))
}

pub(crate) fn decode_digest(value: &str) -> Option<Vec<u8>> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    (bytes.len() <= MAX_DIGEST).then_some(bytes)
}

/// Of `hashes`, the strongest algorithm xft implements.
pub fn best_hash(hashes: &[(String, Vec<u8>)]) -> Option<(Algorithm, Vec<u8>)> {
    let rank = |a: Algorithm| match a {
        Algorithm::Sha512 | Algorithm::Blake2b512 => 3,
        Algorithm::Blake2b256 => 2,
        Algorithm::Sha256 => 2,
        Algorithm::Sha1 => 1,
        Algorithm::Md5 => 0,
    };
    hashes
        .iter()
        .filter_map(|(name, digest)| Some((Algorithm::from_name(name)?, digest.clone())))
        .filter(|(a, _)| *a != Algorithm::Md5)
        .max_by_key(|(a, _)| rank(*a))
}

/// True when `received` is the digest `computed`: either the raw digest (XEP-0300), or
/// libervia's base64 of the lowercase hex digest (docs/interop.md §4).
pub fn digest_matches(computed: &[u8], received: &[u8]) -> bool {
    if computed == received {
        return true;
    }
    let hex: String = computed.iter().map(|b| format!("{b:02x}")).collect();
    received.eq_ignore_ascii_case(hex.as_bytes())
}

/// §8.2: the session-info `<checksum/>` for content `name`.
pub fn checksum(creator: &str, name: &str, algo: &str, digest: &[u8]) -> Element {
    Element::new("checksum", JINGLE_FT_NS)
        .attr("creator", creator)
        .attr("name", name)
        .child(Element::new("file", JINGLE_FT_NS).child(hash_element(algo, digest)))
}

/// The hashes of a `<checksum/>` payload, if `payload` is one.
pub fn read_checksum(payload: &Element) -> Option<Vec<(String, Vec<u8>)>> {
    if !payload.is("checksum", JINGLE_FT_NS) {
        return None;
    }
    let file = payload.get_child("file", JINGLE_FT_NS)?;
    let hashes: Vec<(String, Vec<u8>)> = file
        .children()
        .filter(|c| c.is("hash", HASHES_NS))
        .take(MAX_HASHES)
        .filter_map(|h| {
            Some((
                h.get_attr("algo")?.to_owned(),
                decode_digest(&h.text_content())?,
            ))
        })
        .collect();
    Some(hashes)
}

/// §8.1: the session-info `<received/>`.
pub fn received(creator: &str, name: &str) -> Element {
    Element::new("received", JINGLE_FT_NS)
        .attr("creator", creator)
        .attr("name", name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// §5 Example 1 (the offer's description).
    #[test]
    fn reads_the_offer_of_the_xep() {
        let d = parse_document(
            "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'>
               <file>
                 <date>1969-07-21T02:56:15Z</date>
                 <desc>This is a test. If this were a real file...</desc>
                 <media-type>text/plain</media-type>
                 <name>test.txt</name>
                 <range/>
                 <size>6144</size>
                 <hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>w0mcJylzCn+AfvuGdqkty2+KP48=</hash>
               </file>
             </description>",
        )
        .unwrap();
        let f = FileDesc::from_description(&d).unwrap();
        assert_eq!((f.name.as_str(), f.size), ("test.txt", 6144));
        assert_eq!(f.media_type.as_deref(), Some("text/plain"));
        assert!(f.ranged);
        let (algo, digest) = f.checkable_hash().unwrap();
        assert_eq!(algo, Algorithm::Sha1);
        assert_eq!(digest.len(), 20);
        assert_eq!(FileDesc::from_description(&f.to_description()).unwrap(), f);
    }

    /// §7: the restart offer of the XEP's example, a limited range, and an offset that
    /// is not a number (the offer is unreadable, as with a bad size).
    #[test]
    fn ranges_are_read_and_written() {
        let d = parse_document(
            "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file>
               <name>a</name><media-type>text/plain</media-type><size>300000</size><range offset='270336'/>
             </file></description>",
        )
        .unwrap();
        let f = FileDesc::from_description(&d).unwrap();
        assert!(f.ranged);
        assert_eq!((f.range_offset, f.range_length), (270336, None));
        assert_eq!(FileDesc::from_description(&f.to_description()).unwrap(), f);
        let limited = FileDesc {
            range_offset: 2048,
            range_length: Some(1024),
            ..f.clone()
        };
        let text = limited.to_description().to_string();
        assert!(
            text.contains("offset=\"2048\"") || text.contains("offset='2048'"),
            "{text}"
        );
        assert_eq!(
            FileDesc::from_description(&limited.to_description()).unwrap(),
            limited
        );
        let bad = parse_document(
            "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file>
               <name>a</name><size>3</size><range offset='-1'/>
             </file></description>",
        )
        .unwrap();
        assert_eq!(FileDesc::from_description(&bad), None);
        assert_eq!(range_of(&bad), Err(BadRange));
        let sparse = parse_document(
            "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file>
               <range offset='10' length='5'/></file></description>",
        )
        .unwrap();
        let wanted = Range {
            offset: 10,
            length: Some(5),
        };
        assert_eq!(range_of(&sparse), Ok(Some(wanted)));
        assert_eq!(
            range_of(&limited.to_description()).map(|r| r.map(|r| r.offset)),
            Ok(Some(2048))
        );
    }

    /// §8.2 Example 16: hash-used in the offer, then the checksum.
    #[test]
    fn hash_used_then_checksum() {
        let d = parse_document(
            "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file>
               <name>test.txt</name><size>6144</size>
               <hash-used xmlns='urn:xmpp:hashes:2' algo='sha-1'/>
             </file></description>",
        )
        .unwrap();
        let f = FileDesc::from_description(&d).unwrap();
        assert_eq!(f.hash_used.as_deref(), Some("sha-1"));
        assert!(f.hashes.is_empty());
        let c = parse_document(
            "<checksum xmlns='urn:xmpp:jingle:apps:file-transfer:5' creator='initiator' name='a-file-offer'>
               <file><hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>w0mcJylzCn+AfvuGdqkty2+KP48=</hash></file>
             </checksum>",
        )
        .unwrap();
        let hashes = read_checksum(&c).unwrap();
        assert_eq!(hashes[0].0, "sha-1");
        assert_eq!(
            read_checksum(&checksum("initiator", "x", "sha-1", &hashes[0].1)).unwrap(),
            hashes
        );
    }

    #[test]
    fn accepts_libervia_hex_digests_and_conversations_media_type() {
        let digest = [0xab, 0x01];
        assert!(digest_matches(&digest, b"ab01"));
        assert!(digest_matches(&digest, &digest));
        assert!(!digest_matches(&digest, b"ab02"));
        let d = parse_document(
            "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file>
               <mediaType>image/jpeg</mediaType><name>a.jpg</name><size>1</size></file></description>",
        )
        .unwrap();
        assert_eq!(
            FileDesc::from_description(&d)
                .unwrap()
                .media_type
                .as_deref(),
            Some("image/jpeg")
        );
    }

    #[test]
    fn refuses_offers_without_a_usable_size_or_with_bad_hashes() {
        for bad in [
            "<file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><name>a</name></file>",
            "<file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><size>-1</size></file>",
            "<file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><size>1</size><hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>***</hash></file>",
            "<file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><size>1</size><hash xmlns='urn:xmpp:hashes:2'>AAAA</hash></file>",
        ] {
            assert!(FileDesc::from_file(&parse_document(bad).unwrap()).is_none(), "{bad}");
        }
    }
}
