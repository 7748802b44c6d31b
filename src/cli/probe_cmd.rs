//! `xft probe [JID]`: a report on a terminal, one JSON object with `--json`.

use std::fmt::Write as _;
use std::time::Duration;

use super::args::{GlobalArgs, ProbeArgs};
use super::vcard_cmd::write_stdout;
use crate::disco;
use crate::error::Error;
use crate::probe::{self, Probe, ProbeOptions};
use crate::text::printable;

pub(super) async fn run(global: &GlobalArgs, args: ProbeArgs) -> Result<(), Error> {
    let (session, incoming) = super::login(global, disco::client_features()).await?;
    let presences = crate::transfer::recipient::Presences::watch(&session, incoming);
    let options = ProbeOptions {
        addresses: args.s5b_address.clone(),
        presence_wait: Duration::from_secs(args.presence_wait),
    };
    let report = probe::run(&session, &presences, args.peer.as_ref(), &options).await;
    drop(presences);
    session.close().await;
    let text = if global.json {
        format!("{}\n", serde_json::to_string(&report).unwrap_or_default())
    } else {
        render(&report)
    };
    write_stdout(&mut std::io::stdout().lock(), &text)?;
    match (&report.peer, report.verdict.method) {
        (Some(_), None) => Err(Error::NothingWouldWork),
        _ => Ok(()),
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The report as aligned `key  value` lines, grouped by server, peer and verdict.
fn render(p: &Probe) -> String {
    let mut out = String::new();
    let s = &p.server;
    let l = &s.login;
    let _ = writeln!(out, "Server {}", printable(&s.domain));
    let tls = if l.direct_tls {
        "direct TLS"
    } else {
        "STARTTLS"
    };
    line(
        &mut out,
        "connected to",
        &format!(
            "{} ({tls}, {} {})",
            l.endpoint, l.tls_version, l.cipher_suite
        ),
    );
    line(&mut out, "SASL offered", &l.sasl_offered.join(" "));
    line(&mut out, "SASL used", &l.sasl_used);
    if s.proxies.is_empty() {
        line(&mut out, "SOCKS5 proxy", "none");
    }
    for proxy in &s.proxies {
        let reach = if proxy.reachable {
            "reachable"
        } else {
            "NOT reachable from here"
        };
        line(
            &mut out,
            "SOCKS5 proxy",
            &format!("{} at {}:{} ({reach})", proxy.jid, proxy.host, proxy.port),
        );
    }
    let upload = match &s.upload {
        Some(u) => format!(
            "{}{}",
            u.jid,
            u.max_file_size
                .map(|m| format!(", max {m} bytes"))
                .unwrap_or_default()
        ),
        None => "none".into(),
    };
    line(&mut out, "HTTP upload", &upload);
    line(&mut out, "vCard", yes(s.vcard));
    line(
        &mut out,
        "limits",
        l.stream_limits
            .as_deref()
            .unwrap_or("not advertised (XEP-0478)"),
    );
    if let Some(peer) = &p.peer {
        let _ = writeln!(out, "\nPeer {}", printable(&peer.jid));
        line(
            &mut out,
            "subscription",
            peer.subscription.unwrap_or("not a contact"),
        );
        line(&mut out, "sees presence", yes(peer.sees_presence));
        if peer.resources.is_empty() {
            line(&mut out, "online", "none visible");
        }
        for r in &peer.resources {
            let _ = writeln!(out, "  {} (priority {})", printable(&r.jid), r.priority);
            line(
                &mut out,
                "  client",
                r.client
                    .as_deref()
                    .unwrap_or("unknown (no XEP-0092 answer)"),
            );
            line(
                &mut out,
                "  SI file transfer",
                &format!(
                    "{} (S5B {}, IBB {})",
                    yes(r.si_file_transfer),
                    yes(r.s5b),
                    yes(r.ibb)
                ),
            );
            line(
                &mut out,
                "  Jingle FT",
                &format!(
                    "{} (S5B {}, IBB {})",
                    yes(r.jingle_file_transfer),
                    yes(r.jingle_s5b),
                    yes(r.jingle_ibb)
                ),
            );
        }
    }
    let v = &p.verdict;
    let _ = writeln!(out, "\nVerdict");
    let method = match (v.method, &p.peer) {
        (Some("si"), _) => format!(
            "SI file transfer to {} over {}",
            v.to.as_deref().unwrap_or("?"),
            v.streams.join(", then ")
        ),
        (Some("jingle"), _) => format!(
            "Jingle file transfer to {} over {}",
            v.to.as_deref().unwrap_or("?"),
            v.streams.join(", then ")
        ),
        (Some("upload"), _) => "HTTP upload, the link sent in a message".into(),
        (None, None) => format!("with a peer that speaks SI: {}", v.streams.join(", then ")),
        _ => "nothing would work".into(),
    };
    line(&mut out, "xft send would use", &method);
    line(
        &mut out,
        "direct addresses",
        &if v.direct_addresses.is_empty() {
            "none".to_owned()
        } else {
            v.direct_addresses.join(" ")
        },
    );
    for why in &v.why {
        line(&mut out, "because", why);
    }
    for advice in &v.advice {
        line(&mut out, "to fix", advice);
    }
    out
}

fn line(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "  {key:<20} {}", printable(value));
}
