//! A push whose ack is lost is resent, and the server applies it exactly once.

mod common;

use common::{Direction, World, fields, key, text};
use driftsync_core::{FieldView, Value};

#[test]
fn a_lost_push_ack_followed_by_a_resend_applies_nothing_twice() {
    let mut world = World::new(3);
    world.settle();
    world.drop_next(Direction::ToClient, 0, "push-ack", 2);
    let now = world.now;
    world.client(0).put(now, key("c"), fields(&[("title", text("counted"))])).expect("valid");
    for _ in 0..4 {
        world.client(0).increment(now, key("c"), "likes", 10).expect("valid");
    }
    world.settle();
    world.assert_converged();
    assert_eq!(world.server.view()[&key("c")]["likes"], FieldView::One(Value::I64(40)));
    let server = world.server.metrics();
    assert!(server.duplicates_dropped >= 5, "the resent ops were recognised: {server:?}");
    assert_eq!(server.ops_pushed, 5, "each op was accepted once");
    assert!(world.client_ref(0).metrics().retries >= 2, "the client retried after each loss");
}

#[test]
fn a_lost_ack_across_a_reconnect_is_settled_by_the_welcome() {
    let mut world = World::new(1);
    world.settle();
    world.drop_next(Direction::ToClient, 0, "push-ack", 1);
    let now = world.now;
    world.client(0).put(now, key("c"), fields(&[("title", text("t"))])).expect("valid");
    world.go_offline(0);
    world.go_online(0);
    world.settle();
    world.assert_converged();
    assert_eq!(world.server.metrics().ops_pushed, 1);
}
