//! Per-field merge state, one variant per policy.
//!
//! Why each variant holds what it holds:
//! - last-writer-wins keeps only the greatest stamp: anything it beat is older, so a tombstone
//!   that hides the winner hides the losers too;
//! - max/min keep the Pareto frontier of (value, stamp): a tombstone may hide the best value
//!   while a worse but newer one must survive it;
//! - counters keep each increment keyed by its stamp, which makes re-applying one a no-op;
//! - multi-value keeps every value no writer has superseded, plus the superseded ids, so a
//!   superseded value that arrives late stays superseded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::report::{ConflictOutcome, ConflictSide, Decision};
use crate::hlc::Stamp;
use crate::ids::OpId;
use crate::merge::MergePolicy;
use crate::op::Op;
use crate::value::Value;

/// One written value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub stamp: Stamp,
    pub op: OpId,
    pub value: Value,
    /// The value this write replaced in the writer's view, if any (for explaining conflicts).
    pub seen: Option<OpId>,
}

impl Entry {
    pub(crate) fn new(op: &Op, value: Value, seen: &[OpId]) -> Entry {
        Entry { stamp: op.stamp, op: op.id, value, seen: seen.first().copied() }
    }

    fn side(&self) -> ConflictSide {
        ConflictSide { op: self.op, stamp: self.stamp, value: self.value.clone() }
    }

    /// Whether one of the two writes saw the other (or both come from one writer, whose ops are
    /// sequential): then replacing one by the other is ordinary editing, not a conflict.
    fn is_causally_related(&self, other: &Entry) -> bool {
        self.op.replica == other.op.replica
            || self.seen == Some(other.op)
            || other.seen == Some(self.op)
    }
}

/// What one field holds, by policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldState {
    Register(Option<Entry>),
    Counter {
        deltas: BTreeMap<Stamp, i64>,
        sum: i64,
    },
    Extremum {
        policy: MergePolicy,
        frontier: Vec<Entry>,
    },
    Multi {
        entries: BTreeMap<OpId, Entry>,
        /// Superseded ops, each with the newest stamp of a write that superseded it.
        superseded: BTreeMap<OpId, Stamp>,
    },
}

/// What an application reads from a field.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FieldView {
    One(Value),
    /// Concurrent values of a multi-value field, ordered by stamp.
    Many(Vec<Value>),
}

impl FieldState {
    pub(crate) fn empty(policy: MergePolicy) -> FieldState {
        match policy {
            MergePolicy::LastWriterWins => FieldState::Register(None),
            MergePolicy::Counter => FieldState::counter(),
            MergePolicy::Max | MergePolicy::Min => {
                FieldState::Extremum { policy, frontier: Vec::new() }
            }
            MergePolicy::MultiValue => {
                FieldState::Multi { entries: BTreeMap::new(), superseded: BTreeMap::new() }
            }
        }
    }

    pub(crate) fn counter() -> FieldState {
        FieldState::Counter { deltas: BTreeMap::new(), sum: 0 }
    }

    /// Writes one value. `hidden` means the write is older than the record's tombstone: it
    /// must leave no visible trace, but what it superseded stays superseded.
    pub(crate) fn write(
        &mut self,
        policy: MergePolicy,
        entry: Entry,
        seen: &[OpId],
        hidden: bool,
    ) -> Option<Decision> {
        match self {
            FieldState::Register(current) => {
                if hidden {
                    return None;
                }
                write_register(current, entry)
            }
            FieldState::Extremum { policy, frontier } => {
                if hidden {
                    return None;
                }
                write_extremum(*policy, frontier, entry)
            }
            FieldState::Multi { entries, superseded } => {
                write_multi(entries, superseded, entry, seen, hidden)
            }
            FieldState::Counter { .. } => {
                // Validation refuses value writes to counters; a replica whose schema changed the
                // policy under existing data keeps the counter and ignores the stray write.
                debug_assert!(policy != MergePolicy::Counter, "validated ops never set a counter");
                None
            }
        }
    }

    pub(crate) fn add(&mut self, stamp: Stamp, delta: i64) {
        if let FieldState::Counter { deltas, sum } = self
            && deltas.insert(stamp, delta).is_none()
        {
            // Wrapping keeps the sum order-independent; saturating would not be.
            *sum = sum.wrapping_add(delta);
        }
    }

    /// Drops every value older than a tombstone at `stamp`; returns whether nothing remains.
    pub(crate) fn hide_older_than(&mut self, stamp: Stamp) -> bool {
        match self {
            FieldState::Register(current) => {
                if current.as_ref().is_some_and(|e| e.stamp < stamp) {
                    *current = None;
                }
                current.is_none()
            }
            FieldState::Counter { deltas, sum } => {
                let kept = deltas.split_off(&stamp);
                for delta in deltas.values() {
                    *sum = sum.wrapping_sub(*delta);
                }
                *deltas = kept;
                deltas.is_empty()
            }
            FieldState::Extremum { frontier, .. } => {
                frontier.retain(|e| e.stamp > stamp);
                frontier.is_empty()
            }
            FieldState::Multi { entries, superseded } => {
                entries.retain(|_, e| e.stamp > stamp);
                // A superseded op matters only while a write that superseded it is visible:
                // if every superseder is older than the tombstone, so is the op, and it would
                // be hidden on arrival anyway. Dropping exactly those keeps the state a
                // function of the op set, whatever order the delete arrived in.
                superseded.retain(|_, by| *by > stamp);
                entries.is_empty() && superseded.is_empty()
            }
        }
    }

    /// The visible value, if any.
    pub fn view(&self) -> Option<FieldView> {
        match self {
            FieldState::Register(current) => {
                current.as_ref().map(|e| FieldView::One(e.value.clone()))
            }
            FieldState::Counter { deltas, sum } => {
                (!deltas.is_empty()).then_some(FieldView::One(Value::I64(*sum)))
            }
            FieldState::Extremum { frontier, .. } => {
                frontier.first().map(|e| FieldView::One(e.value.clone()))
            }
            FieldState::Multi { entries, .. } => {
                let mut values: Vec<&Entry> = entries.values().collect();
                values.sort_by_key(|e| e.stamp);
                match values.as_slice() {
                    [] => None,
                    [one] => Some(FieldView::One(one.value.clone())),
                    many => Some(FieldView::Many(many.iter().map(|e| e.value.clone()).collect())),
                }
            }
        }
    }

    /// The newest stamp the field holds, superseding writes included.
    pub(crate) fn newest_stamp(&self) -> Option<Stamp> {
        match self {
            FieldState::Register(current) => current.as_ref().map(|e| e.stamp),
            FieldState::Counter { deltas, .. } => deltas.keys().next_back().copied(),
            FieldState::Extremum { frontier, .. } => frontier.iter().map(|e| e.stamp).max(),
            FieldState::Multi { entries, superseded } => {
                let entries = entries.values().map(|e| e.stamp);
                entries.chain(superseded.values().copied()).max()
            }
        }
    }

    /// The ops whose values the field currently shows.
    pub(crate) fn current_ops(&self) -> Vec<OpId> {
        match self {
            FieldState::Register(current) => current.iter().map(|e| e.op).collect(),
            FieldState::Counter { .. } => Vec::new(),
            FieldState::Extremum { frontier, .. } => {
                frontier.first().map(|e| e.op).into_iter().collect()
            }
            FieldState::Multi { entries, .. } => entries.keys().copied().collect(),
        }
    }
}

fn write_register(current: &mut Option<Entry>, entry: Entry) -> Option<Decision> {
    let Some(existing) = current else {
        *current = Some(entry);
        return None;
    };
    if existing.op == entry.op {
        return None;
    }
    let related = existing.is_causally_related(&entry);
    if entry.stamp > existing.stamp {
        let lost = std::mem::replace(existing, entry);
        (!related)
            .then(|| Decision::new(existing.side(), lost.side(), ConflictOutcome::Overwritten))
    } else {
        (!related).then(|| Decision::new(existing.side(), entry.side(), ConflictOutcome::Ignored))
    }
}

/// Keeps the frontier sorted best-first; along it values get worse and stamps newer, so the
/// head is the visible value and the tail is what survives a tombstone that hides the head.
fn write_extremum(
    policy: MergePolicy,
    frontier: &mut Vec<Entry>,
    entry: Entry,
) -> Option<Decision> {
    if frontier.iter().any(|e| e.op == entry.op) {
        return None;
    }
    // `better(a, b)`: a beats b; equal values are decided by the newer stamp.
    let better = |a: &Entry, b: &Entry| {
        let by_value = a.value.cmp(&b.value);
        let by_value = if policy == MergePolicy::Min { by_value.reverse() } else { by_value };
        by_value.then(a.stamp.cmp(&b.stamp)).is_gt()
    };
    let dominates = |a: &Entry, b: &Entry| better(a, b) && a.stamp > b.stamp;
    let decision = frontier.first().and_then(|best| {
        if best.is_causally_related(&entry) {
            None
        } else if better(&entry, best) {
            Some(Decision::new(entry.side(), best.side(), ConflictOutcome::Overwritten))
        } else {
            Some(Decision::new(best.side(), entry.side(), ConflictOutcome::Ignored))
        }
    });
    if !frontier.iter().any(|e| dominates(e, &entry)) {
        frontier.retain(|e| !dominates(&entry, e));
        let at = frontier.partition_point(|e| better(e, &entry));
        frontier.insert(at, entry);
    }
    decision
}

fn write_multi(
    entries: &mut BTreeMap<OpId, Entry>,
    superseded: &mut BTreeMap<OpId, Stamp>,
    entry: Entry,
    seen: &[OpId],
    hidden: bool,
) -> Option<Decision> {
    // A write older than the tombstone leaves no trace: everything it saw is older still.
    if hidden {
        return None;
    }
    for id in seen {
        let by = superseded.entry(*id).or_insert(entry.stamp);
        *by = (*by).max(entry.stamp);
        entries.remove(id);
    }
    if superseded.contains_key(&entry.op) || entries.contains_key(&entry.op) {
        return None;
    }
    let rival =
        entries.values().filter(|e| e.op.replica != entry.op.replica).max_by_key(|e| e.stamp);
    let decision =
        rival.map(|rival| Decision::new(entry.side(), rival.side(), ConflictOutcome::Forked));
    entries.insert(entry.op, entry);
    decision
}
