//! One module per subcommand, plus what they share: loading inputs with the right exit code,
//! and writing repro files.

pub(super) mod determinism;
pub(super) mod replay;
pub(super) mod report;
pub(super) mod run;
pub(super) mod shrink;
pub(super) mod sweep;

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::CliError;
use super::render::ReplayHint;
use crate::engine::Sabotage;
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::repro;
use crate::scenario::{Scenario, load_scenarios};

/// Loads scenario files and directories; any problem is a data error (exit 65).
fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, CliError> {
    load_scenarios(paths).map_err(|error| CliError::data(error.to_string()))
}

/// `start..start + count`, or a usage error if that passes the last seed.
fn seed_range(start: u64, count: u64) -> Result<Range<u64>, CliError> {
    let end = start.checked_add(count).ok_or_else(|| {
        CliError::usage(format!("--start {start} plus --seeds {count} passes the last seed"))
    })?;
    Ok(start..end)
}

/// The worker threads asked for, or one per core.
fn jobs(asked: Option<u64>) -> usize {
    asked.map_or_else(crate::runner::sweep::default_jobs, |jobs| jobs as usize)
}

/// Writes the repro file of a failing seed. A seed without a plan, or a directory that cannot
/// be written, gets a rerun hint instead, and the latter also an internal error for the exit
/// code; the sweep goes on either way.
fn write_repro(
    reports_dir: &Path,
    scenario_path: &Path,
    plan: Option<&Plan>,
    sabotage: Option<Sabotage>,
    outcome: &Outcome,
) -> (ReplayHint, Option<CliError>) {
    let rerun = |reason: String| ReplayHint::Rerun {
        scenario_path: scenario_path.to_owned(),
        seed: outcome.seed,
        reason,
    };
    let Some(plan) = plan else {
        return (rerun("the plan could not be drawn".to_owned()), None);
    };
    match repro::write(reports_dir, plan, sabotage, outcome) {
        Ok(path) => (ReplayHint::Repro(path), None),
        Err(error) => {
            let message =
                format!("cannot write a repro file into {}: {error}", reports_dir.display());
            (rerun(message.clone()), Some(CliError::internal(message)))
        }
    }
}
