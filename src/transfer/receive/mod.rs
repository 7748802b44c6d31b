//! The receiving side: one dispatcher takes every kind of offer (SI, XEP-0095/0096;
//! Jingle, XEP-0234; XEP-0353 proposals; links in messages, XEP-0066, and file shares,
//! XEP-0447, [`shares`]), applies the
//! receiver's policy once ([`policy`]), and runs each accepted offer as a transfer of
//! its own front-end ([`si`], [`jingle`], [`link`]), several side by
//! side (`--parallel`), so that a slow or silent sender never delays the others.
//! Offers beyond that wait in a bounded [`queue`], and are withdrawn at once when their
//! sender ends them. Everything else that reaches `xft recv` is answered (roster pushes,
//! subscription requests, unknown requests) or shown ([`chat`]).

pub(crate) mod chat;
pub(crate) mod destination;
mod encrypted;
pub(crate) mod jingle;
pub(crate) mod link;
pub(crate) mod policy;
pub(crate) mod queue;
mod shares;
pub(crate) mod si;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};

use self::jingle::JingleOffer;
use self::policy::Policy;
use self::queue::{Queue, Queued};
use super::progress::Progresses;
use super::resume::Registry;
use super::sink::Destination;
use super::{Report, TransferError};
use crate::bytestream::s5b::offer::S5bOptions;
use crate::jid::Jid;
use crate::jingle::{Action, Jingle};
use crate::ns::{IBB_NS, JINGLE_NS, SI_NS};
use crate::oob;
use crate::roster::{self, Subscription};
use crate::session::{Incoming, Session};
use crate::stanza::{self, Condition, ErrorType, IqType, StanzaError};
use crate::xml::Element;

/// The receiver's options.
#[derive(Debug, Clone)]
pub(crate) struct RecvOptions {
    pub destination: Destination,
    /// `--from`: only these senders (a bare JID allows all its resources).
    pub allowed: Vec<Jid>,
    /// `--accept-any`: everybody may send.
    pub accept_any: bool,
    /// Files to receive before returning; 0 = until interrupted.
    pub count: u64,
    /// Transfers run side by side at most.
    pub parallel: usize,
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
    pub s5b: S5bOptions,
    /// The account's OMEMO device (published); `None` reads no encrypted message.
    pub omemo: Option<crate::omemo::account::Account>,
}

/// An offer the policy took, of whatever kind, waiting or about to run.
enum Accepted {
    Si(Box<si::SiOffer>),
    Jingle(Box<JingleOffer>),
    Link(Box<LinkOffer>),
}

/// A link a message brought.
struct LinkOffer {
    from: Jid,
    link: oob::Link,
    weight: usize,
    /// The device that sent it, when it came in an OMEMO message.
    omemo: Option<crate::transfer::OmemoSender>,
}

impl Queued for Accepted {
    fn sender(&self) -> &Jid {
        match self {
            Accepted::Si(o) => o.from.as_jid(),
            Accepted::Jingle(o) => o.from().as_jid(),
            Accepted::Link(offer) => &offer.from,
        }
    }

    fn session(&self) -> Option<&str> {
        match self {
            Accepted::Jingle(o) => Some(o.sid()),
            _ => None,
        }
    }

    fn weight(&self) -> usize {
        match self {
            Accepted::Si(o) => o.request.to_xml().len(),
            Accepted::Jingle(o) => o.request().to_xml().len(),
            Accepted::Link(offer) => offer.weight,
        }
    }
}

/// How a transfer ended: its report, nothing (it was declined on the way), or why not.
type Outcome = Result<Option<Report>, TransferError>;
type Running<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// Receives files until `options.count` have arrived. `on_report` is called for each.
pub(crate) async fn run(
    session: &Session,
    incoming: &mut Incoming,
    options: &RecvOptions,
    progresses: Arc<dyn Progresses>,
    mut on_report: impl FnMut(&Report),
) -> Result<(), TransferError> {
    let mut desk = Desk::open(session, options).await?;
    let mut running: FuturesUnordered<Running<'_>> = FuturesUnordered::new();
    // Once the run must end (the files asked for arrived, one failed, the connection
    // went), nothing new starts, but what runs finishes: dropped half-way, a transfer
    // would leave its `.part` unflushed and its sender untold.
    let mut ending: Option<Result<(), TransferError>> = None;
    let mut connected = true;
    loop {
        while ending.is_none() && desk.may_start(running.len()) {
            let Some(next) = desk.waiting.pop() else {
                break;
            };
            running.push(start(session, options, next, progresses.clone()));
        }
        if ending.is_none() && desk.all_received() {
            ending = Some(Ok(()));
        }
        if running.is_empty() && (ending.is_some() || !connected) {
            break;
        }
        tokio::select! {
            Some(outcome) = running.next(), if !running.is_empty() => {
                if let Err(e) = desk.settle(outcome, &mut on_report) {
                    ending.get_or_insert(Err(e));
                }
            }
            next = incoming.next(), if connected => match next {
                Some(stanza) => {
                    if let Err(e) = desk.dispatch(stanza).await {
                        ending.get_or_insert(Err(e));
                    }
                }
                None => connected = false,
            },
        }
    }
    desk.close().await;
    match ending {
        Some(result) => result,
        None => Err(session.lost().into()),
    }
}

/// Starts the transfer of an accepted offer with its front-end, with a progress of its
/// own. A Jingle session claims its route before anything is awaited.
fn start<'a>(
    session: &'a Session,
    options: &'a RecvOptions,
    accepted: Accepted,
    progresses: Arc<dyn Progresses>,
) -> Running<'a> {
    let progress = progresses.file();
    match accepted {
        Accepted::Si(offer) => Box::pin(si::receive(session, *offer, options, progress)),
        Accepted::Jingle(offer) => {
            let begun = jingle::begin(session, *offer, options.timeout);
            Box::pin(jingle::receive(begun, options, progress))
        }
        Accepted::Link(offer) => Box::pin(async move {
            let Some(http) = &options.http else {
                return Ok(None);
            };
            let LinkOffer {
                from, link, omemo, ..
            } = *offer;
            link::receive_link(http, (&from, omemo), &link, options, progress)
                .await
                .map(Some)
        }),
    }
}

/// The dispatcher's state: the policy, what waits, what was received, the chat shown.
struct Desk<'a> {
    session: &'a Session,
    options: &'a RecvOptions,
    policy: Policy,
    waiting: Queue<Accepted>,
    received: u64,
    chat: chat::Chat,
    shares: shares::WaitingShares,
}

impl<'a> Desk<'a> {
    /// Reads the roster (who the contacts are) and goes online.
    async fn open(
        session: &'a Session,
        options: &'a RecvOptions,
    ) -> Result<Desk<'a>, TransferError> {
        let contacts = roster::fetch(session)
            .await
            .map_err(TransferError::Roster)?
            .into_iter()
            .filter(|i| i.subscription != Subscription::None)
            .map(|i| i.jid)
            .collect();
        session
            .send(roster::receiving_presence().child(session.caps()))
            .await?;
        let policy = Policy {
            accept_any: options.accept_any,
            allowed: options.allowed.clone(),
            max_size: options.max_size,
            own: session.jid().clone(),
            contacts,
        };
        Ok(Desk {
            session,
            options,
            policy,
            waiting: Queue::default(),
            received: 0,
            chat: chat::Chat::default(),
            shares: shares::WaitingShares::default(),
        })
    }

    /// Another transfer may start: a slot is free, and (with `--count`) it could still
    /// be needed.
    fn may_start(&self, running: usize) -> bool {
        let count = self.options.count;
        running < self.options.parallel && (count == 0 || self.received + (running as u64) < count)
    }

    fn all_received(&self) -> bool {
        self.options.count > 0 && self.received >= self.options.count
    }

    /// Counts a finished transfer and reports it; with `--count 0` a failure is logged
    /// and receiving goes on, otherwise it ends the run.
    fn settle(
        &mut self,
        outcome: Outcome,
        on_report: &mut impl FnMut(&Report),
    ) -> Result<(), TransferError> {
        match outcome {
            Ok(Some(report)) => {
                self.received += 1;
                on_report(&report);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) if self.options.count == 0 => {
                tracing::error!("{e}");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Where one stanza that no route claimed goes.
    async fn dispatch(&mut self, stanza: Element) -> Result<(), TransferError> {
        if stanza::is_iq_request(&stanza, IqType::Set, "si", SI_NS) {
            return self.si_offer(stanza).await;
        }
        if crate::transfer::jingle::is_offer(&stanza) {
            return self.jingle_offer(stanza).await;
        }
        if crate::transfer::jingle::is_jingle_request(&stanza) {
            return self.jingle_request(&stanza).await;
        }
        if let Some(proposal) = crate::jingle::message::file_proposal(&stanza) {
            return self.proposal(&proposal).await;
        }
        if let Some(encrypted) = stanza
            .get_child("encrypted", crate::omemo::NS)
            .filter(|_| stanza.name() == "message" && stanza.get_attr("type") != Some("error"))
        {
            let encrypted = encrypted.clone();
            return self.encrypted(&stanza, &encrypted).await;
        }
        if let Some(share) = crate::sfs::share_of(&stanza) {
            self.share(&stanza, share);
            return Ok(());
        }
        if let Some(attachment) = crate::sfs::attachment_of(&stanza) {
            if self.attached(&stanza, &attachment) {
                return Ok(());
            }
        }
        if let Some(found) = oob::link_of(&stanza) {
            self.link(&stanza, found);
            return Ok(());
        }
        self.other(&stanza).await
    }

    async fn si_offer(&mut self, request: Element) -> Result<(), TransferError> {
        let Some(offer) = si::read(self.session, request).await? else {
            return Ok(());
        };
        if let Some(text) = self.policy.decline(offer.from.as_jid(), offer.offer.size) {
            return si::decline(self.session, &offer, &text).await;
        }
        if let Err(Accepted::Si(offer)) = self.waiting.push(Accepted::Si(Box::new(offer))) {
            let busy = StanzaError::new(ErrorType::Wait, Condition::ResourceConstraint)
                .with_text("busy with other transfers; offer again later");
            self.session.reply_error(&offer.request, &busy).await?;
        }
        Ok(())
    }

    async fn jingle_offer(&mut self, request: Element) -> Result<(), TransferError> {
        let offer = match JingleOffer::read(request) {
            Ok(offer) => offer,
            Err(request) => return jingle::refuse_unreadable(self.session, &request).await,
        };
        jingle::acknowledge(self.session, &offer).await?;
        let timeout = self.options.timeout;
        if let Some(text) = self.policy.decline(offer.from().as_jid(), offer.size()) {
            jingle::decline(self.session, offer, &text, timeout).await;
            return Ok(());
        }
        if let Err(Accepted::Jingle(offer)) = self.waiting.push(Accepted::Jingle(Box::new(offer))) {
            let busy = "busy with other transfers; offer again later";
            jingle::decline_busy(self.session, *offer, busy, timeout).await;
        }
        Ok(())
    }

    /// A Jingle request outside any running session: the end of a session whose offer
    /// still waits withdraws it (acknowledged); anything else is for a session we do
    /// not know (XEP-0166 §8).
    async fn jingle_request(&mut self, request: &Element) -> Result<(), TransferError> {
        let ended = request
            .get_child("jingle", JINGLE_NS)
            .and_then(Jingle::from_element)
            .filter(|j| j.action == Action::SessionTerminate);
        let from = request.get_attr("from").and_then(|f| Jid::parse(f).ok());
        if let (Some(end), Some(from)) = (ended, from) {
            if self.waiting.withdraw_session(&from, &end.sid).is_some() {
                tracing::info!(
                    "{from} ended session {} before it started; dropped",
                    end.sid
                );
                return Ok(self.session.reply_result(request).await?);
            }
        }
        jingle::refuse_unknown(self.session, request).await;
        Ok(())
    }

    /// XEP-0353: a sender that knows only our bare JID proposes a file transfer; an
    /// allowed one is told to proceed (it then sends session-initiate to us), others are
    /// rejected. Directed presence first, so the proposer sees this resource.
    async fn proposal(
        &mut self,
        proposal: &crate::jingle::message::Proposal,
    ) -> Result<(), TransferError> {
        let Some(from) = Jid::parse(&proposal.from).ok().and_then(|j| j.to_full()) else {
            return Ok(());
        };
        let to = from.to_string();
        if self.policy.allows(from.as_jid()) {
            tracing::debug!("{from} proposes a Jingle file transfer; proceeding");
            self.session.send(stanza::directed_presence(&to)).await?;
            let proceed = crate::jingle::message::proceed(&to, &proposal.id);
            return Ok(self.session.send(proceed).await?);
        }
        tracing::warn!("rejected a file-transfer proposal from {from}: sender not allowed");
        let reject = crate::jingle::message::reject(&to, &proposal.id, "sender not allowed");
        Ok(self.session.send(reject).await?)
    }

    /// A link in a message (XEP-0066 §3): queued for download when the sender is
    /// allowed and the scheme is http(s); otherwise the log says why it was ignored.
    fn link(&mut self, message: &Element, found: oob::Found) {
        let from = message.get_attr("from").and_then(|f| Jid::parse(f).ok());
        let Some(from) = from else { return };
        if !self.policy.allows(&from) {
            tracing::warn!("ignored a link from {from}: sender not allowed");
            return;
        }
        let link = match found {
            oob::Found::Download(link) => link,
            oob::Found::Unsupported(url) => {
                let why = match url
                    .get(..9)
                    .is_some_and(|s| s.eq_ignore_ascii_case("aesgcm://"))
                {
                    true => "its fragment is not an IV and key (XEP-0454)",
                    false => "only http, https and aesgcm links are supported",
                };
                let url = crate::text::printable(&url);
                tracing::warn!("{from} sent a link xft cannot download ({url}): {why}");
                return;
            }
        };
        let weight = message.to_xml().len();
        if self
            .waiting
            .push(Accepted::Link(Box::new(LinkOffer {
                from,
                link,
                weight,
                omemo: None,
            })))
            .is_err()
        {
            tracing::warn!("too many transfers waiting: a link was ignored");
        }
    }

    /// Roster pushes, subscription requests, a sender going offline (its waiting offers
    /// go too), chat, and polite refusals for everything else.
    async fn other(&mut self, stanza: &Element) -> Result<(), TransferError> {
        if roster::is_roster_push(stanza, &self.session.jid().bare()) {
            self.policy.update(stanza);
            return Ok(self.session.reply_result(stanza).await?);
        }
        let from = stanza.get_attr("from").and_then(|f| Jid::parse(f).ok());
        if stanza.name() == "presence" {
            return self.presence(stanza, from).await;
        }
        let from_contact = from.as_ref().is_some_and(|f| self.policy.is_contact(f));
        self.chat.show(stanza, from_contact);
        refuse_unhandled(self.session, stanza).await
    }

    async fn presence(&mut self, stanza: &Element, from: Option<Jid>) -> Result<(), TransferError> {
        let Some(from) = from else { return Ok(()) };
        match stanza.get_attr("type") {
            Some("subscribe") if self.options.approve.iter().any(|a| a.bare() == from.bare()) => {
                tracing::info!("approving the subscription request of {from}");
                roster::approve(self.session, &from).await?;
            }
            Some("unavailable") => {
                for gone in self.waiting.withdraw_sender(&from) {
                    tracing::info!(
                        "{} went offline; its waiting offer is dropped",
                        gone.sender()
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The end of the run: offers still waiting are refused (their senders are told),
    /// and what chat was not shown is counted.
    async fn close(&mut self) {
        for offer in self.waiting.drain() {
            match offer {
                Accepted::Si(o) => {
                    let done = StanzaError::new(ErrorType::Cancel, Condition::ServiceUnavailable)
                        .with_text("the receiver has stopped");
                    let _ = self.session.reply_error(&o.request, &done).await;
                }
                Accepted::Jingle(o) => {
                    let timeout = self.options.timeout;
                    jingle::decline_busy(self.session, *o, "the receiver has stopped", timeout)
                        .await;
                }
                Accepted::Link(_) => {}
            }
        }
        if let Some(summary) = self.chat.summary() {
            tracing::warn!("{summary}");
        }
    }
}

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
