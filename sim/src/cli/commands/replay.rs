//! `driftsync replay <repro>`: rerun a stored plan exactly and compare it with the original.

use std::io::Write;

use serde_json::json;

use crate::cli::args::{Format, ReplayArgs};
use crate::cli::render::{self, ReplayHint};
use crate::cli::{CliError, exit, publish};
use crate::engine::RunOptions;
use crate::report::summary::{ScenarioTotals, Summary};
use crate::report::timeline::Timeline;
use crate::repro;
use crate::runner::one_seed::run_plan_guarded;
use crate::runner::pool;

pub(crate) fn replay(args: &ReplayArgs, out: &mut dyn Write) -> Result<u8, CliError> {
    let repro = repro::load(&args.repro).map_err(|error| CliError::data(error.to_string()))?;
    let format = args.output.format;
    let sabotage = repro.sabotage.map_or_else(|| "none".to_owned(), |s| format!("{s:?}"));
    if format == Format::Human {
        writeln!(
            out,
            "replaying {} (written by harness {}, sabotage {sabotage})",
            args.repro.display(),
            repro.harness_version
        )?;
        render::run_header(out, &repro.scenario, &args.repro, repro.seed, &repro.params)?;
        out.flush()?;
    }
    let options = RunOptions { sabotage: repro.sabotage, ..RunOptions::default() };
    let outcome = pool::run_one(|| run_plan_guarded(&repro.plan, &options));
    let digest_matches = outcome.digest == repro.digest;
    let hint = (!outcome.passed()).then(|| ReplayHint::Repro(args.repro.clone()));
    let mut totals = ScenarioTotals::new(&repro.scenario, &args.repro.display().to_string());
    totals.add(&outcome, hint.as_ref().map(render::replay_command));
    let run = publish::run_info("replay", repro.seed, 1, vec!["1/1".to_owned()], 1, 0.0);
    let summary = Summary::new(run, &[totals], Some(Timeline::new(&repro.plan, &outcome)));
    let env = |name: &str| std::env::var(name).ok();
    let published = publish::publish(&args.reports.reports_dir, &summary, &env);
    match format {
        Format::Human => {
            render::outcome_summary(out, &outcome)?;
            if digest_matches {
                writeln!(out, "digest matches the recorded digest {}", repro.digest)?;
            } else {
                writeln!(
                    out,
                    "digest DIFFERS from the recorded {}: the harness or the core changed since \
                     the file was written, or the run is not deterministic",
                    repro.digest
                )?;
            }
            if let Some(hint) = &hint {
                render::failure_block(out, &args.repro, &outcome, hint)?;
            } else if !repro.failures.is_empty() {
                writeln!(out, "the recorded failure no longer reproduces")?;
            }
            if let Ok(dir) = &published {
                writeln!(out, "report: {}", dir.join("index.html").display())?;
            }
            let passed = u64::from(outcome.passed());
            render::totals(out, passed, 1 - passed)?;
        }
        Format::Json => {
            let document = json!({
                "repro": args.repro,
                "harness_version": repro.harness_version,
                "sabotage": repro.sabotage,
                "params": repro.params,
                "recorded_digest": repro.digest,
                "recorded_failures": repro.failures,
                "digest_matches": digest_matches,
                "passed": outcome.passed(),
                "outcome": outcome,
                "report": published.as_ref().ok(),
            });
            serde_json::to_writer_pretty(&mut *out, &document).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    published?;
    Ok(if outcome.passed() { exit::PASSED } else { exit::FAILED })
}
