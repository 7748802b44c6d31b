//! Command-line arguments. These structs only describe input; `settings.rs` resolves
//! them (with the config file and the password sources) into what the commands use.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::jid::Jid;

const EXIT_CODES: &str = "\
Exit codes: 0 success, 2 usage, 3 config/credentials, 4 connection/TLS, 5 authentication,
6 recipient unavailable, 7 peer lacks support, 8 declined, 9 transfer failed, 10 timeout,
11 integrity failure, 12 local file error, 13 not found, 14 remote error, 15 protocol
violation, 130 interrupted. See the README for details.";

/// Move files between XMPP accounts (SI file transfer over SOCKS5 and In-Band Bytestreams).
#[derive(Debug, Parser)]
#[command(name = "xft", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Your account, e.g. alice@example.org (or a full JID to choose the resource).
    #[arg(long, global = true, env = "XFT_JID", value_name = "JID")]
    pub jid: Option<String>,

    /// Connect to HOST[:PORT] instead of looking up DNS SRV records.
    #[arg(long, global = true, env = "XFT_SERVER", value_name = "HOST[:PORT]")]
    pub server: Option<String>,

    /// Speak TLS from the first byte (XEP-0368; port 5223 unless given) instead of STARTTLS.
    #[arg(long, global = true)]
    pub direct_tls: bool,

    /// Also trust this PEM certificate: the server's own (self-signed) certificate or its CA.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// Do not verify the server's certificate (encrypted but NOT authenticated).
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Resource to bind (default: a random one).
    #[arg(long, global = true, value_name = "NAME")]
    pub resource: Option<String>,

    /// Read the password from the first line of FILE (must not be readable by others).
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Run CMD with `sh -c` and use the first line of its output as the password.
    #[arg(long, global = true, value_name = "CMD")]
    pub password_command: Option<String>,

    /// Configuration file (default: $XDG_CONFIG_HOME/xft/config.toml).
    #[arg(long, global = true, env = "XFT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Seconds to wait for an answer from the server or peer.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,

    /// Machine-readable output: JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// More logging on stderr: -v for steps and timings, -vv for the XML exchanged
    /// (credentials redacted).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// No progress and no notices on stderr; errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read or publish vCards (XEP-0054).
    #[command(subcommand)]
    Vcard(VcardCommand),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum VcardCommand {
    /// Print a vCard: your own, or that of JID.
    Get {
        /// Whose vCard (default: your own).
        #[arg(value_name = "JID")]
        target: Option<Jid>,
        /// Print the vCard element as received instead of a listing.
        #[arg(long, conflicts_with = "json")]
        xml: bool,
    },
    /// Change fields of your vCard, or replace it with --xml FILE.
    ///
    /// vCards are public: XEP-0054 has no access control, so anyone can read what you set.
    #[command(after_help = "vCards are public: anyone who asks your server can read every field.")]
    Set(VcardSet),
}

#[derive(Debug, Args)]
pub struct VcardSet {
    /// Full name (FN); an empty value removes it.
    #[arg(long = "fn", value_name = "NAME")]
    pub full_name: Option<String>,
    #[arg(long, value_name = "NICK")]
    pub nickname: Option<String>,
    /// E-mail address; repeat for several; replaces all addresses.
    #[arg(long, value_name = "ADDRESS")]
    pub email: Vec<String>,
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Avatar image (PNG, JPEG, GIF or WebP).
    #[arg(long, value_name = "FILE")]
    pub photo: Option<PathBuf>,
    /// Publish this whole vCard (a <vCard xmlns='vcard-temp'> document; '-' = stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["full_name", "nickname", "email", "url", "note", "photo"])]
    pub xml: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}
