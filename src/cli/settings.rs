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
pub(super) fn load_config(explicit: Option<&Path>) -> Result<ConfigFile, Error> {
    let (path, required) = match explicit {
        Some(p) => (p.to_owned(), true),
        None => match default_config_path() {
            Some(p) => (p, false),
            None => return Ok(ConfigFile::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(ConfigFile::default())
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
    })
}

/// Finds the password: --password-file, --password-command, XFT_PASSWORD, the config's
/// password-file or password-command, and finally a prompt if stdin is a terminal.
pub(super) fn password(args: &GlobalArgs, config: &ConfigFile, jid: &Jid) -> Result<String, Error> {
    if let Some(path) = &args.password_file {
        return read_password_file(path);
    }
    if let Some(cmd) = &args.password_command {
        return run_password_command(cmd);
    }
    if let Ok(p) = std::env::var("XFT_PASSWORD") {
        return Ok(p);
    }
    if let Some(path) = &config.password_file {
        return read_password_file(path);
    }
    if let Some(cmd) = &config.password_command {
        return run_password_command(cmd);
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
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::Config(format!("cannot read password file {}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Config(format!(
            "password file {} is readable by other users; run: chmod 600 {}",
            path.display(),
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read password file {}: {e}", path.display())))?;
    first_line(&text)
        .ok_or_else(|| Error::Config(format!("password file {} is empty", path.display())))
}

fn run_password_command(cmd: &str) -> Result<String, Error> {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| Error::Config(format!("cannot run the password command: {e}")))?;
    if !output.status.success() {
        return Err(Error::Config(format!(
            "the password command failed ({})",
            output.status
        )));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| {
        Error::Config("the password command printed something that is not UTF-8".into())
    })?;
    first_line(&text).ok_or_else(|| Error::Config("the password command printed nothing".into()))
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
        assert_eq!(
            run_password_command("printf 'sec ret\\nother\\n'").unwrap(),
            "sec ret"
        );
        assert!(run_password_command("exit 3").is_err());
        assert!(run_password_command("true").is_err());
    }
}
