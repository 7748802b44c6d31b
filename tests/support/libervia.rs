//! libervia (Debian `libervia-backend` + `libervia-cli`, headless) as a Jingle peer, in
//! the network namespace of [`super::netns_server`]: it probes the network by itself,
//! so it runs where only `lo` exists. One backend per test binary; one profile per
//! account. `scripts/install-deps` installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{Account, Prosody};

/// Debian's Python: libervia's packages live there, not in a pyenv or venv one.
const DEBIAN_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

pub struct Libervia {
    home: PathBuf,
    netns: String,
}

static BACKEND: OnceLock<Libervia> = OnceLock::new();

/// The backend for `server` (a [`super::netns_server`]), started on first use.
pub fn backend(server: &'static Prosody) -> &'static Libervia {
    BACKEND.get_or_init(|| Libervia::start(server))
}

impl Libervia {
    fn start(server: &Prosody) -> Libervia {
        let netns = server
            .netns
            .clone()
            .expect("libervia runs in the server's namespace");
        let home = server.dir.join("libervia");
        let local = home.join("local");
        std::fs::create_dir_all(&local).expect("libervia dir");
        std::fs::create_dir_all(home.join("downloads")).expect("libervia downloads");
        std::fs::write(
            home.join(".libervia.conf"),
            format!(
                "[DEFAULT]\nbridge = pb\nlocal_dir = {}\ndownloads_dir = {}\n",
                local.display(),
                home.join("downloads").display()
            ),
        )
        .expect("libervia config");
        let status = Command::new("ip")
            .args([
                "netns",
                "exec",
                &netns,
                "/usr/bin/python3",
                "/usr/bin/libervia-backend",
                "bg",
            ])
            .env("HOME", &home)
            .env("PATH", DEBIAN_PATH)
            // It creates a `files/` directory where it starts: not in the repository.
            .current_dir(&home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("libervia-backend: run scripts/install-deps");
        assert!(status.success(), "libervia-backend bg failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !local.join("bridge_pb").exists() {
            assert!(Instant::now() < deadline, "libervia-backend did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Libervia { home, netns }
    }

    /// `libervia-cli ARGS` against this backend.
    pub fn cli(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.netns, "/usr/bin/libervia-cli"])
            .args(args)
            .env("HOME", &self.home)
            .env("PATH", DEBIAN_PATH)
            .current_dir(&self.home)
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cli(args).output().expect("libervia-cli")
    }

    /// Creates and connects a profile for `account` (resource "libervia"), with its IP
    /// lookup off and the test server forced. Returns the profile's full JID.
    pub fn connect(&self, server: &Prosody, account: &Account) -> String {
        let profile = account.user.as_str();
        let jid = format!("{}/libervia", account.jid);
        let steps: [&[&str]; 5] = [
            &[
                "profile",
                "create",
                "-j",
                &jid,
                "-x",
                &account.password,
                profile,
            ],
            &[
                "param",
                "set",
                "-p",
                profile,
                "Connection",
                "Force server",
                "127.0.0.1",
            ],
            &[
                "param",
                "set",
                "-p",
                profile,
                "Connection",
                "Force port",
                &server.c2s_port.to_string(),
            ],
            &[
                "param",
                "set",
                "-p",
                profile,
                "Connection",
                "check_certificate",
                "false",
            ],
            &[
                "param",
                "set",
                "-p",
                profile,
                "General",
                "allow_get_ip",
                "false",
            ],
        ];
        for step in steps {
            let out = self.run(step);
            assert!(
                out.status.success(),
                "libervia-cli {step:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out = self.run(&["profile", "connect", "-c", "-p", profile]);
        assert!(
            out.status.success(),
            "libervia-cli profile connect: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        jid
    }

    /// `libervia-cli file send` of `file` from `account`'s profile to `to`, run to its end.
    pub fn send_file(&self, account: &Account, file: &Path, to: &str) -> Output {
        let file = file.display().to_string();
        self.run(&["file", "send", "-p", &account.user, &file, to])
    }

    /// `libervia-cli file receive` for `account`'s profile into `dir`, accepting one
    /// file from anyone, started in the background (output piped). No wait is needed
    /// before offering: it also takes the offers the backend holds already (pending
    /// actions), so one that arrives first is not lost.
    pub fn receive_file(&self, account: &Account, dir: &Path) -> std::process::Child {
        let dir = dir.display().to_string();
        let child = self
            .cli(&["file", "receive", "-p", &account.user, "-f", "--path", &dir])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("libervia-cli file receive");
        child
    }

    pub fn home(&self) -> &Path {
        &self.home
    }
}
