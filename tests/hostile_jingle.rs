//! Jingle peers that lie or break the rules, scripted with xft's own protocol pieces
//! against `xft recv` through a real Prosody: a wrong checksum, no checksum at all
//! (as Dino sends), an unreadable offer, a request for a session that does not exist,
//! and a sender the receiver does not accept.

mod support;

use support::{session_route, terminate_reason};

use std::time::Duration;

use support::{
    assert_exit, list_dir, pattern, peer_login, run, scratch_dir, server, stderr, Receiver,
};
use xft::jingle::file::{self, FileDesc};
use xft::jingle::transport::Ibb;
use xft::jingle::{Action, Content, Jingle, Reason};
use xft::ns::JINGLE_NS;
use xft::stanza::{self, IqType};

const LONG: Duration = Duration::from_secs(60);

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).to_vec()
}

/// A scripted initiator: offers `data` as `name` over IBB (with `hash-used` of the
/// checksum's algorithm when `announce`), sends it, then the `checksum` given (if any:
/// algorithm and digest), then waits for the receiver's session-terminate and returns
/// its reason.
async fn scripted_send(
    s: &support::Prosody,
    from: &support::Account,
    to: &str,
    name: &str,
    data: &[u8],
    announce: bool,
    checksum: Option<(&str, Vec<u8>)>,
) -> Option<Reason> {
    scripted_send_ranged(s, from, to, name, data, announce, false, checksum).await
}

/// [`scripted_send`], offering `<range/>` when `ranged`, and then sending from the
/// offset the session-accept asks for (XEP-0234 §7).
#[allow(clippy::too_many_arguments)]
async fn scripted_send_ranged(
    s: &support::Prosody,
    from: &support::Account,
    to: &str,
    name: &str,
    data: &[u8],
    announce: bool,
    ranged: bool,
    checksum: Option<(&str, Vec<u8>)>,
) -> Option<Reason> {
    let (peer, _incoming) = peer_login(s, from).await;
    let to_jid = xft::jid::Jid::parse(to).unwrap();
    let sid = stanza::new_id();
    let ibb = Ibb {
        sid: stanza::new_id(),
        block_size: 4096,
    };
    let offer = FileDesc {
        name: name.into(),
        size: data.len() as u64,
        hash_used: announce.then(|| checksum.as_ref().map_or("sha-256", |c| c.0).into()),
        ranged,
        ..FileDesc::default()
    };
    let initiate = file_initiate(&sid, &peer, &offer, ibb.to_element());
    let (mut route, accept) = offer_and_accept(&peer, to, &initiate).await;
    let offset = accept
        .get_child("jingle", JINGLE_NS)
        .and_then(Jingle::from_element)
        .and_then(|j| j.contents.first()?.description.clone())
        .and_then(|d| file::range_of(&d).ok().flatten())
        .map_or(0, |r| r.offset as usize);
    let mut sender = xft::bytestream::ibb::IbbSender::open(&peer, &to_jid, &ibb.sid, 4096, LONG)
        .await
        .unwrap();
    let mut reader = &data[offset..];
    sender
        .send(&mut reader, (data.len() - offset) as u64, 8)
        .await
        .unwrap();
    sender.close().await.unwrap();
    if let Some((algo, digest)) = checksum {
        let mut info = Jingle::new(Action::SessionInfo, &sid);
        info.payload
            .push(file::checksum("initiator", "f", algo, &digest));
        let _ = peer
            .iq(stanza::iq(IqType::Set, Some(to), info.to_element()))
            .await;
    } else {
        let end = Jingle::new(Action::SessionTerminate, &sid).with_reason(Reason::Success, None);
        let _ = peer
            .iq(stanza::iq(IqType::Set, Some(to), end.to_element()))
            .await;
        peer.close().await;
        return Some(Reason::Success);
    }
    let reason = terminate_reason(&peer, &mut route).await;
    peer.close().await;
    reason
}

/// A session-initiate from `peer` offering `offer` as content "f" over `transport`.
fn file_initiate(
    sid: &str,
    peer: &xft::session::Session,
    offer: &FileDesc,
    transport: xft::xml::Element,
) -> Jingle {
    let mut initiate = Jingle::new(Action::SessionInitiate, sid);
    initiate.initiator = Some(peer.jid().to_string());
    initiate.contents.push(Content {
        creator: "initiator".into(),
        name: "f".into(),
        senders: Some("initiator".into()),
        description: Some(offer.to_description()),
        transport: Some(transport),
    });
    initiate
}

/// Sends `initiate` to `to` and returns the route of the session's requests from `to`
/// and its session-accept (acknowledged).
async fn offer_and_accept(
    peer: &xft::session::Session,
    to: &str,
    initiate: &Jingle,
) -> (xft::session::Route, xft::xml::Element) {
    let (route, accept) = offer_until_accept(peer, to, initiate).await;
    peer.reply_result(&accept).await.unwrap();
    (route, accept)
}

/// [`offer_and_accept`], the session-accept left unanswered.
async fn offer_until_accept(
    peer: &xft::session::Session,
    to: &str,
    initiate: &Jingle,
) -> (xft::session::Route, xft::xml::Element) {
    let mut route = session_route(peer, to, &initiate.sid);
    peer.iq(stanza::iq(IqType::Set, Some(to), initiate.to_element()))
        .await
        .expect("the offer is acknowledged");
    let accept = tokio::time::timeout(LONG, route.next())
        .await
        .unwrap()
        .unwrap();
    (route, accept)
}

fn receiver(s: &support::Prosody, bob: &support::Account, dir: &std::path::Path) -> Receiver {
    let mut recv = s.xft(bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(dir);
    Receiver::spawn(recv)
}

#[test]
fn a_wrong_checksum_is_refused_with_media_error_and_no_file() {
    let s = server();
    let (alice, bob) = (s.account("hjwronga"), s.account("hjwrongb"));
    let dir = scratch_dir("jingle-wrong");
    let recv = receiver(s, &bob, &dir);
    let data = pattern(20_000, 1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reason = runtime.block_on(scripted_send(
        s,
        &alice,
        &recv.jid,
        "a.bin",
        &data,
        true,
        Some(("sha-256", sha256(b"something else"))),
    ));
    let done = recv.finish(LONG);
    assert_eq!(done.code, Some(11), "{}", done.stderr);
    assert!(done.stderr.contains("sha-256 mismatch"), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::MediaError));
    assert!(
        list_dir(&dir).is_empty(),
        "nor a .part: {:?}",
        list_dir(&dir)
    );
}

/// A receiver with its own resume registry that already holds the first `kept` bytes
/// of `data` as `name`.part from `from` (as an interrupted Jingle transfer leaves it:
/// the identity is `jingle:` and the offer's date, none here).
fn receiver_with_part(
    s: &support::Prosody,
    bob: &support::Account,
    from: &support::Account,
    tag: &str,
    (name, data, kept): (&str, &[u8], usize),
) -> (Receiver, std::path::PathBuf) {
    let dir = scratch_dir(tag);
    let state = scratch_dir(&format!("{tag}-state"));
    std::fs::write(dir.join(format!("{name}.part")), &data[..kept]).unwrap();
    let entry = serde_json::json!([{
        "part": dir.join(format!("{name}.part")),
        "target": dir.join(name),
        "from": from.jid,
        "name": name,
        "size": data.len(),
        "identity": "jingle:",
    }]);
    std::fs::create_dir_all(state.join("xft")).unwrap();
    std::fs::write(state.join("xft/partials.json"), entry.to_string()).unwrap();
    let mut recv = s.xft(bob);
    recv.env("XDG_STATE_HOME", &state)
        .args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    (Receiver::spawn(recv), dir)
}

/// XEP-0234 §7 from a sender xft did not write: the receiver asks for the rest of its
/// `.part`, and the checksum of the whole file (part and rest) is checked.
#[test]
fn a_scripted_sender_resumes_from_the_offset_asked_for() {
    let s = server();
    let (alice, bob) = (s.account("hjrangea"), s.account("hjrangeb"));
    let data = pattern(20_000, 4);
    let (recv, dir) = receiver_with_part(s, &bob, &alice, "jingle-range", ("r.bin", &data, 7_000));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reason = runtime.block_on(scripted_send_ranged(
        s,
        &alice,
        &recv.jid,
        "r.bin",
        &data,
        true,
        true,
        Some(("sha-256", sha256(&data))),
    ));
    let done = recv.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::Success));
    let report: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&done.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(report["resumed_from"], 7_000, "{report}");
    assert_eq!(std::fs::read(dir.join("r.bin")).unwrap(), data);
}

/// Issue 19, item 1: the resume registry is a file; an entry whose `.part` lies outside
/// the download directory (here a `.part` elsewhere, for a target inside it) made xft
/// append the sender's bytes there and move that file into place. It is ignored and
/// dropped: the file arrives whole and fresh, the other file is untouched.
#[test]
fn a_registry_entry_pointing_outside_the_directory_is_not_resumed() {
    let s = server();
    let (alice, bob) = (s.account("hjoutsidea"), s.account("hjoutsideb"));
    let data = pattern(20_000, 6);
    let dir = scratch_dir("jingle-outside");
    let outside = scratch_dir("jingle-outside-victim");
    let state = scratch_dir("jingle-outside-state");
    let victim = outside.join("victim.part");
    std::fs::write(&victim, &data[..7_000]).unwrap();
    let entries = serde_json::json!([
        {
            "part": victim, "target": dir.join("r.bin"), "from": alice.jid,
            "name": "r.bin", "size": data.len(), "identity": "jingle:",
        },
        {
            "part": dir.join("../r.bin.part"), "target": dir.join("../r.bin"),
            "from": alice.jid, "name": "r.bin", "size": data.len(), "identity": "jingle:",
        },
    ]);
    std::fs::write(dir.join("../r.bin.part"), &data[..7_000]).unwrap();
    std::fs::create_dir_all(state.join("xft")).unwrap();
    std::fs::write(state.join("xft/partials.json"), entries.to_string()).unwrap();
    let mut recv = s.xft(&bob);
    recv.env("XDG_STATE_HOME", &state)
        .args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let recv = Receiver::spawn(recv);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reason = runtime.block_on(scripted_send_ranged(
        s,
        &alice,
        &recv.jid,
        "r.bin",
        &data,
        true,
        true,
        Some(("sha-256", sha256(&data))),
    ));
    let done = recv.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::Success));
    let report: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&done.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(report.get("resumed_from").is_none(), "{report}");
    assert_eq!(std::fs::read(dir.join("r.bin")).unwrap(), data);
    assert_eq!(std::fs::read(&victim).unwrap(), &data[..7_000]);
    assert_eq!(
        std::fs::read(dir.join("../r.bin.part")).unwrap(),
        &data[..7_000]
    );
    let left = std::fs::read_to_string(state.join("xft/partials.json")).unwrap();
    assert!(!left.contains("victim") && !left.contains(".."), "{left}");
}

/// The same resume with no checksum afterwards: the two halves came in different
/// sessions and nothing ties them, so the file is refused (exit 11) and deleted.
#[test]
fn a_resumed_file_without_checksum_is_refused_and_deleted() {
    let s = server();
    let (alice, bob) = (s.account("hjnosuma"), s.account("hjnosumb"));
    let data = pattern(20_000, 5);
    let (recv, dir) = receiver_with_part(s, &bob, &alice, "jingle-nosum", ("u.bin", &data, 5_000));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(scripted_send_ranged(
        s, &alice, &recv.jid, "u.bin", &data, true, true, None,
    ));
    let done = recv.finish(LONG);
    assert_eq!(done.code, Some(11), "{}", done.stderr);
    assert!(done.stderr.contains("no checksum"), "{}", done.stderr);
    assert!(list_dir(&dir).is_empty(), "{:?}", list_dir(&dir));
}

/// XEP-0300 lists BLAKE2b; a sender that hashes with it is verified with it.
#[test]
fn a_blake2b_checksum_is_verified() {
    use blake2::digest::consts::U32;
    use blake2::{Blake2b, Digest};
    let s = server();
    let (alice, bob) = (s.account("hjblakea"), s.account("hjblakeb"));
    let dir = scratch_dir("jingle-blake");
    let recv = receiver(s, &bob, &dir);
    let data = pattern(30_000, 3);
    let digest = Blake2b::<U32>::digest(&data).to_vec();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reason = runtime.block_on(scripted_send(
        s,
        &alice,
        &recv.jid,
        "c.bin",
        &data,
        true,
        Some(("blake2b-256", digest)),
    ));
    let done = recv.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::Success));
    let report: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&done.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(report["hash"], format!("blake2b-256:{hex}"));
    assert_eq!(std::fs::read(dir.join("c.bin")).unwrap(), data);
}

#[test]
fn a_sender_without_checksum_is_accepted_on_size_with_a_null_hash() {
    let s = server();
    let (alice, bob) = (s.account("hjdinoa"), s.account("hjdinob"));
    let dir = scratch_dir("jingle-dino");
    let recv = receiver(s, &bob, &dir);
    let data = pattern(10_000, 2);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(scripted_send(
        s, &alice, &recv.jid, "b.bin", &data, false, None,
    ));
    let done = recv.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&done.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(report["protocol"], "jingle");
    assert_eq!(report["hash"], serde_json::Value::Null);
    assert_eq!(std::fs::read(dir.join("b.bin")).unwrap(), data);
}

#[test]
fn unreadable_offers_and_unknown_sessions_are_refused_and_recv_goes_on() {
    let s = server();
    let (alice, bob) = (s.account("hjbada"), s.account("hjbadb"));
    let dir = scratch_dir("jingle-bad");
    let recv = receiver(s, &bob, &dir);
    let target = recv.jid.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        // No description: bad-request.
        let mut initiate = Jingle::new(Action::SessionInitiate, "x1");
        initiate.contents.push(Content {
            creator: "initiator".into(),
            name: "f".into(),
            senders: None,
            description: None,
            transport: Some(
                Ibb {
                    sid: "t".into(),
                    block_size: 4096,
                }
                .to_element(),
            ),
        });
        let answer = peer
            .iq(stanza::iq(
                IqType::Set,
                Some(&target),
                initiate.to_element(),
            ))
            .await;
        match answer {
            Err(xft::session::IqError::Stanza(e)) => {
                assert!(e.is(xft::stanza::Condition::BadRequest), "{e}")
            }
            other => panic!("wanted bad-request, got {other:?}"),
        }
        // A session that does not exist: item-not-found with unknown-session.
        let info = Jingle::new(Action::SessionInfo, "no-such-session");
        let answer = peer
            .iq(stanza::iq(IqType::Set, Some(&target), info.to_element()))
            .await;
        match answer {
            Err(xft::session::IqError::Stanza(e)) => assert!(
                e.has_app_condition("unknown-session", "urn:xmpp:jingle:errors:1"),
                "{e}"
            ),
            other => panic!("wanted unknown-session, got {other:?}"),
        }
        peer.close().await;
    });
    // Still receiving: a good Jingle file arrives.
    let file = scratch_dir("jingle-bad-src").join("good.txt");
    std::fs::write(&file, b"good").unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--protocol", "jingle"])
        .arg(&file)
        .arg(&target);
    assert_exit(&run(send), 0);
    let done = recv.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(std::fs::read(dir.join("good.txt")).unwrap(), b"good");
}

#[test]
fn a_sender_not_allowed_is_declined_and_exits_8() {
    let s = server();
    let (alice, bob, carol) = (
        s.account("hjdeca"),
        s.account("hjdecb"),
        s.account("hjdecc"),
    );
    let dir = scratch_dir("jingle-decline");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--from", &carol.jid, "--timeout", "5", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("jingle-decline-src").join("no.txt");
    std::fs::write(&file, b"no").unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--protocol", "jingle"])
        .arg(&file)
        .arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 8);
    assert!(
        stderr(&out).contains("sender not allowed"),
        "{}",
        stderr(&out)
    );
    drop(receiver);
    assert!(list_dir(&dir).is_empty());
}

/// XEP-0260 §2.4 and XEP-0166 §7.2.11: an S5B offer whose only candidate cannot be
/// reached; xft answers candidate-error, the scripted sender replaces the transport
/// with IBB, xft accepts it and the file arrives over IBB.
#[test]
fn an_unreachable_s5b_candidate_falls_back_to_ibb_by_transport_replace() {
    let s = server();
    let (alice, bob) = (s.account("hjrepla"), s.account("hjreplb"));
    let dir = scratch_dir("jingle-replace");
    let recv = receiver(s, &bob, &dir);
    let data = pattern(30_000, 3);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let target = recv.jid.clone();
    let steps = runtime.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let to_jid = xft::jid::Jid::parse(&target).unwrap();
        let sid = stanza::new_id();
        // A closed port on loopback: nothing listens on port 1.
        let s5b = xft::xml::Element::new("transport", "urn:xmpp:jingle:transports:s5b:1")
            .attr("sid", "s5bsid")
            .attr("mode", "tcp")
            .child(
                xft::xml::Element::new("candidate", "urn:xmpp:jingle:transports:s5b:1")
                    .attr("cid", "c1")
                    .attr("host", "127.0.0.1")
                    .attr("port", "1")
                    .attr("jid", peer.jid().to_string())
                    .attr("priority", "8257536")
                    .attr("type", "direct"),
            );
        let offer = FileDesc {
            name: "replaced.bin".into(),
            size: data.len() as u64,
            hash_used: Some("sha-256".into()),
            ..FileDesc::default()
        };
        let initiate = file_initiate(&sid, &peer, &offer, s5b);
        let (sid_match, from) = (sid.clone(), target.clone());
        let mut route = peer.route(move |el| {
            el.get_attr("from") == Some(from.as_str())
                && el
                    .get_child("jingle", JINGLE_NS)
                    .is_some_and(|j| j.get_attr("sid") == Some(sid_match.as_str()))
        });
        peer.iq(stanza::iq(
            IqType::Set,
            Some(&target),
            initiate.to_element(),
        ))
        .await
        .unwrap();
        let mut steps = Vec::new();
        // session-accept, then the candidate-error.
        for _ in 0..2 {
            let el = tokio::time::timeout(LONG, route.next())
                .await
                .unwrap()
                .unwrap();
            peer.reply_result(&el).await.unwrap();
            let j = Jingle::from_element(el.get_child("jingle", JINGLE_NS).unwrap()).unwrap();
            let info = j.contents.iter().find_map(|c| {
                c.transport
                    .as_ref()
                    .and_then(xft::jingle::transport::s5b_info)
            });
            steps.push(format!("{} {info:?}", j.action.as_str()));
        }
        let ibb = Ibb {
            sid: "ibbsid".into(),
            block_size: 4096,
        };
        let mut replace = Jingle::new(Action::TransportReplace, &sid);
        replace.contents.push(Content {
            creator: "initiator".into(),
            name: "f".into(),
            senders: None,
            description: None,
            transport: Some(ibb.to_element()),
        });
        peer.iq(stanza::iq(IqType::Set, Some(&target), replace.to_element()))
            .await
            .unwrap();
        let el = tokio::time::timeout(LONG, route.next())
            .await
            .unwrap()
            .unwrap();
        peer.reply_result(&el).await.unwrap();
        let j = Jingle::from_element(el.get_child("jingle", JINGLE_NS).unwrap()).unwrap();
        steps.push(j.action.as_str().to_owned());
        let mut sender =
            xft::bytestream::ibb::IbbSender::open(&peer, &to_jid, &ibb.sid, 4096, LONG)
                .await
                .unwrap();
        let mut reader = &data[..];
        sender
            .send(&mut reader, data.len() as u64, 8)
            .await
            .unwrap();
        sender.close().await.unwrap();
        let mut info = Jingle::new(Action::SessionInfo, &sid);
        info.payload
            .push(file::checksum("initiator", "f", "sha-256", &sha256(&data)));
        let _ = peer
            .iq(stanza::iq(IqType::Set, Some(&target), info.to_element()))
            .await;
        while let Ok(Some(el)) = tokio::time::timeout(LONG, route.next()).await {
            let _ = peer.reply_result(&el).await;
            let j = Jingle::from_element(el.get_child("jingle", JINGLE_NS).unwrap()).unwrap();
            steps.push(j.action.as_str().to_owned());
            if j.action == Action::SessionTerminate {
                break;
            }
        }
        peer.close().await;
        steps
    });
    let done = recv.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(steps[0], "session-accept None");
    assert_eq!(steps[1], "transport-info Some(CandidateError)");
    assert_eq!(steps[2], "transport-accept");
    assert_eq!(steps.last().map(String::as_str), Some("session-terminate"));
    assert_eq!(std::fs::read(dir.join("replaced.bin")).unwrap(), data);
}

/// XEP-0260 §2.3-§2.4 as initiator: a receiver that reaches none of xft's candidates
/// but offers one of its own. xft tries it, reports candidate-used, and the file goes
/// through the receiver's candidate.
#[test]
fn xft_uses_the_receivers_own_candidate() {
    use tokio::io::AsyncReadExt;
    let s = server();
    let (alice, bob) = (s.account("hjtheira"), s.account("hjtheirb"));
    let data = pattern(120_000, 4);
    let file = scratch_dir("jingle-theirs").join("theirs.bin");
    std::fs::write(&file, &data).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (peer, mut incoming) = runtime.block_on(peer_login(s, &bob));
    let bob_full = peer.jid().clone();
    let mut send = s.xft(&alice);
    send.args(["send", "--protocol", "jingle", "--json", "-v"])
        .arg(&file)
        .arg(bob_full.to_string());
    let sender = std::thread::spawn(move || run(send));
    let got = runtime.block_on(async {
        let request = loop {
            let el = tokio::time::timeout(LONG, incoming.next())
                .await
                .unwrap()
                .unwrap();
            if el.get_child("jingle", JINGLE_NS).is_some() {
                break el;
            }
        };
        peer.reply_result(&request).await.unwrap();
        let initiate =
            Jingle::from_element(request.get_child("jingle", JINGLE_NS).unwrap()).unwrap();
        let alice_full = xft::jid::Jid::parse(request.get_attr("from").unwrap())
            .unwrap()
            .to_full()
            .unwrap();
        let content = initiate.contents[0].clone();
        let s5b_sid = xft::jingle::transport::s5b_sid(content.transport.as_ref().unwrap())
            .unwrap()
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let ns = "urn:xmpp:jingle:transports:s5b:1";
        let transport = xft::xml::Element::new("transport", ns)
            .attr("sid", s5b_sid.as_str())
            .attr("mode", "tcp")
            .child(
                xft::xml::Element::new("candidate", ns)
                    .attr("cid", "theirs1")
                    .attr("host", "127.0.0.1")
                    .attr("port", port.to_string())
                    .attr("jid", bob_full.to_string())
                    .attr("priority", "8257536")
                    .attr("type", "direct"),
            );
        let mut accept = Jingle::new(Action::SessionAccept, &initiate.sid);
        accept.responder = Some(bob_full.to_string());
        accept.contents.push(Content {
            transport: Some(transport),
            ..content.clone()
        });
        let (sid_match, from) = (initiate.sid.clone(), alice_full.to_string());
        let mut route = peer.route(move |el| {
            el.get_attr("from") == Some(from.as_str())
                && el
                    .get_child("jingle", JINGLE_NS)
                    .is_some_and(|j| j.get_attr("sid") == Some(sid_match.as_str()))
        });
        let to = alice_full.to_string();
        peer.iq(stanza::iq(IqType::Set, Some(&to), accept.to_element()))
            .await
            .unwrap();
        // None of xft's candidates "works" for us.
        let mut error = Jingle::new(Action::TransportInfo, &initiate.sid);
        error.contents.push(Content {
            description: None,
            transport: Some(xft::jingle::transport::s5b_candidate_error(&s5b_sid)),
            ..content.clone()
        });
        let pending = peer
            .iq_start(stanza::iq(IqType::Set, Some(&to), error.to_element()), LONG)
            .await
            .unwrap();
        // xft connects to our candidate with DST.ADDR = SHA-1(sid + responder + initiator).
        let hash = xft::bytestream::s5b::dst_addr(&s5b_sid, &bob_full, &alice_full);
        let (mut socket, _) = tokio::time::timeout(LONG, listener.accept())
            .await
            .unwrap()
            .unwrap();
        xft::bytestream::socks5::accept(&mut socket, &hash, LONG)
            .await
            .unwrap();
        let mut reports = Vec::new();
        let mut got = vec![0u8; data.len()];
        let read = socket.read_exact(&mut got);
        tokio::pin!(read);
        // Acknowledge xft's transport-info (candidate-used) and later requests meanwhile.
        loop {
            tokio::select! {
                r = &mut read => { r.unwrap(); break; }
                Some(el) = route.next() => {
                    peer.reply_result(&el).await.unwrap();
                    reports.push(el);
                }
            }
        }
        let _ = pending.wait().await;
        // Then the checksum: acknowledge and end with success.
        while let Ok(Some(el)) = tokio::time::timeout(LONG, route.next()).await {
            peer.reply_result(&el).await.unwrap();
            let j = Jingle::from_element(el.get_child("jingle", JINGLE_NS).unwrap()).unwrap();
            reports.push(el);
            if j.payload.iter().any(|p| file::read_checksum(p).is_some()) {
                break;
            }
        }
        let end =
            Jingle::new(Action::SessionTerminate, &initiate.sid).with_reason(Reason::Success, None);
        let _ = peer
            .iq(stanza::iq(IqType::Set, Some(&to), end.to_element()))
            .await;
        let used = reports.iter().any(|el| {
            el.get_child("jingle", JINGLE_NS)
                .and_then(Jingle::from_element)
                .and_then(|j| j.contents.first().and_then(|c| c.transport.clone()))
                .and_then(|t| xft::jingle::transport::s5b_info(&t))
                == Some(xft::jingle::transport::S5bInfo::CandidateUsed(
                    "theirs1".into(),
                ))
        });
        assert!(used, "xft never said candidate-used for ours");
        peer.close().await;
        got
    });
    let out = sender.join().unwrap();
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("using the receiver's direct candidate"),
        "{}",
        stderr(&out)
    );
    assert!(got == data, "the bytes differ");
}

/// A sender whose proxy candidate the receiver used but who never activates it: the
/// receiver gives up after --timeout and ends the session at once (failed-transport),
/// rather than leaving the sender to find out by itself. Failed before the fix: the
/// receiver exited without a word to the sender.
#[test]
fn a_proxy_never_activated_ends_the_session_with_failed_transport() {
    let s = server();
    let (alice, bob) = (s.account("hjnoacta"), s.account("hjnoactb"));
    let dir = scratch_dir("jingle-noact");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--timeout", "3", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let target = receiver.jid.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reason = runtime.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let sid = stanza::new_id();
        let ns = "urn:xmpp:jingle:transports:s5b:1";
        // The test server's real proxy65: xft can connect, but nobody activates it.
        let proxy = xft::xml::Element::new("transport", ns)
            .attr("sid", "noactsid")
            .attr("mode", "tcp")
            .child(
                xft::xml::Element::new("candidate", ns)
                    .attr("cid", "proxy1")
                    .attr("host", "127.0.0.1")
                    .attr("port", s.proxy_port.to_string())
                    .attr("jid", support::PROXY)
                    .attr("priority", "655360")
                    .attr("type", "proxy"),
            );
        let offer = FileDesc {
            name: "never.bin".into(),
            size: 1000,
            hash_used: Some("sha-256".into()),
            ..FileDesc::default()
        };
        let initiate = file_initiate(&sid, &peer, &offer, proxy);
        let (sid_match, from) = (sid.clone(), target.clone());
        let mut route = peer.route(move |el| {
            el.get_attr("from") == Some(from.as_str())
                && el
                    .get_child("jingle", JINGLE_NS)
                    .is_some_and(|j| j.get_attr("sid") == Some(sid_match.as_str()))
        });
        peer.iq(stanza::iq(
            IqType::Set,
            Some(&target),
            initiate.to_element(),
        ))
        .await
        .unwrap();
        // Acknowledge everything; never activate; wait for the terminate.
        let mut reason = None;
        while let Ok(Some(el)) = tokio::time::timeout(Duration::from_secs(30), route.next()).await {
            let _ = peer.reply_result(&el).await;
            let j = Jingle::from_element(el.get_child("jingle", JINGLE_NS).unwrap()).unwrap();
            if j.action == Action::SessionTerminate {
                reason = j.reason.and_then(|r| r.0);
                break;
            }
        }
        peer.close().await;
        reason
    });
    let done = receiver.finish(LONG);
    assert_ne!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::FailedTransport), "{}", done.stderr);
    assert!(list_dir(&dir).is_empty(), "{:?}", list_dir(&dir));
}

/// A scripted Jingle sender over SOCKS5 that announces no hash (`hash-used`) but sends
/// a `<checksum/>` anyway, before its data: xft receives without hashing (the kernel
/// copies), then reads the file back with the checksum's algorithm. Returns the
/// receiver's session-terminate reason.
async fn scripted_s5b_send_with_unannounced_checksum(
    s: &support::Prosody,
    from: &support::Account,
    to: &str,
    data: &[u8],
    (algo, digest): (&str, Vec<u8>),
) -> Option<Reason> {
    use tokio::io::AsyncWriteExt;
    let (peer, _incoming) = peer_login(s, from).await;
    let to_full = xft::jid::Jid::parse(to).unwrap().to_full().unwrap();
    let sid = stanza::new_id();
    let s5b_sid = stanza::new_id();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let ns = "urn:xmpp:jingle:transports:s5b:1";
    let transport = xft::xml::Element::new("transport", ns)
        .attr("sid", s5b_sid.as_str())
        .attr("mode", "tcp")
        .child(
            xft::xml::Element::new("candidate", ns)
                .attr("cid", "mine1")
                .attr("host", "127.0.0.1")
                .attr("port", port.to_string())
                .attr("jid", peer.jid().to_string())
                .attr("priority", "8257536")
                .attr("type", "direct"),
        );
    let offer = FileDesc {
        name: "unannounced.bin".into(),
        size: data.len() as u64,
        ..FileDesc::default()
    };
    let content = Content {
        creator: "initiator".into(),
        name: "f".into(),
        senders: Some("initiator".into()),
        description: Some(offer.to_description()),
        transport: Some(transport),
    };
    let mut initiate = Jingle::new(Action::SessionInitiate, &sid);
    initiate.initiator = Some(peer.jid().to_string());
    initiate.contents.push(content.clone());
    let (mut route, _accept) = offer_and_accept(&peer, to, &initiate).await;
    // None of the receiver's candidates "works" for us; ours will.
    let mut error = Jingle::new(Action::TransportInfo, &sid);
    error.contents.push(Content {
        description: None,
        transport: Some(xft::jingle::transport::s5b_candidate_error(&s5b_sid)),
        ..content.clone()
    });
    let pending = peer
        .iq_start(stanza::iq(IqType::Set, Some(to), error.to_element()), LONG)
        .await
        .unwrap();
    let hash = xft::bytestream::s5b::dst_addr(&s5b_sid, peer.jid(), &to_full);
    let (mut socket, _) = tokio::time::timeout(LONG, listener.accept())
        .await
        .unwrap()
        .unwrap();
    xft::bytestream::socks5::accept(&mut socket, &hash, LONG)
        .await
        .unwrap();
    // Its candidate-used for ours.
    let used = tokio::time::timeout(LONG, route.next())
        .await
        .unwrap()
        .unwrap();
    peer.reply_result(&used).await.unwrap();
    let _ = pending.wait().await;
    let mut info = Jingle::new(Action::SessionInfo, &sid);
    info.payload
        .push(file::checksum("initiator", "f", algo, &digest));
    peer.iq(stanza::iq(IqType::Set, Some(to), info.to_element()))
        .await
        .unwrap();
    socket.write_all(data).await.unwrap();
    socket.shutdown().await.unwrap();
    let reason = terminate_reason(&peer, &mut route).await;
    peer.close().await;
    reason
}

/// Issue 12: over SOCKS5 with no hash announced, xft lets the kernel copy and checks an
/// unannounced checksum against the file afterwards, with the checksum's algorithm
/// (SHA-512 here, which the copy would not have computed); a wrong one is refused.
#[test]
fn an_unannounced_checksum_is_checked_against_the_file_afterwards() {
    use sha2::{Digest, Sha512};
    let s = server();
    let (alice, bob) = (s.account("hjlazya"), s.account("hjlazyb"));
    let data = pattern(3 << 20, 8);
    let dir = scratch_dir("jingle-lazy");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "-vv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sha512 = Sha512::digest(&data).to_vec();
    let reason = runtime.block_on(scripted_s5b_send_with_unannounced_checksum(
        s,
        &alice,
        &receiver.jid,
        &data,
        ("sha-512", sha512.clone()),
    ));
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::Success));
    assert!(
        done.stderr
            .contains("S5B data copied by the kernel (splice)"),
        "{}",
        done.stderr
    );
    let hex: String = sha512.iter().map(|b| format!("{b:02x}")).collect();
    let report: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&done.stdout)
            .lines()
            .find(|l| l.starts_with('{'))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["hash"],
        format!("sha-512:{hex}").as_str(),
        "{report}"
    );
    assert_eq!(std::fs::read(dir.join("unannounced.bin")).unwrap(), data);

    let bad = scratch_dir("jingle-lazy-bad");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--dir"]).arg(&bad);
    let receiver = Receiver::spawn(recv);
    let reason = runtime.block_on(scripted_s5b_send_with_unannounced_checksum(
        s,
        &alice,
        &receiver.jid,
        &data,
        ("sha-256", vec![0u8; 32]),
    ));
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(11), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::MediaError));
    assert!(list_dir(&bad).is_empty(), "{:?}", list_dir(&bad));
}

/// A sender that refuses our session-accept (as for a session it no longer knows) and
/// says nothing more: the receiver reports its candidates without waiting for the
/// accept's acknowledgement, but the refusal still ends the transfer at once, not after
/// `--timeout` (30 s here), and no file is left.
#[test]
fn a_refused_session_accept_ends_the_transfer_at_once() {
    let s = server();
    let (alice, bob) = (s.account("hjrefuse-a"), s.account("hjrefuse-b"));
    let dir = scratch_dir("jingle-refused-accept");
    let mut recv = s.xft(&bob);
    recv.args([
        "recv",
        "--accept-any",
        "--json",
        "--count",
        "1",
        "--timeout",
        "30",
    ])
    .arg("--dir")
    .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let to = receiver.jid.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = std::time::Instant::now();
    runtime.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let sid = stanza::new_id();
        let offer = FileDesc {
            name: "refused.bin".into(),
            size: 1000,
            hash_used: Some("sha-256".into()),
            ..FileDesc::default()
        };
        let ns = "urn:xmpp:jingle:transports:s5b:1";
        let transport = xft::xml::Element::new("transport", ns)
            .attr("sid", stanza::new_id())
            .attr("mode", "tcp");
        let initiate = file_initiate(&sid, &peer, &offer, transport);
        let (_route, accept) = offer_until_accept(&peer, &to, &initiate).await;
        let unknown = xft::stanza::StanzaError::new(
            xft::stanza::ErrorType::Cancel,
            xft::stanza::Condition::ItemNotFound,
        );
        peer.reply_error(&accept, &unknown).await.unwrap();
        let done = receiver.finish(LONG);
        assert_ne!(done.code, Some(0), "{}", done.stderr);
        peer.close().await;
    });
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the refusal ended it, not the 30 s timeout: {:?}",
        started.elapsed()
    );
    assert!(!dir.join("refused.bin").exists());
}
