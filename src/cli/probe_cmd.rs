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
    let mut report = probe::run(&session, &presences, args.peer.as_ref(), &options).await;
    if let Some(peer) = &args.peer {
        report.omemo =
            Some(omemo_facts(global, &session, peer, report.server.upload.is_some()).await);
    }
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

/// The peer's OMEMO devices, and whether `xft send --encrypt` would reach one.
async fn omemo_facts(
    global: &GlobalArgs,
    session: &crate::session::Session,
    peer: &crate::jid::Jid,
    upload: bool,
) -> probe::OmemoFacts {
    let bare = peer.bare().to_string();
    let surveyed = match super::omemo_cmd::account(global, session.jid().as_jid()) {
        Ok(device) => device.survey(session, &bare).await.map_err(Error::from),
        Err(e) => Err(e),
    };
    let devices = match surveyed {
        Ok(devices) => devices,
        Err(e) => {
            return probe::OmemoFacts {
                devices: Vec::new(),
                encrypt_would_work: false,
                why: e.to_string(),
            };
        }
    };
    let usable = devices.iter().filter(|d| d.usable).count();
    let (works, why) = match (devices.is_empty(), usable, upload) {
        (true, _, _) => (false, format!("{bare} publishes no OMEMO device")),
        (false, 0, _) => (
            false,
            format!("no trusted device of {bare}: xft omemo trust {bare} FINGERPRINT"),
        ),
        (false, _, false) => (false, "the server has no HTTP upload service".to_owned()),
        (false, n, true) => (
            true,
            format!("{n} trusted device(s) of {bare}; encrypted upload"),
        ),
    };
    probe::OmemoFacts {
        devices,
        encrypt_would_work: works,
        why,
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
    render_server(&mut out, &p.server);
    if let Some(peer) = &p.peer {
        render_peer(&mut out, peer);
    }
    render_verdict(&mut out, &p.verdict, p.peer.is_some());
    if let Some(omemo) = &p.omemo {
        render_omemo(&mut out, omemo);
    }
    out
}

fn render_omemo(out: &mut String, o: &probe::OmemoFacts) {
    let _ = writeln!(out, "\nEncryption (OMEMO)");
    for d in &o.devices {
        let what = match (&d.fingerprint, &d.problem) {
            (Some(fp), _) => format!("{fp} ({})", d.trust.unwrap_or("?")),
            (None, Some(problem)) => format!("unusable: {problem}"),
            (None, None) => "unusable".to_owned(),
        };
        line(out, &format!("device {}", d.device), &what);
    }
    let verdict = format!(
        "{}: {}",
        if o.encrypt_would_work {
            "would work"
        } else {
            "would not work"
        },
        o.why
    );
    line(out, "--encrypt", &verdict);
}

fn render_server(out: &mut String, s: &crate::probe::ServerFacts) {
    let l = &s.login;
    let _ = writeln!(out, "Server {}", printable(&s.domain));
    let tls = if l.direct_tls {
        "direct TLS"
    } else {
        "STARTTLS"
    };
    let connected = format!(
        "{} ({tls}, {} {})",
        l.endpoint, l.tls_version, l.cipher_suite
    );
    line(out, "connected to", &connected);
    line(out, "SASL offered", &l.sasl_offered.join(" "));
    line(out, "SASL used", &l.sasl_used);
    if s.proxies.is_empty() {
        line(out, "SOCKS5 proxy", "none");
    }
    for proxy in &s.proxies {
        let reach = if proxy.reachable {
            "reachable"
        } else {
            "NOT reachable from here"
        };
        let at = format!("{} at {}:{} ({reach})", proxy.jid, proxy.host, proxy.port);
        line(out, "SOCKS5 proxy", &at);
    }
    let upload = match &s.upload {
        Some(u) => {
            let limit = u.max_file_size.map(|m| format!(", max {m} bytes"));
            format!("{}{}", u.jid, limit.unwrap_or_default())
        }
        None => "none".into(),
    };
    line(out, "HTTP upload", &upload);
    line(out, "vCard", yes(s.vcard));
    let limits = l.stream_limits.as_deref();
    line(out, "limits", limits.unwrap_or("not advertised (XEP-0478)"));
}

fn render_peer(out: &mut String, peer: &crate::probe::PeerFacts) {
    let _ = writeln!(out, "\nPeer {}", printable(&peer.jid));
    line(
        out,
        "subscription",
        peer.subscription.unwrap_or("not a contact"),
    );
    line(out, "sees presence", yes(peer.sees_presence));
    if peer.resources.is_empty() {
        line(out, "online", "none visible");
    }
    for r in &peer.resources {
        let _ = writeln!(out, "  {} (priority {})", printable(&r.jid), r.priority);
        let client = r.client.as_deref();
        line(
            out,
            "  client",
            client.unwrap_or("unknown (no XEP-0092 answer)"),
        );
        let si = format!(
            "{} (S5B {}, IBB {})",
            yes(r.si_file_transfer),
            yes(r.s5b),
            yes(r.ibb)
        );
        line(out, "  SI file transfer", &si);
        let jingle = format!(
            "{} (S5B {}, IBB {})",
            yes(r.jingle_file_transfer),
            yes(r.jingle_s5b),
            yes(r.jingle_ibb)
        );
        line(out, "  Jingle FT", &jingle);
    }
}

fn render_verdict(out: &mut String, v: &crate::probe::Verdict, with_peer: bool) {
    let _ = writeln!(out, "\nVerdict");
    let to = v.to.as_deref().unwrap_or("?");
    let streams = v.streams.join(", then ");
    let method = match (v.method, with_peer) {
        (Some("si"), _) => format!("SI file transfer to {to} over {streams}"),
        (Some("jingle"), _) => format!("Jingle file transfer to {to} over {streams}"),
        (Some("upload"), _) => "HTTP upload, the link sent in a message".into(),
        (None, false) => format!("with a peer that speaks SI: {streams}"),
        _ => "nothing would work".into(),
    };
    line(out, "xft send would use", &method);
    let direct = match v.direct_addresses.is_empty() {
        true => "none".to_owned(),
        false => v.direct_addresses.join(" "),
    };
    line(out, "direct addresses", &direct);
    for why in &v.why {
        line(out, "because", why);
    }
    for advice in &v.advice {
        line(out, "to fix", advice);
    }
}

fn line(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "  {key:<20} {}", printable(value));
}
