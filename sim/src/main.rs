//! The `driftsync` command; everything lives in [`driftsync_sim::cli`] so that tests and
//! benchmarks can call the same code without spawning a process.

// A sweep allocates for every simulated message and merge; mimalloc makes it about a third
// faster than the system allocator (measured by `benches/benches/simulate.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    driftsync_sim::cli::main()
}
