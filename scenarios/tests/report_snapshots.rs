//! The deterministic part of the report of a fixed seed of every shipped scenario, as reviewed
//! insta snapshots: percentiles in simulated time, counters, hotspots and the trace digest. A
//! change in the core's behaviour shows up here as a snapshot diff to read and accept (or not).

use std::path::{Path, PathBuf};

use driftsync_sim::engine::{RunOptions, Sabotage, run};
use driftsync_sim::outcome::Outcome;
use driftsync_sim::plan::plan;
use driftsync_sim::report::summary::{ScenarioSummary, ScenarioTotals};
use driftsync_sim::scenario::{Scenario, load_scenarios};
use driftsync_sim::seed::Seed;
use serde_json::{Value, json};

/// The seed every scenario is snapshotted at.
const SEED: u64 = 0;

fn shipped() -> Vec<Scenario> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    load_scenarios(&[dir]).expect("every shipped scenario file is valid")
}

/// The report of one outcome, without buckets (percentiles say the same, far shorter) and with
/// the scenario path as the repository names it, not as this machine does.
fn deterministic_report(scenario: &Scenario, outcome: &Outcome, replay: Option<String>) -> Value {
    let file = scenario.path.file_name().map(Path::new).unwrap_or(&scenario.path);
    let path = Path::new("scenarios").join(file).display().to_string();
    let mut totals = ScenarioTotals::new(&scenario.spec.name, &path);
    totals.add(outcome, replay);
    let summary: ScenarioSummary = totals.summary();
    let percentiles: serde_json::Map<String, Value> = summary
        .distributions
        .iter()
        .map(|(key, d)| {
            let figures = json!({
                "count": d.count, "min": d.min, "p50": d.p50, "p90": d.p90,
                "p99": d.p99, "p99_9": d.p99_9, "max": d.max,
            });
            (key.clone(), figures)
        })
        .collect();
    let mut hottest: Vec<(&String, &u64)> = summary.conflicts_by_record.iter().collect();
    hottest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    hottest.truncate(5);
    json!({
        "scenario": summary.name,
        "path": summary.path,
        "seed": outcome.seed,
        "digest": outcome.digest,
        "passed": summary.passed,
        "failed": summary.failed,
        "failing_seeds": summary.failing_seeds,
        "percentiles": percentiles,
        "counters": summary.counters,
        "hotspots": hottest,
    })
}

/// Goal: every shipped scenario's report at a fixed seed is exactly the reviewed one.
#[test]
fn the_report_of_a_fixed_seed_of_every_shipped_scenario_matches_its_snapshot() {
    for scenario in shipped() {
        let outcome = run(&plan(&scenario.spec, Seed(SEED)), &RunOptions::default());
        let report = deterministic_report(&scenario, &outcome, None);
        insta::assert_json_snapshot!(format!("report-{}-seed-{SEED}", scenario.spec.name), report);
    }
}

/// Goal: the report of a failing seed (client 1 never heals) names the failures and the
/// replay command, and is as deterministic as a passing one.
#[test]
fn the_report_of_a_failing_seed_matches_its_snapshot() {
    let scenario =
        shipped().into_iter().find(|s| s.spec.name == "partition-heal").expect("shipped");
    let options = RunOptions { sabotage: Some(Sabotage::NeverHeal), ..RunOptions::default() };
    let outcome = run(&plan(&scenario.spec, Seed(SEED)), &options);
    assert!(!outcome.passed(), "a client that never heals must fail a checker");
    let replay = "cargo run --release -p driftsync-sim -- replay reports/repro-example.json";
    let report = deterministic_report(&scenario, &outcome, Some(replay.to_owned()));
    insta::assert_json_snapshot!("report-partition-heal-never-heal", report);
}
