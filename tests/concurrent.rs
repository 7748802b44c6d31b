//! Transfers side by side (issue 20, item 3; issue 19, item 4), against the real
//! `xft recv` and `xft send`: a sender that stops holds its own slot and nobody else,
//! an offer its sender ends while it waits is never accepted, and strangers' chat does
//! not crowd out the contacts'.

mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::{assert_exit, list_dir, pattern, peer_login, scratch_dir, server, Receiver};
use xft::jingle::file::FileDesc;
use xft::jingle::transport::Ibb;
use xft::jingle::{Action, Content, Jingle, Reason};
use xft::ns::JINGLE_NS;
use xft::stanza::{self, IqType};

const LONG: Duration = Duration::from_secs(60);

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: signalling a child process of this test.
    unsafe {
        libc::kill(child.id() as libc::pid_t, sig);
    }
}

/// Waits until `ready` holds (checked every 20 ms), for at most [`LONG`].
fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + LONG;
    while !ready() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Three senders to one `xft recv --count 0`; the first is frozen (SIGSTOP) in the
/// middle of a slow in-band transfer. The other two finish as they would alone: they
/// used to wait for the frozen one's stall deadline (the receiver's `--timeout`, 20 s
/// here), one transfer after the other.
#[test]
fn a_frozen_sender_delays_nobody_else() {
    let s = server();
    let bob = s.account("parb");
    let dir = scratch_dir("parallel");
    let mut recv = s.xft(&bob);
    recv.args([
        "recv",
        "--accept-any",
        "--count",
        "0",
        "--timeout",
        "20",
        "--json",
        "--dir",
    ])
    .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let src = scratch_dir("parallel-src");
    std::fs::write(src.join("slow.bin"), pattern(20 << 20, 1)).unwrap();
    let mut slow = s.xft(&s.account("parslow"));
    slow.args([
        "send",
        "--method",
        "ibb",
        "--block-size",
        "1024",
        "--window",
        "1",
    ])
    .arg(src.join("slow.bin"))
    .arg(&receiver.jid)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let mut slow = slow.spawn().unwrap();
    wait_for("the slow transfer is moving", || {
        receiver.progress_bytes() > 0
    });
    signal(&slow, libc::SIGSTOP);
    let mut took = Vec::new();
    for n in 0..2 {
        let name = format!("quick{n}.bin");
        std::fs::write(src.join(&name), pattern(1 << 20, 2 + n)).unwrap();
        let mut quick = s.xft(&s.account(&format!("parquick{n}")));
        quick.arg("send").arg(src.join(&name)).arg(&receiver.jid);
        let started = Instant::now();
        assert_exit(&support::run(quick), 0);
        took.push(started.elapsed());
    }
    signal(&slow, libc::SIGKILL);
    let _ = slow.wait();
    let done = receiver.kill();
    for t in &took {
        assert!(
            *t < Duration::from_secs(10),
            "a quick send took {t:?}: {}",
            done.stderr
        );
    }
    let files = list_dir(&dir);
    assert!(
        files.contains(&"quick0.bin".to_owned()) && files.contains(&"quick1.bin".to_owned()),
        "{files:?}"
    );
}

/// Issue 19, item 4: a contact who opened sessions and cancelled them while they
/// waited (here behind a transfer that holds the only slot, `--parallel 1`) kept the
/// next real file waiting: each was accepted in turn and waited out its own deadline.
/// A session its sender ends while it waits is dropped at once: never accepted, its
/// terminate answered.
#[test]
fn offers_cancelled_while_waiting_are_never_accepted() {
    let s = server();
    let bob = s.account("cancelb");
    let dir = scratch_dir("cancelled");
    let mut recv = s.xft(&bob);
    recv.args([
        "recv",
        "--accept-any",
        "--count",
        "0",
        "--parallel",
        "1",
        "--timeout",
        "20",
        "--dir",
    ])
    .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let src = scratch_dir("cancelled-src");
    std::fs::write(src.join("slot.bin"), pattern(20 << 20, 5)).unwrap();
    let mut holder = s.xft(&s.account("cancelhold"));
    holder
        .args([
            "send",
            "--method",
            "ibb",
            "--block-size",
            "1024",
            "--window",
            "1",
        ])
        .arg(src.join("slot.bin"))
        .arg(&receiver.jid)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut holder = holder.spawn().unwrap();
    wait_for("the slot is taken", || receiver.progress_bytes() > 0);
    let alice = s.account("cancela");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let accepted = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let to = receiver.jid.clone();
        let mut accepts = peer.route(|el| {
            el.get_child("jingle", JINGLE_NS)
                .and_then(|j| j.get_attr("action"))
                == Some("session-accept")
        });
        for n in 0..5 {
            let sid = format!("cancelled{n}");
            let ack = peer
                .iq(stanza::iq(IqType::Set, Some(&to), offer(&peer, &sid)))
                .await;
            assert!(ack.is_ok(), "a waiting offer is acknowledged: {ack:?}");
            let end = Jingle::new(Action::SessionTerminate, &sid).with_reason(Reason::Cancel, None);
            let answered = peer
                .iq(stanza::iq(IqType::Set, Some(&to), end.to_element()))
                .await;
            assert!(answered.is_ok(), "the terminate is answered: {answered:?}");
        }
        // The slot frees; then a real offer, which must be the first one accepted.
        signal(&holder, libc::SIGKILL);
        let ack = peer
            .iq(stanza::iq(IqType::Set, Some(&to), offer(&peer, "real")))
            .await;
        assert!(ack.is_ok());
        let first = tokio::time::timeout(LONG, accepts.next())
            .await
            .unwrap()
            .unwrap();
        peer.reply_result(&first).await.unwrap();
        let sid = first
            .get_child("jingle", JINGLE_NS)
            .and_then(|j| j.get_attr("sid"))
            .map(str::to_owned);
        peer.close().await;
        sid
    });
    let _ = holder.wait();
    receiver.kill();
    assert_eq!(
        accepted.as_deref(),
        Some("real"),
        "a cancelled offer was accepted"
    );
}

/// A Jingle offer of a small file over IBB, as a session-initiate payload.
fn offer(peer: &xft::session::Session, sid: &str) -> xft::xml::Element {
    let file = FileDesc {
        name: format!("{sid}.bin"),
        size: 10,
        ..FileDesc::default()
    };
    let ibb = Ibb {
        sid: format!("{sid}-ibb"),
        block_size: 4096,
    };
    let content = Content {
        creator: "initiator".into(),
        name: "f".into(),
        senders: Some("initiator".into()),
        description: Some(file.to_description()),
        transport: Some(ibb.to_element()),
    };
    let mut initiate = Jingle::about(Action::SessionInitiate, sid, content);
    initiate.initiator = Some(peer.jid().to_string());
    initiate.to_element()
}

/// Issue 19: strangers who flood `xft recv` with chat (here while it is offline, so
/// the server hands it all over at once) took the whole budget of shown messages,
/// and a contact's message was not shown. Contacts have a budget of their own, and the
/// end says how many were not shown.
#[test]
fn strangers_chat_does_not_crowd_out_contacts() {
    let s = support::upload_server();
    let (alice, bob, mallory) = (s.account("chata"), s.account("chatb"), s.account("chatm"));
    s.make_contacts(&alice, &bob);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (stranger, _i) = peer_login(s, &mallory).await;
        for n in 0..40 {
            stranger
                .send(chat(&bob.jid, &format!("spam {n}")))
                .await
                .unwrap();
        }
        stranger.close().await;
        let (contact, _i) = peer_login(s, &alice).await;
        contact
            .send(chat(&bob.jid, "hello from a contact"))
            .await
            .unwrap();
        contact.close().await;
    });
    let dir = scratch_dir("chat-flood");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--count", "1", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    wait_for("the contact's message is shown", || {
        receiver.stderr_text().contains("hello from a contact")
    });
    let file = scratch_dir("chat-flood-src").join("end.bin");
    std::fs::write(&file, b"end").unwrap();
    let mut send = s.xft(&alice);
    send.arg("send").arg(&file).arg(&receiver.jid);
    assert_exit(&support::run(send), 0);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("30 from strangers"), "{}", done.stderr);
}

fn chat(to: &str, body: &str) -> xft::xml::Element {
    xft::xml::Element::new("message", xft::ns::CLIENT_NS)
        .attr("to", to)
        .attr("type", "chat")
        .child(xft::xml::Element::new("body", xft::ns::CLIENT_NS).text(body))
}

/// Issue 20, item 3: `xft send --to A --to B --to C` sent to one recipient after the
/// other, so one that never answers (here a client that ignores the offer) held the
/// others for the whole `--timeout`. They are sent to side by side: the two that answer
/// have their files long before the silent one's `--timeout`, and the exit code is the
/// silent one's (10), with a line per recipient.
#[test]
fn one_silent_recipient_delays_no_other() {
    let s = server();
    let alice = s.account("tosend");
    let receivers: Vec<(Receiver, std::path::PathBuf)> = (0..2)
        .map(|n| {
            let dir = scratch_dir(&format!("to-many-{n}"));
            let mut recv = s.xft(&s.account(&format!("tob{n}")));
            recv.args(["recv", "--accept-any", "--dir"]).arg(&dir);
            (Receiver::spawn(recv), dir)
        })
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (silent, _incoming) = rt.block_on(peer_login(s, &s.account("tosilent")));
    let file = scratch_dir("to-many-src").join("m.bin");
    std::fs::write(&file, pattern(1 << 20, 9)).unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--timeout", "12", "--method", "s5b"])
        .arg(&file)
        .args([
            "--to",
            &receivers[0].0.jid,
            "--to",
            &silent.jid().to_string(),
            "--to",
            &receivers[1].0.jid,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let sender = send.spawn().unwrap();
    for (receiver, dir) in receivers {
        let done = receiver.finish(LONG);
        let took = started.elapsed();
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        assert!(took < Duration::from_secs(6), "a recipient waited {took:?}");
        assert_eq!(list_dir(&dir), ["m.bin"]);
    }
    let out = sender.wait_with_output().unwrap();
    rt.block_on(silent.close());
    assert_eq!(out.status.code(), Some(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches(": sent").count(), 2, "{err}");
    assert!(err.contains("1 of 3 recipients failed"), "{err}");
}
