//! End-to-end encrypted files between two xft: OMEMO (legacy, XEP-0384 v0.3) carrying an
//! `aesgcm://` link (XEP-0454) to a file uploaded encrypted to a real Prosody with HTTPS
//! slots; trust decisions; `--encrypt` never falling back to plaintext.

mod support;

use std::time::Duration;

use support::{assert_exit, https_upload_server, pattern, run, scratch_dir, stdout, Receiver};

const LONG: Duration = Duration::from_secs(120);

fn json(text: &str) -> serde_json::Value {
    let line = text
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON in {text}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn an_encrypted_file_reaches_another_xft_and_its_bytes_match() {
    let s = https_upload_server();
    let (alice, bob) = (s.account("om-alice"), s.account("om-bob"));
    let dir = scratch_dir("omemo-recv");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(1_000_003, 21);
    let src = scratch_dir("omemo-src").join("secret report.pdf");
    std::fs::write(&src, &data).unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--encrypt", "--json"])
        .arg(&src)
        .arg(&bob.jid);
    let sent = run(send);
    assert_exit(&sent, 0);
    let report = json(&stdout(&sent));
    assert_eq!(report["encrypted"], true, "{report}");
    assert!(
        report.get("url").is_none(),
        "the link holds the key: not printed"
    );
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let got = json(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(got["encrypted"], true, "{got}");
    assert_eq!(got["omemo"]["trust"], "blind", "{got}");
    let path = got["path"].as_str().unwrap();
    assert!(std::fs::read(path).unwrap() == data);
    assert!(
        path.ends_with(".pdf"),
        "the random name keeps the extension: {path}"
    );
}

/// A scripted OMEMO sender built on xft's own layers, free to break what it sends.
struct Mallory {
    session: xft::session::Session,
    _incoming: xft::session::Incoming,
    device: xft::omemo::account::Account,
    /// The recipient's (bare) JID and its device id.
    to: String,
    rid: u32,
}

impl Mallory {
    async fn start(
        s: &support::Prosody,
        account: &support::Account,
        to: &str,
        tag: &str,
    ) -> Mallory {
        let (session, incoming) = support::peer_login(s, account).await;
        let store = xft::omemo::store::Store::at(scratch_dir(tag).join("store"));
        let device = xft::omemo::account::Account::new(
            store,
            &account.jid,
            xft::omemo::trust::Policy::BlindUntilVerified,
            Duration::from_secs(30),
        );
        device.publish(&session).await.expect("publish");
        let list = xft::omemo::pep::device_list(&session, to, Duration::from_secs(30))
            .await
            .unwrap();
        Mallory {
            session,
            _incoming: incoming,
            device,
            to: to.to_owned(),
            rid: list[0],
        }
    }

    /// A valid `<encrypted>` element carrying `body`.
    async fn encrypted(&self, body: &str) -> xft::xml::Element {
        let recipients = self
            .device
            .recipients(&self.session, &self.to)
            .await
            .unwrap();
        self.device
            .encrypt(&recipients, &self.to, body.as_bytes())
            .await
            .unwrap()
    }

    async fn send(&self, encrypted: xft::xml::Element) {
        let message = xft::omemo::element::message(&self.to, encrypted);
        self.session.send(message).await.unwrap();
    }

    /// `encrypted` with its key for the recipient replaced by what `change` makes of it.
    fn with_key(
        &self,
        encrypted: &xft::xml::Element,
        change: impl Fn(Vec<u8>) -> Vec<u8>,
    ) -> xft::xml::Element {
        let parsed = xft::omemo::element::parse_encrypted(encrypted, self.rid).unwrap();
        let keys: Vec<_> = parsed
            .keys
            .into_iter()
            .map(|mut k| {
                k.blob = change(k.blob);
                k
            })
            .collect();
        xft::omemo::element::encrypted(parsed.sid, &keys, &parsed.iv, parsed.payload.as_deref())
    }
}

/// Encrypts `data` as XEP-0454 does, with RustCrypto's one-shot AES-GCM (not xft's).
fn seal_file(key: &[u8; 32], iv: &[u8; 12], data: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::{Aead, KeyInit};
    aes_gcm::Aes256Gcm::new(key.into())
        .encrypt(iv.into(), data)
        .unwrap()
}

/// Uploads `bytes` as they are with `xft upload` and returns the https URL.
fn upload_raw(s: &support::Prosody, account: &support::Account, bytes: &[u8], tag: &str) -> String {
    let file = scratch_dir(tag).join("blob.bin");
    std::fs::write(&file, bytes).unwrap();
    let mut up = s.xft(account);
    up.arg("upload").arg(&file);
    let out = run(up);
    assert_exit(&out, 0);
    stdout(&out).trim().to_owned()
}

fn aesgcm_link(https: &str, key: &[u8; 32], iv: &[u8; 12]) -> String {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "aesgcm://{}#{}{}",
        https.strip_prefix("https://").unwrap(),
        hex(iv),
        hex(key)
    )
}

/// A new session with the recipient's device that names `pre_key_id` (which it may
/// never have had, or have used already): what a replayed or forged session start is.
async fn session_start_naming(m: &Mallory, pre_key_id: u32) -> xft::xml::Element {
    use xft::omemo::{element, pep, ratchet::Session};
    let bundle = pep::bundle(&m.session, &m.to, m.rid, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let me = m.device.identity().await.unwrap();
    let any = bundle.pre_keys[0].1;
    let mut session = Session::initiate(
        &me.identity,
        &bundle,
        Some((pre_key_id, any)),
        &mut rand::rng(),
    )
    .unwrap();
    let sent = session.encrypt(&[0u8; 32]).unwrap();
    let key = element::KeyElement {
        rid: m.rid,
        prekey: sent.prekey,
        blob: sent.bytes,
    };
    element::encrypted(me.device_id, &[key], &[0; 12], Some(&[1, 2, 3]))
}

/// Every kind of broken OMEMO message, then a good one: each broken one is refused with
/// its own line on stderr and changes nothing, and the good one still decrypts and its
/// file arrives.
#[test]
fn broken_omemo_messages_are_refused_and_the_next_good_one_still_decrypts() {
    use xft::omemo::wire::PreKeyWhisperMessage;
    let s = https_upload_server();
    let (mallory, bob) = (s.account("om-mallory"), s.account("om-bob-hostile"));
    let dir = scratch_dir("omemo-hostile-dst");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(50_000, 3);
    let (key, iv) = ([7u8; 32], [9u8; 12]);
    let url = upload_raw(
        s,
        &mallory,
        &seal_file(&key, &iv, &data),
        "omemo-hostile-up",
    );
    let link = aesgcm_link(&url, &key, &iv);
    let used = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let m = Mallory::start(s, &mallory, &bob.jid, "omemo-hostile-mallory").await;
        // The first message starts the session (using one prekey); kept to be replayed.
        let first = m.encrypted("hello, first message").await;
        m.send(first.clone()).await;
        let parsed = xft::omemo::element::parse_encrypted(&first, m.rid).unwrap();
        let used = PreKeyWhisperMessage::parse(&parsed.keys[0].blob)
            .unwrap()
            .pre_key_id
            .unwrap();
        let valid = m.encrypted("a valid message").await;
        let wrong_mac = m.with_key(&valid, |blob| {
            let mut message = PreKeyWhisperMessage::parse(&blob).unwrap();
            let last = message.message.len() - 1;
            message.message[last] ^= 1;
            message.encode()
        });
        let broken = [
            m.with_key(&valid, |_| b"not a signal message".to_vec()),
            wrong_mac,
            m.with_key(&valid, |mut k| {
                k.truncate(k.len() / 2);
                k
            }),
            first.clone(),
            session_start_naming(&m, 999_999).await,
            session_start_naming(&m, used).await,
        ];
        for b in broken {
            m.send(b).await;
        }
        let crowded = m.encrypted("crowded, still for us").await.to_xml();
        let mut many = String::new();
        for i in 0..10_000 {
            many.push_str(&format!("<key rid='{}'/>", 100_000 + i));
        }
        let crowded = crowded.replacen("<iv>", &format!("{many}<iv>"), 1);
        m.send(xft::xml::parse_document(&crowded).unwrap()).await;
        let ns = xft::omemo::NS;
        let bad_base64 = format!(
            "<encrypted xmlns='{ns}'><header sid='{}'><key rid='{}'>!!!not base64</key>\
             <iv>AAAAAAAAAAAAAAAA</iv></header><payload>AQID</payload></encrypted>",
            parsed.sid, m.rid
        );
        m.send(xft::xml::parse_document(&bad_base64).unwrap()).await;
        let oversize = m.encrypted("never read").await;
        let keys = xft::omemo::element::parse_encrypted(&oversize, m.rid)
            .unwrap()
            .keys;
        m.send(xft::omemo::element::encrypted(
            parsed.sid,
            &keys,
            &[0; 12],
            Some(&vec![0u8; 70_000]),
        ))
        .await;
        m.send(m.encrypted(&link).await).await;
        m.session.close().await;
        used
    });
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report = json(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(report["encrypted"], true, "{report}");
    assert!(std::fs::read(report["path"].as_str().unwrap()).unwrap() == data);
    for expected in [
        "hello, first message",
        "not a Signal v3 message",
        "MAC does not match",
        "protobuf is malformed",
        "already decrypted",
        "unknown or used prekey 999999",
        &format!("unknown or used prekey {used}"),
        "crowded, still for us",
        "is not base64",
        "oversize <payload/>",
    ] {
        assert!(
            done.stderr.contains(expected),
            "no '{expected}' in:\n{}",
            done.stderr
        );
    }
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
}

/// A file whose tag does not match, or that is cut short, leaves nothing and exits 11.
#[test]
fn an_altered_or_truncated_encrypted_file_leaves_nothing_and_exits_11() {
    let s = https_upload_server();
    let data = pattern(300_000, 4);
    let (key, iv) = ([1u8; 32], [2u8; 12]);
    let sealed = seal_file(&key, &iv, &data);
    let mut altered = sealed.clone();
    altered[1000] ^= 0x40;
    let truncated = sealed[..sealed.len() - 10].to_vec();
    for (tag, bytes) in [("altered", altered), ("truncated", truncated)] {
        let (mallory, bob) = (
            s.account(&format!("om-m-{tag}")),
            s.account(&format!("om-b-{tag}")),
        );
        let url = upload_raw(s, &mallory, &bytes, &format!("omemo-{tag}-up"));
        let dir = scratch_dir(&format!("omemo-{tag}-dst"));
        let mut recv = s.xft(&bob);
        recv.args(["recv", "--accept-any", "--json", "--dir"])
            .arg(&dir);
        let receiver = Receiver::spawn(recv);
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let m = Mallory::start(s, &mallory, &bob.jid, &format!("omemo-{tag}-mallory")).await;
            let message = m.encrypted(&aesgcm_link(&url, &key, &iv)).await;
            m.send(message).await;
            m.session.close().await;
        });
        let done = receiver.finish(LONG);
        assert_eq!(done.code, Some(11), "{tag}: {}", done.stderr);
        assert!(
            done.stderr.contains("authentication tag"),
            "{tag}: {}",
            done.stderr
        );
        assert!(
            support::list_dir(&dir).is_empty(),
            "{tag}: {:?}",
            support::list_dir(&dir)
        );
    }
}

/// `--encrypt` to someone without OMEMO fails before uploading anything (exit 7), and a
/// recipient whose only key was distrusted gets nothing either (exit 16).
#[test]
fn encrypt_never_falls_back_to_plaintext() {
    let s = https_upload_server();
    let (alice, plain, carol) = (
        s.account("om-a-nf"),
        s.account("om-plain"),
        s.account("om-carol"),
    );
    let src = scratch_dir("omemo-nf-src").join("a.txt");
    std::fs::write(&src, b"secret").unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--encrypt"]).arg(&src).arg(&plain.jid);
    let out = run(send);
    assert_exit(&out, 7);
    assert!(
        support::stderr(&out).contains("has no OMEMO device"),
        "{}",
        support::stderr(&out)
    );
    assert!(
        !support::stderr(&out).contains("Sent"),
        "{}",
        support::stderr(&out)
    );

    // carol publishes a device (her xft recv), which alice then distrusts.
    let dir = scratch_dir("omemo-nf-carol");
    let mut recv = s.xft(&carol);
    recv.args(["recv", "--accept-any", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let mut devices = s.xft(&alice);
    devices.args(["omemo", "devices", "--json", &carol.jid]);
    let listed = run(devices);
    assert_exit(&listed, 0);
    let device = json(&stdout(&listed));
    assert_eq!(device["trust"], "blind", "{device}");
    let fingerprint = device["fingerprint"].as_str().unwrap().to_owned();
    let mut distrust = s.xft(&alice);
    distrust.args(["omemo", "distrust", &carol.jid, &fingerprint]);
    assert_exit(&run(distrust), 0);
    let mut send = s.xft(&alice);
    send.args(["send", "--encrypt"]).arg(&src).arg(&carol.jid);
    let out = run(send);
    assert_exit(&out, 16);
    assert!(
        support::stderr(&out).contains("not encrypting for"),
        "{}",
        support::stderr(&out)
    );
    let done = receiver.kill();
    assert!(support::list_dir(&dir).is_empty(), "{}", done.stderr);
}

/// A store xft keeps that was truncated or tampered with is reported, never replaced:
/// `send --encrypt` stops with exit 12 before uploading, `recv` warns that OMEMO is off
/// and still takes plaintext offers, and the damaged file is left as it was.
#[test]
fn a_damaged_store_is_reported_and_never_replaced() {
    let s = https_upload_server();
    let (dora, bob) = (s.account("om-dora"), s.account("om-dora-peer"));
    let mut first = s.xft(&dora);
    first.args(["omemo", "fingerprint"]);
    assert_exit(&run(first), 0);
    let identity = s
        .dir
        .join("share/xft/omemo")
        .join(&dora.jid)
        .join("identity.json");
    let whole = std::fs::read(&identity).unwrap();
    for damage in [
        &whole[..whole.len() / 2],
        b"{\"device_id\": \"x\"}".as_slice(),
    ] {
        std::fs::write(&identity, damage).unwrap();
        let src = scratch_dir("omemo-damaged-src").join("d.txt");
        std::fs::write(&src, b"secret").unwrap();
        let mut send = s.xft(&dora);
        send.args(["send", "--encrypt"]).arg(&src).arg(&bob.jid);
        let out = run(send);
        assert_exit(&out, 12);
        assert!(
            support::stderr(&out).contains("damaged"),
            "{}",
            support::stderr(&out)
        );

        let dir = scratch_dir("omemo-damaged-recv");
        let mut recv = s.xft(&dora);
        recv.args(["recv", "--accept-any", "--json", "--dir"])
            .arg(&dir);
        let receiver = Receiver::spawn(recv);
        let mut send = s.xft(&bob);
        send.args(["send", "--json"]).arg(&src).arg(&receiver.jid);
        assert_exit(&run(send), 0);
        let done = receiver.finish(LONG);
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        assert!(done.stderr.contains("OMEMO is off"), "{}", done.stderr);
        assert_eq!(std::fs::read(&identity).unwrap(), damage, "left as it was");
    }
}
