//! Numbered schema versions joined by declarative migration steps.
//!
//! A lineage starts from a base [`Schema`] and grows one version at a time
//! ([`SchemaLineage::evolve`]); each version's schema is derived from the one before by its
//! steps, so the steps are the single source of truth for both the shapes and the migrations.
//! Everything that can be wrong with a step is found when the lineage is built: a step that
//! names a missing field fails at once, and a step that cannot be undone is recorded, so a
//! policy that would serve data across it is refused when the server is configured
//! ([`crate::schema::VersionPolicy::check`]), never discovered at run time.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::merge::MergePolicy;
use crate::schema::{FieldSchema, Schema, SchemaFileError};
use crate::value::{FieldType, Value};

/// One declarative change between adjacent versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// A new field. Its declaration must carry a default: records and puts from older
    /// versions lack it and read as the default.
    AddField {
        collection: String,
        field: String,
        schema: FieldSchema,
    },
    RenameField {
        collection: String,
        from: String,
        to: String,
    },
    /// Deprecates a field: readers of the new version no longer see it, but it is still stored
    /// and merged, so older clients keep their data and a rollback loses nothing. Reversible
    /// when older versions can do without it: it is optional there or has a default.
    RemoveField {
        collection: String,
        field: String,
    },
    /// Changes a last-writer-wins field's type. `down` converts back for older readers; without
    /// it the step is one-way and older versions cannot be served data written after it.
    ChangeType {
        collection: String,
        field: String,
        up: Converter,
        down: Option<Converter>,
    },
}

/// A value conversion between two field types. `Null` always converts to `Null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Converter {
    /// Decimal text; never fails.
    I64ToStr,
    /// Parses decimal text; fails on anything else.
    StrToI64,
    /// Fails above 2^53 in magnitude, where an f64 can no longer hold every integer: a
    /// conversion either keeps the exact value or refuses.
    I64ToF64,
    /// Fails unless the float is integral and in range.
    F64ToI64,
    /// `true` is 1, `false` is 0; never fails.
    BoolToI64,
    /// Fails unless the integer is 0 or 1.
    I64ToBool,
}

impl Converter {
    /// Every converter.
    pub(crate) const ALL: [Converter; 6] = [
        Converter::I64ToStr,
        Converter::StrToI64,
        Converter::I64ToF64,
        Converter::F64ToI64,
        Converter::BoolToI64,
        Converter::I64ToBool,
    ];

    /// Its name in a schema file: `bool-to-i64`, `i64-to-string`, …
    pub(crate) fn name(self) -> String {
        format!("{}-to-{}", self.from_type(), self.to_type())
    }

    pub fn from_type(self) -> FieldType {
        match self {
            Converter::I64ToStr | Converter::I64ToF64 | Converter::I64ToBool => FieldType::I64,
            Converter::StrToI64 => FieldType::Str,
            Converter::F64ToI64 => FieldType::F64,
            Converter::BoolToI64 => FieldType::Bool,
        }
    }

    pub fn to_type(self) -> FieldType {
        match self {
            Converter::I64ToStr => FieldType::Str,
            Converter::StrToI64 | Converter::F64ToI64 | Converter::BoolToI64 => FieldType::I64,
            Converter::I64ToF64 => FieldType::F64,
            Converter::I64ToBool => FieldType::Bool,
        }
    }

    /// Converts one value, or says why it cannot.
    pub fn convert(self, value: &Value) -> Result<Value, String> {
        let refuse =
            || format!("cannot convert {} {value} to {}", value.kind_name(), self.to_type());
        match (self, value) {
            (_, Value::Null) => Ok(Value::Null),
            (Converter::I64ToStr, Value::I64(n)) => Ok(Value::Str(n.to_string())),
            (Converter::StrToI64, Value::Str(s)) => s.parse().map(Value::I64).map_err(|_| refuse()),
            (Converter::I64ToF64, Value::I64(n)) if n.unsigned_abs() <= F64_EXACT_INTEGER_MAX => {
                Ok(Value::F64(*n as f64))
            }
            (Converter::F64ToI64, Value::F64(x)) => {
                // The cast saturates; the round trip tells an exact integer from a clipped one.
                let n = *x as i64;
                if n as f64 == *x { Ok(Value::I64(n)) } else { Err(refuse()) }
            }
            (Converter::BoolToI64, Value::Bool(b)) => Ok(Value::I64(i64::from(*b))),
            (Converter::I64ToBool, Value::I64(0)) => Ok(Value::Bool(false)),
            (Converter::I64ToBool, Value::I64(1)) => Ok(Value::Bool(true)),
            _ => Err(refuse()),
        }
    }
}

/// The largest integer magnitude below which every integer has an exact f64.
const F64_EXACT_INTEGER_MAX: u64 = 1 << 53;

/// A step that is not valid where it stands, or a policy the lineage cannot serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineageError {
    /// The version the offending step produces (or the version a policy wants to serve).
    pub version: u32,
    pub collection: Option<String>,
    pub field: Option<String>,
    pub problem: String,
}

impl fmt::Display for LineageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "schema v{}", self.version)?;
        if let Some(collection) = &self.collection {
            write!(f, " {collection}")?;
            if let Some(field) = &self.field {
                write!(f, ".{field}")?;
            }
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for LineageError {}

/// Versions `first..=latest`, each derived from the previous by its steps.
///
/// Serialized as its base and steps, and deserialized by checking the base and replaying
/// every step through [`SchemaLineage::evolve`], so a lineage read from outside passes the
/// checks one built in code does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "LineageSource", try_from = "LineageSource")]
pub struct SchemaLineage {
    schemas: Vec<Schema>,
    /// `steps[i]` leads from `schemas[i]` to `schemas[i + 1]`.
    steps: Vec<Vec<Step>>,
    /// For each version (same indexing as `schemas`), why data cannot be migrated down across
    /// it to the version below, if it cannot.
    one_way: Vec<Option<String>>,
}

/// What a lineage is made from: its base and the steps of each later version.
#[derive(Serialize, Deserialize)]
struct LineageSource {
    base: Schema,
    steps: Vec<Vec<Step>>,
}

impl From<SchemaLineage> for LineageSource {
    fn from(mut lineage: SchemaLineage) -> LineageSource {
        LineageSource { base: lineage.schemas.swap_remove(0), steps: lineage.steps }
    }
}

impl TryFrom<LineageSource> for SchemaLineage {
    type Error = LineageError;

    fn try_from(source: LineageSource) -> Result<SchemaLineage, LineageError> {
        source.base.check()?;
        source.steps.into_iter().try_fold(SchemaLineage::new(source.base), SchemaLineage::evolve)
    }
}

impl SchemaLineage {
    /// Reads a lineage from the text of a schema file (see [the file format](SchemaFileError)
    /// and the README); `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<SchemaLineage, SchemaFileError> {
        super::file::parse(file, text)
    }

    /// A lineage of one version. The base is trusted as built in code; one read from
    /// outside goes through [`Schema::check`] first, as [`SchemaLineage::from_toml`] and
    /// deserialization do.
    pub fn new(base: Schema) -> SchemaLineage {
        SchemaLineage { schemas: vec![base], steps: Vec::new(), one_way: vec![None] }
    }

    /// Adds the next version, derived from the latest by `steps`.
    pub fn evolve(mut self, steps: Vec<Step>) -> Result<SchemaLineage, LineageError> {
        let version = self.latest() + 1;
        let mut schema = self.latest_schema().clone();
        schema.version = version;
        let mut one_way = None;
        for step in &steps {
            if let Some(why) = apply_step(&mut schema, step)? {
                one_way.get_or_insert(why);
            }
        }
        self.schemas.push(schema);
        self.steps.push(steps);
        self.one_way.push(one_way);
        Ok(self)
    }

    pub fn first(&self) -> u32 {
        self.schemas[0].version
    }

    pub fn latest(&self) -> u32 {
        self.latest_schema().version
    }

    pub fn latest_schema(&self) -> &Schema {
        self.schemas.last().expect("a lineage holds at least its base version")
    }

    pub fn contains(&self, version: u32) -> bool {
        (self.first()..=self.latest()).contains(&version)
    }

    /// The schema of `version`, if the lineage has it.
    pub fn schema(&self, version: u32) -> Option<&Schema> {
        let index = version.checked_sub(self.first())?;
        self.schemas.get(index as usize)
    }

    /// The steps that lead from `version - 1` to `version`.
    pub fn steps_into(&self, version: u32) -> &[Step] {
        let index = version.checked_sub(self.first() + 1).map(|i| i as usize);
        index.and_then(|i| self.steps.get(i)).map_or(&[], Vec::as_slice)
    }

    /// Why data of `from` cannot be migrated down to `to`, if it cannot: the first one-way
    /// step between them, newest first.
    pub fn one_way_between(&self, to: u32, from: u32) -> Option<(u32, &str)> {
        (to.saturating_add(1)..=from).rev().find_map(|version| {
            let index = version.checked_sub(self.first())? as usize;
            self.one_way.get(index)?.as_deref().map(|why| (version, why))
        })
    }

    /// The oldest version data of `version` can be migrated down to.
    pub fn reachable_from(&self, version: u32) -> u32 {
        self.one_way_between(self.first(), version).map_or(self.first(), |(v, _)| v)
    }
}

/// Applies one step to `schema` (the new version); returns why the step is one-way, if it is.
fn apply_step(schema: &mut Schema, step: &Step) -> Result<Option<String>, LineageError> {
    let version = schema.version;
    let (collection, field) = match step {
        Step::AddField { collection, field, .. }
        | Step::RemoveField { collection, field }
        | Step::ChangeType { collection, field, .. } => (collection, field),
        Step::RenameField { collection, from, .. } => (collection, from),
    };
    let Some(fields) = schema.collections.get_mut(collection).map(|c| &mut c.fields) else {
        return Err(step_error(version, collection, field, "unknown collection"));
    };
    let target = StepTarget { version, collection, field, fields };
    match step {
        Step::AddField { schema: declared, .. } => target.add(declared),
        Step::RenameField { to, .. } => target.rename(to),
        Step::RemoveField { .. } => target.remove(),
        Step::ChangeType { up, down, .. } => target.change_type(up, down.as_ref()),
    }
}

fn step_error(
    version: u32,
    collection: &str,
    field: &str,
    problem: impl Into<String>,
) -> LineageError {
    LineageError {
        version,
        collection: Some(collection.to_owned()),
        field: Some(field.to_owned()),
        problem: problem.into(),
    }
}

/// The field one step changes, in the collection of the new version that holds it.
struct StepTarget<'a> {
    version: u32,
    collection: &'a str,
    field: &'a str,
    fields: &'a mut BTreeMap<String, FieldSchema>,
}

impl StepTarget<'_> {
    fn error(&self, field: &str, problem: impl Into<String>) -> LineageError {
        step_error(self.version, self.collection, field, problem)
    }

    fn add(self, declared: &FieldSchema) -> Result<Option<String>, LineageError> {
        if self.fields.contains_key(self.field) {
            return Err(self.error(self.field, "already exists"));
        }
        match &declared.default {
            None => {
                let problem = "an added field needs a default for records written before it";
                return Err(self.error(self.field, problem));
            }
            Some(default) if !fits(declared, default) => {
                let problem = format!("default {default} is not a {}", declared.ty);
                return Err(self.error(self.field, problem));
            }
            Some(_) => {}
        }
        let declared = FieldSchema { deprecated: false, ..declared.clone() };
        self.fields.insert(self.field.to_owned(), declared);
        Ok(None)
    }

    fn rename(self, to: &str) -> Result<Option<String>, LineageError> {
        if self.fields.contains_key(to) {
            return Err(self.error(to, "a renamed field's new name is taken"));
        }
        let Some(declared) = self.fields.remove(self.field).filter(|f| !f.deprecated) else {
            return Err(self.error(self.field, "no such field to rename"));
        };
        self.fields.insert(to.to_owned(), declared);
        Ok(None)
    }

    fn remove(self) -> Result<Option<String>, LineageError> {
        let (collection, field, version) = (self.collection, self.field, self.version);
        let Some(declared) = self.fields.get_mut(field).filter(|f| !f.deprecated) else {
            return Err(self.error(field, "no such field to remove"));
        };
        declared.deprecated = true;
        // Newer puts leave the field out; older readers still require it.
        Ok((!declared.may_be_absent()).then(|| {
            format!("{collection}.{field} is required before v{version} and has no default")
        }))
    }

    fn change_type(
        self,
        up: &Converter,
        down: Option<&Converter>,
    ) -> Result<Option<String>, LineageError> {
        let (collection, field) = (self.collection, self.field);
        let error = |problem: String| self.error(field, problem);
        let Some(declared) = self.fields.get(field).filter(|f| !f.deprecated) else {
            return Err(error("no such field to retype".to_owned()));
        };
        if declared.policy != MergePolicy::LastWriterWins {
            return Err(error(format!(
                "only last-writer-wins fields change type; converting a {} field would change \
                 how its values merge",
                declared.policy.name()
            )));
        }
        if up.from_type() != declared.ty {
            let problem = format!("converter {up:?} reads {}, not {}", up.from_type(), declared.ty);
            return Err(error(problem));
        }
        if let Some(down) = down
            && (down.from_type() != up.to_type() || down.to_type() != declared.ty)
        {
            return Err(error(format!("converter {down:?} does not undo {up:?}")));
        }
        let default = match &declared.default {
            Some(default) => Some(up.convert(default).map_err(error)?),
            None => None,
        };
        let mut retyped = declared.clone();
        retyped.default = default;
        retyped.ty = up.to_type();
        self.fields.insert(field.to_owned(), retyped);
        Ok(down.is_none().then(|| format!("{collection}.{field} changes type one way only")))
    }
}

pub(super) fn fits(declared: &FieldSchema, value: &Value) -> bool {
    match value.field_type() {
        None => !declared.required,
        Some(ty) => ty == declared.ty,
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::AddField { collection, field, schema } => {
                write!(f, "add {collection}.{field}: {}", schema.ty)
            }
            Step::RenameField { collection, from, to } => {
                write!(f, "rename {collection}.{from} to {to}")
            }
            Step::RemoveField { collection, field } => write!(f, "remove {collection}.{field}"),
            Step::ChangeType { collection, field, up, .. } => {
                write!(f, "retype {collection}.{field} to {}", up.to_type())
            }
        }
    }
}
