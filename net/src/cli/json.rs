//! Values and records as JSON for people and scripts, and values parsed from `field=value`.

use driftsync_core::{FieldType, FieldView, RecordView, Schema, Value};
use serde_json::json;

pub(crate) fn value(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => json!(b),
        Value::I64(n) => json!(n),
        Value::F64(x) => json!(x),
        Value::Str(s) => json!(s),
        Value::Bytes(bytes) => json!(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
}

pub(crate) fn record(view: &RecordView) -> serde_json::Value {
    let fields = view.iter().map(|(name, field)| {
        let shown = match field {
            FieldView::One(one) => value(one),
            FieldView::Many(many) => serde_json::Value::Array(many.iter().map(value).collect()),
        };
        (name.clone(), shown)
    });
    serde_json::Value::Object(fields.collect())
}

/// Parses `field=value` as the schema types the field; `field=null` clears it.
pub(crate) fn assignment(
    schema: &Schema,
    collection: &str,
    text: &str,
) -> Result<(String, Value), String> {
    let (name, raw) = text.split_once('=').ok_or_else(|| format!("`{text}` is not field=value"))?;
    let declared = schema
        .field(collection, name)
        .ok_or_else(|| format!("{collection} has no field `{name}` in the schema"))?;
    if raw == "null" {
        return Ok((name.to_owned(), Value::Null));
    }
    let bad = |what: &str| format!("{name}: `{raw}` is not {what}");
    let parsed = match declared.ty {
        FieldType::Str => Value::Str(raw.to_owned()),
        FieldType::I64 => Value::I64(raw.parse().map_err(|_| bad("an integer"))?),
        FieldType::F64 => Value::F64(raw.parse().map_err(|_| bad("a number"))?),
        FieldType::Bool => Value::Bool(raw.parse().map_err(|_| bad("true or false"))?),
        FieldType::Bytes => Value::Bytes(hex(raw).ok_or_else(|| bad("hex bytes"))?),
    };
    Ok((name.to_owned(), parsed))
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}
