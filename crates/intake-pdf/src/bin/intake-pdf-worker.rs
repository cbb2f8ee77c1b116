//! The PDF worker on its own (`intake pdf-worker` is the same): what the reader's tests start.

fn main() -> std::process::ExitCode {
    intake_pdf::serve()
}
