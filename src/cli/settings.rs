//! Resolving arguments, environment and the config file into session settings, and
//! finding the password. Precedence: command line, then environment, then config file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::args::GlobalArgs;
use crate::error::Error;
use crate::jid::Jid;
use crate::session::Settings;
use crate::transport::TrustSettings;

/// `config.toml`: everything except the password itself may live here.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct ConfigFile {
    pub jid: Option<String>,
    pub server: Option<String>,
    #[serde(default)]
    pub direct_tls: bool,
    pub ca: Option<PathBuf>,
    pub resource: Option<String>,
    pub password_command: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Only from go-sendxmpp's config (`password:`); never from ours.
    #[serde(skip)]
    pub password: Option<String>,
    /// `xft send` and `xft upload` encrypt by default (`--no-encrypt` overrides).
    #[serde(default)]
    pub encrypt: bool,
    /// OMEMO trust: "blind" (trust a contact's new keys until one is verified) or
    /// "manual" (only keys verified with `xft omemo trust`).
    pub omemo_trust: Option<String>,
    /// `xft recv` publishes an OMEMO device and decrypts (default true).
    pub omemo: Option<bool>,
}

/// Where the config file is looked for when `--config` is not given.
pub(super) fn default_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("xft").join("config.toml"))
}

/// Loads the config file; a missing default file is fine, a missing `--config` is not.
/// Without either, go-sendxmpp's config is read, so its users need no setup.
pub(super) fn load_config(explicit: Option<&Path>) -> Result<ConfigFile, Error> {
    let (path, required) = match explicit {
        Some(p) => (p.to_owned(), true),
        None => match default_config_path() {
            Some(p) => (p, false),
            None => return Ok(ConfigFile::default()),
        },
    };
    let text = match read_settings_file(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return load_go_sendxmpp_config();
        }
        Err(e) => {
            return Err(Error::Config(format!(
                "cannot read config {}: {e}",
                path.display()
            )))
        }
    };
    toml::from_str(&text).map_err(|e| {
        let hint = if text.contains("password =") || text.contains("password=") {
            " (a plain password is not accepted in the config: use password-command or password-file)"
        } else {
            ""
        };
        Error::Config(format!("config {}: {}{hint}", path.display(), e.message()))
    })
}

/// Where go-sendxmpp keeps its account: `$XDG_CONFIG_HOME/go-sendxmpp/config`.
fn go_sendxmpp_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("go-sendxmpp").join("config"))
}

/// go-sendxmpp's config, if there is one; refused, like a password file, when it holds
/// a password and other users can read it.
fn load_go_sendxmpp_config() -> Result<ConfigFile, Error> {
    let Some(path) = go_sendxmpp_config_path() else {
        return Ok(ConfigFile::default());
    };
    let (text, mode) = match read_settings_file_with_mode(&path) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(e) => {
            return Err(Error::Config(format!(
                "cannot read go-sendxmpp's config {}: {e}",
                path.display()
            )))
        }
    };
    let config = parse_go_sendxmpp(&text);
    if config.password.is_some() && mode & 0o077 != 0 {
        return Err(Error::Config(format!(
            "{} holds a password and is readable by other users; run: chmod 600 {}",
            path.display(),
            path.display()
        )));
    }
    tracing::debug!("using go-sendxmpp's config {}", path.display());
    Ok(config)
}

/// go-sendxmpp's `key: value` lines: `username`, `password`, `eval_password` (a command
/// printing it), `jserver` and `port`. Other keys and comments are ignored.
fn parse_go_sendxmpp(text: &str) -> ConfigFile {
    let mut config = ConfigFile::default();
    let (mut host, mut port) = (None, None);
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            "username" => config.jid = Some(value),
            "password" => config.password = Some(value),
            "eval_password" => config.password_command = Some(value),
            "jserver" => host = Some(value),
            "port" => port = Some(value),
            _ => {}
        }
    }
    config.server = match (host, port) {
        (Some(host), Some(port)) => Some(format!("{host}:{port}")),
        (Some(host), None) => Some(host),
        (None, _) => None,
    };
    config
}

/// Session settings from arguments and config.
pub(super) fn session_settings(
    args: &GlobalArgs,
    config: &ConfigFile,
    features: Vec<String>,
) -> Result<Settings, Error> {
    let jid_text = args
        .jid
        .clone()
        .or_else(|| config.jid.clone())
        .ok_or_else(|| {
            Error::Config(
                "no account given: use --jid JID, XFT_JID, or 'jid' in the config file".into(),
            )
        })?;
    let jid = Jid::parse(&jid_text).map_err(|e| Error::Config(e.to_string()))?;
    if jid.node().is_none() {
        return Err(Error::Config(format!(
            "'{jid}' has no user part: use user@domain"
        )));
    }
    if args.insecure {
        tracing::warn!("--insecure: the server's certificate is NOT verified; anyone in the path can read the session");
    }
    Ok(Settings {
        server: args.server.clone().or_else(|| config.server.clone()),
        direct_tls: args.direct_tls || config.direct_tls,
        trust: trust(args, config),
        resource: args
            .resource
            .clone()
            .or_else(|| jid.resource().map(str::to_owned))
            .or_else(|| config.resource.clone()),
        jid: jid.bare(),
        features,
        iq_timeout: Duration::from_secs(args.timeout.max(1)),
        server_cache: true,
    })
}

/// Finds the password: --password-file, --password-command, XFT_PASSWORD, the config's
/// password-file or password-command, and finally a prompt if stdin is a terminal.
///
/// A password command runs under `--timeout` when xft has no terminal (a script, cron):
/// one that hangs must not hang xft. On a terminal it may wait as long as it likes,
/// since it may be asking the user (a pinentry) and the user can press Ctrl-C.
pub(super) fn password(args: &GlobalArgs, config: &ConfigFile, jid: &Jid) -> Result<String, Error> {
    let deadline = (!std::io::stdin().is_terminal()).then(|| Duration::from_secs(args.timeout));
    if let Some(path) = &args.password_file {
        return read_password_file(path);
    }
    if let Some(cmd) = &args.password_command {
        return run_password_command(cmd, deadline);
    }
    if let Ok(p) = std::env::var("XFT_PASSWORD") {
        return Ok(p);
    }
    if let Some(path) = &config.password_file {
        return read_password_file(path);
    }
    if let Some(cmd) = &config.password_command {
        return run_password_command(cmd, deadline);
    }
    if let Some(password) = &config.password {
        return Ok(password.clone());
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("Password for {jid}: "))
            .map_err(|e| Error::Config(format!("cannot read the password: {e}")));
    }
    Err(Error::Config(
        "no password: set XFT_PASSWORD, --password-file, --password-command, or run on a terminal"
            .into(),
    ))
}

fn read_password_file(path: &Path) -> Result<String, Error> {
    let (text, mode) = read_settings_file_with_mode(path)
        .map_err(|e| Error::Config(format!("cannot read password file {}: {e}", path.display())))?;
    if mode & 0o077 != 0 {
        return Err(Error::Config(format!(
            "password file {} is readable by other users; run: chmod 600 {}",
            path.display(),
            path.display()
        )));
    }
    first_line(&text)
        .ok_or_else(|| Error::Config(format!("password file {} is empty", path.display())))
}

/// Longest settings file read (config, go-sendxmpp's config, password file).
const MAX_SETTINGS_FILE: u64 = 1 << 20;

/// A settings file the user named, read without blocking on it: opened non-blocking
/// (a FIFO would otherwise wait for a writer forever), refused unless it is a regular
/// file, at most [`MAX_SETTINGS_FILE`] bytes (issue 19, item 7).
fn read_settings_file(path: &Path) -> std::io::Result<String> {
    read_settings_file_with_mode(path).map(|(text, _)| text)
}

/// [`read_settings_file`], with the file's permission bits (of the file opened, not of
/// whatever the name points at by the time it is checked).
fn read_settings_file_with_mode(path: &Path) -> std::io::Result<(String, u32)> {
    use std::io::Read;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut text = String::new();
    file.take(MAX_SETTINGS_FILE).read_to_string(&mut text)?;
    Ok((text, meta.permissions().mode()))
}

/// Runs `sh -c CMD` and takes the first line it prints. With a `deadline`, the command
/// (its whole process group: `sh` may have started others) is killed when it runs
/// longer, and xft says so rather than waiting.
fn run_password_command(cmd: &str, deadline: Option<Duration>) -> Result<String, Error> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    if deadline.is_some() {
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .map_err(|e| Error::Config(format!("cannot run the password command: {e}")))?;
    let stdout = child.stdout.take();
    let (tx, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(stdout) = stdout {
            let _ = stdout.take(MAX_SETTINGS_FILE).read_to_end(&mut out);
        }
        let _ = tx.send(out);
    });
    let started = std::time::Instant::now();
    let status = wait_for_command(&mut child, deadline)?;
    // Something it left running in the background may hold its output open: wait for
    // the end of the output no longer than the deadline allows.
    let out = match deadline {
        Some(limit) => printed.recv_timeout(limit.saturating_sub(started.elapsed())),
        None => printed
            .recv()
            .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
    }
    .unwrap_or_default();
    if !status.success() {
        return Err(Error::Config(format!(
            "the password command failed ({status})"
        )));
    }
    let text = String::from_utf8(out).map_err(|_| {
        Error::Config("the password command printed something that is not UTF-8".into())
    })?;
    first_line(&text).ok_or_else(|| Error::Config("the password command printed nothing".into()))
}

/// Waits for the password command, killing its process group at the deadline.
fn wait_for_command(
    child: &mut std::process::Child,
    deadline: Option<Duration>,
) -> Result<std::process::ExitStatus, Error> {
    let failed = |e: std::io::Error| Error::Config(format!("the password command: {e}"));
    let Some(limit) = deadline else {
        return child.wait().map_err(failed);
    };
    let until = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().map_err(failed)? {
            return Ok(status);
        }
        if std::time::Instant::now() >= until {
            let group = i32::try_from(child.id())
                .ok()
                .and_then(rustix::process::Pid::from_raw);
            match group {
                Some(group) => {
                    let _ =
                        rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
                }
                None => {
                    let _ = child.kill();
                }
            }
            let _ = child.wait();
            return Err(Error::Config(format!(
                "the password command did not finish within {} s (--timeout); \
                 xft has no terminal to wait on",
                limit.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .next()
        .map(|l| l.trim_end_matches('\r').to_owned())
        .filter(|l| !l.is_empty())
}

/// How server certificates are checked: `--ca` (or the config's `ca`), `--insecure`.
pub(super) fn trust(args: &GlobalArgs, config: &ConfigFile) -> TrustSettings {
    TrustSettings {
        ca_file: args.ca.clone().or_else(|| config.ca.clone()),
        insecure: args.insecure,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_go_sendxmpp_configs() {
        let c = super::parse_go_sendxmpp(
            "username: alice@example.org\npassword: pa:ss word\njserver: xmpp.example.org\nport: 5223\nalias: x\n",
        );
        assert_eq!(c.jid.as_deref(), Some("alice@example.org"));
        assert_eq!(c.password.as_deref(), Some("pa:ss word"));
        assert_eq!(c.server.as_deref(), Some("xmpp.example.org:5223"));
        let c = super::parse_go_sendxmpp("username: a@b\neval_password: pass show xmpp\n");
        assert_eq!(c.password_command.as_deref(), Some("pass show xmpp"));
        assert_eq!((c.password, c.server), (None, None));
    }

    use super::*;

    #[test]
    fn config_file_keys() {
        let c: ConfigFile = toml::from_str(
            "jid = 'a@b'\nserver = 'h:1'\ndirect-tls = true\nca = '/x.pem'\npassword-command = 'pass x'\n",
        )
        .unwrap();
        assert_eq!(c.jid.as_deref(), Some("a@b"));
        assert!(c.direct_tls);
        assert!(toml::from_str::<ConfigFile>("password = 'x'").is_err());
    }

    #[test]
    fn password_command_first_line() {
        let no_limit = None;
        assert_eq!(
            run_password_command("printf 'sec ret\\nother\\n'", no_limit).unwrap(),
            "sec ret"
        );
        assert!(run_password_command("exit 3", no_limit).is_err());
        assert!(run_password_command("true", no_limit).is_err());
        let limit = Some(Duration::from_secs(5));
        assert_eq!(run_password_command("echo quick", limit).unwrap(), "quick");
    }
}
