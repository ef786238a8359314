//! Every checker catches the failure it is named for: each test plants a broken replica (a
//! test-only sabotage switch) and expects that checker in the failures, while the same plans
//! without the sabotage pass.

use std::path::Path;

use driftsync_sim::engine::{RunOptions, Sabotage, run};
use driftsync_sim::outcome::{Checker, Outcome};
use driftsync_sim::plan::plan;
use driftsync_sim::scenario::ScenarioSpec;
use driftsync_sim::seed::Seed;

mod common;
use common::planted::*;

fn outcomes(scenario: &str, sabotage: Option<Sabotage>, seeds: u64) -> Vec<Outcome> {
    outcomes_with(scenario, &RunOptions { sabotage, ..RunOptions::default() }, seeds)
}

fn outcomes_with(scenario: &str, options: &RunOptions, seeds: u64) -> Vec<Outcome> {
    let spec = ScenarioSpec::from_toml_str(Path::new("teeth.toml"), scenario)
        .unwrap_or_else(|error| panic!("the test scenario is invalid: {error}"));
    (0..seeds).map(|seed| run(&plan(&spec, Seed(seed)), options)).collect()
}

/// Asserts the scenario passes untouched, and that with the sabotage some seed fails `name`.
fn caught_by(name: Checker, scenario: &str, sabotage: Sabotage, seeds: u64) {
    caught_naming(name, scenario, sabotage, seeds, &[]);
}

/// As `caught_by`, and the failure's node and detail (which names the invariant and the event)
/// contain every one of `naming`.
fn caught_naming(name: Checker, scenario: &str, sabotage: Sabotage, seeds: u64, naming: &[&str]) {
    for outcome in outcomes(scenario, None, seeds) {
        assert!(
            outcome.passed(),
            "seed {} fails without sabotage: {:?}",
            outcome.seed,
            outcome.failures
        );
    }
    let sabotaged = outcomes(scenario, Some(sabotage), seeds);
    let names = |f: &driftsync_sim::outcome::Failure| {
        let text = format!("{} {}", f.node.as_deref().unwrap_or(""), f.detail);
        naming.iter().all(|needle| text.contains(needle))
    };
    let caught = sabotaged.iter().any(|o| o.failures.iter().any(|f| f.checker == name && names(f)));
    let seen: Vec<_> = sabotaged
        .iter()
        .flat_map(|o| o.failures.iter().map(|f| format!("{}: {}", f.checker, f.detail)))
        .collect();
    assert!(caught, "{sabotage:?} was not caught by {name}; failures: {seen:?}");
}

#[test]
fn convergence_catches_a_client_that_skips_a_pulled_op() {
    caught_by(Checker::Convergence, SPREAD, Sabotage::DropPulledOp, 1);
}

#[test]
fn oracle_catches_a_value_changed_on_its_way_to_the_server() {
    caught_by(Checker::Oracle, SPREAD, Sabotage::AlterPushedValue, 1);
}

#[test]
fn oracle_catches_a_store_that_loses_an_acknowledged_commit_everywhere_at_once() {
    caught_by(Checker::Oracle, CRASHY, Sabotage::ForgetLastCommitOnCrash, 4);
}

#[test]
fn no_resurrection_catches_a_delete_that_never_reaches_the_server() {
    caught_by(Checker::NoResurrection, DELETY, Sabotage::DropPushedDelete, 4);
}

#[test]
fn stability_catches_a_state_that_still_changes_after_convergence() {
    caught_by(Checker::Stability, CALM, Sabotage::WriteDuringStability, 1);
}

#[test]
fn monotonic_catches_a_cursor_that_goes_back_after_a_restart() {
    caught_by(Checker::Monotonic, CRASHY, Sabotage::WipeStoreOnRestart, 4);
}

#[test]
fn liveness_catches_a_client_that_never_comes_back() {
    caught_by(Checker::Liveness, CALM, Sabotage::NeverHeal, 1);
}

#[test]
fn quarantine_accounted_catches_a_quarantine_the_run_does_not_explain() {
    caught_by(Checker::QuarantineAccounted, CALM, Sabotage::CorruptPushedType, 1);
}

#[test]
fn no_field_loss_catches_a_migration_that_lets_old_edits_overwrite_a_newer_field() {
    caught_by(Checker::NoFieldLoss, MIXED, Sabotage::BrokenMigration, 2);
}

#[test]
fn outbox_survives_upgrade_catches_an_upgrade_that_loses_queued_writes() {
    caught_by(Checker::OutboxSurvivesUpgrade, READ_ONLY, Sabotage::LoseOutboxOnUpgrade, 2);
}

#[test]
fn quarantine_justified_catches_a_server_that_forgets_deletes_its_windows_promise_to_keep() {
    caught_by(Checker::QuarantineJustified, AWAY, Sabotage::ForgetfulServer, 4);
}

#[test]
fn invariant_catches_a_misplaced_tombstone_at_the_push_that_misplaced_it() {
    let naming = ["server", "`tombstone_positions`", "after the delivery of push from client-"];
    caught_naming(Checker::Invariant, DELETY, Sabotage::MisplacedTombstone, 2, &naming);
}

#[test]
fn invariant_catches_a_server_that_acknowledges_a_failed_commit() {
    let naming = ["server", "`no_ack_without_commit`", "after the delivery of push from client-"];
    caught_naming(Checker::Invariant, FAILING_DISK, Sabotage::AckFailedCommit, 8, &naming);
}

#[test]
fn damage_refused_catches_a_client_that_applies_a_batch_without_its_manifest() {
    let naming = ["client-1", "damaged in transit from server was applied"];
    caught_naming(Checker::DamageRefused, DAMAGED, Sabotage::SkipManifestCheck, 4, &naming);
}

#[test]
fn herd_spread_catches_clients_whose_backoff_has_no_jitter_of_its_own() {
    caught_naming(Checker::HerdSpread, HERD, Sabotage::SameJitterSeed, 2, &["reconnected"]);
}

#[test]
fn invariant_catches_a_compaction_past_a_cursor_at_the_pass_that_compacted() {
    let naming = ["server", "`compaction_behind_cursors`", "after a timer of server"];
    caught_naming(Checker::Invariant, CALM, Sabotage::CompactionPastCursor, 2, &naming);
}

/// The end-of-run checkers cannot see this slip (the overtaken client resyncs and nothing is
/// lost), which is why the invariants run; and `check_invariants: false` really turns them off.
#[test]
fn without_the_invariants_a_compaction_past_a_cursor_passes_every_other_checker() {
    let sabotage = Some(Sabotage::CompactionPastCursor);
    let options = RunOptions { sabotage, check_invariants: false, ..RunOptions::default() };
    for outcome in outcomes_with(CALM, &options, 2) {
        assert!(outcome.passed(), "seed {}: {:?}", outcome.seed, outcome.failures);
    }
}

/// The oracle also runs at every server commit, so the failure names the push that carried the
/// altered value, not only the record that differs at the end.
#[test]
fn oracle_catches_a_value_changed_on_its_way_at_the_push_that_carried_it() {
    let naming = ["server", "reference merge of the ops it accepted", "after the delivery of push"];
    caught_naming(Checker::Oracle, SPREAD, Sabotage::AlterPushedValue, 1, &naming);
}

/// A delete rewritten into an update leaves the server holding what the delete hid: the oracle
/// finds it at the push that delivered the rewrite, and `no_resurrection` at the push after
/// which the server shows it.
#[test]
fn oracle_catches_a_lost_delete_at_the_push_that_lost_it() {
    let naming = ["server", "reference merge of the ops it accepted", "after the delivery of push"];
    caught_naming(Checker::Oracle, DELETY, Sabotage::DropPushedDelete, 4, &naming);
}

#[test]
fn no_resurrection_catches_a_lost_delete_at_the_push_that_shows_it() {
    let naming = ["server", "delete at", "after the delivery of push from client-1"];
    caught_naming(Checker::NoResurrection, DELETY, Sabotage::DropPushedDelete, 4, &naming);
}

/// A cursor that goes back names the event after which it did: the restart from a wiped store.
#[test]
fn monotonic_catches_a_cursor_that_goes_back_at_the_restart_that_lost_it() {
    let naming = ["client-1", "cursor went from", "after planned fault #"];
    caught_naming(Checker::Monotonic, CRASHY, Sabotage::WipeStoreOnRestart, 4, &naming);
}

#[test]
fn no_unauthorized_access_catches_a_server_that_admits_a_forged_token() {
    let naming = ["forged-token attack", "admitted"];
    caught_naming(Checker::NoUnauthorizedAccess, HOSTILE, Sabotage::AcceptAnyToken, 1, &naming);
}

#[test]
fn no_unauthorized_access_catches_a_server_that_applies_a_write_outside_its_scope() {
    let naming = ["out-of-scope attack", "applied op"];
    let sabotage = Sabotage::IgnoreWriteScope;
    caught_naming(Checker::NoUnauthorizedAccess, HOSTILE, sabotage, 1, &naming);
}

#[test]
fn no_unauthorized_access_catches_a_server_that_shows_records_outside_the_read_scope() {
    let naming = ["out-of-scope attack", "outside the peer's read scope"];
    let sabotage = Sabotage::IgnoreReadScope;
    caught_naming(Checker::NoUnauthorizedAccess, HOSTILE, sabotage, 1, &naming);
}

#[test]
fn audit_trail_catches_a_server_whose_trail_names_the_wrong_writer() {
    let naming = ["audited as anonymous, not user-"];
    let sabotage = Sabotage::MisattributedAudit;
    caught_naming(Checker::AuditTrail, HOSTILE, sabotage, 1, &naming);
}

/// Every attempt of every kind is counted, and every one refused: the rates the README states.
#[test]
fn every_hostile_attempt_is_counted_and_refused() {
    for outcome in outcomes(HOSTILE, None, 3) {
        let fired = &outcome.stats.faults_fired;
        for kind in ["forged-token", "expired-token", "stolen-token", "out-of-scope", "replay"] {
            let attempts = fired.get(kind).copied().unwrap_or(0);
            let refused = fired.get(&format!("{kind}-refused")).copied().unwrap_or(0);
            assert_eq!(attempts, 1, "seed {}: {kind}: {fired:?}", outcome.seed);
            assert_eq!(refused, attempts, "seed {}: {kind}: {fired:?}", outcome.seed);
        }
        assert!(fired.get("token-refreshed").is_some_and(|n| *n > 0), "{fired:?}");
    }
}
