//! The `intake` binary (see the `intake_cli` library).

/// mimalloc instead of the system allocator: the server allocates many small, short-lived buffers
/// per request on several threads, where glibc's arenas contend (measured in `bench/RESULTS.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    intake_cli::main()
}
