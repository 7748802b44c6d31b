//! Finding a SOCKS5 bytestreams proxy (XEP-0065 §4): disco#items on our server, disco#info
//! on each item for the identity `proxy/bytestreams`, then ask it for its address.

use super::StreamHost;
use crate::disco;
use crate::jid::Jid;
use crate::ns::BYTESTREAMS_NS;
use crate::session::cache;
use crate::session::{IqError, Session};
use crate::stanza;
use crate::stanza::IqType;
use crate::xml::Element;

/// The proxies of our server, each with the address it gave (§4 Examples 6-8).
/// Failures are logged and skipped: a missing proxy is not an error, only a candidate
/// fewer. The proxies an earlier command found (servers.json) are asked for their
/// address at once, which saves the two round trips of discovery (§4 Examples 1-5);
/// their addresses always come from their answer now. When one of them no longer
/// answers with an address, the server is searched again.
pub async fn discover(session: &Session) -> Vec<StreamHost> {
    let domain = session.jid().as_jid().domain().to_owned();
    let remembered = session
        .uses_server_cache()
        .then(|| cache::proxies(&domain))
        .flatten();
    if let Some(jids) = remembered {
        if let Some(hosts) = remembered_hosts(session, &jids).await {
            tracing::debug!("SOCKS5 proxies as an earlier command found them: {jids:?}");
            return hosts;
        }
    }
    search(session).await
}

/// The proxies of our server as discovery finds them now (`xft probe` asks this way),
/// remembered for the next command.
pub async fn search(session: &Session) -> Vec<StreamHost> {
    let server = session.jid().as_jid().domain_jid();
    let domain = server.to_string();
    let cached = session.uses_server_cache();
    tracing::debug!("looking for the SOCKS5 proxies of {server}");
    let items = match disco::items(session, &server).await {
        Ok(items) => items,
        Err(e) => {
            tracing::debug!("disco#items of {server} failed: {e}");
            return Vec::new();
        }
    };
    // Every item is asked at once: a server with several components (or a slow one)
    // costs one round trip, not one per item.
    let found = futures_util::future::join_all(items.iter().map(|item| proxy_hosts(session, item)));
    let found: Vec<(&Jid, Vec<StreamHost>)> = items.iter().zip(found.await).collect();
    if cached {
        let proxies = found.iter().filter(|(_, hosts)| !hosts.is_empty());
        cache::remember_proxies(&domain, proxies.map(|(jid, _)| jid.to_string()).collect());
    }
    found.into_iter().flat_map(|(_, hosts)| hosts).collect()
}

/// The addresses of remembered proxies, all asked at once; `None` if any of them gave
/// none (it moved, or is gone).
async fn remembered_hosts(session: &Session, jids: &[String]) -> Option<Vec<StreamHost>> {
    let asked: Vec<Jid> = jids
        .iter()
        .map(|jid| Jid::parse(jid).ok())
        .collect::<Option<_>>()?;
    let answers = futures_util::future::join_all(asked.iter().map(|j| streamhost_of(session, j)));
    let mut hosts = Vec::new();
    for (jid, answer) in asked.iter().zip(answers.await) {
        match answer {
            Ok(found) if !found.is_empty() => hosts.extend(found),
            other => {
                let why = other.err().map(|e| e.to_string()).unwrap_or_default();
                tracing::debug!("remembered proxy {jid} gave no address {why}");
                return None;
            }
        }
    }
    Some(hosts)
}

/// The addresses of `item` if it is a proxy (its identity, or its feature: Dino checks
/// the feature instead of the identity; either is accepted), else none.
async fn proxy_hosts(session: &Session, item: &Jid) -> Vec<StreamHost> {
    match disco::info(session, item).await {
        Ok(info)
            if info.has_identity("proxy", "bytestreams") || info.has_feature(BYTESTREAMS_NS) => {}
        _ => return Vec::new(),
    }
    match streamhost_of(session, item).await {
        Ok(hosts) => hosts,
        Err(e) => {
            tracing::debug!("proxy {item} gave no address: {e}");
            Vec::new()
        }
    }
}

/// Asks the proxy named by `--proxy JID` (or found by discovery) for its address.
pub async fn streamhost_of(session: &Session, proxy: &Jid) -> Result<Vec<StreamHost>, IqError> {
    let request = stanza::iq(
        IqType::Get,
        Some(&proxy.to_string()),
        Element::new("query", BYTESTREAMS_NS),
    );
    let answer = session.iq(request).await?;
    Ok(answer
        .get_child("query", BYTESTREAMS_NS)
        .map(|q| {
            q.children()
                .filter(|c| c.is("streamhost", BYTESTREAMS_NS))
                .filter_map(StreamHost::from_element)
                .collect()
        })
        .unwrap_or_default())
}
