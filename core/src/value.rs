//! Field values and their types.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A field value. Floats compare by their total order (`f64::total_cmp`), so every replica
/// orders and compares them the same way, NaN included.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    I64(i64),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
}

/// The type a schema declares for a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FieldType {
    Bool,
    I64,
    F64,
    Str,
    Bytes,
}

impl Value {
    /// The value's type, or `None` for `Null` (which any optional field accepts).
    pub fn field_type(&self) -> Option<FieldType> {
        match self {
            Value::Null => None,
            Value::Bool(_) => Some(FieldType::Bool),
            Value::I64(_) => Some(FieldType::I64),
            Value::F64(_) => Some(FieldType::F64),
            Value::Str(_) => Some(FieldType::Str),
            Value::Bytes(_) => Some(FieldType::Bytes),
        }
    }

    /// A short name of what this value is, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self.field_type() {
            None => "null",
            Some(ty) => ty.name(),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::I64(_) => 2,
            Value::F64(_) => 3,
            Value::Str(_) => 4,
            Value::Bytes(_) => 5,
        }
    }
}

impl FieldType {
    /// Every type, for finding one by name.
    pub(crate) const ALL: [FieldType; 5] =
        [FieldType::Bool, FieldType::I64, FieldType::F64, FieldType::Str, FieldType::Bytes];

    pub fn name(self) -> &'static str {
        match self {
            FieldType::Bool => "bool",
            FieldType::I64 => "i64",
            FieldType::F64 => "f64",
            FieldType::Str => "string",
            FieldType::Bytes => "bytes",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::I64(a), Value::I64(b)) => a.cmp(b),
            (Value::F64(a), Value::F64(b)) => a.total_cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::I64(n) => write!(f, "{n}"),
            Value::F64(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "<{} bytes>", b.len()),
        }
    }
}
