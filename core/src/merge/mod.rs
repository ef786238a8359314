//! Merge: applying ops to record state, order-independently and idempotently.
//!
//! The state of a record is a function of the *set* of ops applied to it, whatever their order
//! and however often each arrived. Each field policy keeps exactly the information that makes
//! this true (see [`FieldState`]); a record tombstone hides everything older than itself.

mod field;
mod policy;
mod report;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use field::{Entry, FieldState, FieldView};
pub use policy::{FieldPolicies, MergePolicy};
pub use report::{ConflictOutcome, ConflictReport, ConflictSide};

use crate::hlc::Stamp;
use crate::ids::RecordKey;
use crate::op::{Op, OpBody};
use crate::value::Value;

/// Everything a replica knows about one record, tombstone included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordState {
    /// The greatest stamp of a put: the record exists while this is newer than `deleted`.
    pub created: Option<Stamp>,
    /// The greatest stamp of a delete (the tombstone).
    pub deleted: Option<Stamp>,
    pub fields: BTreeMap<String, FieldState>,
}

/// The visible content of a record: what an application reads.
pub type RecordView = BTreeMap<String, FieldView>;

impl RecordState {
    /// Applies `op` (already validated) and returns the conflicts it decided.
    pub fn apply(&mut self, op: &Op, policies: &impl FieldPolicies) -> Vec<ConflictReport> {
        let mut conflicts = Vec::new();
        let policy_of = policies.policies(&op.key.collection);
        match &op.body {
            OpBody::Put { fields } | OpBody::Update { fields } => {
                if matches!(op.body, OpBody::Put { .. }) {
                    self.created = self.created.max(Some(op.stamp));
                }
                for (name, write) in fields {
                    let policy = policy_of(name);
                    let entry = Entry::new(op, write.value.clone(), &write.seen);
                    self.write_field(op, name, policy, entry, &write.seen, &mut conflicts);
                }
            }
            OpBody::Resolve { field, write } => {
                let policy = policy_of(field);
                let entry = Entry::new(op, write.value.clone(), &write.seen);
                self.write_field(op, field, policy, entry, &write.seen, &mut conflicts);
            }
            OpBody::Increment { field, delta } => {
                if self.is_hidden(op.stamp) {
                    return conflicts;
                }
                let state = self.fields.entry(field.clone()).or_insert_with(FieldState::counter);
                state.add(op.stamp, *delta);
            }
            OpBody::Delete => {
                if self.deleted < Some(op.stamp) {
                    self.deleted = Some(op.stamp);
                    self.fields.retain(|_, state| !state.hide_older_than(op.stamp));
                }
            }
        }
        conflicts
    }

    /// Whether the record exists: put after its latest delete.
    pub fn is_live(&self) -> bool {
        self.created.is_some() && self.created > self.deleted
    }

    /// The record as an application sees it, or `None` if it does not exist.
    pub fn view(&self) -> Option<RecordView> {
        if !self.is_live() {
            return None;
        }
        let fields = self
            .fields
            .iter()
            .filter_map(|(name, state)| Some((name.clone(), state.view()?)))
            .collect();
        Some(fields)
    }

    /// Whether nothing but a tombstone remains: such a record can be collected once every
    /// client has seen the delete.
    pub fn is_bare_tombstone(&self) -> bool {
        self.deleted.is_some() && !self.is_live() && self.fields.is_empty()
    }

    /// The newest stamp anything in this record carries: a local write to it must be stamped
    /// after it, or a write could be older than a value it saw and replaced (see
    /// a client's writes).
    pub fn newest_stamp(&self) -> Option<Stamp> {
        let fields = self.fields.values().filter_map(FieldState::newest_stamp);
        self.created.into_iter().chain(self.deleted).chain(fields).max()
    }

    /// The ops whose values `field` currently shows, which a new write to it has seen.
    pub fn seen(&self, field: &str) -> Vec<crate::ids::OpId> {
        self.fields.get(field).map(FieldState::current_ops).unwrap_or_default()
    }

    /// The current single value of a field, if it has one.
    pub fn value(&self, field: &str) -> Option<Value> {
        match self.fields.get(field)?.view()? {
            FieldView::One(value) => Some(value),
            FieldView::Many(_) => None,
        }
    }

    fn is_hidden(&self, stamp: Stamp) -> bool {
        self.deleted.is_some_and(|deleted| stamp < deleted)
    }

    fn write_field(
        &mut self,
        op: &Op,
        name: &str,
        policy: MergePolicy,
        entry: Entry,
        seen: &[crate::ids::OpId],
        conflicts: &mut Vec<ConflictReport>,
    ) {
        let hidden = self.is_hidden(op.stamp);
        let state = match self.fields.get_mut(name) {
            Some(state) => state,
            None if hidden => return,
            None => self.fields.entry(name.to_owned()).or_insert_with(|| FieldState::empty(policy)),
        };
        if let Some(decision) = state.write(policy, entry, seen, hidden) {
            conflicts.push(ConflictReport::new(&op.key, name, policy, decision));
        }
    }
}

/// What applying one op did to its record.
#[derive(Debug)]
pub struct Applied {
    pub conflicts: Vec<ConflictReport>,
}

/// All records of a replica.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Records {
    map: BTreeMap<RecordKey, RecordState>,
}

impl Records {
    pub fn get(&self, key: &RecordKey) -> Option<&RecordState> {
        self.map.get(key)
    }

    /// Applies `op` to its record and returns what it did: the conflicts it decided.
    pub fn apply(&mut self, op: &Op, policies: &impl FieldPolicies) -> Applied {
        let state = match self.map.get_mut(&op.key) {
            Some(state) => state,
            None => self.map.entry(op.key.clone()).or_default(),
        };
        let conflicts = state.apply(op, policies);
        Applied { conflicts }
    }

    pub fn insert(&mut self, key: RecordKey, state: RecordState) {
        self.map.insert(key, state);
    }

    pub fn remove(&mut self, key: &RecordKey) -> Option<RecordState> {
        self.map.remove(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&RecordKey, &RecordState)> {
        self.map.iter()
    }

    /// Records in key order, starting after `after` (from the first if `None`).
    pub fn iter_after<'a>(
        &'a self,
        after: Option<&RecordKey>,
    ) -> Box<dyn Iterator<Item = (&'a RecordKey, &'a RecordState)> + 'a> {
        use std::ops::Bound;
        match after {
            Some(after) => Box::new(self.map.range((Bound::Excluded(after), Bound::Unbounded))),
            None => Box::new(self.map.iter()),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every live record's visible content, ordered by key: the state replicas must agree on.
    pub fn view(&self) -> BTreeMap<RecordKey, RecordView> {
        self.map.iter().filter_map(|(key, state)| Some((key.clone(), state.view()?))).collect()
    }
}

impl FromIterator<(RecordKey, RecordState)> for Records {
    fn from_iter<I: IntoIterator<Item = (RecordKey, RecordState)>>(iter: I) -> Records {
        Records { map: iter.into_iter().collect() }
    }
}
