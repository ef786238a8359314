//! `shrink` on every planted bug of `checkers_have_teeth.rs`, and on planted bugs in the default
//! CI scenario: the same checker still fails, the run gets small, and the same input gives the
//! same result.

use std::path::Path;

use driftsync_sim::engine::{RunOptions, Sabotage, run};
use driftsync_sim::outcome::{Checker, Outcome};
use driftsync_sim::plan::{Plan, plan};
use driftsync_sim::runner::progress::Stopwatch;
use driftsync_sim::scenario::ScenarioSpec;
use driftsync_sim::seed::Seed;
use driftsync_sim::shrink::{Budget, Shrunk, Size, shrink};

mod common;
use common::planted::{PLANTED, Planted};

/// The bound on a shrunk planted failure.
const FAULTS_MAX: usize = 10;
const WRITES_MAX: usize = 50;

/// A bound by runs, not time, so the tests get the same result on any machine.
const BUDGET: Budget = Budget { wall: None, runs_max: 3_000 };

/// The first of `seeds` seeds at which `sabotage` fails `checker`, with its plan and outcome.
fn first_failure(
    scenario: &str,
    sabotage: Sabotage,
    checker: Checker,
    seeds: u64,
) -> (Plan, Outcome) {
    let spec = ScenarioSpec::from_toml_str(Path::new("planted.toml"), scenario)
        .unwrap_or_else(|error| panic!("the test scenario is invalid: {error}"));
    let options = RunOptions { sabotage: Some(sabotage), ..RunOptions::default() };
    (0..seeds)
        .map(|seed| plan(&spec, Seed(seed)))
        .map(|plan| {
            let outcome = run(&plan, &options);
            (plan, outcome)
        })
        .find(|(_, outcome)| outcome.failures.iter().any(|f| f.checker == checker))
        .unwrap_or_else(|| panic!("{sabotage:?} is not caught by {checker}"))
}

fn shrunk(plan: &Plan, sabotage: Sabotage, checker: Checker) -> Shrunk {
    shrink(plan, Some(sabotage), Some(checker), BUDGET, &mut |_, _| {})
        .unwrap_or_else(|error| panic!("{sabotage:?}: {error}"))
}

/// Asserts what a shrink promises, and returns a line for the measurements.
fn assert_shrunk(plan: &Plan, sabotage: Sabotage, checker: Checker) -> String {
    let stopwatch = Stopwatch::start();
    let shrunk = shrunk(plan, sabotage, checker);
    let seconds = stopwatch.elapsed().as_secs_f64();
    let (before, after) = (Size::of(plan), Size::of(&shrunk.plan));
    let line = format!(
        "{sabotage:?} / {checker}: {before} -> {after}, {} runs, {seconds:.2} s",
        shrunk.runs
    );
    assert!(shrunk.outcome.failures.iter().any(|f| f.checker == checker), "{line}");
    assert!(after.faults <= FAULTS_MAX && after.writes <= WRITES_MAX, "{line}");
    assert!(shrunk.minimal, "the run budget ran out: {line}");
    // What the shrinker kept, run again from scratch, still fails as it says.
    let rerun =
        run(&shrunk.plan, &RunOptions { sabotage: Some(sabotage), ..RunOptions::default() });
    assert_eq!(rerun.digest, shrunk.outcome.digest, "{line}");
    line
}

/// Goal: every failure a planted bug causes shrinks to at most ten faults and fifty writes,
/// still failing its checker. `--nocapture` shows the sizes before and after.
#[test]
fn every_planted_failure_shrinks_to_few_faults_and_writes_failing_the_same_checker() {
    for Planted { checker, scenario, sabotage, seeds } in &PLANTED {
        let (plan, _) = first_failure(scenario, *sabotage, *checker, *seeds);
        let line = assert_shrunk(&plan, *sabotage, *checker);
        // The sizes before and after are this test's measurement (`--nocapture`).
        #[allow(clippy::print_stderr)]
        {
            eprintln!("{line}");
        }
    }
}

/// Goal: planted bugs in the harshest shipped scenario (nine clients, 2,700 writes, every kind
/// of fault, most clients offline from install) shrink as small.
#[test]
fn planted_failures_in_the_extreme_scenario_shrink_to_few_faults_and_writes() {
    let scenario = include_str!("../../scenarios/extreme.toml");
    for (sabotage, checker) in [
        (Sabotage::AlterPushedValue, Checker::Oracle),
        (Sabotage::DropPushedDelete, Checker::NoResurrection),
        (Sabotage::WipeStoreOnRestart, Checker::Monotonic),
    ] {
        let (plan, _) = first_failure(scenario, sabotage, checker, 8);
        assert!(Size::of(&plan).faults > FAULTS_MAX, "a harsh start: {}", Size::of(&plan));
        let line = assert_shrunk(&plan, sabotage, checker);
        #[allow(clippy::print_stderr)]
        {
            eprintln!("{line}");
        }
    }
}

/// Goal: the same failure shrinks to the same plan every time.
#[test]
fn shrinking_the_same_failure_twice_gives_the_same_plan() {
    let planted = &PLANTED[2];
    let (plan, _) =
        first_failure(planted.scenario, planted.sabotage, planted.checker, planted.seeds);
    let first = shrunk(&plan, planted.sabotage, planted.checker);
    let second = shrunk(&plan, planted.sabotage, planted.checker);
    assert_eq!(first.plan, second.plan);
    assert_eq!((first.runs, &first.outcome.digest), (second.runs, &second.outcome.digest));
}

/// Goal: a run budget stops the search and still returns a failing plan, no larger than the
/// original.
#[test]
fn a_spent_budget_returns_the_smallest_failing_plan_found_so_far() {
    let scenario = include_str!("../../scenarios/standard.toml");
    let (plan, _) = first_failure(scenario, Sabotage::AlterPushedValue, Checker::Oracle, 8);
    let budget = Budget { wall: None, runs_max: 5 };
    let mut heard = Vec::new();
    let shrunk = shrink(
        &plan,
        Some(Sabotage::AlterPushedValue),
        Some(Checker::Oracle),
        budget,
        &mut |size, runs| heard.push((size, runs)),
    )
    .expect("the failure reproduces");
    assert!(!shrunk.minimal);
    assert_eq!(shrunk.runs, 5);
    assert!(shrunk.outcome.failures.iter().any(|f| f.checker == Checker::Oracle));
    assert!(Size::of(&shrunk.plan).writes <= Size::of(&plan).writes);
    assert_eq!(
        heard.last().map(|(size, _)| *size),
        Some(Size::of(&shrunk.plan)).filter(|_| !heard.is_empty())
    );
}

/// Goal: a plan that passes is refused: there is no failure to keep.
#[test]
fn a_passing_plan_is_not_shrunk() {
    let planted = &PLANTED[0];
    let (plan, _) =
        first_failure(planted.scenario, planted.sabotage, planted.checker, planted.seeds);
    let error = shrink(&plan, None, Some(planted.checker), BUDGET, &mut |_, _| {})
        .expect_err("without its sabotage the plan passes");
    assert!(error.to_string().contains("no longer fails"), "{error}");
    assert!(shrink(&plan, None, None, BUDGET, &mut |_, _| {}).is_err());
}
