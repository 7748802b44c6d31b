//! Jingle file transfer (XEP-0234 over XEP-0166, in-band transport XEP-0261): xft to
//! xft through a real Prosody, and with libervia (Debian's packages) both ways, in a
//! network namespace with only `lo`.

mod support;

use std::time::Duration;

use support::{assert_exit, pattern, run, scratch_dir, server, stdout, Receiver};

fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The libervia tests share one network namespace; those that make SOCKS5 fail in it
/// run alone.
static NAMESPACE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn sharing_the_namespace() -> std::sync::RwLockReadGuard<'static, ()> {
    NAMESPACE.read().unwrap_or_else(|e| e.into_inner())
}

/// While it lives, every new TCP connection in the server's namespace is refused but
/// those to the server's client port: no SOCKS5 candidate (direct or proxy65) can be
/// reached, by xft or by libervia, and the session must fall back to IBB.
struct Socks5Refused {
    netns: String,
    _alone: std::sync::RwLockWriteGuard<'static, ()>,
}

impl Socks5Refused {
    fn in_namespace_of(s: &support::Prosody) -> Socks5Refused {
        let alone = NAMESPACE.write().unwrap_or_else(|e| e.into_inner());
        let netns = s.netns.clone().expect("a server in a namespace");
        let rules = format!(
            "table inet xft_refuse {{ chain out {{ type filter hook output priority 0; \
             tcp flags & (syn | ack) == syn tcp dport != {} reject with tcp reset; }}; }}",
            s.c2s_port
        );
        let status = std::process::Command::new("ip")
            .args(["netns", "exec", &netns, "nft", &rules])
            .status()
            .expect("nft (scripts/install-deps installs nftables)");
        assert!(status.success(), "nft refused the rules");
        Socks5Refused {
            netns,
            _alone: alone,
        }
    }
}

impl Drop for Socks5Refused {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.netns,
                "nft",
                "delete table inet xft_refuse",
            ])
            .status();
    }
}

/// `xft recv` took the file libervia sent (`out`: libervia-cli's) over Jingle `method`,
/// verified with SHA-256, and `path` holds exactly `data`.
#[track_caller]
fn assert_received_from_libervia(
    done: &support::Finished,
    out: &std::process::Output,
    method: &str,
    path: &std::path::Path,
    data: &[u8],
) {
    assert_eq!(
        done.code,
        Some(0),
        "xft: {}\nlibervia: {} {}",
        done.stderr,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = first_json(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(got["protocol"], "jingle");
    assert_eq!(got["method"], method, "{got}");
    assert_eq!(
        got["hash"],
        format!("sha-256:{}", sha256_hex(data)).as_str(),
        "{got}"
    );
    assert_eq!(std::fs::read(path).unwrap(), data);
}

fn first_json(text: &str) -> serde_json::Value {
    let line = text
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The receiver offers no candidate of its own here, so the sender's is used.
#[test]
fn xft_to_xft_over_jingle_s5b_with_a_checksum() {
    xft_to_xft_with(
        "jingles5b",
        (&[], &["--no-direct", "--no-proxy"]),
        "jingle-s5b",
        "the receiver used our direct candidate",
    );
}

/// Both sides offer direct candidates of the same priority: the initiator's choice
/// (its connection to the receiver's candidate) wins (XEP-0260 §2.4).
#[test]
fn on_a_tie_the_initiators_choice_wins() {
    xft_to_xft(
        "jingletie",
        &[],
        "jingle-s5b",
        "using the receiver's direct candidate",
    );
}

#[test]
fn xft_to_xft_over_jingle_ibb_with_a_checksum() {
    xft_to_xft(
        "jingleibb",
        &["--method", "ibb"],
        "jingle-ibb",
        "with Jingle (XEP-0234): --protocol jingle",
    );
}

#[test]
fn xft_to_xft_through_the_proxy_only() {
    xft_to_xft_with(
        "jingleproxy",
        (&["--no-direct"], &["--no-direct", "--no-proxy"]),
        "jingle-s5b",
        "the receiver used our proxy candidate",
    );
}

/// The receiver's proxy only: the receiver, which offered it, activates it (§2.5).
#[test]
fn through_the_receivers_proxy() {
    xft_to_xft_with(
        "jinglerproxy",
        (&["--no-direct", "--no-proxy"], &["--no-direct"]),
        "jingle-s5b",
        "using the receiver's proxy candidate",
    );
}

/// xft to xft with `--protocol jingle`; `-v` must name the choice (`log`).
fn xft_to_xft(tag: &str, extra: &[&str], method: &str, log: &str) {
    xft_to_xft_with(tag, (extra, &[]), method, log);
}

/// XEP-0260 §2.2: a sender with no candidate of its own (behind NAT, say) reaches the
/// receiver's.
#[test]
fn the_sender_uses_the_receivers_own_candidate() {
    xft_to_xft(
        "jingleresp",
        &["--no-direct", "--no-proxy"],
        "jingle-s5b",
        "using the receiver's direct candidate",
    );
}

/// No candidate on either side: both report `candidate-error` and IBB replaces SOCKS5.
#[test]
fn no_candidate_on_either_side_replaces_the_transport_with_ibb() {
    xft_to_xft_with(
        "jinglenone",
        (
            &["--no-direct", "--no-proxy"],
            &["--no-direct", "--no-proxy"],
        ),
        "jingle-ibb",
        "replacing the transport with in-band bytestreams",
    );
}

/// [`xft_to_xft`] with arguments for `xft send` and for `xft recv`.
fn xft_to_xft_with(tag: &str, (extra, recv_extra): (&[&str], &[&str]), method: &str, log: &str) {
    let s = server();
    let (alice, bob) = (s.account(&format!("{tag}a")), s.account(&format!("{tag}b")));
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir(tag);
    let data = pattern(300_000, 21);
    let file = scratch_dir(&format!("{tag}-src")).join("report.pdf");
    std::fs::write(&file, &data).unwrap();
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json"])
        .args(recv_extra)
        .arg("--dir")
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let mut send = s.xft(&alice);
    send.args(["send", "--protocol", "jingle", "--json", "-v"])
        .args(extra)
        .arg(&file)
        .arg(&bob.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let sent = first_json(&stdout(&out));
    assert_eq!(sent["protocol"], "jingle");
    assert_eq!(sent["method"], method, "{sent}");
    assert!(
        support::stderr(&out).contains(log),
        "{}",
        support::stderr(&out)
    );
    let want = format!("sha-256:{}", sha256_hex(&data));
    assert_eq!(sent["hash"], want.as_str());
    let done = receiver.finish(Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let got = first_json(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(got["protocol"], "jingle");
    assert_eq!(got["method"], method, "{got}");
    assert_eq!(got["hash"], want.as_str());
    assert_eq!(std::fs::read(dir.join("report.pdf")).unwrap(), data);
}

#[test]
fn libervia_sends_to_xft_over_its_s5b_candidate() {
    let _shared = sharing_the_namespace();
    let s = support::netns_server();
    let (alice, bob) = (s.account("lvsend"), s.account("xftrecv"));
    s.make_contacts(&alice, &bob);
    let libervia = support::libervia::backend(s);
    libervia.connect(s, &alice);
    let dir = scratch_dir("from-libervia");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(200_000, 22);
    let src = scratch_dir("from-libervia-src").join("photo.jpg");
    std::fs::write(&src, &data).unwrap();
    let out = libervia.send_file(&alice, &src, &receiver.jid);
    let done = receiver.finish(Duration::from_secs(90));
    assert_received_from_libervia(&done, &out, "jingle-s5b", &dir.join("photo.jpg"), &data);
}

#[test]
fn xft_sends_to_libervia_over_jingle_s5b() {
    let _shared = sharing_the_namespace();
    let s = support::netns_server();
    let (alice, bob) = (s.account("xftsend"), s.account("lvrecv"));
    s.make_contacts(&alice, &bob);
    let libervia = support::libervia::backend(s);
    let full = libervia.connect(s, &bob);
    let dir = scratch_dir("to-libervia");
    let receiver = libervia.receive_file(&bob, &dir);
    let data = pattern(150_000, 23);
    let file = scratch_dir("to-libervia-src").join("notes.bin");
    std::fs::write(&file, &data).unwrap();
    let mut send = s.xft(&alice);
    send.args(["-v", "send", "--protocol", "jingle", "--json"])
        .arg(&file)
        .arg(&full);
    let out = run(send);
    let lv = receiver.wait_with_output().unwrap();
    assert_exit(&out, 0);
    // libervia reads only its own checksum form (base64 of the hex digest); given the
    // standard one it never answered the session-info and ended unverified 5 s later.
    let log = support::stderr(&out);
    assert!(log.contains("Libervia"), "{log}");
    assert!(!log.contains("checksum was not acknowledged"), "{log}");
    // libervia's candidate-used can overtake its session-accept: still SOCKS5.
    assert_eq!(first_json(&stdout(&out))["method"], "jingle-s5b", "{log}");
    assert!(
        lv.status.success(),
        "libervia: {} {}",
        String::from_utf8_lossy(&lv.stdout),
        String::from_utf8_lossy(&lv.stderr)
    );
    assert_eq!(std::fs::read(dir.join("notes.bin")).unwrap(), data);
}

/// XEP-0260 §2.4 and XEP-0261, libervia initiating: xft offers no candidate and
/// reaches none of libervia's (SOCKS5 is refused in the namespace), both report
/// candidate-error, libervia replaces the transport with IBB and the file arrives.
#[test]
fn libervia_falls_back_to_ibb_when_no_socks5_candidate_works() {
    let s = support::netns_server();
    let (alice, bob) = (s.account("lvibbsend"), s.account("xftibbrecv"));
    s.make_contacts(&alice, &bob);
    let libervia = support::libervia::backend(s);
    let refused = Socks5Refused::in_namespace_of(s);
    libervia.connect(s, &alice);
    let dir = scratch_dir("ibb-from-libervia");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "-v", "--json", "--no-direct", "--no-proxy", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(120_000, 25);
    let src = scratch_dir("ibb-from-libervia-src").join("fallback.bin");
    std::fs::write(&src, &data).unwrap();
    let out = libervia.send_file(&alice, &src, &receiver.jid);
    let done = receiver.finish(Duration::from_secs(90));
    drop(refused);
    assert_received_from_libervia(&done, &out, "jingle-ibb", &dir.join("fallback.bin"), &data);
}

/// The same with xft initiating: its offer has no candidate, it reaches none of the
/// ones libervia adds, and it replaces the transport with IBB (transport-replace),
/// which libervia accepts.
#[test]
fn xft_falls_back_to_ibb_with_libervia_when_no_socks5_candidate_works() {
    let s = support::netns_server();
    let (alice, bob) = (s.account("xftibbsend"), s.account("lvibbrecv"));
    s.make_contacts(&alice, &bob);
    let libervia = support::libervia::backend(s);
    let refused = Socks5Refused::in_namespace_of(s);
    let full = libervia.connect(s, &bob);
    let dir = scratch_dir("ibb-to-libervia");
    let receiver = libervia.receive_file(&bob, &dir);
    let data = pattern(110_000, 26);
    let file = scratch_dir("ibb-to-libervia-src").join("fallback.bin");
    std::fs::write(&file, &data).unwrap();
    let mut send = s.xft(&alice);
    send.args([
        "-v",
        "send",
        "--protocol",
        "jingle",
        "--json",
        "--no-direct",
        "--no-proxy",
    ])
    .arg(&file)
    .arg(&full);
    let out = run(send);
    let lv = receiver.wait_with_output().unwrap();
    drop(refused);
    assert_exit(&out, 0);
    let log = support::stderr(&out);
    assert_eq!(first_json(&stdout(&out))["method"], "jingle-ibb", "{log}");
    assert!(
        lv.status.success(),
        "libervia: {} {}",
        String::from_utf8_lossy(&lv.stdout),
        String::from_utf8_lossy(&lv.stderr)
    );
    assert_eq!(std::fs::read(dir.join("fallback.bin")).unwrap(), data);
}

/// XEP-0353: given a bare JID, libervia proposes the session in a message and waits
/// for `<proceed/>`; `xft recv` proceeds for an allowed sender and receives the file.
#[test]
fn libervia_proposes_to_a_bare_jid_and_xft_proceeds() {
    let _shared = sharing_the_namespace();
    let s = support::netns_server();
    let (alice, bob) = (s.account("lvpropose"), s.account("xftproceed"));
    s.make_contacts(&alice, &bob);
    let libervia = support::libervia::backend(s);
    libervia.connect(s, &alice);
    let dir = scratch_dir("jmi-from-libervia");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(50_000, 24);
    let src = scratch_dir("jmi-src").join("proposed.dat");
    std::fs::write(&src, &data).unwrap();
    let out = libervia.send_file(&alice, &src, &bob.jid);
    let done = receiver.finish(Duration::from_secs(90));
    assert_eq!(
        done.code,
        Some(0),
        "xft: {}\nlibervia: {} {}",
        done.stderr,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(dir.join("proposed.dat")).unwrap(), data);
}

/// XEP-0234 §7, resume: a Jingle transfer killed at about a third is sent again; the
/// receiver's session-accept asks for the rest (`<range offset/>`), the sender sends
/// only that, both report where it resumed, and the SHA-256 of the whole file (the
/// sender hashes the part it skipped, the receiver the `.part`) is checked.
#[test]
fn an_interrupted_jingle_transfer_resumes_with_only_the_rest() {
    let s = server();
    let (alice, bob) = (s.account("jresumea"), s.account("jresumeb"));
    let state = scratch_dir("jresume-state");
    let dir = scratch_dir("jresume-dst");
    let file = scratch_dir("jresume-src").join("big.bin");
    let data = pattern(3 << 20, 51);
    std::fs::write(&file, &data).unwrap();
    let size = data.len() as u64;
    let part = dir.join("big.bin.part");
    let receiver = support::resumable_receiver(s, &bob, &state, &dir, &[]);
    let (code, kept) = support::interrupted_send(s, &alice, receiver, &file, &part, size, &[]);
    assert_eq!(code, Some(9), "the sender vanished");
    assert!(kept > 0 && kept < size, "kept {kept} of {size}");

    let receiver = support::resumable_receiver(s, &bob, &state, &dir, &[]);
    let mut send = s.xft(&alice);
    send.args(["send", "--json"]).arg(&file).arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let sent = first_json(&stdout(&out));
    let done = receiver.finish(Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let got = first_json(&String::from_utf8_lossy(&done.stdout));
    let want = format!("sha-256:{}", sha256_hex(&data));
    for report in [&sent, &got] {
        assert_eq!(report["protocol"], "jingle", "{report}");
        assert_eq!(report["method"], "jingle-s5b", "{report}");
        assert_eq!(report["resumed_from"], kept, "{report}");
        assert_eq!(report["size"], size, "{report}");
        assert_eq!(report["hash"], want.as_str(), "{report}");
    }
    assert_eq!(support::list_dir(&dir), ["big.bin"]);
    assert!(std::fs::read(dir.join("big.bin")).unwrap() == data);
}

/// A file rewritten under the same name and size (a new modification time, to the
/// millisecond, in the offer's `<date/>`) is not appended to the older one's `.part`:
/// it arrives whole, and the `.part` stays.
#[test]
fn a_changed_file_is_not_resumed_over_jingle() {
    let s = server();
    let (alice, bob) = (s.account("jchangea"), s.account("jchangeb"));
    let state = scratch_dir("jchange-state");
    let dir = scratch_dir("jchange-dst");
    let file = scratch_dir("jchange-src").join("n.bin");
    let data = pattern(3 << 20, 52);
    std::fs::write(&file, &data).unwrap();
    // Both versions within the same second: only the milliseconds tell them apart.
    let second = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let set_mtime = |at: std::time::SystemTime| {
        let f = std::fs::File::options().write(true).open(&file).unwrap();
        f.set_modified(at).unwrap();
    };
    set_mtime(second + Duration::from_millis(100));
    let size = data.len() as u64;
    let part = dir.join("n.bin.part");
    let receiver = support::resumable_receiver(s, &bob, &state, &dir, &[]);
    let (_, kept) = support::interrupted_send(s, &alice, receiver, &file, &part, size, &[]);
    assert!(kept > 0 && kept < size, "kept {kept} of {size}");
    let changed = pattern(3 << 20, 53);
    std::fs::write(&file, &changed).unwrap();
    set_mtime(second + Duration::from_millis(600));
    let receiver = support::resumable_receiver(s, &bob, &state, &dir, &[]);
    let mut send = s.xft(&alice);
    send.args(["send", "--json"]).arg(&file).arg(&receiver.jid);
    assert_exit(&run(send), 0);
    let done = receiver.finish(Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let got = first_json(&String::from_utf8_lossy(&done.stdout));
    assert!(got.get("resumed_from").is_none(), "{got}");
    let path = got["path"].as_str().unwrap().to_owned();
    assert!(std::fs::read(&path).unwrap() == changed);
    assert_eq!(std::fs::metadata(&part).unwrap().len(), kept);
}
