//! The two binaries' shared parts: exit codes, logging, reading the schema file, and
//! values as a person types and reads them.

mod audit;
mod bench;
pub mod client;
mod json;
mod keys;
pub mod server;

use std::io::{IsTerminal, Write as _};
use std::path::Path;
use std::process::ExitCode;

use driftsync_core::SchemaLineage;

/// Exit codes, as sysexits(3) names them.
pub(crate) mod exit {
    /// Bad arguments (clap exits with 2 itself).
    pub(crate) const USAGE: u8 = 2;
    /// A file that cannot be used: the schema, or a store refused at open.
    pub(crate) const DATA: u8 = 65;
    /// The network or the server is not there.
    pub(crate) const UNAVAILABLE: u8 = 69;
}

/// Logs to stderr, filtered by `DRIFTSYNC_LOG` (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DRIFTSYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Fails only if a subscriber is already installed, which then keeps logging.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

pub(crate) fn read_schema(path: &Path) -> Result<SchemaLineage, Failure> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::data(format!("{name}: cannot read: {error}")))?;
    SchemaLineage::from_toml(&name, &text).map_err(|error| Failure::data(error.to_string()))
}

/// A failure with the exit code it ends the process with.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn data(message: impl Into<String>) -> Failure {
        Failure { code: exit::DATA, message: message.into() }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure { code: exit::USAGE, message: message.into() }
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Failure {
        Failure { code: exit::UNAVAILABLE, message: message.into() }
    }
}

/// Runs a binary's work on a multi-threaded runtime and ends the process as it went.
pub(crate) fn run_to_exit(
    work: impl std::future::Future<Output = Result<(), Failure>>,
) -> ExitCode {
    init_logging();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => finish(runtime.block_on(work)),
        Err(error) => finish(Err(Failure::unavailable(format!("no runtime: {error}")))),
    }
}

/// The process's exit: the failure said on stderr.
fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Writes one line to stdout; a closed stdout (a pipe's reader gone) ends nothing.
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
