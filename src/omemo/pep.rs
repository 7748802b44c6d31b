//! Device lists and bundles over PEP (XEP-0163, XEP-0060), as XEP-0384 v0.3 §4.2-§4.4
//! publishes and fetches them: one item with id `current` per node, published with the
//! `open` access model (so that anyone may fetch a bundle, which is how clients start a
//! session with a stranger's device, and how a contact's client reads the list).

use std::time::Duration;

use super::element::{self, ElementError, BUNDLE_NODE_PREFIX, DEVICE_LIST_NODE};
use super::x3dh::Bundle;
use super::NS;
use crate::forms::{Field, Form, FormKind};
use crate::session::{IqError, Session};
use crate::stanza::{self, Condition, IqType};
use crate::xml::Element;

/// XEP-0060's namespace.
pub const PUBSUB_NS: &str = "http://jabber.org/protocol/pubsub";
/// XEP-0060's owner namespace (node configuration).
pub const PUBSUB_OWNER_NS: &str = "http://jabber.org/protocol/pubsub#owner";

/// Why a PEP request failed.
#[derive(Debug, thiserror::Error)]
pub enum PepError {
    /// The request got an error or no answer.
    #[error("{what}: {source}")]
    Iq {
        /// What was asked.
        what: String,
        /// The answer.
        #[source]
        source: IqError,
    },
    /// The answer did not hold what it should.
    #[error("{what}: {source}")]
    Malformed {
        /// What was asked.
        what: String,
        /// What was wrong.
        #[source]
        source: ElementError,
    },
}

/// The node of `device`'s bundle.
pub fn bundle_node(device: u32) -> String {
    format!("{BUNDLE_NODE_PREFIX}{device}")
}

/// The payload of the newest item of `node` at `jid`; `None` when the node or the item
/// does not exist.
async fn newest_item(
    session: &Session,
    jid: &str,
    node: &str,
    timeout: Duration,
) -> Result<Option<Element>, IqError> {
    let query = Element::new("pubsub", PUBSUB_NS).child(
        Element::new("items", PUBSUB_NS)
            .attr("node", node)
            .attr("max_items", "1"),
    );
    let answer = match session
        .iq_timeout(stanza::iq(IqType::Get, Some(jid), query), timeout)
        .await
    {
        Ok(answer) => answer,
        // No node, or one we may not read (Prosody answers forbidden for a node that
        // does not exist when its default access model is presence): nothing to see.
        Err(IqError::Stanza(e))
            if e.is(Condition::ItemNotFound)
                || e.is(Condition::Forbidden)
                || e.is(Condition::NotAuthorized)
                || e.is(Condition::FeatureNotImplemented)
                || e.is(Condition::ServiceUnavailable) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let item = answer
        .get_child("pubsub", PUBSUB_NS)
        .and_then(|p| p.get_child("items", PUBSUB_NS))
        .and_then(|items| items.children().find(|c| c.is("item", PUBSUB_NS)));
    Ok(item.and_then(|i| i.children().next()).cloned())
}

/// The device ids `jid` lists (empty when it publishes no list).
pub async fn device_list(
    session: &Session,
    jid: &str,
    timeout: Duration,
) -> Result<Vec<u32>, PepError> {
    let what = || format!("fetching the OMEMO device list of {jid}");
    let item = newest_item(session, jid, DEVICE_LIST_NODE, timeout)
        .await
        .map_err(|source| PepError::Iq {
            what: what(),
            source,
        })?;
    Ok(item
        .filter(|list| list.is("list", NS))
        .map(|list| element::parse_device_list(&list))
        .unwrap_or_default())
}

/// The bundle of `jid`'s `device`; `None` when it has none.
pub async fn bundle(
    session: &Session,
    jid: &str,
    device: u32,
    timeout: Duration,
) -> Result<Option<Bundle>, PepError> {
    let what = || format!("fetching the OMEMO bundle of {jid}'s device {device}");
    let item = newest_item(session, jid, &bundle_node(device), timeout)
        .await
        .map_err(|source| PepError::Iq {
            what: what(),
            source,
        })?;
    item.map(|b| element::parse_bundle(&b))
        .transpose()
        .map_err(|source| PepError::Malformed {
            what: what(),
            source,
        })
}

/// The publish-options (XEP-0060 §7.1.5) asking for an open node.
fn open_access() -> Element {
    let form = Form::new(
        FormKind::Submit,
        vec![
            Field {
                var: "FORM_TYPE".into(),
                kind: Some("hidden".into()),
                values: vec!["http://jabber.org/protocol/pubsub#publish-options".into()],
                options: Vec::new(),
            },
            Field::with_value("pubsub#access_model", "open"),
        ],
    );
    Element::new("publish-options", PUBSUB_NS).child(form.to_element())
}

/// Publishes `payload` as item `current` of our `node`, open to all. A node that exists
/// with another access model fails the precondition (§7.1.5); it is then reconfigured
/// and the item published again, once.
pub async fn publish(
    session: &Session,
    node: &str,
    payload: Element,
    timeout: Duration,
) -> Result<(), PepError> {
    let what = || format!("publishing the OMEMO node {node}");
    let request = || {
        let publish = Element::new("publish", PUBSUB_NS).attr("node", node).child(
            Element::new("item", PUBSUB_NS)
                .attr("id", "current")
                .child(payload.clone()),
        );
        let pubsub = Element::new("pubsub", PUBSUB_NS)
            .child(publish)
            .child(open_access());
        stanza::iq(IqType::Set, None, pubsub)
    };
    match session.iq_timeout(request(), timeout).await {
        Ok(_) => Ok(()),
        Err(IqError::Stanza(e))
            if e.is(Condition::Conflict)
                || e.has_app_condition(
                    "precondition-not-met",
                    "http://jabber.org/protocol/pubsub#errors",
                ) =>
        {
            configure_open(session, node, timeout)
                .await
                .map_err(|source| PepError::Iq {
                    what: what(),
                    source,
                })?;
            session
                .iq_timeout(request(), timeout)
                .await
                .map(|_| ())
                .map_err(|source| PepError::Iq {
                    what: what(),
                    source,
                })
        }
        Err(source) => Err(PepError::Iq {
            what: what(),
            source,
        }),
    }
}

/// Sets our `node`'s access model to open (XEP-0060 §8.2.4).
async fn configure_open(session: &Session, node: &str, timeout: Duration) -> Result<(), IqError> {
    let form = Form::new(
        FormKind::Submit,
        vec![
            Field {
                var: "FORM_TYPE".into(),
                kind: Some("hidden".into()),
                values: vec!["http://jabber.org/protocol/pubsub#node_config".into()],
                options: Vec::new(),
            },
            Field::with_value("pubsub#access_model", "open"),
        ],
    );
    let configure = Element::new("configure", PUBSUB_OWNER_NS)
        .attr("node", node)
        .child(form.to_element());
    let request = stanza::iq(
        IqType::Set,
        None,
        Element::new("pubsub", PUBSUB_OWNER_NS).child(configure),
    );
    session.iq_timeout(request, timeout).await.map(|_| ())
}
