fn main() -> std::process::ExitCode {
    xft::cli::main()
}
