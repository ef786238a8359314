//! The reference model behind the `oracle`: the content a replica must show once it has applied
//! a set of ops, decided from the whole set at once by the merge rules as the core documents
//! them. It shares no merge code with the core, so a merge bug that every replica makes alike,
//! which convergence cannot see, still shows up as a difference from this model.
//!
//! The rules, per record:
//! - a delete hides every write older than the record's newest delete;
//! - the record exists when its newest put is newer than its newest delete;
//! - last-writer-wins shows the visible write with the greatest stamp;
//! - a counter shows the sum of its visible increments, wrapping, once it has one;
//! - max and min show the greatest and the smallest visible value written (the schema refuses
//!   a resolve of either: it could not leave the value it chose);
//! - multi-value shows every visible write that no write to the field saw, in stamp order.
//!
//! Every decision looks only at sets (ops are keyed by id, so a duplicate is the same op), which
//! makes the model order-independent and idempotent by construction.

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{
    FieldPolicies, FieldView, FieldWrite, MergePolicy, Op, OpBody, OpId, RecordKey, RecordView,
    Schema, Stamp, Value,
};

use crate::view::Content;

/// What a replica that applied exactly `ops`, in any order and with any duplicates, must show.
pub(crate) fn content<'a>(ops: impl IntoIterator<Item = &'a Op>, schema: &Schema) -> Content {
    let mut by_record: BTreeMap<&RecordKey, BTreeMap<OpId, &Op>> = BTreeMap::new();
    for op in ops {
        by_record.entry(&op.key).or_default().insert(op.id, op);
    }
    by_record
        .into_iter()
        .filter_map(|(key, ops)| {
            let ops: Vec<&Op> = ops.into_values().collect();
            Some((key.clone(), record(key, &ops, schema)?))
        })
        .collect()
}

/// One record's existence and fields, or `None` when nothing but a tombstone is left of it:
/// replicas collect bare tombstones each on their own schedule, so content leaves them out.
fn record(key: &RecordKey, ops: &[&Op], schema: &Schema) -> Option<(bool, RecordView)> {
    let deleted = newest(ops, |body| matches!(body, OpBody::Delete));
    let put = newest(ops, |body| matches!(body, OpBody::Put { .. }));
    // `None` sorts below every stamp, so a record never put never exists.
    let live = put > deleted;
    let visible = |stamp: Stamp| deleted.is_none_or(|deleted| stamp > deleted);
    let names: BTreeSet<&str> = ops.iter().flat_map(|op| field_names(&op.body)).collect();
    let policy_of = schema.policies(&key.collection);
    let fields: RecordView = names
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), field(policy_of(name), ops, name, visible)?)))
        .collect();
    let bare_tombstone = deleted.is_some() && !live && fields.is_empty();
    (!bare_tombstone).then_some((live, fields))
}

/// The stamp of the newest op whose body matches, if any.
fn newest(ops: &[&Op], matches: impl Fn(&OpBody) -> bool) -> Option<Stamp> {
    ops.iter().filter(|op| matches(&op.body)).map(|op| op.stamp).max()
}

fn field_names(body: &OpBody) -> Vec<&str> {
    match body {
        OpBody::Put { fields } | OpBody::Update { fields } => {
            fields.keys().map(String::as_str).collect()
        }
        OpBody::Increment { field, .. } | OpBody::Resolve { field, .. } => vec![field.as_str()],
        OpBody::Delete => Vec::new(),
    }
}

/// One value written to the field by a put, update or resolve.
struct Write<'a> {
    id: OpId,
    stamp: Stamp,
    value: &'a Value,
    seen: &'a [OpId],
}

/// What the field shows, or `None` if no visible op gave it a value. Validation keeps value
/// writes off counters and increments off every other policy, so each rule reads only its kind.
fn field(
    policy: MergePolicy,
    ops: &[&Op],
    name: &str,
    visible: impl Fn(Stamp) -> bool,
) -> Option<FieldView> {
    let writes: Vec<Write<'_>> = ops.iter().filter_map(|op| write_to(op, name)).collect();
    let shown = writes.iter().filter(|write| visible(write.stamp));
    let one = |write: &Write<'_>| FieldView::One(write.value.clone());
    match policy {
        MergePolicy::LastWriterWins => shown.max_by_key(|write| write.stamp).map(one),
        // Equal values look the same whichever of their writes is picked.
        MergePolicy::Max => shown.max_by(|a, b| a.value.cmp(b.value)).map(one),
        MergePolicy::Min => shown.min_by(|a, b| a.value.cmp(b.value)).map(one),
        MergePolicy::Counter => counter(ops, name, visible),
        MergePolicy::MultiValue => multi_value(&writes, visible),
    }
}

fn write_to<'a>(op: &'a Op, name: &str) -> Option<Write<'a>> {
    let FieldWrite { value, seen } = match &op.body {
        OpBody::Put { fields } | OpBody::Update { fields } => fields.get(name)?,
        OpBody::Resolve { field, write } if field == name => write,
        OpBody::Resolve { .. } | OpBody::Increment { .. } | OpBody::Delete => return None,
    };
    Some(Write { id: op.id, stamp: op.stamp, value, seen })
}

fn counter(ops: &[&Op], name: &str, visible: impl Fn(Stamp) -> bool) -> Option<FieldView> {
    let deltas: Vec<i64> = ops
        .iter()
        .filter(|op| visible(op.stamp))
        .filter_map(|op| match &op.body {
            OpBody::Increment { field, delta } if field == name => Some(*delta),
            _ => None,
        })
        .collect();
    // Wrapping keeps the sum independent of the order the deltas are added in.
    let sum = deltas.iter().fold(0_i64, |sum, delta| sum.wrapping_add(*delta));
    (!deltas.is_empty()).then_some(FieldView::One(Value::I64(sum)))
}

/// A write supersedes every value its writer saw in the field, so what stays is the frontier of
/// concurrent writes; a resolve is the write that saw them all. Seen lists of hidden writes
/// count too: a writer only sees older ops, so whatever a hidden write saw is hidden as well.
fn multi_value(writes: &[Write<'_>], visible: impl Fn(Stamp) -> bool) -> Option<FieldView> {
    let superseded: BTreeSet<OpId> =
        writes.iter().flat_map(|write| write.seen.iter().copied()).collect();
    let mut kept: Vec<&Write<'_>> = writes
        .iter()
        .filter(|write| visible(write.stamp) && !superseded.contains(&write.id))
        .collect();
    kept.sort_by_key(|write| write.stamp);
    match kept.as_slice() {
        [] => None,
        [one] => Some(FieldView::One(one.value.clone())),
        many => Some(FieldView::Many(many.iter().map(|write| write.value.clone()).collect())),
    }
}

mod running;

pub(crate) use running::{Newest, Running};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod agrees_with_core;
