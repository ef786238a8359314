use std::path::Path;

use super::edits;
use crate::plan::{Fault, NodeId, Plan, WriteAction, plan};
use crate::scenario::ScenarioSpec;
use crate::seed::Seed;

/// Every fault kind that involves a client, on four clients.
const BUSY: &str = r#"
name = "busy"
[topology]
clients = 4
[workload]
writes_per_client = 20
[faults]
partitions = { count = [3, 3], duration_s = [5, 20] }
offline = { fraction = 1.0, duration_s = [5, 20] }
crashes = { count = [3, 3], server = true }
clocks = { offset_ms = [-500, 500], drift_ppm = [-100, 100], jumps = [2, 2], jump_ms = [-900, 900] }
[run]
chaos_s = 60
"#;

fn busy() -> Plan {
    let spec = ScenarioSpec::from_toml_str(Path::new("busy.toml"), BUSY).expect("valid");
    plan(&spec, Seed(3))
}

fn nodes_of(fault: &Fault) -> Vec<NodeId> {
    match fault {
        Fault::PartitionStart { side_a, side_b, .. } => {
            side_a.iter().chain(side_b).copied().collect()
        }
        Fault::Offline { client } | Fault::Online { client } | Fault::Upgrade { client, .. } => {
            vec![*client]
        }
        Fault::Crash { node }
        | Fault::Restart { node }
        | Fault::ClockJump { node, .. }
        | Fault::CommitFailures { node, .. } => vec![*node],
        Fault::PartitionEnd { .. } | Fault::ServerVersions { .. } => Vec::new(),
    }
}

/// Goal: a start and its end are one group, and every fault is in exactly one group.
#[test]
fn fault_groups_pair_each_start_with_its_own_end() {
    let plan = busy();
    let groups = edits::fault_groups(&plan.faults);
    let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..plan.faults.len()).collect::<Vec<_>>());
    for group in &groups {
        let faults: Vec<&Fault> = group.iter().map(|i| &plan.faults[*i].fault).collect();
        match faults.as_slice() {
            [Fault::PartitionStart { id, .. }, Fault::PartitionEnd { id: end }] => {
                assert_eq!(id, end)
            }
            [Fault::Offline { client }, Fault::Online { client: back }] => assert_eq!(client, back),
            [Fault::Crash { node }, Fault::Restart { node: back }] => assert_eq!(node, back),
            [Fault::ClockJump { .. }] => {}
            other => panic!("an unexpected group: {other:?}"),
        }
    }
    assert!(edits::faults_count(&plan) >= 3 + 4 + 3);
}

/// Goal: dropping a client leaves a plan of consecutive node ids that never names it.
#[test]
fn dropping_a_client_renumbers_the_ones_after_it() {
    let plan = busy();
    let smaller = edits::without_client(&plan, 2).expect("four clients");
    assert_eq!(smaller.params.clients, 3);
    assert_eq!(smaller.params.schema.client_versions.len(), 3);
    assert_eq!(smaller.params.clocks.nodes.len(), plan.params.clocks.nodes.len() - 1);
    let before = plan.workload.iter().filter(|w| w.client.0 != 2).count();
    assert_eq!(smaller.workload.len(), before);
    assert!(smaller.workload.iter().all(|w| (1..=3).contains(&w.client.0)));
    for timed in &smaller.faults {
        assert!(nodes_of(&timed.fault).iter().all(|node| node.0 <= 3), "{timed:?}");
    }
    // What client 3 did, client 2 now does.
    let third = plan.workload.iter().filter(|w| w.client.0 == 3).count();
    assert_eq!(smaller.workload.iter().filter(|w| w.client.0 == 2).count(), third);
    assert!(
        edits::without_client(&edits::without_client(&smaller, 1).unwrap(), 1)
            .and_then(|one| edits::without_client(&one, 1))
            .is_none()
    );
}

/// Goal: a shortened fault still ends after it starts, and the schedule stays in time order.
#[test]
fn shortening_keeps_each_end_after_its_start_in_time_order() {
    let mut plan = busy();
    for group in 0..edits::fault_groups(&plan.faults).len() {
        while let Some(shorter) = edits::shortened(&plan, group, 0.5) {
            plan = shorter;
        }
    }
    let ordered = plan.faults.windows(2).all(|pair| {
        (pair[0].at_ms, pair[0].fault.order_key()) <= (pair[1].at_ms, pair[1].fault.order_key())
    });
    assert!(ordered);
    for group in edits::fault_groups(&plan.faults) {
        if let [start, end] = group.as_slice() {
            assert_eq!(plan.faults[*end].at_ms, plan.faults[*start].at_ms + 1);
        }
    }
}

/// Goal: plain values keep each field's type, and a plain plan is left alone.
#[test]
fn plain_values_keep_their_types() {
    let plan = busy();
    let len = plan.workload.len();
    let plain = edits::with_plain_values(&plan, 0..len).expect("random values are not plain");
    for (before, after) in plan.workload.iter().zip(&plain.workload) {
        if let (WriteAction::Put { fields: a }, WriteAction::Put { fields: b }) =
            (&before.action, &after.action)
        {
            assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
            for (x, y) in a.values().zip(b.values()) {
                assert_eq!(std::mem::discriminant(x), std::mem::discriminant(y));
            }
        }
    }
    assert!(edits::with_plain_values(&plain, 0..len).is_none());
    let clean = edits::with_clean_network(&plan).map_or(plan.clone(), |p| p);
    assert!(edits::with_clean_network(&clean).is_none());
    let true_clocks = edits::with_true_clocks(&plan).expect("the clocks are skewed");
    assert!(edits::with_true_clocks(&true_clocks).is_none());
}
