//! Deletes, collection and quarantine: the server keeps a tombstone until no client it waits
//! for can need it and its retention window has passed, so an op older than a delete, from a
//! client evicted for silence or a fresh install that never synced, is hidden by it exactly as
//! the merge hides it. Only an op older than a delete the server has forgotten, on a record it
//! no longer holds (or re-created since), is quarantined as stale: kept, reported, and gone
//! from its writer's replica too.

mod common;

use common::{Direction, World, fields, key, text};
use driftsync_core::{ClientEvent, Origin, QuarantineReason, ReplicaId, ServerConfig, ServerEvent};

const GC_MS: u64 = 1_000;
const EVICT_MS: u64 = 60_000;
const RETAIN_MS: u64 = 90_000;

fn gc_world(clients: usize, retention_ms: u64) -> World {
    World::with(
        clients,
        |server| {
            server.gc_interval_ms = GC_MS;
            server.client_eviction_ms = EVICT_MS;
            server.tombstone_retention_ms = retention_ms;
        },
        |client| client.sync_interval_ms = 2_000,
    )
}

fn stale_quarantines(world: &World) -> usize {
    let server = world.server.quarantine().iter();
    server.filter(|q| matches!(q.reason, QuarantineReason::Stale { .. })).count()
}

/// Client 0 creates `name` and every client pulls it.
fn create_everywhere(world: &mut World, name: &str) {
    let now = world.now;
    world.client(0).put(now, key(name), fields(&[("title", text("alive"))])).expect("valid");
    world.settle();
}

#[test]
fn a_tombstone_is_forgotten_only_once_every_client_has_seen_it_and_its_retention_has_passed() {
    let mut world = gc_world(3, RETAIN_MS);
    create_everywhere(&mut world, "gone");
    let now = world.now;
    world.client(1).delete(now, key("gone")).expect("valid");
    world.settle();
    world.run_for(RETAIN_MS / 2);
    let state = world.server.records().get(&key("gone")).expect("still within its retention");
    assert!(state.is_bare_tombstone());
    assert!(world.server.forgotten_through(&key("gone")).is_none());
    world.run_for(RETAIN_MS);
    assert!(world.server.records().get(&key("gone")).is_none(), "forgotten after retention");
    assert!(world.server.forgotten_through(&key("gone")).is_some(), "its delete is bounded");
    world.settle();
    world.assert_converged();
    for i in 0..3 {
        // Clients keep theirs: the server never serves anything a forgotten delete could hide.
        let local = world.client_ref(i).record_state(&key("gone")).expect("kept");
        assert!(local.is_bare_tombstone(), "client {i} still hides the record");
    }
}

#[test]
fn a_client_that_has_not_pulled_a_delete_holds_back_its_forgetting_past_retention() {
    let mut world = gc_world(2, EVICT_MS);
    create_everywhere(&mut world, "gone");
    // Client 1 keeps asking (so it is never silent) but none of its pulls gets through.
    world.drop_next(Direction::ToClient, 1, "pull-batch", u32::MAX);
    let now = world.now;
    world.client(0).delete(now, key("gone")).expect("valid");
    world.run_for(2 * EVICT_MS);
    assert!(!world.server.registrations()[&ReplicaId(2)].evicted);
    assert!(world.server.records().get(&key("gone")).is_some(), "client 1 has not pulled it");
    world.stop_dropping();
    world.settle();
    world.run_for(3 * GC_MS);
    assert!(world.server.records().get(&key("gone")).is_none());
}

#[test]
fn a_retention_window_shorter_than_the_eviction_window_is_raised_to_it() {
    let mut config = ServerConfig::new(common::schema());
    config.client_eviction_ms = EVICT_MS;
    config.tombstone_retention_ms = 1;
    assert_eq!(config.retention_ms(), EVICT_MS);
}

#[test]
fn an_evicted_clients_edit_older_than_a_delete_is_hidden_by_it_not_quarantined() {
    let mut world = gc_world(3, RETAIN_MS * 10);
    create_everywhere(&mut world, "doomed");
    world.go_offline(2);
    // Offline, client 2 edits the record it still sees.
    let now = world.now;
    world.client(2).put(now, key("doomed"), fields(&[("title", text("stale edit"))])).expect("ok");
    world.run_for(1_000);
    // Meanwhile the record is deleted, and client 2 is evicted for its silence.
    let now = world.now;
    world.client(0).delete(now, key("doomed")).expect("valid");
    world.run_for(EVICT_MS + 5 * GC_MS);
    assert!(world.server.registrations()[&ReplicaId(3)].evicted);
    assert!(world.server.meta().compacted_through.0 > 0, "the log moved on without client 2");
    let now = world.now;
    world.client(2).put(now, key("fresh"), fields(&[("title", text("new"))])).expect("valid");
    world.go_online(2);
    world.settle();
    world.assert_converged();
    let view = world.server.view();
    assert!(!view.contains_key(&key("doomed")), "the older edit must not resurrect it");
    assert!(view.contains_key(&key("fresh")), "the unsynced outbox survived the resync");
    assert_eq!(world.client_ref(2).metrics().resyncs, 1);
    assert!(world.server.quarantine().is_empty(), "the delete decided the edit: nothing is lost");
    assert!(world.client_ref(2).quarantine().is_empty());
    assert!(!world.server.registrations()[&ReplicaId(3)].evicted, "caught up again");
    assert!(world.server_events.iter().any(|e| matches!(e, ServerEvent::ClientEvicted { .. })));
}

#[test]
fn a_fresh_install_that_wrote_offline_loses_nothing_to_a_server_that_has_compacted() {
    let mut world = gc_world(3, RETAIN_MS);
    world.go_offline(2);
    // The install writes before it ever connects: a record of its own, an edit of a record
    // others will create, and one of a record others will delete after it wrote.
    let now = world.now;
    let mut install = world.client(2);
    install.put(now, key("mine"), fields(&[("title", text("offline"))])).expect("valid");
    install.update(now, key("shared"), fields(&[("body", text("from the install"))])).expect("ok");
    install.put(now, key("gone"), fields(&[("title", text("older than its delete"))])).expect("ok");
    world.run_for(1_000);
    create_everywhere(&mut world, "shared");
    create_everywhere(&mut world, "gone");
    let now = world.now;
    world.client(0).delete(now, key("gone")).expect("valid");
    world.settle();
    world.run_for(5 * GC_MS);
    assert!(world.server.meta().compacted_through.0 > 0, "the server compacted before it joined");
    world.go_online(2);
    world.settle();
    world.assert_converged();
    let view = world.server.view();
    assert!(view.contains_key(&key("mine")));
    assert_eq!(
        view[&key("shared")]["body"],
        driftsync_core::FieldView::One(text("from the install"))
    );
    assert!(!view.contains_key(&key("gone")), "its delete hides the older put");
    assert!(world.server.quarantine().is_empty());
    assert!(world.client_ref(2).quarantine().is_empty());
    let evicted =
        world.server_events.iter().any(|e| matches!(e, ServerEvent::ClientEvicted { .. }));
    assert!(!evicted, "a new client is registered, not evicted");
}

/// Client 2 edits `names` offline, then the records are deleted and client 2 stays away until
/// the server has forgotten the deletes. Returns the forgotten horizon.
fn forget_while_client_2_holds_older_edits(
    world: &mut World,
    names: &[&str],
) -> driftsync_core::Stamp {
    for name in names {
        create_everywhere(world, name);
    }
    world.go_offline(2);
    let now = world.now;
    for name in names {
        let edit = fields(&[("title", text("older than the delete"))]);
        world.client(2).put(now, key(name), edit).expect("valid");
    }
    world.run_for(1_000);
    let now = world.now;
    world.client(0).delete(now, key("doomed")).expect("valid");
    world.settle();
    world.run_for(EVICT_MS + 2 * GC_MS);
    world.run_for(EVICT_MS);
    assert!(world.server.records().get(&key("doomed")).is_none(), "forgotten");
    world.server.forgotten_through(&key("doomed")).expect("its delete was forgotten")
}

#[test]
fn an_op_older_than_a_forgotten_delete_on_a_record_the_server_no_longer_holds_is_quarantined() {
    let mut world = gc_world(3, EVICT_MS);
    forget_while_client_2_holds_older_edits(&mut world, &["doomed"]);
    world.go_online(2);
    world.settle();
    world.assert_converged();
    assert!(!world.server.view().contains_key(&key("doomed")), "nothing resurrected");
    assert_eq!(stale_quarantines(&world), 1, "the server keeps the op it cannot decide");
    let reported = world.client_events[2].iter().any(|e| {
        matches!(e, ClientEvent::Quarantined(n)
            if n.origin == Origin::Local && matches!(n.reason, QuarantineReason::Stale { .. }))
    });
    assert!(reported, "the writer hears which write was set aside, and why");
    assert_eq!(world.client_ref(2).quarantine().len(), 1, "kept, not dropped");
    assert!(world.client_ref(2).get(&key("doomed")).is_none(), "and gone from its replica");
}

#[test]
fn an_op_older_than_a_forgotten_delete_on_a_record_the_server_holds_is_merged() {
    let mut world = gc_world(3, EVICT_MS);
    forget_while_client_2_holds_older_edits(&mut world, &["doomed", "kept"]);
    world.go_online(2);
    world.settle();
    world.assert_converged();
    let view = world.server.view();
    assert_eq!(
        view[&key("kept")]["title"],
        driftsync_core::FieldView::One(text("older than the delete"))
    );
    assert_eq!(stale_quarantines(&world), 1, "only the edit of the forgotten record");
}

#[test]
fn a_record_re_created_after_its_delete_was_forgotten_quarantines_ops_older_than_that() {
    let mut world = gc_world(3, EVICT_MS);
    let horizon = forget_while_client_2_holds_older_edits(&mut world, &["doomed"]);
    create_everywhere(&mut world, "doomed");
    assert_eq!(world.server.recreated_over(&key("doomed")), Some(horizon));
    world.go_online(2);
    world.settle();
    world.assert_converged();
    let view = world.server.view();
    // The live record shows what client 0 wrote after the delete, not the older edit that a
    // replica still holding the tombstone would hide.
    assert_eq!(view[&key("doomed")]["title"], driftsync_core::FieldView::One(text("alive")));
    assert_eq!(stale_quarantines(&world), 1);
}
