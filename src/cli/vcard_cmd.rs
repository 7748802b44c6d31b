//! `xft vcard get` and `xft vcard set` (XEP-0054).

use crate::ns::VCARD_NS;
use std::io::{Read, Write};

use super::args::{GlobalArgs, VcardCommand, VcardSet};
use crate::error::Error;
use crate::jid::Jid;
use crate::session::Session;
use crate::text::{printable, printable_lines};
use crate::vcard::{self, Changes, VCardView};
use crate::xml::Element;

/// Photos above this are refused before sending: servers cap stanzas near 256 KiB
/// (Prosody's default), and base64 adds a third.
const MAX_PHOTO: usize = 160 * 1024;

pub(super) async fn run(global: &GlobalArgs, cmd: VcardCommand) -> Result<(), Error> {
    match cmd {
        VcardCommand::Get { target, xml } => {
            let (session, incoming) = super::login(global, Vec::new()).await?;
            drop(incoming);
            let result = vcard::fetch(&session, target.as_ref()).await;
            session.close().await;
            let element = result?;
            let shown = target
                .map(|j| j.bare())
                .unwrap_or_else(|| session.jid().bare());
            print_vcard(global, &shown, &element, xml)
        }
        VcardCommand::Set(set) => {
            // Read local input before connecting: a typo should not cost a login.
            let replacement = read_replacement(&set)?;
            let changes = changes_from_args(&set)?;
            if replacement.is_none() && changes.is_empty() {
                return Err(Error::Config("nothing to set: give --fn, --nickname, --email, --url, --note, --photo or --xml".into()));
            }
            let (session, incoming) = super::login(global, Vec::new()).await?;
            drop(incoming);
            let result = set_vcard(&session, replacement, &changes).await;
            session.close().await;
            result?;
            super::notice(global, "vCard updated (vCards are public).");
            if global.json {
                println!(
                    "{}",
                    serde_json::json!({ "updated": true, "jid": session.jid().bare().to_string() })
                );
            }
            Ok(())
        }
    }
}

async fn set_vcard(
    session: &Session,
    replacement: Option<Element>,
    changes: &Changes,
) -> Result<(), Error> {
    let vcard = match replacement {
        Some(v) => v,
        None => {
            let mut current = match vcard::fetch(session, None).await {
                Ok(v) => v,
                Err(vcard::VcardError::NotFound { .. }) => Element::new("vCard", VCARD_NS),
                Err(e) => return Err(e.into()),
            };
            vcard::apply(&mut current, changes);
            current
        }
    };
    vcard::publish(session, vcard).await?;
    Ok(())
}

fn read_replacement(set: &VcardSet) -> Result<Option<Element>, Error> {
    let Some(path) = &set.xml else {
        return Ok(None);
    };
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::local_io("reading stdin", e))?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::local_io(format!("reading {}", path.display()), e))?
    };
    Ok(Some(vcard::parse_vcard_xml(&text)?))
}

fn changes_from_args(set: &VcardSet) -> Result<Changes, Error> {
    let photo = match &set.photo {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Error::local_io(format!("reading {}", path.display()), e))?;
            if bytes.len() > MAX_PHOTO {
                return Err(Error::Config(format!(
                    "{} is {} bytes; servers refuse vCards this large (keep photos under {} KiB)",
                    path.display(),
                    bytes.len(),
                    MAX_PHOTO / 1024
                )));
            }
            let mime = vcard::sniff_image_type(&bytes).ok_or_else(|| {
                Error::Config(format!(
                    "{} is not a PNG, JPEG, GIF or WebP image",
                    path.display()
                ))
            })?;
            Some((mime.to_owned(), bytes))
        }
        None => None,
    };
    Ok(Changes {
        full_name: set.full_name.clone(),
        nickname: set.nickname.clone(),
        emails: (!set.email.is_empty()).then(|| set.email.clone()),
        url: set.url.clone(),
        note: set.note.clone(),
        photo,
    })
}

fn print_vcard(global: &GlobalArgs, jid: &Jid, element: &Element, xml: bool) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let text = if xml {
        format!("{}\n", element.to_xml())
    } else if global.json {
        let mut value = serde_json::to_value(VCardView::from_element(element)).unwrap_or_default();
        if let Some(obj) = value.as_object_mut() {
            obj.insert("jid".into(), jid.to_string().into());
        }
        format!("{value}\n")
    } else {
        let lines = VCardView::from_element(element).to_lines();
        let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        let mut s = format!("vCard of {}\n", printable(&jid.to_string()));
        for (label, value) in lines {
            s.push_str(&format!(
                "  {label:<width$}  {}\n",
                printable_lines(&value).replace('\n', "\n    ")
            ));
        }
        s
    };
    write_stdout(&mut out, &text)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message.
pub(crate) fn write_stdout(out: &mut impl Write, text: &str) -> Result<(), Error> {
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| Error::local_io("writing to stdout", e)),
    }
}
