//! The planned writes of the user's own app (`[app]`): each client's write times as for the demo
//! app, then per write a collection by share, a record by the collection's key choice, an
//! action by its mix, and fields and values valid in the schema version the writing client
//! runs at that moment (its initial version, or the one a planned upgrade gave it).

use std::collections::BTreeMap;

use driftsync_core::{CollectionSchema, FieldSchema, FieldType, MergePolicy, SchemaLineage, Value};
use rand::RngCore;

use super::values::{self, Kind};
use super::workload::client_times;
use super::{Fault, NodeId, PlannedWrite, TimedFault, WriteAction};
use crate::scenario::{AppSpec, CollectionWorkload, KeyChoice, Mix, Params};
use crate::seed;

/// How often an optional text field is cleared (set to null) instead of written.
const TEXT_NULL_PROBABILITY: f64 = 0.1;
/// How often each listed field joins a put or an update (one always does).
const FIELD_PROBABILITY: f64 = 0.5;

/// Draws every client's writes of the app and returns them in time order (ties: by client).
pub(super) fn generate(
    params: &Params,
    app: &AppSpec,
    lineage: &SchemaLineage,
    faults: &[TimedFault],
    rng: &mut impl RngCore,
) -> Vec<PlannedWrite> {
    let collections = Collections::new(params, app);
    let mut writes = Vec::new();
    for client in (1..=params.clients).map(NodeId::client) {
        let versions = versions_of(params, faults, client);
        for at_ms in client_times(params, rng) {
            let version = version_at(&versions, at_ms);
            let (name, workload) = collections.pick(rng);
            let record = workload.keys.pick(rng);
            let declared = lineage.schema(version).and_then(|s| s.collections.get(name));
            let fallback = CollectionSchema::default();
            let action = action(rng, workload, declared.unwrap_or(&fallback));
            writes.push(PlannedWrite {
                at_ms,
                client,
                collection: name.to_owned(),
                record,
                action,
                invalid: None,
                version: Some(version),
            });
        }
    }
    writes.sort_by_key(|write| (write.at_ms, write.client));
    writes
}

/// A client's version from each time on: its initial version at 0, then each upgrade's.
fn versions_of(params: &Params, faults: &[TimedFault], client: NodeId) -> Vec<(u64, u32)> {
    let initial = params.schema.client_versions[client.0 as usize - 1];
    let upgrades = faults.iter().filter_map(|timed| match timed.fault {
        Fault::Upgrade { client: upgraded, version } if upgraded == client => {
            Some((timed.at_ms, version))
        }
        _ => None,
    });
    std::iter::once((0, initial)).chain(upgrades).collect()
}

fn version_at(versions: &[(u64, u32)], at_ms: u64) -> u32 {
    versions.iter().take_while(|(from_ms, _)| *from_ms <= at_ms).last().map_or(1, |(_, v)| *v)
}

/// The written collections, ready to draw from.
struct Collections<'a> {
    /// Name, cumulative share, and how it is written.
    written: Vec<(&'a str, f64, Drawn<'a>)>,
}

/// One collection's workload with its defaults filled in.
struct Drawn<'a> {
    keys: Keys,
    mix: Mix,
    spec: Option<&'a CollectionWorkload>,
    text_chars: [u64; 2],
    bytes: [u64; 2],
}

impl<'a> Collections<'a> {
    fn new(params: &'a Params, app: &'a AppSpec) -> Collections<'a> {
        let mut total = 0.0;
        let written = params
            .workload
            .collections
            .iter()
            .map(|name| {
                let spec = app.collections.get(name);
                let defaults = CollectionWorkload::default();
                let settings = spec.unwrap_or(&defaults);
                total += settings.share;
                let records =
                    settings.records.map_or(params.workload.records, |records| records as u32);
                let drawn = Drawn {
                    keys: Keys::new(settings.keys, records),
                    mix: settings.mix.unwrap_or(params.workload.mix),
                    spec,
                    text_chars: settings.text_chars,
                    bytes: settings.bytes,
                };
                (name.as_str(), total, drawn)
            })
            .collect();
        Collections { written }
    }

    fn pick(&self, rng: &mut dyn RngCore) -> (&'a str, &Drawn<'a>) {
        let total = self.written.last().map_or(0.0, |(_, cumulative, _)| *cumulative);
        let draw = seed::unit_f64(rng) * total;
        let index = self.written.iter().position(|(_, cumulative, _)| draw < *cumulative);
        let (name, _, drawn) = &self.written[index.unwrap_or(self.written.len() - 1)];
        (name, drawn)
    }
}

/// A collection's key choice, prepared: Zipf keeps its cumulative weights.
enum Keys {
    Uniform { records: u32 },
    Zipf { cumulative: Vec<f64> },
    Hot { records: u32, hot: u32, share: f64 },
}

impl Keys {
    fn new(choice: KeyChoice, records: u32) -> Keys {
        match choice {
            KeyChoice::Uniform => Keys::Uniform { records },
            KeyChoice::Zipf(exponent) => {
                let mut total = 0.0;
                let cumulative = (0..records)
                    .map(|k| {
                        total += 1.0 / f64::from(k + 1).powf(exponent);
                        total
                    })
                    .collect();
                Keys::Zipf { cumulative }
            }
            KeyChoice::Hot { fraction, share } => {
                let hot = ((f64::from(records) * fraction).ceil() as u32).clamp(1, records);
                Keys::Hot { records, hot, share }
            }
        }
    }

    fn pick(&self, rng: &mut dyn RngCore) -> u32 {
        match self {
            Keys::Uniform { records } => seed::uniform_u64(rng, 0, u64::from(*records) - 1) as u32,
            Keys::Zipf { cumulative } => {
                let total = cumulative.last().copied().unwrap_or(0.0);
                let draw = seed::unit_f64(rng) * total;
                let index = cumulative.partition_point(|weight| *weight <= draw);
                index.min(cumulative.len() - 1) as u32
            }
            Keys::Hot { records, hot, share } => {
                if *hot == *records || seed::chance(rng, *share) {
                    seed::uniform_u64(rng, 0, u64::from(*hot) - 1) as u32
                } else {
                    seed::uniform_u64(rng, u64::from(*hot), u64::from(*records) - 1) as u32
                }
            }
        }
    }
}

/// The fields a `kind` of write may touch in this version: the listed ones (every one when the
/// workload lists none) that the version writes and whose policy suits the kind.
fn candidates<'s>(
    declared: &'s CollectionSchema,
    listed: Option<&[String]>,
    suits: impl Fn(&FieldSchema) -> bool,
) -> Vec<(&'s String, &'s FieldSchema)> {
    declared
        .fields
        .iter()
        .filter(|(_, field)| !field.deprecated && suits(field))
        .filter(|(name, _)| listed.is_none_or(|listed| listed.contains(name)))
        .collect()
}

fn action(rng: &mut dyn RngCore, drawn: &Drawn<'_>, declared: &CollectionSchema) -> WriteAction {
    let listed = |kind: &str| drawn.spec.and_then(|spec| spec.list(kind));
    let not_counter = |field: &FieldSchema| field.policy != MergePolicy::Counter;
    let kind = values::pick(rng, &drawn.mix);
    let counters = candidates(declared, listed("increment"), |f| f.policy == MergePolicy::Counter);
    let multi = candidates(declared, listed("resolve"), |f| f.policy == MergePolicy::MultiValue);
    let updated = candidates(declared, listed("update"), not_counter);
    match kind {
        Kind::Delete => WriteAction::Delete,
        Kind::Increment if !counters.is_empty() => {
            let (field, _) = counters[seed::index(rng, counters.len())];
            let delta = seed::uniform_i64(rng, 1, 10) * if seed::chance(rng, 0.5) { 1 } else { -1 };
            WriteAction::Increment { field: field.clone(), delta }
        }
        Kind::Resolve if !multi.is_empty() => {
            let (field, _) = multi[seed::index(rng, multi.len())];
            WriteAction::Resolve { field: field.clone() }
        }
        Kind::Update | Kind::Increment | Kind::Resolve if !updated.is_empty() => {
            WriteAction::Update { fields: some_of(rng, &updated, drawn) }
        }
        _ => {
            let required = |field: &FieldSchema| field.required && not_counter(field);
            let mut fields = BTreeMap::new();
            for (name, field) in candidates(declared, None, required) {
                fields.insert(name.clone(), value(rng, field, drawn));
            }
            let optional = candidates(declared, listed("put"), |f| !f.required && not_counter(f));
            fields.extend(some_of(rng, &optional, drawn));
            WriteAction::Put { fields }
        }
    }
}

/// Each candidate with probability one half, and at least one; empty if there are none.
fn some_of(
    rng: &mut dyn RngCore,
    candidates: &[(&String, &FieldSchema)],
    drawn: &Drawn<'_>,
) -> BTreeMap<String, Value> {
    let mut fields = BTreeMap::new();
    let chosen: Vec<bool> =
        candidates.iter().map(|_| seed::chance(rng, FIELD_PROBABILITY)).collect();
    let fallback = (!chosen.contains(&true) && !candidates.is_empty())
        .then(|| seed::index(rng, candidates.len()));
    for (index, (name, field)) in candidates.iter().enumerate() {
        if chosen[index] || fallback == Some(index) {
            fields.insert((*name).clone(), value(rng, field, drawn));
        }
    }
    fields
}

fn value(rng: &mut dyn RngCore, field: &FieldSchema, drawn: &Drawn<'_>) -> Value {
    match field.ty {
        FieldType::Str if field.policy == MergePolicy::MultiValue => values::tag(rng),
        FieldType::Str if !field.required && seed::chance(rng, TEXT_NULL_PROBABILITY) => {
            Value::Null
        }
        FieldType::Str => {
            let [least, most] = drawn.text_chars;
            Value::Str(values::text(rng, least, most))
        }
        FieldType::Bytes => {
            let [least, most] = drawn.bytes;
            let len = seed::uniform_u64(rng, least, most);
            Value::Bytes((0..len).map(|_| seed::uniform_u64(rng, 0, 255) as u8).collect())
        }
        FieldType::I64 => values::integer(rng),
        FieldType::F64 => values::weight(rng),
        FieldType::Bool => Value::Bool(seed::chance(rng, 0.5)),
    }
}
