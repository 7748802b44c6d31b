//! `xft probe`: what will work with this server and this peer, and why. File transfer
//! in XMPP works only when both clients and the server implement the same extensions;
//! this gathers what each side advertises (XEP-0030 disco, XEP-0092 version, presence
//! and roster, XEP-0065 proxies, XEP-0363 upload) and says what `xft send` would do.

use std::time::Duration;

use serde::Serialize;

use crate::bytestream::s5b::{candidates, proxy};
use crate::disco;
use crate::jid::{FullJid, Jid};
use crate::ns::{
    BYTESTREAMS_NS, IBB_NS, JINGLE_FT_NS, JINGLE_IBB_NS, JINGLE_S5B_NS, SI_FILE_TRANSFER_NS,
    VCARD_NS, VERSION_NS,
};
use crate::roster;
use crate::session::{LoginDetails, Session};
use crate::stanza::{self, IqType};
use crate::transfer::policy::{self, Features, Protocol, Wanted};
use crate::transfer::recipient;
use crate::upload;
use crate::xml::Element;

/// How long a proxy's address may take to accept a TCP connection from here.
const PROXY_CONNECT: Duration = Duration::from_secs(3);
/// How long a peer may take to say which client it is (XEP-0092).
const VERSION_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Probe {
    pub server: ServerFacts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<PeerFacts>,
    pub verdict: Verdict,
    /// The peer's OMEMO devices and whether `--encrypt` would work (filled in by the
    /// command, which knows the store).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omemo: Option<OmemoFacts>,
}

/// What `xft send --encrypt` would find.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OmemoFacts {
    pub devices: Vec<crate::omemo::account::Surveyed>,
    /// Whether `--encrypt` would work: a device to encrypt for, and an upload service.
    pub encrypt_would_work: bool,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServerFacts {
    pub domain: String,
    pub login: LoginDetails,
    pub proxies: Vec<ProxyFact>,
    pub upload: Option<UploadFact>,
    /// vcard-temp (XEP-0054) advertised by the server.
    pub vcard: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProxyFact {
    pub jid: String,
    pub host: String,
    pub port: u16,
    /// A TCP connection to it from this machine succeeded.
    pub reachable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct UploadFact {
    pub jid: String,
    pub max_file_size: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct PeerFacts {
    pub jid: String,
    /// Roster subscription ("both", "to", "from", "none"), or null when not a contact.
    pub subscription: Option<&'static str>,
    /// Whether we see its presence (needed to find a bare JID's resources).
    pub sees_presence: bool,
    pub resources: Vec<ResourceFacts>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ResourceFacts {
    pub jid: String,
    pub priority: i8,
    /// XEP-0092 name and version, when it answers.
    pub client: Option<String>,
    pub si_file_transfer: bool,
    pub s5b: bool,
    pub ibb: bool,
    pub jingle_file_transfer: bool,
    pub jingle_s5b: bool,
    pub jingle_ibb: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Verdict {
    /// "si" or "jingle" (with `streams`), "upload", or null when nothing would work.
    pub method: Option<&'static str>,
    /// SI or Jingle: the full JID the offer would go to.
    pub to: Option<String>,
    /// SI or Jingle: the stream methods (transports), in the order they would be tried.
    pub streams: Vec<&'static str>,
    /// Addresses offered for direct SOCKS5 connections.
    pub direct_addresses: Vec<String>,
    pub why: Vec<String>,
    /// What to change when something would not work.
    pub advice: Vec<String>,
}

/// What probing needs beyond the session.
#[derive(Debug, Clone)]
pub(crate) struct ProbeOptions {
    /// `--s5b-address` (or none: the interface scan).
    pub addresses: Vec<String>,
    pub presence_wait: Duration,
}

/// Probes the server, and `peer` when given.
pub(crate) async fn run(
    session: &Session,
    presences: &recipient::Presences,
    peer: Option<&Jid>,
    options: &ProbeOptions,
) -> Probe {
    let server = server_facts(session).await;
    let peer_facts = match peer {
        Some(jid) => Some(peer_facts(session, presences, jid, options.presence_wait).await),
        None => None,
    };
    let direct = direct_addresses(&options.addresses);
    let verdict = verdict(&server, peer_facts.as_ref(), direct);
    Probe {
        server,
        peer: peer_facts,
        verdict,
        omemo: None,
    }
}

async fn server_facts(session: &Session) -> ServerFacts {
    let domain = session.jid().as_jid().domain_jid();
    let info = disco::info(session, &domain).await.unwrap_or_default();
    let (hosts, upload) = tokio::join!(proxy::search(session), upload::discover(session));
    let proxies = futures_util::future::join_all(hosts.into_iter().map(proxy_fact)).await;
    ServerFacts {
        domain: domain.to_string(),
        login: session.login_details().clone(),
        proxies,
        upload: upload.ok().map(|u| UploadFact {
            jid: u.jid.to_string(),
            max_file_size: u.max_file_size,
        }),
        vcard: info.has_feature(VCARD_NS),
    }
}

/// Whether a TCP connection to `host` works from here: all proxies are tried at once,
/// so a server listing several unreachable ones costs [`PROXY_CONNECT`] once, not
/// once per proxy (issue 19, item 6).
async fn proxy_fact(host: crate::bytestream::s5b::StreamHost) -> ProxyFact {
    let target = format!("{}:{}", host.host.trim_matches(['[', ']']), host.port);
    let reachable = matches!(
        tokio::time::timeout(PROXY_CONNECT, tokio::net::TcpStream::connect(&target)).await,
        Ok(Ok(_))
    );
    ProxyFact {
        jid: host.jid.to_string(),
        host: host.host,
        port: host.port,
        reachable,
    }
}

async fn peer_facts(
    session: &Session,
    presences: &recipient::Presences,
    jid: &Jid,
    wait: Duration,
) -> PeerFacts {
    let bare = jid.bare();
    let item = roster::fetch(session)
        .await
        .ok()
        .and_then(|items| items.into_iter().find(|i| i.jid == bare));
    let sees_presence = item
        .as_ref()
        .is_some_and(|i| i.subscription.sees_their_presence());
    let online: Vec<(FullJid, i8)> = match jid.to_full() {
        Some(full) => vec![(full, 0)],
        None if sees_presence || bare == session.jid().bare() => presences
            .resources_of(session, &bare, wait)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.jid, r.priority))
            .collect(),
        None => Vec::new(),
    };
    // Every resource at once: one that stopped answering costs one wait, not one each.
    let asked = online
        .iter()
        .map(|(full, priority)| resource_facts(session, full, *priority));
    let resources = futures_util::future::join_all(asked).await;
    PeerFacts {
        jid: jid.to_string(),
        subscription: item.map(|i| i.subscription.as_str()),
        sees_presence,
        resources,
    }
}

async fn resource_facts(session: &Session, full: &FullJid, priority: i8) -> ResourceFacts {
    let info = disco::info(session, full.as_jid())
        .await
        .unwrap_or_default();
    let request = stanza::iq(
        IqType::Get,
        Some(&full.to_string()),
        Element::new("query", VERSION_NS),
    );
    let client = session
        .iq_timeout(request, VERSION_WAIT)
        .await
        .ok()
        .and_then(|answer| client_name(&answer));
    ResourceFacts {
        jid: full.to_string(),
        priority,
        client,
        si_file_transfer: info.has_feature(SI_FILE_TRANSFER_NS),
        s5b: info.has_feature(BYTESTREAMS_NS),
        ibb: info.has_feature(IBB_NS),
        jingle_file_transfer: info.has_feature(JINGLE_FT_NS),
        jingle_s5b: info.has_feature(JINGLE_S5B_NS),
        jingle_ibb: info.has_feature(JINGLE_IBB_NS),
    }
}

/// XEP-0092 §2: "name version", printable, at most 100 characters.
fn client_name(answer: &Element) -> Option<String> {
    let query = answer.get_child("query", VERSION_NS)?;
    let name = query.child_text("name", VERSION_NS)?;
    let version = query.child_text("version", VERSION_NS).unwrap_or_default();
    let text = format!("{} {}", name.trim(), version.trim());
    Some(
        crate::text::printable(text.trim())
            .chars()
            .take(100)
            .collect(),
    )
}

/// What `xft send` would offer for direct connections.
fn direct_addresses(pinned: &[String]) -> Vec<String> {
    if !pinned.is_empty() {
        return pinned.to_vec();
    }
    candidates::scan_interfaces()
        .into_iter()
        .map(|ip| ip.to_string())
        .collect()
}

/// The decision `xft send --method auto` would make, with its reasons.
pub(crate) fn verdict(
    server: &ServerFacts,
    peer: Option<&PeerFacts>,
    direct: Vec<String>,
) -> Verdict {
    let mut verdict = Verdict {
        method: None,
        to: None,
        streams: Vec::new(),
        direct_addresses: direct,
        why: Vec::new(),
        advice: Vec::new(),
    };
    let can_connect = verdict.judge_connectivity(server);
    verdict.judge_upload(server);
    let Some(peer) = peer else {
        // No peer: what this side could use with a peer that speaks SI.
        if can_connect {
            verdict.streams.push("s5b");
        }
        verdict.streams.push("ibb");
        return verdict;
    };
    verdict.judge_contact(peer);
    if verdict.judge_peer_to_peer(peer, can_connect) {
        return verdict;
    }
    verdict.judge_fallback(peer, server.upload.is_some());
    verdict
}

impl Verdict {
    /// Whether a SOCKS5 connection could be made at all (our addresses, a reachable
    /// proxy), and why not.
    fn judge_connectivity(&mut self, server: &ServerFacts) -> bool {
        let reachable = server.proxies.iter().any(|p| p.reachable);
        if server.proxies.is_empty() {
            self.why
                .push("the server offers no SOCKS5 proxy (XEP-0065)".to_owned());
        } else if !reachable {
            self.why
                .push("the server's SOCKS5 proxy cannot be reached from here".to_owned());
        }
        if self.direct_addresses.is_empty() {
            self.why
                .push("this machine has no address to offer for direct connections".to_owned());
            if !reachable {
                self.advice.push(
                    "forward a port and pass --s5b-address PUBLIC-IP --s5b-port PORT, or ask for a proxy65 on your server"
                        .to_owned(),
                );
            }
        }
        reachable || !self.direct_addresses.is_empty()
    }

    fn judge_upload(&mut self, server: &ServerFacts) {
        match &server.upload {
            Some(u) => {
                let limit = u.max_file_size.map(|m| format!(", files up to {m} bytes"));
                let limit = limit.unwrap_or_default();
                self.why
                    .push(format!("the server has HTTP upload ({}{limit})", u.jid));
            }
            None => self
                .why
                .push("the server has no HTTP upload service (XEP-0363)".to_owned()),
        }
    }

    fn judge_contact(&mut self, peer: &PeerFacts) {
        if peer.subscription.is_none() {
            self.why
                .push(format!("{} is not in your contacts", peer.jid));
        }
        if !peer.sees_presence && !peer.jid.contains('/') {
            self.advice.push(format!(
                "run `xft contact add {}` and have them approve it, so their resources can be seen",
                peer.jid
            ));
        }
    }

    /// The resource and protocol `xft send` would take (the same decision: `policy`),
    /// and its streams; false when no stream would work with it.
    fn judge_peer_to_peer(&mut self, peer: &PeerFacts, can_connect: bool) -> bool {
        let features = |r: &ResourceFacts| Features {
            si: r.si_file_transfer,
            jingle: r.jingle_file_transfer,
            libervia: false,
        };
        let resources = peer.resources.iter().map(|r| (r, features(r)));
        let Some((r, f)) = policy::pick(Wanted::Auto, resources) else {
            return false;
        };
        let (protocol, _) = policy::protocol(Wanted::Auto, Some(f));
        let (s5b, ibb, speaks) = match protocol {
            Protocol::Jingle => (r.jingle_s5b, r.jingle_ibb, "Jingle file transfer"),
            Protocol::Si => (r.s5b, r.ibb, "SI file transfer"),
        };
        let streams: Vec<&'static str> = [(s5b && can_connect, "s5b"), (ibb, "ibb")]
            .into_iter()
            .filter_map(|(works, name)| works.then_some(name))
            .collect();
        if streams.is_empty() {
            return false;
        }
        let client = r.client.as_deref().map(|c| format!(" ({c})"));
        self.why.push(format!(
            "{} speaks {speaks}{}",
            r.jid,
            client.unwrap_or_default()
        ));
        if streams == ["ibb"] {
            self.advice.push(
                "only in-band bytestreams would work: slow, and capped by the server's rate limits; HTTP upload (--method upload) is usually faster"
                    .to_owned(),
            );
        }
        self.method = Some(protocol.name());
        self.to = Some(r.jid.clone());
        self.streams = streams;
        true
    }

    /// Why nothing peer to peer would work, and whether an upload would.
    fn judge_fallback(&mut self, peer: &PeerFacts, upload: bool) {
        if peer.resources.is_empty() {
            self.why
                .push(format!("no online resource of {} is visible", peer.jid));
        } else if peer.resources.iter().any(|r| r.jingle_file_transfer) {
            self.why.push(
                "the peer speaks Jingle file transfer only over SOCKS5, and this side has no address or proxy to offer"
                    .to_owned(),
            );
        } else {
            self.why
                .push("no resource of the peer takes SI or Jingle file transfer".to_owned());
        }
        if upload {
            self.why
                .push("xft send would upload the file and send the link in a message".to_owned());
            self.method = Some("upload");
            return;
        }
        self.advice.push("ask your server's admin for HTTP upload (Prosody: mod_http_file_share), or have the peer run `xft recv`".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(upload: bool, proxy: bool) -> ServerFacts {
        ServerFacts {
            domain: "example.org".into(),
            login: LoginDetails::default(),
            proxies: proxy
                .then(|| ProxyFact {
                    jid: "proxy.example.org".into(),
                    host: "192.0.2.1".into(),
                    port: 7777,
                    reachable: true,
                })
                .into_iter()
                .collect(),
            upload: upload.then(|| UploadFact {
                jid: "upload.example.org".into(),
                max_file_size: Some(1000),
            }),
            vcard: true,
        }
    }

    fn resource(si: bool, jingle: bool) -> ResourceFacts {
        ResourceFacts {
            jid: "bob@example.org/phone".into(),
            priority: 0,
            client: Some("Conversations 2.13".into()),
            si_file_transfer: si,
            s5b: si,
            ibb: si,
            jingle_file_transfer: jingle,
            jingle_s5b: jingle,
            jingle_ibb: jingle,
        }
    }

    fn peer(resources: Vec<ResourceFacts>, contact: bool) -> PeerFacts {
        PeerFacts {
            jid: "bob@example.org".into(),
            subscription: contact.then_some("both"),
            sees_presence: contact,
            resources,
        }
    }

    #[test]
    fn si_when_the_peer_speaks_it() {
        let v = verdict(
            &server(true, true),
            Some(&peer(vec![resource(true, false)], true)),
            vec![],
        );
        assert_eq!(v.method, Some("si"));
        assert_eq!(v.streams, ["s5b", "ibb"]);
        assert_eq!(v.to.as_deref(), Some("bob@example.org/phone"));
    }

    #[test]
    fn jingle_for_jingle_only_peers_and_upload_for_offline_ones() {
        let v = verdict(
            &server(true, true),
            Some(&peer(vec![resource(false, true)], true)),
            vec![],
        );
        assert_eq!(
            (v.method, v.streams.clone()),
            (Some("jingle"), vec!["s5b", "ibb"])
        );
        assert!(v.why.iter().any(|w| w.contains("Jingle")), "{:?}", v.why);
        let v = verdict(&server(true, false), Some(&peer(vec![], false)), vec![]);
        assert_eq!(v.method, Some("upload"));
        assert!(
            v.advice.iter().any(|a| a.contains("xft contact add")),
            "{:?}",
            v.advice
        );
    }

    #[test]
    fn nothing_without_upload_and_with_an_unreachable_peer() {
        let v = verdict(&server(false, false), Some(&peer(vec![], true)), vec![]);
        assert_eq!(v.method, None);
        assert!(v.advice.iter().any(|a| a.contains("mod_http_file_share")));
        assert!(v.advice.iter().any(|a| a.contains("--s5b-address")));
    }

    #[test]
    fn only_ibb_when_nothing_can_connect() {
        let v = verdict(
            &server(false, false),
            Some(&peer(vec![resource(true, false)], true)),
            vec![],
        );
        assert_eq!(v.streams, ["ibb"]);
        assert!(v.advice.iter().any(|a| a.contains("in-band")));
    }
}
