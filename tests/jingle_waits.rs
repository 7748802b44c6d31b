//! How long a Jingle transfer waits for a peer that stops, cancels or forgets, against
//! the real `xft send` and `xft recv` (issue 19, items 3 and 5): every wait takes its
//! bound from `--timeout`, a stopped peer costs one of them, and a terminate in the
//! middle of the data is answered and ends the transfer at once.

mod support;

use std::time::{Duration, Instant};

use support::{assert_exit, list_dir, pattern, peer_login, scratch_dir, server, stderr, Receiver};
use xft::bytestream::ibb::IbbSender;
use xft::jingle::file::FileDesc;
use xft::jingle::transport::Ibb;
use xft::jingle::{Action, Content, Jingle, Reason};
use xft::ns::{CLIENT_NS, JINGLE_NS};
use xft::session::{Incoming, Route, Session};
use xft::stanza::{self, IqType};
use xft::xml::Element;

/// The promise at `--timeout 3`: one timeout after the fault, and 3 s for a loaded
/// 2-core machine and the exit.
const PROMISE: Duration = Duration::from_secs(6);
const LONG: Duration = Duration::from_secs(60);

/// A scripted Jingle sender over IBB, stopped after the offer was accepted and the
/// bytestream opened.
struct Sender {
    peer: Session,
    _incoming: Incoming,
    /// Claims the session's requests from the receiver, unanswered.
    _route: Route,
    to: String,
    sid: String,
    ibb: Option<IbbSender>,
}

/// Offers `size` bytes as `name` to `to` over IBB, with `hash-used` sha-256, and opens
/// the bytestream once accepted.
async fn offer_over_ibb(
    s: &support::Prosody,
    from: &support::Account,
    to: &str,
    size: u64,
) -> Sender {
    let (peer, incoming) = peer_login(s, from).await;
    peer.send(Element::new("presence", CLIENT_NS).attr("to", to))
        .await
        .unwrap();
    let sid = stanza::new_id();
    let ibb = Ibb {
        sid: stanza::new_id(),
        block_size: 4096,
    };
    let file = FileDesc {
        name: "w.bin".into(),
        size,
        hash_used: Some("sha-256".into()),
        ..FileDesc::default()
    };
    let content = Content {
        creator: "initiator".into(),
        name: "f".into(),
        senders: Some("initiator".into()),
        description: Some(file.to_description()),
        transport: Some(ibb.to_element()),
    };
    let mut initiate = Jingle::about(Action::SessionInitiate, &sid, content);
    initiate.initiator = Some(peer.jid().to_string());
    let (ours, from_jid) = (sid.clone(), to.to_owned());
    let mut route = peer.route(move |el| {
        el.get_attr("from") == Some(from_jid.as_str())
            && el
                .get_child("jingle", JINGLE_NS)
                .is_some_and(|j| j.get_attr("sid") == Some(ours.as_str()))
    });
    peer.iq(stanza::iq(IqType::Set, Some(to), initiate.to_element()))
        .await
        .unwrap();
    let accept = tokio::time::timeout(LONG, route.next())
        .await
        .unwrap()
        .unwrap();
    peer.reply_result(&accept).await.unwrap();
    let target = xft::jid::Jid::parse(to).unwrap();
    let ibb = IbbSender::open(&peer, &target, &ibb.sid, 4096, LONG)
        .await
        .unwrap();
    Sender {
        peer,
        _incoming: incoming,
        _route: route,
        to: to.to_owned(),
        sid,
        ibb: Some(ibb),
    }
}

impl Sender {
    async fn send(&mut self, data: &[u8]) {
        let mut reader = data;
        let ibb = self.ibb.as_mut().unwrap();
        ibb.send(&mut reader, data.len() as u64, 8).await.unwrap();
    }

    /// §2.3: closes the bytestream (every block was acknowledged).
    async fn close(&mut self) {
        self.ibb.take().unwrap().close().await.unwrap();
    }

    /// Sends a session-terminate; returns how long its acknowledgement took (None when
    /// it never came within [`LONG`]).
    async fn terminate(&self, reason: Reason) -> Option<Duration> {
        let end = Jingle::new(Action::SessionTerminate, &self.sid).with_reason(reason, None);
        let iq = stanza::iq(IqType::Set, Some(&self.to), end.to_element());
        let asked = Instant::now();
        self.peer
            .iq_timeout(iq, LONG)
            .await
            .ok()
            .map(|_| asked.elapsed())
    }
}

fn receiver(tag: &str) -> (Receiver, std::path::PathBuf, support::Account) {
    let s = server();
    let bob = s.account(&format!("{tag}b"));
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--timeout", "3", "--dir"])
        .arg(&dir);
    (Receiver::spawn(recv), dir, bob)
}

/// Item 3: a sender cancels in the middle of an in-band Jingle transfer. Its terminate
/// went unanswered and the receiver noticed only at its stall deadline. It is answered
/// at once, and the receiver stops at once with the reason (exit 9), keeping no file
/// under the final name.
#[test]
fn a_terminate_during_in_band_data_is_answered_and_ends_the_transfer() {
    let (recv, dir, _) = receiver("jwait-cancel");
    let s = server();
    let alice = s.account("jwait-cancela");
    let data = pattern(200_000, 11);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (acked, ended) = rt.block_on(async {
        let mut sender = offer_over_ibb(s, &alice, &recv.jid, data.len() as u64).await;
        sender.send(&data[..50_000]).await;
        let acked = sender.terminate(Reason::Cancel).await;
        let ended = Instant::now();
        sender.peer.close().await;
        (acked, ended)
    });
    let done = recv.finish(LONG);
    let stopped = ended.elapsed();
    assert_eq!(done.code, Some(9), "{}", done.stderr);
    assert!(done.stderr.contains("cancel"), "{}", done.stderr);
    let acked = acked.expect("the terminate was answered");
    assert!(acked < Duration::from_secs(2), "answered after {acked:?}");
    assert!(
        stopped < Duration::from_secs(2),
        "stopped after {stopped:?}"
    );
    assert_eq!(list_dir(&dir), ["w.bin.part"]);
}

/// Item 5: a sender that stops in the middle of the data (and stays online) cost the
/// receiver its stall deadline and then 5 s more waiting for the acknowledgement of its
/// own terminate: twice `--timeout` where SI took once. One `--timeout` now.
#[test]
fn a_sender_that_stops_costs_one_timeout() {
    let (recv, dir, _) = receiver("jwait-stop");
    let s = server();
    let alice = s.account("jwait-stopa");
    let data = pattern(200_000, 12);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sender, stopped) = rt.block_on(async {
        let mut sender = offer_over_ibb(s, &alice, &recv.jid, data.len() as u64).await;
        sender.send(&data[..50_000]).await;
        (sender, Instant::now())
    });
    let done = recv.finish(LONG);
    let took = stopped.elapsed();
    rt.block_on(sender.peer.close());
    assert_eq!(done.code, Some(10), "{}", done.stderr);
    assert!(took < PROMISE, "took {took:?}");
    assert_eq!(list_dir(&dir), ["w.bin.part"]);
}

/// Item 5: the sender announces a checksum (`hash-used`), sends every byte and then
/// nothing (no checksum, no terminate). The receiver waited a fixed 10 s for the
/// checksum and then 10 s for acknowledgements: one `--timeout` now, then the file is
/// taken on its size, as from a sender that sends no checksum.
#[test]
fn a_checksum_that_never_comes_costs_one_timeout() {
    let (recv, dir, _) = receiver("jwait-nosum");
    let s = server();
    let alice = s.account("jwait-nosuma");
    let data = pattern(60_000, 13);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sender, sent) = rt.block_on(async {
        let mut sender = offer_over_ibb(s, &alice, &recv.jid, data.len() as u64).await;
        sender.send(&data).await;
        sender.close().await;
        (sender, Instant::now())
    });
    let done = recv.finish(LONG);
    let took = sent.elapsed();
    rt.block_on(sender.peer.close());
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report: serde_json::Value = serde_json::from_slice(&done.stdout).expect("one JSON report");
    assert_eq!(report["hash"], serde_json::Value::Null, "{report}");
    assert!(took < PROMISE, "took {took:?}");
    assert_eq!(std::fs::read(dir.join("w.bin")).unwrap(), data);
}

/// Item 5, the sender's side: a receiver that accepts, takes part of the file and then
/// stops acknowledging (online, silent). `xft send` gave up after its stall deadline
/// and 5 s more for the acknowledgement of its terminate; one `--timeout` now, and the
/// receiver is told at once.
#[test]
fn xft_send_to_a_receiver_that_stops_costs_one_timeout() {
    let s = server();
    let (alice, bob) = (s.account("jwait-senda"), s.account("jwait-sendb"));
    let file = scratch_dir("jwait-send-src").join("s.bin");
    std::fs::write(&file, pattern(400_000, 14)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = jingle_peer(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args([
            "send",
            "--protocol",
            "jingle",
            "--method",
            "ibb",
            "--timeout",
            "3",
        ])
        .arg(&file)
        .arg(peer.jid().to_string());
        let child = async {
            let out = tokio::process::Command::from(send).output().await;
            (out, Instant::now())
        };
        let receiving = stop_after_some_blocks(&peer, &mut incoming);
        let ((out, ended), (stopped, terminated)) = tokio::join!(child, receiving);
        let out = out.unwrap();
        assert_exit(&out, 10);
        assert!(stderr(&out).contains("3 s"), "{}", stderr(&out));
        let took = ended - stopped;
        assert!(took < PROMISE, "took {took:?}");
        let told = terminated.expect("the receiver was told") - stopped;
        assert!(told < PROMISE, "told after {told:?}");
        peer.close().await;
    });
}

/// A library peer that advertises Jingle file transfer (the scripted peers of the other
/// tests play SI clients).
async fn jingle_peer(s: &support::Prosody, account: &support::Account) -> (Session, Incoming) {
    let mut settings = support::peer_settings(s, account);
    settings.features = xft::disco::client_features();
    Session::login(&settings, &account.password).await.unwrap()
}

/// Plays a Jingle receiver: accepts the offer (IBB as offered), acknowledges the open
/// and a few blocks, then falls silent. Returns when it fell silent and when the
/// sender's session-terminate came.
async fn stop_after_some_blocks(
    peer: &Session,
    incoming: &mut Incoming,
) -> (Instant, Option<Instant>) {
    let offer = loop {
        let el = incoming.next().await.unwrap();
        if el.get_child("jingle", JINGLE_NS).is_some() {
            break el;
        }
    };
    let jingle = Jingle::from_element(offer.get_child("jingle", JINGLE_NS).unwrap()).unwrap();
    let from = offer.get_attr("from").unwrap().to_owned();
    let mut route = peer.route({
        let from = from.clone();
        move |el| el.get_attr("from") == Some(from.as_str()) && IqType::of(el) == Some(IqType::Set)
    });
    peer.reply_result(&offer).await.unwrap();
    let mut accept = Jingle::new(Action::SessionAccept, &jingle.sid);
    accept.contents = jingle.contents.clone();
    accept.responder = Some(peer.jid().to_string());
    peer.iq(stanza::iq(IqType::Set, Some(&from), accept.to_element()))
        .await
        .unwrap();
    let mut answered = 0;
    let mut stopped = None;
    loop {
        let Ok(Some(el)) = tokio::time::timeout(LONG, route.next()).await else {
            return (stopped.unwrap_or_else(Instant::now), None);
        };
        let is_terminate = el
            .get_child("jingle", JINGLE_NS)
            .and_then(|j| j.get_attr("action"))
            == Some("session-terminate");
        if is_terminate {
            return (stopped.unwrap_or_else(Instant::now), Some(Instant::now()));
        }
        if answered < 5 {
            answered += 1;
            peer.reply_result(&el).await.unwrap();
        } else {
            stopped.get_or_insert_with(Instant::now);
        }
    }
}

/// Item 5: `xft send` to a full JID that never answers disco#info waited the whole
/// `--timeout` for it, then offered anyway and waited a second `--timeout` for the
/// offer. No answer to disco is no answer: one `--timeout` (exit 10). The peer is a
/// component that answers nothing at all.
#[test]
fn a_peer_that_never_answers_disco_costs_one_timeout() {
    use support::component::Component;
    let _silent = Component::start(|_| None);
    let s = support::component_server();
    let alice = s.account("jwait-disco");
    let file = scratch_dir("jwait-disco-src").join("d.bin");
    std::fs::write(&file, b"hello").unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--method", "s5b", "--timeout", "3"])
        .arg(&file)
        .arg(format!("{}/phone", support::COMPONENT));
    let started = Instant::now();
    let out = support::run(send);
    let took = started.elapsed();
    assert_exit(&out, 10);
    assert!(took < Duration::from_millis(5500), "took {took:?}");
}
