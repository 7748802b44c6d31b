//! `xft contact`: the subscriptions that let a sender see a recipient's resources.

use super::args::{ContactCommand, GlobalArgs};
use super::vcard_cmd::write_stdout;
use crate::error::Error;
use crate::roster;
use crate::transfer::TransferError;

pub(super) async fn run(global: &GlobalArgs, cmd: ContactCommand) -> Result<(), Error> {
    let (session, incoming) = super::login(global, Vec::new()).await?;
    drop(incoming);
    let own = session.jid().bare();
    let result = async {
        match &cmd {
            ContactCommand::Add { contact } => {
                roster::request_and_preapprove(&session, contact).await?;
                super::notice(
                    global,
                    &format!("Asked {contact} for a subscription; on their side run: xft contact approve {own}"),
                );
            }
            ContactCommand::Approve { contact } => {
                roster::approve(&session, contact).await?;
                super::notice(global, &format!("Approved {contact} (and asked for their presence in return)."));
            }
            ContactCommand::Remove { contact } => {
                roster::remove(&session, contact)
                    .await
                    .map_err(|e| Error::Transfer(TransferError::Roster(e)))?;
                super::notice(global, &format!("Removed {contact}."));
            }
            ContactCommand::List => {
                let items = roster::fetch(&session)
                    .await
                    .map_err(|e| Error::Transfer(TransferError::Roster(e)))?;
                print_roster(global, &items)?;
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    session.close().await;
    result
}

fn print_roster(global: &GlobalArgs, items: &[roster::Item]) -> Result<(), Error> {
    let text = if global.json {
        let list: Vec<serde_json::Value> = items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "jid": i.jid.to_string(),
                    "name": i.name,
                    "subscription": i.subscription.as_str(),
                    "pending": i.pending_out,
                })
            })
            .collect();
        format!("{}\n", serde_json::Value::Array(list))
    } else {
        items
            .iter()
            .map(|i| {
                let pending = if i.pending_out {
                    " (request pending)"
                } else {
                    ""
                };
                format!("{}\t{}{pending}\n", i.jid, i.subscription.as_str())
            })
            .collect()
    };
    write_stdout(&mut std::io::stdout().lock(), &text)
}
