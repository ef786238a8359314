//! The server's audit trail: every applied op is kept with who wrote it, when the server
//! applied it and why, past log compaction and until its retention passes.

mod common;

use common::{World, fields, key, test_keys, text, token_for, token_scoped};
use driftsync_core::audit::AuditEntry;
use driftsync_core::{REASON_BYTES_MAX, Store, WriteError};

const DAY_MS: u64 = 24 * 3_600_000;

/// Two clients with tokens of their own users; the server keeps an audit trail for `days`.
fn audited_world(days: u64, second_client_writes: &[&str]) -> World {
    World::with(
        2,
        |server| {
            server.keys = Some(test_keys());
            server.audit_retention_ms = Some(days * DAY_MS);
        },
        |client| {
            client.token = match client.replica.0 {
                1 => token_for(1, 30 * 86_400),
                _ => token_scoped(2, 30 * 86_400, &["*"], second_client_writes),
            }
        },
    )
}

fn trail(world: &World, record: &str) -> Vec<AuditEntry> {
    world.server.store().audit_of(&key(record)).expect("the memory store answers")
}

#[test]
fn every_applied_op_is_audited_with_its_user_the_servers_time_and_its_reason() {
    let mut world = audited_world(1, &["*"]);
    let now = world.now;
    let title = fields(&[("title", text("draft"))]);
    world.client(0).put_because(now, key("r"), title, "imported from mail").expect("valid");
    world.settle();
    let applied_at = world.server.meta().hlc.wall_ms;
    let now = world.now;
    world.client(1).increment(now, key("r"), "likes", 2).expect("valid");
    world.settle();
    let entries = trail(&world, "r");
    let who: Vec<_> = entries.iter().map(|e| e.user.as_str()).collect();
    assert_eq!(who, ["user-1", "user-2"]);
    assert_eq!(entries[0].op.reason.as_deref(), Some("imported from mail"));
    assert_eq!(entries[1].op.reason, None, "a write that gave no reason has none");
    assert_eq!(entries[0].op.kind_name(), "put");
    assert!(entries[0].at.0 <= applied_at && entries[0].at < entries[1].at, "{entries:?}");
    let log: Vec<_> = world.server.log().cloned().collect();
    assert_eq!(entries.iter().map(|e| e.op.clone()).collect::<Vec<_>>(), log, "the ops as stored");
}

#[test]
fn a_write_the_server_refuses_is_not_in_the_audit_trail() {
    // The second user may read everything but write only `tasks`.
    let mut world = audited_world(1, &["tasks"]);
    let now = world.now;
    world.client(1).put(now, key("r"), fields(&[("title", text("no"))])).expect("valid locally");
    world.settle();
    assert!(trail(&world, "r").is_empty());
    assert_eq!(world.server.quarantine().len(), 1, "refused as forbidden, and kept as such");
}

#[test]
fn the_audit_trail_outlives_log_compaction_and_forgets_entries_past_retention() {
    let mut world = audited_world(1, &["*"]);
    let now = world.now;
    for n in 0..3 {
        let title = fields(&[("title", text(&format!("v{n}")))]);
        world.client(0).put_because(now, key("r"), title, "edited").expect("valid");
    }
    world.settle();
    world.run_for(120_000);
    assert_eq!(world.server.log().count(), 0, "every client pulled, so the log is compacted");
    assert_eq!(trail(&world, "r").len(), 3, "the trail is not compacted with the log");
    world.run_for(DAY_MS + 60_000);
    assert!(trail(&world, "r").is_empty(), "a day's retention has passed");
}

#[test]
fn a_reason_longer_than_the_bound_is_refused_at_the_write_and_leaves_nothing() {
    let mut world = audited_world(1, &["*"]);
    let now = world.now;
    let long = "x".repeat(REASON_BYTES_MAX + 1);
    let title = fields(&[("title", text("t"))]);
    let refused = world.client(0).put_because(now, key("r"), title, &long);
    assert!(matches!(refused, Err(WriteError::Schema(_))), "{refused:?}");
    assert_eq!(world.client_ref(0).outbox().count(), 0);
}
