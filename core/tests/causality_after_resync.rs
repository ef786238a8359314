//! A write is stamped after everything it saw, however the state it saw arrived: a replica
//! rebuilt from a snapshot holds values its clock never passed, and a write or delete stamped
//! below them would lose to what it replaced, or (with a tombstone between them) merge
//! differently in different orders.

mod common;

use common::{World, fields, key, text};

/// Client 1 is a fresh install whose clock runs a minute behind; it joins after the server has
/// compacted, so it rebuilds from a snapshot of what client 0 (a minute ahead) wrote.
fn resynced_behind() -> World {
    let mut world = World::new(2);
    world.skew(0, 60_000);
    world.skew(1, -60_000);
    world.go_offline(1);
    let now = world.now;
    let record = fields(&[("title", text("ahead")), ("tags", text("a"))]);
    world.client(0).put(now, key("r"), record).expect("valid");
    world.settle();
    world.run_for(35_000);
    assert!(world.server.meta().compacted_through.0 > 0, "the server compacted");
    world.go_online(1);
    world.settle();
    assert_eq!(world.client_ref(1).metrics().resyncs, 1, "client 1 rebuilt from a snapshot");
    world
}

#[test]
fn a_write_after_a_resync_is_stamped_after_the_values_it_replaces() {
    let mut world = resynced_behind();
    let seen = world.client_ref(1).record_state(&key("r")).and_then(|r| r.newest_stamp());
    let now = world.now;
    world.client(1).update(now, key("r"), fields(&[("tags", text("b"))])).expect("valid");
    let written = world.client_ref(1).outbox().last().expect("queued").stamp;
    assert!(Some(written) > seen, "{written} is not after {seen:?}");
    world.settle();
    world.assert_converged();
    let tags = &world.server.view()[&key("r")]["tags"];
    assert_eq!(*tags, driftsync_core::FieldView::One(text("b")), "the edit replaced what it saw");
}

#[test]
fn a_delete_after_a_resync_removes_the_record_though_its_writers_clock_is_behind() {
    let mut world = resynced_behind();
    let now = world.now;
    world.client(1).delete(now, key("r")).expect("valid");
    world.settle();
    world.assert_converged();
    assert!(!world.server.view().contains_key(&key("r")), "the delete hides what it saw");
}
