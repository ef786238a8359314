//! `driftsync run <scenario> --seed N`: one seed, with its drawn parameters printed before it
//! runs, so a run that hangs or crashes has already said what it was doing.

use std::io::{self, Write};
use std::path::PathBuf;

use serde_json::json;

use super::{load, write_repro};
use crate::cli::args::{Format, RunArgs};
use crate::cli::render::{self, ReplayHint};
use crate::cli::{CliError, exit, publish};
use crate::engine::RunOptions;
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::report::summary::{ScenarioTotals, Summary};
use crate::report::timeline::Timeline;
use crate::runner::one_seed::{plan_guarded, run_plan_guarded};
use crate::runner::pool;
use crate::scenario::Scenario;
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
        announce(out, scenario, args.seed, &drawn)?;
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
    let ran = Ran { scenario, seed: args.seed, plan, outcome: &outcome, hint: hint.as_ref() };
    match format {
        Format::Human => ran.print_human(out, published.as_ref().ok())?,
        Format::Json => ran.print_json(out, published.as_ref().ok())?,
    }
    if let Some(error) = repro_error {
        return Err(error);
    }
    published?;
    Ok(if outcome.passed() { exit::PASSED } else { exit::FAILED })
}

/// The seed's first lines, flushed before it runs: its drawn parameters, or just its name and
/// seed if drawing them panicked.
fn announce(
    out: &mut dyn Write,
    scenario: &Scenario,
    seed: u64,
    drawn: &Result<Plan, Box<Outcome>>,
) -> std::io::Result<()> {
    match drawn {
        Ok(plan) => render::run_header(out, &plan.scenario, &scenario.path, seed, &plan.params)?,
        Err(_) => writeln!(out, "scenario {}, seed {}", scenario.spec.name, seed)?,
    }
    out.flush()
}

/// One seed, run: what the results print.
struct Ran<'a> {
    scenario: &'a Scenario,
    seed: u64,
    plan: Option<&'a Plan>,
    outcome: &'a Outcome,
    /// How to replay the seed, if it failed.
    hint: Option<&'a ReplayHint>,
}

impl Ran<'_> {
    fn print_human(&self, out: &mut dyn Write, report_dir: Option<&PathBuf>) -> io::Result<()> {
        render::outcome_summary(out, self.outcome)?;
        if let Some(hint) = self.hint {
            render::failure_block(out, &self.scenario.path, self.outcome, hint)?;
        }
        if let Some(dir) = report_dir {
            writeln!(out, "report: {}", dir.join("index.html").display())?;
        }
        let passed = u64::from(self.outcome.passed());
        render::totals(out, passed, 1 - passed)
    }

    fn print_json(&self, out: &mut dyn Write, report_dir: Option<&PathBuf>) -> io::Result<()> {
        let repro = match self.hint {
            Some(ReplayHint::Repro(path)) => json!(path),
            _ => json!(null),
        };
        let document = json!({
            "scenario": self.scenario.spec.name,
            "path": self.scenario.path,
            "seed": self.seed,
            "params": self.plan.map(|plan| &plan.params),
            "passed": self.outcome.passed(),
            "outcome": self.outcome,
            "repro": repro,
            "report": report_dir,
        });
        serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::from)?;
        writeln!(out)
    }
}
