//! The progress display as a user sees it: xft's stderr on a pseudo-terminal (openpty),
//! against a real Prosody. The bar appears, updates, and is cleared before the summary;
//! NO_COLOR removes colours; without a terminal there are no escape sequences at all.

mod support;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use support::{pattern, scratch_dir, upload_server};

/// Runs `cmd` with its stderr on a fresh 100x24 pseudo-terminal; returns the exit code
/// and every byte written to the terminal.
fn on_a_terminal(mut cmd: Command) -> (Option<i32>, Vec<u8>) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the given ints; the name pointer
    // may be null, and `size` outlives the call.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(r, 0, "openpty failed");
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave));
    let mut child = cmd.spawn().expect("spawn xft");
    // Our copy of the slave went into the Command, which the spawn consumed; once the
    // child exits, reading the master ends with EIO.
    drop(cmd);
    let mut master = std::fs::File::from(master);
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let status = child.wait().expect("wait");
    (status.code(), seen)
}

/// SGR (colour) sequences: ESC [ digits/semicolons m.
fn has_colour(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.match_indices("\u{1b}[").any(|(i, _)| {
        let rest = &text[i + 2..];
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ';'));
        end.is_some_and(|e| rest[e..].starts_with('m'))
    })
}

/// `xft send --method upload` of a 2 MB file: slow enough through a stock Prosody
/// (a few MB/s) for the bar to be drawn several times. The upload warns that the URL
/// is plain http, which gives the log a coloured WARN on a terminal.
fn upload_command(tag: &str, no_color: bool) -> Command {
    let s = upload_server();
    let (alice, bob) = (s.account(&format!("{tag}a")), s.account(&format!("{tag}b")));
    s.make_contacts(&alice, &bob);
    let file = scratch_dir(tag).join("holiday.jpg");
    std::fs::write(&file, pattern(2_000_000, 9)).unwrap();
    let mut cmd = s.xft(&alice);
    cmd.args(["send", "--method", "upload"])
        .arg(&file)
        .arg(&bob.jid);
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    cmd
}

#[test]
fn the_bar_appears_updates_and_gives_way_to_the_summary() {
    let (code, seen) = on_a_terminal(upload_command("ptybar", false));
    let text = String::from_utf8_lossy(&seen).into_owned();
    assert_eq!(code, Some(0), "{text:?}");
    let label = "holiday.jpg [upload]";
    let draws = text.matches(label).count();
    assert!(draws >= 2, "the bar was drawn {draws} times: {text:?}");
    let last_draw = text.rfind(label).unwrap();
    let summary = text.find("Sent holiday.jpg").expect("summary line");
    assert!(
        last_draw < summary,
        "the summary came before the bar: {text:?}"
    );
    assert!(
        text[last_draw..summary].contains("\u{1b}[2K"),
        "the bar was not cleared before the summary: {text:?}"
    );
    // On a terminal the log is coloured (so the NO_COLOR check below can fail).
    assert!(has_colour(&seen), "no colour on a terminal: {text:?}");
}

#[test]
fn no_color_turns_colours_off() {
    let (code, seen) = on_a_terminal(upload_command("ptynocolor", true));
    let text = String::from_utf8_lossy(&seen).into_owned();
    assert_eq!(code, Some(0), "{text:?}");
    assert!(text.contains("WARN"), "{text:?}");
    assert!(!has_colour(&seen), "colour despite NO_COLOR: {text:?}");
    assert!(text.contains("holiday.jpg [upload]"), "no bar: {text:?}");
}

#[test]
fn without_a_terminal_there_are_no_escape_sequences() {
    let mut cmd = upload_command("ptypipe", false);
    let out = cmd.output().expect("run xft");
    assert_eq!(out.status.code(), Some(0));
    assert!(!out.stderr.is_empty());
    assert!(
        !out.stderr.contains(&0x1b),
        "escape sequences in piped stderr: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}
