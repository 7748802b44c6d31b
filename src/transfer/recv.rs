//! The receiving side: stay online, judge each offer (XEP-0095 §3.2, §4.2), receive
//! over the chosen bytestream, verify size and MD5, and only then rename into place.

use crate::ns::{IBB_NS, ROSTER_NS, SI_NS};
use crate::stanza::Condition;
use crate::stanza::IqType;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::hash::{Algorithm, Hasher};
use tokio::io::AsyncWriteExt;

use super::progress::{Metered, Progress};
use super::pump;
use super::resume::{Partial, Registry};
use super::sink::{
    discard_if_empty, finish_target, open_target, reopen_part, sanitize_file_name, Destination,
    Output, Target,
};
use super::{download, jingle, Moved, Report, TransferError};
use crate::bytestream::ibb::{CloseRequest, IbbError, IbbReceiver};
use crate::bytestream::s5b::target::S5bTarget;
use crate::jid::{FullJid, Jid};
use crate::oob;
use crate::roster::{self, Item, Subscription};
use crate::session::{Incoming, Session};
use crate::si::{self, FileOffer, SiError, StreamMethod};
use crate::stanza::{self, ErrorType, StanzaError};
use crate::xml::Element;

/// The receiver's policy.
#[derive(Debug, Clone)]
pub(crate) struct RecvOptions {
    pub destination: Destination,
    /// `--from`: only these senders (a bare JID allows all its resources).
    pub allowed: Vec<Jid>,
    /// `--accept-any`: everybody may send.
    pub accept_any: bool,
    /// Files to receive before returning; 0 = until interrupted.
    pub count: u64,
    pub max_size: Option<u64>,
    pub overwrite: bool,
    /// `--approve`: accept presence subscription requests from these JIDs.
    pub approve: Vec<Jid>,
    /// How long each protocol step may take.
    pub timeout: Duration,
    /// Resume a broken transfer from its `.part` when the sender offers the same file
    /// again (`--no-resume` turns it off).
    pub resume: bool,
    /// Where resumable `.part` files are registered.
    pub registry: Registry,
    /// For links to uploaded files (XEP-0363 / XEP-0066); `None` ignores them.
    pub http: Option<crate::http::Client>,
    /// The SOCKS5 candidates a Jingle responder offers of its own (XEP-0260 §2.2).
    pub s5b: super::send::S5bOptions,
}

/// Stream methods this receiver can use, best first.
const SUPPORTED: [StreamMethod; 2] = [StreamMethod::Socks5, StreamMethod::Ibb];

/// After S5B failed, how long to wait for the sender's IBB fallback (Pidgin: 30 s).
const FALLBACK_WAIT: Duration = Duration::from_secs(30);

/// Receives files until `options.count` have arrived. `on_report` is called for each.
pub(crate) async fn run(
    session: &Session,
    incoming: &mut Incoming,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
    mut on_report: impl FnMut(&Report),
) -> Result<(), TransferError> {
    let mut contacts: HashSet<Jid> = roster::fetch(session)
        .await
        .map_err(TransferError::Roster)?
        .into_iter()
        .filter(|i| i.subscription != Subscription::None)
        .map(|i| i.jid)
        .collect();
    session.send(roster::receiving_presence()).await?;
    let mut received = 0u64;
    let mut deferred = VecDeque::new();
    while options.count == 0 || received < options.count {
        let stanza = match deferred.pop_front() {
            Some(stanza) => stanza,
            None => match incoming.next().await {
                Some(stanza) => stanza,
                None => return Err(session.lost().into()),
            },
        };
        if stanza::is_iq_request(&stanza, IqType::Set, "si", SI_NS) {
            let transfer = handle_offer(session, &stanza, options, &contacts, progress.clone());
            let outcome = while_answering(session, incoming, &mut deferred, transfer).await;
            settle(outcome, options, &mut received, &mut on_report)?;
        } else if jingle::is_offer(&stanza) {
            let transfer =
                handle_jingle_offer(session, &stanza, options, &contacts, progress.clone());
            let outcome = while_answering(session, incoming, &mut deferred, transfer).await;
            settle(outcome, options, &mut received, &mut on_report)?;
        } else if jingle::is_jingle_request(&stanza) {
            jingle::refuse_unknown(session, &stanza).await;
        } else if let Some(proposal) = crate::jingle::message::file_proposal(&stanza) {
            answer_proposal(session, &proposal, options, &contacts).await?;
        } else if let Some(found) = oob::link_of(&stanza) {
            let transfer = handle_link(
                session,
                &stanza,
                found,
                options,
                &contacts,
                progress.clone(),
            );
            let outcome = while_answering(session, incoming, &mut deferred, transfer).await;
            settle(outcome, options, &mut received, &mut on_report)?;
        } else {
            handle_other(session, &stanza, options, &mut contacts).await?;
        }
    }
    Ok(())
}

/// Counts a finished transfer and reports it; with `--count 0` a failure is logged and
/// receiving goes on, otherwise it ends the run.
fn settle(
    outcome: Result<Option<Report>, TransferError>,
    options: &RecvOptions,
    received: &mut u64,
    on_report: &mut impl FnMut(&Report),
) -> Result<(), TransferError> {
    match outcome {
        Ok(Some(report)) => {
            *received += 1;
            on_report(&report);
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) if options.count == 0 => {
            tracing::error!("{e}");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Stanzas kept for after the running transfer: offers, roster pushes, subscription
/// requests. A sender whose offer waits here may time out; past this many, an offer is
/// refused as busy rather than queued.
const DEFERRED_MAX: usize = 16;
/// The same queue's bound in bytes (as serialised): offers are small, a stanza that
/// is not is refused rather than kept.
const DEFERRED_BYTES: usize = 256 * 1024;

/// Runs `transfer` while still reading the incoming queue: iq requests that have nothing
/// to do with the transfer are answered now (not when it ends), what must wait is kept
/// in `deferred` (bounded), and the rest (messages, presence) is dropped, so a flood
/// cannot pile up behind a long transfer.
async fn while_answering<T>(
    session: &Session,
    incoming: &mut Incoming,
    deferred: &mut VecDeque<Element>,
    transfer: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(transfer);
    let mut reading = true;
    loop {
        tokio::select! {
            // The transfer first: one that ends at once must not lose the next stanza
            // to the branch below.
            biased;
            done = &mut transfer => return done,
            next = incoming.next(), if reading => match next {
                Some(stanza) => defer_or_answer(session, deferred, stanza).await,
                None => reading = false,
            },
        }
    }
}

async fn defer_or_answer(session: &Session, deferred: &mut VecDeque<Element>, stanza: Element) {
    let must_wait = stanza::is_iq_request(&stanza, IqType::Set, "si", SI_NS)
        || jingle::is_offer(&stanza)
        || roster::is_roster_push(&stanza, &session.jid().bare())
        || (stanza.name() == "presence" && stanza.get_attr("type") == Some("subscribe"))
        || oob::link_of(&stanza).is_some()
        || crate::jingle::message::file_proposal(&stanza).is_some();
    let held: usize = deferred.iter().map(|s| s.to_xml().len()).sum();
    if must_wait && deferred.len() < DEFERRED_MAX && held + stanza.to_xml().len() <= DEFERRED_BYTES
    {
        deferred.push_back(stanza);
        return;
    }
    if stanza::is_iq_request(&stanza, IqType::Set, "si", SI_NS) || jingle::is_offer(&stanza) {
        let busy = StanzaError::new(ErrorType::Wait, Condition::ResourceConstraint)
            .with_text("busy with other transfers; offer again later");
        let _ = session.reply_error(&stanza, &busy).await;
        return;
    }
    show_chat(&stanza);
    let _ = refuse_unhandled(session, &stanza).await;
}

/// Roster pushes, subscription requests, and polite refusals for everything else.
async fn handle_other(
    session: &Session,
    stanza: &Element,
    options: &RecvOptions,
    contacts: &mut HashSet<Jid>,
) -> Result<(), TransferError> {
    if roster::is_roster_push(stanza, &session.jid().bare()) {
        update_contacts(stanza, contacts);
        session.reply_result(stanza).await?;
        return Ok(());
    }
    if stanza.name() == "presence" && stanza.get_attr("type") == Some("subscribe") {
        let from = stanza.get_attr("from").and_then(|f| Jid::parse(f).ok());
        if let Some(from) = from.filter(|f| options.approve.iter().any(|a| a.bare() == f.bare())) {
            tracing::info!("approving the subscription request of {from}");
            roster::approve(session, &from).await?;
        }
        return Ok(());
    }
    show_chat(stanza);
    refuse_unhandled(session, stanza).await
}

/// Chat that reaches `xft recv` (its presence has priority 0 so that links reach it,
/// and so do offline messages at login) is shown on stderr, not silently dropped.
fn show_chat(stanza: &Element) {
    if stanza.name() != "message" || stanza.get_attr("type") == Some("error") {
        return;
    }
    let Some(body) = stanza.child_text("body", crate::ns::CLIENT_NS) else {
        return;
    };
    if SHOWN_CHATS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= MAX_SHOWN_CHATS {
        return;
    }
    let from = stanza.get_attr("from").unwrap_or("?");
    let shown: String = body.chars().take(SHOWN_CHAT_CHARS).collect();
    let cut = if shown.len() < body.len() {
        " […]"
    } else {
        ""
    };
    tracing::warn!(
        "message from {} (not a file): {}{cut}",
        crate::text::printable(from),
        crate::text::printable(&shown)
    );
}

/// How much of a chat message `xft recv` shows.
const SHOWN_CHAT_CHARS: usize = 300;
/// How many chat messages one `xft recv` shows at most: a flood must not become a
/// flood on the terminal.
const MAX_SHOWN_CHATS: u32 = 100;
static SHOWN_CHATS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// RFC 6120 §8.4: an iq request nobody handles gets an error; other stanzas are dropped.
async fn refuse_unhandled(session: &Session, stanza: &Element) -> Result<(), TransferError> {
    if IqType::of(stanza).is_some_and(IqType::is_request) {
        // XEP-0047 §2.2: data for a session we do not know is item-not-found.
        let unknown_ibb = stanza.children().next().is_some_and(|c| c.ns() == IBB_NS);
        let condition = if unknown_ibb {
            Condition::ItemNotFound
        } else {
            Condition::ServiceUnavailable
        };
        session
            .reply_error(stanza, &StanzaError::new(ErrorType::Cancel, condition))
            .await?;
    }
    Ok(())
}

fn update_contacts(push: &Element, contacts: &mut HashSet<Jid>) {
    let Some(query) = push.get_child("query", ROSTER_NS) else {
        return;
    };
    for el in query.children() {
        let Some(item) = Item::from_element(el) else {
            continue;
        };
        if Item::is_removal(el) || item.subscription == Subscription::None {
            contacts.remove(&item.jid);
        } else {
            contacts.insert(item.jid);
        }
    }
}

/// Judges one offer; `Ok(None)` when it was declined by policy.
async fn handle_offer(
    session: &Session,
    request: &Element,
    options: &RecvOptions,
    contacts: &HashSet<Jid>,
    progress: Arc<dyn Progress>,
) -> Result<Option<Report>, TransferError> {
    let Some(from) = request
        .get_attr("from")
        .and_then(|f| Jid::parse(f).ok())
        .and_then(|j| j.to_full())
    else {
        let error = StanzaError::new(ErrorType::Modify, Condition::BadRequest);
        session.reply_error(request, &error).await?;
        return Ok(None);
    };
    let offer = match request.get_child("si", SI_NS).map(FileOffer::from_element) {
        Some(Ok(offer)) => offer,
        Some(Err(e)) => {
            tracing::warn!("refusing a malformed offer from {from}: {e}");
            session.reply_error(request, &offer_error(&e)).await?;
            return Ok(None);
        }
        None => return Ok(None),
    };
    if let Some(reason) = decline_reason(&from, &offer, options, contacts, session.jid()) {
        tracing::warn!(
            "declined '{}' ({} bytes) from {from}: {reason}",
            offer.name,
            offer.size
        );
        let error = StanzaError::new(ErrorType::Cancel, Condition::Forbidden).with_text(reason);
        session.reply_error(request, &error).await?;
        return Ok(None);
    }
    let Some(method) = SUPPORTED.into_iter().find(|m| offer.methods.contains(m)) else {
        let error = StanzaError::new(ErrorType::Cancel, Condition::BadRequest)
            .with_app_condition("no-valid-streams", SI_NS);
        session.reply_error(request, &error).await?;
        return Ok(None);
    };
    receive(session, request, &from, &offer, method, options, progress)
        .await
        .map(Some)
}

/// XEP-0353: a sender that knows only our bare JID proposes a file transfer; an
/// allowed one is told to proceed (it then sends session-initiate to us), others are
/// rejected. Directed presence first, so the proposer sees this resource.
async fn answer_proposal(
    session: &Session,
    proposal: &crate::jingle::message::Proposal,
    options: &RecvOptions,
    contacts: &HashSet<Jid>,
) -> Result<(), TransferError> {
    let Some(from) = Jid::parse(&proposal.from).ok().and_then(|j| j.to_full()) else {
        return Ok(());
    };
    let to = from.to_string();
    if sender_allowed(from.as_jid(), options, contacts, session.jid()) {
        tracing::debug!("{from} proposes a Jingle file transfer; proceeding");
        session.send(stanza::directed_presence(&to)).await?;
        session
            .send(crate::jingle::message::proceed(&to, &proposal.id))
            .await?;
    } else {
        tracing::warn!("rejected a file-transfer proposal from {from}: sender not allowed");
        session
            .send(crate::jingle::message::reject(
                &to,
                &proposal.id,
                "sender not allowed",
            ))
            .await?;
    }
    Ok(())
}

/// A Jingle file offer (XEP-0234): judged by the same policy as SI offers.
async fn handle_jingle_offer(
    session: &Session,
    request: &Element,
    options: &RecvOptions,
    contacts: &HashSet<Jid>,
    progress: Arc<dyn Progress>,
) -> Result<Option<Report>, TransferError> {
    let Some(from) = request
        .get_attr("from")
        .and_then(|f| Jid::parse(f).ok())
        .and_then(|j| j.to_full())
    else {
        let error = StanzaError::new(ErrorType::Modify, Condition::BadRequest);
        session.reply_error(request, &error).await?;
        return Ok(None);
    };
    let allowed = sender_allowed(from.as_jid(), options, contacts, session.jid());
    jingle::receive_offer(session, request, &from, allowed, options, progress).await
}

/// A link in a message (XEP-0066 §3): downloaded when the sender is allowed and the
/// scheme is http(s); `Ok(None)` when it was ignored (and the log says why).
async fn handle_link(
    session: &Session,
    message: &Element,
    found: oob::Found,
    options: &RecvOptions,
    contacts: &HashSet<Jid>,
    progress: Arc<dyn Progress>,
) -> Result<Option<Report>, TransferError> {
    let Some(from) = message.get_attr("from").and_then(|f| Jid::parse(f).ok()) else {
        return Ok(None);
    };
    if !sender_allowed(&from, options, contacts, session.jid()) {
        tracing::warn!("ignored a link from {from}: sender not allowed");
        return Ok(None);
    }
    match found {
        oob::Found::Unsupported(url) => {
            tracing::warn!(
                "{from} sent a link xft cannot download ({}): only http and https links are \
                 supported; encrypted ones (aesgcm://, OMEMO) are not",
                crate::text::printable(&url)
            );
            Ok(None)
        }
        oob::Found::Download(link) => match &options.http {
            Some(http) => download::receive_link(http, &from, &link, options, progress)
                .await
                .map(Some),
            None => Ok(None),
        },
    }
}

/// XEP-0095 §4.2 errors for offers that cannot be parsed.
fn offer_error(e: &SiError) -> StanzaError {
    let bad_request = StanzaError::new(ErrorType::Cancel, Condition::BadRequest);
    match e {
        SiError::BadProfile(_) => bad_request.with_app_condition("bad-profile", SI_NS),
        SiError::NoValidStreams => bad_request.with_app_condition("no-valid-streams", SI_NS),
        SiError::Malformed(_) | SiError::BadAnswer => bad_request.with_text(e.to_string()),
    }
}

/// Why an offer is refused, or `None` to accept it.
fn decline_reason(
    from: &FullJid,
    offer: &FileOffer,
    options: &RecvOptions,
    contacts: &HashSet<Jid>,
    own: &FullJid,
) -> Option<String> {
    if !sender_allowed(from.as_jid(), options, contacts, own) {
        return Some("Offer Declined: sender not allowed".into());
    }
    match options.max_size {
        Some(max) if offer.size > max => Some(format!(
            "Offer Declined: file too large ({} bytes, the limit is {max})",
            offer.size
        )),
        _ => None,
    }
}

/// `--accept-any`, or `--from` (a bare JID allows its every resource), or by default
/// a contact or one of our own resources.
fn sender_allowed(
    from: &Jid,
    options: &RecvOptions,
    contacts: &HashSet<Jid>,
    own: &FullJid,
) -> bool {
    if options.accept_any {
        true
    } else if !options.allowed.is_empty() {
        options.allowed.iter().any(|a| match a.resource() {
            Some(_) => a == from,
            None => *a == from.bare(),
        })
    } else {
        contacts.contains(&from.bare()) || from.bare() == own.bare()
    }
}

/// What the bytestream must deliver: `len` bytes (the whole file, or the rest of a
/// resumed one), hashed on top of `hasher` when the offer carried an MD5.
struct Expect {
    len: u64,
    hasher: Option<Hasher>,
}

/// The opened destination of one offer.
pub(super) struct Opened {
    pub(super) target: Target,
    pub(super) output: Output,
    /// Bytes already there (a resumed `.part`); 0 for a fresh file.
    pub(super) offset: u64,
    /// The hash of those bytes, when the offer has a hash to check.
    pub(super) hasher: Option<Hasher>,
}

/// Accepts the offer and receives the file.
async fn receive(
    session: &Session,
    request: &Element,
    from: &FullJid,
    offer: &FileOffer,
    method: StreamMethod,
    options: &RecvOptions,
    progress: Arc<dyn Progress>,
) -> Result<Report, TransferError> {
    let opened = match open_destination(from, offer, options).await {
        Ok(opened) => opened,
        Err(e) => {
            let error = StanzaError::new(ErrorType::Cancel, Condition::InternalServerError)
                .with_text("cannot store the file");
            session.reply_error(request, &error).await?;
            return Err(e);
        }
    };
    let Opened {
        target,
        output,
        offset,
        hasher,
    } = opened;
    // Route the bytestreams before accepting, so their first stanza cannot slip past.
    // The IBB route also catches the fallback after a failed S5B attempt.
    let mut ibb = IbbReceiver::listen(session, from.as_jid(), &offer.sid);
    let mut s5b =
        (method == StreamMethod::Socks5).then(|| S5bTarget::listen(session, from, &offer.sid));
    let answer = match offset {
        0 => si::answer_element(method),
        _ => si::answer_with_offset(method, offset),
    };
    // Directed presence first: should we vanish, the sender hears it at once.
    session
        .send(stanza::directed_presence(&from.to_string()))
        .await?;
    session
        .send(stanza::iq_result(request).child(answer))
        .await?;
    let started = Instant::now();
    progress.start(&offer.name, offer.size, method.short_name());
    progress.advance(offset);
    let expect = Expect {
        len: offer.size - offset,
        hasher,
    };
    let outcome = match s5b.as_mut() {
        Some(s5b) => {
            receive_s5b_or_fallback(
                session,
                from,
                s5b,
                &mut ibb,
                &output,
                &expect,
                options.timeout,
                &progress,
            )
            .await
        }
        None => receive_ibb(&mut ibb, &output, &expect, options.timeout, &progress).await,
    };
    progress.finish(outcome.is_ok());
    if outcome.is_err() {
        discard_if_empty(&target, &options.registry);
    }
    let Received {
        bytes,
        close,
        method: used,
        md5,
    } = outcome?;
    let verdict = match verify(offer, offset + bytes, md5.as_deref()) {
        Ok(()) => finish_target(target, &options.registry),
        Err(e) => {
            discard_if_empty(&target, &options.registry);
            Err(e)
        }
    };
    let path = match verdict {
        Ok(path) => {
            if let Some(close) = close {
                close.acknowledge().await;
            }
            path
        }
        Err(e) => {
            if let Some(close) = close {
                close.refuse(&e.to_string()).await;
            }
            return Err(e);
        }
    };
    let moved = Moved {
        size: offset + bytes,
        protocol: "si",
        method: used.short_name(),
        hash: md5.map(|m| (crate::hash::Algorithm::Md5, m)),
        offset,
        elapsed: started.elapsed(),
    };
    Ok(Report::received(&offer.name, offer.desc.clone(), from, path).moved(moved))
}

/// A `.part` to resume (XEP-0096 §3) when the sender can send a range and left one
/// here for the same file, else a fresh destination (registered, so that a broken
/// transfer can be resumed later).
async fn open_destination(
    from: &FullJid,
    offer: &FileOffer,
    options: &RecvOptions,
) -> Result<Opened, TransferError> {
    let key = offer.md5.as_ref().map(|md5| Resumable {
        name: &offer.name,
        size: offer.size,
        identity: md5.clone(),
        algorithm: Algorithm::Md5,
    });
    if let Some(key) = key.as_ref().filter(|_| offer.ranged) {
        if let Some(opened) = resume_partial(from, key, options).await {
            return Ok(opened);
        }
    }
    let (target, output) = open_target(&options.destination, &offer.name, options.overwrite)?;
    if let Some(key) = &key {
        register(&target, from, key, options);
    }
    Ok(Opened {
        target,
        output,
        offset: 0,
        hasher: key.map(|k| Hasher::new(k.algorithm)),
    })
}

/// What makes an offered file resumable: the sender's name and size for it, what else
/// identifies it (see [`Partial::identity`]), and the hash that will check the whole.
pub(super) struct Resumable<'a> {
    pub(super) name: &'a str,
    pub(super) size: u64,
    pub(super) identity: String,
    pub(super) algorithm: Algorithm,
}

/// Remembers a fresh `.part`, so that a broken transfer of it can be resumed.
pub(super) fn register(
    target: &Target,
    from: &FullJid,
    key: &Resumable<'_>,
    options: &RecvOptions,
) {
    if let Target::Part(part) = target {
        options.registry.record(Partial {
            part: absolute(&part.part),
            target: absolute(&part.target),
            from: from.bare().to_string(),
            name: key.name.to_owned(),
            size: key.size,
            identity: key.identity.clone(),
        });
    }
}

/// The registered `.part` that `from` left of this file at this destination, reopened
/// for appending with its bytes hashed; `None` when there is none (or resuming is off).
pub(super) async fn resume_partial(
    from: &FullJid,
    key: &Resumable<'_>,
    options: &RecvOptions,
) -> Option<Opened> {
    if !options.resume {
        return None;
    }
    let wanted: Box<dyn Fn(&std::path::Path) -> bool + Send> = match &options.destination {
        Destination::Dir(dir) => {
            let dir = absolute(dir);
            Box::new(move |t| t.parent() == Some(dir.as_path()))
        }
        Destination::Path(path) => {
            let path = absolute(path);
            Box::new(move |t| t == path)
        }
        Destination::Stdout => return None,
    };
    let from_bare = from.bare().to_string();
    let partial = options
        .registry
        .find(&*wanted, &from_bare, key.name, key.size, &key.identity)?;
    let base_name = match &options.destination {
        Destination::Dir(_) => Some(sanitize_file_name(key.name)),
        _ => None,
    };
    let reopened = tokio::task::spawn_blocking({
        let partial = partial.clone();
        let overwrite = options.overwrite;
        let algorithm = key.algorithm;
        move || reopen_part(&partial, overwrite, base_name, algorithm)
    })
    .await;
    match reopened {
        Ok(Ok((target, output, offset, hasher))) => {
            tracing::info!(
                "resuming {} from byte {offset} of {}",
                crate::text::printable(&partial.part.display().to_string()),
                key.size
            );
            Some(Opened {
                target,
                output,
                offset,
                hasher: Some(hasher),
            })
        }
        Ok(Err(e)) => {
            tracing::warn!("cannot resume {}: {e}", partial.part.display());
            None
        }
        Err(_) => None,
    }
}

fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// What a bytestream delivered.
struct Received {
    bytes: u64,
    /// The IBB close still to be answered (None for S5B).
    close: Option<CloseRequest>,
    method: StreamMethod,
    /// Hex MD5 of the bytes, computed when the offer carried one to check against.
    md5: Option<String>,
}

/// XEP-0065 as target. The sender may open IBB on the same sid instead: after we
/// answered `item-not-found`, or at any moment if it had nothing to offer, so the IBB
/// open is awaited alongside the streamhost offer.
#[allow(clippy::too_many_arguments)]
async fn receive_s5b_or_fallback(
    session: &Session,
    from: &FullJid,
    target: &mut S5bTarget,
    ibb: &mut IbbReceiver,
    output: &Output,
    expect: &Expect,
    timeout: Duration,
    progress: &Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    // Watch for the sender going away from now on: it may log out the moment it has
    // written its last byte, before the socket is even handed to the copy.
    let gone = crate::bytestream::peer_gone(session, from.as_jid());
    let s5b_error = tokio::select! {
        accepted = target.accept(timeout) => match accepted {
            Ok((socket, host)) => {
                tracing::debug!("S5B via {} ({}:{})", host.jid, host.host, host.port);
                return receive_from_socket(socket, output, expect, timeout, gone, progress).await;
            }
            Err(e) => e,
        },
        opened = ibb.accept_open(timeout) => {
            opened?;
            tracing::warn!("the sender skipped SOCKS5 and opened an in-band bytestream");
            progress.switch_method(StreamMethod::Ibb.short_name());
            return receive_ibb_data(ibb, output, expect, timeout, progress).await;
        }
    };
    tracing::warn!("SOCKS5 bytestream failed ({s5b_error}); waiting for an in-band fallback");
    progress.switch_method(StreamMethod::Ibb.short_name());
    match receive_ibb(ibb, output, expect, FALLBACK_WAIT.min(timeout), progress).await {
        Ok(received) => Ok(received),
        Err(ibb_error) => Err(TransferError::FallbackFailed {
            s5b: s5b_error,
            ibb: Box::new(ibb_error),
        }),
    }
}

/// The S5B data: exactly `size` bytes from the socket, by the blocking pump, with
/// `stall` as the deadline for each read and the sender's presence watched. A local
/// write failure drops the socket, which resets the sender's side at once.
async fn receive_from_socket(
    socket: tokio::net::TcpStream,
    output: &Output,
    expect: &Expect,
    stall: Duration,
    gone: impl std::future::Future<Output = ()>,
    progress: &Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    let broken = |sent, source| TransferError::StreamBroken {
        sent,
        size: expect.len,
        source,
    };
    let (socket, handle) = pump::blocking_socket(socket, stall).map_err(|e| broken(0, e))?;
    let writer = output.blocking_writer().map_err(|e| output.sink_error(e))?;
    let pumped = pump::copy_unless_gone(
        (socket, writer),
        expect.len,
        progress.clone(),
        pump::Check::hash(expect.hasher.clone()),
        (&handle, stall),
        gone,
    )
    .await
    .map_err(|e| pump::transfer_error(e, expect.len, stall, pump::Ends::Receiving(output)))?;
    Ok(Received {
        bytes: pumped.bytes,
        close: None,
        method: StreamMethod::Socks5,
        md5: pumped.hash.map(|digest| crate::hash::hex(&digest)),
    })
}

/// XEP-0047 as responder: open, then the data.
async fn receive_ibb(
    ibb: &mut IbbReceiver,
    output: &Output,
    expect: &Expect,
    timeout: Duration,
    progress: &Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    ibb.accept_open(timeout).await?;
    receive_ibb_data(ibb, output, expect, timeout, progress).await
}

async fn receive_ibb_data(
    ibb: &mut IbbReceiver,
    output: &Output,
    expect: &Expect,
    timeout: Duration,
    progress: &Arc<dyn Progress>,
) -> Result<Received, TransferError> {
    let writer = output
        .async_writer()
        .map_err(|e| TransferError::Ibb(IbbError::Write(e)))?;
    let mut writer = Metered::new(writer, progress.clone(), expect.hasher.clone());
    let (bytes, close) = match ibb.receive(&mut writer, expect.len, timeout).await {
        Ok(received) => received,
        Err(e) => {
            // Keep what did arrive in the .part: it is the user's, to inspect or resume.
            let _ = writer.flush().await;
            return Err(e.into());
        }
    };
    if let Err(e) = writer.flush().await {
        close
            .refuse(&format!("the receiver cannot write the file: {e}"))
            .await;
        return Err(TransferError::Ibb(IbbError::Write(e)));
    }
    Ok(Received {
        bytes,
        close: Some(close),
        method: StreamMethod::Ibb,
        md5: writer.hash_hex(),
    })
}

/// The file is whole only if the byte count and (when offered) the MD5 match.
fn verify(offer: &FileOffer, bytes: u64, md5: Option<&str>) -> Result<(), TransferError> {
    if bytes != offer.size {
        return Err(TransferError::Incomplete {
            received: bytes,
            expected: offer.size,
        });
    }
    match &offer.md5 {
        Some(expected) if Some(expected.as_str()) != md5 => Err(TransferError::Md5Mismatch {
            expected: expected.clone(),
            actual: md5.unwrap_or_default().to_owned(),
        }),
        _ => Ok(()),
    }
}
