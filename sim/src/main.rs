//! The `driftsync` command; everything lives in [`driftsync_sim::cli`] so that tests and
//! benchmarks can call the same code without spawning a process.

fn main() -> std::process::ExitCode {
    driftsync_sim::cli::main()
}
