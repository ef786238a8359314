//! The `driftsync` command: `run`, `sweep`, `replay`, `shrink`, `check-determinism` and
//! `report merge`.
//! Arguments are parsed here ([`args`]), each command runs its seeds through
//! [`crate::runner`] and renders what comes back ([`render`], [`publish`]).
//!
//! Results go to stdout (`--format human` or `json`), logs to stderr through `tracing`,
//! filtered by `RUST_LOG` (default `warn`, `error` for the core). Exit codes are in [`exit`].

pub mod args;
mod commands;
pub mod exit;
pub mod publish;
pub mod render;

use std::fmt;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::runner::progress;
use args::{Cli, Command};

/// Runs the command line of this process and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with code 0, usage errors to stderr with code 2.
            let _ = error.print();
            return exit::code(if error.use_stderr() { exit::USAGE } else { exit::PASSED });
        }
    };
    init_logging();
    let mut stdout = std::io::stdout().lock();
    let result = match &cli.command {
        Command::Run(args) => commands::run::run(args, &mut stdout),
        Command::Sweep(args) => commands::sweep::sweep(args, &mut stdout),
        Command::Replay(args) => commands::replay::replay(args, &mut stdout),
        Command::Shrink(args) => commands::shrink::shrink(args, &mut stdout),
        Command::CheckDeterminism(args) => commands::determinism::check(args, &mut stdout),
        Command::Report(args::ReportCommand::Merge(args)) => {
            commands::report::merge(args, &mut stdout)
        }
    };
    let flushed = stdout.flush();
    let code = match (result, flushed) {
        (Ok(code), Ok(())) => code,
        (Ok(_), Err(error)) => {
            report(&CliError::internal(format!("cannot write the results: {error}")));
            exit::INTERNAL
        }
        (Err(error), _) => {
            report(&error);
            error.code
        }
    };
    exit::code(code)
}

/// A command that could not complete, with the exit code that says whose fault it was.
#[derive(Debug)]
pub struct CliError {
    /// One of the codes in [`exit`].
    pub code: u8,
    pub message: String,
}

impl CliError {
    /// The command line asks for something impossible (exit 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError { code: exit::USAGE, message: message.into() }
    }

    /// A scenario or repro file is unusable (exit 65).
    pub fn data(message: impl Into<String>) -> CliError {
        CliError { code: exit::DATA_ERROR, message: message.into() }
    }

    /// The harness failed at something it should be able to do (exit 70).
    pub fn internal(message: impl Into<String>) -> CliError {
        CliError { code: exit::INTERNAL, message: message.into() }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<std::io::Error> for CliError {
    /// The only I/O a command does besides reading its inputs is writing its results.
    fn from(error: std::io::Error) -> CliError {
        CliError::internal(format!("cannot write the results: {error}"))
    }
}

fn report(error: &CliError) {
    // If stderr itself is gone there is nobody left to tell; the exit code still says it.
    let _ = writeln!(std::io::stderr().lock(), "error: {error}");
}

/// The log filter without `RUST_LOG`. The core warns about what the simulator does to it on
/// purpose (damaged messages, failed commits), thousands of times a sweep: only its errors show.
const DEFAULT_LOG_FILTER: &str = "warn,driftsync_core=error";

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    // Fails only if a subscriber is already installed, which then keeps logging.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(progress::colour_enabled(std::io::stderr().is_terminal()))
        .with_target(false)
        .try_init();
}
