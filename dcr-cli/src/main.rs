//! The `dcr` binary.

fn main() -> std::process::ExitCode {
    dcr_cli::main()
}
