//! What `Schema::validate` reports for a put or update, and in which order: the first bad
//! written field in name order, then the first declared field a put leaves out.

use crate::hlc::{Hlc, Stamp};
use crate::ids::{OpId, RecordKey, ReplicaId, Seq};
use crate::op::{FieldWrite, FieldWrites, Op, OpBody};
use crate::schema::{CollectionSchema, FieldSchema, MergePolicy, Schema, ViolationKind};
use crate::value::{FieldType, Value};

/// Required `b` and `d` (one with a default), optional `c`, a counter `e`.
fn schema() -> Schema {
    let lww = |ty| FieldSchema::new(ty, MergePolicy::LastWriterWins);
    let fields = CollectionSchema::default()
        .field("b", lww(FieldType::Str).required())
        .field("c", lww(FieldType::Str))
        .field("d", lww(FieldType::I64).required().with_default(Value::I64(0)))
        .field("e", FieldSchema::new(FieldType::I64, MergePolicy::Counter))
        .field("g", lww(FieldType::Str).required());
    Schema::new(1).collection("things", fields)
}

/// A put (or an update) writing `names`, each a string, except `d` and `e` as integers.
fn op(put: bool, names: &[&str]) -> Op {
    let value = |name: &str| match name {
        "d" | "e" => Value::I64(1),
        _ => Value::Str("x".to_owned()),
    };
    let fields: FieldWrites =
        names.iter().map(|name| ((*name).to_owned(), FieldWrite::new(value(name)))).collect();
    let replica = ReplicaId(1);
    Op {
        id: OpId { replica, seq: Seq(1) },
        stamp: Stamp::new(Hlc { wall_ms: 1_000, logical: 0 }, replica),
        key: RecordKey::new("things", "r"),
        body: if put { OpBody::Put { fields } } else { OpBody::Update { fields } },
        reason: None,
    }
}

/// The field and kind of what `validate` refuses, or `None` if it accepts the op.
fn refusal(put: bool, names: &[&str]) -> Option<(Option<String>, ViolationKind)> {
    schema().validate(&op(put, names)).err().map(|v| (v.field, v.kind))
}

fn named(name: &str, kind: ViolationKind) -> Option<(Option<String>, ViolationKind)> {
    Some((Some(name.to_owned()), kind))
}

#[test]
fn a_put_writing_every_required_field_without_a_default_is_valid() {
    assert_eq!(refusal(true, &["b", "c", "g"]), None);
    assert_eq!(refusal(true, &["b", "g"]), None);
}

#[test]
fn a_put_names_the_first_required_field_it_leaves_out_wherever_its_fields_sort() {
    let missing = ViolationKind::RequiredMissing { expected: FieldType::Str };
    assert_eq!(refusal(true, &["c", "g"]), named("b", missing.clone()));
    assert_eq!(refusal(true, &["b", "c"]), named("g", missing.clone()));
    assert_eq!(refusal(true, &["c"]), named("b", missing.clone()));
    assert_eq!(refusal(true, &[]), named("b", missing));
}

#[test]
fn a_written_field_the_schema_does_not_declare_is_reported_before_a_missing_one() {
    let unknown = ViolationKind::UnknownField { schema_version: 1 };
    assert_eq!(refusal(true, &["a", "c"]), named("a", unknown.clone()));
    assert_eq!(refusal(true, &["c", "f"]), named("f", unknown.clone()));
    assert_eq!(refusal(true, &["b", "g", "z"]), named("z", unknown.clone()));
    assert_eq!(refusal(false, &["c", "cc"]), named("cc", unknown));
}

#[test]
fn a_written_field_of_the_wrong_type_or_a_counter_is_reported_by_name() {
    let mismatch = ViolationKind::TypeMismatch { expected: FieldType::Str, found: FieldType::I64 };
    let mut update = op(false, &["c"]);
    if let OpBody::Update { fields } = &mut update.body {
        fields.insert("g".to_owned(), FieldWrite::new(Value::I64(3)));
    }
    let refused = schema().validate(&update).err().map(|v| (v.field, v.kind));
    assert_eq!(refused, named("g", mismatch));
    assert_eq!(refusal(false, &["e"]), named("e", ViolationKind::CounterWrite));
}

#[test]
fn an_update_may_leave_out_any_field() {
    assert_eq!(refusal(false, &["c"]), None);
    assert_eq!(refusal(false, &[]), None);
}
