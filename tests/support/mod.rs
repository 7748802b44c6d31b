//! Test harness: a throwaway Prosody per test binary, accounts, and the `xft` binary.
//!
//! The server runs from a config written into a temp dir: loopback only, free ports, a
//! CA and server certificate generated for the run, vcard_legacy, a proxy65 component
//! on 127.0.0.1, no rate limits. A watchdog shell process kills it and removes the
//! directory once the test process is gone, however the tests end (a static is never
//! dropped, and a panic or Ctrl-C must not leave a server behind).
#![allow(dead_code, unreachable_pub)]

pub mod component;
pub mod ejabberd;
pub mod libervia;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use xft::stanza::IqType;

pub const DOMAIN: &str = "xft.test";
pub const PROXY: &str = "proxy.xft.test";
pub const UPLOAD: &str = "upload.xft.test";
/// The external component (XEP-0114) of [`component_server`], and its secret.
pub const COMPONENT: &str = "fakeupload.xft.test";
pub const COMPONENT_SECRET: &str = "xft-test-component-secret";
/// The upload size limit of [`upload_server`].
pub const UPLOAD_LIMIT: u64 = 512 * 1024 * 1024;
/// The upload size limit of the tuned servers (benchmarks move 1 GiB files).
pub const TUNED_UPLOAD_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Prosody {
    pub dir: PathBuf,
    pub c2s_port: u16,
    pub tls_port: u16,
    pub proxy_port: u16,
    /// The HTTP port of `mod_http_file_share` ([`upload_server`] only).
    pub http_port: Option<u16>,
    /// The HTTPS port slot URLs name ([`https_upload_server`] only).
    pub https_port: Option<u16>,
    /// The port external components connect to ([`component_server`] only).
    pub component_port: Option<u16>,
    /// The network namespace (only `lo`) the server, and every xft started for it,
    /// runs in ([`netns_server`] only).
    pub netns: Option<String>,
    /// The CA that signed the server's certificate (what `--ca` gets).
    pub ca_pem: PathBuf,
    config: PathBuf,
    accounts: AtomicU32,
    child: Child,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub user: String,
    pub jid: String,
    pub password: String,
}

static SERVER: OnceLock<Prosody> = OnceLock::new();
static TUNED: OnceLock<Prosody> = OnceLock::new();
static UPLOADS: OnceLock<Prosody> = OnceLock::new();
static COMPONENTS: OnceLock<Prosody> = OnceLock::new();
static TUNED_UPLOADS: OnceLock<Prosody> = OnceLock::new();
static NETNS: OnceLock<Prosody> = OnceLock::new();
static HTTPS_UPLOADS: OnceLock<Prosody> = OnceLock::new();
static TUNED_HTTPS_UPLOADS: OnceLock<Prosody> = OnceLock::new();

/// What a server is started with.
#[derive(Clone, Copy, Default)]
struct Flavour {
    /// `network_settings` tuned for throughput.
    tuned: bool,
    /// HTTP file upload (XEP-0363, `mod_http_file_share` on 127.0.0.1) and offline
    /// message storage: for the upload tests, whose recipients may be offline.
    uploads: bool,
    /// An external component [`COMPONENT`] (XEP-0114) that a test plays itself.
    component: bool,
    /// Inside a network namespace of its own with only `lo`.
    netns: bool,
    /// With `uploads`: slot URLs are `https://localhost:PORT/…` (what encrypted files
    /// need: XEP-0454 links are fetched over HTTPS).
    https: bool,
}

/// The server shared by the tests of this binary, started on first use. It runs with
/// Prosody's stock network settings, like most servers in the field.
pub fn server() -> &'static Prosody {
    SERVER.get_or_init(|| Prosody::start(Flavour::default()))
}

/// A server with HTTP upload (`upload.xft.test`, limit [`UPLOAD_LIMIT`]) and offline
/// storage. The other servers have neither, so that `xft send`'s upload fallback does
/// not change what their tests check.
pub fn upload_server() -> &'static Prosody {
    UPLOADS.get_or_init(|| {
        Prosody::start(Flavour {
            uploads: true,
            ..Flavour::default()
        })
    })
}

/// [`upload_server`] whose slots are HTTPS URLs (`https://localhost:PORT/`, the
/// certificate from the run's CA): for encrypted files (XEP-0454).
pub fn https_upload_server() -> &'static Prosody {
    HTTPS_UPLOADS.get_or_init(|| {
        Prosody::start(Flavour {
            uploads: true,
            https: true,
            ..Flavour::default()
        })
    })
}

/// [`https_upload_server`] with the tuned network settings of [`tuned_server`] and the
/// limit [`TUNED_UPLOAD_LIMIT`] (benchmarks of encrypted files).
pub fn tuned_https_upload_server() -> &'static Prosody {
    TUNED_HTTPS_UPLOADS.get_or_init(|| {
        Prosody::start(Flavour {
            uploads: true,
            https: true,
            tuned: true,
            ..Flavour::default()
        })
    })
}

/// [`upload_server`] with the tuned network settings of [`tuned_server`] and the limit
/// [`TUNED_UPLOAD_LIMIT`] (benchmarks).
pub fn tuned_upload_server() -> &'static Prosody {
    TUNED_UPLOADS.get_or_init(|| {
        Prosody::start(Flavour {
            uploads: true,
            tuned: true,
            ..Flavour::default()
        })
    })
}

/// A server inside a network namespace with only `lo`, for peers that probe the
/// network by themselves (libervia): they run in it too, and so does every xft
/// started with [`Prosody::xft`], so nothing can leave loopback. Needs root.
pub fn netns_server() -> &'static Prosody {
    NETNS.get_or_init(|| {
        Prosody::start(Flavour {
            netns: true,
            ..Flavour::default()
        })
    })
}

/// Runs `command` inside `netns` (or as is without one).
pub fn in_netns(netns: Option<&str>, program: &Path) -> Command {
    match netns {
        Some(ns) => {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", ns]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// A server with an external component ([`COMPONENT`], XEP-0114) listed in its disco
/// items: a test connects as that component to play a scripted (hostile) service.
pub fn component_server() -> &'static Prosody {
    COMPONENTS.get_or_init(|| {
        Prosody::start(Flavour {
            component: true,
            ..Flavour::default()
        })
    })
}

/// A second server whose event loop is tuned for throughput (`network_settings`:
/// no Nagle, 10 µs minimum wait). Prosody 0.12's stock loop sleeps at least 1 ms
/// whenever TLS has buffered data, which caps large IBB stanzas near 2-3 MB/s.
pub fn tuned_server() -> &'static Prosody {
    TUNED.get_or_init(|| {
        Prosody::start(Flavour {
            tuned: true,
            ..Flavour::default()
        })
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

impl Prosody {
    /// A server of the caller's own, for tests that kill it.
    pub fn start_private() -> Prosody {
        Prosody::start(Flavour::default())
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn start(flavour: Flavour) -> Prosody {
        let dir = tempfile::Builder::new()
            .prefix("xft-prosody-")
            .tempdir()
            .expect("temp dir")
            .keep();
        std::fs::create_dir_all(dir.join("data")).expect("data dir");
        let ca_pem = write_certificates(&dir);
        let (c2s_port, tls_port, proxy_port) = (free_port(), free_port(), free_port());
        let http_port = flavour.uploads.then(free_port);
        let https_port = (flavour.uploads && flavour.https).then(free_port);
        let component_port = flavour.component.then(free_port);
        let netns = flavour.netns.then(make_netns);
        let config = dir.join("prosody.cfg.lua");
        let ports = Ports {
            c2s: c2s_port,
            tls: tls_port,
            proxy: proxy_port,
            http: http_port,
            https: https_port,
            component: component_port,
        };
        std::fs::write(&config, config_text(&dir, ports, flavour)).expect("config");
        let child = in_netns(netns.as_deref(), Path::new("prosody"))
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).expect("log file"))
            .spawn()
            .expect("cannot start prosody: is it installed? run scripts/install-deps");
        spawn_watchdog(child.id(), &dir, netns.as_deref());
        let server = Prosody {
            dir,
            c2s_port,
            tls_port,
            proxy_port,
            http_port,
            https_port,
            component_port,
            netns,
            ca_pem,
            config,
            accounts: AtomicU32::new(0),
            child,
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        if self.netns.is_some() {
            // Not reachable from here: read the log instead.
            while !self.log_tail().contains("Activated service 'proxy65'")
                || !self.log_tail().contains("Activated service 'c2s'")
            {
                assert!(
                    Instant::now() < deadline,
                    "prosody did not start:\n{}",
                    self.log_tail()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        let ports = [self.c2s_port, self.tls_port, self.proxy_port];
        let optional = self
            .http_port
            .into_iter()
            .chain(self.https_port)
            .chain(self.component_port);
        for port in ports.into_iter().chain(optional) {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                if Instant::now() > deadline {
                    panic!(
                        "prosody did not start listening on {port}:\n{}",
                        self.log_tail()
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for name in ["stderr.log", "prosody.log"] {
            let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(30);
            out.push_str(&format!("--- {name}\n{}\n", lines[from..].join("\n")));
        }
        out
    }

    /// A fresh account named after `tag`.
    pub fn account(&self, tag: &str) -> Account {
        let n = self.accounts.fetch_add(1, Ordering::SeqCst);
        let user = format!("{tag}{n}").to_lowercase();
        let status = Command::new("prosodyctl")
            .arg("--config")
            .arg(&self.config)
            .args(["register", &user, DOMAIN, PASSWORD])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("prosodyctl");
        assert!(status.success(), "prosodyctl register {user} failed");
        Account {
            jid: format!("{user}@{DOMAIN}"),
            user,
            password: PASSWORD.to_owned(),
        }
    }

    /// Makes `a` and `b` mutual contacts (subscription both). Call before either logs in:
    /// it writes the roster files Prosody reads at login.
    pub fn make_contacts(&self, a: &Account, b: &Account) {
        self.add_roster_item(a, b);
        self.add_roster_item(b, a);
    }

    fn add_roster_item(&self, owner: &Account, contact: &Account) {
        let dir = self.dir.join("data").join("xft%2etest").join("roster");
        std::fs::create_dir_all(&dir).expect("roster dir");
        let path = dir.join(format!("{}.dat", prosody_file_name(&owner.user)));
        let mut items = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| {
                t.strip_prefix("return {\n")
                    .map(|rest| rest.trim_end().trim_end_matches("};").to_owned())
            })
            .unwrap_or_else(|| {
                "\t[false] = { [\"version\"] = 1; [\"pending\"] = {}; };\n".to_owned()
            });
        items.push_str(&format!(
            "\t[\"{}\"] = {{ [\"subscription\"] = \"both\"; [\"groups\"] = {{}}; }};\n",
            contact.jid
        ));
        std::fs::write(&path, format!("return {{\n{items}}};\n")).expect("roster file");
    }

    /// `xft` logged in as `account` against this server (no DNS, our CA, no user config).
    pub fn xft(&self, account: &Account) -> Command {
        self.xft_using(&xft_binary(), account)
    }

    /// Like [`Prosody::xft`], with another build of xft (a benchmark's baseline).
    pub fn xft_using(&self, binary: &Path, account: &Account) -> Command {
        let mut cmd = self.xft_bare_using(binary);
        cmd.args(["--jid", &account.jid])
            .args(["--server", &format!("127.0.0.1:{}", self.c2s_port)])
            .arg("--ca")
            .arg(&self.ca_pem)
            .env("XFT_PASSWORD", &account.password);
        cmd
    }

    /// Like [`Prosody::xft_using`] without `--ca`: the server's certificate must be
    /// vouched for by the system store, which `SSL_CERT_FILE`/`SSL_CERT_DIR` then name.
    pub fn xft_using_system_trust(&self, binary: &Path, account: &Account) -> Command {
        let mut cmd = self.xft_bare_using(binary);
        cmd.args(["--jid", &account.jid])
            .args(["--server", &format!("127.0.0.1:{}", self.c2s_port)])
            .env("XFT_PASSWORD", &account.password);
        cmd
    }

    /// `xft` with an isolated environment and nothing else. Direct SOCKS5 candidates
    /// are pinned to loopback: no test ever offers (or connects to) another address.
    pub fn xft_bare(&self) -> Command {
        self.xft_bare_using(&xft_binary())
    }

    /// Like [`Prosody::xft_bare`], with another build of xft.
    pub fn xft_bare_using(&self, binary: &Path) -> Command {
        let mut cmd = in_netns(self.netns.as_deref(), binary);
        isolate(&mut cmd, &self.dir);
        cmd
    }
}

/// An xft command that reads nothing of this machine's user and writes only under
/// `dir`: no XFT_* settings, its own XDG directories and working directory (a receiver
/// without --dir writes into it: never the repository's, issue 8, item 14), and direct
/// SOCKS5 candidates pinned to loopback.
pub fn isolate(cmd: &mut Command, dir: &Path) {
    let cwd = dir.join("cwd");
    std::fs::create_dir_all(&cwd).expect("working dir");
    cmd.current_dir(cwd)
        .env("XFT_S5B_ADDRESS", "127.0.0.1")
        .env_remove("XFT_JID")
        .env_remove("XFT_PASSWORD")
        .env_remove("XFT_SERVER")
        .env_remove("XFT_CONFIG")
        .env_remove("XFT_LOG")
        .env("XDG_CONFIG_HOME", dir.join("no-config"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_DATA_HOME", dir.join("share"))
        .stdin(Stdio::null());
}

/// The xft binary: Cargo tells integration tests; examples (try-it, bench) find it next
/// to themselves (`target/<profile>/examples/..` -> `target/<profile>/xft`).
pub fn xft_binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_xft") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
    profile_dir.join("xft")
}

/// Writes a CA, and a server certificate it signs for the domain and the proxy.
fn write_certificates(dir: &Path) -> PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // rcgen's default ends in the year 4096: ejabberd (Erlang) sets a timer for the
    // expiry and cannot set one that far.
    let validity = (
        rcgen::date_time_ymd(2020, 1, 1),
        rcgen::date_time_ymd(2035, 1, 1),
    );
    (ca_params.not_before, ca_params.not_after) = validity;
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "xft test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key"))
        .expect("ca cert");
    let key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(vec![
        DOMAIN.to_owned(),
        PROXY.to_owned(),
        "localhost".to_owned(),
    ])
    .expect("server params");
    let mut params = params;
    (params.not_before, params.not_after) = validity;
    let cert = params.signed_by(&key, &ca).expect("server cert");
    let ca_pem = dir.join("ca.pem");
    std::fs::write(&ca_pem, ca.pem()).expect("ca.pem");
    std::fs::write(dir.join("server.pem"), cert.pem()).expect("server.pem");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("server.key");
    ca_pem
}

struct Ports {
    c2s: u16,
    tls: u16,
    proxy: u16,
    http: Option<u16>,
    https: Option<u16>,
    component: Option<u16>,
}

fn config_text(dir: &Path, ports: Ports, flavour: Flavour) -> String {
    let d = dir.display();
    let Ports {
        c2s,
        tls,
        proxy,
        http,
        https,
        component,
    } = ports;
    // Global options must come before the first host or component.
    let (component_ports, component) = match component {
        Some(port) => (
            format!("component_ports = {{ {port} }}\ncomponent_interfaces = {{ \"127.0.0.1\" }}"),
            format!("Component \"{COMPONENT}\"\n  component_secret = \"{COMPONENT_SECRET}\"\n"),
        ),
        None => (String::new(), String::new()),
    };
    let network = if flavour.tuned {
        "network_settings = { nagle = false; read_size = 262144; min_wait = 0.00001 }"
    } else {
        ""
    };
    let log_level = if std::env::var_os("XFT_TEST_PROSODY_DEBUG").is_some() {
        "debug"
    } else {
        "info"
    };
    // Prosody routes HTTP requests by their Host header: the component's host must be
    // the one its URLs name.
    let (https_ports, http_host) = match https {
        Some(port) => (
            format!(
                "https_ports = {{ {port} }}\nhttps_interfaces = {{ \"127.0.0.1\" }}\n\
                 https_ssl = {{ certificate = \"{d}/server.pem\"; key = \"{d}/server.key\" }}"
            ),
            format!(
                "http_host = \"localhost\"\n  http_external_url = \"https://localhost:{port}/\""
            ),
        ),
        None => (
            "https_ports = { }".to_owned(),
            "http_host = \"127.0.0.1\"".to_owned(),
        ),
    };
    let limit = if flavour.tuned {
        TUNED_UPLOAD_LIMIT
    } else {
        UPLOAD_LIMIT
    };
    let (http_ports, offline, upload) = match http {
        Some(port) => (
            format!("{port}"),
            "",
            format!(
                r#"Component "{UPLOAD}" "http_file_share"
  {http_host}
  http_file_share_size_limit = {limit}
  http_file_share_daily_quota = 64*1024*1024*1024
  http_file_share_expires_after = 3600
"#
            ),
        ),
        None => (String::new(), "; \"offline\"", String::new()),
    };
    format!(
        r#"-- throwaway server for xft's tests
run_as_root = true
daemonize = false
{network}
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
certificates = "{d}"
log = {{ {log_level} = "{d}/prosody.log" }}
interfaces = {{ "127.0.0.1", "::1" }}
local_interfaces = {{ "127.0.0.1", "::1" }}
c2s_ports = {{ {c2s} }}
c2s_direct_tls_ports = {{ {tls} }}
s2s_ports = {{ }}
http_ports = {{ {http_ports} }}
http_interfaces = {{ "127.0.0.1" }}
{https_ports}
proxy65_ports = {{ {proxy} }}
{component_ports}
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "ping"; "vcard_legacy"; "pep"; "presence"; "posix" }}
modules_disabled = {{ "s2s"; "limits"{offline} }}
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = true
ssl = {{ certificate = "{d}/server.pem"; key = "{d}/server.key" }}
VirtualHost "{DOMAIN}"
Component "{PROXY}" "proxy65"
  proxy65_address = "127.0.0.1"
{upload}{component}"#
    )
}

/// A fresh network namespace with only `lo`, up.
fn make_netns() -> String {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "xft-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    let ok = Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("ip")
            .args(["netns", "exec", &name, "ip", "link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "cannot create network namespace {name} (root and iproute2 needed)"
    );
    name
}

/// How Prosody's file storage names a user's file: every character that is not an
/// ASCII letter or digit as `%xx` (its datamanager's encode).
fn prosody_file_name(user: &str) -> String {
    user.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_string(),
            _ => c.to_string().bytes().map(|b| format!("%{b:02x}")).collect(),
        })
        .collect()
}

/// Kills prosody and removes its directory once this test process has exited.
fn spawn_watchdog(prosody_pid: u32, dir: &Path, netns: Option<&str>) {
    // A namespace goes with everything still running in it (a libervia backend).
    let netns = netns
        .map(|ns| {
            format!("; ip netns pids {ns} | xargs -r kill -9 2>/dev/null; ip netns delete {ns}")
        })
        .unwrap_or_default();
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
         kill {p} 2>/dev/null; sleep 1; kill -9 {p} 2>/dev/null{netns}; rm -rf '{d}'",
        me = std::process::id(),
        p = prosody_pid,
        d = dir.display()
    );
    run_detached(&script);
}

/// Runs a shell `script` in the background, outliving nothing but itself: the
/// watchdogs that stop a test server once the test process is gone.
pub fn run_detached(script: &str) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// Runs a command to completion, with stdin text.
pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("wait")
}

/// Runs a command to completion.
pub fn run(mut cmd: Command) -> Output {
    cmd.output().expect("spawn")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, showing stderr when it differs.
#[track_caller]
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit code; stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A background `xft recv` (started with `--progress json`), its full JID, and its
/// output collected as it comes.
pub struct Receiver {
    child: Child,
    pub jid: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    /// Ends when the receiver's stderr does (it exited).
    stderr_reader: std::thread::JoinHandle<()>,
    stdout: std::thread::JoinHandle<Vec<u8>>,
}

/// The result of a finished receiver.
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Receiver {
    /// Starts `cmd` (an `xft ... recv` command) and waits for its "ready" event.
    pub fn spawn(mut cmd: Command) -> Receiver {
        use std::io::{BufRead, BufReader, Read};
        cmd.arg("--progress")
            .arg("json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn xft recv");
        let mut out = child.stdout.take().expect("stdout");
        let stdout = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let err = child.stderr.take().expect("stderr");
        let collected = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = collected.clone();
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if v["event"] == "ready" {
                        let _ = tx.send(v["jid"].as_str().unwrap_or_default().to_owned());
                    }
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let jid = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(jid) => jid,
            Err(_) => {
                let _ = child.kill();
                let text = collected.lock().map(|s| s.clone()).unwrap_or_default();
                panic!("xft recv did not become ready:\n{text}");
            }
        };
        Receiver {
            child,
            jid,
            stderr: collected,
            stderr_reader,
            stdout,
        }
    }

    /// Waits up to `limit` for the receiver to exit (killing it after that).
    pub fn finish(mut self, limit: Duration) -> Finished {
        let deadline = Instant::now() + limit;
        let code = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        let stdout = self.stdout.join().unwrap_or_default();
        // Everything it wrote is in once its stderr has ended.
        let _ = self.stderr_reader.join();
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        Finished {
            code,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The receiver's full JID, to offer files to.
    pub fn target(&self) -> xft::jid::FullJid {
        xft::jid::Jid::parse(&self.jid)
            .ok()
            .and_then(|j| j.to_full())
            .expect("xft recv announced a full JID")
    }

    /// What the receiver wrote to stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The largest `bytes` of the progress events so far.
    pub fn progress_bytes(&self) -> u64 {
        let text = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == "progress")
            .filter_map(|v| v["bytes"].as_u64())
            .max()
            .unwrap_or(0)
    }

    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        self.finish(Duration::from_secs(5))
    }
}

/// Starts `xft recv` as `account` with its own state directory (the resume registry).
pub fn resumable_receiver(
    server: &Prosody,
    account: &Account,
    state: &std::path::Path,
    dir: &std::path::Path,
    extra: &[&str],
) -> Receiver {
    let mut recv = server.xft(account);
    recv.env("XDG_STATE_HOME", state)
        .args(["recv", "--accept-any", "--json", "--timeout", "10"])
        .args(extra)
        .arg("--dir")
        .arg(dir);
    Receiver::spawn(recv)
}

/// Sends `file` to `to` over slow IBB (with `protocol`, the arguments that choose it)
/// and kills the sender once the receiver has about a third of it; returns the
/// receiver's exit code and the `.part` length.
pub fn interrupted_send(
    server: &Prosody,
    alice: &Account,
    receiver: Receiver,
    file: &std::path::Path,
    part: &std::path::Path,
    size: u64,
    protocol: &[&str],
) -> (Option<i32>, u64) {
    let mut send = server.xft(alice);
    send.args([
        "send",
        "--method",
        "ibb",
        "--block-size",
        "1024",
        "--window",
        "1",
    ])
    .args(protocol)
    .arg(file)
    .arg(&receiver.jid)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    let mut sender = send.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while receiver.progress_bytes() < size / 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = sender.kill();
    let _ = sender.wait();
    let done = receiver.finish(Duration::from_secs(60));
    let len = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    (done.code, len)
}

/// Deterministic pseudo-random bytes (xorshift), so failures are reproducible.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A fresh empty directory under the server's temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = server().dir.join("scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Names of the files in `dir`, sorted.
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Session settings for a library-level peer logged in as `account` (for scripted
/// peers that misbehave or play one side of a protocol by hand).
pub fn peer_settings(server: &Prosody, account: &Account) -> xft::session::Settings {
    xft::session::Settings {
        jid: account.jid.parse().expect("jid"),
        server: Some(format!("127.0.0.1:{}", server.c2s_port)),
        direct_tls: false,
        trust: xft::transport::TrustSettings {
            ca_file: Some(server.ca_pem.clone()),
            insecure: false,
        },
        resource: None,
        // Scripted peers play SI clients (so `xft send` picks SI for them); the Jingle
        // tests that script a receiver pass `--protocol jingle`.
        features: xft::disco::client_features()
            .into_iter()
            .filter(|f| !f.starts_with("urn:xmpp:jingle"))
            .collect(),
        iq_timeout: Duration::from_secs(20),
        server_cache: false,
    }
}

/// Logs in a scripted peer.
pub async fn peer_login(
    server: &Prosody,
    account: &Account,
) -> (xft::session::Session, xft::session::Incoming) {
    xft::session::Session::login(&peer_settings(server, account), &account.password)
        .await
        .expect("peer login")
}

/// Offers `data` as "s.bin" to `target` with `methods`; returns the sid once accepted.
pub async fn offer_to(
    peer: &xft::session::Session,
    target: &xft::jid::FullJid,
    data: &[u8],
    methods: &[xft::si::StreamMethod],
) -> String {
    use md5::{Digest, Md5};
    let md5: String = Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let offer = xft::si::FileOffer {
        sid: xft::stanza::new_id(),
        mime_type: None,
        name: "s.bin".into(),
        size: data.len() as u64,
        md5: Some(md5),
        date: None,
        desc: None,
        methods: methods.to_vec(),
        ranged: false,
    };
    let answer = peer
        .iq(xft::stanza::iq(
            IqType::Set,
            Some(&target.to_string()),
            offer.to_element(),
        ))
        .await
        .expect("offer accepted");
    let chosen =
        xft::si::parse_answer(answer.get_child("si", xft::ns::SI_NS).unwrap(), methods).unwrap();
    assert_eq!(
        chosen[0],
        xft::si::StreamMethod::Socks5,
        "xft prefers SOCKS5"
    );
    offer.sid
}

pub async fn next_si_offer(incoming: &mut xft::session::Incoming) -> xft::xml::Element {
    loop {
        let el = tokio::time::timeout(Duration::from_secs(30), incoming.next())
            .await
            .expect("an SI offer in time")
            .expect("session open");
        if xft::stanza::is_iq_request(&el, IqType::Set, "si", xft::ns::SI_NS) {
            return el;
        }
    }
}

/// The next SI offer, its sender and the file it offers (for scripted receivers).
pub async fn next_file_offer(
    incoming: &mut xft::session::Incoming,
) -> (xft::xml::Element, xft::jid::FullJid, xft::si::FileOffer) {
    let offer_iq = next_si_offer(incoming).await;
    let from = offer_iq
        .get_attr("from")
        .and_then(|f| xft::jid::Jid::parse(f).ok())
        .and_then(|j| j.to_full())
        .expect("an offer from a full JID");
    let si = offer_iq.get_child("si", xft::ns::SI_NS).expect("an <si/>");
    let offer = xft::si::FileOffer::from_element(si).expect("a well-formed offer");
    (offer_iq, from, offer)
}

pub fn route_bytestreams(peer: &xft::session::Session, sid: &str) -> xft::session::Route {
    let sid = sid.to_owned();
    peer.route(move |el| {
        xft::stanza::is_iq_request(el, IqType::Set, "query", xft::ns::BYTESTREAMS_NS)
            && el
                .get_child("query", xft::ns::BYTESTREAMS_NS)
                .and_then(|q| q.get_attr("sid"))
                == Some(sid.as_str())
    })
}

/// Acknowledges a Jingle session's requests until the peer's session-terminate, and
/// returns its reason (None if none came within a minute).
pub async fn terminate_reason(
    peer: &xft::session::Session,
    route: &mut xft::session::Route,
) -> Option<xft::jingle::Reason> {
    use xft::jingle::{Action, Jingle};
    let limit = Duration::from_secs(60);
    while let Ok(Some(el)) = tokio::time::timeout(limit, route.next()).await {
        let _ = peer.reply_result(&el).await;
        let j = el
            .get_child("jingle", xft::ns::JINGLE_NS)
            .and_then(Jingle::from_element);
        if let Some(j) = j.filter(|j| j.action == Action::SessionTerminate) {
            return j.reason.and_then(|r| r.0);
        }
    }
    None
}

/// Every request of Jingle session `sid` from `from` (a scripted peer's view of it).
pub fn session_route(peer: &xft::session::Session, from: &str, sid: &str) -> xft::session::Route {
    let (sid, from) = (sid.to_owned(), from.to_owned());
    peer.route(move |el| {
        el.get_attr("from") == Some(from.as_str())
            && el
                .get_child("jingle", xft::ns::JINGLE_NS)
                .is_some_and(|j| j.get_attr("sid") == Some(sid.as_str()))
    })
}
