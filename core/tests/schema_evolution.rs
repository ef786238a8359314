//! Clients of different schema versions share one server without losing each other's data:
//! each reads and writes in its own version, the server translates both ways, refuses or
//! quarantines what cannot be translated, and upgrades, rollouts and rollbacks lose nothing.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{Direction, World, client_config, fields, key, text};
use driftsync_core::testing::wire::{Message, RejectReason};
use driftsync_core::{
    Access, ClientEvent, FieldSchema, FieldType, FieldView, MemoryStore, MergePolicy, MonoTime,
    Mutation, Now, OpBody, QuarantineReason, RecordKey, RecordView, Schema, Server, ServerConfig,
    ServerMeta, StartError, Store, Value, ViolationKind, WallTime,
};
use driftsync_core::{Converter, SchemaLineage, Step, VersionPolicy};

/// The harness schema plus a page count kept as text and a flag, both retired in v2.
fn base() -> Schema {
    let mut schema = common::schema();
    let notes = schema.collections.get_mut("notes").expect("the harness schema has notes");
    let lww = |ty| FieldSchema::new(ty, MergePolicy::LastWriterWins);
    notes.fields.insert("size".into(), lww(FieldType::Str));
    notes.fields.insert("pinned".into(), lww(FieldType::Bool));
    schema
}

/// v2 adds `colour`, renames `body` to `text`, makes `size` an integer and retires `pinned`:
/// one step of each kind, all reversible.
fn lineage() -> Arc<SchemaLineage> {
    let colour =
        FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins).with_default(text("grey"));
    let steps = vec![
        Step::AddField { collection: "notes".into(), field: "colour".into(), schema: colour },
        Step::RenameField { collection: "notes".into(), from: "body".into(), to: "text".into() },
        Step::ChangeType {
            collection: "notes".into(),
            field: "size".into(),
            up: Converter::StrToI64,
            down: Some(Converter::I64ToStr),
        },
        Step::RemoveField { collection: "notes".into(), field: "pinned".into() },
    ];
    Arc::new(SchemaLineage::new(base()).evolve(steps).expect("every step is valid"))
}

/// Both versions read-write.
const BOTH_WRITABLE: VersionPolicy =
    VersionPolicy { newest: 2, writable_from: 1, readable_from: 1 };
/// v1 may still read, but only v2 writes.
const V1_READ_ONLY: VersionPolicy = VersionPolicy { newest: 2, writable_from: 2, readable_from: 1 };
/// The v2 rollout not started yet, or rolled back.
const ONLY_V1: VersionPolicy = VersionPolicy { newest: 1, writable_from: 1, readable_from: 1 };

fn server_config(policy: VersionPolicy) -> ServerConfig {
    ServerConfig::with_lineage(lineage(), policy).expect("the lineage is reversible")
}

/// The single value `record.field` shows in `view`.
fn value(view: &BTreeMap<RecordKey, RecordView>, record: &str, field: &str) -> Option<Value> {
    match view.get(&key(record))?.get(field)? {
        FieldView::One(value) => Some(value.clone()),
        FieldView::Many(values) => panic!("{record}.{field} is conflicted: {values:?}"),
    }
}

/// Every field client `i` was cautioned it cannot see in `record`.
fn cautions(world: &World, i: usize, record: &str) -> Vec<String> {
    let mut hidden: Vec<String> = world.client_events[i]
        .iter()
        .filter_map(|event| match event {
            ClientEvent::Caution { key: k, hidden_fields } if *k == key(record) => {
                Some(hidden_fields.clone())
            }
            _ => None,
        })
        .flatten()
        .collect();
    hidden.sort();
    hidden.dedup();
    hidden
}

#[test]
fn an_old_clients_edit_never_erases_a_field_added_in_a_newer_version() {
    let mut world = World::with_lineage(lineage(), BOTH_WRITABLE, &[2, 1]);
    let now = world.now;
    world
        .client(0)
        .put(now, key("r"), fields(&[("title", text("draft")), ("colour", text("red"))]))
        .expect("valid in v2");
    world.settle();
    assert_eq!(value(&world.client_ref(1).view(), "r", "title"), Some(text("draft")));
    assert_eq!(cautions(&world, 1, "r"), ["colour"], "v1 is told what it cannot see");
    let now = world.now;
    world.client(1).update(now, key("r"), fields(&[("title", text("final"))])).expect("valid");
    world.settle();
    let v2 = world.server.view_as(2).expect("v2 is in the lineage");
    assert_eq!(value(&v2, "r", "colour"), Some(text("red")), "the v1 edit left colour alone");
    assert_eq!(value(&v2, "r", "title"), Some(text("final")));
    assert_eq!(value(&world.client_ref(0).view(), "r", "colour"), Some(text("red")));
    assert_eq!(value(&world.client_ref(0).view(), "r", "title"), Some(text("final")));
    world.assert_converged_per_version();
}

#[test]
fn a_renamed_field_carries_writes_to_either_name_to_readers_of_the_other() {
    let mut world = World::with_lineage(lineage(), BOTH_WRITABLE, &[2, 1]);
    let now = world.now;
    world
        .client(1)
        .put(now, key("old"), fields(&[("title", text("t")), ("body", text("written as body"))]))
        .expect("valid in v1");
    world
        .client(0)
        .put(now, key("new"), fields(&[("title", text("t")), ("text", text("written as text"))]))
        .expect("valid in v2");
    world.settle();
    let v2_reader = world.client_ref(0).view();
    assert_eq!(value(&v2_reader, "old", "text"), Some(text("written as body")));
    assert_eq!(value(&v2_reader, "old", "body"), None, "the old name is gone in v2");
    let v1_reader = world.client_ref(1).view();
    assert_eq!(value(&v1_reader, "new", "body"), Some(text("written as text")));
    assert_eq!(value(&v1_reader, "new", "text"), None, "v1 never heard of the new name");
    world.assert_converged_per_version();
}

#[test]
fn a_changed_type_is_converted_for_readers_of_each_version() {
    let mut world = World::with_lineage(lineage(), BOTH_WRITABLE, &[2, 1]);
    let now = world.now;
    world
        .client(1)
        .put(now, key("old"), fields(&[("title", text("t")), ("size", text("12"))]))
        .expect("size is text in v1");
    world
        .client(0)
        .put(now, key("new"), fields(&[("title", text("t")), ("size", Value::I64(40))]))
        .expect("size is an integer in v2");
    world.settle();
    assert_eq!(value(&world.client_ref(0).view(), "old", "size"), Some(Value::I64(12)));
    assert_eq!(value(&world.client_ref(1).view(), "new", "size"), Some(text("40")));
    assert_eq!(
        world.server.records().get(&key("old")).and_then(|r| r.value("size")),
        Some(Value::I64(12)),
        "stored in the latest version"
    );
    world.assert_converged_per_version();
}

#[test]
fn a_push_the_up_converter_refuses_is_quarantined_and_the_writer_learns_why() {
    let mut world = World::with_lineage(lineage(), BOTH_WRITABLE, &[2, 1]);
    let now = world.now;
    world.client(1).put(now, key("r"), fields(&[("title", text("t"))])).expect("valid");
    world.settle();
    let now = world.now;
    let refused = world
        .client(1)
        .update(now, key("r"), fields(&[("size", text("twelve"))]))
        .expect("any text is a valid v1 size");
    world.settle();
    let quarantine = world.server.quarantine();
    assert_eq!(quarantine.len(), 1, "kept, not dropped");
    assert_eq!(quarantine[0].op.id, refused);
    assert_eq!(quarantine[0].op.key, key("r"), "names the collection and the record");
    let QuarantineReason::Invalid(reason) = &quarantine[0].reason else {
        panic!("a schema reason: {}", quarantine[0].reason)
    };
    assert_eq!(reason.field.as_deref(), Some("size"));
    let problem = "cannot convert string \"twelve\" to i64".to_owned();
    assert_eq!(reason.kind, ViolationKind::Unmigratable { from: 1, to: 2, problem });
    assert!(reason.to_string().contains("migrating v1 to v2: cannot convert"), "{reason}");
    assert_eq!(world.server.metrics().quarantined_by_reason.get("invalid"), Some(&1));
    assert_eq!(value(&world.server.view_as(2).expect("v2"), "r", "size"), None, "not applied");
    let told = world.client_events[1].iter().any(|event| {
        matches!(event, ClientEvent::Quarantined(notice)
            if notice.op == refused && notice.reason == quarantine[0].reason)
    });
    assert!(told, "the writer's host hears which write was refused and why");
    // Its local state held the refused value; it rebuilt it from the server's.
    assert_eq!(world.client_ref(1).metrics().resyncs, 1);
    world.assert_converged_per_version();
}

#[test]
fn a_push_that_breaks_its_versions_schema_is_quarantined_naming_field_expected_and_found() {
    // Client 1 runs a build whose v1 disagrees with the server's: it thinks `size` is an
    // integer and `title` optional.
    let mut wrong = base();
    let notes = wrong.collections.get_mut("notes").expect("notes");
    notes
        .fields
        .insert("size".into(), FieldSchema::new(FieldType::I64, MergePolicy::LastWriterWins));
    notes
        .fields
        .insert("title".into(), FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins));
    let wrong_lineage = Arc::new(SchemaLineage::new(wrong));
    let configs = vec![client_config(0, &lineage(), 2), client_config(1, &wrong_lineage, 1)];
    let mut world = World::from_configs(server_config(BOTH_WRITABLE), configs);
    let now = world.now;
    world
        .client(1)
        .put(now, key("mistyped"), fields(&[("title", text("t")), ("size", Value::I64(3))]))
        .expect("valid in the client's v1");
    world.client(1).put(now, key("untitled"), fields(&[("body", text("b"))])).expect("valid there");
    world.settle();
    let reasons: BTreeMap<String, String> = world
        .server
        .quarantine()
        .iter()
        .map(|q| (q.op.key.record.clone(), q.reason.to_string()))
        .collect();
    assert_eq!(reasons["mistyped"], "invalid field size: expected string, found i64");
    assert_eq!(
        reasons["untitled"],
        "invalid field title: required field missing from put: expected string, found nothing"
    );
    assert_eq!(world.server.metrics().quarantined_by_reason.get("invalid"), Some(&2));
    assert!(world.server.view_as(2).expect("v2").is_empty(), "neither was applied");
    assert!(world.client_ref(0).view().is_empty(), "nor reached another replica");
}

#[test]
fn a_read_only_client_reads_what_it_can_and_pushes_its_writes_only_after_upgrading() {
    let mut world = World::with_lineage(lineage(), V1_READ_ONLY, &[2, 1, 2]);
    world.settle();
    let negotiated = world.client_events[1].iter().any(|event| {
        let read_only = Access::ReadOnly;
        matches!(event, ClientEvent::Negotiated { schema_version: 1, access, cautions }
            if *access == read_only && !cautions.is_empty())
    });
    assert!(negotiated, "v1 is told it is read-only, and why");
    let now = world.now;
    world
        .client(0)
        .put(now, key("r"), fields(&[("title", text("from v2")), ("colour", text("red"))]))
        .expect("valid in v2");
    world.settle();
    assert_eq!(value(&world.client_ref(1).view(), "r", "title"), Some(text("from v2")));
    assert_eq!(cautions(&world, 1, "r"), ["colour"]);
    let now = world.now;
    world
        .client(1)
        .update(now, key("r"), fields(&[("body", text("read-only edit"))]))
        .expect("a read-only client still writes locally");
    world.settle();
    assert_eq!(world.client_ref(1).outbox().count(), 1, "the write waits in the outbox");
    assert_eq!(value(&world.server.view_as(2).expect("v2"), "r", "text"), None, "unchanged");
    assert_eq!(world.server.metrics().ops_pushed, 1, "only client 0's put was ever pushed");

    let upgraded = client_config(1, &lineage(), 2);
    world.restart_client_with(1, upgraded);
    world.settle();
    assert_eq!(world.client_ref(1).outbox().count(), 0, "pushed once upgraded");
    assert_eq!(world.server.metrics().ops_migrated_up, 1, "pushed as written, in v1");
    for i in 0..3 {
        let view = world.client_ref(i).view();
        assert_eq!(value(&view, "r", "text"), Some(text("read-only edit")), "client {i}");
        assert_eq!(value(&view, "r", "colour"), Some(text("red")), "client {i}");
    }
    world.assert_converged_per_version();
}

#[test]
fn a_version_outside_the_supported_range_is_refused_with_the_minimum_and_nothing_is_lost() {
    let only_v2 = VersionPolicy { newest: 2, writable_from: 2, readable_from: 2 };
    let mut world = World::with_lineage(lineage(), only_v2, &[1]);
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("kept"))])).expect("valid");
    world.run_for(5_000);
    let Some(RejectReason::SchemaUnsupported { offered, min_required, max_supported }) =
        world.client_ref(0).rejection().cloned()
    else {
        panic!("refused for its schema: {:?}", world.client_ref(0).rejection())
    };
    assert_eq!(offered, [1]);
    assert_eq!((min_required, max_supported), (2, 2));
    assert_eq!(world.client_ref(0).outbox().count(), 1, "the write is kept for the upgrade");
    assert_eq!(value(&world.client_ref(0).view(), "r", "title"), Some(text("kept")));
    assert_eq!(world.server.head().0, 0, "nothing was written");
    assert!(world.server.view_as(2).expect("v2").is_empty());
}

#[test]
fn a_client_ahead_of_the_server_holds_writes_that_would_lose_a_field_until_the_server_upgrades() {
    let mut world = World::with_lineage(lineage(), ONLY_V1, &[2, 1]);
    let now = world.now;
    world
        .client(1)
        .put(now, key("r"), fields(&[("title", text("t")), ("body", text("b"))]))
        .expect("valid in v1");
    world.settle();
    assert_eq!(value(&world.client_ref(0).view(), "r", "text"), Some(text("b")), "translated up");
    assert_eq!(value(&world.client_ref(0).view(), "r", "colour"), Some(text("grey")), "default");

    let now = world.now;
    world.client(0).update(now, key("r"), fields(&[("text", text("lossless"))])).expect("valid");
    world.settle();
    assert_eq!(world.client_ref(0).outbox().count(), 0, "a write v1 can express goes through");
    assert_eq!(value(&world.client_ref(1).view(), "r", "body"), Some(text("lossless")));

    let now = world.now;
    let held = world
        .client(0)
        .update(now, key("r"), fields(&[("colour", text("red"))]))
        .expect("valid in v2");
    world.client(0).update(now, key("r"), fields(&[("title", text("after"))])).expect("valid");
    world.settle();
    let reported = world.client_events[0].iter().any(|event| {
        matches!(event, ClientEvent::WritesHeld { op, session_version: 1, fields }
            if *op == held && fields == &["colour".to_owned()])
    });
    assert!(reported, "the host hears which write is held and what it would lose");
    assert_eq!(world.client_ref(0).outbox().count(), 2, "it and every later write wait");
    assert_eq!(value(&world.client_ref(1).view(), "r", "title"), Some(text("t")));

    world.restart_server_with(server_config(BOTH_WRITABLE));
    world.settle();
    let v2 = world.server.view_as(2).expect("v2");
    assert_eq!(value(&v2, "r", "colour"), Some(text("red")), "the held write went through");
    assert_eq!(value(&v2, "r", "title"), Some(text("after")));
    assert_eq!(cautions(&world, 1, "r"), ["colour"]);
    world.assert_converged_per_version();
}

#[test]
fn rolling_the_server_back_loses_nothing_written_under_the_newer_version() {
    // Client 2 runs v2 too, but is offline when the colour is written and syncs only while
    // the server is rolled back.
    let mut world = World::with_lineage(lineage(), BOTH_WRITABLE, &[2, 1, 2]);
    world.go_offline(2);
    let now = world.now;
    world
        .client(0)
        .put(now, key("r"), fields(&[("title", text("t")), ("colour", text("red"))]))
        .expect("valid in v2");
    world.settle();

    world.restart_server_with(server_config(ONLY_V1));
    world.go_online(2);
    let now = world.now;
    world.client(1).update(now, key("r"), fields(&[("title", text("during rollback"))])).expect("");
    world.settle();
    let stored = world.server.records().get(&key("r")).expect("stored");
    assert_eq!(stored.value("colour"), Some(text("red")), "still in the server's records");
    assert_eq!(
        value(&world.server.view_as(1).expect("v1"), "r", "title"),
        Some(text("during rollback"))
    );

    world.restart_server_with(server_config(BOTH_WRITABLE));
    world.settle();
    let v2 = world.server.view_as(2).expect("v2");
    assert_eq!(value(&v2, "r", "colour"), Some(text("red")), "back for v2 readers");
    assert_eq!(value(&v2, "r", "title"), Some(text("during rollback")));
    for i in [0, 2] {
        assert_eq!(
            value(&world.client_ref(i).view(), "r", "colour"),
            Some(text("red")),
            "client {i}"
        );
    }
    world.assert_converged_per_version();
}

#[test]
fn clients_of_every_version_converge_on_what_the_server_shows_their_version() {
    let mut world = World::with_lineage(lineage(), BOTH_WRITABLE, &[2, 1, 2, 1]);
    let now = world.now;
    world.go_offline(3);
    world
        .client(0)
        .put(
            now,
            key("a"),
            fields(&[("title", text("a")), ("colour", text("blue")), ("size", Value::I64(5))]),
        )
        .expect("valid in v2");
    world
        .client(1)
        .put(
            now,
            key("b"),
            fields(&[("title", text("b")), ("pinned", Value::Bool(true)), ("body", text("x"))]),
        )
        .expect("valid in v1");
    world.client(1).update(now, key("a"), fields(&[("size", text("6"))])).expect("valid in v1");
    world.client(2).increment(now, key("b"), "likes", 2).expect("valid in v2");
    world.client(3).update(now, key("a"), fields(&[("pinned", Value::Bool(false))])).expect("v1");
    world.settle();
    world.go_online(3);
    world.settle();
    world.assert_converged_per_version();
    // The retired flag is stored and shown to v1, hidden from v2.
    assert_eq!(value(&world.client_ref(1).view(), "b", "pinned"), Some(Value::Bool(true)));
    assert_eq!(value(&world.client_ref(0).view(), "b", "pinned"), None);
    let error = {
        let now = world.now;
        world.client(0).update(now, key("b"), fields(&[("pinned", Value::Bool(false))]))
    };
    assert!(error.expect_err("retired in v2").to_string().contains("removed in schema v2"));
}

/// Makes the next push claim it was written in v1, whatever the client wrote.
fn claim_v1(message: &mut Message) {
    if let Message::Push(push) = message {
        push.schema_version = 1;
    }
}

#[test]
fn a_push_claiming_a_version_its_ops_do_not_fit_is_quarantined_before_migration() {
    let mut world = World::with_lineage(lineage(), BOTH_WRITABLE, &[2]);
    world.settle();
    world.tamper_next(Direction::ToServer, 0, "push", claim_v1);
    let now = world.now;
    world
        .client(0)
        .put(now, key("r"), fields(&[("title", text("t")), ("colour", text("red"))]))
        .expect("valid in v2");
    world.settle();
    let reason = world.server.quarantine()[0].reason.to_string();
    assert_eq!(reason, "invalid field colour: unknown field (schema v1)");
}

#[test]
fn a_new_server_release_migrates_its_stored_data_to_the_newer_version_once() {
    // The old release knows only v1; the new one ships v2 and restarts on the same store.
    let old_release = Arc::new(SchemaLineage::new(base()));
    let old_config = ServerConfig::with_lineage(old_release.clone(), ONLY_V1).expect("v1 only");
    let clients = vec![client_config(0, &old_release, 1)];
    let mut world = World::from_configs(old_config, clients);
    let now = world.now;
    let note = fields(&[("title", text("t")), ("body", text("kept")), ("size", text("12"))]);
    world.client(0).put(now, key("r"), note).expect("valid in v1");
    world.settle();
    world.restart_server_with(server_config(BOTH_WRITABLE));
    world.settle();
    assert_eq!(world.server.meta().schema_version, 2);
    let as_v2 = world.server.view_as(2).expect("v2 is known");
    assert_eq!(value(&as_v2, "r", "text"), Some(text("kept")), "stored under the new name");
    assert_eq!(value(&as_v2, "r", "size"), Some(Value::I64(12)), "stored as the new type");
    let old_name_in_log = world
        .server
        .log()
        .any(|op| matches!(&op.body, OpBody::Put { fields } if fields.contains_key("body")));
    assert!(!old_name_in_log, "the log is migrated too");
    world.assert_converged_per_version();
}

#[test]
fn a_store_newer_than_the_servers_build_is_refused_with_how_to_roll_back() {
    let mut store = MemoryStore::new();
    let meta = ServerMeta { schema_version: 2, ..Default::default() };
    store.commit(vec![Mutation::ServerMeta(meta)]).expect("memory stores commit");
    let v1_build = ServerConfig::new(base());
    let error = Server::new(v1_build, store, Now::new(MonoTime(0), WallTime(0)))
        .expect_err("v2 data cannot be read by a v1 build");
    assert_eq!(error, StartError::StoreNewer { stored: 2, first: 1, latest: 1 });
    assert!(error.to_string().contains("schema v2 data"), "{error}");
    assert!(error.to_string().contains("version policy"), "{error}");
}
