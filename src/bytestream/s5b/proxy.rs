//! Finding a SOCKS5 bytestreams proxy (XEP-0065 §4): disco#items on our server, disco#info
//! on each item for the identity `proxy/bytestreams`, then ask it for its address.

use super::StreamHost;
use crate::disco;
use crate::jid::Jid;
use crate::ns::BYTESTREAMS_NS;
use crate::session::{IqError, Session};
use crate::stanza;
use crate::stanza::IqType;
use crate::xml::Element;

/// The proxies of our server, each with the address it gave (§4 Examples 6-8).
/// Failures are logged and skipped: a missing proxy is not an error, only a candidate
/// fewer.
pub async fn discover(session: &Session) -> Vec<StreamHost> {
    let server = session.jid().as_jid().domain_jid();
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
    found.await.into_iter().flatten().collect()
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
