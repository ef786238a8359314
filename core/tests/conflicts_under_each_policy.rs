//! Concurrent edits under every merge policy converge, and each decision is explained.

mod common;

use common::{World, fields, key, text};
use driftsync_core::{ClientEvent, ConflictOutcome, FieldView, MergePolicy, ServerEvent, Value};

/// Two clients edit `shared` while both are offline, then reconnect in order.
fn concurrent(world: &mut World, edit: impl Fn(&mut World, usize)) {
    let now = world.now;
    world.client(0).put(now, key("shared"), fields(&[("title", text("base"))])).expect("valid");
    world.settle();
    world.go_offline(0);
    world.go_offline(1);
    edit(world, 0);
    world.run_for(1_000);
    edit(world, 1);
    world.go_online(0);
    world.settle();
    world.go_online(1);
    world.settle();
    world.assert_converged();
}

fn server_conflicts(world: &World, rule: MergePolicy) -> Vec<&driftsync_core::ConflictReport> {
    world
        .server_events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Conflict(report) if report.rule == rule => Some(report),
            _ => None,
        })
        .collect()
}

#[test]
fn last_writer_wins_keeps_the_later_write_and_explains_why() {
    let mut world = World::new(2);
    concurrent(&mut world, |w, i| {
        let now = w.now;
        let title = if i == 0 { "earlier" } else { "later" };
        w.client(i).update(now, key("shared"), fields(&[("title", text(title))])).expect("valid");
    });
    let view = world.server.view();
    assert_eq!(view[&key("shared")]["title"], FieldView::One(text("later")));
    let reports = server_conflicts(&world, MergePolicy::LastWriterWins);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = reports[0];
    assert_eq!(report.field, "title");
    assert_eq!(report.winner.value, text("later"));
    assert_eq!(report.loser.value, text("earlier"));
    assert!(report.winner.stamp > report.loser.stamp);
    assert_eq!(report.outcome, ConflictOutcome::Overwritten);
}

#[test]
fn counters_sum_every_concurrent_increment() {
    let mut world = World::new(2);
    concurrent(&mut world, |w, i| {
        let now = w.now;
        for _ in 0..5 {
            w.client(i).increment(now, key("shared"), "likes", 2 + i as i64).expect("valid");
        }
    });
    assert_eq!(world.server.view()[&key("shared")]["likes"], FieldView::One(Value::I64(25)));
    assert!(server_conflicts(&world, MergePolicy::Counter).is_empty(), "counters never conflict");
}

#[test]
fn max_and_min_keep_the_extremes_whoever_wrote_last() {
    let mut world = World::new(2);
    concurrent(&mut world, |w, i| {
        let now = w.now;
        let (high, low) = if i == 0 { (90, -5) } else { (10, 3) };
        let edit = fields(&[("high", Value::I64(high)), ("low", Value::I64(low))]);
        w.client(i).update(now, key("shared"), edit).expect("valid");
    });
    let record = &world.server.view()[&key("shared")];
    assert_eq!(record["high"], FieldView::One(Value::I64(90)));
    assert_eq!(record["low"], FieldView::One(Value::I64(-5)));
    let max = server_conflicts(&world, MergePolicy::Max);
    assert_eq!(max.len(), 1);
    assert_eq!(max[0].outcome, ConflictOutcome::Ignored, "the later, smaller value lost");
    assert_eq!(server_conflicts(&world, MergePolicy::Min).len(), 1);
}

#[test]
fn multi_value_keeps_both_until_resolved_and_stays_resolved() {
    let mut world = World::new(3);
    concurrent(&mut world, |w, i| {
        let now = w.now;
        let tag = if i == 0 { "red" } else { "blue" };
        w.client(i).update(now, key("shared"), fields(&[("tags", text(tag))])).expect("valid");
    });
    let forked = world.server.view()[&key("shared")]["tags"].clone();
    assert_eq!(forked, FieldView::Many(vec![text("red"), text("blue")]));
    let forks = server_conflicts(&world, MergePolicy::MultiValue);
    assert_eq!(forks.len(), 1);
    assert_eq!(forks[0].outcome, ConflictOutcome::Forked);
    let client_saw_fork = world.client_events[0]
        .iter()
        .any(|e| matches!(e, ClientEvent::Conflict(r) if r.outcome == ConflictOutcome::Forked));
    assert!(client_saw_fork, "the client that lost the race is told too");

    let now = world.now;
    world.client(2).resolve_conflict(now, key("shared"), "tags", text("purple")).expect("valid");
    world.settle();
    world.assert_converged();
    assert_eq!(world.server.view()[&key("shared")]["tags"], FieldView::One(text("purple")));

    // A late sync of an old value from a client that was offline must not reopen it.
    world.go_offline(0);
    world.go_online(0);
    world.run_for(30_000);
    world.settle();
    world.assert_converged();
    assert_eq!(world.server.view()[&key("shared")]["tags"], FieldView::One(text("purple")));
}
