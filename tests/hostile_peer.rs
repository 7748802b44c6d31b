//! A scripted sender that breaks XEP-0047's rules, against the real `xft recv`: every
//! case must end with its exit code, the `.part` kept, and no final file.

mod support;

use std::time::Duration;
use xft::ns::{CLIENT_NS, IBB_NS, SI_NS};
use xft::stanza::Condition;
use xft::stanza::IqType;

use support::{list_dir, pattern, peer_login, scratch_dir, server, Receiver};
use xft::jid::FullJid;
use xft::session::{IqError, Session};
use xft::si::{self, FileOffer, StreamMethod};
use xft::stanza::{self, ErrorType};
use xft::xml::Element;

const LONG: Duration = Duration::from_secs(60);

/// What the scripted sender does after the bytestream is open.
enum Script {
    /// Send these (seq, base64 payload) blocks, then close.
    Blocks(Vec<(u16, String)>),
    /// Send these blocks, then log out without closing.
    BlocksThenVanish(Vec<(u16, String)>),
    /// Send blocks of this many bytes, one each interval, until one is refused.
    Trickle(usize, Duration),
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
    let target = receiver.target();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let close_answer = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        // Directed presence, as xft send does, so the receiver hears when we vanish.
        peer.send(Element::new("presence", CLIENT_NS).attr("to", target.to_string()))
            .await
            .unwrap();
        let sid = offer(&peer, &target, offered_size, offered_md5).await;
        open(&peer, &target, &sid).await;
        let (blocks, vanish, every) = match script {
            Script::Blocks(b) => (b, false, Duration::ZERO),
            Script::BlocksThenVanish(b) => (b, true, Duration::ZERO),
            Script::Trickle(len, every) => {
                let blocks = (0..120u16)
                    .map(|seq| (seq, b64(&vec![b'x'; len])))
                    .collect();
                (blocks, false, every)
            }
        };
        let mut refused = false;
        for (seq, payload) in blocks {
            tokio::time::sleep(every).await;
            let data = Element::new("data", IBB_NS)
                .attr("seq", seq.to_string())
                .attr("sid", sid.as_str())
                .text(payload);
            if peer
                .iq(stanza::iq(IqType::Set, Some(&target.to_string()), data))
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
            .iq(stanza::iq(IqType::Set, Some(&target.to_string()), close))
            .await
            .map(|_| ());
        peer.close().await;
        Some(answer)
    });
    let done = receiver.finish(LONG);
    (done.code, done.stderr, dir, close_answer)
}

async fn offer(peer: &Session, target: &FullJid, size: u64, md5: &str) -> String {
    offer_named(peer, target, "evil.bin", size, md5).await
}

async fn offer_named(peer: &Session, target: &FullJid, name: &str, size: u64, md5: &str) -> String {
    let offer = FileOffer {
        sid: stanza::new_id(),
        mime_type: None,
        name: name.into(),
        size,
        md5: Some(md5.to_owned()),
        date: None,
        desc: None,
        methods: vec![StreamMethod::Ibb],
        ranged: false,
    };
    let answer = peer
        .iq(stanza::iq(
            IqType::Set,
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
    peer.iq(stanza::iq(IqType::Set, Some(&target.to_string()), open))
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
    // Not one byte was accepted: no empty .part is left behind (issue 8, item 14).
    assert_eq!(list_dir(&dir), Vec::<String>::new());
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
        Some(Err(IqError::Stanza(e))) => assert!(e.is(Condition::NotAcceptable), "{e}"),
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

/// A scripted IBB receiver for `xft send --method ibb`: acknowledges every block, then
/// answers the close with `close_error` (or a result). Returns xft send's output.
fn send_to_scripted_ibb_receiver(tag: &str, close_error: Option<&str>) -> std::process::Output {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("gloox"));
    let file = scratch_dir(tag).join("g.bin");
    let data = pattern(20_000, 31);
    std::fs::write(&file, &data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args(["send", "--method", "ibb", "--timeout", "20"])
            .arg(&file)
            .arg(peer.jid().to_string());
        let child = tokio::process::Command::from(send).output();
        let peer_side = async {
            let (offer_iq, from, offer) = support::next_file_offer(&mut incoming).await;
            let mut ibb =
                xft::bytestream::ibb::IbbReceiver::listen(&peer, from.as_jid(), &offer.sid);
            peer.send(stanza::iq_result(&offer_iq).child(si::answer_element(StreamMethod::Ibb)))
                .await
                .unwrap();
            ibb.accept_open(Duration::from_secs(20)).await.unwrap();
            let mut got = Vec::new();
            let (n, close) = ibb
                .receive(&mut got, offer.size, Duration::from_secs(20))
                .await
                .unwrap();
            assert_eq!(n, data.len() as u64);
            match close_error {
                None => close.acknowledge().await,
                Some("not-acceptable") => close.refuse("short").await,
                Some(condition) => {
                    // What gloox 1.0.24 does once it has the whole file.
                    let request = close.into_request();
                    let error = xft::stanza::StanzaError::new(
                        ErrorType::Cancel,
                        Condition::from_name(condition).unwrap(),
                    );
                    peer.reply_error(&request, &error).await.unwrap();
                }
            }
        };
        let (out, ()) = tokio::join!(child, peer_side);
        peer.close().await;
        out.unwrap()
    })
}

/// Issue 8, item 9: every block acknowledged, then the close answered with
/// service-unavailable (gloox). The file arrived whole: exit 0 with a warning.
#[test]
fn close_refused_after_every_block_is_only_a_warning() {
    let out = send_to_scripted_ibb_receiver("gloox-close", Some("service-unavailable"));
    support::assert_exit(&out, 0);
    let err = support::stderr(&out);
    assert!(err.contains("treating the transfer as complete"), "{err}");
}

/// The explicit "not whole" answer still fails the sender (the counterpart of the
/// above, so the leniency cannot swallow a real refusal).
#[test]
fn close_refused_as_not_acceptable_is_an_integrity_failure() {
    let out = send_to_scripted_ibb_receiver("refused-close", Some("not-acceptable"));
    support::assert_exit(&out, 11);
}

/// Issue 8, item 12: over IBB the receiver cannot write (/dev/full). It must tell the
/// sender at once, with the cause; before the fix the sender waited for its whole
/// --timeout and exited 10.
#[test]
fn ibb_receiver_write_failure_reaches_the_sender_at_once() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "-o", "/dev/full"]);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("ibb-full-src").join("f.bin");
    std::fs::write(&file, pattern(2 << 20, 32)).unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--method", "ibb", "--timeout", "60"])
        .arg(&file)
        .arg(&receiver.jid);
    let started = std::time::Instant::now();
    let out = support::run(send);
    let elapsed = started.elapsed();
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(12), "{}", done.stderr);
    assert_exit_any(&out, &[9, 11]);
    assert!(
        support::stderr(&out).contains("cannot write the file"),
        "{}",
        support::stderr(&out)
    );
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}

#[track_caller]
fn assert_exit_any(out: &std::process::Output, codes: &[i32]) {
    let code = out.status.code().unwrap_or(-1);
    assert!(
        codes.contains(&code),
        "exit {code}, wanted one of {codes:?}:\n{}",
        support::stderr(out)
    );
}

/// Issue 8, item 15: a file name with a right-to-left override and a C1 control (U+009B
/// is a one-byte CSI) is printed escaped, never raw.
#[test]
fn names_from_the_network_are_escaped_on_the_terminal() {
    let s = server();
    let (alice, bob) = (s.account("mallory"), s.account("bob"));
    let dir = scratch_dir("bidi");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--timeout", "5", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let target = receiver.target();
    let data = pattern(100, 33);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let name = "invoice\u{202E}fdp.exe\u{9b}2J";
        let sid = offer_named(&peer, &target, name, 100, &md5_hex(&data)).await;
        open(&peer, &target, &sid).await;
        let block = Element::new("data", IBB_NS)
            .attr("seq", "0")
            .attr("sid", sid.as_str())
            .text(b64(&data));
        peer.iq(stanza::iq(IqType::Set, Some(&target.to_string()), block))
            .await
            .unwrap();
        let close = Element::new("close", IBB_NS).attr("sid", sid.as_str());
        peer.iq(stanza::iq(IqType::Set, Some(&target.to_string()), close))
            .await
            .unwrap();
        peer.close().await;
    });
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let line = done
        .stderr
        .lines()
        .find(|l| l.starts_with("Received"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains("invoice\\u{202e}fdp.exe\\u{009b}2J"),
        "{line}"
    );
    assert!(
        !line.contains('\u{202E}') && !line.contains('\u{9b}'),
        "{line}"
    );
}

/// Issue 19, item 2: a sender that sends a little now and then (256 bytes every half
/// second, under the 4 KiB that must move in every `--timeout`) reset the receiver's
/// deadline with each block, and would have kept it for a minute. It is a stall: exit
/// 10 after one `--timeout` (5 s here), with the `.part` kept.
#[test]
fn a_trickling_in_band_sender_is_a_stall() {
    let started = std::time::Instant::now();
    let (code, stderr, dir, _) = run_script(
        "ibb-trickle",
        1 << 20,
        &md5_hex(b"whatever"),
        Script::Trickle(256, Duration::from_millis(500)),
    );
    let elapsed = started.elapsed();
    assert_eq!(code, Some(10), "{stderr}");
    assert!(stderr.contains("no data moved"), "{stderr}");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert_eq!(list_dir(&dir), ["evil.bin.part"]);
}

/// Issue 8, item 5: a stranger sends `xft recv` an iq nested 36,000 levels deep (under
/// Prosody's stanza size limit). Dropping or logging it overflowed xft's stack
/// (SIGABRT). Issue 19, item 8: the cure, refusing it, ended the session (exit 15), so
/// a few hundred bytes from anyone stopped a `xft recv --count 0` for good. Now the
/// stanza is skipped (the iq answered `bad-request`, a message dropped), and the next
/// file still arrives.
#[test]
fn deeply_nested_stanzas_are_skipped_and_receiving_goes_on() {
    let s = server();
    let (alice, bob) = (s.account("stranger"), s.account("bob"));
    let dir = scratch_dir("deeply-nested");
    let mut recv = s.xft(&bob);
    recv.args(["-vv", "recv", "--accept-any", "--timeout", "5", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let target = receiver.jid.clone();
    // Our own peer must build and serialise the monster: give it a stack to match.
    let sender = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let (peer, _incoming) = peer_login(s, &alice).await;
                let nest = |levels: usize| {
                    let mut inner = Element::new("a", "urn:xft:deep");
                    for _ in 1..levels {
                        inner = Element::new("a", "urn:xft:deep").child(inner);
                    }
                    inner
                };
                // Just past the limit, in a message (the stanza is the first level).
                let message = Element::new("message", CLIENT_NS)
                    .attr("to", target.as_str())
                    .child(nest(xft::xml::MAX_DEPTH));
                peer.send(message).await.unwrap();
                let iq = stanza::iq(IqType::Get, Some(&target), nest(36_000));
                let answer = peer.iq(iq).await;
                peer.close().await;
                answer
            })
        })
        .unwrap();
    let answer = sender.join().expect("the peer ran");
    match answer {
        Err(IqError::Stanza(e)) => assert!(e.is(Condition::BadRequest), "{e}"),
        other => panic!("the nested iq was answered {other:?}"),
    }
    let file = dir.join("../deeply-nested-source.bin");
    std::fs::write(&file, pattern(5000, 3)).unwrap();
    let mut send = s.xft(&s.account("alice"));
    send.arg("send").arg(&file).arg(&receiver.jid);
    support::assert_exit(&support::run(send), 0);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("nested deeper"), "{}", done.stderr);
    assert_eq!(list_dir(&dir), ["deeply-nested-source.bin"]);
}

/// Peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Issue 8, item 11: while a transfer runs, a stranger floods `xft recv` with large
/// messages (30 MB) and then asks it something unrelated. The flood must not pile up in
/// memory (it grew recv from 8 to 112 MiB), and the question must be answered now,
/// not when the transfer ends.
#[test]
fn a_flood_during_a_transfer_neither_grows_memory_nor_delays_answers() {
    let s = server();
    let (alice, bob, carol) = (s.account("mallory"), s.account("bob"), s.account("flood"));
    let dir = scratch_dir("flood");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--timeout", "30", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let pid = receiver.pid();
    let target = receiver.target();
    let data = pattern(100, 34);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (waited, answer, peak) = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let sid = offer(&peer, &target, 100, &md5_hex(&data)).await;
        open(&peer, &target, &sid).await;
        let block = |seq: u16, bytes: &[u8]| {
            let data = Element::new("data", IBB_NS)
                .attr("seq", seq.to_string())
                .attr("sid", sid.as_str())
                .text(b64(bytes));
            stanza::iq(IqType::Set, Some(&target.to_string()), data)
        };
        peer.iq(block(0, &data[..50])).await.unwrap();
        // The transfer waits for its next block; meanwhile, the flood.
        let (flooder, _flood_incoming) = peer_login(s, &carol).await;
        let body = "x".repeat(200_000);
        for _ in 0..150 {
            let message = Element::new("message", CLIENT_NS)
                .attr("to", target.to_string())
                .attr("type", "chat")
                .child(Element::new("body", CLIENT_NS).text(body.as_str()));
            flooder.send(message).await.unwrap();
        }
        let started = std::time::Instant::now();
        // XEP-0012 last activity: a request xft does not handle.
        let version = Element::new("query", "jabber:iq:last");
        let answer = flooder
            .iq_timeout(
                stanza::iq(IqType::Get, Some(&target.to_string()), version),
                Duration::from_secs(15),
            )
            .await;
        let waited = started.elapsed();
        let peak = peak_rss_kib(pid);
        peer.iq(block(1, &data[50..])).await.unwrap();
        let close = Element::new("close", IBB_NS).attr("sid", sid.as_str());
        peer.iq(stanza::iq(IqType::Set, Some(&target.to_string()), close))
            .await
            .unwrap();
        flooder.close().await;
        peer.close().await;
        (waited, answer, peak)
    });
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    match answer {
        Err(IqError::Stanza(e)) => assert!(e.is(Condition::ServiceUnavailable), "{e}"),
        other => panic!("wanted service-unavailable during the transfer, got {other:?}"),
    }
    eprintln!("flood: peak RSS {peak} KiB, unrelated iq answered after {waited:?}");
    // The answer must not wait for the transfer (which waits for us): before the fix
    // it came only after the transfer ended, so the iq above timed out.
    assert!(
        waited < Duration::from_secs(14),
        "answered after {waited:?}"
    );
    assert!(
        peak < 24 * 1024,
        "xft recv peaked at {peak} KiB during a 30 MB flood"
    );
    assert!(std::fs::read(dir.join("evil.bin")).unwrap() == data);
}

/// Offers a 100-byte file over IBB, then sends the iq payloads `script` builds for the
/// session id, one at a time. Returns the receiver's exit code and stderr, the
/// directory, and the answer to each payload.
fn ibb_case(
    tag: &str,
    script: impl FnOnce(&str) -> Vec<Element>,
) -> (
    Option<i32>,
    String,
    std::path::PathBuf,
    Vec<Result<(), IqError>>,
) {
    let s = server();
    let (mallory, bob) = (s.account("mallory"), s.account("bob"));
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--timeout", "3", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let target = receiver.target();
    let data = pattern(100, 35);
    let started = std::time::Instant::now();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (answers, done) = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &mallory).await;
        let sid = offer(&peer, &target, 100, &md5_hex(&data)).await;
        let mut answers = Vec::new();
        for payload in script(&sid) {
            let iq = stanza::iq(IqType::Set, Some(&target.to_string()), payload);
            let answer = peer.iq_timeout(iq, Duration::from_secs(10)).await;
            answers.push(answer.map(|_| ()));
        }
        let done = tokio::task::spawn_blocking(move || receiver.finish(LONG))
            .await
            .unwrap();
        peer.close().await;
        (answers, done)
    });
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{tag}: took {:?}",
        started.elapsed()
    );
    (done.code, done.stderr, dir, answers)
}

fn open_with(sid: &str, block_size: &str, kind: &str) -> Element {
    Element::new("open", IBB_NS)
        .attr("block-size", block_size)
        .attr("sid", sid)
        .attr("stanza", kind)
}

fn data_block(sid: &str, seq: u16, bytes: &[u8]) -> Element {
    Element::new("data", IBB_NS)
        .attr("seq", seq.to_string())
        .attr("sid", sid)
        .text(b64(bytes))
}

#[track_caller]
fn assert_refused(answer: &Result<(), IqError>, condition: &str) {
    match answer {
        Err(IqError::Stanza(e)) => assert!(
            e.condition.as_str() == condition,
            "wanted {condition}, got {e}"
        ),
        other => panic!("wanted {condition}, got {other:?}"),
    }
}

#[test]
fn ibb_open_with_block_size_zero() {
    let (code, err, dir, answers) = ibb_case("bs0", |sid| vec![open_with(sid, "0", "iq")]);
    assert_refused(&answers[0], "bad-request");
    assert_eq!(code, Some(15), "{err}");
    assert!(err.contains("block size '0'"), "{err}");
    assert_eq!(list_dir(&dir), Vec::<String>::new());
}

#[test]
fn ibb_open_with_block_size_over_65535() {
    let (code, err, dir, answers) = ibb_case("bs70000", |sid| vec![open_with(sid, "70000", "iq")]);
    assert_refused(&answers[0], "bad-request");
    assert_eq!(code, Some(15), "{err}");
    assert_eq!(list_dir(&dir), Vec::<String>::new());
}

#[test]
fn ibb_open_with_block_size_not_a_number() {
    let (code, err, _, answers) = ibb_case("bsabc", |sid| vec![open_with(sid, "4k", "iq")]);
    assert_refused(&answers[0], "bad-request");
    assert_eq!(code, Some(15), "{err}");
}

#[test]
fn ibb_open_in_message_mode() {
    let (code, err, dir, answers) =
        ibb_case("msgmode", |sid| vec![open_with(sid, "4096", "message")]);
    assert_refused(&answers[0], "not-acceptable");
    assert_eq!(code, Some(15), "{err}");
    assert!(err.contains("message stanzas"), "{err}");
    assert_eq!(list_dir(&dir), Vec::<String>::new());
}

#[test]
fn ibb_data_before_open() {
    let data = pattern(10, 36);
    let (code, err, dir, answers) = ibb_case("data-first", |sid| vec![data_block(sid, 0, &data)]);
    assert_refused(&answers[0], "unexpected-request");
    assert_eq!(code, Some(9), "{err}");
    assert_eq!(list_dir(&dir), Vec::<String>::new());
}

#[test]
fn ibb_close_before_any_data() {
    let (code, err, dir, answers) = ibb_case("close-first", |sid| {
        vec![
            open_with(sid, "4096", "iq"),
            Element::new("close", IBB_NS).attr("sid", sid),
        ]
    });
    assert!(answers[0].is_ok());
    assert_refused(&answers[1], "not-acceptable");
    assert_eq!(code, Some(11), "{err}");
    assert!(err.contains("received 0 of 100 bytes"), "{err}");
    assert_eq!(list_dir(&dir), Vec::<String>::new(), "no byte, no .part");
}

#[test]
fn ibb_data_for_another_session_is_item_not_found() {
    let data = pattern(50, 37);
    let (code, err, dir, answers) = ibb_case("other-sid", |sid| {
        vec![
            open_with(sid, "4096", "iq"),
            data_block(sid, 0, &data),
            data_block("someone-elses", 0, &data),
        ]
    });
    assert!(answers[0].is_ok() && answers[1].is_ok());
    assert_refused(&answers[2], "item-not-found");
    // Then nothing more comes: the stall deadline ends it, keeping the 50 bytes.
    assert_eq!(code, Some(10), "{err}");
    assert!(err.contains("no data moved for 3 s"), "{err}");
    assert_kept_part_only(&dir);
}

#[test]
fn ibb_block_larger_than_negotiated() {
    let data = pattern(100, 38);
    let (code, err, dir, answers) = ibb_case("too-big-block", |sid| {
        vec![open_with(sid, "16", "iq"), data_block(sid, 0, &data)]
    });
    assert!(answers[0].is_ok());
    assert_refused(&answers[1], "bad-request");
    assert_eq!(code, Some(15), "{err}");
    assert!(
        err.contains("more than the negotiated block size 16"),
        "{err}"
    );
    assert_eq!(list_dir(&dir), Vec::<String>::new());
}

#[test]
fn ibb_block_with_whitespace_wrapped_base64_is_accepted() {
    // XEP-0047 Example 7 wraps its base64; XML whitespace is allowed (§6). The bytes
    // are those ibb_case offers.
    let data = pattern(100, 35);
    let wrapped: String = b64(&data)
        .as_bytes()
        .chunks(20)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\n  ");
    let (code, err, dir, answers) = ibb_case("wrapped", |sid| {
        vec![
            open_with(sid, "4096", "iq"),
            Element::new("data", IBB_NS)
                .attr("seq", "0")
                .attr("sid", sid)
                .text(wrapped),
            Element::new("close", IBB_NS).attr("sid", sid),
        ]
    });
    assert!(answers.iter().all(|a| a.is_ok()), "{answers:?}");
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::read(dir.join("evil.bin")).unwrap() == data);
}

/// An offer that arrives while a transfer runs is taken side by side (issue 20): the
/// second file arrives whole while the first transfer is still open, then the first
/// finishes: both files arrive.
#[test]
fn an_offer_during_a_transfer_is_taken_side_by_side() {
    let s = server();
    let (alice, carol, bob) = (s.account("mallory"), s.account("carol"), s.account("bob"));
    let dir = scratch_dir("second-offer");
    let mut recv = s.xft(&bob);
    recv.args([
        "recv",
        "--accept-any",
        "--count",
        "2",
        "--timeout",
        "20",
        "--dir",
    ])
    .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let target = receiver.target();
    let first = pattern(100, 81);
    let second = pattern(3000, 82);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let sid = offer(&peer, &target, 100, &md5_hex(&first)).await;
        open(&peer, &target, &sid).await;
        let block = |seq: u16, bytes: &[u8]| {
            stanza::iq(
                IqType::Set,
                Some(&target.to_string()),
                data_block(&sid, seq, bytes),
            )
        };
        peer.iq(block(0, &first[..50])).await.unwrap();
        let (other, _other_incoming) = peer_login(s, &carol).await;
        let later = async {
            let sid = offer_named(&other, &target, "later.bin", 3000, &md5_hex(&second)).await;
            let mut ibb =
                xft::bytestream::ibb::IbbSender::open(&other, target.as_jid(), &sid, 4096, LONG)
                    .await
                    .unwrap();
            ibb.send(&mut &second[..], 3000, 4).await.unwrap();
            ibb.close().await.unwrap();
        };
        let finish_first = async {
            peer.iq(block(1, &first[50..])).await.unwrap();
            let close = Element::new("close", IBB_NS).attr("sid", sid.as_str());
            peer.iq(stanza::iq(IqType::Set, Some(&target.to_string()), close))
                .await
                .unwrap();
        };
        // The second transfer runs to its end while the first is open.
        later.await;
        finish_first.await;
        other.close().await;
        peer.close().await;
    });
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(list_dir(&dir), ["evil.bin", "later.bin"]);
    assert!(std::fs::read(dir.join("later.bin")).unwrap() == second);
}
