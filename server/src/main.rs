use std::process::ExitCode;

/// Rendering and JSON allocate a lot of short-lived memory; mimalloc serves that
/// faster than glibc's malloc and keeps the peak far lower under load
/// (docs/PERFORMANCE.md has the before and after).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc 2's option numbers (`mi_option_e` in mimalloc.h); the -sys crate names
// only some of them.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Commit memory as it is used and give freed memory back at once: an idle
    // server then holds ~20 MB instead of ~48 MB (the password hasher's 19 MiB
    // working area would otherwise stay resident), at no measurable cost in
    // throughput. Set before the runtime starts allocating in earnest.
    unsafe {
        // SAFETY: setting allocator options is thread-safe and takes plain integers.
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
        .block_on(roster::cli::run())
}
