//! This account's OMEMO device at work (XEP-0384 v0.3 §4): published before use,
//! encrypting for every trusted device of a peer and of our own account, decrypting
//! what reaches us. The state lives in the [`Store`]; each step is one transaction, so a
//! second xft process of the account sees every change.

use std::time::Duration;

use futures_util::future::join_all;

use super::element::{self, KeyElement, DEVICE_LIST_NODE};
use super::identity::Identity;
use super::keys::PublicKey;
use super::ratchet::Session as Ratchet;
use super::store::{session_key, State, Store};
use super::trust::{Level, Policy};
use super::wire::{PreKeyWhisperMessage, WhisperMessage, WireError};
use super::x3dh::{Bundle, X3dhError};
use super::{pep, OmemoError};
use crate::gcm;
use crate::session::Session;
use crate::xml::Element;

/// The account's device, as one command uses it.
#[derive(Debug, Clone)]
pub struct Account {
    store: Store,
    /// Our bare JID.
    own: String,
    policy: Policy,
    timeout: Duration,
}

/// One device a message can go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its owner (bare JID).
    pub jid: String,
    /// Its id.
    pub id: u32,
    /// Its identity key.
    pub key: PublicKey,
    /// What we think of it.
    pub level: Level,
}

/// A device left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// Its owner.
    pub jid: String,
    /// Its id.
    pub id: u32,
    /// Why (untrusted, no bundle, a bad signature...).
    pub reason: String,
}

/// The devices of a peer (and our own others) a message would be encrypted for.
#[derive(Debug, Clone, Default)]
pub struct Recipients {
    /// Devices with a session, trusted or not.
    pub devices: Vec<Device>,
    /// Devices without a usable session.
    pub left_out: Vec<LeftOut>,
}

impl Recipients {
    /// The devices messages are encrypted for.
    pub fn trusted(&self) -> impl Iterator<Item = &Device> {
        self.devices.iter().filter(|d| d.level.is_trusted())
    }
}

/// One device of a peer as `xft probe` reports it (nothing is stored).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Surveyed {
    /// Its id.
    pub device: u32,
    /// Its identity key's fingerprint, when its bundle could be read and verified.
    pub fingerprint: Option<String>,
    /// Our trust in it ("blind", "verified", "undecided", "distrusted"); for a key not
    /// seen before, what it would get.
    pub trust: Option<&'static str>,
    /// Whether `--encrypt` would encrypt for it.
    pub usable: bool,
    /// Why not, when it is not usable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A decrypted message.
#[derive(Debug, Clone)]
pub struct Decrypted {
    /// The body (`None` for a key transport element).
    pub body: Option<String>,
    /// The sending device.
    pub device: u32,
    /// Its identity key.
    pub key: PublicKey,
    /// Its trust, as it was when the message arrived.
    pub level: Level,
}

impl Account {
    /// The device of `own` (a bare JID) kept in `store`.
    pub fn new(store: Store, own: &str, policy: Policy, timeout: Duration) -> Account {
        Account {
            store,
            own: own.to_owned(),
            policy,
            timeout,
        }
    }

    /// Our bare JID.
    pub fn own(&self) -> &str {
        &self.own
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Makes sure our device can be reached: creates the identity on first use (with
    /// an id our list does not name yet), and publishes the bundle and then the list
    /// (keeping the devices listed already) when the server lacks either. Returns our
    /// device id.
    pub async fn publish(&self, session: &Session) -> Result<u32, OmemoError> {
        let listed = pep::device_list(session, &self.own, self.timeout).await?;
        let (me, fresh) = self
            .store
            .transaction(self.timeout, |state| match &state.identity {
                Some(me) => (me.clone(), false),
                None => {
                    let me = Identity::generate(&listed, &mut rand::rng());
                    state.identity = Some(me.clone());
                    state.sessions.clear();
                    (me, true)
                }
            })
            .await?;
        if fresh || !listed.contains(&me.device_id) {
            self.publish_bundle(session, &me).await?;
            let mut ids = listed;
            if !ids.contains(&me.device_id) {
                ids.push(me.device_id);
            }
            pep::publish(
                session,
                DEVICE_LIST_NODE,
                element::device_list(&ids),
                self.timeout,
            )
            .await?;
        }
        Ok(me.device_id)
    }

    async fn publish_bundle(&self, session: &Session, me: &Identity) -> Result<(), OmemoError> {
        let node = pep::bundle_node(me.device_id);
        let bundle = element::bundle(&me.bundle());
        Ok(pep::publish(session, &node, bundle, self.timeout).await?)
    }

    /// Our identity (created by [`Account::publish`]).
    pub async fn identity(&self) -> Result<Identity, OmemoError> {
        let state = self.store.read(self.timeout).await?;
        state.identity.ok_or(OmemoError::NoIdentity)
    }

    /// The devices `jid` lists, and those of our own account other than this one, each
    /// with a session (built from its bundle when there was none) and its trust.
    pub async fn recipients(&self, session: &Session, jid: &str) -> Result<Recipients, OmemoError> {
        let me = self.identity().await?;
        let mut wanted: Vec<(String, u32)> = Vec::new();
        for owner in [jid, self.own.as_str()] {
            let ids = pep::device_list(session, owner, self.timeout).await?;
            if owner == jid && ids.is_empty() {
                return Err(OmemoError::NoDevices {
                    jid: jid.to_owned(),
                });
            }
            for id in ids {
                let ours = owner == self.own && id == me.device_id;
                if !ours && !wanted.contains(&(owner.to_owned(), id)) {
                    wanted.push((owner.to_owned(), id));
                }
            }
        }
        let state = self.store.read(self.timeout).await?;
        let missing: Vec<&(String, u32)> = wanted
            .iter()
            .filter(|(j, id)| !state.sessions.contains_key(&session_key(j, *id)))
            .collect();
        let fetched = join_all(missing.iter().map(|(j, id)| async move {
            let bundle = pep::bundle(session, j, *id, self.timeout).await;
            (j.clone(), *id, bundle)
        }))
        .await;
        let policy = self.policy;
        self.store
            .transaction(self.timeout, |state| {
                let mut out = Recipients::default();
                for (owner, id, bundle) in fetched {
                    if let Err(reason) = start_session(state, &me, &owner, id, bundle) {
                        out.left_out.push(LeftOut {
                            jid: owner,
                            id,
                            reason,
                        });
                    }
                }
                for (owner, id) in &wanted {
                    let Some(ratchet) = state.sessions.get(&session_key(owner, *id)) else {
                        continue;
                    };
                    let key = *ratchet.their_identity();
                    let level = state
                        .trust
                        .entry(owner.clone())
                        .or_default()
                        .learn(*id, key, policy);
                    out.devices.push(Device {
                        jid: owner.clone(),
                        id: *id,
                        key,
                        level,
                    });
                }
                out
            })
            .await
            .map_err(OmemoError::from)
    }

    /// Encrypts `body` for the trusted devices among `recipients` (at least one of
    /// `jid`'s must be trusted) and returns the `<encrypted>` element.
    pub async fn encrypt(
        &self,
        recipients: &Recipients,
        jid: &str,
        body: &[u8],
    ) -> Result<Element, OmemoError> {
        if !recipients.trusted().any(|d| d.jid == jid) {
            let untrusted = recipients
                .devices
                .iter()
                .filter(|d| d.jid == jid)
                .map(|d| format!("{} ({})", d.id, d.level.as_str()))
                .collect();
            return Err(OmemoError::NoneTrusted {
                jid: jid.to_owned(),
                untrusted,
            });
        }
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        rand::Rng::fill(&mut rand::rng(), &mut key[..]);
        rand::Rng::fill(&mut rand::rng(), &mut iv[..]);
        let (payload, tag) = gcm::seal(&key, &iv, body)?;
        let mut key_and_tag = key.to_vec();
        key_and_tag.extend_from_slice(&tag);
        let targets: Vec<(String, u32)> = recipients
            .trusted()
            .map(|d| (d.jid.clone(), d.id))
            .collect();
        let (sid, keys) = self
            .store
            .transaction(self.timeout, |state| {
                let sid = state.identity.as_ref().map(|i| i.device_id);
                let mut keys = Vec::new();
                for (owner, id) in &targets {
                    let Some(ratchet) = state.sessions.get_mut(&session_key(owner, *id)) else {
                        continue;
                    };
                    if let Ok(sent) = ratchet.encrypt(&key_and_tag) {
                        keys.push(KeyElement {
                            rid: *id,
                            prekey: sent.prekey,
                            blob: sent.bytes,
                        });
                    }
                }
                (sid, keys)
            })
            .await?;
        let sid = sid.ok_or(OmemoError::NoIdentity)?;
        Ok(element::encrypted(sid, &keys, &iv, Some(&payload)))
    }

    /// Decrypts an `<encrypted>` element `from` (a bare JID) sent. Nothing is stored
    /// unless the key and the payload both check out; a session started by the message
    /// consumes its prekey, and the bundle is published again without it.
    pub async fn decrypt(
        &self,
        session: &Session,
        from: &str,
        encrypted: &Element,
    ) -> Result<Decrypted, OmemoError> {
        let me = self.identity().await?;
        let parsed = element::parse_encrypted(encrypted, me.device_id)?;
        if parsed.keys.is_empty() {
            return Err(OmemoError::NotForUs);
        }
        let policy = self.policy;
        let (decrypted, consumed) = self
            .store
            .transaction(self.timeout, |state| {
                let mut last = Err(OmemoError::NotForUs);
                for key in &parsed.keys {
                    last = open_key(state, from, parsed.sid, key, &parsed, policy);
                    if last.is_ok() {
                        break;
                    }
                }
                last
            })
            .await??;
        if consumed {
            let me = self.identity().await?;
            if let Err(e) = self.publish_bundle(session, &me).await {
                tracing::warn!("could not publish the OMEMO bundle without the used prekey: {e}");
            }
        }
        Ok(decrypted)
    }
}

impl Account {
    /// What `jid`'s devices are and what we think of them, without changing the store
    /// (for `xft probe`): the list, each bundle checked, trust as stored or as a new key
    /// would get it.
    pub async fn survey(&self, session: &Session, jid: &str) -> Result<Vec<Surveyed>, OmemoError> {
        let ids = pep::device_list(session, jid, self.timeout).await?;
        let bundles = join_all(
            ids.iter()
                .map(|id| pep::bundle(session, jid, *id, self.timeout)),
        )
        .await;
        let state = self.store.read(self.timeout).await?;
        let mut contact = state.trust.get(jid).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for (id, bundle) in ids.into_iter().zip(bundles) {
            let checked = match bundle {
                Ok(Some(b)) if b.verifies() => Ok(b.identity),
                Ok(Some(_)) => Err("its bundle's signature does not verify".to_owned()),
                Ok(None) => Err("it publishes no bundle".to_owned()),
                Err(e) => Err(e.to_string()),
            };
            out.push(match checked {
                Ok(key) => {
                    let level = contact.learn(id, key, self.policy);
                    Surveyed {
                        device: id,
                        fingerprint: Some(key.fingerprint()),
                        trust: Some(level.word()),
                        usable: level.is_trusted(),
                        problem: None,
                    }
                }
                Err(problem) => Surveyed {
                    device: id,
                    fingerprint: None,
                    trust: None,
                    usable: false,
                    problem: Some(problem),
                },
            });
        }
        Ok(out)
    }
}

/// Starts a session with `owner`'s device `id` from its fetched bundle, or says why not.
fn start_session(
    state: &mut State,
    me: &Identity,
    owner: &str,
    id: u32,
    bundle: Result<Option<Bundle>, pep::PepError>,
) -> Result<(), String> {
    let bundle = match bundle {
        Ok(Some(bundle)) => bundle,
        Ok(None) => return Err("it publishes no bundle".into()),
        Err(e) => return Err(e.to_string()),
    };
    let mut rng = rand::rng();
    let pre_key = match bundle.pre_keys.len() {
        0 => None,
        n => Some(bundle.pre_keys[rand::Rng::random_range(&mut rng, 0..n)]),
    };
    match Ratchet::initiate(&me.identity, &bundle, pre_key, &mut rng) {
        Ok(ratchet) => {
            state.sessions.insert(session_key(owner, id), ratchet);
            Ok(())
        }
        Err(X3dhError::BadSignature) => Err("its bundle's signature does not verify".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Decrypts one `<key>` and the payload with it, against the state; changes the state
/// only when both succeed. Returns the message and whether a prekey was consumed.
fn open_key(
    state: &mut State,
    from: &str,
    sid: u32,
    key: &KeyElement,
    parsed: &element::Encrypted,
    policy: Policy,
) -> Result<(Decrypted, bool), OmemoError> {
    let me = state.identity.clone().ok_or(OmemoError::NoIdentity)?;
    let name = session_key(from, sid);
    let existing = state.sessions.get(&name);
    let (ratchet, inner, pre_key) = match key.prekey {
        true => {
            let message = PreKeyWhisperMessage::parse(&key.blob)?;
            let inner = WhisperMessage::parse(&message.message)?;
            match existing.filter(|s| s.base_key() == Some(&message.base_key)) {
                Some(same) => (same.clone(), inner, None),
                None => (responder(&me, &message)?, inner, message.pre_key_id),
            }
        }
        false => {
            let inner = WhisperMessage::parse(&key.blob)?;
            let existing = existing.ok_or_else(|| OmemoError::NoSession {
                jid: from.to_owned(),
                device: sid,
            })?;
            (existing.clone(), inner, None)
        }
    };
    let (next, key_and_tag) = ratchet.decrypt(&inner, &mut rand::rng())?;
    let body = open_payload(&key_and_tag, parsed)?;
    let their = *next.their_identity();
    state.sessions.insert(name, next);
    if let Some(id) = pre_key {
        if let Some(me) = state.identity.as_mut() {
            me.consume(id);
            me.replenish(&mut rand::rng());
        }
    }
    let level = state
        .trust
        .entry(from.to_owned())
        .or_default()
        .learn(sid, their, policy);
    let decrypted = Decrypted {
        body,
        device: sid,
        key: their,
        level,
    };
    Ok((decrypted, pre_key.is_some()))
}

/// The responder's new session for a message that starts one; its one-time prekey must
/// be one we hold (a consumed one is gone) and its signed prekey ours.
fn responder(me: &Identity, message: &PreKeyWhisperMessage) -> Result<Ratchet, OmemoError> {
    if message.signed_pre_key_id != me.signed_pre_key.id {
        return Err(OmemoError::UnknownPreKey(format!(
            "signed prekey {}",
            message.signed_pre_key_id
        )));
    }
    let one_time = match message.pre_key_id {
        Some(id) => Some(
            me.pre_key(id)
                .ok_or_else(|| OmemoError::UnknownPreKey(format!("prekey {id}")))?,
        ),
        None => None,
    };
    Ok(Ratchet::respond(
        &me.identity,
        &me.signed_pre_key.key,
        one_time,
        message,
    )?)
}

/// The payload's plaintext with key ‖ tag (Conversations), or with a 16-byte key and
/// the tag after the payload (older clients); `None` without a payload.
fn open_payload(
    key_and_tag: &[u8],
    parsed: &element::Encrypted,
) -> Result<Option<String>, OmemoError> {
    let Some(payload) = &parsed.payload else {
        return Ok(None);
    };
    let plain = match key_and_tag.len() {
        32.. => gcm::open(&key_and_tag[..16], &parsed.iv, payload, &key_and_tag[16..])?,
        16 if payload.len() >= gcm::TAG_LEN => {
            let (body, tag) = payload.split_at(payload.len() - gcm::TAG_LEN);
            gcm::open(key_and_tag, &parsed.iv, body, tag)?
        }
        _ => return Err(OmemoError::Wire(WireError::Protobuf)),
    };
    let text = String::from_utf8(plain).map_err(|_| OmemoError::NotText)?;
    Ok(Some(text.trim().to_owned()))
}
