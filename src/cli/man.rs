//! `xft man`: the manual page, generated from the clap definitions (clap_mangen) plus
//! the sections clap knows nothing of: each subcommand's options and examples, the
//! exit-code table, the files and environment xft reads. `completions/xft.1` is the
//! committed copy; a test fails when it is stale.

use clap::CommandFactory;

use super::args::Cli;
use crate::error::ExitStatus;

/// Writes the whole page.
pub fn write_man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let cmd = Cli::command().disable_help_subcommand(true);
    // The version text has lines of its own; the title wants one word.
    let man = clap_mangen::Man::new(cmd.clone()).source(concat!("xft ", env!("CARGO_PKG_VERSION")));
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        writeln!(
            out,
            ".TP\n\\fBxft {}\\fR\n{}",
            sub.get_name(),
            escape(&about)
        )?;
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_subcommand(out, &format!("xft {}", sub.get_name()), sub)?;
        for nested in sub.get_subcommands() {
            let name = format!("xft {} {}", sub.get_name(), nested.get_name());
            write_subcommand(out, &name, nested)?;
        }
    }
    write_exit_status(out)?;
    write_files(out)
}

/// A section per subcommand: what it does, its own options, its examples.
fn write_subcommand(
    out: &mut dyn std::io::Write,
    name: &str,
    sub: &clap::Command,
) -> std::io::Result<()> {
    writeln!(out, ".SH \"{}\"", escape(&name.to_uppercase()))?;
    if let Some(about) = sub.get_long_about().or(sub.get_about()) {
        writeln!(out, "{}", escape(&about.to_string()))?;
    }
    let own: Vec<&clap::Arg> = sub
        .get_arguments()
        .filter(|a| !a.is_global_set() && !a.is_hide_set() && a.get_id() != "help")
        .collect();
    for arg in own {
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => format!("\\-{s}, \\-\\-{l}"),
            (None, Some(l)) => format!("\\-\\-{}", escape(l)),
            (Some(s), None) => format!("\\-{s}"),
            (None, None) => arg
                .get_value_names()
                .map(|v| {
                    v.iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| arg.get_id().to_string()),
        };
        writeln!(out, ".TP\n\\fB{flag}\\fR")?;
        if let Some(help) = arg.get_long_help().or(arg.get_help()) {
            writeln!(out, "{}", escape(&help.to_string()))?;
        }
    }
    if let Some(after) = sub.get_after_help() {
        writeln!(out, ".PP\n.nf")?;
        for line in after.to_string().lines() {
            writeln!(out, "{}", escape(line))?;
        }
        writeln!(out, ".fi")?;
    }
    Ok(())
}

fn write_exit_status(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, ".SH \"EXIT STATUS\"")?;
    for status in ExitStatus::ALL {
        writeln!(
            out,
            ".TP\n\\fB{}\\fR\n{}",
            status.code(),
            escape(status.describe())
        )?;
    }
    Ok(())
}

fn write_files(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let text = "\
.SH FILES
.TP
\\fI$XDG_CONFIG_HOME/xft/config.toml\\fR
Account and defaults (jid, server, direct-tls, ca, resource, password-file,
password-command, encrypt, omemo-trust, omemo); never the password itself.
.TP
\\fI$XDG_DATA_HOME/xft/omemo/ACCOUNT/\\fR
The account's OMEMO device: identity and prekeys (\\fIidentity.json\\fR), sessions with
peer devices (\\fIsessions.json\\fR) and trust in their keys (\\fItrust.json\\fR); mode
0700, files 0600. Deleting it makes this a new device for every contact.
.TP
\\fI$XDG_STATE_HOME/xft/partials.json\\fR
Which \\fI.part\\fR files \\fBxft recv\\fR may resume, and for which sender and file.
.TP
\\fI$XDG_CACHE_HOME/xft/hashes.json\\fR
MD5s of files of 8 MiB and more that \\fBxft send\\fR hashed for SI offers, with what
identifies each unchanged file (device, inode, size, times); safe to delete.
.TP
\\fI$XDG_CACHE_HOME/xft/servers.json\\fR
The SASL mechanisms and channel binding types each server offered at the last login,
so that the next login sends its authentication without waiting for them, and the
server's upload service and SOCKS5 proxies (their addresses are always asked); what
the server offers is still checked, and a stale entry only costs a second connection
or a second look. Safe to delete.
.TP
\\fI$XDG_CACHE_HOME/xft/caps.json\\fR
Service discovery answers of clients seen before, by the XEP\\-0115 hash their
presence announces; an answer is used only while it still hashes to that value.
Safe to delete.
.SH ENVIRONMENT
\\fBXFT_JID\\fR, \\fBXFT_SERVER\\fR, \\fBXFT_PASSWORD\\fR, \\fBXFT_CONFIG\\fR,
\\fBXFT_S5B_ADDRESS\\fR, \\fBXFT_LOG\\fR (log filter), \\fBNO_COLOR\\fR;
\\fBSSL_CERT_FILE\\fR and \\fBSSL_CERT_DIR\\fR replace the system's trust store.
.SH \"SEE ALSO\"
xft's README; XEP\\-0095, XEP\\-0096, XEP\\-0065, XEP\\-0047, XEP\\-0363, XEP\\-0066,
XEP\\-0384 (version 0.3) and XEP\\-0454 at https://xmpp.org/extensions/.
";
    out.write_all(text.as_bytes())
}

/// roff text: backslashes doubled, hyphens as `\-`, a leading `.` or `'` protected.
fn escape(text: &str) -> String {
    let body = text.replace('\\', "\\\\").replace('-', "\\-");
    body.lines()
        .map(|line| match line.chars().next() {
            Some('.') | Some('\'') => format!("\\&{line}"),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
