//! A client that reports having pulled past the server's head (it synced with a server since
//! restored from an older backup, with another server at the same address, or it lies) is sent
//! to resync, and the server never records a cursor past its own head.

mod common;

use common::{Direction, World, fields, key, text};
use driftsync_core::LogPos;
use driftsync_core::testing::wire::Message;

fn past_the_head(message: &mut Message) {
    match message {
        Message::PullRequest(request) => request.cursor = LogPos(1_000),
        Message::Hello(hello) => hello.cursor = LogPos(1_000),
        _ => {}
    }
}

fn world_with_a_record() -> World {
    let mut world = World::new(2);
    let now = world.now;
    world.client(0).put(now, key("a"), fields(&[("title", text("kept"))])).expect("a write");
    world.settle();
    world
}

fn recorded_cursor(world: &World, client: u64) -> LogPos {
    let registrations = world.server.registrations();
    registrations[&driftsync_core::ReplicaId(client)].cursor
}

#[test]
fn a_pull_from_past_the_head_is_sent_to_resync_and_recorded_at_the_compaction_point() {
    let mut world = world_with_a_record();
    world.tamper_next(Direction::ToServer, 1, "pull-request", past_the_head);
    // Held back, so that the state between the report and the resync can be looked at.
    world.drop_next(Direction::ToClient, 1, "resync-required", 1);
    let now = world.now;
    world.client(1).sync_now(now);
    world.drain();
    world.server.check_invariants().expect("no cursor is recorded past the head");
    assert_eq!(recorded_cursor(&world, 2), world.server.meta().compacted_through);
    world.stop_dropping();
    world.settle();
    world.assert_converged();
    assert_eq!(recorded_cursor(&world, 2), world.server.head(), "resynced, it caught up");
}

#[test]
fn a_hello_from_past_the_head_is_sent_to_resync_and_recorded_at_the_compaction_point() {
    let mut world = world_with_a_record();
    world.tamper_next(Direction::ToServer, 1, "hello", past_the_head);
    world.drop_next(Direction::ToClient, 1, "welcome", 1);
    world.go_offline(1);
    world.go_online(1);
    world.server.check_invariants().expect("no cursor is recorded past the head");
    assert_eq!(recorded_cursor(&world, 2), world.server.meta().compacted_through);
    world.stop_dropping();
    world.settle();
    world.assert_converged();
    world.server.check_invariants().expect("no cursor is recorded past the head");
}
