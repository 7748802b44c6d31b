//! Text from the network made safe to show on a terminal.
//!
//! File names, descriptions, vCard fields, JIDs' resources and error texts come from
//! peers and servers. Printed raw, C0/C1 control characters can move the cursor, rewrite
//! earlier lines or talk to the terminal (U+009B is a one-byte CSI), and the bidi
//! controls make `txt.exe` read as `exe.txt` (Trojan Source, CVE-2021-42574). Each such
//! character is shown as a visible `\u{…}` escape instead; `--json` output is left to
//! the JSON encoder, since a program reads it.

use std::borrow::Cow;

/// True for characters that must not reach a terminal raw.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `text` with every unsafe character (newlines included) escaped: for one-line values
/// such as file names and JIDs.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// Like [`printable`], but newlines and tabs stay: for multi-line values (a vCard note,
/// an error message, a log line).
pub(crate) fn printable_lines(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) && !keep(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer for log lines: escapes what [`printable_lines`] escapes, except ESC, which
/// the log formatter itself uses for colours (and escapes in messages on its own).
pub(crate) struct TerminalSafe<W>(pub W);

impl<W: std::io::Write> std::io::Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => {
                let safe = escape(text, |c| matches!(c, '\n' | '\t' | '\u{1b}'));
                self.0.write_all(safe.as_bytes())?;
                Ok(buf.len())
            }
            Err(_) => self.0.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi_marks() {
        assert_eq!(printable("report.pdf"), "report.pdf");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(printable("evil\u{202E}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("a\u{9b}2J"), "a\\u{009b}2J");
        assert_eq!(printable("a\u{1b}[2J"), "a\\u{001b}[2J");
        assert_eq!(printable("two\nlines"), "two\\u{000a}lines");
        assert_eq!(printable_lines("two\nlines\r"), "two\nlines\\u{000d}");
        assert_eq!(printable("résumé ☃"), "résumé ☃");
    }

    #[test]
    fn log_writer_keeps_colours_and_escapes_the_rest() {
        use std::io::Write;
        let mut out = TerminalSafe(Vec::new());
        out.write_all("\u{1b}[33mWARN\u{1b}[0m declined 'a\u{202E}b\u{85}'\n".as_bytes())
            .unwrap();
        assert_eq!(
            String::from_utf8(out.0).unwrap(),
            "\u{1b}[33mWARN\u{1b}[0m declined 'a\\u{202e}b\\u{0085}'\n"
        );
    }
}
