//! The `intake` binary (see the `intake_cli` library).

fn main() -> std::process::ExitCode {
    intake_cli::main()
}
