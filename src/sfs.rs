//! Stateless File Sharing (XEP-0447 §3, `urn:xmpp:sfs:0`) with the file's metadata
//! (XEP-0446 §3, `urn:xmpp:file:metadata:0`) and sources attached to an earlier share
//! (XEP-0447 §4 with XEP-0367 message attaching).
//!
//! Dino 0.5 shares an unencrypted file in two messages: first `<file-sharing>` with
//! the metadata and no source (and `<store/>`), then, once the upload is done, a
//! message that attaches `<sources id=…><url-data target=URL/></sources>` to the first
//! by its message id, with the URL as body and in `jabber:x:oob` for other clients. It
//! writes both `<media_type>` and `<media-type>`, and drops a share that carries no
//! sha-1/256/384/512 hash (docs/interop.md §8). xft sends the share in one message.

use crate::jingle::file::{decode_digest, hash_element};
use crate::ns::{CLIENT_NS, HASHES_NS, OOB_NS};
use crate::xml::Element;

/// XEP-0447.
pub const SFS_NS: &str = "urn:xmpp:sfs:0";
/// XEP-0446.
pub const FILE_METADATA_NS: &str = "urn:xmpp:file:metadata:0";
/// XEP-0103 URL address information.
pub const URL_DATA_NS: &str = "http://jabber.org/protocol/url-data";
/// XEP-0367.
pub const ATTACHING_NS: &str = "urn:xmpp:message-attaching:1";
/// XEP-0428.
pub const FALLBACK_NS: &str = "urn:xmpp:fallback:0";
/// XEP-0334.
const HINTS_NS: &str = "urn:xmpp:hints";

/// Sources read from one `<sources/>`; hashes from one `<file/>`.
const MAX_SOURCES: usize = 8;
const MAX_HASHES: usize = 8;
/// Longest URL, name, media type, date or description taken.
const MAX_URL: usize = 8192;
const MAX_TEXT: usize = 4096;

/// A file's metadata (XEP-0446 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The file's name, as the sender gives it (sanitized before use).
    pub name: Option<String>,
    /// Its size in bytes.
    pub size: Option<u64>,
    /// Its media type (`text/plain`).
    pub media_type: Option<String>,
    /// XEP-0082 DateTime of the file's last change.
    pub date: Option<String>,
    /// A description.
    pub desc: Option<String>,
    /// (algorithm, digest) pairs (XEP-0300 §3).
    pub hashes: Vec<(String, Vec<u8>)>,
}

/// A `<file-sharing/>` (XEP-0447 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The share's own `id`, which attached `<sources/>` must repeat (§4).
    pub id: Option<String>,
    /// What the file is.
    pub file: Metadata,
    /// `url-data` targets (§3.2), in the sender's order.
    pub urls: Vec<String>,
}

/// Sources attached to an earlier message (§4, XEP-0367).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The id of the message attached to.
    pub to_message: String,
    /// The `id` of the `<sources/>`: the share's, when the share had one.
    pub share_id: Option<String>,
    /// `url-data` targets.
    pub urls: Vec<String>,
}

fn bounded(text: Option<String>, max: usize) -> Option<String> {
    text.map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && t.len() <= max && !t.chars().any(char::is_control))
}

/// Reads a `<file xmlns='urn:xmpp:file:metadata:0'/>`; malformed hashes are skipped.
fn read_metadata(file: &Element) -> Metadata {
    let text = |name: &str| bounded(file.child_text(name, FILE_METADATA_NS), MAX_TEXT);
    let hashes = file
        .children()
        .filter(|c| c.is("hash", HASHES_NS))
        .filter_map(|h| {
            let algo = h.get_attr("algo")?.trim();
            (!algo.is_empty() && algo.len() <= 32)
                .then(|| Some((algo.to_owned(), decode_digest(&h.text_content())?)))?
        })
        .take(MAX_HASHES)
        .collect();
    Metadata {
        name: text("name"),
        size: text("size").and_then(|s| s.parse().ok()),
        // Dino writes both spellings; the XEP's is media-type.
        media_type: text("media-type").or_else(|| text("media_type")),
        date: text("date"),
        desc: text("desc"),
        hashes,
    }
}

/// The `url-data` targets of a `<sources/>` (§3.2; other kinds, such as jinglepub, are
/// not ours).
fn read_urls(sources: &Element) -> Vec<String> {
    sources
        .children()
        .filter(|c| c.is("url-data", URL_DATA_NS))
        .filter_map(|u| bounded(u.get_attr("target").map(str::to_owned), MAX_URL))
        .take(MAX_SOURCES)
        .collect()
}

fn is_readable_message(message: &Element) -> bool {
    message.name() == "message" && message.get_attr("type") != Some("error")
}

/// The first share of `message`, if it has one with a file (§3.1).
pub fn share_of(message: &Element) -> Option<Share> {
    if !is_readable_message(message) {
        return None;
    }
    let sharing = message.get_child("file-sharing", SFS_NS)?;
    let file = read_metadata(sharing.get_child("file", FILE_METADATA_NS)?);
    let urls = sharing
        .get_child("sources", SFS_NS)
        .map(read_urls)
        .unwrap_or_default();
    Some(Share {
        id: bounded(sharing.get_attr("id").map(str::to_owned), MAX_TEXT),
        file,
        urls,
    })
}

/// The sources `message` attaches to an earlier one (§4), if it does.
pub fn attachment_of(message: &Element) -> Option<Attachment> {
    if !is_readable_message(message) {
        return None;
    }
    let to = message
        .get_child("attach-to", ATTACHING_NS)?
        .get_attr("id")?;
    let sources = message.get_child("sources", SFS_NS)?;
    Some(Attachment {
        to_message: bounded(Some(to.to_owned()), MAX_TEXT)?,
        share_id: bounded(sources.get_attr("id").map(str::to_owned), MAX_TEXT),
        urls: read_urls(sources),
    })
}

/// The one message xft shares an uploaded file with (§3.1): `<file-sharing>` with the
/// metadata and the `url-data` source, and for every other client the URL as body
/// (marked as the share's fallback, XEP-0428) and in `jabber:x:oob` (XEP-0066).
pub fn share_message(to: &str, file: &Metadata, url: &str) -> Element {
    let mut metadata = Element::new("file", FILE_METADATA_NS);
    let fields = [
        ("media-type", &file.media_type),
        ("name", &file.name),
        ("date", &file.date),
        ("desc", &file.desc),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            metadata.push_child(Element::new(name, FILE_METADATA_NS).text(value.as_str()));
        }
    }
    if let Some(size) = file.size {
        metadata.push_child(Element::new("size", FILE_METADATA_NS).text(size.to_string()));
    }
    for (algo, digest) in &file.hashes {
        metadata.push_child(hash_element(algo, digest));
    }
    let sources = Element::new("sources", SFS_NS)
        .child(Element::new("url-data", URL_DATA_NS).attr("target", url));
    Element::new("message", CLIENT_NS)
        .attr("to", to)
        .attr("type", "chat")
        .attr("id", crate::stanza::new_id())
        .child(
            Element::new("file-sharing", SFS_NS)
                .attr("disposition", "attachment")
                .child(metadata)
                .child(sources),
        )
        .child(
            Element::new("fallback", FALLBACK_NS)
                .attr("for", SFS_NS)
                .child(Element::new("body", FALLBACK_NS)),
        )
        .child(Element::new("body", CLIENT_NS).text(url))
        .child(Element::new("x", OOB_NS).child(Element::new("url", OOB_NS).text(url)))
        .child(Element::new("store", HINTS_NS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// XEP-0447 §4, "Sharing a file and attaching the primary source for the file
    /// later", both messages (the thumbnail dropped).
    const FIRST: &str = "<message xmlns='jabber:client' to='juliet@shakespeare.lit' from='romeo@montague.lit/resource' id='sharing-a-file'>
  <file-sharing xmlns='urn:xmpp:sfs:0' disposition='inline' id='file-sharing-id'>
    <file xmlns='urn:xmpp:file:metadata:0'>
      <media-type>image/jpeg</media-type>
      <name>summit.jpg</name>
      <size>3032449</size>
      <width>4096</width>
      <height>2160</height>
      <hash xmlns='urn:xmpp:hashes:2' algo='sha3-256'>2XarmwTlNxDAMkvymloX3S5+VbylNrJt/l5QyPa+YoU=</hash>
      <hash xmlns='urn:xmpp:hashes:2' algo='id-blake2b256'>2AfMGH8O7UNPTvUVAM9aK13mpCY=</hash>
      <desc>Photo from the summit.</desc>
    </file>
  </file-sharing>
</message>";
    const SECOND: &str = "<message xmlns='jabber:client' to='juliet@shakespeare.lit' from='romeo@montague.lit/resource'>
  <attach-to id='sharing-a-file' xmlns='urn:xmpp:message-attaching:1'/>
  <sources xmlns='urn:xmpp:sfs:0' id='file-sharing-id'>
    <url-data xmlns='http://jabber.org/protocol/url-data' target='https://download.montague.lit/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/summit.jpg' />
  </sources>
  <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:sfs:0'><body/></fallback>
  <body>https://download.montague.lit/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/summit.jpg</body>
  <x xmlns='jabber:x:oob'><url>https://download.montague.lit/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/summit.jpg</url></x>
</message>";

    #[test]
    fn reads_the_specs_share_and_its_attached_source() {
        let share = share_of(&parse_document(FIRST).unwrap()).unwrap();
        assert_eq!(share.id.as_deref(), Some("file-sharing-id"));
        assert_eq!(share.file.name.as_deref(), Some("summit.jpg"));
        assert_eq!(share.file.size, Some(3032449));
        assert_eq!(share.file.media_type.as_deref(), Some("image/jpeg"));
        assert_eq!(share.file.hashes.len(), 2);
        assert!(share.urls.is_empty());
        let second = parse_document(SECOND).unwrap();
        assert_eq!(share_of(&second), None);
        let attached = attachment_of(&second).unwrap();
        assert_eq!(attached.to_message, "sharing-a-file");
        assert_eq!(attached.share_id.as_deref(), Some("file-sharing-id"));
        assert_eq!(
            attached.urls,
            ["https://download.montague.lit/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/summit.jpg"]
        );
    }

    #[test]
    fn what_xft_sends_reads_back_and_keeps_the_fallbacks() {
        let file = Metadata {
            name: Some("a b.txt".into()),
            size: Some(12),
            media_type: Some("text/plain".into()),
            date: Some("2026-12-03T06:00:00Z".into()),
            desc: None,
            hashes: vec![("sha-256".into(), vec![7; 32])],
        };
        let url = "https://up.example/x/a%20b.txt";
        let message = share_message("bob@example.org", &file, url);
        let back = parse_document(&message.to_xml()).unwrap();
        let share = share_of(&back).unwrap();
        assert_eq!(share.file, file);
        assert_eq!(share.urls, [url]);
        assert_eq!(back.child_text("body", CLIENT_NS).as_deref(), Some(url));
        assert!(crate::oob::link_of(&back).is_some());
        assert!(back.get_child("fallback", FALLBACK_NS).is_some());
    }

    #[test]
    fn dino_spellings_bounds_and_errors() {
        let text =
            "<message xmlns='jabber:client' type='chat'><file-sharing xmlns='urn:xmpp:sfs:0'>\
            <file xmlns='urn:xmpp:file:metadata:0'><media_type>text/plain</media_type>\
            <size>nope</size><hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>!!!</hash></file>\
            </file-sharing></message>";
        let share = share_of(&parse_document(text).unwrap()).unwrap();
        assert_eq!(share.file.media_type.as_deref(), Some("text/plain"));
        assert_eq!(share.file.size, None);
        assert!(share.file.hashes.is_empty());
        let error = text.replace("type='chat'", "type='error'");
        assert_eq!(share_of(&parse_document(&error).unwrap()), None);
        let many: String = (0..100)
            .map(|i| format!("<url-data xmlns='{URL_DATA_NS}' target='https://x/{i}'/>"))
            .collect();
        let text = format!(
            "<message xmlns='jabber:client'><attach-to xmlns='{ATTACHING_NS}' id='m'/>\
             <sources xmlns='{SFS_NS}'>{many}</sources></message>"
        );
        let attached = attachment_of(&parse_document(&text).unwrap()).unwrap();
        assert_eq!(attached.urls.len(), MAX_SOURCES);
        assert_eq!(attached.share_id, None);
    }
}
