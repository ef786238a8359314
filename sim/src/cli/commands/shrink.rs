//! `driftsync shrink <repro>`: the smallest run that still fails the same checker, written as
//! a repro file beside the original (or into --reports-dir).

use std::io::Write;
use std::time::Duration;

use serde_json::json;

use crate::cli::args::{Format, ShrinkArgs};
use crate::cli::render::{self, ReplayHint};
use crate::cli::{CliError, exit};
use crate::repro;
use crate::runner::pool;
use crate::shrink::{self, Budget, ShrinkError, Size};

pub(crate) fn shrink(args: &ShrinkArgs, out: &mut dyn Write) -> Result<u8, CliError> {
    let original = repro::load(&args.repro).map_err(|error| CliError::data(error.to_string()))?;
    let format = args.output.format;
    let failed = original.failures.first().map(|failure| failure.checker);
    if format == Format::Human {
        let checker = failed.map_or_else(|| "no checker".to_owned(), |c| format!("`{c}`"));
        let before = Size::of(&original.plan);
        writeln!(out, "shrinking {}: {checker} failed with {before}", args.repro.display())?;
        out.flush()?;
    }
    let budget = Budget {
        wall: Some(Duration::from_secs_f64(args.budget_s)),
        runs_max: args.runs_max.unwrap_or(u64::MAX),
    };
    let mut report_progress = |size: Size, runs: u64| {
        // Progress is for the person watching; a closed stderr must not stop the shrink.
        let _ = writeln!(std::io::stderr().lock(), "shrink: run {runs}: {size}");
    };
    let plan = &original.plan;
    let shrunk = pool::run_one(|| {
        shrink::shrink(plan, original.sabotage, failed, budget, &mut report_progress)
    });
    let shrunk = match shrunk {
        Ok(shrunk) => shrunk,
        Err(error @ (ShrinkError::NoFailure | ShrinkError::DoesNotReproduce { .. })) => {
            writeln!(out, "{error}")?;
            return Ok(exit::PASSED);
        }
    };
    let dir = args
        .reports_dir
        .clone()
        .unwrap_or_else(|| args.repro.parent().map(|parent| parent.to_owned()).unwrap_or_default());
    let path =
        repro::write(&dir, &shrunk.plan, original.sabotage, &shrunk.outcome).map_err(|error| {
            CliError::internal(format!(
                "cannot write the shrunk repro into {}: {error}",
                dir.display()
            ))
        })?;
    let after = Size::of(&shrunk.plan);
    match format {
        Format::Human => {
            let how = if shrunk.minimal { "no smaller edit fails it" } else { "budget spent" };
            writeln!(out, "shrunk in {} runs ({how})", shrunk.runs)?;
            writeln!(out, "  before  {}", shrunk.before)?;
            writeln!(out, "  after   {after}")?;
            render::failure_block(out, &args.repro, &shrunk.outcome, &ReplayHint::Repro(path))?;
        }
        Format::Json => {
            let document = json!({
                "repro": args.repro,
                "checker": shrunk.checker,
                "shrunk": path,
                "runs": shrunk.runs,
                "minimal": shrunk.minimal,
                "before": size_json(shrunk.before),
                "after": size_json(after),
                "outcome": shrunk.outcome,
            });
            serde_json::to_writer_pretty(&mut *out, &document).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(exit::FAILED)
}

fn size_json(size: Size) -> serde_json::Value {
    json!({
        "faults": size.faults,
        "writes": size.writes,
        "clients": size.clients,
        "attacks": size.attacks,
    })
}
