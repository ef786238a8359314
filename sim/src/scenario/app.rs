//! `[app]`: the user's own app in the simulator: its schema file (or the file's text inline)
//! and, per collection, how its users write: how often, to which keys, which fields, with how
//! large values.
//!
//! ```toml
//! [app]
//! schema = "../schemas/tasks.toml"      # relative to the scenario file
//!
//! [app.collections.tasks]
//! share = 3                             # of the writes, relative to the other collections
//! records = 200
//! keys = { zipf = 1.1 }   # or "uniform", or { hot = { fraction = 0.05, share = 0.8 } }
//! mix = { put = 0.3, update = 0.5, delete = 0.05, increment = 0.15 }
//! put = ["title", "owner"]              # the fields a put sets besides the required ones
//! update = ["done", "owner"]            # the fields an update picks from
//! text_chars = [0, 200]                 # string lengths
//! ```
//!
//! A collection of the schema without a table of its own is written with the defaults: share
//! 1, `workload.records` records, uniform keys, `workload.mix`, every field, values of up to 64
//! characters or 32 bytes. A field may be named by any of the names it has in the lineage's
//! versions; a client writes those of the listed fields its own version has.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use driftsync_core::{MergePolicy, SchemaLineage};
use serde::{Deserialize, Serialize};

use super::error::{ScenarioError, Violation};
use super::limits;
use super::spec::Mix;

/// `[app]`, with the schema's text held once the scenario is loaded, so a plan (and so a repro
/// file) carries the whole app and replays without the schema file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// The schema file, relative to the scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<PathBuf>,
    /// The schema file's text, written in the scenario instead of `schema`; filled from the
    /// file when the scenario names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_toml: Option<String>,
    /// How each collection is written; collections left out get the defaults.
    #[serde(default)]
    pub collections: BTreeMap<String, CollectionWorkload>,
}

/// `[app.collections.<name>]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectionWorkload {
    /// This collection's part of the writes, relative to the others' (0: never written).
    pub share: f64,
    /// Records in the collection [default: `workload.records`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// How a write picks its record.
    pub keys: KeyChoice,
    /// The write mix [default: `workload.mix`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<Mix>,
    /// Fields a put may set besides the required ones [default: every non-counter field].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub put: Option<Vec<String>>,
    /// Fields an update picks from [default: every non-counter field].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<Vec<String>>,
    /// Counter fields an increment picks from [default: every counter].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub increment: Option<Vec<String>>,
    /// Multi-value fields a person resolves [default: every multi-value field].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve: Option<Vec<String>>,
    /// Least and most characters of a string value.
    pub text_chars: [u64; 2],
    /// Least and most bytes of a bytes value.
    pub bytes: [u64; 2],
}

impl Default for CollectionWorkload {
    fn default() -> Self {
        CollectionWorkload {
            share: 1.0,
            records: None,
            keys: KeyChoice::Uniform,
            mix: None,
            put: None,
            update: None,
            increment: None,
            resolve: None,
            text_chars: [0, 64],
            bytes: [0, 32],
        }
    }
}

/// How a write picks its record among a collection's `records`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyChoice {
    /// Every record alike.
    #[default]
    Uniform,
    /// Record `k` (from 0) with weight `1 / (k + 1)^s`: a few records take most writes.
    Zipf(f64),
    /// A hot set: `fraction` of the records take `share` of the writes, uniformly.
    Hot { fraction: f64, share: f64 },
}

/// Whether a field of a merge policy may be named in a field list.
type Suits = fn(MergePolicy) -> bool;

/// The kinds of write a field list serves, and what policy its fields must have.
const LISTS: [(&str, Suits); 4] = [
    ("put", |policy| policy != MergePolicy::Counter),
    ("update", |policy| policy != MergePolicy::Counter),
    ("increment", |policy| policy == MergePolicy::Counter),
    ("resolve", |policy| policy == MergePolicy::MultiValue),
];

impl CollectionWorkload {
    /// The field list of one kind of write (`put`, `update`, `increment` or `resolve`).
    pub fn list(&self, kind: &str) -> Option<&[String]> {
        match kind {
            "put" => self.put.as_deref(),
            "update" => self.update.as_deref(),
            "increment" => self.increment.as_deref(),
            "resolve" => self.resolve.as_deref(),
            _ => None,
        }
    }
}

impl AppSpec {
    /// The app's lineage; `file` names the schema in errors.
    pub fn lineage(&self) -> Result<SchemaLineage, String> {
        let text = self.schema_toml.as_deref().ok_or("the app has no schema")?;
        SchemaLineage::from_toml(&self.schema_label(), text).map_err(|error| error.to_string())
    }

    /// The app's lineage up to `version_max`: the versions a run's nodes speak, so that the
    /// latest is the newest in play, as the checkers expect.
    pub fn lineage_up_to(&self, version_max: u32) -> Result<SchemaLineage, String> {
        let full = self.lineage()?;
        let base = full.schema(full.first()).cloned().ok_or("the lineage has no first version")?;
        let mut lineage = SchemaLineage::new(base);
        for version in full.first() + 1..=version_max.min(full.latest()) {
            let steps = full.steps_into(version).to_vec();
            lineage = lineage.evolve(steps).map_err(|error| error.to_string())?;
        }
        Ok(lineage)
    }

    fn schema_label(&self) -> String {
        self.schema
            .as_ref()
            .map_or_else(|| "[app] schema_toml".to_owned(), |p| p.display().to_string())
    }

    /// The collections written, in name order: those of the schema whose share is not 0.
    pub fn written_collections(&self, lineage: &SchemaLineage) -> Vec<String> {
        let first = lineage.schema(lineage.first()).map(|s| s.collections.keys().cloned());
        first
            .into_iter()
            .flatten()
            .filter(|name| self.collections.get(name).is_none_or(|c| c.share > 0.0))
            .collect()
    }
}

/// Reads the schema file a scenario names (relative to the scenario's folder) into the spec,
/// and checks the app against its lineage. Errors name the scenario or schema file, the line
/// and the field.
pub(super) fn resolve(
    scenario_file: &Path,
    app: &mut AppSpec,
    line_of: &dyn Fn(&str) -> Option<usize>,
) -> Result<SchemaLineage, ScenarioError> {
    let in_scenario = |violation: Violation| ScenarioError {
        file: scenario_file.to_owned(),
        line: line_of(&violation.field),
        field: violation.field,
        message: violation.message,
    };
    match (&app.schema, &app.schema_toml) {
        (Some(path), None) => {
            let full = scenario_file.parent().unwrap_or(Path::new("")).join(path);
            let text = std::fs::read_to_string(&full).map_err(|error| {
                in_scenario(Violation::new(
                    "app.schema",
                    format!("cannot read the schema file {}: {error}", full.display()),
                ))
            })?;
            app.schema = Some(full);
            app.schema_toml = Some(text);
        }
        (None, Some(_)) => {}
        _ => {
            let message = "name the schema file (`schema`) or write it inline (`schema_toml`), \
                           not both";
            return Err(in_scenario(Violation::new("app", message)));
        }
    }
    let lineage = lineage_of(scenario_file, app, line_of)?;
    check_collections(app, &lineage).map_err(in_scenario)?;
    Ok(lineage)
}

/// The lineage, or the schema's error: in the schema file, or at its line inside the scenario.
fn lineage_of(
    scenario_file: &Path,
    app: &AppSpec,
    line_of: &dyn Fn(&str) -> Option<usize>,
) -> Result<SchemaLineage, ScenarioError> {
    let text = app.schema_toml.as_deref().unwrap_or_default();
    let label = app.schema_label();
    SchemaLineage::from_toml(&label, text).map_err(|error| {
        let field = error.field.clone().unwrap_or_default();
        match &app.schema {
            Some(path) => ScenarioError {
                file: path.clone(),
                line: Some(error.line),
                field,
                message: error.problem,
            },
            // Inline, the schema's first line is the one after `schema_toml = '''`.
            None => ScenarioError {
                file: scenario_file.to_owned(),
                line: line_of("app.schema_toml").map(|start| start + error.line),
                field: format!("app.schema_toml: {field}"),
                message: error.problem,
            },
        }
    })
}

fn check_collections(app: &AppSpec, lineage: &SchemaLineage) -> Result<(), Violation> {
    for (name, workload) in &app.collections {
        let at = |key: &str| format!("app.collections.{name}.{key}");
        let policies = field_policies(lineage, name);
        if policies.is_empty() {
            return Err(Violation::new(
                format!("app.collections.{name}"),
                format!("the schema has no collection \"{name}\""),
            ));
        }
        if !(workload.share.is_finite() && (0.0..=limits::MIX_WEIGHT_MAX).contains(&workload.share))
        {
            return Err(Violation::new(
                at("share"),
                format!("must be within [0, {}]", limits::MIX_WEIGHT_MAX),
            ));
        }
        if let Some(records) = workload.records
            && !(1..=limits::RECORDS_MAX).contains(&records)
        {
            return Err(Violation::new(
                at("records"),
                format!("must be within [1, {}], found {records}", limits::RECORDS_MAX),
            ));
        }
        check_keys(&at("keys"), workload.keys)?;
        if let Some(mix) = &workload.mix {
            super::validate::check_mix(&at("mix"), mix)?;
        }
        for (kind, fits) in LISTS {
            for (index, field) in workload.list(kind).unwrap_or_default().iter().enumerate() {
                let place = format!("{}[{index}]", at(kind));
                match policies.get(field.as_str()) {
                    None => {
                        let message = format!(
                            "collection \"{name}\" has no field \"{field}\" in any version"
                        );
                        return Err(Violation::new(place, message));
                    }
                    Some(policy) if !fits(*policy) => {
                        let message = format!(
                            "field \"{field}\" merges by {policy:?}, which a {kind} cannot write"
                        );
                        return Err(Violation::new(place, message));
                    }
                    Some(_) => {}
                }
            }
        }
        check_size(&at("text_chars"), workload.text_chars, limits::TEXT_CHARS_MAX)?;
        check_size(&at("bytes"), workload.bytes, limits::BYTES_MAX)?;
    }
    if app.written_collections(lineage).is_empty() {
        return Err(Violation::new(
            "app.collections",
            "every collection has share 0: nothing would be written",
        ));
    }
    Ok(())
}

/// Every name a field of `collection` has in any version, with its merge policy.
fn field_policies(lineage: &SchemaLineage, collection: &str) -> BTreeMap<String, MergePolicy> {
    let mut policies = BTreeMap::new();
    for version in lineage.first()..=lineage.latest() {
        let fields = lineage.schema(version).and_then(|schema| schema.collections.get(collection));
        for (name, field) in fields.into_iter().flat_map(|c| &c.fields) {
            policies.insert(name.clone(), field.policy);
        }
    }
    policies
}

fn check_keys(field: &str, keys: KeyChoice) -> Result<(), Violation> {
    match keys {
        KeyChoice::Uniform => Ok(()),
        KeyChoice::Zipf(exponent) if exponent.is_finite() && exponent > 0.0 && exponent <= 10.0 => {
            Ok(())
        }
        KeyChoice::Zipf(exponent) => Err(Violation::new(
            field,
            format!("the Zipf exponent must be within (0, 10], found {exponent}"),
        )),
        KeyChoice::Hot { fraction, share }
            if fraction > 0.0 && fraction < 1.0 && (0.0..=1.0).contains(&share) =>
        {
            Ok(())
        }
        KeyChoice::Hot { fraction, share } => Err(Violation::new(
            field,
            format!(
                "a hot set needs 0 < fraction < 1 and 0 <= share <= 1, found {fraction} and {share}"
            ),
        )),
    }
}

fn check_size(field: &str, [lo, hi]: [u64; 2], max: u64) -> Result<(), Violation> {
    if lo > hi || hi > max {
        return Err(Violation::new(
            field,
            format!("must be [least, most] with least <= most <= {max}, found [{lo}, {hi}]"),
        ));
    }
    Ok(())
}
