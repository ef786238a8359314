//! Every op is checked against the schema: bad local writes are refused with a reason, bad
//! remote ops are quarantined (kept, reported, counted), and bad handshakes are rejected.

mod common;

use std::sync::Arc;

use common::{World, fields, key, test_keys, text, token_for};
use driftsync_core::SchemaLineage;
use driftsync_core::{
    ClientEvent, FieldSchema, FieldType, MergePolicy, QuarantineReason, ServerEvent, Value,
    ViolationKind, WriteError,
};

#[test]
fn a_local_write_with_the_wrong_type_is_refused_with_what_is_wrong() {
    let mut world = World::new(1);
    let now = world.now;
    let error = world
        .client(0)
        .put(now, key("r"), fields(&[("title", Value::I64(3))]))
        .expect_err("title is a string");
    let WriteError::Schema(violation) = error else { panic!("expected a schema error: {error}") };
    assert_eq!(violation.field.as_deref(), Some("title"));
    let (expected, found) = (FieldType::Str, FieldType::I64);
    assert_eq!(violation.kind, ViolationKind::TypeMismatch { expected, found });
    assert!(violation.to_string().ends_with("title: expected string, found i64"), "{violation}");
    assert_eq!(world.client_ref(0).outbox().count(), 0, "nothing was written");
}

#[test]
fn a_put_missing_a_required_field_is_refused() {
    let mut world = World::new(1);
    let now = world.now;
    let error = world.client(0).put(now, key("r"), fields(&[("body", text("b"))])).expect_err("");
    assert!(error.to_string().contains("title"), "{error}");
    let error = world.client(0).increment(now, key("r"), "title", 1).expect_err("not a counter");
    assert!(error.to_string().contains("increment of a last-writer-wins field"), "{error}");
    let error =
        world.client(0).update(now, key("r"), fields(&[("nope", text("x"))])).expect_err("");
    assert!(error.to_string().contains("unknown field"), "{error}");
}

/// A counter sums every write and an extreme keeps the greatest or least: neither can leave a
/// chosen value, so neither has a conflict to resolve.
#[test]
fn a_resolve_of_a_counter_or_an_extreme_is_refused() {
    let mut world = World::new(1);
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("t"))])).expect("a valid put");
    for (field, policy) in [("likes", "counter"), ("high", "max"), ("low", "min")] {
        let error = world
            .client(0)
            .resolve_conflict(now, key("r"), field, Value::I64(1))
            .expect_err("nothing to resolve");
        assert!(
            error.to_string().contains(&format!("a {policy} field has no conflicts")),
            "{error}"
        );
    }
    assert_eq!(world.client_ref(0).outbox().count(), 1, "only the put was written");
}

#[test]
fn a_remote_op_that_breaks_the_servers_schema_is_quarantined_not_applied() {
    // Client 0 believes `body` is an integer; the server knows it is a string.
    let mut world = World::with(
        2,
        |_| {},
        |client| {
            if client.replica.0 == 1 {
                let mut schema = client.schema().clone();
                let notes = schema.collections.get_mut("notes").expect("notes");
                notes.fields.insert(
                    "body".into(),
                    FieldSchema::new(FieldType::I64, MergePolicy::LastWriterWins),
                );
                client.lineage = Arc::new(SchemaLineage::new(schema));
            }
        },
    );
    let now = world.now;
    world.client(0).put(now, key("ok"), fields(&[("title", text("fine"))])).expect("valid");
    world
        .client(0)
        .update(now, key("ok"), fields(&[("body", Value::I64(7))]))
        .expect("valid locally");
    world.settle();
    world.assert_converged();
    let view = world.server.view();
    assert!(!view[&key("ok")].contains_key("body"), "the bad op was not applied");
    assert_eq!(world.server.quarantine().len(), 1, "it was kept");
    let quarantined = &world.server.quarantine()[0];
    let on_body = |v: &driftsync_core::Violation| v.field.as_deref() == Some("body");
    assert!(matches!(&quarantined.reason, QuarantineReason::Invalid(v) if on_body(v)));
    assert_eq!(world.server.metrics().quarantined_by_reason.get("invalid"), Some(&1));
    assert!(world.server_events.iter().any(|e| matches!(e, ServerEvent::Quarantined(_))));
    // The writer learned the server refused it and rebuilt its state from the server's.
    assert_eq!(world.client_ref(0).metrics().resyncs, 1);
}

#[test]
fn a_bad_token_is_rejected_with_a_reason_and_nothing_local_is_lost() {
    let mut world = World::with(
        1,
        |server| server.keys = Some(test_keys()),
        |client| client.token = "wrong".into(),
    );
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("kept"))])).expect("valid");
    world.run_for(5_000);
    let rejected = world.client_events[0].iter().any(|e| matches!(e, ClientEvent::Rejected(_)));
    assert!(rejected);
    assert!(world.client_ref(0).rejection().is_some());
    assert_eq!(world.client_ref(0).outbox().count(), 1, "the write waits for a fixed token");
    assert!(world.server.view().is_empty());
}

#[test]
fn a_schema_version_the_server_does_not_speak_is_rejected_with_the_minimum() {
    let mut world = World::with(
        1,
        |_| {},
        |client| {
            let mut schema = client.schema().clone();
            schema.version = 0;
            client.lineage = Arc::new(SchemaLineage::new(schema));
            client.schema_version = 0;
        },
    );
    world.run_for(1_000);
    let reason = world.client_ref(0).rejection().cloned().expect("rejected");
    assert!(reason.to_string().contains("accepts 1..=1"), "{reason}");
}

#[test]
fn a_stamp_from_the_end_of_time_is_quarantined_and_moves_no_clock() {
    let mut world = World::new(2);
    world.settle();
    world.tamper_next(common::Direction::ToServer, 0, "push", |message| {
        if let driftsync_core::testing::wire::Message::Push(push) = message {
            let mut ops = push.ops.decode(&Default::default()).expect("the client's ops decode");
            ops[0].stamp.hlc = driftsync_core::Hlc { wall_ms: u64::MAX, logical: u32::MAX };
            push.ops = driftsync_core::testing::wire::OpsBytes::encode(&ops);
            push.manifest = push.ops.manifest();
        }
    });
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("t"))])).expect("valid");
    world.settle();
    let quarantined = &world.server.quarantine()[0];
    assert!(
        quarantined.reason.to_string().contains("beyond the year 9999"),
        "{}",
        quarantined.reason
    );
    assert!(world.server.meta().hlc.wall_ms <= driftsync_core::testing::wire::WALL_MS_MAX);
    for i in 0..2 {
        assert!(world.client_ref(i).hlc().wall_ms <= driftsync_core::testing::wire::WALL_MS_MAX);
    }
}

#[test]
fn a_fixed_token_and_a_sync_now_bring_a_rejected_client_back() {
    let mut world = World::with(
        1,
        |server| server.keys = Some(test_keys()),
        |client| client.token = "wrong".into(),
    );
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("kept"))])).expect("valid");
    world.run_for(1_000);
    assert!(world.client_ref(0).rejection().is_some());
    world.client(0).set_token(token_for(1, 3_600));
    let now = world.now;
    world.client(0).sync_now(now);
    world.settle();
    world.assert_converged();
    assert!(world.server.view().contains_key(&key("r")));
}

#[test]
fn a_second_install_under_the_same_replica_id_stops_instead_of_losing_its_writes() {
    // Both clients claim replica 1.
    let mut world = World::with(2, |_| {}, |client| client.replica = driftsync_core::ReplicaId(1));
    world.go_offline(1);
    let now = world.now;
    world.client(0).put(now, key("a"), fields(&[("title", text("first install"))])).expect("valid");
    world.settle();
    let now = world.now;
    world
        .client(1)
        .put(now, key("b"), fields(&[("title", text("second install"))]))
        .expect("valid");
    world.go_online(1);
    world.run_for(5_000);
    let reason = world.client_ref(1).rejection().cloned().expect("the second install stops");
    assert!(reason.to_string().contains("in use by another install"), "{reason}");
    assert_eq!(
        world.client_ref(1).outbox().count(),
        1,
        "its write is kept, not dropped as a duplicate"
    );
}
