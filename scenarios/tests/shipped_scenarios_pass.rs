//! Every shipped scenario passes every checker for a handful of seeds, and runs the same way
//! twice: the same seed gives the same trace digest.

use std::path::PathBuf;

use driftsync_sim::engine::{RunOptions, run};
use driftsync_sim::plan::plan;
use driftsync_sim::scenario::{Scenario, load_scenarios};
use driftsync_sim::seed::Seed;

/// Seeds per scenario in the test suite; the README's sweep runs hundreds.
const SEEDS: u64 = 3;

fn shipped() -> Vec<Scenario> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    load_scenarios(&[dir]).expect("every shipped scenario file is valid")
}

#[test]
fn the_required_scenarios_are_shipped() {
    let names: Vec<String> = shipped().into_iter().map(|s| s.spec.name).collect();
    for required in [
        "standard",
        "partition-heal",
        "long-offline",
        "clock-chaos",
        "flaky-network",
        "crash-restart",
        "conflict-storm",
        "tombstone-gc",
        "tombstone-expiry",
        "extreme",
        "fresh-installs",
        "reconnect-herd",
        "rolling-upgrade",
        "server-ahead",
        "client-ahead",
        "rollback",
        "invalid-payloads",
        "damaged-wire",
        "quarantine-restart",
        "big-resync",
        "refused-versions",
    ] {
        assert!(names.iter().any(|n| n == required), "{required} is missing from {names:?}");
    }
}

#[test]
fn every_shipped_scenario_passes_a_handful_of_seeds() {
    for scenario in shipped() {
        for seed in 0..SEEDS {
            let outcome = run(&plan(&scenario.spec, Seed(seed)), &RunOptions::default());
            assert!(
                outcome.passed(),
                "{} seed {seed} failed:\n{}",
                scenario.spec.name,
                outcome.failures.iter().map(|f| format!("  {f}\n")).collect::<String>()
            );
            assert!(outcome.converged_at_ms.is_some());
            assert!(outcome.stats.writes_committed > 0, "{} wrote nothing", scenario.spec.name);
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_digest_and_another_seed_does_not() {
    for scenario in shipped() {
        let first = run(&plan(&scenario.spec, Seed(7)), &RunOptions::default());
        let again = run(&plan(&scenario.spec, Seed(7)), &RunOptions::default());
        let other = run(&plan(&scenario.spec, Seed(8)), &RunOptions::default());
        assert_eq!(first.digest, again.digest, "{} is not deterministic", scenario.spec.name);
        assert_eq!(first.events, again.events);
        assert_ne!(first.digest, other.digest, "{}: seeds 7 and 8 ran alike", scenario.spec.name);
    }
}

#[test]
fn the_faults_a_scenario_asks_for_actually_fire() {
    let fired = |name: &str, fault: &str| {
        let scenario = shipped().into_iter().find(|s| s.spec.name == name).expect("shipped");
        (0..SEEDS).any(|seed| {
            let outcome = run(&plan(&scenario.spec, Seed(seed)), &RunOptions::default());
            outcome.stats.faults_fired.get(fault).copied().unwrap_or(0) > 0
        })
    };
    assert!(fired("partition-heal", "partition"));
    assert!(fired("crash-restart", "crash"));
    assert!(fired("long-offline", "offline"));
    assert!(fired("clock-chaos", "clock-jump"));
    assert!(fired("reconnect-herd", "offline"));
    assert!(fired("rolling-upgrade", "upgrade"));
    assert!(fired("rolling-upgrade", "server-versions"));
    assert!(fired("rollback", "server-versions"));
    assert!(fired("damaged-wire", "damaged-message"));
    assert!(fired("damaged-wire", "commit-failure"));
    let standard = shipped().into_iter().find(|s| s.spec.name == "standard").expect("shipped");
    let outcome = run(&plan(&standard.spec, Seed(1)), &RunOptions::default());
    assert!(outcome.stats.messages_lost > 0 && outcome.stats.messages_duplicated > 0);
}

/// Goal: the schema scenarios exercise what they are named for: mixed versions translate ops
/// both ways, and injected invalid payloads are each quarantined.
#[test]
fn schema_scenarios_migrate_ops_and_quarantine_what_was_injected() {
    let outcome_of = |name: &str| {
        let scenario = shipped().into_iter().find(|s| s.spec.name == name).expect("shipped");
        run(&plan(&scenario.spec, Seed(1)), &RunOptions::default())
    };
    for name in ["standard", "server-ahead", "client-ahead", "rollback", "rolling-upgrade"] {
        let stats = outcome_of(name).stats;
        assert!(stats.ops_migrated_up > 0, "{name} migrated nothing up");
        assert!(stats.ops_migrated_down > 0, "{name} migrated nothing down");
    }
    let stats = outcome_of("invalid-payloads").stats;
    assert!(stats.invalid_payloads_injected > 0);
    let invalid = stats.quarantined_by_reason.get("invalid").copied().unwrap_or(0);
    // Each injected op is quarantined by the server, and again by its writer on the ack.
    assert!(
        invalid >= stats.invalid_payloads_injected,
        "{invalid} < {}",
        stats.invalid_payloads_injected
    );
}

#[test]
fn a_herd_returning_together_reconnects_spread_out_by_backoff_jitter() {
    let scenario =
        shipped().into_iter().find(|s| s.spec.name == "reconnect-herd").expect("shipped");
    let run_plan = plan(&scenario.spec, Seed(0));
    let returned_ms = run_plan
        .faults
        .iter()
        .filter(|f| matches!(f.fault, driftsync_sim::plan::Fault::Online { .. }))
        .map(|f| f.at_ms)
        .min()
        .expect("the herd goes offline and comes back");
    let outcome = run(&run_plan, &RunOptions::default());
    assert!(outcome.passed(), "{:?}", outcome.failures);
    let clients = run_plan.params.clients as usize;
    let back: Vec<u64> =
        outcome.connects_ms.iter().copied().filter(|at| *at >= returned_ms).take(clients).collect();
    assert_eq!(back.len(), clients, "every client reconnected");
    let distinct: std::collections::BTreeSet<u64> = back.iter().copied().collect();
    let spread_ms = back.iter().max().expect("non-empty") - back.iter().min().expect("non-empty");
    assert!(distinct.len() > clients * 3 / 4, "reconnects bunched: {back:?}");
    assert!(spread_ms >= 5_000, "reconnects spread over only {spread_ms} ms: {back:?}");
}

/// Seeds that once failed, kept as regressions: 1008 and 1135 of `standard` caught clients
/// dropping tombstones the server still held, so an older op pulled later showed through.
#[test]
fn seeds_that_once_failed_pass() {
    let standard = shipped().into_iter().find(|s| s.spec.name == "standard").expect("shipped");
    for seed in [1008, 1135] {
        let outcome = run(&plan(&standard.spec, Seed(seed)), &RunOptions::default());
        assert!(outcome.passed(), "standard seed {seed}: {:?}", outcome.failures);
    }
}

/// The path scenarios reach the situations they are written for, which no other scenario does:
/// a server restarting while it holds quarantined ops, a client crashing in the middle of a
/// resync of many snapshot pages, and refused clients upgrading.
#[test]
fn the_path_scenarios_reach_the_situations_they_are_written_for() {
    let reaches = |name: &str, situation: &str| {
        let scenario = shipped().into_iter().find(|s| s.spec.name == name).expect("shipped");
        (0..40).any(|seed| {
            let outcome = run(&plan(&scenario.spec, Seed(seed)), &RunOptions::default());
            outcome.stats.faults_fired.get(situation).copied().unwrap_or(0) > 0
        })
    };
    assert!(reaches("quarantine-restart", "restart (server holding quarantined ops)"));
    assert!(reaches("big-resync", "crash (mid-resync)"));
    let scenario =
        shipped().into_iter().find(|s| s.spec.name == "refused-versions").expect("shipped");
    let outcome = run(&plan(&scenario.spec, Seed(0)), &RunOptions::default());
    assert!(outcome.stats.faults_fired.get("upgrade").copied().unwrap_or(0) > 0);
}
