//! The simulated application: the schema every collection uses, and planned writes turned into
//! calls on the core.

use driftsync_core::{
    Client, CollectionSchema, FieldSchema, FieldType, FieldView, MergePolicy, MonoTime, OpId,
    RecordKey, Schema, Store, Value, WriteError,
};

use crate::plan::{PlannedWrite, WriteAction, fields};

/// The schema version the simulated server and clients speak.
pub(crate) const SCHEMA_VERSION: u32 = 1;

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
    collections.iter().fold(Schema::new(SCHEMA_VERSION), |schema, name| {
        schema.collection(name.clone(), notes.clone())
    })
}

/// The key a planned write targets.
pub(crate) fn record_key(write: &PlannedWrite) -> RecordKey {
    RecordKey::new(write.collection.clone(), format!("r{}", write.record))
}

/// Performs one planned write on a client.
pub(crate) fn perform<S: Store>(
    client: &mut Client<S>,
    now: MonoTime,
    write: &PlannedWrite,
) -> Result<OpId, WriteError> {
    let key = record_key(write);
    match &write.action {
        WriteAction::Put { fields } => client.put(now, key, fields.clone()),
        WriteAction::Update { fields } => client.update(now, key, fields.clone()),
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
