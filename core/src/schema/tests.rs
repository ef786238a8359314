//! Lineages, migrations, converters and version policies, each step kind on its own.

use std::borrow::Cow;
use std::sync::Arc;

use crate::hlc::{Hlc, Stamp};
use crate::ids::{OpId, RecordKey, ReplicaId, Seq};
use crate::merge::{FieldView, RecordState};
use crate::op::{FieldWrite, FieldWrites, Op, OpBody};
use crate::schema::{
    Access, CollectionSchema, Converter, FieldSchema, LineageError, MergePolicy, Negotiation,
    Schema, SchemaLineage, Step, VersionPolicy,
};
use crate::server::ServerConfig;
use crate::value::{FieldType, Value};

const NOTES: &str = "notes";

/// One field per kind a step can act on: a required title, optional text, an integer, a flag,
/// a float, a counter and a multi-value field.
fn base() -> Schema {
    let lww = |ty| FieldSchema::new(ty, MergePolicy::LastWriterWins);
    Schema::new(1).collection(
        NOTES,
        CollectionSchema::default()
            .field("title", lww(FieldType::Str).required())
            .field("body", lww(FieldType::Str))
            .field("size", lww(FieldType::I64))
            .field("done", lww(FieldType::Bool))
            .field("weight", lww(FieldType::F64))
            .field("likes", FieldSchema::new(FieldType::I64, MergePolicy::Counter))
            .field("tags", FieldSchema::new(FieldType::Str, MergePolicy::MultiValue)),
    )
}

fn lineage(steps: Vec<Step>) -> SchemaLineage {
    SchemaLineage::new(base()).evolve(steps).expect("the steps are valid on the base schema")
}

fn evolve_error(steps: Vec<Step>) -> LineageError {
    SchemaLineage::new(base()).evolve(steps).expect_err("the steps are invalid")
}

fn key() -> RecordKey {
    RecordKey::new(NOTES, "r")
}

fn op(seq: u64, body: OpBody) -> Op {
    let replica = ReplicaId(1);
    let hlc = Hlc { wall_ms: 1_000 + seq, logical: 0 };
    Op {
        id: OpId { replica, seq: Seq(seq) },
        stamp: Stamp::new(hlc, replica),
        key: key(),
        body,
        reason: None,
    }
}

fn writes(pairs: &[(&str, Value)]) -> FieldWrites {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), FieldWrite::new(value.clone()))).collect()
}

fn put(pairs: &[(&str, Value)]) -> Op {
    op(1, OpBody::Put { fields: writes(pairs) })
}

fn text(s: &str) -> Value {
    Value::Str(s.to_owned())
}

/// A record holding every field of the base schema, built by applying ops in it.
fn full_record() -> RecordState {
    let schema = base();
    let mut state = RecordState::default();
    let ops = [
        put(&[
            ("title", text("t")),
            ("body", text("b")),
            ("size", Value::I64(42)),
            ("done", Value::Bool(true)),
            ("weight", Value::F64(3.0)),
            ("tags", text("x")),
        ]),
        op(2, OpBody::Increment { field: "likes".to_owned(), delta: 3 }),
    ];
    for op in &ops {
        schema.validate(op).expect("the record's ops are valid in the base version");
        state.apply(op, &schema);
    }
    state
}

/// Migrates `op` from v1 up to v2 and back, asserting it comes back unchanged and that the
/// migrated op is valid in v2; returns the op as v2 expresses it.
fn assert_op_round_trips(lineage: &SchemaLineage, original: &Op) -> Op {
    let up = lineage.migrate_op(original, 1, 2).expect("up succeeds");
    assert!(up.hidden.is_empty(), "going up hides nothing: {:?}", up.hidden);
    lineage.latest_schema().validate(&up.op).expect("the migrated op is valid in v2");
    let down = lineage.migrate_op(&up.op, 2, 1).expect("down never fails");
    assert!(down.hidden.is_empty(), "nothing is lost on the way back: {:?}", down.hidden);
    assert_eq!(&*down.op, original);
    up.op.into_owned()
}

fn assert_record_round_trips(lineage: &SchemaLineage, original: &RecordState) -> RecordState {
    let up = lineage.migrate_record(&key(), original, 1, 2);
    assert!(up.hidden.is_empty(), "going up hides nothing: {:?}", up.hidden);
    let down = lineage.migrate_record(&key(), &up.state, 2, 1);
    assert!(down.hidden.is_empty(), "nothing is lost on the way back: {:?}", down.hidden);
    assert_eq!(&down.state, original);
    up.state
}

// ---- round trips, one step kind each ----

#[test]
fn an_added_field_round_trips_ops_and_records_written_before_it() {
    let added =
        FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins).with_default(text("grey"));
    let lineage = lineage(vec![Step::AddField {
        collection: NOTES.into(),
        field: "colour".into(),
        schema: added,
    }]);
    let v1_put = put(&[("title", text("t")), ("body", text("b"))]);
    let up = assert_op_round_trips(&lineage, &v1_put);
    assert_eq!(up, v1_put, "an older put is already a valid newer put: the field defaults");
    assert_record_round_trips(&lineage, &full_record());
}

#[test]
fn an_added_field_is_dropped_and_named_when_a_newer_op_goes_down() {
    let added = FieldSchema::new(FieldType::I64, MergePolicy::Counter).with_default(Value::I64(0));
    let lineage = lineage(vec![Step::AddField {
        collection: NOTES.into(),
        field: "views".into(),
        schema: added,
    }]);
    let increment = op(1, OpBody::Increment { field: "views".into(), delta: 1 });
    let down = lineage.migrate_op(&increment, 2, 1).expect("down never fails");
    assert_eq!(down.hidden, vec!["views".to_owned()]);
    // The op still travels (so the reader's seqs stay contiguous) but changes nothing.
    assert_eq!(down.op.body, OpBody::Update { fields: FieldWrites::new() });
}

#[test]
fn a_renamed_field_round_trips_ops_and_records_under_its_new_name() {
    let lineage = lineage(vec![
        Step::RenameField { collection: NOTES.into(), from: "body".into(), to: "text".into() },
        Step::RenameField { collection: NOTES.into(), from: "likes".into(), to: "hearts".into() },
    ]);
    let up = assert_op_round_trips(&lineage, &put(&[("title", text("t")), ("body", text("b"))]));
    let OpBody::Put { fields } = &up.body else { panic!("a put stays a put: {up:?}") };
    assert_eq!(fields.get("text").map(|w| &w.value), Some(&text("b")));
    assert!(!fields.contains_key("body"));
    let increment = op(2, OpBody::Increment { field: "likes".into(), delta: 2 });
    let up = assert_op_round_trips(&lineage, &increment);
    assert_eq!(up.body, OpBody::Increment { field: "hearts".into(), delta: 2 });
    let resolve =
        op(3, OpBody::Resolve { field: "body".into(), write: FieldWrite::new(text("r")) });
    assert_op_round_trips(&lineage, &resolve);
    let state = assert_record_round_trips(&lineage, &full_record());
    assert!(state.fields.contains_key("text"));
    assert!(state.fields.contains_key("hearts"));
    assert!(!state.fields.contains_key("body"));
}

#[test]
fn a_removed_optional_field_round_trips_because_it_is_still_stored() {
    let lineage =
        lineage(vec![Step::RemoveField { collection: NOTES.into(), field: "body".into() }]);
    let v1_update = op(1, OpBody::Update { fields: writes(&[("body", text("older app"))]) });
    let up = assert_op_round_trips(&lineage, &v1_update);
    assert_eq!(up, v1_update, "the removed field travels and merges as before");
    let state = assert_record_round_trips(&lineage, &full_record());
    assert!(state.fields.contains_key("body"), "stored");
    let v2 = lineage.latest_schema();
    assert!(!v2.shows(NOTES, "body"), "but hidden from readers of the new version");
    let view = v2.present(NOTES, state.view().expect("live"));
    assert!(!view.contains_key("body"));
    assert!(lineage.one_way_between(1, 2).is_none(), "v1 can do without an optional field");
}

#[test]
fn a_type_change_with_a_converter_back_round_trips_ops_and_records() {
    let lineage = lineage(vec![
        Step::ChangeType {
            collection: NOTES.into(),
            field: "size".into(),
            up: Converter::I64ToStr,
            down: Some(Converter::StrToI64),
        },
        Step::ChangeType {
            collection: NOTES.into(),
            field: "done".into(),
            up: Converter::BoolToI64,
            down: Some(Converter::I64ToBool),
        },
        Step::ChangeType {
            collection: NOTES.into(),
            field: "weight".into(),
            up: Converter::F64ToI64,
            down: Some(Converter::I64ToF64),
        },
    ]);
    let v1_put = put(&[
        ("title", text("t")),
        ("size", Value::I64(42)),
        ("done", Value::Bool(true)),
        ("weight", Value::F64(3.0)),
    ]);
    let up = assert_op_round_trips(&lineage, &v1_put);
    let OpBody::Put { fields } = &up.body else { panic!("a put stays a put: {up:?}") };
    assert_eq!(fields.get("size").expect("written").value, text("42"));
    assert_eq!(fields.get("done").expect("written").value, Value::I64(1));
    assert_eq!(fields.get("weight").expect("written").value, Value::I64(3));
    let nulled = op(2, OpBody::Update { fields: writes(&[("size", Value::Null)]) });
    assert_op_round_trips(&lineage, &nulled);
    let state = assert_record_round_trips(&lineage, &full_record());
    assert_eq!(state.value("size"), Some(text("42")));
}

#[test]
fn a_value_the_up_converter_refuses_fails_the_op_migration_naming_the_field() {
    let lineage = lineage(vec![Step::ChangeType {
        collection: NOTES.into(),
        field: "weight".into(),
        up: Converter::F64ToI64,
        down: Some(Converter::I64ToF64),
    }]);
    let update = op(1, OpBody::Update { fields: writes(&[("weight", Value::F64(2.5))]) });
    let error = lineage.migrate_op(&update, 1, 2).expect_err("2.5 is not an integer");
    assert_eq!(error.field.as_deref(), Some("weight"));
    assert_eq!((error.from, error.to), (1, 2));
    assert_eq!(error.problem, "cannot convert f64 2.5 to i64");
    assert!(error.to_string().contains("notes/r.weight"), "{error}");
}

/// An older reader cannot show the newer value, but must not keep showing its own older one:
/// the field reads as null there, stamped as here, and the reader is told it is hidden.
#[test]
fn a_value_the_down_converter_refuses_reads_as_null_there_and_is_named() {
    let lineage = lineage(vec![Step::ChangeType {
        collection: NOTES.into(),
        field: "done".into(),
        up: Converter::BoolToI64,
        down: Some(Converter::I64ToBool),
    }]);
    let v2_update = op(2, OpBody::Update { fields: writes(&[("done", Value::I64(7))]) });
    let down = lineage.migrate_op(&v2_update, 2, 1).expect("down never fails");
    assert_eq!(down.hidden, vec!["done".to_owned()]);
    assert_eq!(down.op.body, OpBody::Update { fields: writes(&[("done", Value::Null)]) });
    let mut state = RecordState::default();
    state.apply(&put(&[("title", text("t"))]), lineage.latest_schema());
    state.apply(&v2_update, lineage.latest_schema());
    let on_server = lineage.migrate_record(&key(), &state, 2, 1);
    assert_eq!(on_server.hidden, vec!["done".to_owned()]);
    // A v1 reader that showed its own older `done` applies the op and agrees with the server.
    let mut reader = RecordState::default();
    reader.apply(&put(&[("title", text("t"))]), lineage.schema(1).expect("v1"));
    let older = op(1, OpBody::Update { fields: writes(&[("done", Value::Bool(true))]) });
    reader.apply(&older, lineage.schema(1).expect("v1"));
    reader.apply(&down.op, lineage.schema(1).expect("v1"));
    let shown = reader.view().expect("live").get("done").cloned();
    assert_eq!(shown, Some(FieldView::One(Value::Null)));
    let expected = on_server.state.view().expect("live").get("done").cloned();
    assert_eq!(shown, expected);
}

#[test]
fn ops_and_records_cross_several_versions_in_order() {
    let lineage = SchemaLineage::new(base())
        .evolve(vec![Step::RenameField {
            collection: NOTES.into(),
            from: "size".into(),
            to: "length".into(),
        }])
        .and_then(|l| {
            l.evolve(vec![Step::ChangeType {
                collection: NOTES.into(),
                field: "length".into(),
                up: Converter::I64ToStr,
                down: Some(Converter::StrToI64),
            }])
        })
        .expect("each step names a field of the version before it");
    let v1 = op(1, OpBody::Update { fields: writes(&[("size", Value::I64(5))]) });
    let up = lineage.migrate_op(&v1, 1, 3).expect("5 converts");
    assert_eq!(up.op.body, OpBody::Update { fields: writes(&[("length", text("5"))]) });
    let down = lineage.migrate_op(&up.op, 3, 1).expect("down never fails");
    assert_eq!(*down.op, v1);
    let state = full_record();
    let there = lineage.migrate_record(&key(), &state, 1, 3);
    assert_eq!(there.state.value("length"), Some(text("42")));
    assert_eq!(lineage.migrate_record(&key(), &there.state, 3, 1).state, state);
}

#[test]
fn an_op_no_step_names_migrates_as_itself_without_a_copy_and_one_a_step_names_is_rewritten() {
    let lineage = lineage(vec![
        Step::RenameField { collection: NOTES.into(), from: "body".into(), to: "text".into() },
        Step::ChangeType {
            collection: NOTES.into(),
            field: "size".into(),
            up: Converter::I64ToStr,
            down: Some(Converter::StrToI64),
        },
    ]);
    let untouched = put(&[("title", text("t")), ("done", Value::Bool(true))]);
    for (from, to) in [(1, 2), (2, 1)] {
        let migrated = lineage.migrate_op(&untouched, from, to).expect("migrates");
        assert!(matches!(migrated.op, Cow::Borrowed(_)), "v{from} to v{to}: {migrated:?}");
        assert_eq!(*migrated.op, untouched);
    }
    let delete = op(2, OpBody::Delete);
    assert!(matches!(lineage.migrate_op(&delete, 1, 2).expect("migrates").op, Cow::Borrowed(_)));
    for named in [put(&[("body", text("b"))]), put(&[("size", Value::I64(3))])] {
        let up = lineage.migrate_op(&named, 1, 2).expect("migrates");
        assert!(matches!(up.op, Cow::Owned(_)), "{named:?} is rewritten: {up:?}");
        assert_ne!(*up.op, named);
    }
    let text_in_v2 = put(&[("text", text("b"))]);
    let down = lineage.migrate_op(&text_in_v2, 2, 1).expect("migrates");
    assert_eq!(*down.op, put(&[("body", text("b"))]), "a rename's new name is named too");
}

#[test]
fn migrating_to_a_version_outside_the_lineage_is_an_error_not_a_panic() {
    let lineage = lineage(vec![]);
    let error = lineage.migrate_op(&put(&[("title", text("t"))]), 1, 7).expect_err("no v7");
    assert!(error.problem.contains("no version 7"), "{error}");
}

// ---- one-way steps: reported when the server is configured ----

fn policy(newest: u32, writable_from: u32, readable_from: u32) -> VersionPolicy {
    VersionPolicy { newest, writable_from, readable_from }
}

#[test]
fn a_type_change_without_a_converter_back_is_refused_when_the_server_config_is_built() {
    let lineage = Arc::new(lineage(vec![Step::ChangeType {
        collection: NOTES.into(),
        field: "size".into(),
        up: Converter::I64ToF64,
        down: None,
    }]));
    // Building the lineage succeeds: a one-way step is legitimate, serving across it is not.
    assert_eq!(lineage.one_way_between(1, 2).map(|(v, _)| v), Some(2));
    let error = ServerConfig::with_lineage(lineage.clone(), policy(2, 2, 1))
        .expect_err("v1 readers cannot be served data written in v2");
    assert_eq!(error.version, 1, "{error}");
    assert!(error.problem.contains("notes.size changes type one way only"), "{error}");
    assert!(error.problem.contains("raise readable_from to v2"), "{error}");
    ServerConfig::with_lineage(lineage.clone(), policy(2, 2, 2))
        .expect("serving only versions after the one-way step is fine");
    assert_eq!(lineage.reachable_from(2), 2, "a v2 client cannot speak v1");
}

#[test]
fn removing_a_required_field_without_a_default_is_refused_when_the_server_config_is_built() {
    let lineage = Arc::new(lineage(vec![Step::RemoveField {
        collection: NOTES.into(),
        field: "title".into(),
    }]));
    let error = policy(2, 1, 1).check(&lineage).expect_err("v1 requires the title");
    assert_eq!(error.version, 1);
    assert!(error.problem.contains("notes.title is required before v2"), "{error}");
    let error = ServerConfig::with_lineage(lineage, policy(2, 1, 1)).expect_err("same check");
    assert!(error.to_string().starts_with("schema v1: cannot be served"), "{error}");
}

#[test]
fn a_policy_with_ranges_out_of_order_or_outside_the_lineage_is_refused() {
    let lineage = lineage(vec![]);
    let error = policy(2, 1, 2).check(&lineage).expect_err("readable after writable");
    assert!(error.problem.contains("out of order"), "{error}");
    let error = policy(3, 1, 1).check(&lineage).expect_err("no v3");
    assert_eq!(error.version, 3);
    assert!(error.problem.contains("not in the lineage (v1..=v2)"), "{error}");
    policy(2, 1, 1).check(&lineage).expect("a reversible lineage serves every version");
}

// ---- invalid steps: refused when the lineage is built ----

#[test]
fn renaming_a_field_to_a_taken_name_fails_at_evolve() {
    let error = evolve_error(vec![Step::RenameField {
        collection: NOTES.into(),
        from: "body".into(),
        to: "title".into(),
    }]);
    assert_eq!(error.version, 2);
    assert_eq!(error.field.as_deref(), Some("title"));
    assert_eq!(error.to_string(), "schema v2 notes.title: a renamed field's new name is taken");
}

#[test]
fn adding_a_field_without_a_default_or_with_a_default_of_another_type_fails_at_evolve() {
    let error = evolve_error(vec![Step::AddField {
        collection: NOTES.into(),
        field: "colour".into(),
        schema: FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins),
    }]);
    assert_eq!(error.field.as_deref(), Some("colour"));
    assert!(error.problem.contains("needs a default"), "{error}");
    let error = evolve_error(vec![Step::AddField {
        collection: NOTES.into(),
        field: "colour".into(),
        schema: FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins)
            .with_default(Value::I64(1)),
    }]);
    assert_eq!(error.problem, "default 1 is not a string");
    let error = evolve_error(vec![Step::AddField {
        collection: NOTES.into(),
        field: "body".into(),
        schema: FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins)
            .with_default(text("")),
    }]);
    assert_eq!(error.problem, "already exists");
}

#[test]
fn changing_the_type_of_a_counter_fails_at_evolve() {
    let error = evolve_error(vec![Step::ChangeType {
        collection: NOTES.into(),
        field: "likes".into(),
        up: Converter::I64ToStr,
        down: Some(Converter::StrToI64),
    }]);
    assert_eq!(error.field.as_deref(), Some("likes"));
    assert!(error.problem.contains("only last-writer-wins fields change type"), "{error}");
    assert!(error.problem.contains("counter"), "{error}");
}

#[test]
fn converters_whose_types_do_not_match_the_field_fail_at_evolve() {
    let error = evolve_error(vec![Step::ChangeType {
        collection: NOTES.into(),
        field: "body".into(),
        up: Converter::I64ToStr,
        down: None,
    }]);
    assert_eq!(error.problem, "converter I64ToStr reads i64, not string");
    let error = evolve_error(vec![Step::ChangeType {
        collection: NOTES.into(),
        field: "size".into(),
        up: Converter::I64ToStr,
        down: Some(Converter::BoolToI64),
    }]);
    assert_eq!(error.problem, "converter BoolToI64 does not undo I64ToStr");
}

#[test]
fn a_step_naming_a_missing_or_removed_field_fails_at_evolve() {
    let error =
        evolve_error(vec![Step::RemoveField { collection: NOTES.into(), field: "nope".into() }]);
    assert_eq!(error.problem, "no such field to remove");
    let error = evolve_error(vec![Step::RenameField {
        collection: "nope".into(),
        from: "a".into(),
        to: "b".into(),
    }]);
    assert_eq!(error.problem, "unknown collection");
    let error = evolve_error(vec![
        Step::RemoveField { collection: NOTES.into(), field: "body".into() },
        Step::RenameField { collection: NOTES.into(), from: "body".into(), to: "text".into() },
    ]);
    assert_eq!(error.problem, "no such field to rename", "a removed field cannot be renamed");
}

#[test]
fn a_default_the_up_converter_refuses_fails_at_evolve() {
    let lineage = lineage(vec![Step::AddField {
        collection: NOTES.into(),
        field: "code".into(),
        schema: FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins)
            .with_default(text("n/a")),
    }]);
    let error = lineage
        .evolve(vec![Step::ChangeType {
            collection: NOTES.into(),
            field: "code".into(),
            up: Converter::StrToI64,
            down: Some(Converter::I64ToStr),
        }])
        .expect_err("\"n/a\" is not a number");
    assert_eq!(error.version, 3);
    assert!(error.problem.contains("cannot convert string \"n/a\" to i64"), "{error}");
}

// ---- converters ----

#[test]
fn every_converter_converts_what_it_can_and_refuses_the_rest_with_why() {
    let cases: [(Converter, Value, Result<Value, &str>); 16] = [
        (Converter::I64ToStr, Value::I64(-7), Ok(text("-7"))),
        (Converter::StrToI64, text("-7"), Ok(Value::I64(-7))),
        (Converter::StrToI64, text("seven"), Err("cannot convert string \"seven\" to i64")),
        (Converter::StrToI64, text("9223372036854775808"), Err("cannot convert string")),
        (Converter::I64ToF64, Value::I64(3), Ok(Value::F64(3.0))),
        (Converter::I64ToF64, Value::I64(-(1 << 53)), Ok(Value::F64(-9007199254740992.0))),
        (
            Converter::I64ToF64,
            Value::I64((1 << 53) + 1),
            Err("cannot convert i64 9007199254740993"),
        ),
        (Converter::F64ToI64, Value::F64(-4.0), Ok(Value::I64(-4))),
        (Converter::F64ToI64, Value::F64(0.5), Err("cannot convert f64 0.5 to i64")),
        (Converter::F64ToI64, Value::F64(1e19), Err("cannot convert f64")),
        (Converter::F64ToI64, Value::F64(f64::NAN), Err("cannot convert f64 NaN")),
        (Converter::BoolToI64, Value::Bool(false), Ok(Value::I64(0))),
        (Converter::I64ToBool, Value::I64(1), Ok(Value::Bool(true))),
        (Converter::I64ToBool, Value::I64(0), Ok(Value::Bool(false))),
        (Converter::I64ToBool, Value::I64(2), Err("cannot convert i64 2 to bool")),
        (Converter::I64ToStr, text("not an integer"), Err("cannot convert string")),
    ];
    for (converter, input, expected) in cases {
        let got = converter.convert(&input);
        match expected {
            Ok(value) => assert_eq!(got, Ok(value), "{converter:?} {input}"),
            Err(prefix) => {
                let problem = got.expect_err("refused");
                assert!(problem.starts_with(prefix), "{converter:?} {input}: {problem}");
            }
        }
    }
}

#[test]
fn every_converter_maps_null_to_null() {
    for converter in Converter::ALL {
        assert_eq!(converter.convert(&Value::Null), Ok(Value::Null), "{converter:?}");
        assert_ne!(converter.from_type(), converter.to_type(), "{converter:?} changes the type");
    }
}

// ---- negotiation ----

#[test]
fn negotiation_picks_the_highest_version_both_sides_speak() {
    let policy = policy(3, 2, 1);
    let accepted = |version, access| Negotiation::Accepted { version, access };
    assert_eq!(policy.negotiate(&[1, 2, 3]), accepted(3, Access::ReadWrite));
    assert_eq!(policy.negotiate(&[1, 2, 3, 4]), accepted(3, Access::ReadWrite));
    assert_eq!(policy.negotiate(&[2]), accepted(2, Access::ReadWrite));
}

#[test]
fn negotiation_serves_a_version_below_writable_from_read_only() {
    let policy = policy(3, 2, 1);
    let read_only = Negotiation::Accepted { version: 1, access: Access::ReadOnly };
    assert_eq!(policy.negotiate(&[1]), read_only);
    assert_eq!(policy.negotiate(&[0, 1]), read_only);
}

#[test]
fn negotiation_refuses_versions_outside_the_policy_with_the_minimum_required() {
    let policy = policy(3, 2, 2);
    let refused = Negotiation::Refused { min_required: 2, max_supported: 3 };
    assert_eq!(policy.negotiate(&[1]), refused);
    assert_eq!(policy.negotiate(&[4, 5]), refused);
    assert_eq!(policy.negotiate(&[]), refused);
}
