//! HTTP File Upload (XEP-0363), the negotiation front-end that needs no online peer:
//! find the server's upload service (§3), ask it for a slot (§4), read its refusals
//! (§6). The PUT itself is [`crate::http`]'s; announcing the link is [`crate::oob`]'s.

use std::time::Duration;

use crate::disco;
use crate::jid::Jid;
use crate::ns::HTTP_UPLOAD_NS;
use crate::session::{IqError, Session};
use crate::stanza::{self, Condition, IqType, StanzaError};
use crate::xml::Element;

/// The upload service of the account's server (XEP-0363 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The service's JID (the server, or one of its items).
    pub jid: Jid,
    /// `max-file-size` from the service's XEP-0128 form, when it gives one.
    pub max_file_size: Option<u64>,
}

/// A slot (§4): where to PUT, with which headers, and the URL to share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Where to PUT the file.
    pub put_url: String,
    /// Only `Authorization`, `Cookie` and `Expires`, newlines stripped, in order (§4, §10.2).
    pub put_headers: Vec<(String, String)>,
    /// Where it can be fetched afterwards (the link to share).
    pub get_url: String,
}

/// Why no upload slot could be had.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// §3: neither the server nor its items advertise `urn:xmpp:http:upload:0`.
    #[error("the server offers no HTTP upload service (XEP-0363)")]
    NoService,
    /// §5: over the service's limit.
    #[error(
        "{name} is {size} bytes; the upload service accepts at most {max} bytes{}",
        if *from_service { "" } else { " (as it advertises)" }
    )]
    TooLarge {
        /// The file.
        name: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
        /// True when the service refused the slot; false when xft refused before asking.
        from_service: bool,
    },
    /// §6: another refusal.
    #[error("the upload service refused a slot: {0}")]
    Refused(StanzaError),
    /// §6: a `wait` error (quota, busy), possibly with `<retry stamp/>`.
    #[error("the upload service is busy or over quota{}: {error}", retry.as_deref().map(|r| format!(" (retry after {r})")).unwrap_or_default())]
    TryLater {
        /// The error.
        error: StanzaError,
        /// When to retry (XEP-0082), if given.
        retry: Option<String>,
    },
    /// The request got no answer.
    #[error("asking for an upload slot: {0}")]
    Iq(IqError),
    /// The slot's URLs or headers are unusable.
    #[error("the upload service's slot is invalid: {0}")]
    BadSlot(&'static str),
    /// An encrypted upload got a plain-http slot, which XEP-0454 §3 forbids sharing.
    #[error("the upload service gave a plain-http URL ({0}); an encrypted file's link must be https (XEP-0454)")]
    NotHttps(String),
}

/// §3: the server itself, or one of its disco items, with the feature
/// `urn:xmpp:http:upload:0`. Items are asked in parallel; the first in the server's
/// order that has the feature wins.
pub async fn discover(session: &Session) -> Result<Service, UploadError> {
    let server = session.jid().as_jid().domain_jid();
    let mut candidates = vec![server.clone()];
    match disco::items(session, &server).await {
        Ok(items) => candidates.extend(items),
        Err(e) => tracing::debug!("disco#items of {server} failed: {e}"),
    }
    let infos =
        futures_util::future::join_all(candidates.iter().map(|jid| disco::info(session, jid)))
            .await;
    candidates
        .into_iter()
        .zip(infos)
        .find_map(|(jid, info)| service_from_info(jid, &info.ok()?))
        .ok_or(UploadError::NoService)
}

/// The service `jid` describes in `info`, if it is one.
pub fn service_from_info(jid: Jid, info: &disco::Info) -> Option<Service> {
    if !info.has_feature(HTTP_UPLOAD_NS) {
        return None;
    }
    let max_file_size = info
        .form(HTTP_UPLOAD_NS)
        .and_then(|f| f.field("max-file-size"))
        .and_then(|f| f.value())
        .and_then(|v| v.trim().parse().ok());
    Some(Service { jid, max_file_size })
}

/// The slot request of §4 (with the content type, which Prosody checks on the PUT).
pub fn slot_request(name: &str, size: u64, content_type: &str) -> Element {
    Element::new("request", HTTP_UPLOAD_NS)
        .attr("filename", name)
        .attr("size", size.to_string())
        .attr("content-type", content_type)
}

/// Asks `service` for a slot for `name` (`size` bytes).
pub async fn request_slot(
    session: &Session,
    service: &Service,
    name: &str,
    size: u64,
    content_type: &str,
    timeout: Duration,
) -> Result<Slot, UploadError> {
    let request = stanza::iq(
        IqType::Get,
        Some(&service.jid.to_string()),
        slot_request(name, size, content_type),
    );
    match session.iq_timeout(request, timeout).await {
        Ok(answer) => parse_slot(&answer),
        Err(IqError::Stanza(error)) => Err(refusal(name, size, error)),
        Err(e) => Err(UploadError::Iq(e)),
    }
}

/// §6: a slot refused as too large (with the limit when the service gives it), for a
/// while (`wait`, with `<retry stamp=…/>`), or for good.
fn refusal(name: &str, size: u64, error: StanzaError) -> UploadError {
    if let Some(max) = error
        .raw_app_condition("file-too-large", HTTP_UPLOAD_NS)
        .map(|c| {
            c.child_text("max-file-size", HTTP_UPLOAD_NS)
                .unwrap_or_default()
        })
    {
        return UploadError::TooLarge {
            name: name.to_owned(),
            size,
            max: max.trim().parse().unwrap_or(0),
            from_service: true,
        };
    }
    if error.error_type == stanza::ErrorType::Wait || error.is(Condition::ResourceConstraint) {
        let retry = error
            .raw_app_condition("retry", HTTP_UPLOAD_NS)
            .and_then(|r| r.get_attr("stamp"))
            .map(|s| crate::text::printable(s).into_owned());
        return UploadError::TryLater { error, retry };
    }
    UploadError::Refused(error)
}

/// Reads the `<slot/>` of an iq result (§4).
pub fn parse_slot(answer: &Element) -> Result<Slot, UploadError> {
    let slot = answer
        .get_child("slot", HTTP_UPLOAD_NS)
        .ok_or(UploadError::BadSlot("the answer has no <slot/>"))?;
    let put = slot
        .get_child("put", HTTP_UPLOAD_NS)
        .ok_or(UploadError::BadSlot("no <put/>"))?;
    let get = slot
        .get_child("get", HTTP_UPLOAD_NS)
        .ok_or(UploadError::BadSlot("no <get/>"))?;
    // Version 0.3+ puts the URL in an attribute; 0.2 (some old servers) in the text.
    let url_of = |el: &Element| {
        el.get_attr("url")
            .map(str::to_owned)
            .unwrap_or_else(|| el.text_content())
            .trim()
            .to_owned()
    };
    let put_url = checked_url(url_of(put)).ok_or(UploadError::BadSlot("the PUT URL"))?;
    let get_url = checked_url(url_of(get)).ok_or(UploadError::BadSlot("the GET URL"))?;
    let put_headers = put
        .children()
        .filter(|h| h.is("header", HTTP_UPLOAD_NS))
        .filter_map(|h| allowed_header(h.get_attr("name")?, &h.text_content()))
        .collect();
    Ok(Slot {
        put_url,
        put_headers,
        get_url,
    })
}

/// Headers a slot may set (§4): any other is ignored, as the XEP requires.
const ALLOWED_HEADERS: [&str; 3] = ["Authorization", "Cookie", "Expires"];

/// §4, §10.2: the header if its name is allowed (case-insensitively), with every
/// newline removed from name and value; a value that is still not a valid header value
/// (other control characters) is dropped.
fn allowed_header(name: &str, value: &str) -> Option<(String, String)> {
    let strip = |s: &str| {
        s.chars()
            .filter(|c| *c != '\r' && *c != '\n')
            .collect::<String>()
    };
    let name = strip(name);
    let canonical = ALLOWED_HEADERS
        .iter()
        .find(|allowed| allowed.eq_ignore_ascii_case(name.trim()))?;
    let value = strip(value).trim().to_owned();
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return None;
    }
    Some(((*canonical).to_owned(), value))
}

/// An absolute http(s) URL without whitespace or control characters, no longer than
/// 8 KiB; `None` otherwise.
fn checked_url(url: String) -> Option<String> {
    let scheme_ok = url
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        || url
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    (scheme_ok && clean && url.len() <= 8192).then_some(url)
}

/// The Content-Type to announce for `name`, guessed from its extension.
pub fn content_type_of(name: &str) -> String {
    mime_guess::from_path(name)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse_document;

    /// §4 Example 5.
    #[test]
    fn reads_the_slot_of_the_xep() {
        let answer = parse_document(
            "<iq xmlns='jabber:client' from='upload.montague.tld' id='step_03' type='result'>
              <slot xmlns='urn:xmpp:http:upload:0'>
                <put url='https://upload.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg'>
                  <header name='Authorization'>Basic Base64String==</header>
                  <header name='Cookie'>foo=bar; user=romeo</header>
                </put>
                <get url='https://download.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg' />
              </slot>
            </iq>",
        )
        .unwrap();
        let slot = parse_slot(&answer).unwrap();
        assert_eq!(
            slot.put_url,
            "https://upload.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg"
        );
        assert!(slot.get_url.starts_with("https://download.montague.tld/"));
        assert_eq!(
            slot.put_headers,
            vec![
                ("Authorization".into(), "Basic Base64String==".into()),
                ("Cookie".into(), "foo=bar; user=romeo".into()),
            ]
        );
    }

    /// §4 and §10.2: other headers are ignored, names are case-insensitive, newlines go.
    #[test]
    fn only_allowed_headers_without_newlines() {
        let answer = parse_document(
            "<iq xmlns='jabber:client' type='result'><slot xmlns='urn:xmpp:http:upload:0'>
               <put url='https://u.example/a'>
                 <header name='eXpires'>Tue, 1 Dec 2026 00:00:00 GMT</header>
                 <header name='Host'>evil.example</header>
                 <header name='Content-Length'>1</header>
                 <header name='Authorization'>Bearer a&#10;X-Injected: 1</header>
                 <header name='Cookie'>a=&#x85;b</header>
               </put>
               <get url='https://u.example/a'/>
             </slot></iq>",
        )
        .unwrap();
        let slot = parse_slot(&answer).unwrap();
        assert_eq!(
            slot.put_headers,
            vec![
                ("Expires".into(), "Tue, 1 Dec 2026 00:00:00 GMT".into()),
                ("Authorization".into(), "Bearer aX-Injected: 1".into()),
            ]
        );
    }

    #[test]
    fn refuses_slots_without_usable_urls() {
        for bad in [
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='ftp://x/a'/><get url='https://x/a'/></slot>",
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='https://x/a b'/><get url='https://x/a'/></slot>",
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='https://x/a'/></slot>",
            "<slot xmlns='urn:xmpp:http:upload:0'><get url='https://x/a'/></slot>",
            "<other xmlns='urn:xmpp:http:upload:0'/>",
        ] {
            let answer = Element::new("iq", "jabber:client")
                .child(parse_document(bad).unwrap());
            assert!(
                matches!(parse_slot(&answer), Err(UploadError::BadSlot(_))),
                "{bad}"
            );
        }
    }

    /// §6 Examples 6 and 7: too large (with the limit), and over quota (with a stamp).
    #[test]
    fn reads_the_refusals_of_the_xep() {
        let too_large = parse_document(
            "<iq xmlns='jabber:client' type='error'>
              <error type='modify'>
                <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' />
                <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>File too large. The maximum file size is 20000 bytes</text>
                <file-too-large xmlns='urn:xmpp:http:upload:0'>
                  <max-file-size>20000</max-file-size>
                </file-too-large>
              </error></iq>",
        )
        .unwrap();
        match refusal("a.jpg", 23456, StanzaError::from_stanza(&too_large)) {
            UploadError::TooLarge { max, size, .. } => assert_eq!((max, size), (20000, 23456)),
            other => panic!("{other:?}"),
        }
        let quota = parse_document(
            "<iq xmlns='jabber:client' type='error'>
              <error type='wait'>
                <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' />
                <retry xmlns='urn:xmpp:http:upload:0' stamp='2017-12-03T23:42:05Z' />
              </error></iq>",
        )
        .unwrap();
        match refusal("a.jpg", 1, StanzaError::from_stanza(&quota)) {
            UploadError::TryLater { retry, .. } => {
                assert_eq!(retry.as_deref(), Some("2017-12-03T23:42:05Z"))
            }
            other => panic!("{other:?}"),
        }
        let forbidden = parse_document(
            "<iq xmlns='jabber:client' type='error'><error type='auth'>
               <forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' /></error></iq>",
        )
        .unwrap();
        assert!(matches!(
            refusal("a", 1, StanzaError::from_stanza(&forbidden)),
            UploadError::Refused(_)
        ));
    }

    /// §3 Example 4: the feature and the size limit.
    #[test]
    fn reads_the_service_of_the_xep() {
        let query = parse_document(
            "<query xmlns='http://jabber.org/protocol/disco#info'>
               <identity category='store' type='file' name='HTTP File Upload' />
               <feature var='urn:xmpp:http:upload:0' />
               <x type='result' xmlns='jabber:x:data'>
                 <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>
                 <field var='max-file-size'><value>5242880</value></field>
               </x>
             </query>",
        )
        .unwrap();
        let jid = Jid::parse("upload.montague.tld").unwrap();
        let service = service_from_info(jid.clone(), &disco::Info::from_query(&query)).unwrap();
        assert_eq!(service.max_file_size, Some(5_242_880));
        assert!(service_from_info(jid, &disco::Info::default()).is_none());
    }

    #[test]
    fn the_request_carries_name_size_and_type() {
        let r = slot_request("très cool.jpg", 23456, &content_type_of("très cool.jpg"));
        assert_eq!(r.get_attr("filename"), Some("très cool.jpg"));
        assert_eq!(r.get_attr("size"), Some("23456"));
        assert_eq!(r.get_attr("content-type"), Some("image/jpeg"));
        assert_eq!(content_type_of("noext"), "application/octet-stream");
    }
}
