//! Files in the repository that must agree with the code: the README's exit-code table,
//! the committed shell completions and the man page.

use xft::cli::args::Shell;
use xft::error::ExitStatus;

#[test]
fn readme_lists_every_exit_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for status in ExitStatus::ALL {
        let row = format!("| {} | {} |", status.code(), status.describe());
        assert!(
            readme.contains(&row),
            "README.md lacks the exit-code row `{row}`"
        );
    }
}

#[test]
fn committed_completions_are_current() {
    for (shell, file) in [
        (Shell::Bash, "xft.bash"),
        (Shell::Zsh, "_xft"),
        (Shell::Fish, "xft.fish"),
    ] {
        let path = format!("{}/completions/{file}", env!("CARGO_MANIFEST_DIR"));
        let committed = std::fs::read(&path).unwrap_or_default();
        let mut generated = Vec::new();
        xft::cli::write_completions(shell, &mut generated);
        assert!(
            committed == generated,
            "{path} is stale: run `cargo run -q -- completions {} > completions/{file}`",
            format!("{shell:?}").to_lowercase()
        );
    }
}

#[test]
fn committed_man_page_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/completions/xft.1");
    let committed = std::fs::read(path).unwrap_or_default();
    let mut generated = Vec::new();
    xft::cli::man::write_man(&mut generated).unwrap();
    assert!(
        committed == generated,
        "{path} is stale: run `cargo run -q -- man > completions/xft.1`"
    );
    let text = String::from_utf8_lossy(&generated);
    for needle in [
        "EXIT STATUS",
        "XFT SEND",
        "XFT UPLOAD",
        "\\-\\-method",
        "Examples:",
    ] {
        assert!(text.contains(needle), "the man page lacks {needle}");
    }
}

/// Issue 8, item 14: a test that ran `xft recv` without --dir left `x (N).bin.part` in
/// the repository root, and nine were committed. Every xft a test starts now runs in a
/// scratch directory.
#[test]
fn no_partial_downloads_in_the_repository() {
    let root = std::fs::read_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let debris: Vec<String> = root
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".part"))
        .collect();
    assert!(
        debris.is_empty(),
        "test debris in the repository: {debris:?}"
    );
}
