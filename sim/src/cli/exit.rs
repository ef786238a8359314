//! The exit codes of the `driftsync` command, in one place; the `--help` text lists them too.
//!
//! When several apply, the most severe wins: internal error, then bad input, then a failed
//! invariant. Codes 65 and 70 follow BSD `sysexits.h`, which CI systems and scripts recognise.

use std::process::ExitCode;

/// Every run passed (and, for `check-determinism`, every digest matched).
pub const PASSED: u8 = 0;
/// An invariant failed, a determinism check found a mismatch, or a replayed failure reproduced.
pub const FAILED: u8 = 1;
/// The command line is wrong: an unknown flag, a malformed value, an impossible shard. Clap's
/// own errors use the same code.
pub const USAGE: u8 = 2;
/// A scenario or repro file cannot be read or is invalid (`EX_DATAERR`); nothing was run.
pub const DATA_ERROR: u8 = 65;
/// The harness itself failed, e.g. it could not write a repro file or the results
/// (`EX_SOFTWARE`); the results printed before it are still valid.
pub const INTERNAL: u8 = 70;

/// The exit codes as the `--help` text shows them.
pub const HELP: &str = "\
Exit codes:
  0   every run passed
  1   an invariant failed, a determinism check found a mismatch, or a replayed failure reproduced
  2   usage error (unknown flag, malformed value, impossible shard)
  65  a scenario or repro file is unreadable or invalid (EX_DATAERR); nothing was run
  70  internal error, e.g. the reports directory is not writable (EX_SOFTWARE)
When several apply, the highest code wins.";

/// Converts one of the codes above into the process's exit code.
pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}
