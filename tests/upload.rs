//! HTTP File Upload (XEP-0363) and links in messages (XEP-0066), through a real Prosody
//! 0.12 with `mod_http_file_share` on 127.0.0.1 and offline storage.

mod support;

use std::io::{Read, Write};
use std::time::Duration;

use support::{
    assert_exit, list_dir, pattern, run, run_with_stdin, scratch_dir, stderr, stdout,
    upload_server, Receiver, UPLOAD_LIMIT,
};

const LONG: Duration = Duration::from_secs(120);

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// A plain HTTP/1.0 GET over loopback (the service's URLs are http://127.0.0.1:PORT/…):
/// the status and the body, read independently of xft.
fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_once('/').expect("a path");
    assert!(host.starts_with("127.0.0.1:"), "loopback only: {url}");
    let mut socket = std::net::TcpStream::connect(host).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(socket, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).expect("read");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, answer[split + 4..].to_vec())
}

#[test]
fn upload_prints_urls_that_serve_the_files() {
    let s = upload_server();
    let alice = s.account("up-alice");
    let src = scratch_dir("upload-src");
    let a = src.join("notes (1).txt");
    let b = src.join("data.bin");
    std::fs::write(&a, b"hello upload\n").unwrap();
    std::fs::write(&b, pattern(300_000, 7)).unwrap();
    let mut cmd = s.xft(&alice);
    cmd.arg("upload").arg(&a).arg(&b);
    let out = run(cmd);
    assert_exit(&out, 0);
    let urls: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(urls.len(), 2, "one URL per line: {}", stdout(&out));
    assert!(
        urls[0].ends_with("/notes%20%281%29.txt") || urls[0].ends_with("/notes%20(1).txt"),
        "{}",
        urls[0]
    );
    assert_eq!(http_get(&urls[0]), (200, b"hello upload\n".to_vec()));
    let (status, body) = http_get(&urls[1]);
    assert_eq!(status, 200);
    assert!(body == pattern(300_000, 7), "the served bytes differ");
}

#[test]
fn upload_reads_stdin_in_a_pipeline_and_speaks_json() {
    let s = upload_server();
    let alice = s.account("up-pipe");
    let mut cmd = s.xft(&alice);
    cmd.args(["upload", "--json", "--name", "report.csv", "-"]);
    let data = b"a,b\n1,2\n".repeat(1000);
    let out = run_with_stdin(cmd, &data);
    assert_exit(&out, 0);
    let lines = json_lines(&stdout(&out));
    assert_eq!(lines.len(), 1, "{}", stdout(&out));
    let v = &lines[0];
    assert_eq!(v["name"], "report.csv");
    assert_eq!(v["size"], data.len() as u64);
    assert!(v["seconds"].is_number() && v["bytes_per_sec"].is_number());
    let url = v["url"].as_str().unwrap();
    assert!(url.ends_with("/report.csv"), "{url}");
    assert_eq!(http_get(url), (200, data));
}

#[test]
fn an_oversize_file_is_refused_before_uploading() {
    let s = upload_server();
    let alice = s.account("up-big");
    let src = scratch_dir("upload-big");
    let big = src.join("big.iso");
    // Sparse: the size is what matters, not the bytes.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(UPLOAD_LIMIT + 1)
        .unwrap();
    let mut cmd = s.xft(&alice);
    cmd.arg("upload").arg(&big);
    let out = run(cmd);
    assert_exit(&out, 8);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("at most {UPLOAD_LIMIT} bytes")),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    assert!(
        !s.log_tail().contains("Issuing upload slot to up-big"),
        "no slot may be asked for"
    );
}

#[test]
fn send_uploads_to_an_offline_contact_who_downloads_on_login() {
    let s = upload_server();
    let (alice, bob) = (s.account("up-off-a"), s.account("up-off-b"));
    s.make_contacts(&alice, &bob);
    let src = scratch_dir("upload-offline-src");
    let file = src.join("photo.jpg");
    let data = pattern(200_000, 3);
    std::fs::write(&file, &data).unwrap();
    // Bob is offline: --method upload stores the link with his server.
    let mut send = s.xft(&alice);
    send.args(["send", "--method", "upload", "--json"])
        .arg(&file)
        .arg(&bob.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let report = &json_lines(&stdout(&out))[0];
    assert_eq!(report["method"], "upload");
    assert_eq!(report["to"], bob.jid.as_str());
    let url = report["url"].as_str().unwrap().to_owned();

    // Bob comes online and receives the stored message's file.
    let dir = scratch_dir("upload-offline-dst");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json", "--dir"]).arg(&dir);
    let done = Receiver::spawn(recv).finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let got = &json_lines(&String::from_utf8_lossy(&done.stdout))[0];
    assert_eq!(got["method"], "upload");
    assert_eq!(got["url"], url.as_str());
    assert_eq!(got["name"], "photo.jpg");
    assert_eq!(got["size"], data.len() as u64);
    assert!(got["from"].as_str().unwrap().starts_with(&alice.jid));
    assert_eq!(std::fs::read(dir.join("photo.jpg")).unwrap(), data);
    assert_eq!(list_dir(&dir), vec!["photo.jpg"]);
}

#[test]
fn auto_falls_back_to_upload_when_the_contact_is_offline_and_says_so() {
    let s = upload_server();
    let (alice, bob) = (s.account("up-auto-a"), s.account("up-auto-b"));
    s.make_contacts(&alice, &bob);
    let src = scratch_dir("upload-auto-src");
    let file = src.join("a.txt");
    std::fs::write(&file, b"auto").unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--presence-wait", "1", "--json"])
        .arg(&file)
        .arg(&bob.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("is offline") && err.contains("uploading instead"),
        "{err}"
    );
    let report = &json_lines(&stdout(&out))[0];
    assert_eq!(report["method"], "upload");
    let (status, body) = http_get(report["url"].as_str().unwrap());
    assert_eq!((status, body), (200, b"auto".to_vec()));

    // A method other than auto and upload never uploads.
    let mut send = s.xft(&alice);
    send.args(["send", "--presence-wait", "0", "--method", "ibb"])
        .arg(&file)
        .arg(&bob.jid);
    let out = run(send);
    assert_exit(&out, 6);
    assert!(!stderr(&out).contains("uploading"), "{}", stderr(&out));
}

#[test]
fn the_receiver_applies_its_policy_to_links() {
    let s = upload_server();
    let (alice, bob, mallory) = (
        s.account("up-pol-a"),
        s.account("up-pol-b"),
        s.account("up-pol-m"),
    );
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir("upload-policy-dst");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json", "--max-size", "1000", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let src = scratch_dir("upload-policy-src");
    let small = src.join("small.txt");
    let large = src.join("large.bin");
    std::fs::write(&small, b"small enough").unwrap();
    std::fs::write(&large, pattern(5000, 1)).unwrap();
    let send = |account: &support::Account, file: &std::path::Path| {
        let mut cmd = s.xft(account);
        cmd.args(["send", "--method", "upload"])
            .arg(file)
            .arg(&bob.jid);
        assert_exit(&run(cmd), 0);
    };
    // A stranger's link is ignored; a link over --max-size fails (exit 8, as a declined
    // offer) before a byte is written.
    send(&mallory, &small);
    send(&alice, &large);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(8), "{}", done.stderr);
    assert!(
        done.stderr.contains("ignored a link from up-pol-m"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("more than the limit of 1000"),
        "{}",
        done.stderr
    );
    assert!(list_dir(&dir).is_empty(), "{:?}", list_dir(&dir));
}

#[test]
fn broken_encrypted_links_and_chat_are_reported_and_a_good_link_still_arrives() {
    let s = upload_server();
    let (alice, bob) = (s.account("up-enc-a"), s.account("up-enc-b"));
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir("upload-enc-dst");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (peer, _incoming) = support::peer_login(s, &alice).await;
        for body in [
            "aesgcm://127.0.0.1/secret.jpg#00112233",
            "hello \u{202e}Bob",
        ] {
            let message = xft::xml::Element::new("message", "jabber:client")
                .attr("to", bob.jid.as_str())
                .attr("type", "chat")
                .child(xft::xml::Element::new("body", "jabber:client").text(body));
            peer.send(message).await.unwrap();
        }
        peer.close().await;
    });
    let file = scratch_dir("upload-enc-src").join("ok.txt");
    std::fs::write(&file, b"fine").unwrap();
    let mut send = s.xft(&alice);
    send.args(["send", "--method", "upload"])
        .arg(&file)
        .arg(&bob.jid);
    assert_exit(&run(send), 0);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("aesgcm://127.0.0.1/secret.jpg")
            && done.stderr.contains("its fragment is not an IV and key"),
        "{}",
        done.stderr
    );
    // Chat is shown, with the direction override made visible rather than obeyed.
    assert!(
        done.stderr.contains("hello \\u{202e}Bob"),
        "{}",
        done.stderr
    );
    assert_eq!(std::fs::read(dir.join("ok.txt")).unwrap(), b"fine");
}

/// xft remembers the server's upload service (servers.json) and skips discovery next
/// time; a remembered service that is gone, or whose remembered limit is below the file,
/// is looked for again, and the upload goes through; the file then holds the truth.
#[test]
fn a_remembered_upload_service_that_no_longer_holds_is_looked_for_again() {
    let s = upload_server();
    let alice = s.account("up-remember");
    let file = scratch_dir("upload-remember").join("r.txt");
    std::fs::write(&file, pattern(100, 5)).unwrap();
    let cache = s.dir.join("cache/xft/servers.json");
    for remembered in [
        format!("[\"gone.{}\", null]", support::DOMAIN),
        format!("[\"{}\", 10]", support::UPLOAD),
    ] {
        std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
        let text = format!(
            "[{{\"domain\": \"{}\", \"mechanisms\": [], \"bindings\": [], \"upload\": {remembered}}}]",
            support::DOMAIN
        );
        std::fs::write(&cache, text).unwrap();
        let mut up = s.xft(&alice);
        up.arg("upload").arg(&file);
        let out = run(up);
        assert_exit(&out, 0);
        let url = stdout(&out).trim().to_owned();
        assert_eq!(http_get(&url), (200, pattern(100, 5)), "{remembered}");
        let now = std::fs::read_to_string(&cache).unwrap();
        assert!(now.contains(support::UPLOAD), "{now}");
        assert!(now.contains(&UPLOAD_LIMIT.to_string()), "{now}");
    }
}
