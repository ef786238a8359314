//! The sync state is read off the connection, and each change is reported once, after the
//! input that made it.

mod common;

use common::{Direction, World, fields, key, test_keys, text};
use driftsync_core::{ClientEvent, SyncState};

fn state_changes(world: &World, client: usize) -> Vec<SyncState> {
    let events = world.client_events[client].iter();
    events
        .filter_map(|event| match event {
            ClientEvent::StateChanged(state) => Some(*state),
            _ => None,
        })
        .collect()
}

#[test]
fn a_write_synced_from_a_fresh_client_reports_each_state_once_and_ends_idle() {
    let mut world = World::new(1);
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("t"))])).expect("valid");
    world.settle();
    let changes = state_changes(&world, 0);
    assert!(changes.windows(2).all(|pair| pair[0] != pair[1]), "no repeats: {changes:?}");
    for state in [SyncState::Connecting, SyncState::Handshaking, SyncState::Syncing] {
        assert!(changes.contains(&state), "{state:?} was reported: {changes:?}");
    }
    assert_eq!(changes.last(), Some(&SyncState::Idle), "{changes:?}");
    assert_eq!(world.client_ref(0).sync_state(), SyncState::Idle);
    assert!(world.client_ref(0).is_idle());
}

#[test]
fn a_client_whose_pulls_go_unanswered_never_reads_idle_while_it_backs_off_and_retries() {
    let mut world = World::new(1);
    world.settle();
    world.drop_next(Direction::ToClient, 0, "pull-batch", u32::MAX);
    let now = world.now;
    world.client(0).sync_now(now);
    assert_eq!(world.client_ref(0).sync_state(), SyncState::Syncing, "the pull is out");
    let mut seen = Vec::new();
    for _ in 0..300 {
        world.run_for(100);
        let state = world.client_ref(0).sync_state();
        assert_ne!(state, SyncState::Idle, "a pull is unanswered, yet the client reads idle");
        seen.push(state);
    }
    assert!(seen.contains(&SyncState::Syncing), "it kept retrying the pull: {seen:?}");
    world.stop_dropping();
    world.settle();
    assert_eq!(world.client_ref(0).sync_state(), SyncState::Idle, "caught up in the end");
    let changes = state_changes(&world, 0);
    assert!(changes.windows(2).all(|pair| pair[0] != pair[1]), "no repeats: {changes:?}");
}

#[test]
fn a_client_whose_handshake_is_refused_reads_rejected() {
    let mut world = World::with(
        1,
        |server| server.keys = Some(test_keys()),
        |client| client.token = "wrong".into(),
    );
    world.run_for(5_000);
    assert_eq!(world.client_ref(0).sync_state(), SyncState::Rejected);
    assert_eq!(state_changes(&world, 0).last(), Some(&SyncState::Rejected));
}
