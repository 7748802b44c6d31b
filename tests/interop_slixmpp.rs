//! Interop with slixmpp (PyPI), an implementation we did not write, in both directions,
//! over In-Band and SOCKS5 Bytestreams. The suite creates its own venv on first use.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use support::{assert_exit, pattern, run, scratch_dir, server, stderr, stdout, Account, Receiver};

const SLIXMPP: &str = "slixmpp==1.17.0";
/// slixmpp's xep_0363 (HTTP upload) plugin imports aiohttp.
const AIOHTTP: &str = "aiohttp>=3.9,<4";

/// A venv with slixmpp, made once (in target/, so `cargo clean` removes it).
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("interop-venv");
        let python = venv.join("bin").join("python");
        let ready = venv.join(".slixmpp-1.17.0-aiohttp");
        if !ready.exists() {
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .map(|s| s.success());
            assert_eq!(
                ok.ok(),
                Some(true),
                "python3 -m venv failed: run scripts/install-deps"
            );
            let ok = Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    SLIXMPP,
                    AIOHTTP,
                ])
                .status()
                .map(|s| s.success());
            assert_eq!(
                ok.ok(),
                Some(true),
                "pip install {SLIXMPP} {AIOHTTP} failed"
            );
            std::fs::write(&ready, "").unwrap();
        }
        python
    })
}

/// A running slixmpp peer and its full JID.
struct Slix {
    child: Child,
    jid: String,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Slix {
    fn spawn(args: &[&str]) -> Slix {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/slix_peer.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start slixmpp peer");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_default();
        let Some(jid) = first.strip_prefix("READY ") else {
            let _ = child.kill();
            let err = child
                .stderr
                .take()
                .map(std::io::read_to_string)
                .and_then(Result::ok)
                .unwrap_or_default();
            panic!("slixmpp peer did not start: {first}\n{err}");
        };
        Slix {
            jid: jid.trim().to_owned(),
            child,
            lines,
        }
    }

    /// The peer's JSON result line.
    fn result(mut self) -> serde_json::Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_default();
        let _ = self.child.wait();
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("slixmpp peer said: {line}"))
    }
}

fn peer_args<'a>(mode: &'a str, a: &'a Account, port: &'a str, ca: &'a str) -> Vec<&'a str> {
    vec![mode, &a.jid, &a.password, "127.0.0.1", port, ca]
}

fn xft_to_slixmpp(tag: &str, size: usize, send_args: &[&str], expect_method: &str) {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("slix"));
    let data = pattern(size, size as u64);
    let src = scratch_dir(&format!("{tag}-src")).join("to-slix.bin");
    std::fs::write(&src, &data).unwrap();
    let out = scratch_dir(tag).join("got.bin");
    let port = s.c2s_port.to_string();
    let ca = s.ca_pem.display().to_string();
    let mut args = peer_args("recv", &bob, &port, &ca);
    let out_text = out.display().to_string();
    args.push(&out_text);
    let peer = Slix::spawn(&args);
    let mut send = s.xft(&alice);
    send.args(["send", "--json"])
        .args(send_args)
        .arg(&src)
        .arg(&peer.jid);
    let sent = run(send);
    assert_exit(&sent, 0);
    let report: serde_json::Value = serde_json::from_str(stdout(&sent).trim()).unwrap();
    assert_eq!(report["method"], expect_method, "{}", stderr(&sent));
    let result = peer.result();
    assert_eq!(result["method"], expect_method, "{result}");
    assert_eq!(result["md5_ok"], true, "{result}");
    assert!(std::fs::read(&out).unwrap() == data);
}

#[test]
fn xft_sends_to_slixmpp_over_ibb() {
    // slixmpp picks IBB whenever it is offered (docs/interop.md §1).
    xft_to_slixmpp("to-slix-ibb", 300_000, &[], "ibb");
}

#[test]
fn xft_steps_down_the_block_size_for_slixmpp() {
    // slixmpp refuses blocks over 8192 with resource-constraint (XEP-0047 §2.1).
    xft_to_slixmpp(
        "to-slix-stepdown",
        100_000,
        &["--method", "ibb", "--block-size", "65535"],
        "ibb",
    );
}

#[test]
fn xft_sends_to_slixmpp_over_s5b() {
    xft_to_slixmpp("to-slix-s5b", 2 << 20, &["--method", "s5b"], "s5b");
}

fn slixmpp_to_xft(tag: &str, method: &str) {
    let s = server();
    let (alice, bob) = (s.account("slix"), s.account("bob"));
    let data = pattern(400_000, 99);
    let src = scratch_dir(&format!("{tag}-src")).join("from-slix.bin");
    std::fs::write(&src, &data).unwrap();
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let port = s.c2s_port.to_string();
    let ca = s.ca_pem.display().to_string();
    let src_text = src.display().to_string();
    let mut args = peer_args("send", &alice, &port, &ca);
    args.extend([receiver.jid.as_str(), src_text.as_str(), method]);
    let peer = Slix::spawn(&args);
    let result = peer.result();
    assert_eq!(result["method"], method, "{result}");
    let done = receiver.finish(Duration::from_secs(120));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(report["method"], method);
    assert!(std::fs::read(dir.join("from-slix.bin")).unwrap() == data);
}

#[test]
fn slixmpp_sends_to_xft_over_ibb() {
    slixmpp_to_xft("from-slix-ibb", "ibb");
}

#[test]
fn slixmpp_sends_to_xft_over_s5b_via_proxy() {
    // slixmpp offers only proxies it discovered (here Prosody's proxy65 on 127.0.0.1).
    slixmpp_to_xft("from-slix-s5b", "s5b");
}

/// HTTP upload (XEP-0363) from slixmpp's xep_0363 plugin, announced as Conversations
/// does (body and `jabber:x:oob`), received by `xft recv`.
#[test]
fn slixmpp_uploads_and_xft_recv_downloads() {
    let s = support::upload_server();
    let (alice, bob) = (s.account("slixup"), s.account("xftdown"));
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir("slix-upload-dst");
    let src = scratch_dir("slix-upload-src");
    let data = pattern(150_000, 11);
    let file = src.join("from slixmpp.bin");
    std::fs::write(&file, &data).unwrap();
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let port = s.c2s_port.to_string();
    let ca = s.ca_pem.display().to_string();
    let file_arg = file.display().to_string();
    let mut args = peer_args("upload", &alice, &port, &ca);
    args.extend([bob.jid.as_str(), file_arg.as_str()]);
    let peer = Slix::spawn(&args).result();
    assert_eq!(peer["size"], data.len() as u64, "{peer}");
    let done = receiver.finish(Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&done.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(report["method"], "upload");
    assert_eq!(report["url"], peer["url"]);
    assert_eq!(std::fs::read(dir.join("from slixmpp.bin")).unwrap(), data);
}

/// `xft send --method upload` to an online slixmpp client, which downloads the link.
#[test]
fn xft_uploads_and_slixmpp_downloads() {
    let s = support::upload_server();
    let (alice, bob) = (s.account("xftup"), s.account("slixdown"));
    s.make_contacts(&alice, &bob);
    let out_dir = scratch_dir("xft-upload-slix");
    let outfile = out_dir.join("got.bin").display().to_string();
    let port = s.c2s_port.to_string();
    let ca = s.ca_pem.display().to_string();
    let mut args = peer_args("recv-link", &bob, &port, &ca);
    args.push(outfile.as_str());
    let peer = Slix::spawn(&args);
    let data = pattern(120_000, 12);
    let file = scratch_dir("xft-upload-slix-src").join("for slixmpp.dat");
    std::fs::write(&file, &data).unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--method", "upload", "--json"])
        .arg(&file)
        .arg(&bob.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let result = peer.result();
    assert_eq!(result["status"], 200, "{result}");
    assert_eq!(result["size"], data.len() as u64);
    assert_eq!(result["body"], result["url"], "the body is exactly the URL");
    assert!(stdout(&out).contains(result["url"].as_str().unwrap()));
    assert_eq!(std::fs::read(&outfile).unwrap(), data);
}

/// `xft probe` on a slixmpp client: its name (XEP-0092), SI file transfer and both
/// streams, and the verdict that xft send would use SI with it.
#[test]
fn probe_sees_what_slixmpp_speaks() {
    let s = server();
    let (alice, bob) = (s.account("probeslixa"), s.account("probeslixb"));
    let port = s.c2s_port.to_string();
    let ca = s.ca_pem.display().to_string();
    let out_dir = scratch_dir("probe-slix");
    let outfile = out_dir.join("unused.bin").display().to_string();
    let mut args = peer_args("recv", &bob, &port, &ca);
    args.push(outfile.as_str());
    let mut peer = Slix::spawn(&args);
    let mut probe = s.xft(&alice);
    probe.args(["probe", "--json", &peer.jid]);
    let out = run(probe);
    let _ = peer.child.kill();
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let r = &v["peer"]["resources"][0];
    assert!(
        r["client"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("slixmpp"),
        "{r}"
    );
    assert_eq!(r["si_file_transfer"], true, "{r}");
    assert_eq!(v["verdict"]["method"], "si");
    assert_eq!(v["verdict"]["to"], peer.jid.as_str());
}
