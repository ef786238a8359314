//! The fault schedule: partitions, offline periods, crashes, clock jumps and failing commits.
//!
//! Every period is placed wholly inside the chaos window, ending at `chaos_ms - 1` at the
//! latest; a period drawn longer than the window is shortened to the whole window. Periods that
//! cannot coexist are kept apart: a client goes offline at most once, and overlapping crash
//! windows of one node merge into one, so the engine never sees a crash of a crashed node.

use rand::RngCore;

use super::{Fault, NodeId, TimedFault};
use crate::scenario::Params;
use crate::seed::{self, Streams};

/// Draws every fault of the run and returns them in time order.
pub(super) fn schedule(params: &Params, streams: &mut Streams) -> Vec<TimedFault> {
    let mut faults = Vec::new();
    partitions(params, &mut streams.faults, &mut faults);
    offline_periods(params, &mut streams.faults, &mut faults);
    crashes(params, &mut streams.crashes, &mut faults);
    clock_jumps(params, &mut streams.clocks, &mut faults);
    commit_failures(params, &mut streams.crashes, &mut faults);
    // Stable, and the key is total up to identical faults, so equal instants are deterministic.
    faults.sort_by_key(|timed| (timed.at_ms, timed.fault.order_key()));
    faults
}

/// A period `[start_ms, end_ms)` inside the chaos window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Period {
    start_ms: u64,
    end_ms: u64,
}

/// Places a period of about `duration_ms` uniformly inside the chaos window.
fn place<R: RngCore + ?Sized>(rng: &mut R, chaos_ms: u64, duration_ms: u64) -> Period {
    assert!(chaos_ms >= 2, "validated: chaos_s >= 1, so the window holds a start and an end");
    let end_ms_max = chaos_ms - 1;
    let length_ms = duration_ms.clamp(1, end_ms_max);
    let start_ms = seed::uniform_u64(rng, 0, end_ms_max - length_ms);
    Period { start_ms, end_ms: start_ms + length_ms }
}

fn partitions(params: &Params, rng: &mut impl RngCore, faults: &mut Vec<TimedFault>) {
    let spec = &params.partitions;
    let mut drawn = Vec::with_capacity(spec.count as usize);
    for _ in 0..spec.count {
        let duration_s = seed::uniform_u64(rng, spec.duration_s_min, spec.duration_s_max);
        let kind = spec.kinds[seed::index(rng, spec.kinds.len())];
        let mut nodes: Vec<NodeId> = (0..params.nodes_count()).map(NodeId).collect();
        seed::shuffle(rng, &mut nodes);
        // At least one node on each side: the cut lies strictly inside the shuffled list.
        let cut = seed::uniform_u64(rng, 1, u64::from(params.clients)) as usize;
        let mut side_b = nodes.split_off(cut);
        nodes.sort();
        side_b.sort();
        let period = place(rng, params.chaos_ms(), duration_s * 1_000);
        drawn.push((period, kind, nodes, side_b));
    }
    // Ids follow start times so that a plan reads in order; the sort is stable for equal starts.
    drawn.sort_by_key(|(period, ..)| period.start_ms);
    for (id, (period, kind, side_a, side_b)) in drawn.into_iter().enumerate() {
        let id = u32::try_from(id).expect("validated: partition count <= FAULTS_COUNT_MAX");
        faults.push(TimedFault {
            at_ms: period.start_ms,
            fault: Fault::PartitionStart { id, kind, side_a, side_b },
        });
        faults.push(TimedFault { at_ms: period.end_ms, fault: Fault::PartitionEnd { id } });
    }
}

fn offline_periods(params: &Params, rng: &mut impl RngCore, faults: &mut Vec<TimedFault>) {
    let spec = &params.offline;
    if spec.clients_count == 0 {
        return;
    }
    let mut clients: Vec<NodeId> = (1..=params.clients).map(NodeId).collect();
    seed::shuffle(rng, &mut clients);
    clients.truncate(spec.clients_count as usize);
    clients.sort();
    let draw_period = |rng: &mut dyn RngCore| {
        let duration_s = seed::uniform_u64(rng, spec.duration_s_min, spec.duration_s_max);
        let period = place(rng, params.chaos_ms(), duration_s * 1_000);
        match spec.from_start {
            // The start is drawn either way, so that the flag reshuffles nothing else.
            true => Period { start_ms: 0, end_ms: period.end_ms - period.start_ms },
            false => period,
        }
    };
    let shared = spec.together.then(|| draw_period(rng));
    for client in clients {
        let period = shared.unwrap_or_else(|| draw_period(rng));
        faults.push(TimedFault { at_ms: period.start_ms, fault: Fault::Offline { client } });
        faults.push(TimedFault { at_ms: period.end_ms, fault: Fault::Online { client } });
    }
}

fn crashes(params: &Params, rng: &mut impl RngCore, faults: &mut Vec<TimedFault>) {
    let spec = &params.crashes;
    let first_node = if spec.server { 0 } else { 1 };
    let mut windows: Vec<(NodeId, Period)> = (0..spec.count)
        .map(|_| {
            let node = NodeId(seed::uniform_u64(rng, first_node, u64::from(params.clients)) as u32);
            let downtime_s = seed::uniform_u64(rng, spec.downtime_s_min, spec.downtime_s_max);
            (node, place(rng, params.chaos_ms(), downtime_s * 1_000))
        })
        .collect();
    windows.sort();
    let mut merged: Vec<(NodeId, Period)> = Vec::with_capacity(windows.len());
    for (node, period) in windows {
        match merged.last_mut() {
            Some((last_node, last)) if *last_node == node && period.start_ms <= last.end_ms => {
                last.end_ms = last.end_ms.max(period.end_ms);
            }
            _ => merged.push((node, period)),
        }
    }
    for (node, period) in merged {
        faults.push(TimedFault { at_ms: period.start_ms, fault: Fault::Crash { node } });
        faults.push(TimedFault { at_ms: period.end_ms, fault: Fault::Restart { node } });
    }
}

fn clock_jumps(params: &Params, rng: &mut impl RngCore, faults: &mut Vec<TimedFault>) {
    let spec = &params.clocks;
    for _ in 0..spec.jumps_count {
        let node = NodeId(seed::uniform_u64(rng, 0, u64::from(params.clients)) as u32);
        let at_ms = seed::uniform_u64(rng, 0, params.chaos_ms() - 1);
        let delta_ms = seed::uniform_i64(rng, spec.jump_ms_min, spec.jump_ms_max);
        faults.push(TimedFault { at_ms, fault: Fault::ClockJump { node, delta_ms } });
    }
}

fn commit_failures(params: &Params, rng: &mut impl RngCore, faults: &mut Vec<TimedFault>) {
    let spec = &params.storage;
    for _ in 0..spec.commit_failures {
        let node = NodeId(seed::uniform_u64(rng, 0, u64::from(params.clients)) as u32);
        let at_ms = seed::uniform_u64(rng, 0, params.chaos_ms() - 1);
        let commits =
            seed::uniform_u64(rng, spec.commits_per_failure_min, spec.commits_per_failure_max);
        let commits = u32::try_from(commits).expect("validated: at most COMMITS_PER_FAILURE_MAX");
        faults.push(TimedFault { at_ms, fault: Fault::CommitFailures { node, commits } });
    }
}
