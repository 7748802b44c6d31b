//! `xft upload FILE...` (the URLs on stdout), and the upload route of `xft send`:
//! `--method upload`, or the fallback when the peer-to-peer route fails in a way an
//! upload gets around (XEP-0363, the link sent in a message, XEP-0066).

use std::time::Duration;

use super::args::{GlobalArgs, UploadArgs};
use super::files::Files;
use super::report::print_report;
use super::vcard_cmd::write_stdout;
use crate::disco;
use crate::error::Error;
use crate::jid::Jid;
use crate::omemo::account::{Account, Recipients};
use crate::session::cache;
use crate::session::Session;
use crate::text::printable;
use crate::transfer::send::upload as transfer_upload;
use crate::transfer::source::Source;
use crate::transfer::{Report, TransferError};
use crate::upload::{self, UploadError};

/// Where an uploaded file's link goes.
#[derive(Clone, Copy)]
pub(super) enum Announce<'a> {
    /// Printed (`xft upload`).
    Print,
    /// In a message to the recipient (XEP-0066).
    Plain(&'a Jid),
    /// In an OMEMO message to the recipient's trusted devices (XEP-0454).
    Omemo {
        to: &'a Jid,
        device: &'a Account,
        recipients: &'a Recipients,
    },
}

pub(super) async fn upload(global: &GlobalArgs, args: UploadArgs) -> Result<(), Error> {
    Files::check(&args.files, args.name.as_ref())?;
    let config = super::settings::load_config(global.config.as_deref())?;
    let encrypt = (args.encrypt || config.encrypt) && !args.no_encrypt;
    let files = Files::prepare(&args.files, args.name.as_deref(), None).await?;
    let (session, incoming) = super::login(global, disco::client_features()).await?;
    let result = upload_all(global, &session, encrypt, files.plain(), Announce::Print).await;
    drop(incoming);
    session.close().await;
    result
}

/// `--method auto` after the peer-to-peer route failed with `why`: upload when the
/// server can, saying so; otherwise the original failure stands.
pub(super) async fn fall_back(
    global: &GlobalArgs,
    session: &Session,
    sources: &[Source],
    to: &Jid,
    why: TransferError,
) -> Result<(), Error> {
    if let Err(e) = find_service(session).await {
        tracing::info!("no upload fallback: {e}");
        return Err(why.into());
    }
    let why = why.to_string();
    let why = printable(&why);
    super::notice(
        global,
        &format!("xft: {why}; uploading instead (HTTP upload, XEP-0363)"),
    );
    upload_all(global, session, false, sources, Announce::Plain(to)).await
}

/// `--method upload`, and `--encrypt` (with an OMEMO announcement).
pub(super) async fn upload_and_announce(
    global: &GlobalArgs,
    session: &Session,
    sources: &[Source],
    announce: Announce<'_>,
) -> Result<(), Error> {
    let encrypt = matches!(announce, Announce::Omemo { .. });
    upload_all(global, session, encrypt, sources, announce).await
}

/// The server's upload service: the one an earlier command found (servers.json, two
/// round trips saved), else discovered now (and remembered). True when remembered.
async fn find_service(session: &Session) -> Result<(upload::Service, bool), UploadError> {
    let domain = session.jid().as_jid().domain().to_owned();
    let remembered = cache::upload_service(&domain)
        .and_then(|(jid, limit)| Some((Jid::parse(&jid).ok()?, limit)));
    if let Some((jid, max_file_size)) = remembered {
        tracing::debug!("upload service {jid}, as an earlier command found it");
        return Ok((upload::Service { jid, max_file_size }, true));
    }
    let service = upload::discover(session).await?;
    let entry = (service.jid.to_string(), service.max_file_size);
    cache::remember_upload(&domain, Some(entry));
    Ok((service, false))
}

/// Whether `e`, from a remembered service's first slot, may mean the service moved or
/// changed its limit: then it is looked for again. Any refusal counts (a JID that is
/// gone draws `remote-server-not-found`, `service-unavailable`, or from Prosody
/// `not-allowed`); a service that still refuses after that costs one discovery more.
fn service_may_have_changed(e: &Error) -> bool {
    matches!(
        e,
        Error::Transfer(TransferError::Upload(
            UploadError::TooLarge { .. } | UploadError::Refused(_)
        ))
    )
}

/// [`upload_each`] with the service [`find_service`] gives; when a remembered service
/// refuses the first file in a way a moved or changed service would, it is forgotten,
/// looked for again, and the files go to the one found.
async fn upload_all(
    global: &GlobalArgs,
    session: &Session,
    encrypt: bool,
    sources: &[Source],
    announce: Announce<'_>,
) -> Result<(), Error> {
    let (service, remembered) = find_service(session)
        .await
        .map_err(|e| Error::Transfer(e.into()))?;
    let (first, rest) = sources.split_at(sources.len().min(1));
    let tried = upload_each(global, session, (&service, encrypt), first, announce).await;
    let service = match tried {
        Err(e) if remembered && service_may_have_changed(&e) => {
            tracing::debug!("the remembered upload service refused ({e}); looking again");
            let domain = session.jid().as_jid().domain().to_owned();
            cache::remember_upload(&domain, None);
            let (fresh, _) = find_service(session)
                .await
                .map_err(|e| Error::Transfer(e.into()))?;
            upload_each(global, session, (&fresh, encrypt), first, announce).await?;
            fresh
        }
        Err(e) => return Err(e),
        Ok(()) => service,
    };
    upload_each(global, session, (&service, encrypt), rest, announce).await
}

/// Uploads each source (encrypted with `encrypt`); sends each link as `announce` says
/// and prints a send report, or prints the URL (`xft upload`).
async fn upload_each(
    global: &GlobalArgs,
    session: &Session,
    (service, encrypt): (&upload::Service, bool),
    sources: &[Source],
    announce: Announce<'_>,
) -> Result<(), Error> {
    let limit = service.max_file_size;
    tracing::debug!("upload service {} (limit {limit:?} bytes)", service.jid);
    let http = super::http_client(global)?;
    let timeout = Duration::from_secs(global.timeout.max(1));
    let progresses = super::progress::progresses(global);
    for source in sources {
        let progress = progresses.file();
        let route = (service, encrypt);
        let uploaded =
            transfer_upload::upload_file(session, &http, route, source, timeout, progress);
        let transfer_upload::Uploaded { mut report, share } = uploaded.await?;
        let url = report.url.clone().unwrap_or_default();
        let to = match &announce {
            Announce::Print => {
                print_url(global, &report)?;
                continue;
            }
            Announce::Plain(to) => {
                transfer_upload::announce(session, to, &url, share.as_ref()).await?;
                to
            }
            Announce::Omemo {
                to,
                device,
                recipients,
            } => {
                let jid = to.bare().to_string();
                let encrypted = device.encrypt(recipients, &jid, url.as_bytes()).await?;
                session
                    .send(crate::omemo::element::message(&jid, encrypted))
                    .await?;
                report.url = None;
                to
            }
        };
        report.to = Some(to.bare().to_string());
        print_report(global, &report, "Sent")?;
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
