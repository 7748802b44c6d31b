//! What a party offers as its own SOCKS5 streamhosts or candidates (XEP-0065 §5, §6;
//! XEP-0260 §2.2), as options: its listeners (pinned addresses or the interfaces) and
//! its server's proxies, found once per command.

use std::sync::Arc;
use std::time::Duration;

use super::{candidates, proxy, StreamHost};
use crate::session::Session;

/// Which SOCKS5 streamhosts to offer (XEP-0065 §5, §6).
#[derive(Debug, Clone)]
pub struct S5bOptions {
    /// Offer our own listeners (`--no-direct` turns this off).
    pub direct: bool,
    /// `--s5b-address`: exactly these addresses; empty = scan the interfaces.
    pub addresses: Vec<candidates::Pinned>,
    /// `--s5b-port`; 0 = any free port.
    pub port: u16,
    /// Which proxies: discovered, named, or none.
    pub proxy: ProxyChoice,
    /// How long the target may take to try the streamhosts and answer.
    pub wait: Duration,
    /// The proxies found once per command: every file and every Jingle offer a
    /// receiver answers would ask the server again otherwise (two round trips each).
    pub found: Arc<tokio::sync::OnceCell<Vec<StreamHost>>>,
}

impl S5bOptions {
    /// The proxies to offer, discovered on first use.
    pub async fn proxies(&self, session: &Session) -> Vec<StreamHost> {
        self.found
            .get_or_init(|| proxies(session, &self.proxy))
            .await
            .clone()
    }
}

/// Which proxies a party offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyChoice {
    /// Find the server's proxy65 by service discovery.
    Discover,
    /// `--proxy JID`.
    Named(crate::jid::Jid),
    /// `--no-proxy`.
    None,
}

async fn proxies(session: &Session, choice: &ProxyChoice) -> Vec<StreamHost> {
    match choice {
        ProxyChoice::None => Vec::new(),
        ProxyChoice::Discover => proxy::discover(session).await,
        ProxyChoice::Named(jid) => proxy::streamhost_of(session, jid)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("proxy {jid} gave no address: {e}");
                Vec::new()
            }),
    }
}
