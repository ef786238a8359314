//! Signed, expiring tokens at the handshake: who is admitted, what a refused client is told,
//! and that a fresh token brings it back with nothing lost.

mod common;

use common::{World, fields, key, test_keys, text, token_for};
use driftsync_core::auth::TokenError;
use driftsync_core::{ClientEvent, RejectReason};

fn token_refusals(world: &World) -> Vec<TokenError> {
    world.client_events[0]
        .iter()
        .filter_map(|event| match event {
            ClientEvent::TokenNeeded(error) => Some(error.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_client_with_a_valid_token_syncs() {
    let mut world = World::with(
        1,
        |server| server.keys = Some(test_keys()),
        |client| client.token = token_for(1, 3_600),
    );
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("hi"))])).expect("valid");
    world.settle();
    world.assert_converged();
    assert!(world.server.view().contains_key(&key("r")));
    assert!(token_refusals(&world).is_empty());
}

#[test]
fn an_expired_token_asks_the_host_for_a_fresh_one_and_loses_nothing_queued() {
    // Valid for 10 s; the skew allowance is a minute, so it is refused after 70 s.
    let mut world = World::with(
        1,
        |server| server.keys = Some(test_keys()),
        |client| client.token = token_for(1, 10),
    );
    world.run_for(80_000);
    let now = world.now;
    world.client(0).put(now, key("late"), fields(&[("title", text("kept"))])).expect("valid");
    world.client(0).disconnected(now);
    world.run_for(30_000);
    let refusals = token_refusals(&world);
    assert!(
        refusals.iter().any(|e| matches!(e, TokenError::Expired { .. })),
        "refusals: {refusals:?}"
    );
    assert_eq!(world.client_ref(0).outbox().count(), 1, "the write waits for a token");
    world.client(0).set_token(token_for(1, 3_600));
    world.settle();
    world.assert_converged();
    assert!(world.server.view().contains_key(&key("late")));
}

#[test]
fn a_token_stolen_from_another_replica_is_refused() {
    let mut world = World::with(
        1,
        |server| server.keys = Some(test_keys()),
        |client| client.token = token_for(2, 3_600),
    );
    world.run_for(5_000);
    let rejection = world.client_ref(0).rejection().cloned();
    assert_eq!(rejection, Some(RejectReason::Token(TokenError::ReplicaNotGranted { replica: 1 })));
    assert!(world.server.registrations().is_empty(), "the thief never registered");
}
