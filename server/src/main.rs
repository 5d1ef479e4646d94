use std::process::ExitCode;

/// Rendering and JSON allocate a lot of short-lived memory; mimalloc serves that
/// faster than glibc's malloc and returns it to the OS more readily
/// (docs/PERFORMANCE.md has the before and after).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    roster::cli::run().await
}
