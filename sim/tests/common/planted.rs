//! The small scenarios the planted-bug tests run, and which planted bug each checker is shown
//! to catch on which of them (`checkers_have_teeth.rs`), which `shrink.rs` also shrinks.

use driftsync_sim::engine::Sabotage;
use driftsync_sim::outcome::Checker;

/// Three clients writing to a few shared records over a clean network.
pub const CALM: &str = r#"
name = "calm"
[topology]
clients = 3
[workload]
writes_per_client = 40
records = 4
mix = { put = 0.5, update = 0.3, delete = 0.1, increment = 0.1 }
writes_per_sec = 2
[network]
latency_ms = [5, 50]
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// Three clients writing to many records: a wrong value is rarely overwritten.
pub const SPREAD: &str = r#"
name = "spread"
[topology]
clients = 3
[workload]
writes_per_client = 40
records = 1000
writes_per_sec = 2
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// Clients that write while offline and crash without pushing.
pub const CRASHY: &str = r#"
name = "crashy"
[topology]
clients = 2
[workload]
writes_per_client = 60
records = 4
writes_per_sec = 5
[faults]
offline = { fraction = 1.0, duration_s = [50, 55] }
crashes = { count = [4, 4], server = false }
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// Few records and many deletes, so a lost delete leaves something visible.
pub const DELETY: &str = r#"
name = "delety"
[topology]
clients = 2
[workload]
writes_per_client = 40
records = 10
mix = { put = 0.5, update = 0.1, delete = 0.4, increment = 0.0 }
writes_per_sec = 2
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// v1 and v2 clients editing a few records on a v2 server: old clients' edits and newer fields
/// meet on every record.
pub const MIXED: &str = r#"
name = "mixed"
[topology]
clients = 4
[workload]
writes_per_client = 40
records = 4
mix = { put = 0.3, update = 0.7, delete = 0.0, increment = 0.0 }
writes_per_sec = 2
[schema]
client_versions = [1, 2]
server = [{ at_s = 0, newest = 2, writable_from = 1, readable_from = 1 }]
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// v1 clients on a server that made v1 read-only: they queue writes until they upgrade.
pub const READ_ONLY: &str = r#"
name = "read-only"
[topology]
clients = 2
[workload]
writes_per_client = 40
records = 10
writes_per_sec = 2
[schema]
client_versions = 1
upgrade_probability = 1.0
server = [{ at_s = 0, newest = 2, writable_from = 2, readable_from = 1 }]
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// Deletes on a few records while one client edits them offline for half a minute.
pub const AWAY: &str = r#"
name = "away"
[topology]
clients = 3
[workload]
writes_per_client = 60
records = 6
mix = { put = 0.4, update = 0.2, delete = 0.4, increment = 0.0 }
writes_per_sec = 2
[faults]
offline = { fraction = 0.34, duration_s = [20, 30] }
[server]
gc_interval_s = 1
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// Deletes on a few records, with the server among the nodes whose commits fail.
pub const FAILING_DISK: &str = r#"
name = "failing-disk"
[topology]
clients = 2
[workload]
writes_per_client = 60
records = 6
mix = { put = 0.4, update = 0.3, delete = 0.3, increment = 0.0 }
writes_per_sec = 4
[faults]
storage = { commit_failures = [8, 8], commits_per_failure = [1, 2] }
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// Messages often damaged on their way.
pub const DAMAGED: &str = r#"
name = "damaged"
[topology]
clients = 3
[workload]
writes_per_client = 40
records = 10
writes_per_sec = 2
[network]
corrupt = 0.2
[run]
chaos_s = 60
liveness_deadline_s = 300
"#;

/// Twenty clients away together for a minute, returning at one instant.
pub const HERD: &str = r#"
name = "herd"
[topology]
clients = 20
[workload]
writes_per_client = 4
records = 20
writes_per_sec = 0.2
[faults]
offline = { fraction = 1.0, duration_s = [60, 70], together = true }
[run]
chaos_s = 100
liveness_deadline_s = 600
"#;

/// Honest clients whose tokens expire a second after issue (a minute with the skew allowance)
/// and who go offline, so they come back with expired tokens; and one attempt of every hostile
/// kind, on a clean network.
pub const HOSTILE: &str = r#"
name = "hostile"
[topology]
clients = 3
[workload]
writes_per_client = 40
records = 10
writes_per_sec = 1
[faults]
offline = { fraction = 1.0, duration_s = [20, 30] }
[security]
tokens = true
token_ttl_s = 1
hostile = ["forged-token", "expired-token", "stolen-token", "out-of-scope", "replay"]
attacks = 1
[run]
chaos_s = 120
liveness_deadline_s = 300
"#;

/// A planted bug, the scenario it is planted in, how many seeds (from 0) to try, and the
/// checker that must catch it.
pub struct Planted {
    pub checker: Checker,
    pub scenario: &'static str,
    pub sabotage: Sabotage,
    pub seeds: u64,
}

const fn planted(
    checker: Checker,
    scenario: &'static str,
    sabotage: Sabotage,
    seeds: u64,
) -> Planted {
    Planted { checker, scenario, sabotage, seeds }
}

/// Every planted bug of `checkers_have_teeth.rs`, once per checker and sabotage.
pub const PLANTED: [Planted; 21] = [
    planted(Checker::Convergence, SPREAD, Sabotage::DropPulledOp, 1),
    planted(Checker::Oracle, SPREAD, Sabotage::AlterPushedValue, 1),
    planted(Checker::Oracle, CRASHY, Sabotage::ForgetLastCommitOnCrash, 4),
    planted(Checker::Oracle, DELETY, Sabotage::DropPushedDelete, 4),
    planted(Checker::NoResurrection, DELETY, Sabotage::DropPushedDelete, 4),
    planted(Checker::Stability, CALM, Sabotage::WriteDuringStability, 1),
    planted(Checker::Monotonic, CRASHY, Sabotage::WipeStoreOnRestart, 4),
    planted(Checker::Liveness, CALM, Sabotage::NeverHeal, 1),
    planted(Checker::QuarantineAccounted, CALM, Sabotage::CorruptPushedType, 1),
    planted(Checker::NoFieldLoss, MIXED, Sabotage::BrokenMigration, 2),
    planted(Checker::OutboxSurvivesUpgrade, READ_ONLY, Sabotage::LoseOutboxOnUpgrade, 2),
    planted(Checker::QuarantineJustified, AWAY, Sabotage::ForgetfulServer, 4),
    planted(Checker::Invariant, DELETY, Sabotage::MisplacedTombstone, 2),
    planted(Checker::Invariant, FAILING_DISK, Sabotage::AckFailedCommit, 8),
    planted(Checker::Invariant, CALM, Sabotage::CompactionPastCursor, 2),
    planted(Checker::DamageRefused, DAMAGED, Sabotage::SkipManifestCheck, 4),
    planted(Checker::HerdSpread, HERD, Sabotage::SameJitterSeed, 2),
    planted(Checker::NoUnauthorizedAccess, HOSTILE, Sabotage::AcceptAnyToken, 1),
    planted(Checker::NoUnauthorizedAccess, HOSTILE, Sabotage::IgnoreWriteScope, 1),
    planted(Checker::NoUnauthorizedAccess, HOSTILE, Sabotage::IgnoreReadScope, 1),
    planted(Checker::AuditTrail, HOSTILE, Sabotage::MisattributedAudit, 1),
];
