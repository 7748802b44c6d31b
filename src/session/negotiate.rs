//! Stream negotiation up to a bound resource (RFC 6120 §4.3, §5, §6, §7).
//!
//! Runs strictly in order on one connection, so it is a plain async function with no
//! tasks: open the stream, STARTTLS unless TLS is already up, SASL, restart, bind.

use crate::ns::{BIND_NS, CLIENT_NS, SASL_NS, SESSION_NS, STREAMS_NS, STREAM_LIMITS_NS, TLS_NS};
use crate::stanza::IqType;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::sync::Mutex;

use super::cache;
use super::stream::{write_element, write_str, Io, XmlReader};
use super::{SessionError, Settings};
use crate::jid::{FullJid, Jid};
use crate::sasl::{binding, Channel, Exchange};
use crate::stanza::{self, StanzaError};
use crate::transport::{self, tls};
use crate::xml::{self, Element, Frame};

/// A negotiated stream, ready for stanzas.
pub(super) struct Negotiated {
    pub reader: XmlReader<Box<dyn Io>>,
    pub jid: FullJid,
    pub details: super::LoginDetails,
}

/// What a finished handshake says: the TLS version and cipher suite, and what SCRAM
/// can bind to (RFC 9266 `tls-exporter` with TLS 1.3, RFC 5929 `tls-server-end-point`).
struct TlsFacts {
    version: String,
    suite: String,
    channel: Channel,
}

fn tls_facts<T>(stream: &tokio_rustls::client::TlsStream<T>) -> TlsFacts {
    let conn = stream.get_ref().1;
    let version = conn
        .protocol_version()
        .map(|v| format!("{v:?}").replace('_', "."))
        .unwrap_or_default();
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let exporter = (conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3))
        .then(|| {
            conn.export_keying_material([0u8; 32], binding::EXPORTER_LABEL, None)
                .ok()
        })
        .flatten()
        .map(|data| data.to_vec());
    let end_point = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(|cert| binding::end_point_hash(cert.as_ref()));
    TlsFacts {
        version,
        suite,
        channel: Channel {
            exporter,
            end_point,
            advertised: Vec::new(),
        },
    }
}

/// The TLS client configuration, being built on a blocking thread.
type TlsConfigJob = tokio::task::JoinHandle<
    Result<std::sync::Arc<rustls::ClientConfig>, transport::TransportError>,
>;

async fn joined(job: TlsConfigJob) -> Result<std::sync::Arc<rustls::ClientConfig>, SessionError> {
    job.await
        .map_err(|e| transport::TransportError::TlsSetup(e.to_string()))?
        .map_err(SessionError::from)
}

/// The step of login under way, for the message when the deadline passes.
#[derive(Default)]
struct Step(Mutex<&'static str>);

impl Step {
    fn set(&self, what: &'static str) {
        if let Ok(mut step) = self.0.lock() {
            *step = what;
        }
    }

    fn get(&self) -> &'static str {
        self.0.lock().map(|s| *s).unwrap_or("logging in")
    }
}

/// Connects and logs in, all within `settings.iq_timeout` (`--timeout`): a server that
/// accepts the connection and then says nothing, or stops halfway, must not hold us.
pub(super) async fn login(settings: &Settings, password: &str) -> Result<Negotiated, SessionError> {
    let step = Step::default();
    let limit = settings.iq_timeout;
    let domain = settings.jid.domain().to_owned();
    let attempts = async {
        let cached = settings
            .server_cache
            .then(|| cache::seen(&domain))
            .flatten();
        let retry = cached.is_some();
        match login_steps(settings, password, &step, cached).await {
            // What the cache said no longer holds: once more, the slow way.
            Err(SessionError::StaleServerCache) if retry => {
                cache::forget(&domain);
                login_steps(settings, password, &step, None).await
            }
            other => other,
        }
    };
    match tokio::time::timeout(limit, attempts).await {
        Ok(result) => result,
        Err(_) => Err(SessionError::LoginTimeout {
            step: step.get(),
            after: limit,
        }),
    }
}

async fn login_steps(
    settings: &Settings,
    password: &str,
    step: &Step,
    cached: Option<cache::Seen>,
) -> Result<Negotiated, SessionError> {
    let domain = settings.jid.domain().to_owned();
    step.set("looking up the server");
    let endpoints =
        transport::endpoints(&domain, settings.server.as_deref(), settings.direct_tls).await?;
    // Loading the system trust store takes milliseconds: do it while the connection
    // and the first stream header are in flight.
    let trust = settings.trust.clone();
    let direct = settings.direct_tls;
    let tls_config = tokio::task::spawn_blocking(move || tls::client_config(&trust, direct));
    step.set("connecting");
    let (tcp, endpoint) = transport::connect(&endpoints).await?;
    let tcp = transport::QuickAck(tcp);
    tracing::debug!("connected to {}:{}", endpoint.host, endpoint.port);
    let started = std::time::Instant::now();
    let (mut reader, tls) = if endpoint.direct_tls {
        step.set("the TLS handshake");
        let config = joined(tls_config).await?;
        let stream = tls::handshake(tcp, &domain, config).await?;
        let tls = tls_facts(&stream);
        (XmlReader::new(Box::new(stream) as Box<dyn Io>), tls)
    } else {
        starttls(tcp, tls_config, &domain, step).await?
    };
    tracing::debug!("TLS established after {:?}", started.elapsed());
    step.set("the stream features after TLS, and authentication");
    let login = (settings, password, domain.as_str());
    let authenticated = authenticate(&mut reader, tls.channel, login, cached).await?;
    let Authenticated {
        features,
        offered,
        used: sasl_used,
        bind_sent,
    } = authenticated;
    tracing::debug!("authenticated after {:?}", started.elapsed());
    step.set("resource binding");
    let jid = bind(&mut reader, &features, &bind_sent).await?;
    tracing::debug!("bound {jid} after {:?}", started.elapsed());
    let details = super::LoginDetails {
        endpoint: format!("{}:{}", endpoint.host, endpoint.port),
        direct_tls: endpoint.direct_tls,
        tls_version: tls.version,
        cipher_suite: tls.suite,
        sasl_offered: offered,
        sasl_used,
        stream_limits: features
            .get_child("limits", STREAM_LIMITS_NS)
            .map(|l| l.to_xml()),
    };
    Ok(Negotiated {
        reader,
        jid,
        details,
    })
}

/// Sends our stream header and reads the server's header and features.
async fn open_stream<R: Io>(
    reader: &mut XmlReader<R>,
    domain: &str,
) -> Result<Element, SessionError> {
    open_stream_then(reader, domain, None).await
}

/// [`open_stream`], with `then` sent right behind our header, before the features
/// come (XEP-0305 §2: what the features must hold anyway, `<starttls/>` for a client
/// that requires TLS, the resource binding RFC 6120 §7 makes mandatory): one round
/// trip instead of two.
async fn open_stream_then<R: Io>(
    reader: &mut XmlReader<R>,
    domain: &str,
    then: Option<&Element>,
) -> Result<Element, SessionError> {
    reader.reset();
    write_str(reader.io_mut(), &xml::stream_header(domain, None)).await?;
    if let Some(element) = then {
        write_element(reader.io_mut(), element).await?;
    }
    match reader.next_frame().await? {
        Frame::StreamOpen(header) => {
            if header.version.as_deref() != Some("1.0") {
                return Err(SessionError::Unexpected {
                    expected: "an XMPP 1.0 stream",
                    got: format!("version {:?}", header.version),
                });
            }
        }
        other => {
            return Err(SessionError::Unexpected {
                expected: "the server's stream header",
                got: format!("{other:?}"),
            })
        }
    }
    let features = reader.next_element().await?;
    if !features.is("features", STREAMS_NS) {
        return Err(unexpected("stream features", &features));
    }
    Ok(features)
}

/// RFC 6120 §5.4: TLS is mandatory for xft, so a server without STARTTLS is refused.
async fn starttls(
    tcp: transport::QuickAck,
    tls_config: TlsConfigJob,
    domain: &str,
    step: &Step,
) -> Result<(XmlReader<Box<dyn Io>>, TlsFacts), SessionError> {
    let mut plain = XmlReader::new(tcp);
    step.set("the stream header and features");
    // xft never goes on without TLS: <starttls/> goes with the header.
    let starttls = Element::new("starttls", TLS_NS);
    let features = open_stream_then(&mut plain, domain, Some(&starttls)).await?;
    if features.get_child("starttls", TLS_NS).is_none() {
        return Err(SessionError::NoStartTls);
    }
    step.set("the answer to STARTTLS");
    let answer = plain.next_element().await?;
    if !answer.is("proceed", TLS_NS) {
        return Err(unexpected("<proceed/> to STARTTLS", &answer));
    }
    let config = joined(tls_config).await?;
    let tcp = plain.into_inner();
    step.set("the TLS handshake");
    let stream = tls::handshake(tcp, domain, config).await?;
    let tls = tls_facts(&stream);
    Ok((XmlReader::new(Box::new(stream) as Box<dyn Io>), tls))
}

/// The SASL mechanisms the server offers (RFC 6120 §6.4.1).
fn offered_mechanisms(features: &Element) -> Vec<String> {
    features
        .get_child("mechanisms", SASL_NS)
        .map(|m| {
            m.children()
                .map(|c| c.text_content().trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The channel binding types the server lists (XEP-0440 §2), at most a few.
fn advertised_bindings(features: &Element) -> Vec<String> {
    features
        .get_child("sasl-channel-binding", binding::SASL_CB_NS)
        .map(|list| {
            list.children()
                .filter(|c| c.is("channel-binding", binding::SASL_CB_NS))
                .filter_map(|c| c.get_attr("type"))
                .take(8)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What authentication ends with: the features after the restart, the mechanisms the
/// server offered, the one used ("SCRAM-SHA-512-PLUS (tls-exporter)") and the resource
/// binding request already sent behind the new stream header.
struct Authenticated {
    features: Element,
    offered: Vec<String>,
    used: String,
    bind_sent: Element,
}

/// RFC 6120 §6.4 on a fresh TLS stream: the stream header, the SASL exchange, the
/// restart with the binding request behind it. With what the last login saw (`cached`)
/// the `<auth/>` goes right behind the header (XEP-0305 §2); when the features that come
/// would make xft choose otherwise, this connection is given up
/// ([`SessionError::StaleServerCache`]) and the login starts over without the cache.
/// Only SCRAM is sent ahead: PLAIN's first message is the password.
async fn authenticate(
    reader: &mut XmlReader<Box<dyn Io>>,
    mut channel: Channel,
    (settings, password, domain): (&Settings, &str, &str),
    cached: Option<cache::Seen>,
) -> Result<Authenticated, SessionError> {
    let user = settings.jid.node().unwrap_or_default();
    let guess = cached.and_then(|seen| {
        let guessed = Channel {
            advertised: seen.bindings,
            ..channel.clone()
        };
        let plan = crate::sasl::plan(&seen.mechanisms, &guessed, true).ok()?;
        (plan.0 != crate::sasl::Mechanism::Plain).then_some(plan)
    });
    let (offered, mut exchange, plan) = match guess {
        Some(plan) => {
            let (exchange, initial) = Exchange::new(plan.clone(), user, password)?;
            let auth = auth_element(plan.0, &initial);
            let features = open_stream_then(reader, domain, Some(&auth)).await?;
            channel.advertised = advertised_bindings(&features);
            let offered = offered_mechanisms(&features);
            let live = crate::sasl::plan(&offered, &channel, true)?;
            if live != plan {
                tracing::debug!("the server's offer changed since the last login");
                return Err(SessionError::StaleServerCache);
            }
            (offered, exchange, plan)
        }
        None => {
            let features = open_stream(reader, domain).await?;
            channel.advertised = advertised_bindings(&features);
            let offered = offered_mechanisms(&features);
            let plan = crate::sasl::plan(&offered, &channel, true)?;
            let (exchange, initial) = Exchange::new(plan.clone(), user, password)?;
            write_element(reader.io_mut(), &auth_element(plan.0, &initial)).await?;
            (offered, exchange, plan)
        }
    };
    let used = match &plan.1 {
        crate::sasl::Gs2::Bound { kind, .. } => format!("{} ({kind})", plan.0.name()),
        _ => plan.0.name().to_owned(),
    };
    tracing::debug!("SASL mechanism {used}");
    sasl_exchange(reader, &mut exchange).await?;
    if settings.server_cache {
        let seen = cache::Seen {
            mechanisms: offered.clone(),
            bindings: channel.advertised.clone(),
        };
        cache::remember(domain, &seen);
    }
    let bind_sent = bind_request(settings.resource.as_deref());
    let features = open_stream_then(reader, domain, Some(&bind_sent)).await?;
    Ok(Authenticated {
        features,
        offered,
        used,
        bind_sent,
    })
}

fn auth_element(mechanism: crate::sasl::Mechanism, initial: &[u8]) -> Element {
    Element::new("auth", SASL_NS)
        .attr("mechanism", mechanism.name())
        .text(encode_sasl(initial))
}

/// The challenges and responses after `<auth/>`, up to the server's `<success/>`
/// (its signature checked) or `<failure/>`.
async fn sasl_exchange(
    reader: &mut XmlReader<Box<dyn Io>>,
    exchange: &mut Exchange,
) -> Result<(), SessionError> {
    loop {
        let el = reader.next_element().await?;
        match el.name() {
            "challenge" if el.ns() == SASL_NS => {
                let response = exchange.respond(&decode_sasl(&el)?)?;
                let response = Element::new("response", SASL_NS).text(encode_sasl(&response));
                write_element(reader.io_mut(), &response).await?;
            }
            "success" if el.ns() == SASL_NS => {
                exchange.finish(&decode_sasl(&el)?)?;
                return Ok(());
            }
            "failure" if el.ns() == SASL_NS => return Err(sasl_failure(&el)),
            _ => return Err(unexpected("a SASL answer", &el)),
        }
    }
}

/// RFC 6120 §7: binds a resource; the server may pick another one than we asked for.
async fn bind(
    reader: &mut XmlReader<Box<dyn Io>>,
    features: &Element,
    sent: &Element,
) -> Result<FullJid, SessionError> {
    if features.get_child("bind", BIND_NS).is_none() {
        return Err(unexpected(
            "resource binding in the stream features",
            features,
        ));
    }
    let result = answer_to(reader, sent).await?;
    let jid_text = result
        .get_child("bind", BIND_NS)
        .and_then(|b| b.child_text("jid", BIND_NS))
        .ok_or_else(|| unexpected("the bound JID", &result))?;
    let jid = Jid::parse(jid_text.trim())
        .ok()
        .and_then(|j| j.to_full())
        .ok_or_else(|| unexpected("a full JID from resource binding", &result))?;
    // RFC 6121 §1.4 (legacy session establishment): only when the server requires it.
    if let Some(session) = features.get_child("session", SESSION_NS) {
        if session.get_child("optional", SESSION_NS).is_none() {
            request(
                reader,
                stanza::iq(IqType::Set, None, Element::new("session", SESSION_NS)),
            )
            .await?;
        }
    }
    Ok(jid)
}

/// RFC 6120 §7.6: the resource binding request, with the resource asked for if any.
fn bind_request(resource: Option<&str>) -> Element {
    let mut bind = Element::new("bind", BIND_NS);
    if let Some(r) = resource {
        bind.push_child(Element::new("resource", BIND_NS).text(r));
    }
    stanza::iq(IqType::Set, None, bind)
}

/// Sends an iq and waits for its answer while nothing else is running.
async fn request(
    reader: &mut XmlReader<Box<dyn Io>>,
    iq: Element,
) -> Result<Element, SessionError> {
    write_element(reader.io_mut(), &iq).await?;
    answer_to(reader, &iq).await
}

/// Waits for the answer to `iq`, sent already, while nothing else is running.
async fn answer_to(
    reader: &mut XmlReader<Box<dyn Io>>,
    iq: &Element,
) -> Result<Element, SessionError> {
    let id = iq.get_attr("id").unwrap_or_default().to_owned();
    loop {
        let el = reader.next_element().await?;
        if el.is("iq", CLIENT_NS) && el.get_attr("id") == Some(id.as_str()) {
            return match el.get_attr("type") {
                Some("result") => Ok(el),
                _ => Err(SessionError::Bind(StanzaError::from_stanza(&el))),
            };
        }
    }
}

/// RFC 6120 §6.4.2: an empty initial response is sent as "=".
fn encode_sasl(data: &[u8]) -> String {
    if data.is_empty() {
        "=".into()
    } else {
        B64.encode(data)
    }
}

fn decode_sasl(el: &Element) -> Result<Vec<u8>, SessionError> {
    let text: String = el.text_content().split_whitespace().collect();
    if text.is_empty() || text == "=" {
        return Ok(Vec::new());
    }
    B64.decode(text).map_err(|_| SessionError::Unexpected {
        expected: "base64 SASL data",
        got: "invalid base64".into(),
    })
}

/// RFC 6120 §6.5: the failure's condition and text become the error.
fn sasl_failure(el: &Element) -> SessionError {
    let condition = el
        .children()
        .find(|c| c.name() != "text")
        .map(|c| c.name().to_owned())
        .unwrap_or_else(|| "not-authorized".into());
    let text = el.child_text("text", SASL_NS).filter(|t| !t.is_empty());
    SessionError::AuthFailed { condition, text }
}

/// Longest excerpt of an unexpected element quoted in an error, in bytes.
const QUOTE_LIMIT: usize = 200;

fn unexpected(expected: &'static str, got: &Element) -> SessionError {
    let got = quote(&got.to_xml(), QUOTE_LIMIT);
    SessionError::Unexpected { expected, got }
}

/// At most `limit` bytes of `text`, cut on a character boundary: the server chooses
/// the text, and a multibyte character across the limit must not panic.
fn quote(text: &str, limit: usize) -> String {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 8, item 4: a multibyte character across the quote limit panicked.
    #[test]
    fn quoting_cuts_on_a_character_boundary() {
        let text = format!("{}é{}", "a".repeat(QUOTE_LIMIT - 1), "b".repeat(50));
        let quoted = quote(&text, QUOTE_LIMIT);
        assert_eq!(quoted, "a".repeat(QUOTE_LIMIT - 1));
        assert_eq!(quote("short", QUOTE_LIMIT), "short");
        let el = Element::new("x", "urn:x").text("€".repeat(300));
        assert!(matches!(
            unexpected("something", &el),
            SessionError::Unexpected { got, .. } if got.len() <= QUOTE_LIMIT
        ));
    }
}
