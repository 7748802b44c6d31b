//! SOCKS5 bytestream peers that stop, vanish or lie in the data phase, against the real
//! `xft send` and `xft recv` (issue 8, items 1, 2, 7 and 12). Every case must end
//! within a bound derived from `--timeout`, with its exit code, and leave the right
//! files behind.

mod support;

use std::time::{Duration, Instant};
use xft::ns::{BYTESTREAMS_NS, CLIENT_NS};
use xft::stanza::IqType;

use support::{
    assert_exit, list_dir, offer_to, pattern, peer_login, route_bytestreams, scratch_dir, server,
    stderr, Receiver,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xft::bytestream::s5b::{self, candidates, proxy, requester};
use xft::bytestream::socks5;
use xft::jid::FullJid;
use xft::si::{self, FileOffer, StreamMethod};
use xft::stanza;
use xft::xml::Element;

/// How long a test waits for an xft process at most (a failure, not a measure).
const BOUNDED: Duration = Duration::from_secs(20);
/// The promise to a user of `--timeout 3` (issue 19, item 2): one `--timeout` after the
/// peer stops (or only trickles), plus 3 s for the exit and a loaded 2-core machine.
/// Measured from the fault, or over a whole command whose one wait is the fault.
const PROMISE: Duration = Duration::from_secs(6);

/// Starts `xft recv --timeout 3 --dir DIR` as `bob`.
fn receiver(tag: &str) -> (Receiver, std::path::PathBuf, support::Account) {
    let s = server();
    let bob = s.account("bob");
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--timeout", "3", "--dir"])
        .arg(&dir);
    (Receiver::spawn(recv), dir, bob)
}

/// Our own streamhost on 127.0.0.1, as a scripted requester offers it.
fn own_listener(peer: &xft::session::Session) -> Vec<candidates::Listener> {
    candidates::bind(peer.jid(), &[candidates::Pinned::parse("127.0.0.1")], 0).unwrap()
}

/// Item 1: the sender writes half the file over direct S5B and then sends nothing,
/// keeping both the socket and its XMPP session open. Before the fix the receiver's
/// blocking read had no deadline and waited forever.
#[test]
fn receiver_gives_up_on_a_sender_that_stops_mid_file() {
    let (receiver, dir, _) = receiver("stop-mid-file");
    let data = pattern(400_000, 21);
    let s = server();
    let alice = s.account("mallory");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let target = receiver.target();
    let (peer, held) = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let sid = offer_to(&peer, &target, &data, &[StreamMethod::Socks5]).await;
        let (mut socket, _) = requester::connect(
            &peer,
            &target,
            &sid,
            own_listener(&peer),
            &[],
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        socket.write_all(&data[..data.len() / 2]).await.unwrap();
        (peer, socket)
    });
    let started = Instant::now();
    let done = receiver.finish(BOUNDED);
    let elapsed = started.elapsed();
    drop(held);
    rt.block_on(peer.close());
    assert_eq!(done.code, Some(10), "{}", done.stderr);
    assert!(done.stderr.contains("no data moved"), "{}", done.stderr);
    assert!(elapsed < PROMISE, "took {elapsed:?}");
    assert_eq!(list_dir(&dir), ["s.bin.part"], "the .part is kept");
}

/// Issue 19, item 2: the sender keeps the stream alive with a trickle (512 bytes every
/// quarter second, under the 16 KiB that must move in every `--timeout`). Each read
/// reset the socket deadline, so the receiver would have waited as long as the trickle
/// went on; it is a stall, one `--timeout` after the trickle began.
#[test]
fn receiver_gives_up_on_a_sender_that_trickles() {
    let (receiver, dir, _) = receiver("trickle-to-recv");
    let data = pattern(4 << 20, 29);
    let s = server();
    let alice = s.account("mallory");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let target = receiver.target();
    let (peer, trickle) = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let sid = offer_to(&peer, &target, &data, &[StreamMethod::Socks5]).await;
        let (mut socket, _) = requester::connect(
            &peer,
            &target,
            &sid,
            own_listener(&peer),
            &[],
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        socket.write_all(&data[..100_000]).await.unwrap();
        let trickle = tokio::spawn(async move {
            for chunk in data[100_000..].chunks(512).take(240) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if socket.write_all(chunk).await.is_err() {
                    break;
                }
            }
        });
        (peer, trickle)
    });
    let started = Instant::now();
    let done = receiver.finish(BOUNDED);
    let elapsed = started.elapsed();
    trickle.abort();
    rt.block_on(peer.close());
    assert_eq!(done.code, Some(10), "{}", done.stderr);
    assert!(done.stderr.contains("no data moved"), "{}", done.stderr);
    assert!(elapsed < PROMISE, "took {elapsed:?}");
    assert_eq!(list_dir(&dir), ["s.bin.part"], "the .part is kept");
}

/// Item 1, second form: the sender logs out of XMPP mid-file but keeps the socket
/// open. Its unavailable presence ends the receiver's wait at once (exit 9), well
/// before the stall deadline.
#[test]
fn receiver_notices_a_sender_that_logs_out_mid_file() {
    let s = server();
    let bob = s.account("bob");
    let dir = scratch_dir("logout-mid-file");
    let mut recv = s.xft(&bob);
    // A long stall deadline: only the presence can end this quickly.
    recv.args(["recv", "--accept-any", "--timeout", "60", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(400_000, 22);
    let alice = s.account("mallory");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let target = receiver.target();
    let held = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        peer.send(Element::new("presence", CLIENT_NS).attr("to", target.to_string()))
            .await
            .unwrap();
        let sid = offer_to(&peer, &target, &data, &[StreamMethod::Socks5]).await;
        let (mut socket, _) = requester::connect(
            &peer,
            &target,
            &sid,
            own_listener(&peer),
            &[],
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        socket.write_all(&data[..data.len() / 2]).await.unwrap();
        peer.close().await;
        socket
    });
    let started = Instant::now();
    let done = receiver.finish(BOUNDED);
    let elapsed = started.elapsed();
    drop(held);
    assert_eq!(done.code, Some(9), "{}", done.stderr);
    assert!(done.stderr.contains("went offline"), "{}", done.stderr);
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert_eq!(list_dir(&dir), ["s.bin.part"]);
}

/// Item 1, third form: the sender offers only the proxy, the receiver connects to it
/// and says so, and the sender never activates it. No byte ever comes.
#[test]
fn receiver_gives_up_on_a_proxy_that_is_never_activated() {
    let (receiver, dir, _) = receiver("never-activated");
    let data = pattern(10_000, 23);
    let s = server();
    let alice = s.account("mallory");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let target = receiver.target();
    let peer = rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &alice).await;
        let hosts = proxy::discover(&peer).await;
        assert_eq!(hosts.len(), 1, "{hosts:?}");
        let sid = offer_to(&peer, &target, &data, &[StreamMethod::Socks5]).await;
        let offer = s5b::offer_element(&sid, &hosts);
        let answer = peer
            .iq(stanza::iq(IqType::Set, Some(&target.to_string()), offer))
            .await
            .unwrap();
        assert_eq!(
            s5b::streamhost_used(&answer).unwrap().to_string(),
            support::PROXY
        );
        peer
    });
    let started = Instant::now();
    let done = receiver.finish(BOUNDED);
    let elapsed = started.elapsed();
    rt.block_on(peer.close());
    assert_eq!(done.code, Some(10), "{}", done.stderr);
    assert!(elapsed < PROMISE, "took {elapsed:?}");
    assert_eq!(list_dir(&dir), Vec::<String>::new(), "no byte: no .part");
}

/// Item 2: the receiver connects to xft send's streamhost, answers streamhost-used and
/// never reads. The sender's writes block once the socket buffers are full; before the
/// fix they blocked forever.
#[test]
fn sender_gives_up_on_a_receiver_that_never_reads() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let file = scratch_dir("never-reads-src").join("big.bin");
    // Larger than what loopback socket buffers can hold.
    std::fs::write(&file, pattern(48 << 20, 24)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args(["send", "--timeout", "3", "--no-proxy"])
            .arg(&file)
            .arg(peer.jid().to_string());
        let child = timed(tokio::process::Command::from(send).output());
        let peer_side = async {
            let (offer, from, hosts_iq, host) = accept_for_s5b(&peer, &mut incoming).await;
            let socket = use_streamhost(&peer, &offer, &from, &hosts_iq, &host, None).await;
            (socket, Instant::now())
        };
        let ((out, ended), (held, connected)) = tokio::join!(child, peer_side);
        let out = out.unwrap();
        let elapsed = ended - connected;
        drop(held);
        assert_exit(&out, 10);
        assert!(stderr(&out).contains("no data moved"), "{}", stderr(&out));
        assert!(elapsed < PROMISE, "took {elapsed:?}");
        peer.close().await;
    });
}

/// Issue 19, item 2, as measured in the issue: a receiver that reads a little now and
/// then (512 bytes every quarter second, through a small receive buffer, so the kernel
/// lets the sender's writes through a few KiB at a time) reset the sender's write
/// deadline with every read. It is a stall: one `--timeout` once the buffers are full.
#[test]
fn sender_gives_up_on_a_receiver_that_reads_a_trickle() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let file = scratch_dir("trickle-reads-src").join("big.bin");
    std::fs::write(&file, pattern(48 << 20, 30)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args(["send", "--timeout", "3", "--no-proxy", "--protocol", "si"])
            .arg(&file)
            .arg(peer.jid().to_string());
        let child = timed(tokio::process::Command::from(send).output());
        let peer_side = async {
            let (offer, from, hosts_iq, host) = accept_for_s5b(&peer, &mut incoming).await;
            let mut socket =
                use_streamhost(&peer, &offer, &from, &hosts_iq, &host, Some(4096)).await;
            let connected = Instant::now();
            let reading = tokio::spawn(async move {
                let mut buf = [0u8; 512];
                for _ in 0..240 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            });
            (connected, reading)
        };
        let ((out, ended), (connected, reading)) = tokio::join!(child, peer_side);
        reading.abort();
        let out = out.unwrap();
        assert_exit(&out, 10);
        assert!(stderr(&out).contains("no data moved"), "{}", stderr(&out));
        // The kernel buffers fill first (a few MiB on loopback), then the window runs.
        let elapsed = ended - connected;
        assert!(
            elapsed < PROMISE + Duration::from_secs(2),
            "took {elapsed:?}"
        );
        peer.close().await;
    });
}

/// `future`'s output and the instant it came.
async fn timed<T>(future: impl std::future::Future<Output = T>) -> (T, Instant) {
    let out = future.await;
    (out, Instant::now())
}

/// Item 7: the file changes after xft send hashed it for the offer (same size). The
/// receiver rejects it (MD5), and the sender must not claim success: it hashes what
/// it actually sends.
#[test]
fn sender_notices_that_the_file_changed_after_the_offer() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let file = scratch_dir("changed-src").join("c.bin");
    let data = pattern(300_000, 25);
    std::fs::write(&file, &data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args(["send", "--no-proxy"])
            .arg(&file)
            .arg(peer.jid().to_string());
        let child = tokio::process::Command::from(send).output();
        let peer_side = async {
            let (offer_iq, from, offer) = support::next_file_offer(&mut incoming).await;
            // The offer is out, its MD5 computed: now the file changes.
            let mut changed = data.clone();
            changed[1000] ^= 0xff;
            std::fs::write(&file, &changed).unwrap();
            let mut target =
                xft::bytestream::s5b::target::S5bTarget::listen(&peer, &from, &offer.sid);
            peer.send(stanza::iq_result(&offer_iq).child(si::answer_element(StreamMethod::Socks5)))
                .await
                .unwrap();
            let (mut socket, _) = target.accept(Duration::from_secs(20)).await.unwrap();
            let mut got = Vec::new();
            socket.read_to_end(&mut got).await.unwrap();
            got
        };
        let (out, got) = tokio::join!(child, peer_side);
        let out = out.unwrap();
        assert_eq!(got.len(), data.len());
        assert_exit(&out, 11);
        assert!(stderr(&out).contains("changed"), "{}", stderr(&out));
        peer.close().await;
    });
}

/// Item 12: the receiver cannot write (a full disk, here /dev/full). It must exit 12
/// (local I/O), not 9 (stream broke), and drop the connection so the sender fails at
/// once rather than after its timeout.
#[test]
fn full_disk_on_the_receiver_is_a_local_error_and_stops_the_sender() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "-o", "/dev/full"]);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("full-src").join("f.bin");
    std::fs::write(&file, pattern(8 << 20, 26)).unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--timeout", "60", "--no-proxy"])
        .arg(&file)
        .arg(&receiver.jid);
    let started = Instant::now();
    let out = support::run(send);
    let elapsed = started.elapsed();
    let done = receiver.finish(BOUNDED);
    assert_eq!(done.code, Some(12), "{}", done.stderr);
    assert!(done.stderr.contains("/dev/full"), "{}", done.stderr);
    assert_exit(&out, 9);
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}

/// The scripted target's side up to the streamhost offer: takes xft send's SI offer,
/// chooses SOCKS5, and returns the offer, the sender's full JID, the streamhost offer
/// and its first streamhost.
async fn accept_for_s5b(
    peer: &xft::session::Session,
    incoming: &mut xft::session::Incoming,
) -> (FileOffer, FullJid, Element, s5b::StreamHost) {
    let (offer_iq, from, offer) = support::next_file_offer(incoming).await;
    let mut s5b_route = route_bytestreams(peer, &offer.sid);
    peer.send(stanza::iq_result(&offer_iq).child(si::answer_element(StreamMethod::Socks5)))
        .await
        .unwrap();
    let hosts_iq = s5b_route.next().await.unwrap();
    let host = hosts_iq
        .get_child("query", BYTESTREAMS_NS)
        .unwrap()
        .children()
        .find_map(s5b::StreamHost::from_element)
        .unwrap();
    (offer, from, hosts_iq, host)
}

/// Connects to `host` with the session's hash (XEP-0065 §5.3.2) and answers the offer
/// with streamhost-used; returns the connected socket.
async fn use_streamhost(
    peer: &xft::session::Session,
    offer: &FileOffer,
    from: &FullJid,
    hosts_iq: &Element,
    host: &s5b::StreamHost,
    receive_buffer: Option<usize>,
) -> tokio::net::TcpStream {
    let address: std::net::SocketAddr = format!("{}:{}", host.host, host.port).parse().unwrap();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    socket.connect(&address.into()).unwrap();
    socket.set_nonblocking(true).unwrap();
    let mut socket = tokio::net::TcpStream::from_std(socket.into()).unwrap();
    let hash = s5b::dst_addr(&offer.sid, from, peer.jid());
    socks5::connect(&mut socket, &hash, Duration::from_secs(10))
        .await
        .unwrap();
    let used = Element::new("query", BYTESTREAMS_NS)
        .attr("sid", offer.sid.as_str())
        .child(Element::new("streamhost-used", BYTESTREAMS_NS).attr("jid", host.jid.to_string()));
    peer.send(stanza::iq_result(hosts_iq).child(used))
        .await
        .unwrap();
    socket
}

/// CPU time (user + system, in clock ticks) a process has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Item 10: strangers connect to xft send's streamhost while the target takes its time.
/// With few file descriptors left, `accept` fails with EMFILE; before the fix the accept
/// loop retried at once and spun a core. Now handshakes are capped and accept errors
/// back off, and the real target still gets through afterwards.
#[test]
fn strangers_on_the_streamhost_cannot_spin_the_sender() {
    use std::os::unix::process::CommandExt;
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let file = scratch_dir("emfile-src").join("e.bin");
    let data = pattern(1 << 20, 27);
    std::fs::write(&file, &data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args(["send", "--no-proxy"])
            .arg(&file)
            .arg(peer.jid().to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        // SAFETY: setrlimit is async-signal-safe; the child gets few descriptors.
        unsafe {
            send.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 32,
                    rlim_max: 32,
                };
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
                Ok(())
            });
        }
        let child = tokio::process::Command::from(send).spawn().unwrap();
        let pid = child.id().unwrap();
        let (offer, from, hosts_iq, host) = accept_for_s5b(&peer, &mut incoming).await;
        let addr = (host.host.clone(), host.port);
        let mut strangers = Vec::new();
        for _ in 0..100 {
            let connect = tokio::net::TcpStream::connect(addr.clone());
            if let Ok(Ok(sock)) = tokio::time::timeout(Duration::from_millis(200), connect).await {
                strangers.push(sock);
            }
        }
        let before = cpu_ticks(pid);
        tokio::time::sleep(Duration::from_secs(3)).await;
        let burned = cpu_ticks(pid) - before;
        drop(strangers);
        let mut socket = use_streamhost(&peer, &offer, &from, &hosts_iq, &host, None).await;
        let mut got = Vec::new();
        socket.read_to_end(&mut got).await.unwrap();
        let out = child.wait_with_output().await.unwrap();
        assert_exit(&out, 0);
        assert!(got == data, "the real target still gets the file");
        // 100 ticks = 1 s of CPU in the 3 s the strangers held on; a spin burns ~3 s.
        assert!(
            burned < 100,
            "xft send burned {burned} ticks while strangers held on"
        );
        peer.close().await;
    });
}

/// What a scripted target does to `xft send --method s5b`.
#[derive(Clone, Copy, Debug)]
enum TargetScript {
    /// Answers the streamhost offer naming a host that was not offered.
    UsesUnofferedHost,
    /// Answers the streamhost offer with an empty result.
    EmptyAnswer,
    /// Never answers the streamhost offer.
    Silent,
    /// Says it used the sender's own streamhost but never connects.
    ClaimsDirectNeverConnects,
    /// Answers the SI offer choosing in-band bytestreams, which was not offered.
    ChoosesUnofferedMethod,
    /// Answers the SI offer asking for a range beyond the end of the file.
    RangeBeyondTheFile,
}

/// Runs `xft send --method s5b --timeout 3` against a scripted target; returns its
/// output and how long it took.
fn send_to_scripted_target(script: TargetScript) -> (std::process::Output, Duration) {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("mallory"));
    let file = scratch_dir(&format!("target-{script:?}")).join("t.bin");
    std::fs::write(&file, pattern(10_000, 28)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, mut incoming) = peer_login(s, &bob).await;
        let mut send = s.xft(&alice);
        send.args(["send", "--method", "s5b", "--no-proxy", "--timeout", "3"])
            .arg(&file)
            .arg(peer.jid().to_string());
        let started = Instant::now();
        let child = timed(tokio::process::Command::from(send).output());
        let peer_side = async {
            let (offer_iq, _, offer) = support::next_file_offer(&mut incoming).await;
            let answer = match script {
                TargetScript::ChoosesUnofferedMethod => si::answer_element(StreamMethod::Ibb),
                TargetScript::RangeBeyondTheFile => {
                    si::answer_with_offset(StreamMethod::Socks5, offer.size + 1)
                }
                _ => si::answer_element(StreamMethod::Socks5),
            };
            let mut s5b_route = route_bytestreams(&peer, &offer.sid);
            peer.send(stanza::iq_result(&offer_iq).child(answer))
                .await
                .unwrap();
            let Ok(Some(hosts_iq)) =
                tokio::time::timeout(Duration::from_secs(10), s5b_route.next()).await
            else {
                return;
            };
            let used = |jid: &str| {
                Element::new("query", BYTESTREAMS_NS)
                    .attr("sid", offer.sid.as_str())
                    .child(Element::new("streamhost-used", BYTESTREAMS_NS).attr("jid", jid))
            };
            match script {
                TargetScript::UsesUnofferedHost => peer
                    .send(stanza::iq_result(&hosts_iq).child(used("elsewhere.example")))
                    .await
                    .unwrap(),
                TargetScript::EmptyAnswer => peer.reply_result(&hosts_iq).await.unwrap(),
                TargetScript::ClaimsDirectNeverConnects => {
                    let from = hosts_iq.get_attr("from").unwrap().to_owned();
                    peer.send(stanza::iq_result(&hosts_iq).child(used(&from)))
                        .await
                        .unwrap()
                }
                _ => {}
            }
        };
        let ((out, ended), ()) = tokio::join!(child, peer_side);
        peer.close().await;
        (out.unwrap(), ended - started)
    })
}

#[track_caller]
fn assert_sender_fails(script: TargetScript, code: i32, message: &str) {
    let (out, elapsed) = send_to_scripted_target(script);
    assert_exit(&out, code);
    assert!(
        stderr(&out).contains(message),
        "{script:?}: {}",
        stderr(&out)
    );
    assert!(elapsed < PROMISE, "{script:?}: took {elapsed:?}");
}

#[test]
fn target_names_a_streamhost_that_was_not_offered() {
    assert_sender_fails(TargetScript::UsesUnofferedHost, 15, "did not offer");
}

#[test]
fn target_answers_the_streamhosts_with_nothing() {
    assert_sender_fails(TargetScript::EmptyAnswer, 15, "did not offer (none)");
}

#[test]
fn target_never_answers_the_streamhosts() {
    assert_sender_fails(TargetScript::Silent, 10, "did not answer");
}

#[test]
fn target_claims_the_direct_host_but_never_connects() {
    assert_sender_fails(
        TargetScript::ClaimsDirectNeverConnects,
        9,
        "never connected",
    );
}

#[test]
fn target_chooses_a_method_that_was_not_offered() {
    assert_sender_fails(
        TargetScript::ChoosesUnofferedMethod,
        15,
        "names no stream method",
    );
}

#[test]
fn target_asks_for_a_range_beyond_the_file() {
    assert_sender_fails(TargetScript::RangeBeyondTheFile, 15, "outside the file");
}
