//! `xft omemo fingerprint|devices|trust|distrust`, and the OMEMO device the other
//! commands use (`send --encrypt`, `recv`, `probe`).

use std::time::Duration;

use super::args::{GlobalArgs, OmemoCommand, TrustChoice};
use super::settings::{self, ConfigFile};
use super::vcard_cmd::write_stdout;
use crate::error::Error;
use crate::jid::Jid;
use crate::omemo::account::{Account, Recipients};
use crate::omemo::keys::{parse_fingerprint, PublicKey};
use crate::omemo::store::Store;
use crate::omemo::trust::{Level, Policy};
use crate::session::Session;
use crate::text::printable;

/// The trust policy the flags and the config ask for.
pub(super) fn policy(global: &GlobalArgs, config: &ConfigFile) -> Result<Policy, Error> {
    let from_config = match config.omemo_trust.as_deref() {
        None | Some("blind") => TrustChoice::Blind,
        Some("manual") => TrustChoice::Manual,
        Some(other) => {
            return Err(Error::Config(format!(
                "omemo-trust = \"{}\": expected \"blind\" or \"manual\"",
                printable(other)
            )))
        }
    };
    Ok(match global.omemo_trust.unwrap_or(from_config) {
        TrustChoice::Blind => Policy::BlindUntilVerified,
        TrustChoice::Manual => Policy::Manual,
    })
}

/// The OMEMO device of `account` (a bare JID).
pub(super) fn account(global: &GlobalArgs, account: &Jid) -> Result<Account, Error> {
    let config = settings::load_config(global.config.as_deref())?;
    let store =
        Store::for_account(&account.bare().to_string()).map_err(crate::omemo::OmemoError::from)?;
    let timeout = Duration::from_secs(global.timeout.max(1));
    Ok(Account::new(
        store,
        &account.bare().to_string(),
        policy(global, &config)?,
        timeout,
    ))
}

/// Says on stderr which devices a message was not encrypted for, and why.
pub(super) fn tell_left_out(global: &GlobalArgs, recipients: &Recipients) {
    for device in recipients.devices.iter().filter(|d| !d.level.is_trusted()) {
        super::notice(
            global,
            &format!(
                "xft: not encrypting for {}'s device {} ({}): {}",
                printable(&device.jid),
                device.id,
                device.level.as_str(),
                "`xft omemo devices` shows it, `xft omemo trust` trusts it"
            ),
        );
    }
    for left in &recipients.left_out {
        super::notice(
            global,
            &format!(
                "xft: not encrypting for {}'s device {}: {}",
                printable(&left.jid),
                left.id,
                printable(&left.reason)
            ),
        );
    }
}

pub(super) async fn run(global: &GlobalArgs, command: OmemoCommand) -> Result<(), Error> {
    match command {
        OmemoCommand::Trust {
            contact,
            fingerprint,
        } => decide(global, &contact, &fingerprint, Level::Verified).await,
        OmemoCommand::Distrust {
            contact,
            fingerprint,
        } => decide(global, &contact, &fingerprint, Level::Distrusted).await,
        OmemoCommand::Fingerprint => online(global, None).await,
        OmemoCommand::Devices { target } => online(global, Some(target)).await,
    }
}

/// Records the user's decision about a key; needs no login.
async fn decide(
    global: &GlobalArgs,
    contact: &Jid,
    fingerprint: &str,
    level: Level,
) -> Result<(), Error> {
    let key = parse_fingerprint(fingerprint).ok_or_else(|| {
        Error::Usage(format!(
            "'{}' is not a fingerprint: 64 hex digits, spaces allowed",
            printable(fingerprint)
        ))
    })?;
    let config = settings::load_config(global.config.as_deref())?;
    let own = settings::session_settings(global, &config, Vec::new())?.jid;
    let device = account(global, &own)?;
    let jid = contact.bare().to_string();
    let known = device
        .store()
        .transaction(Duration::from_secs(global.timeout.max(1)), |state| {
            let entry = state.trust.entry(jid.clone()).or_default();
            let known = entry.keys.contains_key(&key);
            entry.decide(key, level);
            known
        })
        .await
        .map_err(crate::omemo::OmemoError::from)?;
    if !known {
        super::notice(
            global,
            &format!(
                "xft: {} has not used this key yet; it will be {} when it does",
                printable(&jid),
                level.as_str()
            ),
        );
    }
    super::notice(
        global,
        &format!(
            "{}: {} is {}",
            printable(&jid),
            key.fingerprint(),
            level.as_str()
        ),
    );
    Ok(())
}

/// `fingerprint` (target `None`) and `devices`: log in, publish our device, print.
async fn online(global: &GlobalArgs, target: Option<Option<Jid>>) -> Result<(), Error> {
    let (session, incoming) = super::login(global, crate::disco::client_features()).await?;
    let result = async {
        let device = account(global, session.jid().as_jid())?;
        let id = device.publish(&session).await?;
        match target {
            None => {
                let me = device.identity().await?;
                print_fingerprint(global, id, &me.public())
            }
            Some(target) => {
                let jid = target.map_or_else(|| device.own().to_owned(), |t| t.bare().to_string());
                list_devices(global, &session, &device, &jid).await
            }
        }
    }
    .await;
    drop(incoming);
    session.close().await;
    result
}

fn print_fingerprint(global: &GlobalArgs, id: u32, key: &PublicKey) -> Result<(), Error> {
    let line = match global.json {
        true => serde_json::json!({"device": id, "fingerprint": key.fingerprint()}).to_string(),
        false => format!("{}  (device {id})", key.fingerprint()),
    };
    write_stdout(&mut std::io::stdout().lock(), &format!("{line}\n"))
}

async fn list_devices(
    global: &GlobalArgs,
    session: &Session,
    device: &Account,
    jid: &str,
) -> Result<(), Error> {
    let recipients = device.recipients(session, jid).await?;
    let mut out = String::new();
    for d in recipients.devices.iter().filter(|d| d.jid == jid) {
        let line = match global.json {
            true => serde_json::json!({
                "jid": d.jid, "device": d.id, "fingerprint": d.key.fingerprint(), "trust": d.level.word(),
            })
            .to_string(),
            false => format!("{}  device {}  {}", d.key.fingerprint(), d.id, d.level.as_str()),
        };
        out.push_str(&line);
        out.push('\n');
    }
    for left in recipients.left_out.iter().filter(|l| l.jid == jid) {
        super::notice(
            global,
            &format!("xft: device {}: {}", left.id, printable(&left.reason)),
        );
    }
    write_stdout(&mut std::io::stdout().lock(), &out)
}
