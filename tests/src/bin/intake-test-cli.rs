//! The `intake` command, built inside this package so that its integration tests can run it as a
//! process (`CARGO_BIN_EXE_intake-test-cli`): the crash test kills it, the CLI tests check its output
//! and exit codes.

fn main() -> std::process::ExitCode {
    intake_cli::main()
}
