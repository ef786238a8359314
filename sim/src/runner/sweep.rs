//! Sweeps as a library: many seeds of many scenarios on all cores, results in a fixed order.
//!
//! Every seed runs single-threaded and independently of the others; the worker threads only
//! decide which seed runs when, never what a seed does. Results come back ordered by scenario,
//! then seed, so a sweep's output is the same for any `jobs`.
//!
//! ```no_run
//! use driftsync_sim::runner::sweep::{SweepOptions, run_sweep};
//! use driftsync_sim::scenario::load_scenarios;
//!
//! let scenarios = load_scenarios(&["scenarios/standard.toml".into()])?;
//! let result = run_sweep(&scenarios, 0..8, &SweepOptions::default());
//! assert_eq!(result.seeds.len(), 8);
//! for seed in &result.seeds {
//!     println!("{} seed {}: {}", seed.outcome.scenario, seed.seed, seed.outcome.digest);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::ops::Range;
use std::time::Duration;

use super::one_seed::run_seed;
use super::pool;
use super::progress::{Progress, Stopwatch};
use super::shard::{SelectedSeeds, Shard};
use crate::engine::{RunOptions, Sabotage};
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::scenario::Scenario;
use crate::seed::Seed;

/// The most worker threads a sweep may use.
pub const JOBS_MAX: u64 = 4096;

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Which of the seeds this process runs.
    pub shard: Shard,
    /// Worker threads; clamped to `1..=`[`JOBS_MAX`].
    pub jobs: usize,
    /// A planted bug for every seed; for tests of the checkers, never set by the command line.
    pub sabotage: Option<Sabotage>,
    /// The engine's bound on events per seed.
    pub events_max: u64,
    /// Print a progress line to stderr every few seconds.
    pub progress: bool,
    /// Check every node's invariants after each input (see [`RunOptions::check_invariants`]).
    pub check_invariants: bool,
}

impl Default for SweepOptions {
    fn default() -> SweepOptions {
        SweepOptions {
            shard: Shard::ALL,
            jobs: default_jobs(),
            sabotage: None,
            events_max: RunOptions::default().events_max,
            progress: false,
            check_invariants: true,
        }
    }
}

/// One seed of one scenario, run.
#[derive(Clone, Debug)]
pub struct SeedResult {
    /// Index into the scenarios the sweep was given.
    pub scenario_index: usize,
    pub seed: u64,
    pub outcome: Outcome,
    /// The plan, kept for failing seeds only (it is what a repro file stores); `None` for
    /// passing seeds, and for a seed whose plan could not even be drawn.
    pub plan: Option<Plan>,
    /// Wall time spent on this seed, planning included. For throughput figures only.
    pub wall: Duration,
}

impl SeedResult {
    pub fn passed(&self) -> bool {
        self.outcome.passed()
    }
}

/// Every seed of a sweep, ordered by scenario, then seed.
#[derive(Clone, Debug)]
pub struct SweepResult {
    pub seeds: Vec<SeedResult>,
    /// Wall time of the whole sweep.
    pub wall: Duration,
}

impl SweepResult {
    pub fn passed_count(&self) -> usize {
        self.seeds.iter().filter(|seed| seed.passed()).count()
    }

    pub fn failed_count(&self) -> usize {
        self.seeds.len() - self.passed_count()
    }
}

/// Runs the seeds of `seeds` that `options.shard` selects, for every scenario.
pub fn run_sweep(scenarios: &[Scenario], seeds: Range<u64>, options: &SweepOptions) -> SweepResult {
    let mut results = Vec::new();
    let wall = sweep_each(scenarios, seeds, options, |result| results.push(result));
    SweepResult { seeds: results, wall }
}

/// Like [`run_sweep`], but hands each result to `on_result` as soon as every result before it
/// has been handed over, instead of keeping them all; returns the sweep's wall time.
pub fn sweep_each(
    scenarios: &[Scenario],
    seeds: Range<u64>,
    options: &SweepOptions,
    mut on_result: impl FnMut(SeedResult),
) -> Duration {
    let selected = SelectedSeeds::new(seeds, options.shard);
    let count = items_count(scenarios.len(), selected.len());
    let run_options = RunOptions {
        record_trace: false,
        sabotage: options.sabotage,
        events_max: options.events_max,
        check_invariants: options.check_invariants,
    };
    // Both the collector and its idle callback update the display, one at a time.
    let progress = RefCell::new(Progress::new(count as u64, options.progress));
    let work = |index: usize| {
        let (scenario_index, seed) = item(&selected, index);
        let name = &scenarios[scenario_index].spec.name;
        let _span = tracing::info_span!("seed", scenario = %name, seed).entered();
        let stopwatch = Stopwatch::start();
        let run = run_seed(&scenarios[scenario_index].spec, Seed(seed), &run_options);
        let plan = if run.outcome.passed() { None } else { run.plan };
        SeedResult { scenario_index, seed, outcome: run.outcome, plan, wall: stopwatch.elapsed() }
    };
    let jobs = options.jobs.clamp(1, JOBS_MAX as usize);
    let consume = |_: usize, result: SeedResult| {
        progress.borrow_mut().finished(result.passed());
        on_result(result);
    };
    pool::run_ordered(count, jobs, work, consume, || progress.borrow_mut().tick());
    progress.borrow().finish();
    progress.borrow().elapsed()
}

/// How many (scenario, seed) items a sweep runs. A sweep too large to count in a `usize` could
/// not finish anyway, so it is cut to the largest count rather than refused.
pub(crate) fn items_count(scenarios_count: usize, seeds_count: u64) -> usize {
    usize::try_from(seeds_count).unwrap_or(usize::MAX).saturating_mul(scenarios_count)
}

/// The scenario index and seed of item `index`: scenario by scenario, seeds in order within.
pub(crate) fn item(selected: &SelectedSeeds, index: usize) -> (usize, u64) {
    let seeds_count = selected.len();
    let index = index as u64;
    ((index / seeds_count) as usize, selected.seed(index % seeds_count))
}

/// The number of worker threads when none is asked for: one per available core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::scenario::ScenarioSpec;

    fn tiny_scenarios() -> Vec<Scenario> {
        let text = "name = \"tiny\"\n[topology]\nclients = 2\n[workload]\nwrites_per_client = 5\n\
                    [network]\nloss = [0, 0.2]\n[run]\nchaos_s = 20\nliveness_deadline_s = 120\n";
        let path = PathBuf::from("tiny.toml");
        let spec = ScenarioSpec::from_toml_str(&path, text).expect("the test scenario is valid");
        vec![Scenario { path, spec }]
    }

    /// Goal: thread timing never reaches the results or their order.
    #[test]
    fn sweep_results_are_in_seed_order_whatever_the_jobs() {
        let scenarios = tiny_scenarios();
        let digests = |jobs| {
            let options = SweepOptions { jobs, ..SweepOptions::default() };
            let result = run_sweep(&scenarios, 10..16, &options);
            result.seeds.iter().map(|s| (s.seed, s.outcome.digest.clone())).collect::<Vec<_>>()
        };
        let one = digests(1);
        assert_eq!(one.iter().map(|(seed, _)| *seed).collect::<Vec<_>>(), [10, 11, 12, 13, 14, 15]);
        assert_eq!(one, digests(2));
        assert_eq!(one, digests(4));
    }

    /// Goal: items run scenario by scenario, each scenario's seeds in increasing order.
    #[test]
    fn items_enumerate_scenarios_then_seeds() {
        let selected = SelectedSeeds::new(100..108, Shard::new(2, 3).expect("valid"));
        assert_eq!(items_count(2, selected.len()), 6);
        let items: Vec<(usize, u64)> = (0..6).map(|index| item(&selected, index)).collect();
        assert_eq!(items, [(0, 101), (0, 104), (0, 107), (1, 101), (1, 104), (1, 107)]);
    }

    /// Goal: failing seeds keep their plan so a repro can be written; passing ones do not.
    #[test]
    fn only_failing_seeds_keep_their_plan() {
        let scenarios = tiny_scenarios();
        let options = SweepOptions { sabotage: Some(Sabotage::NeverHeal), ..Default::default() };
        let result = run_sweep(&scenarios, 0..2, &options);
        for seed in &result.seeds {
            assert_eq!(seed.plan.is_some(), !seed.passed(), "seed {}", seed.seed);
        }
        assert!(result.failed_count() > 0, "client 1 never healing must fail some check");
    }
}
