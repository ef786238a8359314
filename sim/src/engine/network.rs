//! The simulated network: a seeded state machine whose decisions are plain values.
//!
//! Every message gets a [`Delivery`]: dropped (by loss or by a partition), or delivered after a
//! latency drawn from the run's interval, possibly twice. Without reordering, a link delivers
//! in send order (a later message never overtakes an earlier one on the same link).

use std::collections::{BTreeMap, BTreeSet};

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use crate::plan::{NodeId, PartitionKind};
use crate::scenario::NetworkParams;
use crate::seed::{chance, uniform_u64};

/// What happens to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    Drop(DropCause),
    Deliver { at_ms: u64, duplicate_at_ms: Option<u64> },
}

/// How one message is damaged on its way (see `NetworkSpec::corrupt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Damage {
    /// A byte of the frame, picked by `at` modulo its length, is XORed with `mask` (never 0).
    Frame { at: u64, mask: u8 },
    /// A batch's ops or records are altered and the frame sealed again over them.
    Beneath { at: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DropCause {
    Loss,
    Partition,
}

#[derive(Debug)]
struct Partition {
    kind: PartitionKind,
    side_a: BTreeSet<NodeId>,
    side_b: BTreeSet<NodeId>,
}

/// Counts of what the network did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NetworkStats {
    pub sent: u64,
    pub lost: u64,
    pub cut_by_partition: u64,
    pub duplicated: u64,
}

#[derive(Debug)]
pub(crate) struct Network {
    params: NetworkParams,
    /// Loss, duplication and reordering apply only during the chaos phase.
    chaos: bool,
    partitions: BTreeMap<u32, Partition>,
    /// When the last message on each link arrives, to keep links FIFO without reordering.
    link_arrival_ms: BTreeMap<(NodeId, NodeId), u64>,
    rng: ChaCha8Rng,
    pub(crate) stats: NetworkStats,
}

impl Network {
    pub(crate) fn new(params: NetworkParams, rng: ChaCha8Rng) -> Network {
        Network {
            params,
            chaos: true,
            partitions: BTreeMap::new(),
            link_arrival_ms: BTreeMap::new(),
            rng,
            stats: NetworkStats::default(),
        }
    }

    pub(crate) fn partition(&mut self, id: u32, kind: PartitionKind, a: &[NodeId], b: &[NodeId]) {
        let side_a = a.iter().copied().collect();
        let side_b = b.iter().copied().collect();
        self.partitions.insert(id, Partition { kind, side_a, side_b });
    }

    pub(crate) fn heal_partition(&mut self, id: u32) {
        self.partitions.remove(&id);
    }

    /// The heal phase: partitions end, and loss, duplication and reordering stop.
    pub(crate) fn heal(&mut self) {
        self.chaos = false;
        self.partitions.clear();
    }

    /// Whether a partition currently cuts messages from `from` to `to`.
    pub(crate) fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.partitions.values().any(|p| {
            (p.side_a.contains(&from) && p.side_b.contains(&to) && p.kind.drops(true))
                || (p.side_b.contains(&from) && p.side_a.contains(&to) && p.kind.drops(false))
        })
    }

    /// One latency draw from the run's interval.
    pub(crate) fn latency_ms(&mut self) -> u64 {
        uniform_u64(&mut self.rng, self.params.latency_ms_min, self.params.latency_ms_max)
    }

    /// Decides the fate of a message sent now.
    pub(crate) fn route(&mut self, from: NodeId, to: NodeId, now_ms: u64) -> Delivery {
        self.stats.sent += 1;
        if self.is_cut(from, to) {
            self.stats.cut_by_partition += 1;
            return Delivery::Drop(DropCause::Partition);
        }
        if self.chaos && chance(&mut self.rng, self.params.loss) {
            self.stats.lost += 1;
            return Delivery::Drop(DropCause::Loss);
        }
        let mut at_ms = now_ms + self.latency_ms();
        let reorder = self.chaos && self.params.reorder;
        if !reorder {
            let last = self.link_arrival_ms.entry((from, to)).or_default();
            at_ms = at_ms.max(*last);
            *last = at_ms;
        }
        let duplicate_at_ms =
            (self.chaos && chance(&mut self.rng, self.params.duplicate)).then(|| {
                self.stats.duplicated += 1;
                let again = now_ms + self.latency_ms();
                if reorder { again } else { again.max(at_ms) }
            });
        Delivery::Deliver { at_ms, duplicate_at_ms }
    }

    /// Whether the message just routed arrives damaged, and how. Nothing is drawn without
    /// `corrupt`, so runs without it draw exactly what they always did.
    pub(crate) fn damage(&mut self) -> Option<Damage> {
        if !self.chaos || self.params.corrupt <= 0.0 || !chance(&mut self.rng, self.params.corrupt)
        {
            return None;
        }
        let at = self.rng.next_u64();
        Some(match self.rng.next_u32() % 2 {
            0 => Damage::Frame { at, mask: (self.rng.next_u32() % 255 + 1) as u8 },
            _ => Damage::Beneath { at },
        })
    }
}
