//! Offline edits on every side, then a reconnect, converge to one state everywhere.

mod common;

use common::{World, fields, key, text};
use driftsync_core::{FieldView, Value};

#[test]
fn offline_edits_on_all_sides_converge_after_reconnect() {
    let mut world = World::new(3);
    world.settle();
    for i in 0..3 {
        world.go_offline(i);
    }
    let now = world.now;
    for i in 0..3 {
        let record = format!("from-{i}");
        world.client(i).put(now, key(&record), fields(&[("title", text(&record))])).expect("valid");
        world
            .client(i)
            .put(now, key("shared"), fields(&[("title", text(&record))]))
            .expect("valid");
        world.client(i).increment(now, key("shared"), "likes", 1).expect("valid");
    }
    world.run_for(60_000);
    for i in 0..3 {
        world.go_online(i);
    }
    world.settle();
    world.assert_converged();
    let view = world.server.view();
    assert_eq!(view.len(), 4, "three private records and the shared one");
    let shared = &view[&key("shared")];
    assert_eq!(shared["likes"], FieldView::One(Value::I64(3)), "every increment counted once");
}

#[test]
fn a_write_survives_a_crash_before_any_sync() {
    let mut world = World::new(1);
    world.go_offline(0);
    let now = world.now;
    world.client(0).put(now, key("a"), fields(&[("title", text("kept"))])).expect("valid");
    world.crash_client(0);
    assert_eq!(world.client_ref(0).outbox().count(), 1, "the outbox was committed with the write");
    world.go_online(0);
    world.settle();
    world.assert_converged();
    assert!(world.server.view().contains_key(&key("a")));
}

#[test]
fn a_server_crash_loses_nothing_it_acknowledged() {
    let mut world = World::new(2);
    let now = world.now;
    world.client(0).put(now, key("a"), fields(&[("title", text("one"))])).expect("valid");
    world.settle();
    world.crash_server();
    let now = world.now;
    world.client(1).put(now, key("b"), fields(&[("title", text("two"))])).expect("valid");
    world.settle();
    world.assert_converged();
    assert_eq!(world.server.view().len(), 2);
}
