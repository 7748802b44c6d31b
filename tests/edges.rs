//! Smaller behaviours with their own exit codes or side effects: pings, an offer nobody
//! answers, a named proxy, subscription approval while receiving, Ctrl-C.

mod support;

use std::time::{Duration, Instant};
use xft::ns::PING_NS;
use xft::stanza::Condition;
use xft::stanza::IqType;

use support::{
    assert_exit, pattern, peer_login, run, scratch_dir, server, stderr, stdout, Receiver,
};

use xft::stanza;
use xft::xml::Element;

#[test]
fn recv_answers_pings() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any"]);
    let receiver = Receiver::spawn(recv);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answer = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let ping = stanza::iq(
            IqType::Get,
            Some(&receiver.jid),
            Element::new("ping", PING_NS),
        );
        let answer = peer.iq(ping).await;
        peer.close().await;
        answer
    });
    receiver.kill();
    assert_eq!(
        answer.expect("XEP-0199 result").get_attr("type"),
        Some("result")
    );
}

#[test]
fn an_offer_nobody_answers_times_out_with_10() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let file = scratch_dir("timeout-src").join("x.bin");
    std::fs::write(&file, b"hello").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // A peer that is online but never answers the offer.
        let (peer, _incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args(["--timeout", "2", "send"])
            .arg(&file)
            .arg(peer.jid().to_string());
        let started = Instant::now();
        let out = tokio::process::Command::from(send).output().await.unwrap();
        assert_exit(&out, 10);
        assert!(
            stderr(&out).contains("no answer to the offer within 2 s"),
            "{}",
            stderr(&out)
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        peer.close().await;
    });
}

#[test]
fn a_named_proxy_is_used() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("named-proxy");
    let mut recv = s.xft(&bob);
    // No candidates of the receiver's own: the sender's named proxy is the way.
    recv.args([
        "-v",
        "recv",
        "--accept-any",
        "--no-direct",
        "--no-proxy",
        "--dir",
    ])
    .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("named-proxy-src").join("p.bin");
    let data = pattern(200_000, 3);
    std::fs::write(&file, &data).unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--json", "--no-direct", "--proxy", support::PROXY])
        .arg(&file)
        .arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("\"method\":\"jingle-s5b\""),
        "{}",
        stdout(&out)
    );
    let done = receiver.finish(Duration::from_secs(60));
    assert!(
        done.stderr.contains(&format!("S5B via {}", support::PROXY)),
        "{}",
        done.stderr
    );
    assert!(std::fs::read(dir.join("p.bin")).unwrap() == data);
}

#[test]
fn recv_approve_completes_a_contact_request() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--approve", &alice.jid]);
    let receiver = Receiver::spawn(recv);
    let mut add = s.xft(&alice);
    add.args(["contact", "add", &bob.jid]);
    assert_exit(&run(add), 0);
    // The approval is asynchronous; poll alice's roster for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut subscription = serde_json::Value::Null;
    while Instant::now() < deadline {
        let mut list = s.xft(&alice);
        list.args(["contact", "list", "--json"]);
        let items: serde_json::Value =
            serde_json::from_str(stdout(&run(list)).trim()).unwrap_or_default();
        if let Some(item) = items
            .as_array()
            .and_then(|a| a.iter().find(|i| i["jid"] == bob.jid.as_str()))
        {
            subscription = item["subscription"].clone();
            if subscription == "both" {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    receiver.kill();
    assert_eq!(subscription, "both");
}

#[test]
fn interrupt_exits_130() {
    let s = server();
    let bob = s.account("bob");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any"]);
    let receiver = Receiver::spawn(recv);
    let pid = receiver.pid();
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGINT);
    }
    let done = receiver.finish(Duration::from_secs(10));
    assert_eq!(done.code, Some(130), "{}", done.stderr);
    assert!(done.stderr.contains("interrupted"), "{}", done.stderr);
}

/// XEP-0095 §4.2: an offer with no usable stream method gets bad-request with
/// <no-valid-streams/>, and xft recv keeps waiting for a good one.
#[test]
fn recv_answers_no_valid_streams_and_keeps_waiting() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any"]);
    let receiver = Receiver::spawn(recv);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let error = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let offer = xft::xml::parse_document(
            "<si xmlns='http://jabber.org/protocol/si' id='oob1' profile='http://jabber.org/protocol/si/profile/file-transfer'>
               <file xmlns='http://jabber.org/protocol/si/profile/file-transfer' name='a' size='1'/>
               <feature xmlns='http://jabber.org/protocol/feature-neg'><x xmlns='jabber:x:data' type='form'>
                 <field var='stream-method' type='list-single'><option><value>jabber:iq:oob</value></option></field>
               </x></feature></si>",
        )
        .unwrap();
        let answer = peer.iq(stanza::iq(IqType::Set, Some(&receiver.jid), offer)).await;
        peer.close().await;
        answer
    });
    match error {
        Err(xft::session::IqError::Stanza(e)) => {
            assert!(e.is(Condition::BadRequest), "{e}");
            assert!(
                e.has_app_condition("no-valid-streams", xft::ns::SI_NS),
                "{e:?}"
            );
        }
        other => panic!("expected no-valid-streams, got {other:?}"),
    }
    let done = receiver.kill();
    assert_eq!(
        done.code, None,
        "still running until killed: {}",
        done.stderr
    );
}

/// `xft send` of one byte to a scripted peer's full JID (an SI client), which answers
/// with an error each request `refusal` gives one for (ignoring the rest) until an SI
/// offer is refused. Returns xft's output and the requests refused.
fn send_to_refusing_peer(
    tag: &str,
    refusal: impl Fn(&Element) -> Option<xft::stanza::StanzaError>,
) -> (std::process::Output, Vec<Element>) {
    let s = server();
    let (alice, bob) = (
        s.account(&format!("{tag}-a")),
        s.account(&format!("{tag}-b")),
    );
    let file = scratch_dir(&format!("{tag}-src")).join("x.bin");
    std::fs::write(&file, b"x").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.arg("send").arg(&file).arg(peer.jid().to_string());
        let child = tokio::process::Command::from(send).output();
        let refuse = async {
            let mut refused = Vec::new();
            loop {
                let el = incoming.next().await.expect("session");
                let Some(error) = refusal(&el) else { continue };
                peer.reply_error(&el, &error).await.unwrap();
                refused.push(el.clone());
                if stanza::is_iq_request(&el, IqType::Set, "si", xft::ns::SI_NS) {
                    return refused;
                }
            }
        };
        let (out, refused) = tokio::join!(child, refuse);
        peer.close().await;
        (out.unwrap(), refused)
    })
}

/// SI's refusal of every stream method offered (XEP-0095 §3.2).
fn no_valid_streams(el: &Element) -> Option<xft::stanza::StanzaError> {
    stanza::is_iq_request(el, IqType::Set, "si", xft::ns::SI_NS).then(|| {
        xft::stanza::StanzaError::new(xft::stanza::ErrorType::Cancel, Condition::BadRequest)
            .with_app_condition("no-valid-streams", xft::ns::SI_NS)
    })
}

/// The sender's side of the same: exit 7, peer lacks support.
#[test]
fn send_exits_7_on_no_valid_streams() {
    let (out, _) = send_to_refusing_peer("nvs", no_valid_streams);
    assert_exit(&out, 7);
    assert!(
        stderr(&out).contains("supports none of the offered stream methods (s5b, ibb)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_and_version_say_what_xft_does() {
    let s = support::server();
    let out = support::run({
        let mut cmd = s.xft_bare();
        cmd.arg("--help");
        cmd
    });
    support::assert_exit(&out, 0);
    let help = support::stdout(&out);
    assert!(
        help.lines().count() <= 50,
        "xft --help is {} lines",
        help.lines().count()
    );
    assert!(
        help.contains("Examples:") && help.contains("xft upload"),
        "{help}"
    );
    let out = support::run({
        let mut cmd = s.xft_bare();
        cmd.arg("--version");
        cmd
    });
    let version = support::stdout(&out);
    assert!(
        version.contains("XEP-0363") && version.contains("XEP-0065"),
        "{version}"
    );
    for sub in ["send", "recv", "upload", "contact", "vcard"] {
        let out = support::run({
            let mut cmd = s.xft_bare();
            cmd.args([sub, "--help"]);
            cmd
        });
        assert!(
            support::stdout(&out).contains("Examples:"),
            "xft {sub} --help has no examples"
        );
    }
}

/// Issue 19, item 9: `xft send /proc/cpuinfo` reported "Sent cpuinfo (0 bytes)" and the
/// receiver stored an empty file (stat says 0 bytes). Such files, and pipes, are read
/// first and sent as read; one that cannot be read (`/proc/self/mem`) fails with 12.
#[test]
fn special_files_are_sent_as_read_or_refused() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("special-files");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--count", "2", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let fifo = scratch_dir("special-fifo").join("from-a-pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()));
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, b"through a pipe\n"))
    };
    let mut send = s.xft(&alice);
    send.arg("send")
        .args(["/proc/cpuinfo"])
        .arg(&fifo)
        .arg(&receiver.jid);
    assert_exit(&run(send), 0);
    writer.join().unwrap().unwrap();
    let done = receiver.finish(Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let cpuinfo = std::fs::read_to_string(dir.join("cpuinfo")).unwrap();
    assert!(cpuinfo.contains("processor"), "{cpuinfo}");
    assert_eq!(
        std::fs::read(dir.join("from-a-pipe")).unwrap(),
        b"through a pipe\n"
    );
    let mut send = s.xft(&alice);
    send.args(["send", "/proc/self/mem", &format!("{}/x", bob.jid)]);
    let out = run(send);
    assert_exit(&out, 12);
    assert!(stderr(&out).contains("/proc/self/mem"), "{}", stderr(&out));
}

/// To a full JID xft offers Jingle while it asks the resource what it speaks. A peer
/// that refuses the Jingle offer (an SI-only client answering what it does not know)
/// then gets the file by SI, as its features say: here it refuses that too, with
/// no-valid-streams, so the exit is 7 and both offers were seen.
#[test]
fn a_peer_refusing_jingle_is_offered_si() {
    let (out, refused) = send_to_refusing_peer("nojingle", |el| {
        let jingle = el.get_child("jingle", xft::ns::JINGLE_NS).is_some();
        let not_implemented = xft::stanza::StanzaError::new(
            xft::stanza::ErrorType::Cancel,
            Condition::FeatureNotImplemented,
        );
        if jingle {
            Some(not_implemented)
        } else {
            no_valid_streams(el)
        }
    });
    assert_exit(&out, 7);
    let first = refused
        .first()
        .and_then(|el| el.get_child("jingle", xft::ns::JINGLE_NS));
    assert!(first.is_some(), "Jingle was offered first: {refused:?}");
}
