//! Edits that make a plan smaller and keep it one the engine can run: every fault that starts
//! still ends, node ids stay `1..=clients`, and the fault schedule stays in time order.

use std::collections::BTreeMap;

use driftsync_core::Value;

use crate::plan::{Fault, NodeId, Plan, PlannedWrite, TimedFault, WriteAction};

/// The faults that stand or fall together: a start and its end, or a fault that is one event.
/// Each group lists indices into `plan.faults`, start first.
pub(super) fn fault_groups(faults: &[TimedFault]) -> Vec<Vec<usize>> {
    let mut groups = Vec::new();
    let mut paired = vec![false; faults.len()];
    for (index, timed) in faults.iter().enumerate() {
        if paired[index] {
            continue;
        }
        let end = match &timed.fault {
            Fault::PartitionStart { id, .. } => position_after(
                faults,
                index,
                |f| matches!(f, Fault::PartitionEnd { id: e } if e == id),
            ),
            Fault::Offline { client } => position_after(
                faults,
                index,
                |f| matches!(f, Fault::Online { client: c } if c == client),
            ),
            Fault::Crash { node } => position_after(
                faults,
                index,
                |f| matches!(f, Fault::Restart { node: n } if n == node),
            ),
            _ => None,
        };
        let mut group = vec![index];
        if let Some(end) = end {
            paired[end] = true;
            group.push(end);
        }
        groups.push(group);
    }
    groups
}

fn position_after(
    faults: &[TimedFault],
    start: usize,
    is_end: impl Fn(&Fault) -> bool,
) -> Option<usize> {
    faults.iter().skip(start + 1).position(|timed| is_end(&timed.fault)).map(|i| i + start + 1)
}

/// How many faults a plan injects: each start with its end counts once.
pub(super) fn faults_count(plan: &Plan) -> usize {
    fault_groups(&plan.faults).len()
}

/// The plan without the fault groups numbered in `dropped` (positions in [`fault_groups`]).
pub(super) fn without_fault_groups(plan: &Plan, dropped: std::ops::Range<usize>) -> Plan {
    let groups = fault_groups(&plan.faults);
    let removed: Vec<usize> = groups[dropped].iter().flatten().copied().collect();
    let mut smaller = plan.clone();
    smaller.faults = keep_unlisted(&plan.faults, &removed);
    smaller
}

/// The plan without the writes at positions `dropped`.
pub(super) fn without_writes(plan: &Plan, dropped: std::ops::Range<usize>) -> Plan {
    let mut smaller = plan.clone();
    smaller.workload.drain(dropped);
    smaller
}

/// The plan without the hostile attempts at positions `dropped`.
pub(super) fn without_attacks(plan: &Plan, dropped: std::ops::Range<usize>) -> Plan {
    let mut smaller = plan.clone();
    smaller.attacks.drain(dropped);
    smaller
}

fn keep_unlisted<T: Clone>(items: &[T], removed: &[usize]) -> Vec<T> {
    let removed: std::collections::BTreeSet<usize> = removed.iter().copied().collect();
    items
        .iter()
        .enumerate()
        .filter(|(index, _)| !removed.contains(index))
        .map(|(_, item)| item.clone())
        .collect()
}

/// The plan with fault group `group`'s end moved to `fraction` of the way from its start, or
/// `None` when the group has no end or is already as short as it gets (1 ms).
pub(super) fn shortened(plan: &Plan, group: usize, fraction: f64) -> Option<Plan> {
    let groups = fault_groups(&plan.faults);
    let [start, end] = groups.get(group)?.as_slice() else {
        return None;
    };
    let (start_ms, end_ms) = (plan.faults[*start].at_ms, plan.faults[*end].at_ms);
    let duration_ms = end_ms.saturating_sub(start_ms);
    let shorter_ms = ((duration_ms as f64 * fraction) as u64).max(1);
    if shorter_ms >= duration_ms {
        return None;
    }
    let mut smaller = plan.clone();
    smaller.faults[*end].at_ms = start_ms + shorter_ms;
    sort_faults(&mut smaller.faults);
    Some(smaller)
}

/// Fault order as the planner makes it: by time, ties by [`Fault::order_key`]; the sort is
/// stable, so a start and its end at one instant keep their order.
fn sort_faults(faults: &mut [TimedFault]) {
    faults.sort_by_key(|timed| (timed.at_ms, timed.fault.order_key()));
}

/// The plan without client `gone`: its writes and its own faults go, it leaves every partition
/// side (a partition left with an empty side goes), and the clients after it move down one id.
/// `None` for the last remaining client.
pub(super) fn without_client(plan: &Plan, gone: u32) -> Option<Plan> {
    let params = &plan.params;
    if params.clients <= 1 || gone == 0 || gone > params.clients {
        return None;
    }
    let renumber = |node: NodeId| if node.0 > gone { NodeId(node.0 - 1) } else { node };
    let mut smaller = plan.clone();
    smaller.workload = plan
        .workload
        .iter()
        .filter(|write| write.client.0 != gone)
        .map(|write| PlannedWrite { client: renumber(write.client), ..write.clone() })
        .collect();
    let mut empty_partitions = Vec::new();
    smaller.faults = plan
        .faults
        .iter()
        .filter_map(|timed| {
            let fault = without_node(&timed.fault, NodeId(gone), renumber)?;
            if let Fault::PartitionStart { id, side_a, side_b, .. } = &fault
                && (side_a.is_empty() || side_b.is_empty())
            {
                empty_partitions.push(*id);
            }
            Some(TimedFault { at_ms: timed.at_ms, fault })
        })
        .collect();
    smaller.faults.retain(|timed| match &timed.fault {
        Fault::PartitionStart { id, .. } | Fault::PartitionEnd { id } => {
            !empty_partitions.contains(id)
        }
        _ => true,
    });
    let params = &mut smaller.params;
    params.clients -= 1;
    params.schema.client_versions.remove(gone as usize - 1);
    if (gone as usize) < params.clocks.nodes.len() {
        params.clocks.nodes.remove(gone as usize);
    }
    params.offline.clients_count = params.offline.clients_count.min(params.clients);
    Some(smaller)
}

/// `fault` with `gone` taken out and the other nodes renumbered; `None` if it is `gone`'s own.
fn without_node(fault: &Fault, gone: NodeId, renumber: impl Fn(NodeId) -> NodeId) -> Option<Fault> {
    let mut fault = fault.clone();
    match &mut fault {
        Fault::PartitionStart { side_a, side_b, .. } => {
            for side in [side_a, side_b] {
                side.retain(|node| *node != gone);
                side.iter_mut().for_each(|node| *node = renumber(*node));
            }
        }
        Fault::Offline { client: node }
        | Fault::Online { client: node }
        | Fault::Upgrade { client: node, .. }
        | Fault::Crash { node }
        | Fault::Restart { node }
        | Fault::ClockJump { node, .. }
        | Fault::CommitFailures { node, .. } => {
            if *node == gone {
                return None;
            }
            *node = renumber(*node);
        }
        Fault::PartitionEnd { .. } | Fault::ServerVersions { .. } => {}
    }
    Some(fault)
}

/// The plan with the writes at positions `simplified` made plain: text and bytes emptied (a
/// required text keeps one character), numbers 0 or ±1, multi-value words alike; `None` when
/// they are plain already.
pub(super) fn with_plain_values(plan: &Plan, simplified: std::ops::Range<usize>) -> Option<Plan> {
    let mut smaller = plan.clone();
    let mut changed = false;
    for write in &mut smaller.workload[simplified] {
        changed |= plain_action(&mut write.action);
    }
    changed.then_some(smaller)
}

fn plain_action(action: &mut WriteAction) -> bool {
    match action {
        WriteAction::Put { fields } | WriteAction::Update { fields } => plain_fields(fields),
        WriteAction::Increment { delta, .. } => {
            let plain = delta.signum();
            let changed = *delta != plain;
            *delta = plain;
            changed
        }
        WriteAction::Delete | WriteAction::Resolve { .. } => false,
    }
}

fn plain_fields(fields: &mut BTreeMap<String, Value>) -> bool {
    let mut changed = false;
    for value in fields.values_mut() {
        let plain = match &*value {
            // One character, not none: a required text field must stay non-empty to be valid.
            Value::Str(text) => Value::Str(text.chars().take(1).collect()),
            Value::Bytes(_) => Value::Bytes(Vec::new()),
            Value::I64(_) => Value::I64(0),
            Value::F64(_) => Value::F64(0.0),
            Value::Bool(_) => Value::Bool(false),
            other => other.clone(),
        };
        changed |= plain != *value;
        *value = plain;
    }
    changed
}

/// The plan with a network that neither loses, duplicates, damages nor reorders; `None` when
/// it already does none of these.
pub(super) fn with_clean_network(plan: &Plan) -> Option<Plan> {
    let network = &plan.params.network;
    if network.loss == 0.0 && network.duplicate == 0.0 && network.corrupt == 0.0 && !network.reorder
    {
        return None;
    }
    let mut smaller = plan.clone();
    let network = &mut smaller.params.network;
    (network.loss, network.duplicate, network.corrupt, network.reorder) = (0.0, 0.0, 0.0, false);
    Some(smaller)
}

/// The plan with every node's clock true: no offset, no drift; `None` when they are already.
pub(super) fn with_true_clocks(plan: &Plan) -> Option<Plan> {
    let nodes = &plan.params.clocks.nodes;
    if nodes.iter().all(|clock| clock.offset_ms == 0 && clock.drift_ppm == 0) {
        return None;
    }
    let mut smaller = plan.clone();
    for clock in &mut smaller.params.clocks.nodes {
        (clock.offset_ms, clock.drift_ppm) = (0, 0);
    }
    Some(smaller)
}
