//! The simulated application: its schema lineage, and planned writes turned into calls on the
//! core in the version each client's app speaks.
//!
//! The planner writes in v1 terms; [`perform`] translates a write into the client's version the
//! way that version of the app would make it: v2 names `body` `notes` and sometimes sets the
//! new `priority`; v3 writes `done` as 0 or 1 and no longer writes the removed `blob`.

use std::collections::BTreeMap;

use driftsync_core::{
    Client, CollectionSchema, FieldSchema, FieldType, FieldView, MergePolicy, Now, OpId, RecordKey,
    Schema, Store, Value, WriteError,
};
use driftsync_core::{Converter, SchemaLineage, Step};

use crate::plan::{PlannedWrite, WriteAction, fields};

/// The schema of the table in [`crate::plan::fields`], for every collection of the run.
pub(crate) fn schema(collections: &[String]) -> Schema {
    let lww = |ty| FieldSchema::new(ty, MergePolicy::LastWriterWins);
    let notes = CollectionSchema::default()
        .field(fields::TITLE, lww(FieldType::Str).required())
        .field(fields::BODY, lww(FieldType::Str))
        .field(fields::DONE, lww(FieldType::Bool))
        .field(fields::WEIGHT, lww(FieldType::F64))
        .field(fields::BLOB, lww(FieldType::Bytes))
        .field(fields::HIGH, FieldSchema::new(FieldType::I64, MergePolicy::Max))
        .field(fields::LOW, FieldSchema::new(FieldType::I64, MergePolicy::Min))
        .field(fields::COUNT, FieldSchema::new(FieldType::I64, MergePolicy::Counter))
        .field(fields::TAGS, FieldSchema::new(FieldType::Str, MergePolicy::MultiValue));
    collections
        .iter()
        .fold(Schema::new(1), |schema, name| schema.collection(name.clone(), notes.clone()))
}

/// The app's lineage up to `version_max`. `broken` builds the deliberately wrong v2 a buggy
/// server release would carry (test-only, [`crate::engine::Sabotage::BrokenMigration`]): it
/// maps the old `low` onto `priority` instead of adding `priority`, so old clients' edits
/// overwrite a field written under the newer version.
pub(crate) fn lineage(collections: &[String], version_max: u32, broken: bool) -> SchemaLineage {
    let mut lineage = SchemaLineage::new(schema(collections));
    let per_collection = |make: &dyn Fn(&str) -> Vec<Step>| -> Vec<Step> {
        collections.iter().flat_map(|c| make(c)).collect()
    };
    let v2 = per_collection(&|c| {
        let priority = if broken {
            Step::RenameField {
                collection: c.into(),
                from: fields::LOW.into(),
                to: fields::PRIORITY.into(),
            }
        } else {
            let declared = FieldSchema::new(FieldType::I64, MergePolicy::LastWriterWins)
                .with_default(Value::I64(0));
            Step::AddField {
                collection: c.into(),
                field: fields::PRIORITY.into(),
                schema: declared,
            }
        };
        let rename = Step::RenameField {
            collection: c.into(),
            from: fields::BODY.into(),
            to: fields::NOTES.into(),
        };
        vec![priority, rename]
    });
    let v3 = per_collection(&|c| {
        vec![
            Step::ChangeType {
                collection: c.into(),
                field: fields::DONE.into(),
                up: Converter::BoolToI64,
                down: Some(Converter::I64ToBool),
            },
            Step::RemoveField { collection: c.into(), field: fields::BLOB.into() },
        ]
    });
    for steps in [v2, v3].into_iter().take(version_max.saturating_sub(1) as usize) {
        lineage = lineage.evolve(steps).expect("the simulated app's lineage is valid");
    }
    lineage
}

/// The key a planned write targets.
pub(crate) fn record_key(write: &PlannedWrite) -> RecordKey {
    RecordKey::new(write.collection.clone(), format!("r{}", write.record))
}

/// Performs one planned write on a client, in the client's schema version.
pub(crate) fn perform<S: Store>(
    client: &mut Client<S>,
    now: Now,
    write: &PlannedWrite,
) -> Result<OpId, WriteError> {
    let key = record_key(write);
    let version = client.config().schema_version;
    match &write.action {
        WriteAction::Put { fields } => client.put(now, key, in_version(version, fields, write)),
        WriteAction::Update { fields } => {
            client.update(now, key, in_version(version, fields, write))
        }
        WriteAction::Delete => client.delete(now, key),
        WriteAction::Increment { field, delta } => client.increment(now, key, field, *delta),
        WriteAction::Resolve { field } => {
            // A person picks one of the values they see: the greatest, deterministically.
            let chosen = match client.get(&key).and_then(|record| record.get(field).cloned()) {
                Some(FieldView::Many(values)) => values.into_iter().max(),
                Some(FieldView::One(value)) => Some(value),
                None => None,
            };
            let value = chosen.unwrap_or_else(|| Value::Str("resolved".to_owned()));
            client.resolve_conflict(now, key, field, value)
        }
    }
}

/// A v1 field set as the app of `version` writes it.
fn in_version(
    version: u32,
    planned: &BTreeMap<String, Value>,
    write: &PlannedWrite,
) -> BTreeMap<String, Value> {
    let mut written = BTreeMap::new();
    for (name, value) in planned {
        match (name.as_str(), value) {
            (fields::BLOB, _) if version >= 3 => {}
            (fields::DONE, Value::Bool(done)) if version >= 3 => {
                written.insert(name.clone(), Value::I64(i64::from(*done)));
            }
            (fields::BODY, _) if version >= 2 => {
                written.insert(fields::NOTES.to_owned(), value.clone());
            }
            _ => {
                written.insert(name.clone(), value.clone());
            }
        }
    }
    // A newer app sets the newer field now and then; the time makes it deterministic.
    if version >= 2 && (write.at_ms.is_multiple_of(3) || written.is_empty()) {
        written.insert(fields::PRIORITY.to_owned(), Value::I64((write.at_ms / 3 % 10) as i64));
    }
    written
}
