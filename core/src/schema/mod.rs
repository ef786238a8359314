//! Schemas: what a collection's records may hold and how each field merges.
//!
//! Every op, local or remote, is checked against the schema before it is applied
//! ([`Schema::validate`]); a local write that fails is refused, a remote op that fails is
//! quarantined. A [`SchemaLineage`] joins numbered versions by declarative migration steps
//! ([`Step`]); [`VersionPolicy`] says which of them a server accepts, read-write or read-only.

mod file;
mod lineage;
mod migrate;
mod policy;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod validation_tests;
mod violation;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::merge::{FieldPolicies, FieldView, MergePolicy, RecordView};
use crate::op::{FieldWrites, Op, OpBody};
use crate::value::{FieldType, Value};

pub use file::SchemaFileError;
pub use lineage::{Converter, LineageError, SchemaLineage, Step};
pub use migrate::{MigratedOp, MigratedRecord, MigrationError};
pub(crate) use policy::Negotiation;
pub use policy::{Access, VersionPolicy};
pub use violation::{Violation, ViolationKind};

/// One field's declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSchema {
    pub ty: FieldType,
    /// A required field must be present (and not null) when a record is put, unless it has a
    /// default.
    pub required: bool,
    pub policy: MergePolicy,
    /// What an absent field reads as. A field added by a migration step always has one, so
    /// records written before it existed still read as complete.
    pub default: Option<Value>,
    /// Removed from this version: hidden from readers of it and refused in its local writes,
    /// but still stored and merged, so clients of older versions keep reading and writing it.
    pub deprecated: bool,
}

impl FieldSchema {
    pub fn new(ty: FieldType, policy: MergePolicy) -> FieldSchema {
        FieldSchema { ty, required: false, policy, default: None, deprecated: false }
    }

    pub fn required(mut self) -> FieldSchema {
        self.required = true;
        self
    }

    pub fn with_default(mut self, value: Value) -> FieldSchema {
        self.default = Some(value);
        self
    }

    /// Whether a put may leave this field out.
    fn may_be_absent(&self) -> bool {
        !self.required || self.default.is_some()
    }
}

/// The fields of one collection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSchema {
    pub fields: BTreeMap<String, FieldSchema>,
}

impl CollectionSchema {
    pub fn field(mut self, name: impl Into<String>, field: FieldSchema) -> CollectionSchema {
        self.fields.insert(name.into(), field);
        self
    }
}

/// A versioned set of collections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub version: u32,
    pub collections: BTreeMap<String, CollectionSchema>,
}

impl FieldPolicies for Schema {
    fn policies(&self, collection: &str) -> impl Fn(&str) -> MergePolicy + '_ {
        let declared = self.collections.get(collection);
        move |name| {
            declared
                .and_then(|c| c.fields.get(name))
                .map_or(MergePolicy::LastWriterWins, |f| f.policy)
        }
    }
}

impl Schema {
    pub fn new(version: u32) -> Schema {
        Schema { version, collections: BTreeMap::new() }
    }

    pub fn collection(mut self, name: impl Into<String>, collection: CollectionSchema) -> Schema {
        self.collections.insert(name.into(), collection);
        self
    }

    /// The declaration of `collection.field`, if there is one.
    pub fn field(&self, collection: &str, field: &str) -> Option<&FieldSchema> {
        self.collections.get(collection)?.fields.get(field)
    }

    /// Fields this version shows to readers, with their declarations.
    pub fn visible_fields(
        &self,
        collection: &str,
    ) -> impl Iterator<Item = (&String, &FieldSchema)> {
        self.collections
            .get(collection)
            .into_iter()
            .flat_map(|c| c.fields.iter())
            .filter(|(_, field)| !field.deprecated)
    }

    /// Whether readers of this version see `collection.field`.
    pub fn shows(&self, collection: &str, field: &str) -> bool {
        self.field(collection, field).is_some_and(|f| !f.deprecated)
    }

    /// A record's view as readers of this version see it: deprecated fields hidden, absent
    /// fields with a default filled in.
    pub fn present(&self, collection: &str, mut view: RecordView) -> RecordView {
        view.retain(|name, _| self.field(collection, name).is_none_or(|f| !f.deprecated));
        for (name, field) in self.visible_fields(collection) {
            if let Some(default) = &field.default {
                view.entry(name.clone()).or_insert_with(|| FieldView::One(default.clone()));
            }
        }
        view
    }

    /// Checks the declarations themselves, as a base version read from outside must be
    /// checked: a default has its field's type, a required field's default is not null, and a
    /// counter counts integers.
    pub fn check(&self) -> Result<(), LineageError> {
        for (collection, declared) in &self.collections {
            for (name, field) in &declared.fields {
                let problem = match &field.default {
                    Some(default) if !lineage::fits(field, default) => {
                        Some(format!("default {default} is not a {}", field.ty))
                    }
                    _ if field.policy == MergePolicy::Counter && field.ty != FieldType::I64 => {
                        Some(format!("a counter counts i64, not {}", field.ty))
                    }
                    _ => None,
                };
                if let Some(problem) = problem {
                    return Err(LineageError {
                        version: self.version,
                        collection: Some(collection.clone()),
                        field: Some(name.clone()),
                        problem,
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks an op against this schema: the collection and every field exist, values have the
    /// declared type, required fields are present on put and never nulled, and each kind of op
    /// targets a field whose policy allows it; its reason, if any, is of a bounded length.
    pub fn validate(&self, op: &Op) -> Result<(), Violation> {
        let violation = |field: Option<&str>, kind| Violation::of(op, field, kind);
        if op.stamp.hlc.wall_ms > crate::hlc::WALL_MS_MAX {
            return Err(violation(None, ViolationKind::StampOutOfRange { stamp: op.stamp }));
        }
        let reason_bytes = op.reason.as_ref().map_or(0, String::len);
        if reason_bytes > crate::op::REASON_BYTES_MAX {
            return Err(violation(None, ViolationKind::ReasonTooLong { bytes: reason_bytes }));
        }
        let schema_version = self.version;
        let Some(collection) = self.collections.get(&op.key.collection) else {
            return Err(violation(None, ViolationKind::UnknownCollection { schema_version }));
        };
        let declared = |name: &str| {
            let unknown = || violation(Some(name), ViolationKind::UnknownField { schema_version });
            collection.fields.get(name).ok_or_else(unknown)
        };
        match &op.body {
            OpBody::Put { fields } | OpBody::Update { fields } => {
                let put = matches!(op.body, OpBody::Put { .. });
                check_written(collection, fields, put, schema_version, violation)
            }
            OpBody::Increment { field, .. } => {
                let declared = declared(field)?;
                if declared.policy != MergePolicy::Counter {
                    let kind = ViolationKind::IncrementNotCounter { policy: declared.policy };
                    return Err(violation(Some(field), kind));
                }
                Ok(())
            }
            OpBody::Resolve { field, write } => {
                let declared = declared(field)?;
                check_value(declared, &write.value).map_err(|kind| violation(Some(field), kind))?;
                // Only a multi-value or last-writer field can show a conflict to settle: a
                // counter sums every write and an extreme keeps the greatest (or least) one, so
                // a resolve there could never leave the value it chose.
                match declared.policy {
                    MergePolicy::Counter | MergePolicy::Max | MergePolicy::Min => {
                        let kind =
                            ViolationKind::ResolveWithoutConflict { policy: declared.policy };
                        Err(violation(Some(field), kind))
                    }
                    _ => Ok(()),
                }
            }
            OpBody::Delete => Ok(()),
        }
    }
}

/// A put's or update's written fields against the collection's: each must be declared, hold
/// its declared type and not be a counter; a put must also write every field that may not be
/// absent. The first bad written field is reported before a missing one.
fn check_written(
    collection: &CollectionSchema,
    fields: &FieldWrites,
    put: bool,
    schema_version: u32,
    violation: impl Fn(Option<&str>, ViolationKind) -> Violation,
) -> Result<(), Violation> {
    let mut declared = collection.fields.iter().peekable();
    // The first field the op leaves out that may not be absent (a put's fault), reported only
    // once every written field has passed.
    let mut missing = None;
    for (name, write) in fields {
        // Both maps are in name order: one walk finds each written field's declaration,
        // passing the declared fields the op does not write.
        let field = loop {
            match declared.peek().map(|(declared, _)| declared.as_str().cmp(name)) {
                Some(Ordering::Less) => {
                    let skipped = declared.next().filter(|(_, f)| !f.may_be_absent());
                    missing = missing.or(skipped.filter(|_| put));
                }
                Some(Ordering::Equal) => break declared.next().map(|(_, field)| field),
                _ => break None,
            }
        };
        let Some(field) = field else {
            let kind = ViolationKind::UnknownField { schema_version };
            return Err(violation(Some(name), kind));
        };
        check_value(field, &write.value).map_err(|kind| violation(Some(name), kind))?;
        if field.policy == MergePolicy::Counter {
            return Err(violation(Some(name), ViolationKind::CounterWrite));
        }
    }
    if put {
        missing = missing.or_else(|| declared.find(|(_, f)| !f.may_be_absent()));
    }
    if let Some((name, field)) = missing {
        let kind = ViolationKind::RequiredMissing { expected: field.ty };
        return Err(violation(Some(name), kind));
    }
    Ok(())
}

fn check_value(field: &FieldSchema, value: &Value) -> Result<(), ViolationKind> {
    match value.field_type() {
        None if field.required => Err(ViolationKind::RequiredNull),
        None => Ok(()),
        Some(found) if found == field.ty => Ok(()),
        Some(found) => Err(ViolationKind::TypeMismatch { expected: field.ty, found }),
    }
}
