//! Links to files in messages: XEP-0066 §3 (`jabber:x:oob`) as every client sends them
//! after an HTTP upload (XEP-0363), and the bare-URL body some send alone.

use crate::ns::{CLIENT_NS, OOB_NS};
use crate::xml::Element;

/// The message announcing an uploaded file: a `chat` message whose body is exactly the
/// URL (Conversations shows a file only when the body's first line is the URL it finds
/// in `<x xmlns='jabber:x:oob'>`), plus that element.
pub fn announcement(to: &str, url: &str) -> Element {
    Element::new("message", CLIENT_NS)
        .attr("to", to)
        .attr("type", "chat")
        .attr("id", crate::stanza::new_id())
        .child(Element::new("body", CLIENT_NS).text(url))
        .child(Element::new("x", OOB_NS).child(Element::new("url", OOB_NS).text(url)))
}

/// A link found in a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    /// The URL (http or https for xft to fetch it).
    pub url: String,
    /// XEP-0066 `<desc/>`, when given.
    pub desc: Option<String>,
    /// For an `aesgcm://` link (XEP-0454): the key the file is encrypted with; `url` is
    /// then the `https://` URL to fetch.
    pub key: Option<crate::aesgcm::FileKey>,
    /// What a file share (XEP-0447) said of the file: its name, size and hash, checked
    /// before the file is renamed into place.
    pub shared: Option<Shared>,
}

/// The metadata of a shared file (XEP-0446) that a download is held to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shared {
    /// The name to save it under (sanitized like any offered name).
    pub name: Option<String>,
    /// The size announced.
    pub size: Option<u64>,
    /// The strongest hash announced that xft computes.
    pub hash: Option<(crate::hash::Algorithm, Vec<u8>)>,
}

/// What a message's link is, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// An `http`/`https` URL to download.
    Download(Link),
    /// A link xft cannot fetch: another scheme.
    Unsupported(String),
}

/// Longest URL accepted from a message.
const MAX_URL: usize = 8192;

/// The file link of `message`: the `jabber:x:oob` URL (§3), or else a body that is
/// nothing but one `https://` or `http://` URL (what some clients send); `None` for a
/// message that is not a file.
pub fn link_of(message: &Element) -> Option<Found> {
    if message.name() != "message" || message.get_attr("type") == Some("error") {
        return None;
    }
    let (url, desc) = match message.get_child("x", OOB_NS) {
        Some(x) => (
            x.child_text("url", OOB_NS)?.trim().to_owned(),
            x.child_text("desc", OOB_NS)
                .filter(|d| !d.trim().is_empty()),
        ),
        None => {
            let body = message.child_text("body", CLIENT_NS)?;
            let body = body.trim();
            let scheme = scheme_of(body)?;
            if body.contains(char::is_whitespace) {
                return None;
            }
            if !matches!(scheme.as_str(), "http" | "https" | "aesgcm") {
                return None;
            }
            (body.to_owned(), None)
        }
    };
    found(url, desc)
}

/// What `url` (from a message, with its `desc`) is: a link to download, one xft cannot
/// fetch, or (empty, too long, with control characters) nothing.
pub fn found(url: String, desc: Option<String>) -> Option<Found> {
    if url.is_empty() || url.len() > MAX_URL || url.chars().any(|c| c.is_control()) {
        return None;
    }
    match scheme_of(&url).as_deref() {
        Some("http" | "https") if !url.contains(char::is_whitespace) => {
            Some(Found::Download(Link {
                url,
                desc,
                key: None,
                shared: None,
            }))
        }
        Some("aesgcm") => match crate::aesgcm::parse(&url) {
            Some((url, key)) => Some(Found::Download(Link {
                url,
                desc,
                key: Some(key),
                shared: None,
            })),
            None => Some(Found::Unsupported(url)),
        },
        _ => Some(Found::Unsupported(url)),
    }
}

/// The file link in the body of a decrypted OMEMO message (XEP-0454 §5: the body is an
/// `aesgcm://` URL, optionally followed by one line with a thumbnail's data URI), or a
/// body that is one `https://` URL; `None` for chat.
pub fn link_in_body(body: &str) -> Option<Link> {
    let mut lines = body.trim().lines();
    let first = lines.next()?.trim();
    let rest: Vec<&str> = lines.collect();
    if rest.len() > 1 || rest.first().is_some_and(|l| !l.trim().starts_with("data:")) {
        return None;
    }
    if first.len() > MAX_URL || first.contains(char::is_whitespace) {
        return None;
    }
    if let Some((url, key)) = crate::aesgcm::parse(first) {
        return Some(Link {
            url,
            desc: None,
            key: Some(key),
            shared: None,
        });
    }
    let plain = matches!(scheme_of(first).as_deref(), Some("https" | "http")) && rest.is_empty();
    plain.then(|| Link {
        url: first.to_owned(),
        desc: None,
        key: None,
        shared: None,
    })
}

/// The lower-cased scheme of `url` (`https` of `https://…`), if it has `://`.
fn scheme_of(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    let valid = !scheme.is_empty()
        && scheme.len() <= 32
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    fn message(inner: &str) -> Element {
        parse_document(&format!(
            "<message xmlns='jabber:client' from='a@x/r' type='chat'>{inner}</message>"
        ))
        .unwrap()
    }

    /// XEP-0066 §3 Example 2 (its body is a remark, the URL is in `<x/>`).
    #[test]
    fn reads_the_link_of_the_xep() {
        let m = message(
            "<body>Yeah, but do you have a license to Jabber?</body>
             <x xmlns='jabber:x:oob'><url>http://www.jabber.org/images/psa-license.jpg</url></x>",
        );
        assert_eq!(
            link_of(&m),
            Some(Found::Download(Link {
                url: "http://www.jabber.org/images/psa-license.jpg".into(),
                desc: None,
                key: None,
                shared: None,
            }))
        );
    }

    #[test]
    fn a_bare_url_body_is_a_link_and_chat_is_not() {
        let m = message("<body> https://up.example/a/b.png </body>");
        assert!(
            matches!(link_of(&m), Some(Found::Download(l)) if l.url == "https://up.example/a/b.png")
        );
        assert_eq!(
            link_of(&message("<body>see https://x.example/a</body>")),
            None
        );
        assert_eq!(link_of(&message("<body>hello</body>")), None);
        assert_eq!(link_of(&message("<body>mailto://x</body>")), None);
        assert_eq!(link_of(&message("")), None);
    }

    #[test]
    fn encrypted_links_carry_their_key_and_other_schemes_are_unsupported() {
        let m = message("<body>aesgcm://up.example/a.jpg#0011</body>");
        assert!(
            matches!(link_of(&m), Some(Found::Unsupported(_))),
            "a fragment that is no key"
        );
        let xep = "aesgcm://download.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg#8c3d050e9386ec173861778f68e9af38a97aaf82faa4063b4d0878a61261534410c8a84331eaac851759f587";
        let m = message(&format!("<body>{xep}</body>"));
        let Some(Found::Download(link)) = link_of(&m) else {
            panic!("no link")
        };
        assert!(link.url.starts_with("https://download.montague.tld/"));
        assert!(link.key.is_some());
        assert_eq!(link_in_body(xep), Some(link.clone()));
        assert_eq!(
            link_in_body(&format!("{xep}\ndata:image/jpeg,/9j/4AAQ")),
            Some(link)
        );
        assert_eq!(link_in_body(&format!("{xep}\nhello")), None);
        assert_eq!(link_in_body("just chat"), None);
        let m = message("<x xmlns='jabber:x:oob'><url>ftp://x.example/a</url></x>");
        assert!(matches!(link_of(&m), Some(Found::Unsupported(_))));
        let m = message("<x xmlns='jabber:x:oob'><url>https://x.example/a b</url></x>");
        assert!(matches!(link_of(&m), Some(Found::Unsupported(_))));
    }

    #[test]
    fn the_announcement_is_what_conversations_expects() {
        let m = announcement("b@x", "https://up.example/f/a.txt");
        assert_eq!(m.get_attr("type"), Some("chat"));
        assert_eq!(
            m.child_text("body", CLIENT_NS).as_deref(),
            Some("https://up.example/f/a.txt")
        );
        assert!(
            matches!(link_of(&m), Some(Found::Download(l)) if l.url == "https://up.example/f/a.txt")
        );
    }
}
