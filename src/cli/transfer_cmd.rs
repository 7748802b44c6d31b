//! `xft send` and `xft recv`.

use std::sync::Arc;
use std::time::Duration;

use super::args::{
    GlobalArgs, MethodChoice, ProgressMode, ProtocolChoice, RecvArgs, SendArgs, UploadArgs,
};
use super::vcard_cmd::write_stdout;
use crate::bytestream::s5b::candidates::Pinned;
use crate::disco;
use crate::error::Error;
use crate::jid::Jid;
use crate::ns::{JINGLE_FT_NS, SI_FILE_TRANSFER_NS};
use crate::session::Session;
use crate::si::StreamMethod;
use crate::text::printable;
use crate::transfer::hash_cache::HashCache;
use crate::transfer::progress::{Progress, Silent};
use crate::transfer::receive::{self, RecvOptions};
use crate::transfer::send::{self, ProxyChoice, S5bOptions, SendOptions};
use crate::transfer::sink::{is_special_file, Destination};
use crate::transfer::upload as transfer_upload;
use crate::transfer::{recipient, source, Report, TransferError};
use crate::upload;

/// How long a SOCKS5 target may take to try the streamhosts and answer.
const S5B_ANSWER_WAIT: Duration = Duration::from_secs(45);

pub(super) async fn send(global: &GlobalArgs, args: SendArgs) -> Result<(), Error> {
    let (files, recipients) = split_recipients(&args)?;
    check_sources(&files, args.name.as_ref())?;
    // Open every file before logging in: a typo should not cost a login. Stdin is
    // spooled (and hashed on the way); regular files are hashed while we log in and
    // look for the recipient (SI puts the MD5 in the offer, XEP-0096 §3). An upload
    // needs no hash.
    let hash = !args.no_hash
        && args.method != MethodChoice::Upload
        && args.protocol != ProtocolChoice::Jingle;
    let sources = prepare_sources(&files, args.name.as_deref(), hash).await?;
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hashing = hash.then(|| {
        hash_in_background(
            &sources,
            super::progress::hash_progress(global),
            cancel.clone(),
        )
    });
    let mut files = Files {
        sources,
        hashing,
        cancel,
    };
    let (session, mut incoming) = super::login(global, disco::client_features()).await?;
    let mut presences = recipient::Presences::default();
    let mut failures = Vec::new();
    for to in &recipients {
        let sent = send_to(
            global,
            &args,
            &session,
            &mut incoming,
            &mut presences,
            &mut files,
            to,
        )
        .await;
        match sent {
            Ok(()) if recipients.len() > 1 => super::notice(global, &format!("xft: {to}: sent")),
            Ok(()) => {}
            Err(e) if recipients.len() > 1 => {
                eprintln!("xft: {to}: failed: {}", printable(&e.to_string()));
                failures.push(e);
            }
            Err(e) => failures.push(e),
        }
    }
    drop(incoming);
    session.close().await;
    match (failures.len(), recipients.len()) {
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

/// The files of one `xft send`, hashed once for every recipient.
struct Files {
    sources: Vec<source::Source>,
    hashing: Option<tokio::task::JoinHandle<Vec<Hashed>>>,
    /// Stops the background MD5s: a Jingle transfer hashes beside the copy instead,
    /// and on 2 cores a useless pass over the file would slow it down.
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl Files {
    fn stop_hashing(&self) {
        self.cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits for the background MD5s (SI needs them in the offer); hashes again,
    /// here and now, what a cancelled pass left undone (an SI recipient after a Jingle one).
    async fn hashed(&mut self) -> Result<&[source::Source], Error> {
        if let Some(hashing) = self.hashing.take() {
            let cancelled = self.cancel.load(std::sync::atomic::Ordering::Relaxed);
            let mut hashes = hashing.await.map_err(|e| Error::Internal(e.to_string()))?;
            if cancelled {
                for (source, hashed) in self.sources.iter().zip(hashes.iter_mut()) {
                    if matches!(hashed, Some(Err(_))) {
                        let path = source.path.clone();
                        let again = tokio::task::spawn_blocking(move || {
                            let keep_going = std::sync::atomic::AtomicBool::new(false);
                            let cache = HashCache::from_env();
                            source::md5_of(&path, &Silent, &keep_going, &cache)
                        })
                        .await
                        .map_err(|e| Error::Internal(e.to_string()))?;
                        *hashed = Some(again);
                    }
                }
            }
            for (source, hashed) in self.sources.iter_mut().zip(hashes) {
                if let Some(hashed) = hashed {
                    let (md5, crc32) = hashed.map_err(|e| {
                        Error::Transfer(
                            source::SourceError::Io {
                                path: source.path.clone(),
                                source: e,
                            }
                            .into(),
                        )
                    })?;
                    source.md5 = Some(md5);
                    source.crc32 = Some(crc32);
                }
            }
        }
        Ok(&self.sources)
    }
}

/// Every file to one recipient.
async fn send_to(
    global: &GlobalArgs,
    args: &SendArgs,
    session: &Session,
    incoming: &mut crate::session::Incoming,
    presences: &mut recipient::Presences,
    files: &mut Files,
    to_jid: &Jid,
) -> Result<(), Error> {
    if args.method == MethodChoice::Upload {
        return upload_and_announce(global, session, &files.sources, to_jid).await;
    }
    let wait = Duration::from_secs(args.presence_wait);
    let wanted = args.protocol;
    let takes_files = move |info: &disco::Info| match wanted {
        ProtocolChoice::Si => info.has_feature(SI_FILE_TRANSFER_NS),
        ProtocolChoice::Jingle => info.has_feature(JINGLE_FT_NS),
        ProtocolChoice::Auto => {
            info.has_feature(SI_FILE_TRANSFER_NS) || info.has_feature(JINGLE_FT_NS)
        }
    };
    // The peer's features and name come with it (not needed for a full JID and SI on
    // request).
    let full_si = args.protocol == ProtocolChoice::Si && to_jid.to_full().is_some();
    let takes_files = (!full_si).then_some(takes_files);
    let resolved =
        recipient::resolve(session, incoming, presences, to_jid, wait, takes_files).await;
    let (to, info) = match resolved {
        Ok(found) => found,
        Err(e) if args.method == MethodChoice::Auto && upload_may_reach(&e) => {
            return fall_back_to_upload(global, session, &files.sources, to_jid, e).await;
        }
        Err(e) => return Err(e.into()),
    };
    let (jingle, why) = match (args.protocol, &info) {
        (ProtocolChoice::Si, _) => (false, "--protocol si"),
        (ProtocolChoice::Jingle, _) => (true, "--protocol jingle"),
        // Jingle first: it is what today's clients speak, and it hashes beside the
        // copy instead of reading the file once before sending (SI's MD5 is in the offer).
        (ProtocolChoice::Auto, Some(info)) if info.has_feature(JINGLE_FT_NS) => {
            (true, "the recipient speaks Jingle file transfer")
        }
        (ProtocolChoice::Auto, Some(info)) if info.has_feature(SI_FILE_TRANSFER_NS) => (
            false,
            "the recipient speaks SI file transfer but not Jingle",
        ),
        (ProtocolChoice::Auto, Some(_)) => (false, "the recipient advertises neither; trying SI"),
        (ProtocolChoice::Auto, None) => (false, "the recipient's features are unknown; trying SI"),
    };
    if jingle {
        files.stop_hashing();
    }
    tracing::debug!(
        "sending to {to} with {}: {why}",
        if jingle {
            "Jingle (XEP-0234)"
        } else {
            "SI (XEP-0096)"
        }
    );
    // Jingle sends its checksum after the data: no hash pass first.
    let sources: &[source::Source] = if jingle {
        &files.sources
    } else {
        files.hashed().await?
    };
    let mut options = send_options(global, args);
    options.hex_checksum = info.as_ref().is_some_and(is_libervia);
    if options.hex_checksum && jingle {
        tracing::debug!("{to} is Libervia: the checksum goes as base64 of the hex digest");
    }
    let progresses = super::progress::progresses(global);
    for (i, source) in sources.iter().enumerate() {
        let sent = if jingle {
            crate::transfer::jingle::send_file(session, &to, source, &options, progresses.file())
                .await
        } else {
            send::send_file(session, &to, source, &options, progresses.file()).await
        };
        match sent {
            Ok(report) => print_report(global, &report, "Sent")?,
            Err(e) if args.method == MethodChoice::Auto && upload_may_reach(&e) => {
                return fall_back_to_upload(global, session, &sources[i..], to_jid, e).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `--name` and stdin each apply to one FILE only.
fn check_sources(files: &[String], name: Option<&String>) -> Result<(), Error> {
    if name.is_some() && files.len() > 1 {
        return Err(Error::Usage("--name applies to a single FILE".into()));
    }
    if files.iter().filter(|f| *f == "-").count() > 1 {
        return Err(Error::Usage("stdin ('-') can be sent only once".into()));
    }
    Ok(())
}

async fn prepare_sources(
    files: &[String],
    name: Option<&str>,
    hash: bool,
) -> Result<Vec<source::Source>, Error> {
    let mut sources = Vec::new();
    for file in files {
        let (file, name) = (file.clone(), name.map(str::to_owned));
        let spooled_hash = hash && file == "-";
        let prepared = tokio::task::spawn_blocking(move || {
            source::prepare(&file, name.as_deref(), spooled_hash)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        sources.push(prepared.map_err(|e| Error::Transfer(e.into()))?);
    }
    Ok(sources)
}

/// Failures of the peer-to-peer route that an upload can get around: nobody online
/// to take the file, nobody visible, nobody able or answering. Not a refusal.
fn upload_may_reach(e: &TransferError) -> bool {
    matches!(
        e,
        TransferError::Offline { .. }
            | TransferError::NotAContact { .. }
            | TransferError::NoFileTransfer { .. }
            | TransferError::NoValidStreams { .. }
            | TransferError::RecipientUnavailable { .. }
            | TransferError::OfferTimeout(_)
    )
}

/// `--method auto` after the peer-to-peer route failed with `why`: upload when the
/// server can, saying so; otherwise the original failure stands.
async fn fall_back_to_upload(
    global: &GlobalArgs,
    session: &Session,
    sources: &[source::Source],
    to: &Jid,
    why: TransferError,
) -> Result<(), Error> {
    let service = match upload::discover(session).await {
        Ok(service) => service,
        Err(e) => {
            tracing::info!("no upload fallback: {e}");
            return Err(why.into());
        }
    };
    super::notice(
        global,
        &format!(
            "xft: {}; uploading instead (HTTP upload, XEP-0363)",
            printable(&why.to_string())
        ),
    );
    upload_each(global, session, &service, sources, Some(to)).await
}

/// `--method upload`.
async fn upload_and_announce(
    global: &GlobalArgs,
    session: &Session,
    sources: &[source::Source],
    to: &Jid,
) -> Result<(), Error> {
    let service = upload::discover(session)
        .await
        .map_err(|e| Error::Transfer(e.into()))?;
    upload_each(global, session, &service, sources, Some(to)).await
}

/// Uploads each source; with `to`, sends each link there and prints a send report,
/// without, prints the URL (`xft upload`).
async fn upload_each(
    global: &GlobalArgs,
    session: &Session,
    service: &upload::Service,
    sources: &[source::Source],
    to: Option<&Jid>,
) -> Result<(), Error> {
    tracing::debug!(
        "upload service {} (limit {:?} bytes)",
        service.jid,
        service.max_file_size
    );
    let http = super::http_client(global)?;
    let timeout = Duration::from_secs(global.timeout.max(1));
    let progresses = super::progress::progresses(global);
    for source in sources {
        let mut report = transfer_upload::upload_file(
            session,
            &http,
            service,
            source,
            timeout,
            progresses.file(),
        )
        .await?;
        let url = report.url.clone().unwrap_or_default();
        match to {
            Some(to) => {
                transfer_upload::announce(session, to, &url).await?;
                report.to = Some(to.bare().to_string());
                print_report(global, &report, "Sent")?;
            }
            None => print_url(global, &report)?,
        }
    }
    Ok(())
}

/// `xft upload`: the URL on stdout, one per line, or one JSON object per file.
fn print_url(global: &GlobalArgs, report: &Report) -> Result<(), Error> {
    let url = report.url.as_deref().unwrap_or_default();
    let line = if global.json {
        serde_json::json!({
            "name": report.name,
            "size": report.size,
            "url": url,
            "seconds": report.seconds,
            "bytes_per_sec": report.bytes_per_sec,
        })
        .to_string()
    } else {
        url.to_owned()
    };
    write_stdout(&mut std::io::stdout().lock(), &format!("{line}\n"))
}

pub(super) async fn upload(global: &GlobalArgs, args: UploadArgs) -> Result<(), Error> {
    check_sources(&args.files, args.name.as_ref())?;
    let sources = prepare_sources(&args.files, args.name.as_deref(), false).await?;
    let (session, incoming) = super::login(global, disco::client_features()).await?;
    let result = async {
        let service = upload::discover(&session)
            .await
            .map_err(|e| Error::Transfer(e.into()))?;
        upload_each(global, &session, &service, &sources, None).await
    }
    .await;
    drop(incoming);
    session.close().await;
    result
}

/// MD5s (and CRC-32s) of the regular files among `sources`, on a blocking thread, one
/// file after the other (a spooled stdin already has them: `None` stands for it).
type Hashed = Option<std::io::Result<(String, u32)>>;

fn hash_in_background(
    sources: &[source::Source],
    progress: Arc<dyn Progress>,
    cancel: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Hashed>> {
    let paths: Vec<Option<std::path::PathBuf>> = sources
        .iter()
        .map(|s| s.md5.is_none().then(|| s.path.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let cache = HashCache::from_env();
        paths
            .iter()
            .map(|path| {
                path.as_ref()
                    .map(|p| source::md5_of(p, &*progress, &cancel, &cache))
            })
            .collect()
    })
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
            // PROTOCOL-NOTES §2.3: a Pidgin target may take 45 s over three hosts.
            wait: timeout.min(S5B_ANSWER_WAIT),
            found: Arc::default(),
        },
        verify: !args.no_hash,
        hex_checksum: false,
    }
}

/// libervia (formerly Salut à Toi) names itself in its disco identity.
fn is_libervia(info: &disco::Info) -> bool {
    info.names.iter().any(|n| {
        let n = n.to_lowercase();
        n.starts_with("libervia") || n.starts_with("salut à toi")
    })
}

pub(super) async fn recv(global: &GlobalArgs, args: RecvArgs) -> Result<(), Error> {
    let destination = match (&args.output, &args.dir) {
        (Some(p), _) if p.as_os_str() == "-" => Destination::Stdout,
        (Some(p), _) => Destination::Path(p.clone()),
        (None, Some(d)) => Destination::Dir(d.clone()),
        (None, None) => Destination::Dir(".".into()),
    };
    check_destination(&destination, &args)?;
    let options = RecvOptions {
        destination,
        allowed: args.from.clone(),
        accept_any: args.accept_any,
        count: args.count,
        parallel: usize::from(args.parallel),
        max_size: args.max_size,
        overwrite: args.overwrite,
        approve: args.approve.clone(),
        timeout: Duration::from_secs(global.timeout.max(1)),
        resume: !args.no_resume,
        registry: crate::transfer::resume::Registry::from_env(),
        http: Some(super::http_client(global)?),
        s5b: S5bOptions {
            direct: !args.no_direct,
            addresses: args.s5b_address.iter().map(|a| Pinned::parse(a)).collect(),
            port: args.s5b_port,
            proxy: if args.no_proxy {
                ProxyChoice::None
            } else {
                ProxyChoice::Discover
            },
            wait: Duration::from_secs(global.timeout.max(1)).min(S5B_ANSWER_WAIT),
            found: Arc::default(),
        },
    };
    let (session, mut incoming) = super::login(global, disco::client_features()).await?;
    // Find the proxies for our Jingle candidates now, not when the first offer waits.
    let (s5b, early) = (options.s5b.clone(), session.clone());
    tokio::spawn(async move {
        s5b.proxies(&early).await;
    });
    announce(global, &session.jid().to_string());
    let progresses = super::progress::progresses(global);
    let mut report_error = None;
    let result = receive::run(&session, &mut incoming, &options, progresses, |report| {
        if let Err(e) = print_report(global, report, "Received") {
            report_error.get_or_insert(e);
        }
    })
    .await;
    drop(incoming);
    session.close().await;
    result?;
    report_error.map_or(Ok(()), Err)
}

fn check_destination(destination: &Destination, args: &RecvArgs) -> Result<(), Error> {
    match destination {
        Destination::Dir(dir) if !dir.is_dir() => Err(Error::Config(format!(
            "{} is not a directory",
            dir.display()
        ))),
        Destination::Path(_) | Destination::Stdout if args.count != 1 => Err(Error::Usage(
            "-o receives exactly one file: use --dir with --count".into(),
        )),
        Destination::Path(p) if p.is_dir() => Err(Error::Config(format!(
            "{} is a directory: use --dir {0} to receive into it",
            p.display()
        ))),
        Destination::Path(p) if !args.overwrite && p.exists() && !is_special_file(p) => Err(
            Error::Config(format!("{} exists (use --overwrite)", p.display())),
        ),
        _ => Ok(()),
    }
}

/// Tells the user (or a script) which full JID to send to.
fn announce(global: &GlobalArgs, jid: &str) {
    if global.progress == ProgressMode::Json {
        eprintln!("{}", serde_json::json!({"event": "ready", "jid": jid}));
    } else if !global.quiet {
        eprintln!("Receiving as {jid} (Ctrl-C to stop); send with: xft send FILE {jid}");
    }
}

/// One JSON object per file on stdout with --json; a line on stderr otherwise (stdout
/// may be carrying the file itself).
fn print_report(global: &GlobalArgs, report: &Report, verb: &str) -> Result<(), Error> {
    if global.json {
        let line = serde_json::to_string(report).unwrap_or_default();
        return write_stdout(&mut std::io::stdout().lock(), &format!("{line}\n"));
    }
    if !global.quiet {
        let peer = report
            .to
            .as_deref()
            .map(|t| format!("to {}", printable(t)))
            .or_else(|| {
                report
                    .from
                    .as_deref()
                    .map(|f| format!("from {}", printable(f)))
            })
            .unwrap_or_default();
        let path = report
            .path
            .as_deref()
            .map(|p| format!(" -> {}", printable(p)))
            .unwrap_or_default();
        // One line, one write: stderr is unbuffered, and other output may interleave.
        let line = format!(
            "{verb} {} ({} bytes, {}, {:.1} MB/s) {peer}{path}\n",
            printable(&report.name),
            report.size,
            report.method,
            report.bytes_per_sec / 1e6
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    }
    Ok(())
}
