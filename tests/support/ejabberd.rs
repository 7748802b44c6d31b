//! A throwaway ejabberd (Debian's 23.01) for the tests where servers differ (SASL
//! mechanisms, channel binding): configured in a temp dir, loopback only (its c2s
//! listener, epmd and the Erlang distribution all on 127.0.0.1), a CA made for the run,
//! a node name of its own; a watchdog stops it once the test process is gone.
//!
//! What it takes to run ejabberd this way is in docs/interop.md §6.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{free_port, write_certificates, xft_binary, Account, DOMAIN, PASSWORD};

/// A running ejabberd.
pub struct Ejabberd {
    pub dir: PathBuf,
    pub c2s_port: u16,
    pub ca_pem: PathBuf,
    node: String,
    accounts: AtomicU32,
}

static EJABBERD: OnceLock<Ejabberd> = OnceLock::new();

/// The ejabberd shared by the tests of this binary, started on first use.
pub fn ejabberd() -> &'static Ejabberd {
    EJABBERD.get_or_init(Ejabberd::start)
}

impl Ejabberd {
    fn start() -> Ejabberd {
        let dir = tempfile::Builder::new()
            .prefix("xft-ejabberd-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let ca_pem = write_certificates(&dir);
        let key = std::fs::read_to_string(dir.join("server.key")).expect("key");
        let cert = std::fs::read_to_string(dir.join("server.pem")).expect("cert");
        std::fs::write(dir.join("ejabberd.pem"), format!("{cert}{key}")).expect("pem");
        for sub in ["db", "log"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dirs");
        }
        let c2s_port = free_port();
        std::fs::write(dir.join("ejabberd.yml"), config(&dir, c2s_port)).expect("config");
        std::fs::write(
            dir.join("ejabberdctl.cfg"),
            "INET_DIST_INTERFACE=127.0.0.1\nERL_EPMD_ADDRESS=127.0.0.1\nexport ERL_EPMD_ADDRESS\n",
        )
        .expect("ctl config");
        let node = format!("xft{}@localhost", std::process::id());
        let _ = Command::new("chown")
            .args(["-R", "ejabberd:ejabberd"])
            .arg(&dir)
            .status();
        let server = Ejabberd {
            dir,
            c2s_port,
            ca_pem,
            node,
            accounts: AtomicU32::new(0),
        };
        spawn_watchdog(&server);
        let started = server.ctl(&["start"]);
        assert!(
            started.status.success(),
            "ejabberdctl start: {}",
            server.log_tail()
        );
        server.wait_until_ready();
        server
    }

    /// `ejabberdctl` for this node and its files.
    fn ctl(&self, args: &[&str]) -> std::process::Output {
        let d = &self.dir;
        Command::new("ejabberdctl")
            .arg("--ctl-config")
            .arg(d.join("ejabberdctl.cfg"))
            .arg("--config")
            .arg(d.join("ejabberd.yml"))
            .arg("--spool")
            .arg(d.join("db"))
            .arg("--logs")
            .arg(d.join("log"))
            .args(["--node", &self.node])
            .args(args)
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .stdin(Stdio::null())
            .output()
            .expect("ejabberdctl (scripts/install-deps installs ejabberd)")
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let listening = std::net::TcpStream::connect(("127.0.0.1", self.c2s_port)).is_ok();
            if listening && self.ctl(&["status"]).status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ejabberd did not start:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("log/ejabberd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// A fresh account named after `tag`.
    pub fn account(&self, tag: &str) -> Account {
        let n = self.accounts.fetch_add(1, Ordering::SeqCst);
        let user = format!("{tag}{n}").to_lowercase();
        let out = self.ctl(&["register", &user, DOMAIN, PASSWORD]);
        assert!(
            out.status.success(),
            "ejabberdctl register {user}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        Account {
            jid: format!("{user}@{DOMAIN}"),
            user,
            password: PASSWORD.to_owned(),
        }
    }

    /// `xft` logged in as `account` against this server, isolated like
    /// [`super::Prosody::xft`].
    pub fn xft(&self, account: &Account) -> Command {
        let mut cmd = Command::new(xft_binary());
        super::isolate(&mut cmd, &self.dir);
        cmd.args(["--jid", &account.jid])
            .args(["--server", &format!("127.0.0.1:{}", self.c2s_port)])
            .arg("--ca")
            .arg(&self.ca_pem)
            .env("XFT_PASSWORD", &account.password);
        cmd
    }
}

/// Loopback only, STARTTLS required, no s2s, no HTTP; in-band registration off;
/// passwords kept in plain form so that every SCRAM variant can be offered.
fn config(dir: &Path, c2s_port: u16) -> String {
    let d = dir.display();
    format!(
        r#"hosts:
  - "{DOMAIN}"
loglevel: info
certfiles:
  - "{d}/ejabberd.pem"
listen:
  -
    port: {c2s_port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
auth_method: internal
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
modules:
  mod_admin_extra: {{}}
  mod_disco: {{}}
  mod_ping: {{}}
  mod_roster: {{}}
  mod_vcard: {{}}
"#
    )
}

/// Stops the node once the test process is gone, and removes its files; the epmd it
/// may have started goes when no node is left.
fn spawn_watchdog(server: &Ejabberd) {
    let d = server.dir.display();
    let ctl = format!(
        "ERL_EPMD_ADDRESS=127.0.0.1 ejabberdctl --ctl-config {d}/ejabberdctl.cfg --config {d}/ejabberd.yml \
         --spool {d}/db --logs {d}/log --node {}",
        server.node
    );
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; {ctl} stop >/dev/null 2>&1; \
         {ctl} stopped >/dev/null 2>&1; \
         epmd -names 2>/dev/null | grep -q '^name ' || epmd -kill >/dev/null 2>&1; rm -rf '{d}'",
        me = std::process::id(),
    );
    super::run_detached(&script);
}
