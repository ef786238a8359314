//! A delete racing an update settles the same way everywhere, and never resurrects old values.

mod common;

use common::{World, fields, key, text};
use driftsync_core::{FieldView, Value};

fn racing(delete_first: bool) -> World {
    let mut world = World::new(3);
    let now = world.now;
    let base = fields(&[("title", text("base")), ("body", text("old body"))]);
    world.client(0).put(now, key("r"), base).expect("valid");
    world.settle();
    world.go_offline(0);
    world.go_offline(1);
    let (first, second) = if delete_first { (0, 1) } else { (1, 0) };
    let now = world.now;
    if first == 0 {
        world.client(0).delete(now, key("r")).expect("valid");
    } else {
        world.client(1).update(now, key("r"), fields(&[("title", text("edited"))])).expect("valid");
    }
    world.run_for(1_000);
    let now = world.now;
    if second == 0 {
        world.client(0).delete(now, key("r")).expect("valid");
    } else {
        world.client(1).update(now, key("r"), fields(&[("title", text("edited"))])).expect("valid");
    }
    world.go_online(1);
    world.go_online(0);
    world.settle();
    world.assert_converged();
    world
}

#[test]
fn a_delete_after_a_concurrent_update_removes_the_record_everywhere() {
    let world = racing(false);
    assert!(world.server.view().is_empty());
}

#[test]
fn an_update_after_a_concurrent_delete_does_not_bring_the_record_back() {
    // Only a put re-creates a record; an update newer than the delete keeps its field value
    // for a later put but leaves the record deleted.
    let world = racing(true);
    assert!(world.server.view().is_empty());
}

#[test]
fn a_put_after_a_delete_recreates_the_record_without_its_old_values() {
    let mut world = World::new(2);
    let now = world.now;
    let base = fields(&[("title", text("base")), ("body", text("old body"))]);
    world.client(0).put(now, key("r"), base).expect("valid");
    world.client(0).increment(now, key("r"), "likes", 5).expect("valid");
    world.settle();
    let now = world.now;
    world.client(1).delete(now, key("r")).expect("valid");
    world.settle();
    world.run_for(100);
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("reborn"))])).expect("valid");
    world.client(0).increment(now, key("r"), "likes", 1).expect("valid");
    world.settle();
    world.assert_converged();
    let record = &world.server.view()[&key("r")];
    assert_eq!(record["title"], FieldView::One(text("reborn")));
    assert!(!record.contains_key("body"), "the old body is older than the tombstone");
    assert_eq!(record["likes"], FieldView::One(Value::I64(1)), "old increments stay hidden");
}
