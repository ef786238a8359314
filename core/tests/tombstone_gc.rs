//! Tombstones are collected only when no client can need them, and a client evicted for being
//! offline past the horizon resyncs, keeps its pending writes, and has its stale ops
//! quarantined instead of resurrecting anything.

mod common;

use common::{World, fields, key, text};
use driftsync_core::{ClientEvent, Origin, QuarantineReason, ServerEvent};

const GC_MS: u64 = 1_000;
const EVICT_MS: u64 = 60_000;

fn gc_world(clients: usize) -> World {
    World::with(
        clients,
        |server| {
            server.gc_interval_ms = GC_MS;
            server.client_eviction_ms = EVICT_MS;
        },
        |client| client.sync_interval_ms = 2_000,
    )
}

#[test]
fn a_tombstone_is_collected_once_every_client_has_seen_it() {
    let mut world = gc_world(3);
    let now = world.now;
    world.client(0).put(now, key("gone"), fields(&[("title", text("x"))])).expect("valid");
    world.settle();
    let now = world.now;
    world.client(1).delete(now, key("gone")).expect("valid");
    world.settle();
    world.run_for(3 * GC_MS);
    assert!(world.server.records().get(&key("gone")).is_none(), "the tombstone was collected");
    assert!(world.server.meta().gc_horizon.is_some());
    world.run_for(5_000);
    world.settle();
    world.assert_converged();
    for i in 0..3 {
        // Clients keep theirs: only the server knows which tombstones it collected.
        let local = world.client_ref(i).record_state(&key("gone")).expect("kept");
        assert!(local.is_bare_tombstone(), "client {i} still hides the record");
    }
}

#[test]
fn a_client_that_has_not_seen_a_tombstone_holds_back_its_collection() {
    let mut world = gc_world(2);
    let now = world.now;
    world.client(0).put(now, key("gone"), fields(&[("title", text("x"))])).expect("valid");
    world.settle();
    world.go_offline(1);
    let now = world.now;
    world.client(0).delete(now, key("gone")).expect("valid");
    world.run_for(10 * GC_MS);
    assert!(world.server.records().get(&key("gone")).is_some(), "client 1 has not pulled it");
    world.go_online(1);
    world.settle();
    world.run_for(3 * GC_MS);
    assert!(world.server.records().get(&key("gone")).is_none());
}

#[test]
fn garbage_collection_with_a_client_offline_past_the_horizon_never_resurrects() {
    let mut world = gc_world(3);
    let now = world.now;
    world.client(0).put(now, key("doomed"), fields(&[("title", text("alive"))])).expect("valid");
    world.settle();
    world.go_offline(2);
    // Offline, client 2 edits the record it still sees, and writes something new.
    let now = world.now;
    let stale_edit = fields(&[("title", text("stale edit"))]);
    world.client(2).put(now, key("doomed"), stale_edit).expect("valid");
    world.run_for(1_000);
    // Meanwhile the record is deleted and, once client 2 is evicted, collected.
    let now = world.now;
    world.client(0).delete(now, key("doomed")).expect("valid");
    world.run_for(EVICT_MS + 5 * GC_MS);
    assert!(world.server.records().get(&key("doomed")).is_none(), "collected");
    assert!(world.server.registrations()[&driftsync_core::ReplicaId(3)].evicted);
    // A write made after the horizon is not stale and must survive.
    let now = world.now;
    world.client(2).put(now, key("fresh"), fields(&[("title", text("new"))])).expect("valid");
    world.go_online(2);
    world.settle();
    world.assert_converged();
    let view = world.server.view();
    assert!(!view.contains_key(&key("doomed")), "the stale put must not resurrect it");
    assert!(view.contains_key(&key("fresh")), "the unsynced outbox survived the resync");
    assert_eq!(world.client_ref(2).metrics().resyncs, 1);
    let quarantined_locally = world.client_events[2].iter().any(|e| {
        matches!(e, ClientEvent::Quarantined(n)
            if n.origin == Origin::Local && matches!(n.reason, QuarantineReason::Stale { .. }))
    });
    assert!(quarantined_locally, "the client explains what it set aside");
    assert_eq!(world.client_ref(2).quarantine().len(), 1, "kept, not dropped");
    let quarantined_on_server = world.server.quarantine().iter().any(|q| q.op.key == key("doomed"));
    assert!(quarantined_on_server, "the server keeps the stale op too");
    assert!(world.server_events.iter().any(|e| matches!(e, ServerEvent::ClientEvicted { .. })));
}
