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
use crate::session::Session;
use crate::text::printable;
use crate::transfer::send::upload as transfer_upload;
use crate::transfer::source::Source;
use crate::transfer::{Report, TransferError};
use crate::upload;

/// Where an uploaded file's link goes.
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
    let result = async {
        let service = upload::discover(&session)
            .await
            .map_err(|e| Error::Transfer(e.into()))?;
        let route = (&service, encrypt);
        upload_each(global, &session, route, files.plain(), Announce::Print).await
    }
    .await;
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
    let service = match upload::discover(session).await {
        Ok(service) => service,
        Err(e) => {
            tracing::info!("no upload fallback: {e}");
            return Err(why.into());
        }
    };
    let why = why.to_string();
    let why = printable(&why);
    super::notice(
        global,
        &format!("xft: {why}; uploading instead (HTTP upload, XEP-0363)"),
    );
    upload_each(
        global,
        session,
        (&service, false),
        sources,
        Announce::Plain(to),
    )
    .await
}

/// `--method upload`, and `--encrypt` (with an OMEMO announcement).
pub(super) async fn upload_and_announce(
    global: &GlobalArgs,
    session: &Session,
    sources: &[Source],
    announce: Announce<'_>,
) -> Result<(), Error> {
    let service = upload::discover(session)
        .await
        .map_err(|e| Error::Transfer(e.into()))?;
    let encrypt = matches!(announce, Announce::Omemo { .. });
    upload_each(global, session, (&service, encrypt), sources, announce).await
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
