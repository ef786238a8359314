//! Coverage: which faults and which of the core's marked situations each seed went through,
//! counted over a sweep as the seeds that hit each (`seeds_covering` among a scenario's
//! counters), and the ones a scenario requires, so a scenario that quietly stopped testing
//! what it was written for fails its sweep (`--require-coverage`, or `[coverage] enforce`).

use std::collections::BTreeSet;

use driftsync_core::Mark;
use serde_json::{Map, Value};

use crate::outcome::Outcome;
use crate::scenario::ScenarioSpec;

/// The counter that holds, per fault or mark name, how many seeds hit it.
pub const SEEDS_COVERING: &str = "seeds_covering";

/// Every fault and mark one seed went through, by name.
pub fn seen(outcome: &Outcome) -> BTreeSet<String> {
    let stats = &outcome.stats;
    let faults = stats.faults_fired.iter().filter(|(_, count)| **count > 0).map(|(k, _)| k);
    let marks = stats.server.marks.iter().chain(&stats.clients.marks);
    let marks = marks.filter(|(_, count)| **count > 0).map(|(k, _)| k);
    faults.chain(marks).cloned().collect()
}

/// The `seeds_covering` counter of one seed: 1 for everything it went through.
pub fn seed_counter(outcome: &Outcome) -> Value {
    let map: Map<String, Value> = seen(outcome).into_iter().map(|name| (name, 1.into())).collect();
    Value::Object(map)
}

/// What a scenario must go through in some seed of a sweep: every kind of fault it turns on,
/// and the faults and marks its `[coverage] require` names.
pub fn required(spec: &ScenarioSpec) -> Vec<String> {
    let faults = &spec.faults;
    let mut required: BTreeSet<String> = BTreeSet::new();
    let mut need = |on: bool, name: &str| {
        if on {
            required.insert(name.to_owned());
        }
    };
    need(faults.partitions.as_ref().is_some_and(|p| p.count.hi() > 0), "partition");
    need(faults.offline.as_ref().is_some_and(|o| o.fraction.hi() > 0.0), "offline");
    need(faults.crashes.as_ref().is_some_and(|c| c.count.hi() > 0), "crash");
    need(faults.clocks.as_ref().is_some_and(|c| c.jumps.hi() > 0), "clock-jump");
    let failures = faults.storage.as_ref().is_some_and(|s| s.commit_failures.hi() > 0);
    need(failures, "commit-failure");
    need(spec.schema.server.len() > 1, "server-versions");
    need(spec.network.corrupt.hi() > 0.0, "damaged-message");
    for kind in &spec.security.hostile {
        need(true, kind.name());
    }
    required.extend(spec.coverage.require.iter().cloned());
    required.into_iter().collect()
}

/// Whether `name` is a fault or mark a run can report: what `[coverage] require` may name.
pub fn is_known(name: &str) -> bool {
    const FAULTS: [&str; 16] = [
        "partition",
        "partition-end",
        "offline",
        "online",
        "crash",
        "restart",
        "clock-jump",
        "server-versions",
        "upgrade",
        "commit-failure",
        "damaged-message",
        "token-refreshed",
        "crash (mid-resync)",
        "restart (server holding quarantined ops)",
        "crash (between commit and send)",
        "tombstone collected (a client offline)",
    ];
    FAULTS.contains(&name)
        || Mark::ALL.iter().any(|mark| mark.name() == name)
        || crate::scenario::HostileKind::ALL.iter().any(|kind| kind.name() == name)
}

/// Of `required`, what no seed counted in `counters` went through.
pub fn missing(counters: &Map<String, Value>, required: &[String]) -> Vec<String> {
    let covering = counters.get(SEEDS_COVERING).and_then(Value::as_object);
    let seeds = |name: &str| covering.and_then(|map| map.get(name)).and_then(Value::as_u64);
    required.iter().filter(|name| seeds(name).unwrap_or(0) == 0).cloned().collect()
}
