//! Command-line arguments. These structs only describe input; `settings.rs` resolves
//! them (with the config file and the password sources) into what the commands use.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::jid::Jid;

const EXIT_CODES: &str = "\
Examples:
  xft recv --dir ~/incoming                  # prints the full JID to send to
  xft send report.pdf bob@example.org        # peer to peer, or upload if bob is offline
  tar c dir | xft send - bob@example.org --name dir.tar
  xft upload screenshot.png                  # prints the URL
  xft send --encrypt notes.pdf bob@example.org   # end to end (OMEMO), as phones do

Exit codes: 0 ok, 2 usage, 3 config, 4 connection/TLS, 5 authentication, 6 unavailable,
7 unsupported, 8 declined/too large, 9 transfer failed, 10 timeout, 11 integrity, 12 local
file, 13 not found, 14 remote, 15 protocol, 16 untrusted, 130 interrupted (`xft man`).";

/// `xft --version`: the version and what xft speaks.
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nfile transfer: SI (XEP-0095/0096) over SOCKS5 (XEP-0065) and IBB (XEP-0047); \
     Jingle (XEP-0166/0234) over SOCKS5 (XEP-0260) and IBB (XEP-0261) with SHA-256 \
     checksums (XEP-0300) and \
     XEP-0353 proposals; HTTP upload (XEP-0363) with links (XEP-0066)\n\
     end to end: OMEMO (XEP-0384 v0.3, eu.siacs.conversations.axolotl) with encrypted \
     files (XEP-0454)\n\
     also: vCard (XEP-0054), disco (XEP-0030), direct TLS (XEP-0368), SCRAM-SHA-1/256"
);

const SEND_EXAMPLES: &str = "\
Examples:
  xft send photos.tar bob@example.org
  xft send a.bin b.bin bob@example.org/x1y2 --json | jq .bytes_per_sec
  tar c photos | xft send - bob@example.org --name photos.tar
  xft send --method upload big.iso bob@example.org     # link in a message
  xft send --no-direct --proxy proxy.example.org a.bin bob@example.org
  xft send notes.pdf --to bob@example.org --to carol@example.org";

const RECV_EXAMPLES: &str = "\
Examples:
  xft recv --dir ~/incoming --count 0          # until Ctrl-C
  xft recv --from alice@example.org -o report.pdf
  xft recv --accept-any -o - | tar x
  xft recv --max-size 500M --json";

const UPLOAD_EXAMPLES: &str = "\
Examples:
  xft upload screenshot.png
  pg_dump db | gzip | xft upload - --name db.sql.gz
  xft upload --json a.pdf | jq -r .url";

const PROBE_EXAMPLES: &str = "\
Examples:
  xft probe                                    # the server: TLS, SASL, proxy, upload
  xft probe bob@example.org                    # and every online resource of bob
  xft probe bob@example.org/phone --json | jq .verdict

Exits 0 when xft send would work with JID, 7 when nothing would.";

const CONTACT_EXAMPLES: &str = "\
Examples:
  xft contact add bob@example.org              # then, on bob's side:
  xft contact approve alice@example.org
  xft contact list --json";

const OMEMO_EXAMPLES: &str = "\
Examples:
  xft omemo fingerprint                        # yours, to compare on the other device
  xft omemo devices bob@example.org            # bob's devices, fingerprints and trust
  xft omemo trust bob@example.org '8ba5d1e3 ...'   # after comparing it with bob
  xft send --encrypt report.pdf bob@example.org";

const VCARD_EXAMPLES: &str = "\
Examples:
  xft vcard get bob@example.org
  xft vcard set --fn 'Alice Liddell' --email alice@example.org --photo me.png
  xft vcard get --xml > backup.xml && xft vcard set --xml backup.xml";

/// Move files between XMPP accounts (SI or Jingle file transfer, or HTTP upload).
#[derive(Debug, Parser)]
#[command(name = "xft", version = VERSION, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Your account: alice@example.org (a full JID picks the resource)
    #[arg(long, global = true, env = "XFT_JID", value_name = "JID")]
    pub(crate) jid: Option<String>,

    /// Connect here instead of looking up DNS SRV records
    #[arg(long, global = true, env = "XFT_SERVER", value_name = "HOST[:PORT]")]
    pub(crate) server: Option<String>,

    /// TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS
    #[arg(long, global = true)]
    pub(crate) direct_tls: bool,

    /// Also trust this PEM certificate (a self-signed server's, or its CA)
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,

    /// Do not verify the server's certificate (NOT authenticated)
    #[arg(long, global = true)]
    pub(crate) insecure: bool,

    /// Resource to bind (default: random)
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) resource: Option<String>,

    /// Password from FILE's first line (not readable by others)
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,

    /// Password from the first line CMD prints (`sh -c`)
    #[arg(long, global = true, value_name = "CMD")]
    pub(crate) password_command: Option<String>,

    /// Config file (default: $XDG_CONFIG_HOME/xft/config.toml)
    #[arg(long, global = true, env = "XFT_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub(crate) timeout: u64,

    /// JSON results on stdout
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Log steps (-v) and the XML exchanged (-vv, credentials redacted)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Errors only on stderr
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,

    /// A bar on a terminal (auto), NDJSON events on stderr (json), or none
    #[arg(long, global = true, value_enum, default_value_t = ProgressMode::Auto)]
    pub(crate) progress: ProgressMode,

    /// Trust new OMEMO keys: blind (until you verify one) or manual
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "POLICY",
        hide_possible_values = true
    )]
    pub(crate) omemo_trust: Option<TrustChoice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TrustChoice {
    Blind,
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProgressMode {
    Auto,
    Bar,
    Json,
    None,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Send files to JID: peer to peer (SI or Jingle), or by HTTP upload
    #[command(after_help = SEND_EXAMPLES)]
    Send(SendArgs),
    /// Stay online and receive files (one, unless --count says otherwise)
    #[command(after_help = RECV_EXAMPLES)]
    Recv(RecvArgs),
    /// Upload files to your server (XEP-0363) and print their URLs
    #[command(after_help = UPLOAD_EXAMPLES)]
    Upload(UploadArgs),
    /// Manage contacts (sending to a bare JID needs a subscription)
    #[command(subcommand, after_help = CONTACT_EXAMPLES)]
    Contact(ContactCommand),
    /// Read or publish vCards (XEP-0054)
    #[command(subcommand, after_help = VCARD_EXAMPLES)]
    Vcard(VcardCommand),
    /// What will work with your server and JID, and why
    #[command(after_help = PROBE_EXAMPLES)]
    Probe(ProbeArgs),
    /// End-to-end encryption (OMEMO): fingerprints, devices, trust
    #[command(subcommand, after_help = OMEMO_EXAMPLES)]
    Omemo(OmemoCommand),
    /// Print the manual page (roff; `xft man | man -l -`)
    Man,
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum OmemoCommand {
    /// Print this device's OMEMO fingerprint (publishing the device on first use).
    Fingerprint,
    /// List the OMEMO devices of JID (default: your own), their fingerprints and trust.
    Devices {
        #[arg(value_name = "JID")]
        target: Option<Jid>,
    },
    /// Mark JID's key FINGERPRINT as verified (compare it with JID first, in person or
    /// over a channel you trust). After this, JID's new keys need your decision.
    Trust {
        #[arg(value_name = "JID")]
        contact: Jid,
        /// As `xft omemo devices` or the contact's client shows it (spaces allowed).
        #[arg(value_name = "FINGERPRINT")]
        fingerprint: String,
    },
    /// Never encrypt for, nor accept files from, JID's key FINGERPRINT.
    Distrust {
        #[arg(value_name = "JID")]
        contact: Jid,
        #[arg(value_name = "FINGERPRINT")]
        fingerprint: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum VcardCommand {
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
pub(crate) struct VcardSet {
    /// Full name (FN); an empty value removes it.
    #[arg(long = "fn", value_name = "NAME")]
    pub(crate) full_name: Option<String>,
    #[arg(long, value_name = "NICK")]
    pub(crate) nickname: Option<String>,
    /// E-mail address; repeat for several; replaces all addresses.
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) email: Vec<String>,
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub(crate) note: Option<String>,
    /// Avatar image (PNG, JPEG, GIF or WebP).
    #[arg(long, value_name = "FILE")]
    pub(crate) photo: Option<PathBuf>,
    /// Publish this whole vCard (a <vCard xmlns='vcard-temp'> document; '-' = stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["full_name", "nickname", "email", "url", "note", "photo"])]
    pub(crate) xml: Option<PathBuf>,
}

/// The shells `xft completions` writes for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// Files to send ('-' reads stdin, spooled first), then the recipient: a full JID
    /// (as `xft recv` prints it) or a contact's bare JID. With --to, all are files.
    #[arg(required = true, value_name = "FILE... JID")]
    pub(crate) files: Vec<String>,
    /// Send to JID (repeatable: one session, each recipient in turn, a line each, and a
    /// non-zero exit if any failed).
    #[arg(long = "to", value_name = "JID")]
    pub(crate) recipients: Vec<Jid>,
    /// How to send: auto offers the file peer to peer (SOCKS5, then in-band) and
    /// uploads it (XEP-0363) when the recipient is offline, not a contact, cannot take
    /// it or does not answer, and says so.
    #[arg(long, value_enum, default_value_t = MethodChoice::Auto)]
    pub(crate) method: MethodChoice,
    /// Peer-to-peer protocol: auto uses Jingle file transfer (SOCKS5, then in-band)
    /// when the recipient's client lists it, and SI otherwise.
    #[arg(long, value_enum, default_value_t = ProtocolChoice::Auto)]
    pub(crate) protocol: ProtocolChoice,
    /// Offer the file under this name (one FILE only; the default for '-' is "stdin").
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// A description sent with the offer.
    #[arg(long, value_name = "TEXT")]
    pub(crate) desc: Option<String>,
    /// In-band bytestream block size in bytes (1-65535; the recipient may ask for less).
    #[arg(long, value_name = "N", default_value_t = crate::cli::DEFAULT_BLOCK_SIZE,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) block_size: u16,
    /// In-band blocks sent before waiting for acknowledgements.
    #[arg(long, value_name = "N", default_value_t = crate::cli::DEFAULT_WINDOW,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) window: u16,
    /// Send no hash: no MD5 in an SI offer (saves reading the file once before
    /// sending), no SHA-256 checksum after Jingle data. The receiver then checks only
    /// the size (libervia refuses such Jingle offers).
    #[arg(long)]
    pub(crate) no_hash: bool,
    /// Seconds to wait for a bare JID's resources to show up (0 to 31536000).
    #[arg(long, value_name = "SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SECS))]
    pub(crate) presence_wait: u64,
    /// Recipients sent to side by side at most (with --to; default 4)
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) parallel: u16,
    /// Offer exactly this address for direct SOCKS5 connections (repeatable, or
    /// comma-separated in XFT_S5B_ADDRESS), instead of every interface address: a public
    /// address with a forwarded port, or 127.0.0.1.
    #[arg(
        long,
        value_name = "HOST",
        env = "XFT_S5B_ADDRESS",
        value_delimiter = ','
    )]
    pub(crate) s5b_address: Vec<String>,
    /// Port for direct SOCKS5 connections (default: any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub(crate) s5b_port: u16,
    /// Use this SOCKS5 proxy (XEP-0065) instead of discovering the server's.
    #[arg(long, value_name = "JID", conflicts_with = "no_proxy")]
    pub(crate) proxy: Option<Jid>,
    /// Offer no proxy.
    #[arg(long)]
    pub(crate) no_proxy: bool,
    /// Offer no direct connection (only proxies).
    #[arg(long)]
    pub(crate) no_direct: bool,
    /// Encrypt end to end: the file encrypted and uploaded (XEP-0454), the link sent in
    /// an OMEMO message to the recipient's trusted devices. Never falls back to
    /// plaintext: without a trusted device, nothing is sent (exit 16).
    #[arg(long, conflicts_with = "no_encrypt")]
    pub(crate) encrypt: bool,
    /// Do not encrypt, even when the config says `encrypt = true`.
    #[arg(long)]
    pub(crate) no_encrypt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MethodChoice {
    /// SOCKS5 first, in-band as the fallback, HTTP upload when no peer can take it.
    Auto,
    /// SOCKS5 bytestreams only (XEP-0065).
    S5b,
    /// In-band bytestreams only (XEP-0047).
    Ibb,
    /// Upload to the server (XEP-0363) and send the link in a message: works when the
    /// recipient is offline, and with every modern client.
    Upload,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProtocolChoice {
    /// SI when the recipient speaks it, else Jingle.
    Auto,
    /// Jingle file transfer (XEP-0234) over SOCKS5 (XEP-0260) or in-band (XEP-0261).
    Jingle,
    /// SI file transfer (XEP-0096).
    Si,
}

#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// A peer to check: a bare JID (every online resource) or a full JID.
    #[arg(value_name = "JID")]
    pub(crate) peer: Option<Jid>,
    /// Addresses `xft send` would offer for direct SOCKS5 connections (as for send).
    #[arg(
        long,
        value_name = "HOST",
        env = "XFT_S5B_ADDRESS",
        value_delimiter = ','
    )]
    pub(crate) s5b_address: Vec<String>,
    /// Seconds to wait for a bare JID's resources to show up.
    #[arg(long, value_name = "SECS", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SECS))]
    pub(crate) presence_wait: u64,
}

#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
    /// Files to upload; '-' reads stdin (spooled first: the slot needs the size).
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<String>,
    /// Upload under this name (one FILE only; the default for '-' is "stdin").
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Encrypt the file (XEP-0454) under a random name and print its aesgcm:// link,
    /// which holds the key: share it only end-to-end encrypted.
    #[arg(long, conflicts_with = "no_encrypt")]
    pub(crate) encrypt: bool,
    /// Do not encrypt, even when the config says `encrypt = true`.
    #[arg(long)]
    pub(crate) no_encrypt: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RecvArgs {
    /// Directory to store files in (default: the current directory).
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub(crate) dir: Option<PathBuf>,
    /// Write the file to exactly PATH, or to stdout with '-' (one file only). On stdout
    /// a failure is known only at the end: check the exit code.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
    /// Accept files only from JID (repeatable; a bare JID allows all its resources).
    /// Default: your contacts and your own other resources.
    #[arg(long = "from", value_name = "JID")]
    pub(crate) from: Vec<Jid>,
    /// Accept files from anybody.
    #[arg(long, conflicts_with = "from")]
    pub(crate) accept_any: bool,
    /// Number of files to receive before exiting; 0 = until interrupted.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) count: u64,
    /// Transfers received side by side at most; further offers wait (default 4)
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) parallel: u16,
    /// Decline files larger than this (bytes; K, M, G, T suffixes are powers of 1024).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_size: Option<u64>,
    /// Replace existing files instead of picking "name (1).ext".
    #[arg(long)]
    pub(crate) overwrite: bool,
    /// Do not resume: when the same sender offers a file again whose earlier transfer
    /// broke, receive it whole under a new name instead of appending to its .part.
    #[arg(long)]
    pub(crate) no_resume: bool,
    /// Approve presence subscription requests from JID while running (repeatable).
    #[arg(long, value_name = "JID")]
    pub(crate) approve: Vec<Jid>,
    /// Jingle SOCKS5 candidates of our own (XEP-0260), offered beside the sender's:
    /// exactly this address (repeatable, or comma-separated in XFT_S5B_ADDRESS) instead
    /// of every interface address.
    #[arg(
        long,
        value_name = "HOST",
        env = "XFT_S5B_ADDRESS",
        value_delimiter = ','
    )]
    pub(crate) s5b_address: Vec<String>,
    /// Port for our direct Jingle SOCKS5 candidates (default: any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub(crate) s5b_port: u16,
    /// Offer no direct Jingle SOCKS5 candidate of our own (only the server's proxy).
    #[arg(long)]
    pub(crate) no_direct: bool,
    /// Offer no proxy candidate of our own.
    #[arg(long)]
    pub(crate) no_proxy: bool,
    /// Publish no OMEMO device and decrypt nothing (also `omemo = false` in the config).
    #[arg(long)]
    pub(crate) no_omemo: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ContactCommand {
    /// Ask to see JID's presence, and pre-approve theirs.
    Add {
        #[arg(value_name = "JID")]
        contact: Jid,
    },
    /// Approve JID's subscription request (and ask for theirs in return).
    Approve {
        #[arg(value_name = "JID")]
        contact: Jid,
    },
    /// Remove JID from your contacts (cancels both subscriptions).
    Remove {
        #[arg(value_name = "JID")]
        contact: Jid,
    },
    /// List your contacts and subscription states.
    List,
}

/// The longest wait any option may ask for (a year): every deadline is computed as
/// `now + option`, which must not overflow the clock (issue 8, item 6).
pub(crate) const MAX_SECS: u64 = 365 * 24 * 3600;

/// `1024`, `10K`, `5M`, `2G`, `1T` (optionally with "iB" or "B"): powers of 1024.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 30),
        Some('T' | 't') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size like 500M"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("10K"), Ok(10 * 1024));
        assert_eq!(parse_size("5MiB"), Ok(5 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
