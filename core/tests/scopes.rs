//! Least privilege: a token's scopes decide which records its holder may read and write. A
//! write outside them is quarantined as forbidden and its writer told; nothing outside the
//! read scope reaches the client, by pull or by snapshot.

mod common;

use common::{World, fields, key, test_keys, text, token_for, token_scoped};
use driftsync_core::{ClientEvent, QuarantineReason};

/// Client 0 (replica 1) may do anything; client 1 (replica 2) reads `notes/pub*` and writes
/// `notes/own-*`.
fn scoped_world() -> World {
    World::with(
        2,
        |server| server.keys = Some(test_keys()),
        |client| {
            client.token = match client.replica.0 {
                1 => token_for(1, 3_600),
                _ => token_scoped(2, 3_600, &["notes/pub*"], &["notes/own-*"]),
            }
        },
    )
}

#[test]
fn a_write_outside_the_write_scope_is_quarantined_as_forbidden_and_its_writer_told() {
    let mut world = scoped_world();
    let now = world.now;
    let outside = world.client(1).put(now, key("pub-1"), fields(&[("title", text("x"))]));
    let inside = world.client(1).put(now, key("own-1"), fields(&[("title", text("y"))]));
    world.settle();
    let (outside, inside) = (outside.expect("valid"), inside.expect("valid"));
    let view = world.server.view();
    assert!(!view.contains_key(&key("pub-1")), "the forbidden write was not applied");
    assert!(view.contains_key(&key("own-1")), "the write inside the scope was applied");
    let held = world.server.quarantine();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].op.id, outside);
    assert_eq!(held[0].reason, QuarantineReason::Forbidden { user: "user-2".into() });
    let told = world.client_events[1].iter().any(|event| {
        matches!(event, ClientEvent::Quarantined(notice)
            if notice.op == outside && notice.reason.kind() == "forbidden")
    });
    assert!(told, "the writer heard which write was refused and why");
    assert_ne!(outside, inside);
}

#[test]
fn pulls_carry_only_records_the_session_may_read() {
    let mut world = scoped_world();
    let now = world.now;
    for record in ["pub-1", "secret-1", "pub-2", "secret-2"] {
        world.client(0).put(now, key(record), fields(&[("title", text(record))])).expect("valid");
    }
    world.settle();
    let seen: Vec<String> =
        world.client_ref(1).view().keys().map(|key| key.record.clone()).collect();
    assert_eq!(seen, ["pub-1", "pub-2"]);
    assert_eq!(world.client_ref(1).cursor(), world.server.head(), "the cursor passed the rest");
    assert_eq!(world.client_ref(0).view().len(), 4);
}

#[test]
fn a_snapshot_carries_only_records_the_session_may_read() {
    let mut world = scoped_world();
    world.go_offline(1);
    let now = world.now;
    for record in ["pub-1", "secret-1"] {
        world.client(0).put(now, key(record), fields(&[("title", text(record))])).expect("valid");
    }
    world.settle();
    world.run_for(35_000);
    assert!(world.server.meta().compacted_through.0 > 0, "the server compacted");
    world.go_online(1);
    world.settle();
    assert_eq!(world.client_ref(1).metrics().resyncs, 1, "client 1 rebuilt from a snapshot");
    let seen: Vec<String> =
        world.client_ref(1).view().keys().map(|key| key.record.clone()).collect();
    assert_eq!(seen, ["pub-1"]);
}
