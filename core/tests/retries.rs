//! Lost messages are retried with backoff; a breaker stops hammering a dead server and probes
//! again after its cool-down; a background timer and `sync_now` both start syncs.

mod common;

use common::{Direction, World, fields, key, text};
use driftsync_core::{ClientEvent, RetryConfig};

#[test]
fn lost_requests_are_retried_until_they_get_through() {
    let mut world = World::new(2);
    world.settle();
    world.drop_next(Direction::ToServer, 0, "push", 3);
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("eventually"))])).expect("valid");
    world.settle();
    world.assert_converged();
    assert!(world.client_ref(0).metrics().retries >= 3);
}

#[test]
fn the_breaker_opens_after_repeated_failures_and_probes_after_the_cooldown() {
    let retry = RetryConfig {
        backoff_ms_base: 100,
        backoff_ms_max: 1_000,
        breaker_failures_max: 3,
        breaker_cooldown_ms: 20_000,
    };
    let mut world = World::with(1, |_| {}, |client| client.retry = retry);
    world.settle();
    world.go_offline(0);
    world.run_for(10_000);
    let opened =
        world.client_events[0].iter().any(|e| matches!(e, ClientEvent::BreakerOpened { .. }));
    assert!(opened);
    let dials_while_open = |world: &World| {
        world.client_events[0].iter().filter(|e| **e == ClientEvent::WantsConnection).count()
    };
    let before = dials_while_open(&world);
    world.run_for(5_000);
    assert_eq!(dials_while_open(&world), before, "no dialling while the breaker is open");
    world.run_for(20_000);
    assert!(dials_while_open(&world) > before, "a probe after the cool-down");
}

#[test]
fn the_background_timer_pulls_without_being_asked() {
    let mut world = World::with(2, |_| {}, |client| client.sync_interval_ms = 5_000);
    world.settle();
    // Pokes are lost, so only the periodic timer can bring client 1 up to date.
    world.drop_next(Direction::ToClient, 1, "poke", 100);
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("t"))])).expect("valid");
    world.run_for(6_000);
    world.assert_converged();
}
