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

fn first_json(text: &str) -> serde_json::Value {
    let line = text
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn xft_to_xft_over_jingle_s5b_with_a_checksum() {
    xft_to_xft(
        "jingles5b",
        &[],
        "jingle-s5b",
        "the receiver used our direct candidate",
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
    xft_to_xft(
        "jingleproxy",
        &["--no-direct"],
        "jingle-s5b",
        "the receiver used our proxy candidate",
    );
}

/// xft to xft with `--protocol jingle`; `-v` must name the choice (`log`).
fn xft_to_xft(tag: &str, extra: &[&str], method: &str, log: &str) {
    let s = server();
    let (alice, bob) = (s.account(&format!("{tag}a")), s.account(&format!("{tag}b")));
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir(tag);
    let data = pattern(300_000, 21);
    let file = scratch_dir(&format!("{tag}-src")).join("report.pdf");
    std::fs::write(&file, &data).unwrap();
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json", "--dir"]).arg(&dir);
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
    let out = libervia
        .cli(&[
            "file",
            "send",
            "-p",
            &alice.user,
            &src.display().to_string(),
            &receiver.jid,
        ])
        .output()
        .unwrap();
    let done = receiver.finish(Duration::from_secs(90));
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
    assert_eq!(got["method"], "jingle-s5b", "{got}");
    assert_eq!(
        got["hash"],
        format!("sha-256:{}", sha256_hex(&data)).as_str(),
        "{got}"
    );
    assert_eq!(std::fs::read(dir.join("photo.jpg")).unwrap(), data);
}

#[test]
fn xft_sends_to_libervia_over_jingle_ibb() {
    let s = support::netns_server();
    let (alice, bob) = (s.account("xftsend"), s.account("lvrecv"));
    s.make_contacts(&alice, &bob);
    let libervia = support::libervia::backend(s);
    let full = libervia.connect(s, &bob);
    let dir = scratch_dir("to-libervia");
    let mut receive = libervia.cli(&[
        "file",
        "receive",
        "-p",
        &bob.user,
        "-f",
        "--path",
        &dir.display().to_string(),
    ]);
    receive
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let receiver = receive.spawn().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let data = pattern(150_000, 23);
    let file = scratch_dir("to-libervia-src").join("notes.bin");
    std::fs::write(&file, &data).unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--protocol", "jingle", "--json"])
        .arg(&file)
        .arg(&full);
    let out = run(send);
    let lv = receiver.wait_with_output().unwrap();
    assert_exit(&out, 0);
    assert!(
        lv.status.success(),
        "libervia: {} {}",
        String::from_utf8_lossy(&lv.stdout),
        String::from_utf8_lossy(&lv.stderr)
    );
    assert_eq!(std::fs::read(dir.join("notes.bin")).unwrap(), data);
}

/// XEP-0353: given a bare JID, libervia proposes the session in a message and waits
/// for `<proceed/>`; `xft recv` proceeds for an allowed sender and receives the file.
#[test]
fn libervia_proposes_to_a_bare_jid_and_xft_proceeds() {
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
    let out = libervia
        .cli(&[
            "file",
            "send",
            "-p",
            &alice.user,
            &src.display().to_string(),
            &bob.jid,
        ])
        .output()
        .unwrap();
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
