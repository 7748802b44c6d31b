//! The `xft` binary: everything is in the library ([`xft::cli::main`]).

fn main() -> std::process::ExitCode {
    xft::cli::main()
}
