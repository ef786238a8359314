//! The fault timeline of a single-seed report: partitions, offline periods, crashes and clock
//! jumps from the plan, against when each client was connected and wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::outcome::Outcome;
use crate::plan::{Fault, NodeId, Plan};

/// Everything the timeline chart draws, in simulated milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeline {
    pub scenario: String,
    pub seed: u64,
    pub clients: u32,
    pub heal_at_ms: u64,
    pub converged_at_ms: Option<u64>,
    pub end_ms: u64,
    pub faults: Vec<TimelineFault>,
    /// Per client (index 0 is client-1): `[from_ms, to_ms)` spans it was connected.
    pub connected_spans: Vec<Vec<(u64, u64)>>,
    /// Per client: how many writes it committed in each second (`[second, count]`).
    pub writes_per_second: Vec<Vec<(u64, u64)>>,
    /// The sum of every client's outbox, at most one point per second (the maximum).
    pub outbox_total: Vec<(u64, u64)>,
}

/// One fault as a period (or an instant, `to_ms == from_ms`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineFault {
    /// `partition`, `offline`, `crash`, `clock-jump`, `server-versions`, `upgrade` or
    /// `commit-failure`.
    pub kind: String,
    /// `server`, `client-N`, or `all` for a partition.
    pub node: String,
    pub from_ms: u64,
    pub to_ms: u64,
    pub detail: String,
}

impl Timeline {
    pub fn new(plan: &Plan, outcome: &Outcome) -> Timeline {
        let activity = &outcome.measures.activity;
        let writes_per_second = activity
            .writes_ms
            .iter()
            .map(|writes| {
                let mut per_second: BTreeMap<u64, u64> = BTreeMap::new();
                for at_ms in writes {
                    *per_second.entry(at_ms / 1_000).or_default() += 1;
                }
                per_second.into_iter().collect()
            })
            .collect();
        Timeline {
            scenario: plan.scenario.clone(),
            seed: plan.seed,
            clients: plan.params.clients,
            heal_at_ms: outcome.heal_at_ms,
            converged_at_ms: outcome.converged_at_ms,
            end_ms: outcome.end_ms,
            faults: faults(plan, outcome.heal_at_ms),
            connected_spans: activity.connected_spans.clone(),
            writes_per_second,
            outbox_total: activity.outbox_total.clone(),
        }
    }
}

/// Pairs each start with its end; a period still open at the heal ends there.
fn faults(plan: &Plan, heal_at_ms: u64) -> Vec<TimelineFault> {
    let mut periods = OpenPeriods::default();
    let mut faults = Vec::new();
    for timed in &plan.faults {
        let at_ms = timed.at_ms;
        match &timed.fault {
            Fault::PartitionStart { id, kind, side_a, side_b } => {
                let detail = format!("{kind:?}: {} | {}", names(side_a), names(side_b));
                periods.open((PARTITION, *id), at_ms, "all".to_owned(), detail);
            }
            Fault::PartitionEnd { id } => periods.close((PARTITION, *id), at_ms, &mut faults),
            Fault::Offline { client } => {
                periods.open((OFFLINE, client.0), at_ms, client.to_string(), String::new());
            }
            Fault::Online { client } => periods.close((OFFLINE, client.0), at_ms, &mut faults),
            Fault::Crash { node } => {
                periods.open((CRASH, node.0), at_ms, node.to_string(), String::new());
            }
            Fault::Restart { node } => periods.close((CRASH, node.0), at_ms, &mut faults),
            Fault::CommitFailures { node, commits } => {
                let detail = format!("the next {commits} commits fail");
                faults.push(instant("commit-failure", *node, at_ms, detail));
            }
            Fault::ClockJump { node, delta_ms } => {
                faults.push(instant("clock-jump", *node, at_ms, format!("{delta_ms:+} ms")));
            }
            Fault::ServerVersions { newest, writable_from, readable_from } => {
                let detail =
                    format!("serves v{writable_from}..=v{newest}, read-only from v{readable_from}");
                faults.push(instant("server-versions", NodeId::SERVER, at_ms, detail));
            }
            Fault::Upgrade { client, version } => {
                let detail = format!("app upgraded to v{version}");
                faults.push(instant("upgrade", *client, at_ms, detail));
            }
        }
    }
    periods.close_all(heal_at_ms, &mut faults);
    faults.sort_by(|a, b| (a.from_ms, &a.kind, &a.node).cmp(&(b.from_ms, &b.kind, &b.node)));
    faults
}

/// The kinds of period, first in an open period's key.
const PARTITION: u8 = 0;
const OFFLINE: u8 = 1;
const CRASH: u8 = 2;

/// Periods started and not yet ended, by (kind, partition id or node): when each started, on
/// which node, and what it was.
#[derive(Default)]
struct OpenPeriods(BTreeMap<(u8, u32), (u64, String, String)>);

impl OpenPeriods {
    fn open(&mut self, key: (u8, u32), from_ms: u64, node: String, detail: String) {
        self.0.insert(key, (from_ms, node, detail));
    }

    /// Ends the period of `key`, if one is open, as a fault from its start to `to_ms`.
    fn close(&mut self, key: (u8, u32), to_ms: u64, faults: &mut Vec<TimelineFault>) {
        if let Some((from_ms, node, detail)) = self.0.remove(&key) {
            let kind = match key.0 {
                PARTITION => "partition",
                OFFLINE => "offline",
                _ => "crash",
            };
            faults.push(TimelineFault { kind: kind.to_owned(), node, from_ms, to_ms, detail });
        }
    }

    /// Ends every open period at `to_ms`, in key order.
    fn close_all(&mut self, to_ms: u64, faults: &mut Vec<TimelineFault>) {
        let still_open: Vec<(u8, u32)> = self.0.keys().copied().collect();
        for key in still_open {
            self.close(key, to_ms, faults);
        }
    }
}

/// A fault without duration, at `at_ms`.
fn instant(kind: &str, node: NodeId, at_ms: u64, detail: String) -> TimelineFault {
    TimelineFault {
        kind: kind.to_owned(),
        node: node.to_string(),
        from_ms: at_ms,
        to_ms: at_ms,
        detail,
    }
}

fn names(nodes: &[NodeId]) -> String {
    nodes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}
