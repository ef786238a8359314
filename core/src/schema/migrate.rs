//! Moving ops and record states between schema versions.
//!
//! Up (older to newer) replays each version's steps forward; down replays them backward, newest
//! first. Going up never loses anything: a field the newer version removed is kept as a
//! deprecated field. Going down drops what the older version cannot express (fields added
//! later) and clears what it cannot convert (a value the down converter refuses reads as null,
//! still stamped, so it overwrites the reader's older value as it did here), and names every
//! such field, so a server can flag the record to its reader and a client can hold back a
//! write that would lose data.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use crate::ids::RecordKey;
use crate::merge::{FieldState, RecordState};
use crate::op::{FieldWrite, FieldWrites, Op, OpBody};
use crate::schema::{Converter, SchemaLineage, Step};
use crate::value::Value;

/// An op in the target version, and the fields it lost on the way down. The op is the one
/// given, borrowed, when no step between the versions changes it (most ops: a step names a
/// field or two), so a batch served to an older client copies only what it rewrites.
#[derive(Clone, Debug, PartialEq)]
pub struct MigratedOp<'a> {
    pub op: Cow<'a, Op>,
    pub hidden: Vec<String>,
}

/// A record state in the target version, and the fields it lost on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct MigratedRecord {
    pub state: RecordState,
    pub hidden: Vec<String>,
}

/// An op that cannot be expressed in a newer version: a converter refused one of its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationError {
    pub key: RecordKey,
    pub field: Option<String>,
    pub from: u32,
    pub to: u32,
    pub problem: String,
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key)?;
        if let Some(field) = &self.field {
            write!(f, ".{field}")?;
        }
        write!(f, ": migrating v{} to v{}: {}", self.from, self.to, self.problem)
    }
}

impl std::error::Error for MigrationError {}

impl SchemaLineage {
    /// `op`, written in version `from`, as version `to` expresses it.
    pub fn migrate_op<'a>(
        &self,
        op: &'a Op,
        from: u32,
        to: u32,
    ) -> Result<MigratedOp<'a>, MigrationError> {
        let error = |field: Option<&str>, problem: String| MigrationError {
            key: op.key.clone(),
            field: field.map(str::to_owned),
            from,
            to,
            problem,
        };
        for version in [from, to] {
            if !self.contains(version) {
                return Err(error(None, format!("the lineage has no version {version}")));
            }
        }
        if !self.steps_name_a_field_of(op, from, to) {
            return Ok(MigratedOp { op: Cow::Borrowed(op), hidden: Vec::new() });
        }
        let mut body = op.body.clone();
        let mut hidden = Vec::new();
        self.walk(&op.key.collection, from, to, &mut body, &mut hidden)
            .map_err(|(field, problem)| error(Some(&field), problem))?;
        let op =
            Op { id: op.id, stamp: op.stamp, key: op.key.clone(), body, reason: op.reason.clone() };
        Ok(MigratedOp { op: Cow::Owned(op), hidden })
    }

    /// Whether a step between `from` and `to` names a field `op` writes. A step changes only
    /// the fields it names (a rename names both), so an op none of them names migrates to
    /// itself.
    fn steps_name_a_field_of(&self, op: &Op, from: u32, to: u32) -> bool {
        let writes = |name: &str| match &op.body {
            OpBody::Put { fields } | OpBody::Update { fields } => fields.contains_key(name),
            OpBody::Increment { field, .. } | OpBody::Resolve { field, .. } => field == name,
            OpBody::Delete => false,
        };
        let names_one = |step: &Step| match step {
            Step::AddField { field, .. } | Step::ChangeType { field, .. } => writes(field),
            Step::RenameField { from, to, .. } => writes(from) || writes(to),
            // A removed field is kept, deprecated, both ways: the step changes nothing.
            Step::RemoveField { .. } => false,
        };
        let (low, high) = (from.min(to), from.max(to));
        (low + 1..=high).any(|version| {
            self.steps_into(version)
                .iter()
                .filter(|step| step_collection(step) == op.key.collection)
                .any(names_one)
        })
    }

    /// A record's merge state, held in version `from`, as version `to` expresses it. A value a
    /// converter refuses is dropped and named, in either direction: a record is data already
    /// merged, so there is no writer to refuse it to.
    pub fn migrate_record(
        &self,
        key: &RecordKey,
        state: &RecordState,
        from: u32,
        to: u32,
    ) -> MigratedRecord {
        let mut fields = state.fields.clone();
        let mut hidden = Vec::new();
        if self.contains(from) && self.contains(to) {
            // Records never fail: the walk drops and names what it cannot convert.
            let _ = self.walk(&key.collection, from, to, &mut fields, &mut hidden);
        }
        let (created, deleted) = (state.created, state.deleted);
        MigratedRecord { state: RecordState { created, deleted, fields }, hidden }
    }

    /// Replays the steps between `from` and `to` on `fields`. Going up, a refused conversion
    /// is an error for [`Fields::refused_up`] to decide; going down it hides the field.
    fn walk<F: Fields>(
        &self,
        collection: &str,
        from: u32,
        to: u32,
        fields: &mut F,
        hidden: &mut Vec<String>,
    ) -> Result<(), (String, String)> {
        let mine = |step: &&Step| step_collection(step) == collection;
        if from < to {
            for version in from + 1..=to {
                for step in self.steps_into(version).iter().filter(mine) {
                    match step {
                        Step::RenameField { from, to, .. } => fields.rename(from, to),
                        Step::ChangeType { field, up, .. } => {
                            if let Err(problem) = fields.convert(field, *up) {
                                F::refused_up(fields, field, problem, hidden)?;
                            }
                        }
                        Step::AddField { .. } | Step::RemoveField { .. } => {}
                    }
                }
            }
        } else {
            for version in (to + 1..=from).rev() {
                for step in self.steps_into(version).iter().rev().filter(mine) {
                    match step {
                        Step::AddField { field, .. } => {
                            if fields.remove(field) {
                                hidden.push(field.clone());
                            }
                        }
                        Step::RenameField { from, to, .. } => fields.rename(to, from),
                        Step::ChangeType { field, down, .. } => {
                            // A value the older version cannot express reads there as null,
                            // with its stamp: cleared, not absent, so the reader's older value
                            // of the field is overwritten there as it is here.
                            let converted = down.map(|down| fields.convert(field, down));
                            if !matches!(converted, Some(Ok(()))) && fields.clear(field) {
                                hidden.push(field.clone());
                            }
                        }
                        Step::RemoveField { .. } => {}
                    }
                }
            }
        }
        Ok(())
    }
}

fn step_collection(step: &Step) -> &str {
    match step {
        Step::AddField { collection, .. }
        | Step::RenameField { collection, .. }
        | Step::RemoveField { collection, .. }
        | Step::ChangeType { collection, .. } => collection,
    }
}

/// What a migration step can do to the fields of an op or a record.
trait Fields {
    fn rename(&mut self, from: &str, to: &str);
    /// Converts the field's value(s), if present. On error nothing changed.
    fn convert(&mut self, field: &str, converter: Converter) -> Result<(), String>;
    /// Removes the field; returns whether it was there.
    fn remove(&mut self, field: &str) -> bool;
    /// Sets the field's value to null, keeping when it was written (a field that is not a
    /// single value is removed); returns whether it was there.
    fn clear(&mut self, field: &str) -> bool;
    /// A conversion up refused a value: fail the migration, or drop and name the field.
    fn refused_up(
        &mut self,
        field: &str,
        problem: String,
        hidden: &mut Vec<String>,
    ) -> Result<(), (String, String)>;
}

impl Fields for OpBody {
    fn rename(&mut self, from: &str, to: &str) {
        match self {
            OpBody::Put { fields } | OpBody::Update { fields } => {
                if let Some(write) = fields.remove(from) {
                    fields.insert(to.to_owned(), write);
                }
            }
            OpBody::Increment { field, .. } | OpBody::Resolve { field, .. } if field == from => {
                *field = to.to_owned();
            }
            OpBody::Increment { .. } | OpBody::Resolve { .. } | OpBody::Delete => {}
        }
    }

    fn convert(&mut self, name: &str, converter: Converter) -> Result<(), String> {
        let write: Option<&mut FieldWrite> = match self {
            OpBody::Put { fields } | OpBody::Update { fields } => fields.get_mut(name),
            OpBody::Resolve { field, write } if field == name => Some(write),
            _ => None,
        };
        if let Some(write) = write {
            write.value = converter.convert(&write.value)?;
        }
        Ok(())
    }

    fn remove(&mut self, name: &str) -> bool {
        match self {
            OpBody::Put { fields } | OpBody::Update { fields } => fields.remove(name).is_some(),
            OpBody::Increment { field, .. } | OpBody::Resolve { field, .. } if field == name => {
                // The op still travels, so the reader's seqs stay contiguous, but it changes
                // nothing the reader can see.
                *self = OpBody::Update { fields: FieldWrites::new() };
                true
            }
            _ => false,
        }
    }

    fn clear(&mut self, name: &str) -> bool {
        match self {
            OpBody::Put { fields } | OpBody::Update { fields } => match fields.get_mut(name) {
                Some(write) => {
                    write.value = Value::Null;
                    true
                }
                None => false,
            },
            _ => self.remove(name),
        }
    }

    fn refused_up(
        &mut self,
        field: &str,
        problem: String,
        _hidden: &mut Vec<String>,
    ) -> Result<(), (String, String)> {
        Err((field.to_owned(), problem))
    }
}

impl Fields for BTreeMap<String, FieldState> {
    fn rename(&mut self, from: &str, to: &str) {
        if let Some(state) = BTreeMap::remove(self, from) {
            self.insert(to.to_owned(), state);
        }
    }

    fn convert(&mut self, name: &str, converter: Converter) -> Result<(), String> {
        match self.get_mut(name) {
            None | Some(FieldState::Register(None)) => Ok(()),
            Some(FieldState::Register(Some(entry))) => {
                entry.value = converter.convert(&entry.value)?;
                Ok(())
            }
            Some(_) => Err("only last-writer-wins fields change type".to_owned()),
        }
    }

    fn remove(&mut self, name: &str) -> bool {
        BTreeMap::remove(self, name).is_some()
    }

    fn clear(&mut self, name: &str) -> bool {
        match self.get_mut(name) {
            Some(FieldState::Register(Some(entry))) => {
                entry.value = Value::Null;
                true
            }
            _ => Fields::remove(self, name),
        }
    }

    fn refused_up(
        &mut self,
        field: &str,
        _problem: String,
        hidden: &mut Vec<String>,
    ) -> Result<(), (String, String)> {
        if Fields::remove(self, field) {
            hidden.push(field.to_owned());
        }
        Ok(())
    }
}
