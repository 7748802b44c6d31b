//! `xft send` -> `xft recv` over In-Band Bytestreams, through a real Prosody.

mod support;

use std::time::Duration;

use support::{
    assert_exit, interrupted_send, list_dir, pattern, resumable_receiver, run, run_with_stdin,
    scratch_dir, server, stderr, stdout, Receiver,
};

const LONG: Duration = Duration::from_secs(120);

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn boundary_sizes_arrive_whole() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("boundary");
    let src = scratch_dir("boundary-src");
    let block = 4096usize;
    let sizes = [0, 1, block - 1, block, block + 1, 3 * block + 1];
    let mut files = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let path = src.join(format!("f{i}-{size}.bin"));
        std::fs::write(&path, pattern(*size, i as u64 + 1)).unwrap();
        files.push(path);
    }
    let mut recv = s.xft(&bob);
    recv.args([
        "recv", "--count", "6", "--from", &alice.jid, "--json", "--dir",
    ])
    .arg(&dir);
    let receiver = Receiver::spawn(recv);

    let mut send = s.xft(&alice);
    send.args([
        "send",
        "--protocol",
        "si",
        "--method",
        "ibb",
        "--json",
        "--block-size",
        &block.to_string(),
    ])
    .args(&files)
    .arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let sent = json_lines(&stdout(&out));
    assert_eq!(sent.len(), 6);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let received = json_lines(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(received.len(), 6);
    for (i, size) in sizes.iter().enumerate() {
        let name = format!("f{i}-{size}.bin");
        let data = std::fs::read(dir.join(&name)).unwrap();
        let expected = pattern(*size, i as u64 + 1);
        assert!(data == expected, "{name} differs");
        assert_eq!(sent[i]["method"], "ibb");
        assert_eq!(sent[i]["md5"], md5_hex(&expected));
        assert_eq!(received[i]["size"], *size as u64);
        assert_eq!(received[i]["md5"], md5_hex(&expected));
        assert_eq!(
            received[i]["from"]
                .as_str()
                .map(|f| f.starts_with(&alice.jid)),
            Some(true)
        );
    }
    assert!(!list_dir(&dir).iter().any(|n| n.ends_with(".part")));
}

#[test]
fn ten_mib_to_a_contact_by_bare_jid_with_utf8_name() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir("tenmib");
    let src = scratch_dir("tenmib-src");
    let name = "résumé d'été ☃ (final).bin";
    let data = pattern(10 << 20, 42);
    std::fs::write(src.join(name), &data).unwrap();

    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let mut send = s.xft(&alice);
    send.args([
        "send",
        "--method",
        "ibb",
        "--json",
        "--desc",
        "the <final> one",
    ])
    .arg(src.join(name))
    .arg(&bob.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let sent = json_lines(&stdout(&out));
    assert_eq!(
        sent[0]["to"],
        receiver.jid.as_str(),
        "the bare JID resolved to the receiver"
    );
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report = &json_lines(&String::from_utf8_lossy(&done.stdout))[0];
    assert_eq!(report["name"], name);
    assert_eq!(report["desc"], "the <final> one");
    assert_eq!(report["method"], "jingle-ibb");
    assert_eq!(report["size"], 10 << 20);
    assert!(report["bytes_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(report["path"], dir.join(name).display().to_string());
    assert!(std::fs::read(dir.join(name)).unwrap() == data);
}

#[test]
fn seq_wraps_past_65535() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("wrap");
    let src = scratch_dir("wrap-src");
    // 16-byte blocks: 65536 + 100 blocks, so seq goes 65535 -> 0 -> 99.
    let data = pattern(16 * (65536 + 100) + 5, 7);
    std::fs::write(src.join("wrap.bin"), &data).unwrap();
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let mut send = s.xft(&alice);
    send.args([
        "send",
        "--method",
        "ibb",
        "--block-size",
        "16",
        "--window",
        "64",
    ])
    .arg(src.join("wrap.bin"))
    .arg(&receiver.jid);
    assert_exit(&run(send), 0);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(std::fs::read(dir.join("wrap.bin")).unwrap() == data);
}

#[test]
fn stdin_to_stdout() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let data = pattern(300_000, 9);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "-o", "-"]);
    let receiver = Receiver::spawn(recv);
    let mut send = s.xft(&alice);
    send.args([
        "send",
        "--method",
        "ibb",
        "-",
        &receiver.jid,
        "--name",
        "piped.txt",
    ]);
    let out = run_with_stdin(send, &data);
    assert_exit(&out, 0);
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(done.stdout == data, "stdout carries exactly the file");
}

#[test]
fn sender_not_allowed_is_declined() {
    let s = server();
    let (alice, bob, carol) = (s.account("alice"), s.account("bob"), s.account("carol"));
    let dir = scratch_dir("notallowed");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--from", &carol.jid, "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("notallowed-src").join("x.bin");
    std::fs::write(&file, b"secret").unwrap();
    let mut send = s.xft(&alice);
    send.arg("send").arg(&file).arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 8);
    assert!(stderr(&out).contains("declined"), "{}", stderr(&out));
    let done = receiver.kill();
    assert!(
        done.stderr.contains("sender not allowed"),
        "{}",
        done.stderr
    );
    assert!(list_dir(&dir).is_empty(), "{:?}", list_dir(&dir));
}

#[test]
fn strangers_are_declined_by_default_and_contacts_accepted() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("stranger");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("stranger-src").join("x.bin");
    std::fs::write(&file, b"hello").unwrap();
    let mut send = s.xft(&alice);
    send.arg("send").arg(&file).arg(&receiver.jid);
    assert_exit(&run(send), 8);
    receiver.kill();
    assert!(list_dir(&dir).is_empty());
}

#[test]
fn too_large_is_declined_on_both_sides() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("toolarge");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--max-size", "1K", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("toolarge-src").join("big.bin");
    std::fs::write(&file, pattern(2048, 1)).unwrap();
    let mut send = s.xft(&alice);
    send.arg("send").arg(&file).arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 8);
    assert!(stderr(&out).contains("too large"), "{}", stderr(&out));
    let done = receiver.kill();
    assert!(done.stderr.contains("too large"), "{}", done.stderr);
    assert!(list_dir(&dir).is_empty());
}

#[test]
fn gone_recipient_exits_6() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any"]);
    let receiver = Receiver::spawn(recv);
    let jid = receiver.jid.clone();
    receiver.kill();
    wait_until_gone(s, &alice, &jid);
    let file = scratch_dir("gone-src").join("x.bin");
    std::fs::write(&file, b"hello").unwrap();
    let mut send = s.xft(&alice);
    send.arg("send").arg(&file).arg(&jid);
    let out = run(send);
    assert_exit(&out, 6);
    assert!(stderr(&out).contains("not available"), "{}", stderr(&out));
}

#[test]
fn bare_jid_needs_a_contact_or_presence() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let file = scratch_dir("bare-src").join("x.bin");
    std::fs::write(&file, b"hello").unwrap();
    let mut send = s.xft(&alice);
    send.arg("send").arg(&file).arg(&bob.jid);
    let out = run(send);
    assert_exit(&out, 6);
    let err = stderr(&out);
    assert!(
        err.contains("not in your contacts") && err.contains("xft contact add"),
        "{err}"
    );

    // A contact who is offline: a different message, same code.
    let carol = s.account("carol");
    s.make_contacts(&alice, &carol);
    let mut send = s.xft(&alice);
    send.args(["send", "--presence-wait", "1"])
        .arg(&file)
        .arg(&carol.jid);
    let out = run(send);
    assert_exit(&out, 6);
    assert!(stderr(&out).contains("offline"), "{}", stderr(&out));
}

#[test]
fn hostile_names_land_inside_the_directory() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let long = format!("{}.txt", "n".repeat(300));
    // SI carries the name in an attribute, Jingle in an element's text.
    for (protocol, tabbed) in [
        ("si", "tab here\u{FFFD}.txt"),
        ("jingle", "tabhere\u{FFFD}.txt"),
    ] {
        let dir = scratch_dir(&format!("hostile-{protocol}"));
        let cases: Vec<(&str, String)> = vec![
            ("../../x", "x".into()),
            ("/etc/passwd", "passwd".into()),
            (".bashrc", "bashrc".into()),
            ("a/b", "b".into()),
            // U+0001 cannot travel in XML: the sender's writer turns it into U+FFFD. The
            // tab is sent as &#9;, but Prosody re-serialises it literally: in an SI
            // attribute, value normalisation makes it a space; in Jingle's <name/> it
            // stays a tab, which the receiver drops as a control character.
            ("tab\there\u{1}.txt", tabbed.into()),
            ("evil\u{202E}txt.exe", "eviltxt.exe".into()),
            ("..", "received-file".into()),
            (&long, format!("{}.txt", "n".repeat(196))),
        ];
        let mut recv = s.xft(&bob);
        recv.args([
            "recv",
            "--accept-any",
            "--count",
            &cases.len().to_string(),
            "--dir",
        ])
        .arg(&dir);
        let receiver = Receiver::spawn(recv);
        let file = scratch_dir("hostile-src").join("payload");
        std::fs::write(&file, b"payload").unwrap();
        for (name, _) in &cases {
            let mut send = s.xft(&alice);
            send.args(["send", "--protocol", protocol])
                .arg(&file)
                .arg(&receiver.jid)
                .args(["--name", name]);
            assert_exit(&run(send), 0);
        }
        let done = receiver.finish(LONG);
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        let mut expected: Vec<String> = cases.iter().map(|(_, safe)| safe.clone()).collect();
        expected.sort();
        assert_eq!(list_dir(&dir), expected, "{protocol}");
    }
    // Nothing escaped: the scratch root holds only our directories.
    assert!(!s.dir.join("scratch").join("x").exists());
    assert!(!s.dir.join("x").exists());
}

#[test]
fn existing_files_are_kept_unless_overwrite() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let dir = scratch_dir("noclobber");
    std::fs::write(dir.join("a.txt"), b"old").unwrap();
    let file = scratch_dir("noclobber-src").join("a.txt");
    std::fs::write(&file, b"new").unwrap();
    for overwrite in [false, true] {
        let mut recv = s.xft(&bob);
        recv.args(["recv", "--accept-any", "--dir"]).arg(&dir);
        if overwrite {
            recv.arg("--overwrite");
        }
        let receiver = Receiver::spawn(recv);
        let mut send = s.xft(&alice);
        send.arg("send").arg(&file).arg(&receiver.jid);
        assert_exit(&run(send), 0);
        assert_eq!(receiver.finish(LONG).code, Some(0));
    }
    assert_eq!(list_dir(&dir), ["a (1).txt", "a.txt"]);
    assert_eq!(std::fs::read(dir.join("a (1).txt")).unwrap(), b"new");
    assert_eq!(
        std::fs::read(dir.join("a.txt")).unwrap(),
        b"new",
        "--overwrite replaced it"
    );
}

#[test]
fn contact_add_and_approve_make_bare_jid_sends_work() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let mut add = s.xft(&alice);
    add.args(["contact", "add", &bob.jid]);
    let out = run(add);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("xft contact approve"),
        "{}",
        stderr(&out)
    );
    let mut approve = s.xft(&bob);
    approve.args(["contact", "approve", &alice.jid]);
    assert_exit(&run(approve), 0);
    // xft contact approve ends once the server has taken the approval; the roster
    // change on alice's side follows from it.
    let items = wait_for_contact_list(s, &alice, &bob.jid);
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["jid"] == bob.jid.as_str())
        .cloned();
    assert_eq!(
        item.map(|i| i["subscription"].clone()),
        Some("both".into()),
        "{items}"
    );

    let dir = scratch_dir("viacontact");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("viacontact-src").join("hello.txt");
    std::fs::write(&file, b"hello bob").unwrap();
    let mut send = s.xft(&alice);
    send.arg("send").arg(&file).arg(&bob.jid);
    assert_exit(&run(send), 0);
    assert_eq!(receiver.finish(LONG).code, Some(0));
    assert_eq!(std::fs::read(dir.join("hello.txt")).unwrap(), b"hello bob");

    let mut remove = s.xft(&alice);
    remove.args(["contact", "remove", &bob.jid]);
    assert_exit(&run(remove), 0);
}

#[test]
fn recv_answers_disco_with_file_transfer_features() {
    // The sender's bare-JID resolution depends on it; check it directly too.
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    s.make_contacts(&alice, &bob);
    let mut recv = s.xft(&bob);
    recv.args(["recv"]);
    let receiver = Receiver::spawn(recv);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let info = rt.block_on(async {
        let settings = xft::session::Settings {
            jid: alice.jid.parse().unwrap(),
            server: Some(format!("127.0.0.1:{}", s.c2s_port)),
            direct_tls: false,
            trust: xft::transport::TrustSettings {
                ca_file: Some(s.ca_pem.clone()),
                insecure: false,
            },
            resource: None,
            features: vec![],
            iq_timeout: Duration::from_secs(10),
            server_cache: false,
        };
        let (session, _incoming) = xft::session::Session::login(&settings, &alice.password)
            .await
            .unwrap();
        let info = xft::disco::info(&session, &receiver.jid.parse().unwrap())
            .await
            .unwrap();
        session.close().await;
        info
    });
    receiver.kill();
    for feature in xft::disco::client_features() {
        assert!(info.has_feature(&feature), "missing {feature}: {info:?}");
    }
    assert!(info.has_identity("client", "pc"));
}

/// SI, not the Jingle that `--protocol auto` would pick between two xft.
const SI: &[&str] = &["--protocol", "si"];

/// Issue 8, resume (XEP-0096 §3 `<range/>`): a transfer killed at about a third is sent
/// again; the receiver asks for the rest only, the sender sends only that, and the
/// file is identical. The second attempt goes over SOCKS5, so both bytestreams append.
#[test]
fn an_interrupted_transfer_resumes_with_only_the_rest() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let state = scratch_dir("resume-state");
    let dir = scratch_dir("resume-dst");
    let file = scratch_dir("resume-src").join("big.bin");
    let data = pattern(3 << 20, 41);
    std::fs::write(&file, &data).unwrap();
    let size = data.len() as u64;
    let receiver = resumable_receiver(s, &bob, &state, &dir, &[]);
    let part = dir.join("big.bin.part");
    let (code, kept) = interrupted_send(s, &alice, receiver, &file, &part, size, SI);
    assert_eq!(code, Some(9), "the sender vanished");
    assert!(kept > 0 && kept < size, "kept {kept} of {size}");

    let receiver = resumable_receiver(s, &bob, &state, &dir, &[]);
    let mut send = s.xft(&alice);
    send.args(["send", "--json"])
        .args(SI)
        .arg(&file)
        .arg(&receiver.jid);
    let out = run(send);
    assert_exit(&out, 0);
    let sent = &json_lines(&stdout(&out))[0];
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let got = &json_lines(&String::from_utf8_lossy(&done.stdout))[0];
    assert_eq!(got["resumed_from"], kept, "{got}");
    assert_eq!(sent["resumed_from"], kept, "{sent}");
    assert_eq!(got["size"], size);
    assert_eq!(got["method"], "s5b");
    assert_eq!(list_dir(&dir), ["big.bin"]);
    assert!(std::fs::read(dir.join("big.bin")).unwrap() == data);
}

/// `--no-resume`, and a different file under the same name, both start afresh and
/// leave the earlier `.part` alone.
#[test]
fn no_resume_and_a_changed_file_start_afresh() {
    let s = server();
    let (alice, bob) = (s.account("alice"), s.account("bob"));
    let state = scratch_dir("noresume-state");
    let dir = scratch_dir("noresume-dst");
    let file = scratch_dir("noresume-src").join("n.bin");
    let data = pattern(3 << 20, 42);
    std::fs::write(&file, &data).unwrap();
    let size = data.len() as u64;
    let receiver = resumable_receiver(s, &bob, &state, &dir, &[]);
    let part = dir.join("n.bin.part");
    let (_, kept) = interrupted_send(s, &alice, receiver, &file, &part, size, SI);
    assert!(kept > 0 && kept < size, "kept {kept} of {size}");
    for (extra, content) in [
        (&["--no-resume"][..], data.clone()),
        (&[][..], pattern(3 << 20, 45)),
    ] {
        std::fs::write(&file, &content).unwrap();
        let receiver = resumable_receiver(s, &bob, &state, &dir, extra);
        let mut send = s.xft(&alice);
        send.arg("send").args(SI).arg(&file).arg(&receiver.jid);
        assert_exit(&run(send), 0);
        let done = receiver.finish(LONG);
        assert_eq!(done.code, Some(0), "{}", done.stderr);
        let got = &json_lines(&String::from_utf8_lossy(&done.stdout))[0];
        assert!(got.get("resumed_from").is_none(), "{extra:?}: {got}");
        let path = got["path"].as_str().unwrap().to_owned();
        assert!(std::fs::read(&path).unwrap() == content);
        std::fs::remove_file(path).unwrap();
    }
    assert_eq!(
        std::fs::metadata(dir.join("n.bin.part")).unwrap().len(),
        kept
    );
}

/// Waits until the server no longer has `jid` online: a disco#info to it is answered
/// with an error by the server (checked every 20 ms, for at most 10 s).
fn wait_until_gone(s: &support::Prosody, account: &support::Account, jid: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, _incoming) = support::peer_login(s, account).await;
        let target = xft::jid::Jid::parse(jid).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while xft::disco::info(&peer, &target).await.is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "{jid} never went offline"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peer.close().await;
    });
}

/// `xft contact list --json` of `account` once it lists `contact` (checked again until
/// then, for at most 10 s).
fn wait_for_contact_list(
    s: &support::Prosody,
    account: &support::Account,
    contact: &str,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut list = s.xft(account);
        list.args(["contact", "list", "--json"]);
        let out = run(list);
        assert_exit(&out, 0);
        let items: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        let listed = items.as_array().is_some_and(|a| {
            a.iter()
                .any(|i| i["jid"] == contact && i["subscription"] != "none")
        });
        if listed || std::time::Instant::now() >= deadline {
            return items;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
