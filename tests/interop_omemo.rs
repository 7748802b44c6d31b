//! Interop with slixmpp-omemo (PyPI; legacy OMEMO through python-oldmemo), both
//! directions: an encrypted chat message, and encrypted files (XEP-0454) that the
//! Python peer encrypts, uploads (slixmpp's xep_0363) and decrypts with its own code.
//! The suite creates its own venv on first use.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::{
    assert_exit, https_upload_server, pattern, run, scratch_dir, stderr, stdout, Account, Prosody,
    Receiver,
};

/// Pinned: the behaviour checked is theirs at these versions.
const PACKAGES: [&str; 5] = [
    "slixmpp==1.17.0",
    "slixmpp-omemo==2.2.0",
    "oldmemo[xml]==2.1.0",
    "omemo==2.1.0",
    "aiohttp>=3.9,<4",
];

/// A venv with slixmpp-omemo, made once (in target/, so `cargo clean` removes it).
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("omemo-venv");
        let python = venv.join("bin").join("python");
        let ready = venv.join(".slixmpp-omemo-2.2.0");
        if !ready.exists() {
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status();
            assert!(
                ok.is_ok_and(|s| s.success()),
                "python3 -m venv failed: run scripts/install-deps"
            );
            let ok = Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(PACKAGES)
                .status();
            assert!(
                ok.is_ok_and(|s| s.success()),
                "pip install {PACKAGES:?} failed"
            );
            std::fs::write(&ready, "").unwrap();
        }
        python
    })
}

/// A running Python peer and its full JID.
struct Peer {
    child: Child,
    jid: String,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Peer {
    fn spawn(server: &Prosody, mode: &str, account: &Account, extra: &[&str]) -> Peer {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/omemo_peer.py");
        let mut child = Command::new(python())
            .arg(script)
            .args([mode, &account.jid, &account.password, "127.0.0.1"])
            .arg(server.c2s_port.to_string())
            .arg(&server.ca_pem)
            .args(extra)
            .env("SSL_CERT_FILE", &server.ca_pem)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the slixmpp-omemo peer");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_default();
        let Some(jid) = first.strip_prefix("READY ") else {
            let _ = child.kill();
            let err = child
                .stderr
                .take()
                .map(std::io::read_to_string)
                .and_then(Result::ok);
            panic!(
                "the OMEMO peer did not start: {first}\n{}",
                err.unwrap_or_default()
            );
        };
        Peer {
            jid: jid.trim().to_owned(),
            child,
            lines,
        }
    }

    /// The peer's JSON result line.
    fn result(mut self) -> serde_json::Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(150))
            .unwrap_or_default();
        let status = self.child.wait();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            let err = self
                .child
                .stderr
                .take()
                .map(std::io::read_to_string)
                .and_then(Result::ok);
            panic!("the OMEMO peer said: {line}\n{}", err.unwrap_or_default())
        });
        assert!(status.is_ok_and(|s| s.success()), "{value}");
        value
    }
}

fn json(text: &str) -> serde_json::Value {
    let line = text
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON in {text}"));
    serde_json::from_str(line).unwrap()
}

/// `xft recv` as `account`, with the OMEMO device published once it says it is ready.
fn xft_receiver(
    server: &Prosody,
    account: &Account,
    dir: &std::path::Path,
    count: &str,
) -> Receiver {
    let mut recv = server.xft(account);
    recv.args(["recv", "--accept-any", "--json", "--count", count, "--dir"])
        .arg(dir);
    Receiver::spawn(recv)
}

#[test]
fn slixmpp_omemo_chat_reaches_xft_decrypted() {
    let s = https_upload_server();
    let (slix, bob) = (s.account("omi-slix-chat"), s.account("omi-bob-chat"));
    let dir = scratch_dir("omemo-interop-chat");
    let receiver = xft_receiver(s, &bob, &dir, "1");
    let text = "a secret, from python-oldmemo";
    let peer = Peer::spawn(s, "send-chat", &slix, &[&bob.jid, text]);
    let sent = peer.result();
    assert_eq!(sent["sent"], text, "{sent}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !receiver.stderr_text().contains(text) {
        assert!(
            Instant::now() < deadline,
            "xft did not show it:\n{}",
            receiver.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let done = receiver.kill();
    assert!(
        done.stderr.contains("encrypted message from"),
        "{}",
        done.stderr
    );
}

#[test]
fn an_encrypted_file_from_slixmpp_omemo_is_decrypted_by_xft() {
    let s = https_upload_server();
    let (slix, bob) = (s.account("omi-slix-file"), s.account("omi-bob-file"));
    let dir = scratch_dir("omemo-interop-from-slix");
    let receiver = xft_receiver(s, &bob, &dir, "1");
    let data = pattern(700_001, 5);
    let src = scratch_dir("omemo-interop-from-slix-src").join("photo.jpg");
    std::fs::write(&src, &data).unwrap();
    let peer = Peer::spawn(
        s,
        "send-file",
        &slix,
        &[&bob.jid, &src.display().to_string()],
    );
    let sent = peer.result();
    assert_eq!(sent["size"], data.len(), "{sent}");
    let done = receiver.finish(Duration::from_secs(120));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report = json(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(report["encrypted"], true, "{report}");
    assert_eq!(report["omemo"]["trust"], "blind", "{report}");
    let path = report["path"].as_str().unwrap();
    assert!(
        std::fs::read(path).unwrap() == data,
        "the decrypted bytes differ"
    );
}

#[test]
fn slixmpp_omemo_decrypts_what_xft_send_encrypt_sends() {
    let s = https_upload_server();
    let (alice, slix) = (s.account("omi-alice"), s.account("omi-slix-recv"));
    let out = scratch_dir("omemo-interop-to-slix");
    let peer = Peer::spawn(s, "recv", &slix, &[&out.display().to_string()]);
    let data = pattern(1_234_567, 8);
    let src = scratch_dir("omemo-interop-to-slix-src").join("backup.tar");
    std::fs::write(&src, &data).unwrap();
    let bare = peer.jid.split('/').next().unwrap().to_owned();
    let mut send = s.xft(&alice);
    send.args(["send", "--encrypt", "--json"])
        .arg(&src)
        .arg(&bare);
    let sent = run(send);
    assert_exit(&sent, 0);
    assert_eq!(json(&stdout(&sent))["encrypted"], true, "{}", stderr(&sent));
    let got = peer.result();
    assert!(
        got["body"]
            .as_str()
            .unwrap()
            .starts_with("aesgcm://localhost:"),
        "{got}"
    );
    assert_eq!(got["iv_len"], 12, "{got}");
    assert_eq!(got["size"], data.len(), "{got}");
    let path = got["path"].as_str().unwrap();
    assert!(
        std::fs::read(path).unwrap() == data,
        "python decrypted other bytes"
    );
}
