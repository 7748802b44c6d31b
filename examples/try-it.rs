//! `scripts/try-it`: starts a throwaway Prosody on loopback, creates two accounts and
//! shows xft at work between them. Nothing outside this machine is contacted.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;

fn show(title: &str, mut cmd: Command) -> std::process::Output {
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let shown: Vec<&String> = args
        .iter()
        .skip_while(|a| a.as_str() != "--ca")
        .skip(2)
        .collect();
    println!(
        "\n$ xft {}",
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = cmd.output().expect("run xft");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    println!("[exit {}] {title}", out.status.code().unwrap_or(-1));
    out
}

/// Starts `xft recv` for bob, sends a file from alice to bob's bare JID, checks it.
fn send_a_file(
    server: &support::Prosody,
    alice: &support::Account,
    bob: &support::Account,
) -> bool {
    let inbox = support::scratch_dir("inbox");
    let outbox = support::scratch_dir("outbox");
    let data = support::pattern(5 << 20, 1);
    std::fs::write(outbox.join("holiday photos.tar"), &data).expect("write sample");
    let mut recv = server.xft(bob);
    recv.args(["recv", "--dir"]).arg(&inbox);
    println!(
        "\n$ xft recv --dir {}   (as {}, in the background)",
        inbox.display(),
        bob.jid
    );
    let receiver = support::Receiver::spawn(recv);
    println!("ready as {}", receiver.jid);
    let mut send = server.xft(alice);
    send.arg("send")
        .arg(outbox.join("holiday photos.tar"))
        .arg(&bob.jid);
    show("alice sends 5 MiB to bob's bare JID", send);
    let done = receiver.finish(std::time::Duration::from_secs(60));
    for line in done.stderr.lines().filter(|l| !l.starts_with('{')) {
        println!("{line}");
    }
    let arrived = std::fs::read(inbox.join("holiday photos.tar"))
        .map(|d| d == data)
        .unwrap_or(false);
    println!(
        "[exit {}] bob's copy is identical: {arrived}",
        done.code.unwrap_or(-1)
    );
    arrived && done.code == Some(0)
}

/// Bob is offline: `auto` uploads (XEP-0363) and the server keeps the link; bob's next
/// `xft recv` downloads it.
fn send_while_offline(
    server: &support::Prosody,
    alice: &support::Account,
    bob: &support::Account,
) -> bool {
    let outbox = support::scratch_dir("outbox-offline");
    std::fs::write(outbox.join("notes.txt"), b"see you on Monday\n").expect("write sample");
    let mut probe = server.xft(alice);
    probe.args(["probe", "--presence-wait", "1", &bob.jid]);
    show("what would work with bob, now offline", probe);
    let mut send = server.xft(alice);
    send.args(["send", "--presence-wait", "1"])
        .arg(outbox.join("notes.txt"))
        .arg(&bob.jid);
    let sent = show("bob is offline: xft uploads and sends the link", send);
    let inbox = support::scratch_dir("inbox-offline");
    let mut recv = server.xft(bob);
    recv.args(["recv", "--dir"]).arg(&inbox);
    let received = show("bob comes online and gets the file from the link", recv);
    let mut upload = server.xft(alice);
    upload.arg("upload").arg(outbox.join("notes.txt"));
    let uploaded = show("just upload, print the URL", upload);
    let arrived = std::fs::read(inbox.join("notes.txt")).is_ok_and(|d| d == b"see you on Monday\n");
    println!("bob's copy is identical: {arrived}");
    arrived
        && [sent, received, uploaded]
            .iter()
            .all(|o| o.status.code() == Some(0))
}

fn main() {
    let server = support::upload_server();
    let alice = server.account("alice");
    let bob = server.account("bob");
    server.make_contacts(&alice, &bob);
    println!(
        "Throwaway Prosody on 127.0.0.1:{} (domain {})",
        server.c2s_port,
        support::DOMAIN
    );
    println!(
        "Accounts: {} and {} (password '{}')",
        alice.jid, bob.jid, alice.password
    );
    println!(
        "Every xft call below also gets --jid, --server 127.0.0.1:{}, --ca (the run's CA) and XFT_S5B_ADDRESS=127.0.0.1 (direct SOCKS5 on loopback only).",
        server.c2s_port
    );

    let sent = send_a_file(server, &alice, &bob);
    let offline = send_while_offline(server, &alice, &bob);

    let mut list = server.xft(&alice);
    list.args(["contact", "list"]);
    show("alice's contacts", list);

    let mut set = server.xft(&alice);
    set.args([
        "vcard",
        "set",
        "--fn",
        "Alice Liddell",
        "--nickname",
        "alice",
        "--url",
        "https://example.org/alice",
    ]);
    show("alice publishes her vCard", set);

    let mut get = server.xft(&bob);
    get.args(["vcard", "get", &alice.jid]);
    show("bob reads it", get);

    let mut get = server.xft(&bob);
    get.args(["vcard", "get", &alice.jid, "--json"]);
    show("the same, for scripts", get);

    let mut get = server.xft(&alice);
    get.args(["vcard", "get", &bob.jid]);
    let out = show("bob has no vCard: exit code 13", get);
    std::process::exit(if sent && offline && out.status.code() == Some(13) {
        0
    } else {
        1
    });
}
