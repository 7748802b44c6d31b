//! The command-line edge: parse arguments, set up logging, run one command, turn the
//! outcome into output and an exit code.

pub mod args;
mod contact_cmd;
mod files;
pub mod man;
mod omemo_cmd;
mod probe_cmd;
mod progress;
mod recv_cmd;
mod report;
mod send_cmd;
mod settings;
mod upload_cmd;
mod vcard_cmd;

/// Default IBB block size. XEP-0047 §2.1 allows up to 65535, but `scripts/bench` shows
/// 4096 fastest through a stock Prosody 0.12 (5.8 MB/s at window 16 against 2.4 for
/// 16384 and 1.9 for 65535): its event loop sleeps between reads of a larger stanza.
/// On a tuned server 65535 wins (18 MB/s against 9.9). 4096 is also the XEP's
/// recommendation and the largest QXmpp accepts.
pub const DEFAULT_BLOCK_SIZE: u16 = 4096;
/// Default number of IBB blocks in flight: 16 reaches the plateau on both servers.
pub const DEFAULT_WINDOW: u16 = 16;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::error::{Error, ExitStatus};
use crate::session::{Incoming, Session};
use args::{Cli, Command, GlobalArgs};

/// Runs xft with the process's arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                ExitStatus::Usage.code()
            } else {
                0
            });
        }
    };
    init_logging(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xft: cannot start the async runtime: {e}");
            return ExitCode::from(ExitStatus::Internal.code());
        }
    };
    let outcome = runtime.block_on(run_until_interrupted(cli));
    // Do not wait for tasks still blocked on the network.
    runtime.shutdown_background();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xft: {}", crate::text::printable_lines(&e.to_string()));
            ExitCode::from(e.exit_status().code())
        }
    }
}

async fn run_until_interrupted(cli: Cli) -> Result<(), Error> {
    tokio::select! {
        result = run(cli) => result,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let global = cli.global;
    match cli.command {
        Command::Send(args) => send_cmd::send(&global, args).await,
        Command::Recv(args) => recv_cmd::recv(&global, args).await,
        Command::Upload(args) => upload_cmd::upload(&global, args).await,
        Command::Contact(cmd) => contact_cmd::run(&global, cmd).await,
        Command::Vcard(cmd) => vcard_cmd::run(&global, cmd).await,
        Command::Probe(args) => probe_cmd::run(&global, args).await,
        Command::Omemo(cmd) => omemo_cmd::run(&global, cmd).await,
        Command::Man => {
            let mut out = std::io::stdout().lock();
            man::write_man(&mut out).map_err(|e| Error::local_io("writing the manual page", e))
        }
        Command::Completions { shell } => {
            print_completions(shell);
            Ok(())
        }
    }
}

/// Logs in with the settings the arguments and config give.
pub(crate) async fn login(
    global: &GlobalArgs,
    features: Vec<String>,
) -> Result<(Session, Incoming), Error> {
    let config = settings::load_config(global.config.as_deref())?;
    let settings = settings::session_settings(global, &config, features)?;
    let password = settings::password(global, &config, &settings.jid)?;
    Ok(Session::login(&settings, &password).await?)
}

/// The HTTP client for uploads and downloads, trusting what the XMPP login trusts.
pub(crate) fn http_client(global: &GlobalArgs) -> Result<crate::http::Client, Error> {
    let config = settings::load_config(global.config.as_deref())?;
    let trust = settings::trust(global, &config);
    let stall = std::time::Duration::from_secs(global.timeout.max(1));
    crate::http::Client::new(&trust, stall).map_err(|e| Error::Transfer(e.into()))
}

fn init_logging(global: &GlobalArgs) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,xft=debug",
        (false, _) => "warn,xft=trace",
    };
    let filter = std::env::var("XFT_LOG").unwrap_or_else(|_| default.to_owned());
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(|| crate::text::TerminalSafe(std::io::stderr()))
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_ansi(ansi)
        .try_init();
}

/// Writes the completion script for `shell` to stdout.
pub fn print_completions(shell: args::Shell) {
    let mut out = std::io::stdout();
    write_completions(shell, &mut out);
}

/// Writes the completion script for `shell` (the committed ones in `completions/`).
pub fn write_completions(shell: args::Shell, out: &mut dyn std::io::Write) {
    use clap_complete::Shell as S;
    let shell = match shell {
        args::Shell::Bash => S::Bash,
        args::Shell::Zsh => S::Zsh,
        args::Shell::Fish => S::Fish,
        args::Shell::Elvish => S::Elvish,
        args::Shell::Powershell => S::PowerShell,
    };
    clap_complete::generate(shell, &mut Cli::command(), "xft", out);
}

/// Prints a notice on stderr unless `-q`.
pub(crate) fn notice(global: &GlobalArgs, text: &str) {
    if !global.quiet {
        eprintln!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
