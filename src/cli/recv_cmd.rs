//! `xft recv`: goes online, says which full JID to send to, and receives what allowed
//! senders offer (see `transfer::receive`), reporting each file.

use std::sync::Arc;
use std::time::Duration;

use super::args::{GlobalArgs, ProgressMode, RecvArgs};
use super::report::print_report;
use crate::bytestream::s5b::candidates::Pinned;
use crate::bytestream::s5b::offer::{ProxyChoice, S5bOptions};
use crate::disco;
use crate::error::Error;
use crate::transfer::receive::{self, RecvOptions};
use crate::transfer::sink::{is_special_file, Destination};

/// How long a SOCKS5 target may take to try the streamhosts and answer.
const S5B_ANSWER_WAIT: Duration = Duration::from_secs(45);

pub(super) async fn recv(global: &GlobalArgs, args: RecvArgs) -> Result<(), Error> {
    let destination = match (&args.output, &args.dir) {
        (Some(p), _) if p.as_os_str() == "-" => Destination::Stdout,
        (Some(p), _) => Destination::Path(p.clone()),
        (None, Some(d)) => Destination::Dir(d.clone()),
        (None, None) => Destination::Dir(".".into()),
    };
    check_destination(&destination, &args)?;
    let config = super::settings::load_config(global.config.as_deref())?;
    let omemo = !args.no_omemo && config.omemo != Some(false);
    let mut options = RecvOptions {
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
        omemo: None,
    };
    let (session, mut incoming) = super::login(global, disco::client_features()).await?;
    if omemo {
        options.omemo = omemo_device(global, &session).await;
    }
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

/// The account's OMEMO device, published; without one (no PEP on the server, a store
/// that cannot be used), the run goes on without decrypting, and says so.
async fn omemo_device(
    global: &GlobalArgs,
    session: &crate::session::Session,
) -> Option<crate::omemo::account::Account> {
    let device = match super::omemo_cmd::account(global, session.jid().as_jid()) {
        Ok(device) => device,
        Err(e) => {
            tracing::warn!("OMEMO is off for this run: {e}");
            return None;
        }
    };
    match device.publish(session).await {
        Ok(id) => {
            tracing::debug!("OMEMO device {id} published");
            Some(device)
        }
        Err(e) => {
            tracing::warn!("OMEMO is off for this run: {e}");
            None
        }
    }
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
