//! Goal: a plan is a pure, serialisable function of (scenario, seed) that keeps every event in
//! the chaos window and every value valid for the simulated schema.

use std::path::Path;

use super::*;
use crate::scenario::ScenarioSpec;

/// Every fault kind and every action kind switched on, small enough to plan in microseconds.
const EVERYTHING: &str = r#"
name = "everything"
[topology]
clients = [2, 6]
[workload]
writes_per_client = [20, 60]
records = [1, 5]
collections = ["notes", "tasks"]
mix = { put = 1, update = 1, delete = 1, increment = 1, resolve = 1 }
writes_per_sec = [0.5, 50]
[network]
latency_ms = [1, 300]
loss = [0, 0.2]
duplicate = 0.1
reorder = true
[faults]
partitions.count = [1, 4]
partitions.duration_s = [5, 120]
partitions.kinds = ["symmetric", "asymmetric", "one-way"]
offline = { fraction = [0.2, 1.0], duration_s = [10, 600] }
crashes = { count = [2, 8], server = true }
clocks.offset_ms = [-5000, 5000]
clocks.drift_ppm = [-500, 500]
clocks.jumps = [1, 3]
clocks.jump_ms = [-60000, 60000]
[run]
chaos_s = 120
"#;

fn everything() -> ScenarioSpec {
    ScenarioSpec::from_toml_str(Path::new("everything.toml"), EVERYTHING).expect("valid scenario")
}

/// Goal: replaying a seed replays the run.
#[test]
fn the_same_scenario_and_seed_give_an_identical_plan() {
    let spec = everything();
    assert_eq!(plan(&spec, Seed(11)), plan(&spec, Seed(11)));
}

/// Goal: seeds explore different runs.
#[test]
fn different_seeds_give_different_plans() {
    let spec = everything();
    let first = plan(&spec, Seed(1));
    for other in 2..6 {
        let second = plan(&spec, Seed(other));
        assert_ne!(first.workload, second.workload, "seed {other}");
        assert_ne!(first.faults, second.faults, "seed {other}");
    }
}

/// Goal: a repro file holding the plan as JSON replays exactly the same plan.
#[test]
fn a_plan_round_trips_through_json() {
    let original = plan(&everything(), Seed(3));
    let json = serde_json::to_string(&original).expect("plans hold only serialisable values");
    let decoded: Plan = serde_json::from_str(&json).expect("the JSON was just written");
    assert_eq!(decoded, original);
}

/// Goal: everything happens during chaos, in order, and every fault that starts also ends.
#[test]
fn every_event_lies_inside_the_chaos_window_in_time_order() {
    let spec = everything();
    for seed in 0..20 {
        let run = plan(&spec, Seed(seed));
        let chaos_ms = run.params.chaos_ms();
        let expected_writes = run.params.clients * run.params.workload.writes_per_client;
        assert_eq!(run.workload.len(), expected_writes as usize, "seed {seed}");
        assert!(run.workload.iter().all(|write| write.at_ms < chaos_ms), "seed {seed}");
        assert!(run.faults.iter().all(|timed| timed.at_ms < chaos_ms), "seed {seed}");
        assert!(run.workload.is_sorted_by_key(|write| write.at_ms), "seed {seed}");
        assert!(run.faults.is_sorted_by_key(|timed| timed.at_ms), "seed {seed}");
        assert_faults_are_balanced(&run);
    }
}

/// Goal: the engine never sees a fault it cannot apply (a crash of a crashed node, an empty
/// partition side, a node that does not exist).
fn assert_faults_are_balanced(run: &Plan) {
    let nodes_count = run.params.nodes_count();
    let mut down = std::collections::BTreeSet::new();
    let mut offline = std::collections::BTreeSet::new();
    let mut partitions = std::collections::BTreeSet::new();
    for timed in &run.faults {
        match &timed.fault {
            Fault::PartitionStart { id, side_a, side_b, .. } => {
                assert!(
                    !side_a.is_empty() && !side_b.is_empty(),
                    "partition {id} has an empty side"
                );
                assert_eq!(side_a.len() + side_b.len(), nodes_count as usize);
                assert!(partitions.insert(*id), "partition {id} started twice");
            }
            Fault::PartitionEnd { id } => {
                assert!(partitions.remove(id), "partition {id} ended unstarted")
            }
            Fault::Offline { client } => {
                assert!(!client.is_server());
                assert!(offline.insert(*client), "{client} went offline twice");
            }
            Fault::Online { client } => {
                assert!(offline.remove(client), "{client} came back unseen")
            }
            Fault::Crash { node } => assert!(down.insert(*node), "{node} crashed while down"),
            Fault::Restart { node } => assert!(down.remove(node), "{node} restarted while up"),
            Fault::ClockJump { node, .. } => assert!(node.0 < nodes_count),
            Fault::ServerVersions { newest, writable_from, readable_from } => {
                assert!(readable_from <= writable_from && writable_from <= newest);
            }
            Fault::Upgrade { client, version } => {
                assert!(!client.is_server() && client.0 < nodes_count);
                assert!(*version <= crate::scenario::SCHEMA_VERSION_MAX);
            }
            Fault::CommitFailures { node, commits } => {
                assert!(node.0 < nodes_count && *commits >= 1);
            }
        }
    }
    assert!(
        down.is_empty() && offline.is_empty() && partitions.is_empty(),
        "a fault outlives chaos"
    );
}

/// Goal: the planner only writes what the simulated schema accepts.
#[test]
fn planned_writes_are_valid_for_the_simulated_schema() {
    let run = plan(&everything(), Seed(5));
    let mut kinds_seen = std::collections::BTreeSet::new();
    for write in &run.workload {
        assert!(write.record < run.params.workload.records);
        assert!(run.params.workload.collections.contains(&write.collection));
        match &write.action {
            WriteAction::Put { fields: values } => {
                kinds_seen.insert("put");
                assert!(matches!(values.get(fields::TITLE), Some(Value::Str(_))));
                assert!(values.len() >= 2, "a put sets the title and at least one more field");
                assert!(!values.contains_key(fields::COUNT));
            }
            WriteAction::Update { fields: values } => {
                kinds_seen.insert("update");
                assert!(values.keys().any(|name| name != fields::TITLE));
                assert!(!values.contains_key(fields::COUNT));
                assert!(!matches!(values.get(fields::TITLE), Some(Value::Null)));
            }
            WriteAction::Delete => {
                kinds_seen.insert("delete");
            }
            WriteAction::Increment { field, delta } => {
                kinds_seen.insert("increment");
                assert_eq!(field, fields::COUNT);
                assert!(*delta != 0 && delta.abs() <= 10, "delta {delta}");
            }
            WriteAction::Resolve { field } => {
                kinds_seen.insert("resolve");
                assert_eq!(field, fields::TAGS);
            }
        }
    }
    assert_eq!(kinds_seen.len(), 5, "saw only {kinds_seen:?}");
}

/// Goal: a rate too slow for the window still yields every write, compressed into the window.
#[test]
fn writes_that_do_not_fit_are_compressed_into_the_window() {
    let text = "name = \"slow\"\n[workload]\nwrites_per_client = 50\nwrites_per_sec = \
     0.01\n[run]\nchaos_s = 10\n";
    let spec = ScenarioSpec::from_toml_str(Path::new("slow.toml"), text).expect("valid scenario");
    let run = plan(&spec, Seed(9));
    assert_eq!(run.workload.len(), 3 * 50);
    let last_ms = run.workload.iter().map(|write| write.at_ms).max();
    assert_eq!(last_ms, Some(10_000 - 1));
}

/// Goal: a reconnect herd drops and returns as one.
#[test]
fn offline_together_gives_every_chosen_client_the_same_period() {
    let text = "name = \"herd\"\n[topology]\nclients = 10\n[faults]\noffline = { fraction = 1.0, \
     duration_s = 60, together = true }\n";
    let spec = ScenarioSpec::from_toml_str(Path::new("herd.toml"), text).expect("valid scenario");
    let run = plan(&spec, Seed(4));
    let times = |wanted: fn(&Fault) -> bool| -> std::collections::BTreeSet<u64> {
        run.faults.iter().filter(|timed| wanted(&timed.fault)).map(|timed| timed.at_ms).collect()
    };
    assert_eq!(times(|fault| matches!(fault, Fault::Offline { .. })).len(), 1);
    assert_eq!(times(|fault| matches!(fault, Fault::Online { .. })).len(), 1);
    assert_eq!(run.faults.len(), 2 * 10);
}

/// Goal: fresh installs are offline from the first instant of the run, each until its own end.
#[test]
fn offline_from_start_begins_every_period_with_the_run() {
    let text = "name = \"installs\"\n[topology]\nclients = 10\n[faults]\noffline = { fraction = \
     0.8, duration_s = [30, 250], from_start = true }\n";
    let spec =
        ScenarioSpec::from_toml_str(Path::new("installs.toml"), text).expect("valid scenario");
    let run = plan(&spec, Seed(4));
    let offline: Vec<u64> = run
        .faults
        .iter()
        .filter(|timed| matches!(timed.fault, Fault::Offline { .. }))
        .map(|timed| timed.at_ms)
        .collect();
    assert_eq!(offline, vec![0; 8]);
    let online: std::collections::BTreeSet<u64> = run
        .faults
        .iter()
        .filter(|timed| matches!(timed.fault, Fault::Online { .. }))
        .map(|timed| timed.at_ms)
        .collect();
    assert!(online.len() > 1, "the installs come online one by one: {online:?}");
    assert!(online.iter().all(|at_ms| (30_000..=250_000).contains(at_ms)), "{online:?}");
}
