//! Where received bytes go: a `.part` file renamed into place only once verified, or
//! stdout. The file name from the wire is untrusted (XEP-0096 has no security section;
//! XEP-0234 §Security and docs/interop.md §1 list what peers send).

use std::path::{Path, PathBuf};

use tokio::io::{AsyncWrite, BufWriter};

use super::resume::{part_path, Partial, Registry};
use super::TransferError;

/// Where `xft recv` puts files.
#[derive(Debug, Clone)]
pub(crate) enum Destination {
    /// Into this directory, under the sanitised offered name.
    Dir(PathBuf),
    /// Exactly this path (`-o PATH`).
    Path(PathBuf),
    /// To stdout (`-o -`): no `.part`, failures are known only after the fact.
    Stdout,
}

/// Longest file name xft writes, in bytes (ext4 allows 255; leave room for " (NN)" and ".part").
const MAX_NAME_BYTES: usize = 200;

/// Turns an offered file name into one safe to create inside the target directory:
/// no directories, no `..`, no control or bidi-override characters, no leading dots,
/// no Windows device names, at most 200 bytes. Never empty.
pub(crate) fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !is_unsafe_char(*c)).collect();
    let trimmed = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches([' ', '.'])
        .trim();
    let mut name = truncate_keeping_extension(trimmed, MAX_NAME_BYTES);
    if is_reserved(&name) {
        name.insert(0, '_');
    }
    if name.is_empty() {
        return "received-file".into();
    }
    name
}

/// Control characters, and the invisible direction marks that make `exe.txt` look like
/// `txt.exe` (U+202E and friends; Gajim strips them for that reason).
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Windows device names are harmless on Linux but dangerous on a shared disk.
fn is_reserved(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit())
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, ext) = split_extension(name);
    let ext = if ext.len() <= 16 { ext } else { "" };
    let mut end = max - ext.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", &stem[..end])
}

/// `("report", ".pdf")`; a leading dot alone is not an extension.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// `name (n).ext` for n > 0.
fn numbered(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_owned();
    }
    let (stem, ext) = split_extension(name);
    format!("{stem} ({n}){ext}")
}

/// A file being received: bytes go to `part`; `finish` moves it to `target`.
#[derive(Debug)]
pub(crate) struct PartFile {
    pub part: PathBuf,
    pub target: PathBuf,
    overwrite: bool,
    /// For `--dir`: the name to number from ("a.txt" for "a (1).txt") if the target is
    /// taken by the time the file is complete. `None` for an exact `-o PATH`.
    base_name: Option<String>,
}

/// Creates the `.part` file for `name` in `dir`, picking `name (1).ext` and so on when
/// the name (or its `.part`) is taken and `overwrite` is off.
pub(crate) fn create_in_dir(
    dir: &Path,
    name: &str,
    overwrite: bool,
) -> std::io::Result<(PartFile, std::fs::File)> {
    for n in 0..10_000 {
        let target = dir.join(numbered(name, n));
        if !overwrite && target.symlink_metadata().is_ok() {
            continue;
        }
        match create_part(&target, overwrite) {
            Ok((mut part, file)) => {
                part.base_name = Some(name.to_owned());
                return Ok((part, file));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free file name",
    ))
}

/// True when `path` exists and is not a regular file or a symlink to one: a device such
/// as /dev/null, a FIFO, a terminal. Such a target is written directly: a `.part` next
/// to it and a rename over it would replace the device node.
pub(crate) fn is_special_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Opens a special file (see [`is_special_file`]) for writing.
pub(crate) fn open_special(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).open(path)
}

/// Creates the `.part` file for an exact target path (`-o PATH`).
pub(crate) fn create_at(
    target: &Path,
    overwrite: bool,
) -> std::io::Result<(PartFile, std::fs::File)> {
    if !overwrite && target.symlink_metadata().is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} exists (use --overwrite)", target.display()),
        ));
    }
    create_part(target, overwrite)
}

/// The `.part` is always created new (`O_EXCL`, which never follows a symlink). With
/// `overwrite`, a stale `.part` is removed first: removing a symlink removes the link,
/// not what it points to, so a planted `NAME.part -> /elsewhere` cannot redirect the
/// payload (issue 8, item 8).
fn create_part(target: &Path, overwrite: bool) -> std::io::Result<(PartFile, std::fs::File)> {
    if target.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} is a directory", target.display()),
        ));
    }
    let part = part_path(target);
    if overwrite {
        match std::fs::symlink_metadata(&part) {
            Ok(m) if m.is_dir() => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} is a directory", part.display()),
                ))
            }
            Ok(_) => std::fs::remove_file(&part)?,
            Err(_) => {}
        }
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part)?;
    Ok((
        PartFile {
            part,
            target: target.to_owned(),
            overwrite,
            base_name: None,
        },
        file,
    ))
}

impl PartFile {
    /// Moves the verified `.part` into place without replacing a file that appeared in
    /// the meantime (unless overwriting): a hard link fails if the name is taken.
    pub(crate) fn finish(mut self) -> std::io::Result<PathBuf> {
        if self.overwrite {
            std::fs::rename(&self.part, &self.target)?;
            return Ok(self.target);
        }
        let Some(name) = self.base_name.take() else {
            return link_into_place(&self.part, &self.target).map(|()| self.target);
        };
        let dir = self.target.parent().map(Path::to_owned).unwrap_or_default();
        for n in 0..10_000 {
            let candidate = dir.join(numbered(&name, n));
            match std::fs::hard_link(&self.part, &candidate) {
                Ok(()) => {
                    std::fs::remove_file(&self.part)?;
                    self.target = candidate;
                    return Ok(self.target);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                // No hard links on this filesystem: check, then rename.
                Err(_) if candidate.symlink_metadata().is_err() => {
                    std::fs::rename(&self.part, &candidate)?;
                    self.target = candidate;
                    return Ok(self.target);
                }
                Err(_) => continue,
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "no free file name",
        ))
    }
}

/// Moves `part` to exactly `target`, failing if `target` exists.
fn link_into_place(part: &Path, target: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(part, target) {
        Ok(()) => std::fs::remove_file(part),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if target.symlink_metadata().is_err() => std::fs::rename(part, target),
        Err(e) => Err(e),
    }
}

// ---- The opened destination of one file, as `xft recv` uses it. ----

/// Where the bytes of one file go.
pub(crate) enum Target {
    Part(PartFile),
    /// A device or FIFO given with `-o`, written in place.
    Special(std::path::PathBuf),
    Stdout,
}

pub(crate) type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// Where the bytes are written: the `.part` file or a device, or stdout.
pub(crate) enum Output {
    /// The open file, and its path as shown in messages.
    File(std::fs::File, String),
    Stdout,
}

impl Output {
    /// A write to this output failed (full disk, closed pipe).
    pub(crate) fn sink_error(&self, source: std::io::Error) -> TransferError {
        let path = match self {
            Output::File(_, shown) => shown.clone(),
            Output::Stdout => "standard output".into(),
        };
        TransferError::Sink { path, source }
    }

    /// For IBB, whose blocks arrive through the async session.
    pub(crate) fn async_writer(&self) -> std::io::Result<Writer> {
        Ok(match self {
            Output::File(f, _) => Box::new(BufWriter::with_capacity(
                256 * 1024,
                tokio::fs::File::from_std(f.try_clone()?),
            )),
            Output::Stdout => Box::new(BufWriter::with_capacity(256 * 1024, tokio::io::stdout())),
        })
    }

    /// For the S5B pump, which writes from a blocking thread.
    /// Whether the bytes written can be read back afterwards (a regular file, and
    /// /proc to reopen it).
    pub(crate) fn can_be_reread(&self) -> bool {
        self.reread().is_some()
    }

    /// The written file, opened anew for reading from its start (a regular file only).
    pub(crate) fn reread(&self) -> Option<std::fs::File> {
        let Output::File(f, _) = self else {
            return None;
        };
        if !f.metadata().is_ok_and(|m| m.is_file()) {
            return None;
        }
        // By its descriptor: the name may be a `.part` that is renamed later, and the
        // descriptor may be open for writing only.
        let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(f));
        std::fs::File::open(path).ok()
    }

    pub(crate) fn blocking_writer(&self) -> std::io::Result<BlockingWriter> {
        Ok(match self {
            Output::File(f, _) => BlockingWriter::File(f.try_clone()?),
            Output::Stdout => BlockingWriter::Stdout(std::io::stdout()),
        })
    }
}

/// The output as a blocking descriptor, for the S5B pump (which may hand it to the
/// kernel: see `kernel_copy`).
pub(crate) enum BlockingWriter {
    File(std::fs::File),
    Stdout(std::io::Stdout),
}

impl std::io::Write for BlockingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            BlockingWriter::File(f) => f.write(buf),
            BlockingWriter::Stdout(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            BlockingWriter::File(f) => f.flush(),
            BlockingWriter::Stdout(s) => s.flush(),
        }
    }
}

impl std::os::fd::AsFd for BlockingWriter {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            BlockingWriter::File(f) => f.as_fd(),
            BlockingWriter::Stdout(s) => s.as_fd(),
        }
    }
}

pub(crate) fn open_target(
    destination: &Destination,
    offered: &str,
    overwrite: bool,
) -> Result<(Target, Output), TransferError> {
    let sink_error = |source| TransferError::Sink {
        path: destination_text(destination),
        source,
    };
    match destination {
        Destination::Stdout => Ok((Target::Stdout, Output::Stdout)),
        Destination::Path(path) if is_special_file(path) => {
            let file = open_special(path).map_err(sink_error)?;
            let shown = path.display().to_string();
            Ok((Target::Special(path.clone()), Output::File(file, shown)))
        }
        Destination::Path(path) => {
            let (part, file) = create_at(path, overwrite).map_err(sink_error)?;
            let shown = part.part.display().to_string();
            Ok((Target::Part(part), Output::File(file, shown)))
        }
        Destination::Dir(dir) => {
            let name = sanitize_file_name(offered);
            let (part, file) = create_in_dir(dir, &name, overwrite).map_err(sink_error)?;
            let shown = part.part.display().to_string();
            Ok((Target::Part(part), Output::File(file, shown)))
        }
    }
}

/// After a failed transfer: a `.part` that holds no byte is removed (there is nothing
/// to keep or resume); one with data stays for the user to inspect or resume.
pub(crate) fn discard_if_empty(target: &Target, registry: &Registry) {
    if let Target::Part(part) = target {
        let empty =
            std::fs::symlink_metadata(&part.part).is_ok_and(|m| m.is_file() && m.len() == 0);
        if empty {
            let _ = std::fs::remove_file(&part.part);
            registry.forget(&absolute(&part.part));
        }
    }
}

/// After a failed download: its `.part` is removed whatever it holds, since an HTTP
/// download is not resumed and a partial file is of no use.
pub(crate) fn discard(target: &Target) {
    if let Target::Part(part) = target {
        let _ = std::fs::remove_file(&part.part);
    }
}

/// Reopens a registered `.part` for appending (never through a symlink), and hashes
/// what it holds with `algorithm`. Returns the target, the output, the bytes already
/// there and their hash.
pub(crate) fn reopen_part(
    partial: &Partial,
    overwrite: bool,
    base_name: Option<String>,
    algorithm: crate::hash::Algorithm,
) -> std::io::Result<(Target, Output, u64, crate::hash::Hasher)> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&partial.part)?;
    let len = reader.metadata()?.len();
    let hasher = crate::hash::hash_prefix(&mut reader, len, algorithm)?;
    let file = std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&partial.part)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() != len {
        return Err(std::io::Error::other(
            "the .part changed while being reopened",
        ));
    }
    let shown = partial.part.display().to_string();
    let part = PartFile {
        part: partial.part.clone(),
        target: partial.target.clone(),
        overwrite,
        base_name,
    };
    Ok((Target::Part(part), Output::File(file, shown), len, hasher))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

pub(crate) fn finish_target(target: Target, registry: &Registry) -> Result<String, TransferError> {
    match target {
        Target::Stdout => Ok("-".into()),
        Target::Special(path) => Ok(path.display().to_string()),
        Target::Part(part) => {
            let shown = part.part.display().to_string();
            registry.forget(&absolute(&part.part));
            part.finish()
                .map(|p| p.display().to_string())
                .map_err(|source| TransferError::Sink {
                    path: shown,
                    source,
                })
        }
    }
}

fn destination_text(d: &Destination) -> String {
    match d {
        Destination::Dir(p) | Destination::Path(p) => p.display().to_string(),
        Destination::Stdout => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_safe() {
        let long = "a".repeat(300) + ".txt";
        let cases: &[(&str, &str)] = &[
            ("report.pdf", "report.pdf"),
            ("../../x", "x"),
            ("/etc/passwd", "passwd"),
            (".bashrc", "bashrc"),
            ("a/b", "b"),
            ("..\\..\\win.ini", "win.ini"),
            ("nul\u{0}byte\u{7}.txt", "nulbyte.txt"),
            ("evil\u{202E}txt.exe", "eviltxt.exe"),
            ("..", "received-file"),
            ("", "received-file"),
            ("   ", "received-file"),
            ("CON", "_CON"),
            ("lpt1.txt", "_lpt1.txt"),
            ("résumé ☃.odt", "résumé ☃.odt"),
            ("with space.txt", "with space.txt"),
            ("dir/", "received-file"),
        ];
        for (raw, safe) in cases {
            assert_eq!(sanitize_file_name(raw), *safe, "{raw:?}");
        }
        let cut = sanitize_file_name(&long);
        assert!(
            cut.len() <= MAX_NAME_BYTES && cut.ends_with(".txt"),
            "{cut}"
        );
        let multibyte = "é".repeat(150);
        assert!(sanitize_file_name(&multibyte).len() <= MAX_NAME_BYTES);
    }

    #[test]
    fn never_clobbers_and_numbers_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "old").unwrap();
        let (part, _f) = create_in_dir(dir.path(), "a.txt", false).unwrap();
        assert_eq!(part.target, dir.path().join("a (1).txt"));
        assert!(part.part.ends_with("a (1).txt.part"));
        // The name is taken while we receive: finish picks the next one.
        std::fs::write(dir.path().join("a (1).txt"), "raced").unwrap();
        let done = part.finish().unwrap();
        assert_eq!(done, dir.path().join("a (2).txt"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "old"
        );
        assert!(!dir.path().join("a (1).txt.part").exists());
    }

    #[test]
    fn devices_are_special() {
        assert!(is_special_file(Path::new("/dev/null")));
        assert!(!is_special_file(Path::new("/etc/hostname")));
        assert!(!is_special_file(Path::new("/nonexistent")));
        assert!(!is_special_file(Path::new("/tmp")));
    }

    /// Issue 8, item 8: a planted `NAME.part` symlink with --overwrite made xft write
    /// the payload outside the directory and leave NAME as a symlink to it.
    #[test]
    fn a_planted_part_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("a.txt.part")).unwrap();
        for overwrite in [true, false] {
            let (part, mut file) = create_in_dir(dir.path(), "a.txt", overwrite).unwrap();
            std::io::Write::write_all(&mut file, b"payload").unwrap();
            let done = part.finish().unwrap();
            assert!(!done.symlink_metadata().unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read_to_string(&done).unwrap(), "payload");
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
            std::fs::remove_file(&done).unwrap();
            let _ = std::os::unix::fs::symlink(&victim, dir.path().join("a.txt.part"));
        }
    }

    /// Issue 8, item 13: `-o DIR --overwrite` used to accept, receive, then fail.
    #[test]
    fn a_directory_is_not_a_file_target() {
        let dir = tempfile::tempdir().unwrap();
        assert!(create_at(dir.path(), true).is_err());
        assert!(create_at(dir.path(), false).is_err());
    }

    #[test]
    fn overwrite_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f");
        std::fs::write(&target, "old").unwrap();
        assert!(create_at(&target, false).is_err());
        let (part, _f) = create_at(&target, true).unwrap();
        std::fs::write(&part.part, "new").unwrap();
        assert_eq!(part.finish().unwrap(), target);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }
}
