//! The logged-in client (RFC 6120, RFC 6121; XEP-0030 and XEP-0199 answers).
//!
//! After [`negotiate`] binds a resource, the stream is split in two tasks:
//!
//! * the **writer** owns the write half; everybody sends through a bounded queue, and
//!   it flushes only when the queue is empty, so bursts (IBB windows) share syscalls;
//! * the **reader** owns the read half and delivers each stanza to exactly one place:
//!   the waiter of an iq result (matched by id and sender), a [`Route`] some protocol
//!   registered (e.g. IBB data for one session id), a built-in answer (ping, disco#info),
//!   or the [`Incoming`] queue of the command.
//!
//! Routes get back-pressure (the reader waits when a route is full), which is what keeps
//! a fast IBB sender from filling our memory. The general queue drops instead, so a
//! command that never reads it cannot stall iq answers.

pub(crate) mod cache;
mod delivery;
mod negotiate;
mod router;
/// The I/O edge: the TLS stream, the framer, and writing stanzas.
pub mod stream;

use crate::ns::CLIENT_NS;
use crate::stanza::Condition;
use crate::stanza::IqType;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::jid::{FullJid, Jid};
use crate::stanza::{self, ErrorType, StanzaError};
use crate::transport::{TransportError, TrustSettings};
use crate::xml::{self, Element, XmlError};

/// Everything needed to log in.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Our JID (its resource, if any, is asked for at bind time).
    pub jid: Jid,
    /// `--server HOST[:PORT]`: skip DNS.
    pub server: Option<String>,
    /// XEP-0368 direct TLS instead of STARTTLS.
    pub direct_tls: bool,
    /// Which certificates to trust.
    pub trust: TrustSettings,
    /// The resource to ask for (the server picks one otherwise).
    pub resource: Option<String>,
    /// Features listed in our disco#info answer (XEP-0030 §3.1).
    pub features: Vec<String>,
    /// How long an iq request may wait for its answer by default.
    pub iq_timeout: Duration,
    /// Remember what the server offered in `$XDG_CACHE_HOME/xft/servers.json` and send
    /// the next login's SASL request without waiting for the features (XEP-0305).
    pub server_cache: bool,
}

/// Why a login failed or a session ended.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// DNS, TCP or TLS.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Reading or writing the connection.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// What the server sent is not XML we accept (RFC 6120 §11).
    #[error("the server sent invalid XML: {0}")]
    Xml(#[from] XmlError),
    /// A stream error (RFC 6120 §4.9).
    #[error("the server closed the stream: {condition}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    StreamError {
        /// The defined condition's element name.
        condition: String,
        /// The server's text, if any.
        text: Option<String>,
    },
    /// No STARTTLS offered, and xft never logs in in the clear.
    #[error(
        "the server does not offer STARTTLS; xft does not log in without TLS (try --direct-tls)"
    )]
    NoStartTls,
    /// The SASL exchange itself went wrong (on our side or in the server's messages).
    #[error(transparent)]
    Sasl(#[from] crate::sasl::SaslError),
    /// The server refused the credentials (RFC 6120 §6.5).
    #[error("authentication failed: {condition}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    AuthFailed {
        /// The SASL failure condition.
        condition: String,
        /// The server's text, if any.
        text: Option<String>,
    },
    /// Resource binding refused (RFC 6120 §7.6).
    #[error("resource binding failed: {0}")]
    Bind(StanzaError),
    /// A step of the negotiation got an element it does not allow.
    #[error("the server sent something unexpected: wanted {expected}, got {got}")]
    Unexpected {
        /// What the step waited for.
        expected: &'static str,
        /// What came.
        got: String,
    },
    /// The connection closed.
    #[error("the connection to the server was lost")]
    Disconnected,
    /// The server's offer differs from what the last login saw (the login is then
    /// tried again without the cache; never reported on its own).
    #[error("the server's offer changed since the last login")]
    StaleServerCache,
    /// The whole login has one deadline (`--timeout`); `step` is where it ran out.
    #[error("login did not finish within {} s (stuck at {step})", after.as_secs())]
    LoginTimeout {
        /// The step that was waiting.
        step: &'static str,
        /// The deadline.
        after: Duration,
    },
}

/// Why an iq request got no result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IqError {
    /// An error answer (RFC 6120 §8.3).
    #[error("{0}")]
    Stanza(StanzaError),
    /// No answer in time.
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The connection closed first.
    #[error("the connection to the server was lost")]
    Disconnected,
}

/// A predicate that claims stanzas for a [`Route`].
type Filter = Box<dyn Fn(&Element) -> bool + Send + Sync>;

/// A queued stanza and its share of its queue's byte budget (released when taken).
type Queued = (Element, OwnedSemaphorePermit);

struct RouteEntry {
    filter: Filter,
    tx: mpsc::Sender<Queued>,
    budget: Arc<Semaphore>,
}

struct PendingIq {
    /// Who must answer: the `to` of the request (None = our own account or server).
    from: Option<Jid>,
    tx: oneshot::Sender<Element>,
}

/// How the login went, for `xft probe`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoginDetails {
    /// The host and port connected to.
    pub endpoint: String,
    /// XEP-0368 direct TLS, or STARTTLS.
    pub direct_tls: bool,
    /// "TLSv1.3" or "TLSv1.2".
    pub tls_version: String,
    /// The negotiated cipher suite.
    pub cipher_suite: String,
    /// SASL mechanisms the server offered, and the one xft chose.
    pub sasl_offered: Vec<String>,
    /// The mechanism xft used.
    pub sasl_used: String,
    /// XEP-0478 `<limits/>` from the stream features, when the server advertises them.
    pub stream_limits: Option<String>,
}

struct Shared {
    jid: FullJid,
    details: LoginDetails,
    out: mpsc::Sender<Outgoing>,
    pending: Mutex<HashMap<String, PendingIq>>,
    routes: Mutex<Vec<RouteEntry>>,
    features: Vec<String>,
    /// Whether this session reads and writes servers.json ([`Settings::server_cache`]).
    server_cache: bool,
    iq_timeout: Duration,
    closed: AtomicBool,
    /// Woken when the reader ends (the server closed or the connection broke).
    closed_notify: tokio::sync::Notify,
    stream_error: Mutex<Option<SessionError>>,
    /// Which of our stanzas the server has certainly processed.
    delivery: delivery::Delivery,
}

enum Outgoing {
    Stanza(String, delivery::Kind),
    /// `</stream:stream>`; the writer answers whether the server has certainly
    /// processed every stanza that matters (see [`delivery`]).
    Close(oneshot::Sender<bool>),
}

impl Outgoing {
    /// `el` serialized, with what its delivery needs.
    fn stanza(el: &Element) -> Outgoing {
        Outgoing::Stanza(xml::stanza_to_string(el, CLIENT_NS), delivery::Kind::of(el))
    }

    /// An answer (to a request of the peer's): it matters.
    fn answer(text: String) -> Outgoing {
        Outgoing::Stanza(text, delivery::Kind::Matters)
    }
}

/// A handle on the logged-in session; cheap to clone.
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

/// Stanzas nobody else claimed: presence, messages, iq requests for the command.
pub struct Incoming {
    rx: mpsc::Receiver<Queued>,
    out: mpsc::Sender<Outgoing>,
}

impl Incoming {
    /// The next unclaimed stanza; `None` once the connection is gone.
    pub async fn next(&mut self) -> Option<Element> {
        self.rx.recv().await.map(|(el, _budget)| el)
    }
}

/// RFC 6120 §8.4: no iq request may go unanswered. Requests still queued when the
/// command stops listening get `service-unavailable`; later ones get it from the
/// reader (the queue is closed).
impl Drop for Incoming {
    fn drop(&mut self) {
        self.rx.close();
        while let Ok((el, _budget)) = self.rx.try_recv() {
            if let Some(reply) = refusal_of_request(&el) {
                let _ = self.out.try_send(Outgoing::answer(reply));
            }
        }
    }
}

/// The serialized `service-unavailable` answer to an iq request; None for other stanzas.
fn refusal_of_request(el: &Element) -> Option<String> {
    let is_request = IqType::of(el).is_some_and(IqType::is_request);
    is_request.then(|| {
        let error = StanzaError::new(ErrorType::Cancel, Condition::ServiceUnavailable);
        xml::stanza_to_string(&stanza::error_reply(el, &error), CLIENT_NS)
    })
}

/// Stanzas claimed by a filter; dropping the route releases them.
pub struct Route {
    rx: mpsc::Receiver<Queued>,
}

impl Route {
    /// The next claimed stanza; `None` once the session is gone.
    pub async fn next(&mut self) -> Option<Element> {
        self.rx.recv().await.map(|(el, _budget)| el)
    }
}

/// An iq request on its way; await [`PendingResult::wait`] for the answer.
pub struct PendingResult {
    rx: oneshot::Receiver<Element>,
    timeout: Duration,
    id: String,
    shared: Arc<Shared>,
}

impl PendingResult {
    /// The answer if it has already arrived, without waiting.
    pub fn try_answer(&mut self) -> Option<Result<Element, IqError>> {
        match self.rx.try_recv() {
            Ok(el) if el.get_attr("type") == Some("result") => Some(Ok(el)),
            Ok(el) => Some(Err(IqError::Stanza(StanzaError::from_stanza(&el)))),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(IqError::Disconnected)),
        }
    }

    /// Waits for the answer, up to the timeout the request was sent with.
    pub async fn wait(self) -> Result<Element, IqError> {
        match tokio::time::timeout(self.timeout, self.rx).await {
            Err(_) => {
                // No answer will be waited for: forget the id, or a peer that never
                // answers grows the table for the rest of the session.
                if let Ok(mut pending) = self.shared.pending.lock() {
                    pending.remove(&self.id);
                }
                Err(IqError::Timeout(self.timeout))
            }
            Ok(Err(_)) => Err(IqError::Disconnected),
            Ok(Ok(el)) if el.get_attr("type") == Some("result") => Ok(el),
            Ok(Ok(el)) => Err(IqError::Stanza(StanzaError::from_stanza(&el))),
        }
    }
}

/// Capacity of the outgoing queue (stanzas).
const OUT_QUEUE: usize = 64;
/// Capacity of the general incoming queue; more is dropped (see module docs).
const IN_QUEUE: usize = 1024;
/// Bytes (as received) the general incoming queue may hold; past that, stanzas are
/// dropped (iq requests answered `service-unavailable`), so a flood of large messages
/// cannot grow our memory while the command is busy.
const IN_QUEUE_BYTES: usize = 2 << 20;
/// Capacity of each route.
const ROUTE_QUEUE: usize = 64;
/// Bytes each route may hold before the reader waits for its owner (back-pressure).
const ROUTE_BYTES: usize = 4 << 20;
/// How long [`Session::close`] waits for the server to close its side.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// A whitespace keepalive after this much silence on our side (RFC 6120 §4.6.1).
const KEEPALIVE: Duration = Duration::from_secs(90);

impl Session {
    /// Connects, authenticates, binds and starts the reader and writer tasks.
    pub async fn login(
        settings: &Settings,
        password: &str,
    ) -> Result<(Session, Incoming), SessionError> {
        let negotiated = negotiate::login(settings, password).await?;
        let (io, framer) = negotiated.reader.split_io();
        let (read_half, write_half) = tokio::io::split(io);
        let (out_tx, out_rx) = mpsc::channel(OUT_QUEUE);
        let (in_tx, in_rx) = mpsc::channel(IN_QUEUE);
        let in_budget = Arc::new(Semaphore::new(IN_QUEUE_BYTES));
        let shared = Arc::new(Shared {
            jid: negotiated.jid,
            details: negotiated.details,
            out: out_tx,
            pending: Mutex::new(HashMap::new()),
            routes: Mutex::new(Vec::new()),
            features: settings.features.clone(),
            server_cache: settings.server_cache,
            iq_timeout: settings.iq_timeout,
            closed: AtomicBool::new(false),
            closed_notify: tokio::sync::Notify::new(),
            stream_error: Mutex::new(None),
            delivery: delivery::Delivery::default(),
        });
        tokio::spawn(router::write_loop(write_half, out_rx, shared.clone()));
        let reader = framer.with_io(read_half);
        tokio::spawn(router::read_loop(
            reader,
            shared.clone(),
            router::Unclaimed {
                tx: in_tx,
                budget: in_budget,
            },
        ));
        let incoming = Incoming {
            rx: in_rx,
            out: shared.out.clone(),
        };
        Ok((Session { shared }, incoming))
    }

    /// Our bound full JID.
    pub fn jid(&self) -> &FullJid {
        &self.shared.jid
    }

    /// Whether what discovery finds about the server may be kept in, and read from,
    /// servers.json ([`cache`]).
    pub(crate) fn uses_server_cache(&self) -> bool {
        self.shared.server_cache
    }

    /// The XEP-0115 `<c/>` for our presence: the hash of the disco#info answer this
    /// session gives.
    pub fn caps(&self) -> Element {
        crate::caps::element(&crate::caps::own_ver(&self.shared.features))
    }

    /// How the login went (TLS, SASL, the server's advertised limits).
    pub fn login_details(&self) -> &LoginDetails {
        &self.shared.details
    }

    /// How long [`Session::iq`] waits for an answer (`--timeout`).
    pub fn default_timeout(&self) -> Duration {
        self.shared.iq_timeout
    }

    /// Queues a stanza for sending.
    pub async fn send(&self, el: Element) -> Result<(), SessionError> {
        self.queue(Outgoing::stanza(&el)).await
    }

    async fn queue(&self, out: Outgoing) -> Result<(), SessionError> {
        self.shared.out.send(out).await.map_err(|_| self.lost())
    }

    /// Sends an iq request and returns a handle to await its answer (for pipelining).
    pub async fn iq_start(&self, iq: Element, timeout: Duration) -> Result<PendingResult, IqError> {
        let id = iq.get_attr("id").unwrap_or_default().to_owned();
        let from = iq.get_attr("to").and_then(|t| Jid::parse(t).ok());
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.shared.pending.lock() {
            pending.insert(id.clone(), PendingIq { from, tx });
        }
        // The reader clears the table when the connection ends; an entry made after
        // that would wait out its whole timeout, so check once more (it sets `closed`
        // before clearing).
        let sent = self.send(iq).await;
        if sent.is_err() || self.is_closed() {
            if let Ok(mut pending) = self.shared.pending.lock() {
                pending.remove(&id);
            }
            return Err(IqError::Disconnected);
        }
        Ok(PendingResult {
            rx,
            timeout,
            id,
            shared: self.shared.clone(),
        })
    }

    /// Sends an iq request and waits for its result (the default timeout).
    pub async fn iq(&self, iq: Element) -> Result<Element, IqError> {
        self.iq_timeout(iq, self.shared.iq_timeout).await
    }

    /// Sends an iq request and waits up to `timeout` for its result (or error).
    pub async fn iq_timeout(&self, iq: Element, timeout: Duration) -> Result<Element, IqError> {
        self.iq_start(iq, timeout).await?.wait().await
    }

    /// Claims every future stanza for which `filter` is true.
    pub fn route(&self, filter: impl Fn(&Element) -> bool + Send + Sync + 'static) -> Route {
        let (tx, rx) = mpsc::channel(ROUTE_QUEUE);
        // After the connection ended nothing will ever arrive: the route is born closed
        // (its sender dropped), so `next` answers `None` at once.
        if !self.is_closed() {
            if let Ok(mut routes) = self.shared.routes.lock() {
                routes.push(RouteEntry {
                    filter: Box::new(filter),
                    tx,
                    budget: Arc::new(Semaphore::new(ROUTE_BYTES)),
                });
            }
        }
        Route { rx }
    }

    /// Answers an iq request with an empty result.
    pub async fn reply_result(&self, request: &Element) -> Result<(), SessionError> {
        self.send(stanza::iq_result(request)).await
    }

    /// Answers an iq request whose sender has already moved on, so that the answer
    /// getting lost costs nothing (a Jingle session-terminate: the session ended when
    /// it was sent, XEP-0166 §6.7): the stream may end without proof that the server
    /// processed it (see [`delivery`]), which saves a round trip at the end.
    pub async fn reply_courtesy(&self, request: &Element) -> Result<(), SessionError> {
        let text = xml::stanza_to_string(&stanza::iq_result(request), CLIENT_NS);
        self.queue(Outgoing::Stanza(text, delivery::Kind::Ignorable))
            .await
    }

    /// Answers a request with an error.
    pub async fn reply_error(
        &self,
        request: &Element,
        error: &StanzaError,
    ) -> Result<(), SessionError> {
        self.send(stanza::error_reply(request, error)).await
    }

    /// True once the connection is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// Ends the stream after everything queued so far has been written (RFC 6120 §4.4).
    pub async fn close(&self) {
        // Register for the wake-up before anything can trigger it.
        let closed = self.shared.closed_notify.notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
        let deadline = tokio::time::Instant::now() + CLOSE_WAIT;
        let (written, all_processed) = oneshot::channel();
        let _ = self.shared.out.send(Outgoing::Close(written)).await;
        let all_processed = tokio::time::timeout_at(deadline, all_processed).await;
        if matches!(all_processed, Ok(Ok(true))) {
            // Nothing the server has not acted on yet would be lost with the
            // connection: exit without the round trip of its closing tag.
            tracing::debug!("closed: the server has answered everything that matters");
            return;
        }
        tracing::debug!("closing: waiting for the server to process what we sent last");
        // Otherwise wait (briefly) for the server to close its side, so stanzas sent
        // just before are processed rather than dropped with the TCP connection.
        if !self.is_closed() {
            let _ = tokio::time::timeout_at(deadline, closed).await;
        }
    }

    /// Why the session ended: the server's stream error, the XML it sent that we had to
    /// refuse, or plain `Disconnected`. Call once the connection is gone.
    pub fn lost(&self) -> SessionError {
        self.shared
            .stream_error
            .lock()
            .ok()
            .and_then(|mut e| e.take())
            .unwrap_or(SessionError::Disconnected)
    }
}
