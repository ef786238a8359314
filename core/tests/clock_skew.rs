//! A client whose wall clock runs an hour ahead still converges, is reported, and cannot make
//! the clock of anyone go backwards.

mod common;

use common::{World, fields, key, text};
use driftsync_core::{ClientEvent, FieldView, ServerEvent};

const HOUR_MS: i64 = 3_600_000;

#[test]
fn a_client_skewed_an_hour_ahead_converges_and_is_reported() {
    let mut world = World::new(3);
    world.skew(2, HOUR_MS);
    world.settle();
    let now = world.now;
    world
        .client(2)
        .put(now, key("r"), fields(&[("title", text("from the future"))]))
        .expect("valid");
    world.settle();
    world.run_for(1_000);
    let now = world.now;
    // Client 0 writes later in real time, but after observing the future stamp its clock has
    // moved past it, so its write wins as a person would expect.
    world
        .client(0)
        .update(now, key("r"), fields(&[("title", text("edited after"))]))
        .expect("valid");
    world.settle();
    world.assert_converged();
    assert_eq!(world.server.view()[&key("r")]["title"], FieldView::One(text("edited after")));
    let server_reported =
        world.server_events.iter().any(|e| matches!(e, ServerEvent::ClockAhead { .. }));
    assert!(server_reported, "the server reports a stamp an hour ahead of its wall clock");
    let client_reported =
        world.client_events[0].iter().any(|e| matches!(e, ClientEvent::ClockAhead { .. }));
    assert!(client_reported);
    let future_ms = common::WALL_EPOCH_MS + HOUR_MS as u64;
    for i in 0..3 {
        assert!(world.client_ref(i).hlc().wall_ms >= future_ms, "client {i} observed the stamp");
    }
}

#[test]
fn a_wall_clock_jumping_back_never_moves_the_hybrid_clock_back() {
    let mut world = World::new(1);
    world.settle();
    let now = world.now;
    world.client(0).put(now, key("r"), fields(&[("title", text("first"))])).expect("valid");
    let before = world.client_ref(0).hlc();
    world.skew(0, -HOUR_MS);
    let now = world.now;
    world.client(0).update(now, key("r"), fields(&[("title", text("second"))])).expect("valid");
    assert!(world.client_ref(0).hlc() > before);
    world.settle();
    world.assert_converged();
    assert_eq!(world.server.view()[&key("r")]["title"], FieldView::One(text("second")));
}
