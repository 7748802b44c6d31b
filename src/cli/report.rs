//! How a finished transfer is reported: one JSON object per file on stdout with
//! `--json`, otherwise one line on stderr (stdout may be carrying the file itself).

use super::args::GlobalArgs;
use super::vcard_cmd::write_stdout;
use crate::error::Error;
use crate::text::printable;
use crate::transfer::Report;

/// The report of one file: "Sent ..." or "Received ...".
pub(super) fn print_report(global: &GlobalArgs, report: &Report, verb: &str) -> Result<(), Error> {
    if global.json {
        let line = serde_json::to_string(report).unwrap_or_default();
        return write_stdout(&mut std::io::stdout().lock(), &format!("{line}\n"));
    }
    if !global.quiet {
        let peer = report
            .to
            .as_deref()
            .map(|t| format!("to {}", printable(t)))
            .or_else(|| {
                report
                    .from
                    .as_deref()
                    .map(|f| format!("from {}", printable(f)))
            })
            .unwrap_or_default();
        let path = report
            .path
            .as_deref()
            .map(|p| format!(" -> {}", printable(p)))
            .unwrap_or_default();
        // One line, one write: stderr is unbuffered, and other output may interleave.
        let line = format!(
            "{verb} {} ({} bytes, {}, {:.1} MB/s) {peer}{path}\n",
            printable(&report.name),
            report.size,
            report.method,
            report.bytes_per_sec / 1e6
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    }
    Ok(())
}
