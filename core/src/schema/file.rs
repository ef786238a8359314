//! The app's schema lineage in a TOML file, so that a server is configured, not recompiled,
//! per app. A file declares the base version's collections and fields, then each later
//! version's migration steps:
//!
//! ```toml
//! version = 1                       # the base version's number (default 1)
//!
//! [collections.notes]
//! title = { type = "string", required = true }
//! count = { type = "i64", merge = "counter" }
//!
//! [[versions]]
//! version = 2
//! steps = [
//!   { step = "add-field", collection = "notes", field = "priority", type = "i64", default = 0 },
//!   { step = "rename-field", collection = "notes", from = "title", to = "heading" },
//! ]
//! ```
//!
//! Types are `bool`, `i64`, `f64`, `string` and `bytes`; merge policies `last-writer-wins`
//! (the default), `counter`, `max`, `min` and `multi-value`; steps `add-field`,
//! `rename-field`, `remove-field` and `change-type` (with converters `up` and an optional
//! `down`, such as `bool-to-i64`). The base schema is checked as [`Schema::check`] checks it
//! and every version is built by [`SchemaLineage::evolve`], so a file passes exactly the
//! checks a lineage built in code does; an error names the file, the line and the field.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::merge::MergePolicy;
use crate::schema::{CollectionSchema, Converter, FieldSchema, LineageError, Schema};
use crate::schema::{SchemaLineage, Step};
use crate::value::{FieldType, Value};

/// A schema file that cannot be used, with where in it and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaFileError {
    pub file: String,
    pub line: usize,
    /// `collection.field`, when the problem is one field's.
    pub field: Option<String>,
    pub problem: String,
}

impl fmt::Display for SchemaFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.problem)
    }
}

impl std::error::Error for SchemaFileError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Option<Spanned<u32>>,
    collections: BTreeMap<String, BTreeMap<String, Spanned<RawField>>>,
    #[serde(default)]
    versions: Vec<Spanned<RawVersion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    #[serde(rename = "type")]
    ty: String,
    merge: Option<String>,
    #[serde(default)]
    required: bool,
    default: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    version: u32,
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case", deny_unknown_fields)]
enum RawStep {
    AddField {
        collection: String,
        field: String,
        #[serde(rename = "type")]
        ty: String,
        merge: Option<String>,
        #[serde(default)]
        required: bool,
        default: Option<toml::Value>,
    },
    RenameField {
        collection: String,
        from: String,
        to: String,
    },
    RemoveField {
        collection: String,
        field: String,
    },
    ChangeType {
        collection: String,
        field: String,
        up: String,
        down: Option<String>,
    },
}

/// Reads a schema file's text; `file` names it in errors.
pub(crate) fn parse(file: &str, text: &str) -> Result<SchemaLineage, SchemaFileError> {
    let at = |span: std::ops::Range<usize>, field: Option<String>, problem: String| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        SchemaFileError { file: file.to_owned(), line, field, problem }
    };
    let raw: RawFile = toml::from_str(text).map_err(|error| {
        let problem = error.message().to_owned();
        at(error.span().unwrap_or(0..0), None, problem)
    })?;
    let base_version = raw.version.as_ref().map_or(1, |v| *v.get_ref());
    let mut base = Schema::new(base_version);
    for (collection, fields) in raw.collections {
        let mut declared = CollectionSchema::default();
        for (name, field) in fields {
            let where_ = Some(format!("{collection}.{name}"));
            let span = field.span();
            let RawField { ty, merge, required, default } = field.into_inner();
            let schema = field_schema(&ty, merge.as_deref(), required, default)
                .map_err(|problem| at(span.clone(), where_.clone(), problem))?;
            declared = declared.field(name, schema);
        }
        base = base.collection(collection, declared);
    }
    let base_span = raw.version.as_ref().map_or(0..0, Spanned::span);
    base.check().map_err(|error| lineage_error(&at, base_span, error))?;
    let mut lineage = SchemaLineage::new(base);
    for version in raw.versions {
        let version_span = version.span();
        let RawVersion { version: number, steps } = version.into_inner();
        if number != lineage.latest() + 1 {
            let problem =
                format!("version {number} follows {}; versions count up by one", lineage.latest());
            return Err(at(version_span, None, problem));
        }
        let mut built = Vec::new();
        let mut spans = Vec::new();
        for step in steps {
            let span = step.span();
            built.push(
                step_of(step.into_inner())
                    .map_err(|(field, problem)| at(span.clone(), field, problem))?,
            );
            spans.push(span);
        }
        let blamed = |error: &LineageError| {
            let names = |step: &Step| step_names(step, error);
            built.iter().position(names).map_or(version_span.clone(), |i| spans[i].clone())
        };
        lineage = lineage
            .evolve(built.clone())
            .map_err(|error| lineage_error(&at, blamed(&error), error))?;
    }
    Ok(lineage)
}

/// Whether `step` is the one a lineage error is about: it names the error's field.
fn step_names(step: &Step, error: &LineageError) -> bool {
    let (collection, fields): (&str, Vec<&str>) = match step {
        Step::AddField { collection, field, .. }
        | Step::RemoveField { collection, field }
        | Step::ChangeType { collection, field, .. } => (collection, vec![field]),
        Step::RenameField { collection, from, to } => (collection, vec![from, to]),
    };
    error.collection.as_deref() == Some(collection)
        && error.field.as_deref().is_none_or(|field| fields.contains(&field))
}

fn lineage_error(
    at: &impl Fn(std::ops::Range<usize>, Option<String>, String) -> SchemaFileError,
    span: std::ops::Range<usize>,
    error: LineageError,
) -> SchemaFileError {
    let field = match (&error.collection, &error.field) {
        (Some(collection), Some(field)) => Some(format!("{collection}.{field}")),
        (Some(collection), None) => Some(collection.clone()),
        _ => None,
    };
    at(span, field, format!("v{}: {}", error.version, error.problem))
}

fn step_of(raw: RawStep) -> Result<Step, (Option<String>, String)> {
    Ok(match raw {
        RawStep::AddField { collection, field, ty, merge, required, default } => {
            let schema = field_schema(&ty, merge.as_deref(), required, default)
                .map_err(|problem| (Some(format!("{collection}.{field}")), problem))?;
            Step::AddField { collection, field, schema }
        }
        RawStep::RenameField { collection, from, to } => Step::RenameField { collection, from, to },
        RawStep::RemoveField { collection, field } => Step::RemoveField { collection, field },
        RawStep::ChangeType { collection, field, up, down } => {
            let named = || Some(format!("{collection}.{field}"));
            let up = converter(&up).map_err(|problem| (named(), problem))?;
            let down =
                down.as_deref().map(converter).transpose().map_err(|problem| (named(), problem))?;
            Step::ChangeType { collection, field, up, down }
        }
    })
}

fn field_schema(
    ty: &str,
    merge: Option<&str>,
    required: bool,
    default: Option<toml::Value>,
) -> Result<FieldSchema, String> {
    let ty = field_type(ty)?;
    let policy = merge.map_or(Ok(MergePolicy::LastWriterWins), merge_policy)?;
    let mut schema = FieldSchema::new(ty, policy);
    schema.required = required;
    schema.default = default.map(|value| default_value(ty, value)).transpose()?;
    Ok(schema)
}

fn field_type(name: &str) -> Result<FieldType, String> {
    by_name("type", name, &FieldType::ALL, |ty| ty.name().to_owned())
}

fn merge_policy(name: &str) -> Result<MergePolicy, String> {
    by_name("merge policy", name, &MergePolicy::ALL, |policy| policy.name().to_owned())
}

fn converter(name: &str) -> Result<Converter, String> {
    by_name("converter", name, &Converter::ALL, |converter| converter.name())
}

/// The one of `all` that `name_of` calls `name`, or an error that lists every name.
fn by_name<T: Copy>(
    kind: &str,
    name: &str,
    all: &[T],
    name_of: impl Fn(&T) -> String,
) -> Result<T, String> {
    all.iter().find(|item| name_of(item) == name).copied().ok_or_else(|| {
        let known: Vec<_> = all.iter().map(&name_of).collect();
        format!("unknown {kind} `{name}`; one of {}", known.join(", "))
    })
}

/// A TOML default as a value of the declared type: bytes as an array of integers 0 to 255.
fn default_value(ty: FieldType, value: toml::Value) -> Result<Value, String> {
    let found = value.type_str();
    let converted = match (ty, value) {
        (FieldType::Bool, toml::Value::Boolean(b)) => Some(Value::Bool(b)),
        (FieldType::I64, toml::Value::Integer(n)) => Some(Value::I64(n)),
        (FieldType::F64, toml::Value::Float(x)) => Some(Value::F64(x)),
        (FieldType::F64, toml::Value::Integer(n)) => Some(Value::F64(n as f64)),
        (FieldType::Str, toml::Value::String(s)) => Some(Value::Str(s)),
        (FieldType::Bytes, toml::Value::Array(items)) => items
            .into_iter()
            .map(|item| item.as_integer().and_then(|n| u8::try_from(n).ok()))
            .collect::<Option<Vec<u8>>>()
            .map(Value::Bytes),
        _ => None,
    };
    converted.ok_or_else(|| format!("default is a TOML {found}, not a {ty}"))
}
