//! A scripted sender that breaks XEP-0047's rules, against the real `xft recv`: every
//! case must end with its exit code, the `.part` kept, and no final file.

mod support;

use std::time::Duration;

use support::{list_dir, pattern, peer_login, scratch_dir, server, Receiver};
use xft::disco::{IBB_NS, SI_NS};
use xft::jid::FullJid;
use xft::session::{IqError, Session};
use xft::si::{self, FileOffer, StreamMethod};
use xft::stanza;
use xft::xml::Element;

const LONG: Duration = Duration::from_secs(60);

/// What the scripted sender does after the bytestream is open.
enum Script {
    /// Send these (seq, base64 payload) blocks, then close.
    Blocks(Vec<(u16, String)>),
    /// Send these blocks, then log out without closing.
    BlocksThenVanish(Vec<(u16, String)>),
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `xft recv` and the script; returns (recv exit code, recv stderr, dir, the
/// answer to our close if we sent one).
fn run_script(
    tag: &str,
    offered_size: u64,
    offered_md5: &str,
    script: Script,
) -> (
    Option<i32>,
    String,
    std::path::PathBuf,
    Option<Result<(), IqError>>,
) {
    let s = server();
    let (alice, bob) = (s.account("mallory"), s.account("bob"));
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--timeout", "5", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let target = receiver
        .jid
        .parse::<xft::jid::Jid>()
        .unwrap()
        .to_full()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let close_answer = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        // Directed presence, as xft send does, so the receiver hears when we vanish.
        peer.send(Element::new("presence", stanza::CLIENT_NS).attr("to", target.to_string()))
            .await
            .unwrap();
        let sid = offer(&peer, &target, offered_size, offered_md5).await;
        open(&peer, &target, &sid).await;
        let (blocks, vanish) = match script {
            Script::Blocks(b) => (b, false),
            Script::BlocksThenVanish(b) => (b, true),
        };
        let mut refused = false;
        for (seq, payload) in blocks {
            let data = Element::new("data", IBB_NS)
                .attr("seq", seq.to_string())
                .attr("sid", sid.as_str())
                .text(payload);
            if peer
                .iq(stanza::iq("set", Some(&target.to_string()), data))
                .await
                .is_err()
            {
                refused = true;
                break;
            }
        }
        // After a refused block the receiver closes the stream itself (XEP-0047 §2.2);
        // a close of ours would race with its logout and could go unanswered.
        if vanish || refused {
            peer.close().await;
            return None;
        }
        let close = Element::new("close", IBB_NS).attr("sid", sid.as_str());
        let answer = peer
            .iq(stanza::iq("set", Some(&target.to_string()), close))
            .await
            .map(|_| ());
        peer.close().await;
        Some(answer)
    });
    let done = receiver.finish(LONG);
    (done.code, done.stderr, dir, close_answer)
}

async fn offer(peer: &Session, target: &FullJid, size: u64, md5: &str) -> String {
    let offer = FileOffer {
        sid: stanza::new_id(),
        mime_type: None,
        name: "evil.bin".into(),
        size,
        md5: Some(md5.to_owned()),
        date: None,
        desc: None,
        methods: vec![StreamMethod::Ibb],
    };
    let answer = peer
        .iq(stanza::iq(
            "set",
            Some(&target.to_string()),
            offer.to_element(),
        ))
        .await
        .unwrap();
    let chosen =
        si::parse_answer(answer.get_child("si", SI_NS).unwrap(), &[StreamMethod::Ibb]).unwrap();
    assert_eq!(chosen, [StreamMethod::Ibb]);
    offer.sid
}

async fn open(peer: &Session, target: &FullJid, sid: &str) {
    let open = Element::new("open", IBB_NS)
        .attr("block-size", "4096")
        .attr("sid", sid)
        .attr("stanza", "iq");
    peer.iq(stanza::iq("set", Some(&target.to_string()), open))
        .await
        .unwrap();
}

#[track_caller]
fn assert_kept_part_only(dir: &std::path::Path) {
    assert_eq!(
        list_dir(dir),
        ["evil.bin.part"],
        "the .part stays, no final file"
    );
}

#[test]
fn seq_gap_is_a_protocol_violation() {
    let data = pattern(100, 1);
    let script = Script::Blocks(vec![(0, b64(&data[..50])), (2, b64(&data[50..]))]);
    let (code, err, dir, _) = run_script("gap", 100, &md5_hex(&data), script);
    assert_eq!(code, Some(15), "{err}");
    assert!(
        err.contains("block 2 arrived where block 1 was due"),
        "{err}"
    );
    assert_kept_part_only(&dir);
}

#[test]
fn duplicate_seq_is_a_protocol_violation() {
    let data = pattern(100, 2);
    let script = Script::Blocks(vec![(0, b64(&data[..50])), (0, b64(&data[50..]))]);
    let (code, err, dir, _) = run_script("dup", 100, &md5_hex(&data), script);
    assert_eq!(code, Some(15), "{err}");
    assert_kept_part_only(&dir);
}

#[test]
fn bad_base64_is_a_protocol_violation() {
    let data = pattern(100, 3);
    let script = Script::Blocks(vec![(0, "not*base64!".into())]);
    let (code, err, dir, _) = run_script("b64", 100, &md5_hex(&data), script);
    assert_eq!(code, Some(15), "{err}");
    assert!(err.contains("not valid base64"), "{err}");
    assert_kept_part_only(&dir);
}

#[test]
fn more_bytes_than_offered_is_an_integrity_failure() {
    let data = pattern(200, 4);
    let script = Script::Blocks(vec![(0, b64(&data[..100])), (1, b64(&data[100..]))]);
    let (code, err, dir, _) = run_script("toomuch", 150, &md5_hex(&data[..150]), script);
    assert_eq!(code, Some(11), "{err}");
    assert!(err.contains("more than the 150 bytes"), "{err}");
    assert_kept_part_only(&dir);
}

#[test]
fn early_close_is_refused_and_an_integrity_failure() {
    let data = pattern(100, 5);
    let script = Script::Blocks(vec![(0, b64(&data[..60]))]);
    let (code, err, dir, close) = run_script("early", 100, &md5_hex(&data), script);
    assert_eq!(code, Some(11), "{err}");
    assert!(err.contains("received 60 of 100 bytes"), "{err}");
    match close {
        Some(Err(IqError::Stanza(e))) => assert!(e.is("not-acceptable"), "{e}"),
        other => panic!("the close should be refused, got {other:?}"),
    }
    assert_kept_part_only(&dir);
}

#[test]
fn md5_mismatch_is_refused_and_an_integrity_failure() {
    let data = pattern(100, 6);
    let script = Script::Blocks(vec![(0, b64(&data))]);
    let (code, err, dir, close) = run_script("md5", 100, &md5_hex(b"something else"), script);
    assert_eq!(code, Some(11), "{err}");
    assert!(err.contains("MD5 mismatch"), "{err}");
    assert!(matches!(close, Some(Err(IqError::Stanza(_)))), "{close:?}");
    assert_kept_part_only(&dir);
}

#[test]
fn sender_vanishing_midway_fails_fast() {
    let data = pattern(100, 7);
    let script = Script::BlocksThenVanish(vec![(0, b64(&data[..40]))]);
    let started = std::time::Instant::now();
    let (code, err, dir, _) = run_script("vanish", 100, &md5_hex(&data), script);
    assert_eq!(code, Some(9), "{err}");
    assert!(err.contains("went offline"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "noticed through presence, not the 5 s stall timeout"
    );
    assert_kept_part_only(&dir);
}
