//! `xft send FILE... JID` and `xft send FILE... --to JID --to JID`: one login, the files
//! read and hashed once, each recipient sent to in its own task (up to `--parallel` at
//! once, so one that never answers delays nobody), a line per recipient when there are
//! several, and the exit code of the first recipient that failed.

mod beside_disco;

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use super::args::{GlobalArgs, MethodChoice, ProtocolChoice, SendArgs};
use super::files::Files;
use super::report::print_report;
use crate::bytestream::s5b::candidates::Pinned;
use crate::bytestream::s5b::offer::{ProxyChoice, S5bOptions};
use crate::disco;
use crate::error::Error;
use crate::jid::{FullJid, Jid};
use crate::session::Session;
use crate::si::StreamMethod;
use crate::text::printable;
use crate::transfer::policy::{self, Features, Protocol, Wanted};
use crate::transfer::progress::Progresses;
use crate::transfer::recipient::{self, Presences};
use crate::transfer::send::{self, SendOptions};

/// How long a SOCKS5 target may take to try the streamhosts and answer: a Pidgin target
/// tries three hosts 15 s each.
const S5B_ANSWER_WAIT: Duration = Duration::from_secs(45);

/// What every recipient's task shares.
struct Shared<'a> {
    global: &'a GlobalArgs,
    args: &'a SendArgs,
    session: Session,
    presences: Presences,
    files: Files,
    options: SendOptions,
    progresses: Arc<dyn Progresses>,
    /// With `--encrypt`: our OMEMO device, published.
    omemo: Option<crate::omemo::account::Account>,
}

pub(super) async fn send(global: &GlobalArgs, args: SendArgs) -> Result<(), Error> {
    let (files, recipients) = split_recipients(&args)?;
    Files::check(&files, args.name.as_ref())?;
    let encrypt = wants_encryption(global, &args)?;
    // SI puts the MD5 in the offer; Jingle and uploads need none before the data.
    let hash = !args.no_hash
        && !encrypt
        && args.method != MethodChoice::Upload
        && args.protocol != ProtocolChoice::Jingle;
    let hash_progress = hash.then(|| super::progress::hash_progress(global));
    let files = Files::prepare(&files, args.name.as_deref(), hash_progress).await?;
    let (session, incoming) = super::login(global, disco::client_features()).await?;
    let omemo = match encrypt {
        true => match publish_device(global, &session).await {
            Ok(device) => Some(device),
            Err(e) => {
                session.close().await;
                return Err(e);
            }
        },
        false => None,
    };
    let options = send_options(global, &args);
    let proxies = match omemo {
        None => look_for_proxies(&session, &options, &args),
        Some(_) => None,
    };
    let shared = Shared {
        global,
        args: &args,
        presences: Presences::watch(&session, incoming),
        session: session.clone(),
        files,
        options,
        progresses: super::progress::progresses(global),
        omemo,
    };
    let several = recipients.len() > 1;
    let outcomes: Vec<Result<(), Error>> = stream::iter(&recipients)
        .map(|to| recipient_task(&shared, to, several))
        .buffered(usize::from(args.parallel))
        .collect()
        .await;
    drop(shared);
    if let Some(task) = proxies {
        task.abort();
    }
    session.close().await;
    first_failure(outcomes)
}

/// Starts finding the server's SOCKS5 proxies (XEP-0065 §4: three round trips to the
/// server, one after the other) while the recipient is looked for, rather than after:
/// the offer's candidates wait for the same discovery, found once per command.
fn look_for_proxies(
    session: &crate::session::Session,
    options: &SendOptions,
    args: &SendArgs,
) -> Option<tokio::task::JoinHandle<()>> {
    let s5b_offered = options.methods.contains(&crate::si::StreamMethod::Socks5);
    let peer_to_peer = args.method != MethodChoice::Upload;
    if !(s5b_offered && peer_to_peer) {
        return None;
    }
    let (session, s5b) = (session.clone(), options.s5b.clone());
    Some(tokio::spawn(async move {
        s5b.proxies(&session).await;
    }))
}

/// One recipient, with its line on stderr when there are several.
async fn recipient_task(shared: &Shared<'_>, to: &Jid, several: bool) -> Result<(), Error> {
    let sent = send_to(shared, to).await;
    match (&sent, several) {
        (Ok(()), true) => super::notice(shared.global, &format!("xft: {to}: sent")),
        (Err(e), true) => eprintln!("xft: {to}: failed: {}", printable(&e.to_string())),
        _ => {}
    }
    sent
}

/// `--encrypt`, or `encrypt = true` without `--no-encrypt`; only by upload.
fn wants_encryption(global: &GlobalArgs, args: &SendArgs) -> Result<bool, Error> {
    let config = super::settings::load_config(global.config.as_deref())?;
    let encrypt = (args.encrypt || config.encrypt) && !args.no_encrypt;
    if encrypt && !matches!(args.method, MethodChoice::Auto | MethodChoice::Upload) {
        return Err(Error::Usage(
            "--encrypt sends by encrypted upload (XEP-0454 and OMEMO): it cannot go with --method s5b or ibb".into(),
        ));
    }
    Ok(encrypt)
}

async fn publish_device(
    global: &GlobalArgs,
    session: &Session,
) -> Result<crate::omemo::account::Account, Error> {
    let device = super::omemo_cmd::account(global, session.jid().as_jid())?;
    device.publish(session).await?;
    Ok(device)
}

/// `--encrypt`: the recipient's devices first (nothing is uploaded unless one is
/// trusted), then each file encrypted, uploaded, and its link in an OMEMO message.
async fn send_encrypted(
    shared: &Shared<'_>,
    device: &crate::omemo::account::Account,
    to: &Jid,
) -> Result<(), Error> {
    let jid = to.bare().to_string();
    let recipients = device.recipients(&shared.session, &jid).await?;
    super::omemo_cmd::tell_left_out(shared.global, &recipients);
    if !recipients.trusted().any(|d| d.jid == jid) {
        let untrusted = recipients
            .devices
            .iter()
            .filter(|d| d.jid == jid)
            .map(|d| format!("{} ({})", d.id, d.level.as_str()))
            .collect();
        return Err(crate::omemo::OmemoError::NoneTrusted { jid, untrusted }.into());
    }
    let announce = super::upload_cmd::Announce::Omemo {
        to,
        device,
        recipients: &recipients,
    };
    super::upload_cmd::upload_and_announce(
        shared.global,
        &shared.session,
        shared.files.plain(),
        announce,
    )
    .await
}

/// The first failure, in the order the recipients were given.
fn first_failure(outcomes: Vec<Result<(), Error>>) -> Result<(), Error> {
    let total = outcomes.len();
    let mut failures: Vec<Error> = outcomes.into_iter().filter_map(Result::err).collect();
    match (failures.len(), total) {
        (0, _) => Ok(()),
        (_, 1) => Err(failures.remove(0)),
        (failed, total) => Err(Error::Several {
            failed,
            total,
            first: Box::new(failures.remove(0)),
        }),
    }
}

/// `FILE... JID`, or `FILE... --to JID [--to JID]...`.
fn split_recipients(args: &SendArgs) -> Result<(Vec<String>, Vec<Jid>), Error> {
    if !args.recipients.is_empty() {
        return Ok((args.files.clone(), args.recipients.clone()));
    }
    let Some((last, files)) = args.files.split_last().filter(|(_, f)| !f.is_empty()) else {
        return Err(Error::Usage(
            "give the files and then the recipient's JID, or --to JID".into(),
        ));
    };
    let to = Jid::parse(last)
        .map_err(|e| Error::Usage(format!("'{}' is not a JID: {e}", printable(last))))?;
    Ok((files.to_vec(), vec![to]))
}

/// Every file to one recipient, the way [`policy`] decides; by upload when that is the
/// method, or when the peer-to-peer route fails in a way an upload gets around.
async fn send_to(shared: &Shared<'_>, to_jid: &Jid) -> Result<(), Error> {
    let (args, session) = (shared.args, &shared.session);
    let sources = shared.files.plain();
    if let Some(device) = &shared.omemo {
        return send_encrypted(shared, device, to_jid).await;
    }
    if args.method == MethodChoice::Upload {
        let announce = super::upload_cmd::Announce::Plain(to_jid);
        return super::upload_cmd::upload_and_announce(shared.global, session, sources, announce)
            .await;
    }
    let wanted = wanted(args.protocol);
    if let Some(full) = to_jid.to_full().filter(|_| wanted != Wanted::Si) {
        return beside_disco::offer_beside_disco(shared, to_jid, &full, wanted).await;
    }
    let wait = Duration::from_secs(args.presence_wait);
    let (to, features) =
        match recipient::resolve(session, &shared.presences, to_jid, (wanted, wait)).await {
            Ok(found) => found,
            Err(e) => return upload_or_fail(shared, sources, to_jid, e).await,
        };
    send_files(shared, to_jid, &to, (wanted, features), sources).await
}

/// When peer-to-peer failed in a way an upload gets around (and the method allows
/// one), the files from `sources` on go by upload; else the error.
async fn upload_or_fail(
    shared: &Shared<'_>,
    sources: &[crate::transfer::source::Source],
    to_jid: &Jid,
    e: crate::transfer::TransferError,
) -> Result<(), Error> {
    if shared.args.method == MethodChoice::Auto && policy::upload_may_reach(&e) {
        return super::upload_cmd::fall_back(shared.global, &shared.session, sources, to_jid, e)
            .await;
    }
    Err(e.into())
}

/// Every file to the resource `to`, by the protocol `policy` picks for its features.
async fn send_files(
    shared: &Shared<'_>,
    to_jid: &Jid,
    to: &FullJid,
    (wanted, features): (Wanted, Option<Features>),
    sources: &[crate::transfer::source::Source],
) -> Result<(), Error> {
    let session = &shared.session;
    let (protocol, why) = policy::protocol(wanted, features);
    let named = match protocol {
        Protocol::Jingle => "Jingle (XEP-0234)",
        Protocol::Si => "SI (XEP-0096)",
    };
    tracing::debug!("sending to {to} with {named}: {why}");
    // Jingle sends its checksum after the data: no hash pass first.
    let sources = match protocol {
        Protocol::Jingle => {
            shared.files.stop_hashing();
            sources
        }
        Protocol::Si => shared.files.hashed().await?,
    };
    let mut options = shared.options.clone();
    options.hex_checksum = features.is_some_and(|f| f.libervia);
    if options.hex_checksum && protocol == Protocol::Jingle {
        tracing::debug!("{to} is Libervia: the checksum goes as base64 of the hex digest");
    }
    for (i, source) in sources.iter().enumerate() {
        let progress = shared.progresses.file();
        let sent = match protocol {
            Protocol::Jingle => {
                send::jingle::send_file(session, to, source, &options, progress).await
            }
            Protocol::Si => send::si::send_file(session, to, source, &options, progress).await,
        };
        match sent {
            Ok(report) => print_report(shared.global, &report, "Sent")?,
            Err(e) => return upload_or_fail(shared, &sources[i..], to_jid, e).await,
        }
    }
    Ok(())
}

pub(super) fn wanted(choice: ProtocolChoice) -> Wanted {
    match choice {
        ProtocolChoice::Auto => Wanted::Auto,
        ProtocolChoice::Jingle => Wanted::Jingle,
        ProtocolChoice::Si => Wanted::Si,
    }
}

fn send_options(global: &GlobalArgs, args: &SendArgs) -> SendOptions {
    let methods = match args.method {
        MethodChoice::Auto => vec![StreamMethod::Socks5, StreamMethod::Ibb],
        MethodChoice::S5b => vec![StreamMethod::Socks5],
        MethodChoice::Ibb => vec![StreamMethod::Ibb],
        // Not reached: an upload offers nothing peer to peer.
        MethodChoice::Upload => Vec::new(),
    };
    let timeout = Duration::from_secs(global.timeout.max(1));
    let proxy = match (&args.proxy, args.no_proxy) {
        (_, true) => ProxyChoice::None,
        (Some(jid), false) => ProxyChoice::Named(jid.clone()),
        (None, false) => ProxyChoice::Discover,
    };
    SendOptions {
        methods,
        desc: args.desc.clone(),
        block_size: usize::from(args.block_size),
        window: usize::from(args.window),
        offer_timeout: timeout,
        timeout,
        s5b: S5bOptions {
            direct: !args.no_direct,
            addresses: args.s5b_address.iter().map(|a| Pinned::parse(a)).collect(),
            port: args.s5b_port,
            proxy,
            wait: timeout.min(S5B_ANSWER_WAIT),
            found: Arc::default(),
        },
        verify: !args.no_hash,
        hex_checksum: false,
        later: None,
    }
}
