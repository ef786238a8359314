//! `driftsync run <scenario> --seed N`: one seed, with its drawn parameters printed before it
//! runs, so a run that hangs or crashes has already said what it was doing.

use std::io::Write;

use serde_json::json;

use super::{load, write_repro};
use crate::cli::args::{Format, RunArgs};
use crate::cli::render::{self, ReplayHint};
use crate::cli::{CliError, exit, publish};
use crate::engine::RunOptions;
use crate::report::summary::{ScenarioTotals, Summary};
use crate::report::timeline::Timeline;
use crate::runner::one_seed::{plan_guarded, run_plan_guarded};
use crate::runner::pool;
use crate::seed::Seed;

pub(crate) fn run(args: &RunArgs, out: &mut dyn Write) -> Result<u8, CliError> {
    let scenarios = load(std::slice::from_ref(&args.scenario))?;
    let [scenario] = scenarios.as_slice() else {
        return Err(CliError::usage(format!(
            "{} holds {} scenarios and `run` takes one; use `sweep` for several",
            args.scenario.display(),
            scenarios.len()
        )));
    };
    let format = args.output.format;
    let drawn = plan_guarded(&scenario.spec, Seed(args.seed));
    if format == Format::Human {
        match &drawn {
            Ok(plan) => {
                render::run_header(out, &plan.scenario, &scenario.path, args.seed, &plan.params)?
            }
            Err(_) => writeln!(out, "scenario {}, seed {}", scenario.spec.name, args.seed)?,
        }
        out.flush()?;
    }
    let outcome = match &drawn {
        Ok(plan) => pool::run_one(|| run_plan_guarded(plan, &RunOptions::default())),
        Err(outcome) => (**outcome).clone(),
    };
    let plan = drawn.as_ref().ok();
    let (hint, repro_error) = if outcome.passed() {
        (None, None)
    } else {
        let (hint, error) =
            write_repro(&args.reports.reports_dir, &scenario.path, plan, None, &outcome);
        (Some(hint), error)
    };
    let mut totals = ScenarioTotals::new(&scenario.spec.name, &scenario.path.display().to_string());
    totals.add(&outcome, hint.as_ref().map(render::replay_command));
    let run = publish::run_info("run", args.seed, 1, vec!["1/1".to_owned()], 1, 0.0);
    let timeline = plan.map(|plan| Timeline::new(plan, &outcome));
    let summary = Summary::new(run, &[totals], timeline);
    let env = |name: &str| std::env::var(name).ok();
    let published = publish::publish(&args.reports.reports_dir, &summary, &env);
    match format {
        Format::Human => {
            render::outcome_summary(out, &outcome)?;
            if let Some(hint) = &hint {
                render::failure_block(out, &scenario.path, &outcome, hint)?;
            }
            if let Ok(dir) = &published {
                writeln!(out, "report: {}", dir.join("index.html").display())?;
            }
            let passed = u64::from(outcome.passed());
            render::totals(out, passed, 1 - passed)?;
        }
        Format::Json => {
            let repro = match &hint {
                Some(ReplayHint::Repro(path)) => json!(path),
                _ => json!(null),
            };
            let document = json!({
                "scenario": scenario.spec.name,
                "path": scenario.path,
                "seed": args.seed,
                "params": plan.map(|plan| &plan.params),
                "passed": outcome.passed(),
                "outcome": outcome,
                "repro": repro,
                "report": published.as_ref().ok(),
            });
            serde_json::to_writer_pretty(&mut *out, &document).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    if let Some(error) = repro_error {
        return Err(error);
    }
    published?;
    Ok(if outcome.passed() { exit::PASSED } else { exit::FAILED })
}
