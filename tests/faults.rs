//! Faults in the middle of a transfer, for IBB and for SOCKS5 (issue 8): the server
//! killed, the peer killed, the peer frozen (SIGSTOP). Both sides must exit non-zero
//! within a bound derived from `--timeout`, with the right code, and the receiver
//! keeps what arrived in its `.part`. (A full disk is in hostile_peer.rs and
//! hostile_s5b.rs, with /dev/full.) The transfers use Jingle, which `xft send` picks
//! for an xft receiver; the IBB kill and freeze run over SI too.

mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::{list_dir, pattern, scratch_dir, server, Account, Prosody, Receiver};

/// Every side must be done within this after the fault (`--timeout 3` plus slack).
const BOUNDED: Duration = Duration::from_secs(25);

/// How the bytes travel.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Route {
    /// In-band, slowly (1 KiB blocks, one at a time), so the fault lands mid-file.
    Ibb,
    /// SOCKS5 straight between the two, into /dev/null.
    Direct,
    /// SOCKS5 through the server's proxy65.
    Proxy,
}

struct Transfer {
    sender: Child,
    receiver: Receiver,
    dir: std::path::PathBuf,
}

/// Starts `xft recv` (as `bob`) and `xft send` (as `alice`) of a file large enough for
/// `route` to take a while, and waits until the receiver reports its first bytes.
fn start(s: &Prosody, tag: &str, route: Route) -> Transfer {
    start_with(s, tag, route, &[])
}

/// [`start`] with more `xft send` arguments (`--protocol si`: the faults run over
/// Jingle, the default between two xft, and over SI for the IBB cases).
fn start_with(s: &Prosody, tag: &str, route: Route, extra: &[&str]) -> Transfer {
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--timeout", "3"]);
    match route {
        Route::Direct => recv.args(["-o", "/dev/null"]),
        // Jingle: no candidate of the receiver's own, or the sender would use it.
        Route::Proxy => recv.args(["--no-direct", "--no-proxy", "--dir"]).arg(&dir),
        Route::Ibb => recv.arg("--dir").arg(&dir),
    };
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir(&format!("{tag}-src")).join("f.bin");
    let mut send = sender_command(s, &alice, route);
    send.args(extra);
    if route == Route::Ibb {
        std::fs::write(&file, pattern(4 << 20, 61)).unwrap();
    } else {
        // Sparse: large without costing disk or time to make.
        let f = std::fs::File::create(&file).unwrap();
        f.set_len(if route == Route::Direct {
            8 << 30
        } else {
            2 << 30
        })
        .unwrap();
    }
    send.arg(&file).arg(&receiver.jid);
    let sender = send.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.progress_bytes() == 0 {
        assert!(Instant::now() < deadline, "{tag}: no byte arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    Transfer {
        sender,
        receiver,
        dir,
    }
}

fn sender_command(s: &Prosody, alice: &Account, route: Route) -> std::process::Command {
    let mut send = s.xft(alice);
    send.args(["send", "--no-hash", "--timeout", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match route {
        Route::Ibb => send.args(["--method", "ibb", "--block-size", "1024", "--window", "1"]),
        Route::Direct => send.args(["--method", "s5b", "--no-proxy"]),
        Route::Proxy => send.args(["--method", "s5b", "--no-direct"]),
    };
    send
}

/// Waits for the sender to exit (killing it past the bound); returns its code and stderr.
fn sender_result(mut sender: Child) -> (Option<i32>, String) {
    use std::io::Read;
    let deadline = Instant::now() + BOUNDED;
    let code = loop {
        match sender.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = sender.kill();
                let _ = sender.wait();
                break None;
            }
        }
    };
    let mut err = String::new();
    if let Some(mut pipe) = sender.stderr.take() {
        let _ = pipe.read_to_string(&mut err);
    }
    (code, err)
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: signalling a child process of this test.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

#[track_caller]
fn assert_code(what: &str, code: Option<i32>, wanted: &[i32], log: &str) {
    assert!(
        code.is_some_and(|c| wanted.contains(&c)),
        "{what}: exit {code:?}, wanted one of {wanted:?}\n{log}"
    );
}

#[track_caller]
fn assert_part_kept(dir: &std::path::Path) {
    assert_eq!(
        list_dir(dir),
        ["f.bin.part"],
        "the .part is kept, no final file"
    );
    let len = std::fs::metadata(dir.join("f.bin.part")).unwrap().len();
    assert!(len > 0, "the .part holds what arrived");
}

#[test]
fn server_killed_mid_ibb() {
    let mut s = Prosody::start_private();
    let t = start(&s, "kill-server-ibb", Route::Ibb);
    let fault = Instant::now();
    s.kill();
    let done = t.receiver.finish(BOUNDED);
    let (code, err) = sender_result(t.sender);
    assert!(fault.elapsed() < BOUNDED);
    assert_code("receiver", done.code, &[4], &done.stderr);
    assert_code("sender", code, &[4], &err);
    assert_part_kept(&t.dir);
}

#[test]
fn server_killed_mid_proxied_s5b() {
    let mut s = Prosody::start_private();
    let t = start(&s, "kill-server-proxy", Route::Proxy);
    s.kill();
    let done = t.receiver.finish(BOUNDED);
    let (code, err) = sender_result(t.sender);
    // The proxy's sockets close: the sender's writes fail (9); the receiver sees the
    // stream end early (11) or break (9).
    assert_code("receiver", done.code, &[9, 11], &done.stderr);
    assert_code("sender", code, &[4, 9], &err);
    assert_part_kept(&t.dir);
}

#[test]
fn receiver_killed_mid_ibb() {
    receiver_killed_mid_ibb_with("kill-recv-ibb", &[]);
}

#[test]
fn receiver_killed_mid_si_ibb() {
    receiver_killed_mid_ibb_with("kill-recv-si-ibb", &["--protocol", "si"]);
}

fn receiver_killed_mid_ibb_with(tag: &str, extra: &[&str]) {
    let t = start_with(server(), tag, Route::Ibb, extra);
    let fault = Instant::now();
    let _ = t.receiver.kill();
    let (code, err) = sender_result(t.sender);
    assert_code("sender", code, &[9], &err);
    assert!(
        fault.elapsed() < Duration::from_secs(10),
        "{:?}",
        fault.elapsed()
    );
    // SIGKILL gives the receiver no chance to flush its write buffer, so the .part
    // may hold less than arrived; it is there.
    assert_eq!(list_dir(&t.dir), ["f.bin.part"]);
}

#[test]
fn receiver_killed_mid_s5b() {
    let t = start(server(), "kill-recv-s5b", Route::Direct);
    let fault = Instant::now();
    let _ = t.receiver.kill();
    let (code, err) = sender_result(t.sender);
    assert_code("sender", code, &[9], &err);
    assert!(
        fault.elapsed() < Duration::from_secs(10),
        "{:?}",
        fault.elapsed()
    );
}

#[test]
fn sender_killed_mid_s5b() {
    let mut t = start(server(), "kill-send-s5b", Route::Direct);
    let _ = t.sender.kill();
    let _ = t.sender.wait();
    let done = t.receiver.finish(BOUNDED);
    // The socket closes early: a short stream (11) or a reset (9).
    assert_code("receiver", done.code, &[9, 11], &done.stderr);
}

#[test]
fn sender_frozen_mid_ibb() {
    sender_frozen_mid_ibb_with("freeze-send-ibb", &[]);
}

#[test]
fn sender_frozen_mid_si_ibb() {
    sender_frozen_mid_ibb_with("freeze-send-si-ibb", &["--protocol", "si"]);
}

fn sender_frozen_mid_ibb_with(tag: &str, extra: &[&str]) {
    let t = start_with(server(), tag, Route::Ibb, extra);
    let pid = t.sender.id();
    signal(pid, libc::SIGSTOP);
    let fault = Instant::now();
    let done = t.receiver.finish(BOUNDED);
    let waited = fault.elapsed();
    signal(pid, libc::SIGKILL);
    let _ = sender_result(t.sender);
    assert_code("receiver", done.code, &[10], &done.stderr);
    // The deadline runs from the last bytes that moved, a moment before the freeze.
    assert!(
        waited >= Duration::from_millis(2500) && waited < Duration::from_secs(15),
        "{waited:?}"
    );
    assert_part_kept(&t.dir);
}

#[test]
fn receiver_frozen_mid_ibb() {
    let t = start(server(), "freeze-recv-ibb", Route::Ibb);
    let pid = t.receiver.pid();
    signal(pid, libc::SIGSTOP);
    let (code, err) = sender_result(t.sender);
    signal(pid, libc::SIGKILL);
    let _ = t.receiver.finish(Duration::from_secs(5));
    assert_code("sender", code, &[10], &err);
}

#[test]
fn sender_frozen_mid_s5b() {
    let t = start(server(), "freeze-send-s5b", Route::Direct);
    let pid = t.sender.id();
    signal(pid, libc::SIGSTOP);
    let done = t.receiver.finish(BOUNDED);
    signal(pid, libc::SIGKILL);
    let _ = sender_result(t.sender);
    assert_code("receiver", done.code, &[10], &done.stderr);
    assert!(done.stderr.contains("no data moved"), "{}", done.stderr);
}

#[test]
fn receiver_frozen_mid_s5b() {
    let t = start(server(), "freeze-recv-s5b", Route::Direct);
    let pid = t.receiver.pid();
    signal(pid, libc::SIGSTOP);
    let (code, err) = sender_result(t.sender);
    signal(pid, libc::SIGKILL);
    let _ = t.receiver.finish(Duration::from_secs(5));
    assert_code("sender", code, &[10], &err);
    assert!(err.contains("no data moved"), "{err}");
}
