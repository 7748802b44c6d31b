//! SOCKS5 Bytestreams (XEP-0065) through a real Prosody and its proxy65: xft to xft,
//! and against scripted peers for what a well-behaved xft never does.

mod support;

use std::time::{Duration, Instant};
use xft::ns::BYTESTREAMS_NS;
use xft::stanza::Condition;

use support::{
    assert_exit, list_dir, offer_to, pattern, peer_login, route_bytestreams, run, run_with_stdin,
    scratch_dir, server, stderr, stdout, Receiver,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xft::bytestream::ibb::{IbbReceiver, IbbSender};
use xft::bytestream::s5b::{self, proxy, requester, StreamHost};
use xft::bytestream::socks5;
use xft::si::{self, StreamMethod};
use xft::stanza::{self, ErrorType, StanzaError};

const LONG: Duration = Duration::from_secs(120);

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON: {text}: {e}"))
}

/// Runs xft recv -v, sends `data` with `send_args`, returns (sender JSON, receiver stderr).
fn xft_to_xft(tag: &str, data: &[u8], send_args: &[&str]) -> (serde_json::Value, String) {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir(tag);
    let file = scratch_dir(&format!("{tag}-src")).join("payload.bin");
    std::fs::write(&file, data).unwrap();
    let mut recv = s.xft(&bob);
    recv.args(["-v", "recv", "--accept-any", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let mut send = s.xft(&alice);
    send.args(["send", "--protocol", "si", "--json"])
        .args(send_args)
        .arg(&file)
        .arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        std::fs::read(dir.join("payload.bin")).unwrap() == data,
        "content differs"
    );
    (json(&stdout(&out)), done.stderr)
}

#[test]
fn direct_over_ipv4_loopback() {
    let data = pattern(5 << 20, 1);
    let (report, recv_log) = xft_to_xft(
        "s5b-direct",
        &data,
        &["--s5b-address", "127.0.0.1", "--no-proxy"],
    );
    assert_eq!(report["method"], "s5b");
    assert!(
        recv_log.contains("S5B via alice") && recv_log.contains("127.0.0.1"),
        "{recv_log}"
    );
}

#[test]
fn direct_over_ipv6_loopback() {
    let data = pattern(1 << 20, 2);
    let (report, recv_log) = xft_to_xft("s5b-v6", &data, &["--s5b-address", "::1", "--no-proxy"]);
    assert_eq!(report["method"], "s5b");
    assert!(recv_log.contains("(::1:"), "{recv_log}");
}

#[test]
fn proxy_only() {
    let data = pattern(3 << 20, 3);
    let (report, recv_log) = xft_to_xft("s5b-proxy", &data, &["--no-direct"]);
    assert_eq!(report["method"], "s5b");
    assert!(
        recv_log.contains(&format!("S5B via {}", support::PROXY)),
        "{recv_log}"
    );
}

#[test]
fn nothing_to_offer_falls_back_to_ibb() {
    let data = pattern(200_000, 4);
    let (report, recv_log) = xft_to_xft("s5b-none", &data, &["--no-direct", "--no-proxy"]);
    assert_eq!(report["method"], "ibb");
    assert!(
        recv_log.contains("\"event\":\"method\""),
        "the switch is visible: {recv_log}"
    );
}

#[test]
fn unusable_direct_address_falls_back_to_ibb() {
    // The pinned port is taken, so no direct candidate can be offered.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let data = pattern(100_000, 5);
    let args = [
        "--s5b-address",
        "127.0.0.1",
        "--s5b-port",
        &port,
        "--no-proxy",
    ];
    let (report, _) = xft_to_xft("s5b-taken", &data, &args);
    assert_eq!(report["method"], "ibb");
}

/// Also issue 8, item 14: the receiver accepted, no byte ever moved, and it left an
/// empty `.part` behind (in the repository, since this test gave no --dir).
#[test]
fn method_s5b_does_not_fall_back() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("s5b-only-dst");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("s5b-only-src").join("x.bin");
    std::fs::write(&file, b"hello").unwrap();
    let mut send = s.xft(&alice);
    // SI: it offers, then finds nothing to stream over (Jingle offers nothing at all).
    send.args([
        "send",
        "--protocol",
        "si",
        "--method",
        "s5b",
        "--no-direct",
        "--no-proxy",
    ])
    .arg(&file)
    .arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 9);
    assert!(
        stderr(&out).contains("no streamhost to offer"),
        "{}",
        stderr(&out)
    );
    // The sender's unavailable presence ends the receiver's wait at once.
    let done = receiver.finish(Duration::from_secs(15));
    assert_ne!(done.code, Some(0), "{}", done.stderr);
    assert_ne!(
        done.code, None,
        "the receiver did not give up: {}",
        done.stderr
    );
    assert_eq!(list_dir(&dir), Vec::<String>::new(), "{}", done.stderr);
}

/// A scripted target answers xft send's streamhosts with item-not-found; xft must open
/// IBB on the same sid (as Pidgin does: docs/interop.md §1).
#[test]
fn sender_falls_back_when_the_target_reaches_no_streamhost() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let data = pattern(150_000, 6);
    let file = scratch_dir("fallback-src").join("f.bin");
    std::fs::write(&file, &data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args([
            "send",
            "--protocol",
            "si",
            "--json",
            "--s5b-address",
            "127.0.0.1",
            "--no-proxy",
        ])
        .arg(&file)
        .arg(peer.jid().to_string());
        let child = tokio::process::Command::from(send).output();
        let peer_side = async {
            let (offer_iq, from, offer) = support::next_file_offer(&mut incoming).await;
            assert_eq!(offer.methods, [StreamMethod::Socks5, StreamMethod::Ibb]);
            let mut s5b_route = route_bytestreams(&peer, &offer.sid);
            let mut ibb = IbbReceiver::listen(&peer, from.as_jid(), &offer.sid);
            peer.send(stanza::iq_result(&offer_iq).child(si::answer_element(StreamMethod::Socks5)))
                .await
                .unwrap();
            let hosts_iq = s5b_route.next().await.unwrap();
            let error = StanzaError::new(ErrorType::Cancel, Condition::ItemNotFound);
            peer.reply_error(&hosts_iq, &error).await.unwrap();
            ibb.accept_open(Duration::from_secs(20)).await.unwrap();
            let mut got = Vec::new();
            let (n, close) = ibb
                .receive(&mut got, offer.size, Duration::from_secs(20))
                .await
                .unwrap();
            close.acknowledge().await;
            assert_eq!(n, data.len() as u64);
            got
        };
        let (out, got) = tokio::join!(child, peer_side);
        let out = out.unwrap();
        assert_exit(&out, 0);
        assert_eq!(json(&stdout(&out))["method"], "ibb");
        assert!(got == data);
        peer.close().await;
    });
}

/// A scripted target connects to xft send's own streamhost with a wrong hash first:
/// refused. Then with the right one: accepted, and the file arrives.
#[test]
fn wrong_dst_addr_is_refused_by_our_streamhost() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let data = pattern(1 << 20, 7);
    let file = scratch_dir("hash-src").join("f.bin");
    std::fs::write(&file, &data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args([
            "send",
            "--protocol",
            "si",
            "--json",
            "--s5b-address",
            "127.0.0.1",
            "--no-proxy",
        ])
        .arg(&file)
        .arg(peer.jid().to_string());
        let child = tokio::process::Command::from(send).output();
        let peer_side = async {
            let (offer_iq, from, offer) = support::next_file_offer(&mut incoming).await;
            let mut s5b_route = route_bytestreams(&peer, &offer.sid);
            peer.send(stanza::iq_result(&offer_iq).child(si::answer_element(StreamMethod::Socks5)))
                .await
                .unwrap();
            let hosts_iq = s5b_route.next().await.unwrap();
            let query = hosts_iq.get_child("query", BYTESTREAMS_NS).unwrap();
            let hosts: Vec<StreamHost> = query
                .children()
                .filter_map(StreamHost::from_element)
                .collect();
            assert_eq!(hosts.len(), 1, "exactly the pinned address: {hosts:?}");
            assert_eq!(hosts[0].host, "127.0.0.1");
            let addr = (hosts[0].host.as_str(), hosts[0].port);
            let mut wrong = tokio::net::TcpStream::connect(addr).await.unwrap();
            let refused =
                socks5::connect(&mut wrong, &"0".repeat(40), Duration::from_secs(5)).await;
            assert!(
                matches!(refused, Err(socks5::Socks5Error::Refused(2))),
                "{refused:?}"
            );
            let hash = s5b::dst_addr(&offer.sid, &from, peer.jid());
            let mut right = tokio::net::TcpStream::connect(addr).await.unwrap();
            socks5::connect(&mut right, &hash, Duration::from_secs(5))
                .await
                .unwrap();
            let used = xft::xml::Element::new("query", BYTESTREAMS_NS)
                .attr("sid", offer.sid.as_str())
                .child(
                    xft::xml::Element::new("streamhost-used", BYTESTREAMS_NS)
                        .attr("jid", hosts[0].jid.to_string()),
                );
            peer.send(stanza::iq_result(&hosts_iq).child(used))
                .await
                .unwrap();
            let mut got = Vec::new();
            right.read_to_end(&mut got).await.unwrap();
            got
        };
        let (out, got) = tokio::join!(child, peer_side);
        let out = out.unwrap();
        assert_exit(&out, 0);
        assert_eq!(json(&stdout(&out))["method"], "s5b");
        assert!(got == data);
        peer.close().await;
    });
}

/// A scripted requester offers xft recv a streamhost that accepts TCP but never speaks
/// SOCKS5, then the real proxy: xft must move on and use the proxy.
#[test]
fn stalling_streamhost_is_skipped_for_the_next() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("stall");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(500_000, 8);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let elapsed = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let stall = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stall_host = StreamHost {
            jid: "stall.xft.test".parse().unwrap(),
            host: "127.0.0.1".into(),
            port: stall.local_addr().unwrap().port(),
        };
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = stall.accept().await {
                held.push(sock);
            }
        });
        let mut hosts = vec![stall_host];
        hosts.extend(proxy::discover(&peer).await);
        assert_eq!(
            hosts.len(),
            2,
            "the server's proxy65 is discovered: {hosts:?}"
        );
        let target = receiver.target();
        let sid = offer_to(&peer, &target, &data, &[StreamMethod::Socks5]).await;
        let started = Instant::now();
        let (mut socket, used) = requester::connect(
            &peer,
            &target,
            &sid,
            Vec::new(),
            &hosts,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(used.jid.to_string(), support::PROXY);
        socket.write_all(&data).await.unwrap();
        socket.shutdown().await.unwrap();
        let mut rest = Vec::new();
        let _ = socket.read_to_end(&mut rest).await;
        peer.close().await;
        elapsed
    });
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(std::fs::read(dir.join("s.bin")).unwrap() == data);
    assert!(
        elapsed < Duration::from_secs(5),
        "waited {elapsed:?} on the stalling host"
    );
}

/// A scripted requester offers only a dead streamhost; xft recv answers item-not-found
/// and accepts the IBB fallback on the same sid.
#[test]
fn receiver_accepts_ibb_after_item_not_found() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("recv-fallback");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(70_000, 9);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_host = StreamHost {
            jid: "dead.xft.test".parse().unwrap(),
            host: "127.0.0.1".into(),
            port: dead.local_addr().unwrap().port(),
        };
        drop(dead);
        let target = receiver.target();
        let sid = offer_to(
            &peer,
            &target,
            &data,
            &[StreamMethod::Socks5, StreamMethod::Ibb],
        )
        .await;
        let failed = requester::connect(
            &peer,
            &target,
            &sid,
            Vec::new(),
            &[dead_host],
            Duration::from_secs(30),
        )
        .await;
        match failed {
            Err(s5b::S5bError::TargetFailed(e)) => assert!(e.is(Condition::ItemNotFound), "{e}"),
            other => panic!("expected item-not-found, got {:?}", other.map(|_| ())),
        }
        let mut ibb = IbbSender::open(&peer, target.as_jid(), &sid, 4096, Duration::from_secs(20))
            .await
            .unwrap();
        ibb.send(&mut &data[..], data.len() as u64, 8)
            .await
            .unwrap();
        ibb.close().await.unwrap();
        peer.close().await;
    });
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(
        json(&String::from_utf8_lossy(&done.stdout))["method"],
        "ibb"
    );
    assert!(std::fs::read(dir.join("s.bin")).unwrap() == data);
}

#[test]
fn receiving_to_dev_null_writes_through_and_keeps_the_device() {
    use std::os::unix::fs::FileTypeExt;
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "-o", "/dev/null"]);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("devnull-src").join("x.bin");
    std::fs::write(&file, pattern(300_000, 11)).unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--protocol", "si"])
        .arg(&file)
        .arg(&receiver.jid);
    assert_exit(&run(send), 0);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(
        json(&String::from_utf8_lossy(&done.stdout))["path"],
        "/dev/null"
    );
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    assert!(!std::path::Path::new("/dev/null.part").exists());
}

#[test]
fn no_hash_sends_without_md5_and_the_receiver_checks_the_size() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("nohash");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("nohash-src").join("n.bin");
    let data = pattern(2 << 20, 12);
    std::fs::write(&file, &data).unwrap();
    let mut send = s.xft(&alice);
    send.args([
        "send",
        "--protocol",
        "si",
        "--json",
        "--no-hash",
        "--no-proxy",
    ])
    .arg(&file)
    .arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 0);
    assert_eq!(json(&stdout(&out))["md5"], serde_json::Value::Null);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report = json(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(report["md5"], serde_json::Value::Null);
    assert_eq!(report["size"], 2 << 20);
    assert!(std::fs::read(dir.join("n.bin")).unwrap() == data);
}

/// Issue 12: with nothing to hash, both sides leave the copy to the kernel (`sendfile`,
/// `splice`); from a pipe into a pipe, too, several times the pipe's size.
#[test]
fn unhashed_s5b_from_stdin_to_stdout() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let data = pattern((5 << 20) + 4321, 31);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "-vv", "--accept-any", "-o", "-"]);
    let receiver = Receiver::spawn(recv);
    let mut send = s.xft(&alice);
    send.args([
        "send",
        "-vv",
        "--protocol",
        "si",
        "--method",
        "s5b",
        "--no-hash",
        "--no-proxy",
        "--name",
        "piped.bin",
        "-",
        &receiver.jid,
    ]);
    let out = run_with_stdin(send, &data);
    assert_exit(&out, 0);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(done.stdout == data, "stdout carries exactly the file");
    // Standard input is kept in a temporary file first (its size goes in the offer).
    let sent = "S5B data copied by the kernel (sendfile)";
    assert!(stderr(&out).contains(sent), "sender: {}", stderr(&out));
    let received = "S5B data copied by the kernel (splice)";
    assert!(done.stderr.contains(received), "receiver: {}", done.stderr);
}

/// Issue 12: a file sent again is offered with the MD5 remembered from the first time,
/// without reading it first; a remembered hash that no longer matches the file (as if
/// it had changed unnoticed) delivers nothing wrong: the sender's CRC-32 check and the
/// receiver's MD5 both fail the transfer.
#[test]
fn a_file_sent_again_is_not_hashed_again() {
    const REMEMBERED: &str = "remembered from an earlier send";
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let cache = scratch_dir("rehash-cache");
    let file = scratch_dir("rehash-src").join("big.bin");
    let data = pattern(9 << 20, 5);
    std::fs::write(&file, &data).unwrap();
    let send = |to: &str| {
        let mut c = s.xft(&alice);
        c.env("XDG_CACHE_HOME", &cache)
            .args([
                "send",
                "-vv",
                "--protocol",
                "si",
                "--method",
                "s5b",
                "--no-proxy",
            ])
            .arg(&file)
            .arg(to);
        run(c)
    };
    let good = scratch_dir("rehash-good");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--count", "2", "--dir"])
        .arg(&good);
    let receiver = Receiver::spawn(recv);
    let first = send(&receiver.jid);
    assert_exit(&first, 0);
    assert!(!stderr(&first).contains(REMEMBERED), "{}", stderr(&first));
    let second = send(&receiver.jid);
    assert_exit(&second, 0);
    assert!(stderr(&second).contains(REMEMBERED), "{}", stderr(&second));
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(list_dir(&good), ["big (1).bin", "big.bin"]);
    assert!(std::fs::read(good.join("big (1).bin")).unwrap() == data);

    let remembered = cache.join("xft/hashes.json");
    let mut entries: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&remembered).unwrap()).unwrap();
    entries[0]["md5"] = "0123456789abcdef0123456789abcdef".into();
    entries[0]["crc32"] = 12345.into();
    std::fs::write(&remembered, entries.to_string()).unwrap();
    let bad = scratch_dir("rehash-bad");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--dir"]).arg(&bad);
    let receiver = Receiver::spawn(recv);
    let third = send(&receiver.jid);
    assert!(stderr(&third).contains(REMEMBERED), "{}", stderr(&third));
    assert_exit(&third, 11);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(11), "{}", done.stderr);
    // The bytes stay in the .part for inspection (as for any MD5 mismatch), never
    // under the final name.
    assert_eq!(list_dir(&bad), ["big.bin.part"]);
}

/// Issue 13: one `xft send` to several recipients: each gets the files, a line each,
/// and the exit code of the first failure when any failed.
#[test]
fn one_send_to_several_recipients() {
    let s = server();
    let (alice, bob, carol, dave) = (
        s.account("multia"),
        s.account("multib"),
        s.account("multic"),
        s.account("multid"),
    );
    let src = scratch_dir("multi-src");
    let file = src.join("minutes.txt");
    std::fs::write(&file, b"for everyone").unwrap();
    let receive = |account: &support::Account, tag: &str| {
        let dir = scratch_dir(tag);
        let mut recv = s.xft(account);
        recv.args(["recv", "--accept-any", "--dir"]).arg(&dir);
        (Receiver::spawn(recv), dir)
    };
    let (rb, db) = receive(&bob, "multi-b");
    let (rc, dc) = receive(&carol, "multi-c");
    let mut send = s.xft(&alice);
    send.args(["send", "--protocol", "si", "--json"])
        .arg(&file)
        .args(["--to", &rb.jid, "--to", &dave.jid, "--to", &rc.jid]);
    let out = run(send);
    // dave is no contact of alice: exit 6, after the others got the file.
    assert_exit(&out, 6);
    let err = stderr(&out);
    assert!(err.contains(&format!("xft: {}: sent", rb.jid)), "{err}");
    assert!(err.contains(&format!("xft: {}: failed", dave.jid)), "{err}");
    assert!(err.contains("1 of 3 recipients failed"), "{err}");
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    for (receiver, dir) in [(rb, db), (rc, dc)] {
        let done = receiver.finish(Duration::from_secs(60));
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        assert_eq!(
            std::fs::read(dir.join("minutes.txt")).unwrap(),
            b"for everyone"
        );
    }
}

/// The proxy an earlier command found is remembered (servers.json, its JID only) and
/// asked for its address at once, skipping discovery; a remembered proxy that is gone
/// is looked for again, and the file then holds the truth. Every send goes through the
/// proxy (`--no-direct`) with the address the proxy gave.
#[test]
fn a_remembered_proxy_is_asked_again_and_searched_for_when_gone() {
    let s = server();
    let (alice, bob) = (s.account("proxy-mem-a"), s.account("proxy-mem-b"));
    let dir = scratch_dir("proxy-mem");
    let mut recv = s.xft(&bob);
    recv.args(["-v", "recv", "--accept-any", "--count", "3", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let cache = scratch_dir("proxy-mem-cache");
    let servers = cache.join("xft/servers.json");
    let gone = format!("gone.{}", support::DOMAIN);
    let cases = [
        ("first", None, "looking for the SOCKS5 proxies"),
        ("second", None, "as an earlier command found them"),
        ("third", Some(&gone), "remembered proxy gone"),
    ];
    for (name, plant, expected) in cases {
        if let Some(jid) = plant {
            let text = format!(
                "[{{\"domain\": \"{}\", \"mechanisms\": [], \"bindings\": [], \"proxies\": [\"{jid}\"]}}]",
                support::DOMAIN
            );
            std::fs::write(&servers, text).unwrap();
        }
        let file = scratch_dir("proxy-mem-src").join(name);
        std::fs::write(&file, name).unwrap();
        let mut send = s.xft(&alice);
        send.env("XDG_CACHE_HOME", &cache)
            .args(["-v", "send", "--protocol", "si", "--no-direct"])
            .arg(&file)
            .arg(&receiver.jid);
        let out = run(send);
        let log = support::stderr(&out);
        assert_exit(&out, 0);
        assert!(log.contains(expected), "{name}: {log}");
        let now = std::fs::read_to_string(&servers).unwrap();
        assert!(
            now.contains(support::PROXY) && !now.contains(&gone),
            "{now}"
        );
    }
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let via_proxy = format!("S5B via {}", support::PROXY);
    assert_eq!(
        done.stderr.matches(&via_proxy).count(),
        3,
        "{}",
        done.stderr
    );
    for name in ["first", "second", "third"] {
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), name.as_bytes());
    }
}
