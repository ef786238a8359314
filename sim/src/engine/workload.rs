//! The simulated application: its schema lineage, and planned writes turned into calls on the
//! core in the version each client's app speaks.
//!
//! The planner writes in v1 terms; [`perform`] translates a write into the client's version the
//! way that version of the app would make it: v2 names `body` `notes` and sometimes sets the
//! new `priority`; v3 writes `done` as 0 or 1 and no longer writes the removed `blob`.

use std::collections::BTreeMap;

use std::sync::OnceLock;

use driftsync_core::{
    Client, ClientConfig, FieldView, Now, OpId, RecordKey, Schema, SchemaLineage, Step, Store,
    Value, WriteError,
};

use crate::plan::{PlannedWrite, WriteAction, fields};
use crate::scenario::Params;

/// The demo app's schema file: the lineage of one collection, `notes`, which every
/// collection of a run follows.
const SCHEMA_FILE: &str = include_str!("../../../schemas/notes.toml");
const SCHEMA_FILE_NAME: &str = "schemas/notes.toml";
const TEMPLATE: &str = "notes";

/// The shipped schema file's lineage, read once per process.
fn template() -> &'static SchemaLineage {
    static TEMPLATE_LINEAGE: OnceLock<SchemaLineage> = OnceLock::new();
    TEMPLATE_LINEAGE.get_or_init(|| {
        SchemaLineage::from_toml(SCHEMA_FILE_NAME, SCHEMA_FILE)
            .unwrap_or_else(|error| panic!("the shipped schema file is invalid: {error}"))
    })
}

/// The lineage a run's nodes use: the user's app's (`[app]`) up to the newest version in play,
/// or the demo app's ([`lineage`]). `broken` only breaks the demo app's.
pub(crate) fn run_lineage(params: &Params, broken: bool) -> SchemaLineage {
    let version_max = params.schema.version_max();
    match &params.app {
        Some(app) => app
            .lineage_up_to(version_max)
            .unwrap_or_else(|error| panic!("validated when the scenario was loaded: {error}")),
        None => lineage(&params.workload.collections, version_max, broken),
    }
}

/// The demo app's lineage up to `version_max`, every collection of the run declared and
/// migrated as the schema file's `notes` (the table in [`crate::plan::fields`]). `broken`
/// builds the deliberately wrong v2 a buggy server release would carry (test-only,
/// [`crate::engine::Sabotage::BrokenMigration`]): it maps the old `low` onto `priority`
/// instead of adding `priority`, so old clients' edits overwrite a field written under the
/// newer version.
pub(crate) fn lineage(collections: &[String], version_max: u32, broken: bool) -> SchemaLineage {
    let template = template();
    let declared = template
        .schema(template.first())
        .and_then(|schema| schema.collections.get(TEMPLATE))
        .expect("the schema file declares the template collection");
    let base = collections.iter().fold(Schema::new(template.first()), |schema, name| {
        schema.collection(name.clone(), declared.clone())
    });
    let mut lineage = SchemaLineage::new(base);
    for version in template.first() + 1..=version_max.min(template.latest()) {
        let steps = collections
            .iter()
            .flat_map(|collection| {
                let broken = broken && version == 2;
                template
                    .steps_into(version)
                    .iter()
                    .map(move |step| in_collection(step, collection, broken))
            })
            .collect();
        lineage = lineage.evolve(steps).expect("the simulated app's lineage is valid");
    }
    lineage
}

/// A step of the template collection, made for `collection`; `broken` swaps the addition
/// of `priority` for the buggy release's rename of `low`.
fn in_collection(step: &Step, collection: &str, broken: bool) -> Step {
    let mut step = step.clone();
    match &mut step {
        Step::AddField { field, .. } if broken && field == fields::PRIORITY => {
            return Step::RenameField {
                collection: collection.to_owned(),
                from: fields::LOW.into(),
                to: fields::PRIORITY.into(),
            };
        }
        Step::AddField { collection: c, .. }
        | Step::RenameField { collection: c, .. }
        | Step::RemoveField { collection: c, .. }
        | Step::ChangeType { collection: c, .. } => *c = collection.to_owned(),
    }
    step
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
    match &write.action {
        WriteAction::Put { fields } => {
            let fields = as_written(client.config(), write, fields);
            client.put(now, key, fields)
        }
        WriteAction::Update { fields } => {
            let fields = as_written(client.config(), write, fields);
            client.update(now, key, fields)
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

/// A planned field set as the client's app writes it.
fn as_written(
    config: &ClientConfig,
    write: &PlannedWrite,
    planned: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let version = config.schema_version;
    match write.version {
        None => in_version(version, planned, write),
        Some(planned_in) if planned_in == version => planned.clone(),
        Some(_) => writable_in(config.lineage.schema(version), &write.collection, planned),
    }
}

/// An app write planned for another version than the client runs (a planned upgrade that
/// came a moment late, or one the shrinker removed): the fields this version writes with the
/// same type. What is left may still be refused, like any write of the app.
fn writable_in(
    schema: Option<&Schema>,
    collection: &str,
    planned: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let fits = |name: &str, value: &Value| {
        let field = schema.and_then(|schema| schema.field(collection, name));
        field.is_some_and(|f| !f.deprecated && value.field_type().is_none_or(|ty| ty == f.ty))
    };
    planned
        .iter()
        .filter(|(name, value)| fits(name, value))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
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
