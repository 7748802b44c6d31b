//! The XML of legacy OMEMO (XEP-0384 v0.3): the device list (§4.2), the bundle (§4.3),
//! the `<encrypted>` element (§4.5) and the message that carries it.
//!
//! Reading is strict about what decides security (ids, key lengths, base64) and bounded
//! in what it keeps: a list names at most [`MAX_DEVICES`] devices, a bundle at most
//! [`MAX_PRE_KEYS`] prekeys, and of an `<encrypted>` element only the `<key>`s for our
//! own device id are decoded, however many others it carries.

use base64::Engine as _;

use super::keys::PublicKey;
use super::wire::MAX_KEY_BLOB;
use super::x3dh::Bundle;
use super::NS;
use crate::ns::CLIENT_NS;
use crate::xml::Element;

/// The PEP node of the device list (§4.2).
pub const DEVICE_LIST_NODE: &str = "eu.siacs.conversations.axolotl.devicelist";
/// The prefix of a device's bundle node (§4.3): `…bundles:DEVICEID`.
pub const BUNDLE_NODE_PREFIX: &str = "eu.siacs.conversations.axolotl.bundles:";
/// XEP-0334 message processing hints (`<store/>`, §4.7 of XEP-0384 recommends it).
pub const HINTS_NS: &str = "urn:xmpp:hints";
/// XEP-0380 explicit message encryption.
pub const EME_NS: &str = "urn:xmpp:eme:0";
/// Most devices read from one list; the rest are ignored (a list of thousands would
/// otherwise make us fetch thousands of bundles).
pub const MAX_DEVICES: usize = 64;
/// Most one-time prekeys read from one bundle.
pub const MAX_PRE_KEYS: usize = 200;
/// Largest payload accepted (the stanza limit bounds it anyway; a file link is small).
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// Most `<key>` elements for our own device that are tried.
const MAX_KEYS_FOR_US: usize = 4;

/// The body clients put beside the `<encrypted>` element for clients without OMEMO.
pub const FALLBACK_BODY: &str =
    "I sent you an OMEMO encrypted message but your client doesn’t seem to support that.";

/// Why an element is not what it should be.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElementError {
    /// A required child or attribute is missing, or a value does not parse.
    #[error("malformed OMEMO element: {0}")]
    Malformed(&'static str),
}

fn malformed(what: &'static str) -> ElementError {
    ElementError::Malformed(what)
}

fn b64(text: &str) -> Option<Vec<u8>> {
    let cleaned: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .ok()
}

fn to_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A device id as §3 allows it: 1 to 2³¹ − 1.
pub fn device_id(text: &str) -> Option<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|id| (1..=0x7fff_ffff).contains(id))
}

/// The ids of a `<list>` (§4.2), in order, without repeats; unreadable ids skipped.
pub fn parse_device_list(list: &Element) -> Vec<u32> {
    let mut ids = Vec::new();
    for device in list.children().filter(|c| c.is("device", NS)) {
        let Some(id) = device.get_attr("id").and_then(device_id) else {
            continue;
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
        if ids.len() == MAX_DEVICES {
            break;
        }
    }
    ids
}

/// A `<list>` of `ids`.
pub fn device_list(ids: &[u32]) -> Element {
    ids.iter().fold(Element::new("list", NS), |list, id| {
        list.child(Element::new("device", NS).attr("id", id.to_string()))
    })
}

/// A `<bundle>` (§4.3).
pub fn bundle(bundle: &Bundle) -> Element {
    let (spk_id, spk) = &bundle.signed_pre_key;
    let pre_keys = bundle
        .pre_keys
        .iter()
        .fold(Element::new("prekeys", NS), |list, (id, key)| {
            list.child(
                Element::new("preKeyPublic", NS)
                    .attr("preKeyId", id.to_string())
                    .text(to_b64(&key.serialize())),
            )
        });
    Element::new("bundle", NS)
        .child(
            Element::new("signedPreKeyPublic", NS)
                .attr("signedPreKeyId", spk_id.to_string())
                .text(to_b64(&spk.serialize())),
        )
        .child(Element::new("signedPreKeySignature", NS).text(to_b64(&bundle.signature)))
        .child(Element::new("identityKey", NS).text(to_b64(&bundle.identity.serialize())))
        .child(pre_keys)
}

fn key_of(element: Option<&Element>, what: &'static str) -> Result<PublicKey, ElementError> {
    let element = element.ok_or(malformed(what))?;
    b64(&element.text_content())
        .and_then(|bytes| PublicKey::parse(&bytes))
        .ok_or(malformed(what))
}

/// Reads a `<bundle>`; its signature is checked when a session is built from it.
pub fn parse_bundle(element: &Element) -> Result<Bundle, ElementError> {
    if !element.is("bundle", NS) {
        return Err(malformed("not a bundle"));
    }
    let spk_element = element.get_child("signedPreKeyPublic", NS);
    let spk_id = spk_element
        .and_then(|e| e.get_attr("signedPreKeyId"))
        .and_then(|id| id.trim().parse::<u32>().ok())
        .ok_or(malformed("signedPreKeyId"))?;
    let spk = key_of(spk_element, "signedPreKeyPublic")?;
    let signature: [u8; 64] = element
        .child_text("signedPreKeySignature", NS)
        .and_then(|t| b64(&t))
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(malformed("signedPreKeySignature"))?;
    let identity = key_of(element.get_child("identityKey", NS), "identityKey")?;
    let mut pre_keys = Vec::new();
    if let Some(list) = element.get_child("prekeys", NS) {
        for key in list.children().filter(|c| c.is("preKeyPublic", NS)) {
            let id = key
                .get_attr("preKeyId")
                .and_then(|id| id.trim().parse::<u32>().ok());
            if let (Some(id), Ok(public)) = (id, key_of(Some(key), "preKeyPublic")) {
                pre_keys.push((id, public));
            }
            if pre_keys.len() == MAX_PRE_KEYS {
                break;
            }
        }
    }
    Ok(Bundle {
        identity,
        signed_pre_key: (spk_id, spk),
        signature,
        pre_keys,
    })
}

/// One `<key>` of an `<encrypted>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    /// The recipient device.
    pub rid: u32,
    /// Whether it is a `PreKeyWhisperMessage`.
    pub prekey: bool,
    /// Its content.
    pub blob: Vec<u8>,
}

/// An `<encrypted>` element as it concerns us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The sending device.
    pub sid: u32,
    /// The keys for our device (usually one).
    pub keys: Vec<KeyElement>,
    /// Whether the element holds a key for any device at all.
    pub any_keys: bool,
    /// The payload's IV.
    pub iv: Vec<u8>,
    /// The payload; `None` for a key transport element.
    pub payload: Option<Vec<u8>>,
}

/// Reads `encrypted`, decoding only the `<key>`s for `our_device`.
pub fn parse_encrypted(encrypted: &Element, our_device: u32) -> Result<Encrypted, ElementError> {
    let header = encrypted
        .get_child("header", NS)
        .ok_or(malformed("no <header/>"))?;
    let sid = header
        .get_attr("sid")
        .and_then(device_id)
        .ok_or(malformed("sid"))?;
    let iv = header
        .child_text("iv", NS)
        .and_then(|t| b64(&t))
        .filter(|iv| (12..=16).contains(&iv.len()))
        .ok_or(malformed("iv"))?;
    let mut keys = Vec::new();
    let mut any_keys = false;
    for key in header.children().filter(|c| c.is("key", NS)) {
        any_keys = true;
        if key.get_attr("rid").and_then(device_id) != Some(our_device)
            || keys.len() == MAX_KEYS_FOR_US
        {
            continue;
        }
        let text = key.text_content();
        if text.len() > MAX_KEY_BLOB * 2 {
            return Err(malformed("oversize <key/>"));
        }
        let blob = b64(&text).ok_or(malformed("<key/> is not base64"))?;
        let prekey = matches!(key.get_attr("prekey"), Some("true" | "1"));
        keys.push(KeyElement {
            rid: our_device,
            prekey,
            blob,
        });
    }
    let payload = match encrypted.get_child("payload", NS) {
        None => None,
        Some(p) => {
            let text = p.text_content();
            if text.len() > MAX_PAYLOAD * 2 {
                return Err(malformed("oversize <payload/>"));
            }
            let payload = b64(&text).ok_or(malformed("<payload/> is not base64"))?;
            if payload.len() > MAX_PAYLOAD {
                return Err(malformed("oversize <payload/>"));
            }
            Some(payload)
        }
    };
    Ok(Encrypted {
        sid,
        keys,
        any_keys,
        iv,
        payload,
    })
}

/// An `<encrypted>` element from `sid` with `keys`, `iv` and `payload`.
pub fn encrypted(sid: u32, keys: &[KeyElement], iv: &[u8], payload: Option<&[u8]>) -> Element {
    let header = keys.iter().fold(
        Element::new("header", NS).attr("sid", sid.to_string()),
        |header, key| {
            let element = Element::new("key", NS).attr("rid", key.rid.to_string());
            let element = if key.prekey {
                element.attr("prekey", "true")
            } else {
                element
            };
            header.child(element.text(to_b64(&key.blob)))
        },
    );
    let header = header.child(Element::new("iv", NS).text(to_b64(iv)));
    let element = Element::new("encrypted", NS).child(header);
    match payload {
        Some(p) => element.child(Element::new("payload", NS).text(to_b64(p))),
        None => element,
    }
}

/// The chat message carrying `encrypted` to `to`, as the clients send one: the
/// fallback body for clients without OMEMO, a `<store/>` hint so that archives and
/// offline storage keep it (§7), and the XEP-0380 marker naming the encryption.
pub fn message(to: &str, encrypted: Element) -> Element {
    Element::new("message", CLIENT_NS)
        .attr("to", to)
        .attr("type", "chat")
        .attr("id", crate::stanza::new_id())
        .child(encrypted)
        .child(Element::new("body", CLIENT_NS).text(FALLBACK_BODY))
        .child(Element::new("store", HINTS_NS))
        .child(
            Element::new("encryption", EME_NS)
                .attr("namespace", NS)
                .attr("name", "OMEMO"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// XEP-0384 v0.3 Example 3's list, and ids outside 1..2³¹−1 dropped.
    #[test]
    fn reads_device_lists() {
        let list = parse_document(
            "<list xmlns='eu.siacs.conversations.axolotl'><device id='12345'/><device id='4223'/>\
             <device id='0'/><device id='2147483648'/><device id='x'/><device id='4223'/></list>",
        )
        .unwrap();
        assert_eq!(parse_device_list(&list), vec![12345, 4223]);
        assert_eq!(parse_device_list(&device_list(&[7, 9])), vec![7, 9]);
        let many: String = (1..=1000).map(|i| format!("<device id='{i}'/>")).collect();
        let list = parse_document(&format!("<list xmlns='{NS}'>{many}</list>")).unwrap();
        assert_eq!(parse_device_list(&list).len(), MAX_DEVICES);
    }

    #[test]
    fn only_our_keys_are_decoded_and_bad_base64_is_refused() {
        let many: String = (0..10_000)
            .map(|i| format!("<key rid='{}'>!!notbase64!!</key>", 1000 + i))
            .collect();
        let text = format!(
            "<encrypted xmlns='{NS}'><header sid='77'>{many}<key rid='5' prekey='true'>AAEC</key>\
             <iv>AAAAAAAAAAAAAAAA</iv></header><payload>AQID</payload></encrypted>"
        );
        let parsed = parse_encrypted(&parse_document(&text).unwrap(), 5).unwrap();
        assert_eq!(parsed.sid, 77);
        assert_eq!(
            parsed.keys,
            vec![KeyElement {
                rid: 5,
                prekey: true,
                blob: vec![0, 1, 2]
            }]
        );
        assert_eq!(parsed.payload, Some(vec![1, 2, 3]));
        assert!(parse_encrypted(&parse_document(&text).unwrap(), 1001).is_err());
        let no_iv = format!("<encrypted xmlns='{NS}'><header sid='77'/></encrypted>");
        assert!(parse_encrypted(&parse_document(&no_iv).unwrap(), 5).is_err());
        let big = encrypted(9, &parsed.keys, &[0; 12], Some(&vec![0; MAX_PAYLOAD + 1]));
        assert!(
            parse_encrypted(&big, 5).is_err(),
            "a payload over the limit"
        );
        let built = encrypted(9, &parsed.keys, &[0; 12], Some(&[1, 2, 3]));
        let again = parse_encrypted(&parse_document(&built.to_xml()).unwrap(), 5).unwrap();
        assert_eq!(
            (again.sid, again.keys, again.payload),
            (9, parsed.keys, Some(vec![1, 2, 3]))
        );
    }
}
