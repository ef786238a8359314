//! `driftsync sweep`: many seeds of many scenarios, streamed to the output in a fixed order.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use super::{jobs, load, seed_range, write_repro};
use crate::cli::args::{Format, SweepArgs};
use crate::cli::render::{self, ReplayHint, shell_word};
use crate::cli::{CliError, exit, publish};
use crate::report::seeds_digest::SeedsDigest;
use crate::report::summary::{RunInfo, ScenarioTotals, Summary};
use crate::report::{Loss, coverage};
use crate::runner::shard::{self, SelectedSeeds, Shard, ShardSource};
use crate::runner::sweep::{SeedResult, SweepOptions, sweep_each};
use crate::scenario::Scenario;

/// Failing seeds per scenario that get a repro file and a full failure block; past this, a
/// regression that fails every seed would bury the output and fill the disk, so the remaining
/// failing seeds get one line each with the command that reruns them.
pub(crate) const FAILURE_BLOCKS_MAX_PER_SCENARIO: u64 = 20;

pub(crate) fn sweep(args: &SweepArgs, out: &mut dyn Write) -> Result<u8, CliError> {
    let scenarios = load(&args.range.scenarios)?;
    let seeds = seed_range(args.range.start, args.range.seeds)?;
    let (shard, source) = shard::select(args.shard, |name| std::env::var(name).ok())
        .map_err(|error| CliError::usage(error.to_string()))?;
    let options = SweepOptions {
        shard,
        jobs: jobs(args.range.jobs),
        progress: true,
        check_invariants: !args.no_invariants,
        ..SweepOptions::default()
    };
    let seeds_per_scenario = SelectedSeeds::new(seeds.clone(), shard).len();
    let selection = Selection {
        seeds_count: args.range.seeds,
        seeds_per_scenario,
        source,
        seeds: seeds.clone(),
        shard,
        jobs: options.jobs,
    };
    let format = args.output.format;
    if format == Format::Human {
        selection.announce(out, scenarios.len())?;
    }
    let mut report = Report::new(&scenarios, format, &args.reports.reports_dir);
    let wall = sweep_each(&scenarios, seeds, &options, |result| report.add(out, result));
    report.finish(out)?;
    let uncovered = uncovered(&scenarios, &report.totals, args.require_coverage);
    let summary = Summary::new(selection.run_info(wall), &report.totals, None);
    let env = |name: &str| std::env::var(name).ok();
    let published = publish::publish(&args.reports.reports_dir, &summary, &env);
    let counts = report.counts();
    match format {
        Format::Human => {
            for (scenario, missing) in &uncovered {
                writeln!(
                    out,
                    "UNCOVERED {scenario}: never happened in any seed: {}",
                    missing.join(", ")
                )?;
            }
            human_totals(out, &summary, published.as_ref().ok(), counts, wall)?;
        }
        Format::Json => {
            let report_dir = published.as_ref().ok();
            let mut document = selection.json(&report, &summary, report_dir, wall);
            document["uncovered"] = uncovered
                .iter()
                .map(|(scenario, missing)| json!({ "scenario": scenario, "missing": missing }))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &document).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    if let Some(error) = report.first_error {
        return Err(error);
    }
    published?;
    Ok(if counts.1 == 0 && uncovered.is_empty() { exit::PASSED } else { exit::FAILED })
}

/// A scenario's `[coverage] enforce` holds for sweeps of at least this many of its seeds: what
/// it requires happens in most seeds, not in every one, so a quick sweep of a few seeds is not
/// failed for missing it. `--require-coverage` holds whatever the count.
const ENFORCED_SEEDS_MIN: u64 = 20;

/// The scenarios whose coverage is required (by the flag or their `[coverage] enforce`) and
/// what of it no seed went through.
fn uncovered(
    scenarios: &[Scenario],
    totals: &[ScenarioTotals],
    flag: bool,
) -> Vec<(String, Vec<String>)> {
    scenarios
        .iter()
        .zip(totals)
        .filter(|(scenario, totals)| {
            let seeds = totals.passed + totals.failed;
            flag || (scenario.spec.coverage.enforce && seeds >= ENFORCED_SEEDS_MIN)
        })
        .filter_map(|(scenario, totals)| {
            let missing = coverage::missing(&totals.counters, &coverage::required(&scenario.spec));
            (!missing.is_empty()).then(|| (scenario.spec.name.clone(), missing))
        })
        .collect()
}

/// Which seeds a sweep runs, and on how many threads: its first line for people, and the
/// frame of its JSON document.
struct Selection {
    seeds: Range<u64>,
    /// The seeds asked for per scenario, before sharding.
    seeds_count: u64,
    /// The seeds this shard runs per scenario.
    seeds_per_scenario: u64,
    shard: Shard,
    source: ShardSource,
    jobs: usize,
}

impl Selection {
    /// The sweep's first line, flushed so that a long sweep shows what it is doing.
    fn announce(&self, out: &mut dyn Write, scenarios_count: usize) -> std::io::Result<()> {
        let plan = format!(
            "{scenarios_count} scenarios, seeds {}..{}, shard {} ({}): {} seeds each",
            self.seeds.start,
            self.seeds.end,
            self.shard,
            self.source.origin(),
            self.seeds_per_scenario
        );
        writeln!(out, "sweep: {plan}, {} threads", self.jobs)?;
        out.flush()
    }

    fn run_info(&self, wall: Duration) -> RunInfo {
        let shards = vec![format!("{}/{}", self.shard.number(), self.shard.count())];
        let jobs = self.jobs as u64;
        let wall_s = wall.as_secs_f64();
        publish::run_info("sweep", self.seeds.start, self.seeds_count, shards, jobs, wall_s)
    }

    /// The whole sweep as one JSON document.
    fn json(
        &self,
        report: &Report<'_>,
        summary: &Summary,
        report_dir: Option<&PathBuf>,
        wall: Duration,
    ) -> Value {
        let (passed_count, failed_count) = report.counts();
        let scenario_documents: Vec<Value> =
            report.tallies.iter().zip(report.scenarios).map(|(t, s)| t.json(s)).collect();
        json!({
            "seeds": {
                "start": self.seeds.start,
                "count": self.seeds_count,
                "selected_per_scenario": self.seeds_per_scenario,
            },
            "shard": {
                "number": self.shard.number(),
                "count": self.shard.count(),
                "source": self.source.origin(),
            },
            "jobs": self.jobs,
            "scenarios": scenario_documents,
            "failures": report.failures_json,
            "passed": passed_count,
            "failed": failed_count,
            "writes_committed": summary.loss().committed,
            "writes_quarantined": summary.loss().quarantined,
            "wall_s": wall.as_secs_f64(),
            "report": report_dir,
        })
    }
}

/// The last lines of a sweep for people: how long it took, where the report is, what was lost,
/// and the totals.
fn human_totals(
    out: &mut dyn Write,
    summary: &Summary,
    report_dir: Option<&PathBuf>,
    (passed_count, failed_count): (u64, u64),
    wall: Duration,
) -> std::io::Result<()> {
    let threads = summary.run.jobs;
    writeln!(
        out,
        "swept {} seeds in {:.1} s on {threads} threads ({:.1} seeds/min)",
        passed_count + failed_count,
        wall.as_secs_f64(),
        per_minute(passed_count + failed_count, wall)
    )?;
    if let Some(dir) = report_dir {
        writeln!(out, "report: {}", dir.join("index.html").display())?;
    }
    writeln!(out, "lost: {}", summary.loss())?;
    render::totals(out, passed_count, failed_count)
}

/// The running state of the output: per-scenario tallies, and what to print as results arrive.
struct Report<'a> {
    scenarios: &'a [Scenario],
    format: Format,
    reports_dir: &'a Path,
    tallies: Vec<Tally>,
    /// Scenario lines printed so far; lines are printed in scenario order.
    lines_printed_count: usize,
    failures_json: Vec<Value>,
    /// The first error of writing a repro file or the output; the sweep goes on regardless.
    first_error: Option<CliError>,
    /// The report's running totals, one per scenario, fed as results arrive.
    totals: Vec<ScenarioTotals>,
    /// The replay command of the failing seed being added.
    replay: Option<String>,
}

impl<'a> Report<'a> {
    /// Seeds passed and failed so far, over every scenario.
    fn counts(&self) -> (u64, u64) {
        let passed_count = self.tallies.iter().map(|tally| tally.passed_count).sum();
        let failed_count = self.tallies.iter().map(|tally| tally.failed_count).sum();
        (passed_count, failed_count)
    }

    fn new(scenarios: &'a [Scenario], format: Format, reports_dir: &'a Path) -> Report<'a> {
        Report {
            scenarios,
            format,
            reports_dir,
            tallies: scenarios.iter().map(|_| Tally::default()).collect(),
            lines_printed_count: 0,
            failures_json: Vec::new(),
            first_error: None,
            totals: scenarios
                .iter()
                .map(|s| ScenarioTotals::new(&s.spec.name, &s.path.display().to_string()))
                .collect(),
            replay: None,
        }
    }

    fn add(&mut self, out: &mut dyn Write, result: SeedResult) {
        let written = self.print_lines_before(out, result.scenario_index).and_then(|()| {
            self.tallies[result.scenario_index].add(&result);
            if result.passed() { Ok(()) } else { self.failed(out, &result) }
        });
        self.keep_first(written.map_err(CliError::from));
        let replay = self.replay.take();
        self.totals[result.scenario_index].add(&result.outcome, replay);
    }

    fn failed(&mut self, out: &mut dyn Write, result: &SeedResult) -> std::io::Result<()> {
        let scenario = &self.scenarios[result.scenario_index];
        let outcome = &result.outcome;
        let failed_count = self.tallies[result.scenario_index].failed_count;
        let (hint, error) = if failed_count <= FAILURE_BLOCKS_MAX_PER_SCENARIO {
            write_repro(self.reports_dir, &scenario.path, result.plan.as_ref(), None, outcome)
        } else {
            let reason = format!(
                "more than {FAILURE_BLOCKS_MAX_PER_SCENARIO} failing seeds in this scenario"
            );
            let hint = ReplayHint::Rerun {
                scenario_path: scenario.path.clone(),
                seed: result.seed,
                reason,
            };
            (hint, None)
        };
        self.keep_first(error.map_or(Ok(()), Err));
        self.replay = Some(render::replay_command(&hint));
        match self.format {
            Format::Human if failed_count <= FAILURE_BLOCKS_MAX_PER_SCENARIO => {
                render::failure_block(out, &scenario.path, outcome, &hint)
            }
            Format::Human => {
                let first = outcome.failures.first().map(ToString::to_string).unwrap_or_default();
                writeln!(
                    out,
                    "FAILED {} seed {}: {first} (rerun: cargo run --release -p driftsync-sim -- \
                     run {} --seed {})",
                    outcome.scenario,
                    result.seed,
                    shell_word(&scenario.path),
                    result.seed
                )
            }
            Format::Json => {
                let (repro, note) = match &hint {
                    ReplayHint::Repro(path) => (json!(path), json!(null)),
                    ReplayHint::Rerun { reason, .. } => (json!(null), json!(reason)),
                };
                self.failures_json.push(json!({
                    "scenario": outcome.scenario,
                    "path": scenario.path,
                    "seed": result.seed,
                    "repro": repro,
                    "no_repro_reason": note,
                    "outcome": outcome,
                }));
                Ok(())
            }
        }
    }

    /// Prints the lines of every scenario before `scenario_index` that are not printed yet:
    /// results arrive in scenario order, so those scenarios are complete.
    fn print_lines_before(
        &mut self,
        out: &mut dyn Write,
        scenario_index: usize,
    ) -> std::io::Result<()> {
        while self.lines_printed_count < scenario_index {
            if self.format == Format::Human {
                let index = self.lines_printed_count;
                self.tallies[index].print_line(out, &self.scenarios[index].spec.name)?;
            }
            self.lines_printed_count += 1;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> Result<(), CliError> {
        self.print_lines_before(out, self.scenarios.len())?;
        Ok(())
    }

    fn keep_first(&mut self, result: Result<(), CliError>) {
        if let Err(error) = result {
            self.first_error.get_or_insert(error);
        }
    }
}

/// What one scenario's seeds added up to.
#[derive(Debug, Default)]
struct Tally {
    passed_count: u64,
    failed_count: u64,
    events: u64,
    simulated_ms: u64,
    /// Sum over seeds: time spent by worker threads, not elapsed time.
    wall: Duration,
    /// The seeds' digest: two sweeps of the same seeds with the same binary agree on it, on
    /// any machine, for any number of threads and however they were sharded.
    digest: SeedsDigest,
    loss: Loss,
}

impl Tally {
    fn add(&mut self, result: &SeedResult) {
        if result.passed() {
            self.passed_count += 1;
        } else {
            self.failed_count += 1;
        }
        self.events += result.outcome.events;
        self.simulated_ms += result.outcome.simulated_ms();
        self.wall += result.wall;
        self.digest.add(result.seed, &result.outcome.digest);
        self.loss.add(&Loss::of_stats(&result.outcome.stats));
    }

    fn seeds_count(&self) -> u64 {
        self.passed_count + self.failed_count
    }

    fn print_line(&self, out: &mut dyn Write, name: &str) -> std::io::Result<()> {
        let wall_s = self.wall.as_secs_f64().max(f64::MIN_POSITIVE);
        writeln!(
            out,
            "{name}: {} passed, {} failed; {}; per worker thread: {:.1} seeds/min, {:.0} \
             simulated s per wall s, {:.0} events/s",
            self.passed_count,
            self.failed_count,
            self.loss,
            per_minute(self.seeds_count(), self.wall),
            self.simulated_ms as f64 / 1_000.0 / wall_s,
            self.events as f64 / wall_s
        )
    }

    fn json(&self, scenario: &Scenario) -> Value {
        let wall_s = self.wall.as_secs_f64().max(f64::MIN_POSITIVE);
        json!({
            "name": scenario.spec.name,
            "path": scenario.path,
            "passed": self.passed_count,
            "failed": self.failed_count,
            "writes_committed": self.loss.committed,
            "writes_quarantined": self.loss.quarantined,
            "writes_quarantined_by_reason": self.loss.by_reason,
            "digest": self.digest.to_hex(),
            "events": self.events,
            "simulated_ms": self.simulated_ms,
            "thread_wall_s": self.wall.as_secs_f64(),
            "seeds_per_min_per_thread": per_minute(self.seeds_count(), self.wall),
            "simulated_s_per_wall_s": self.simulated_ms as f64 / 1_000.0 / wall_s,
            "events_per_s": self.events as f64 / wall_s,
        })
    }
}

fn per_minute(count: u64, wall: Duration) -> f64 {
    count as f64 * 60.0 / wall.as_secs_f64().max(f64::MIN_POSITIVE)
}
