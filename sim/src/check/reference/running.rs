//! The reference model kept up to date op by op, for judging the server at every commit: the
//! rules of [`super::record`], applied to a summary of a record's ops that decides each rule
//! exactly as the whole set would. Recomputing the set model after every push would cost the
//! length of the record's history each time; a conflict storm on three records made that
//! quadratic. A property test holds the two forms equal after every op of any delivery.
//!
//! What a summary may forget is what the set model can never show again: a write no newer than
//! the record's newest delete stays hidden, since the newest delete only grows as ops arrive;
//! a last-writer-wins write is decided by the newest one; a max (min) write is dominated by
//! one at least as new and at least as great (small). Multi-value writes keep every id they
//! saw, since a hidden write's seen list still supersedes.

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{
    FieldPolicies, FieldView, FieldWrite, MergePolicy, Op, OpBody, OpId, RecordState, RecordView,
    Schema, Stamp, Value,
};

use crate::view::visible_fields;

/// One record's reference content and newest stamps, as of the ops applied so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Running {
    applied: BTreeSet<OpId>,
    /// The newest delete, put, and write (of any kind) to each field: what `no_resurrection`
    /// judges by.
    pub(crate) newest: Newest,
    fields: BTreeMap<String, Field>,
}

/// The stamps `no_resurrection` compares what a record shows against.
#[derive(Clone, Debug, Default)]
pub(crate) struct Newest {
    pub(crate) delete: Option<Stamp>,
    pub(crate) put: Option<Stamp>,
    pub(crate) write: BTreeMap<String, Stamp>,
}

impl Newest {
    /// The newest stamps of the ops `ops`.
    pub(crate) fn of<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Newest {
        let mut newest = Newest::default();
        for op in ops {
            newest.add(op);
        }
        newest
    }

    fn add(&mut self, op: &Op) {
        let write = |newest: &mut Newest, name: &str| {
            let entry = newest.write.entry(name.to_owned()).or_insert(op.stamp);
            *entry = (*entry).max(op.stamp);
        };
        match &op.body {
            OpBody::Delete => self.delete = self.delete.max(Some(op.stamp)),
            OpBody::Put { fields } | OpBody::Update { fields } => {
                if matches!(op.body, OpBody::Put { .. }) {
                    self.put = self.put.max(Some(op.stamp));
                }
                fields.keys().for_each(|name| write(self, name));
            }
            OpBody::Increment { field, .. } | OpBody::Resolve { field, .. } => write(self, field),
        }
    }
}

/// What decides one field, by its policy.
#[derive(Clone, Debug)]
enum Field {
    LastWriterWins(Option<(Stamp, Value)>),
    /// Writes no other write dominates; `true` keeps the greatest, `false` the smallest.
    Extreme {
        greatest: bool,
        writes: Vec<(Stamp, Value)>,
    },
    /// Visible increments by stamp, and their wrapping sum.
    Counter {
        deltas: BTreeMap<Stamp, i64>,
        sum: i64,
    },
    MultiValue {
        superseded: BTreeSet<OpId>,
        frontier: BTreeMap<Stamp, (OpId, Value)>,
    },
}

impl Running {
    /// Applies one of the record's ops; an op applied before changes nothing.
    pub(crate) fn apply(&mut self, op: &Op, schema: &Schema) {
        if !self.applied.insert(op.id) {
            return;
        }
        let deleted_before = self.newest.delete;
        self.newest.add(op);
        let policy_of = schema.policies(&op.key.collection);
        let visible = self.newest.delete.is_none_or(|deleted| op.stamp > deleted);
        match &op.body {
            OpBody::Delete => {}
            OpBody::Put { fields } | OpBody::Update { fields } => {
                for (name, write) in fields {
                    self.field(name, policy_of(name)).write(op, write, visible);
                }
            }
            OpBody::Resolve { field, write } => {
                self.field(field, policy_of(field)).write(op, write, visible);
            }
            OpBody::Increment { field, delta } => {
                self.field(field, policy_of(field)).increment(op.stamp, *delta, visible);
            }
        }
        if self.newest.delete != deleted_before {
            let deleted = self.newest.delete;
            self.fields.values_mut().for_each(|field| field.hide_through(deleted));
        }
    }

    /// What a replica that applied exactly these ops must show, as [`super::record`] says.
    pub(crate) fn content(&self) -> Option<(bool, RecordView)> {
        let live = self.is_live();
        let fields: RecordView =
            self.visible_fields().map(|(name, view)| (name.to_owned(), view)).collect();
        (!self.is_bare_tombstone(live, fields.is_empty())).then_some((live, fields))
    }

    /// Whether a replica's `state` shows exactly [`Running::content`], judged field by field
    /// without building either content: the server is judged so after every input.
    pub(crate) fn shown_by(&self, state: Option<&RecordState>) -> bool {
        let live = self.is_live();
        let bare = self.is_bare_tombstone(live, self.visible_fields().next().is_none());
        match state.filter(|state| !state.is_bare_tombstone()) {
            None => bare,
            Some(state) => {
                !bare && state.is_live() == live && visible_fields(state).eq(self.visible_fields())
            }
        }
    }

    /// `None` sorts below every stamp, so a record never put never exists.
    fn is_live(&self) -> bool {
        self.newest.put > self.newest.delete
    }

    fn is_bare_tombstone(&self, live: bool, no_fields: bool) -> bool {
        self.newest.delete.is_some() && !live && no_fields
    }

    fn visible_fields(&self) -> impl Iterator<Item = (&str, FieldView)> {
        let deleted = self.newest.delete;
        self.fields
            .iter()
            .filter_map(move |(name, field)| Some((name.as_str(), field.view(deleted)?)))
    }

    fn field(&mut self, name: &str, policy: MergePolicy) -> &mut Field {
        self.fields.entry(name.to_owned()).or_insert_with(|| match policy {
            MergePolicy::LastWriterWins => Field::LastWriterWins(None),
            MergePolicy::Max => Field::Extreme { greatest: true, writes: Vec::new() },
            MergePolicy::Min => Field::Extreme { greatest: false, writes: Vec::new() },
            MergePolicy::Counter => Field::Counter { deltas: BTreeMap::new(), sum: 0 },
            MergePolicy::MultiValue => {
                Field::MultiValue { superseded: BTreeSet::new(), frontier: BTreeMap::new() }
            }
        })
    }
}

impl Field {
    /// A value written by `op`; `visible`: no delete applied so far hides it.
    fn write(&mut self, op: &Op, write: &FieldWrite, visible: bool) {
        let (stamp, value) = (op.stamp, &write.value);
        match self {
            Field::LastWriterWins(newest) => {
                if newest.as_ref().is_none_or(|(at, _)| *at < stamp) {
                    *newest = Some((stamp, value.clone()));
                }
            }
            Field::Extreme { .. } | Field::MultiValue { .. } if !visible => {
                self.supersede(write);
            }
            Field::Extreme { greatest, writes } => {
                let beats = |a: &Value, b: &Value| if *greatest { a >= b } else { a <= b };
                if writes.iter().any(|(at, kept)| *at >= stamp && beats(kept, value)) {
                    return;
                }
                writes.retain(|(at, kept)| !(*at <= stamp && beats(value, kept)));
                writes.push((stamp, value.clone()));
            }
            // Validation keeps value writes off counters.
            Field::Counter { .. } => {}
            Field::MultiValue { superseded, frontier } => {
                superseded.extend(write.seen.iter().copied());
                frontier.retain(|_, (id, _)| !superseded.contains(id));
                if !superseded.contains(&op.id) {
                    frontier.insert(stamp, (op.id, value.clone()));
                }
            }
        }
    }

    /// A hidden write still supersedes what its writer saw.
    fn supersede(&mut self, write: &FieldWrite) {
        if let Field::MultiValue { superseded, frontier } = self {
            superseded.extend(write.seen.iter().copied());
            frontier.retain(|_, (id, _)| !superseded.contains(id));
        }
    }

    fn increment(&mut self, stamp: Stamp, delta: i64, visible: bool) {
        // Validation keeps increments off every policy but the counter.
        if let Field::Counter { deltas, sum } = self
            && visible
        {
            deltas.insert(stamp, delta);
            // Wrapping keeps the sum independent of the order the deltas are added in.
            *sum = sum.wrapping_add(delta);
        }
    }

    /// Forgets what a delete at `deleted` hides for good.
    fn hide_through(&mut self, deleted: Option<Stamp>) {
        let Some(deleted) = deleted else {
            return;
        };
        match self {
            Field::LastWriterWins(_) => {}
            Field::Extreme { writes, .. } => writes.retain(|(at, _)| *at > deleted),
            Field::Counter { deltas, sum } => {
                let visible = deltas.split_off(&deleted);
                for delta in std::mem::replace(deltas, visible).into_values() {
                    *sum = sum.wrapping_sub(delta);
                }
                // `split_off` keeps the delete's own stamp, which no increment has.
            }
            Field::MultiValue { frontier, .. } => frontier.retain(|at, _| *at > deleted),
        }
    }

    fn view(&self, deleted: Option<Stamp>) -> Option<FieldView> {
        let visible = |stamp: &Stamp| deleted.is_none_or(|deleted| *stamp > deleted);
        let one = |value: &Value| FieldView::One(value.clone());
        match self {
            Field::LastWriterWins(newest) => {
                newest.as_ref().filter(|(at, _)| visible(at)).map(|(_, v)| one(v))
            }
            Field::Extreme { greatest: true, writes } => {
                writes.iter().map(|(_, v)| v).max().map(one)
            }
            Field::Extreme { greatest: false, writes } => {
                writes.iter().map(|(_, v)| v).min().map(one)
            }
            Field::Counter { deltas, sum } => {
                (!deltas.is_empty()).then_some(FieldView::One(Value::I64(*sum)))
            }
            Field::MultiValue { frontier, .. } => match frontier.len() {
                0 => None,
                1 => frontier.values().next().map(|(_, v)| one(v)),
                _ => Some(FieldView::Many(frontier.values().map(|(_, v)| v.clone()).collect())),
            },
        }
    }
}
