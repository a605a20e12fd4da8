//! The `dagr` command line. See `dagr --help`.
#![forbid(unsafe_code)]

mod cli;

/// mimalloc rather than glibc's allocator: tract allocates every node's output afresh for
/// each window, and glibc's bins, consolidation and frees took ~7 % of a replay's CPU; on
/// mimalloc a replay takes 0.93x the CPU. Its version 2, built without transparent huge
/// pages (`no_thp`), keeps the resident memory within the targets: version 3 kept the
/// model-loading peak of `dagr run` resident (62 MB) and its `madvise(MADV_HUGEPAGE)`
/// doubled a replay's (BENCHMARKS.md, "Replay CPU: 303× on tract, 331× on ONNX Runtime").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
