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

fn main() {
    let server = support::server();
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
        "Every xft call below also gets --jid, --server 127.0.0.1:{} and --ca (the run's CA).",
        server.c2s_port
    );

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
    std::process::exit(if out.status.code() == Some(13) { 0 } else { 1 });
}
