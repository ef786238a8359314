//! A crash in the middle of a multi-batch pull resumes from the last commit: nothing is
//! reprocessed and nothing is skipped.

mod common;

use common::{Direction, World, fields, key, text};

fn world_with_small_batches() -> World {
    World::with(2, |server| server.pull_batch_ops_max = 4, |client| client.pull_batch_ops_max = 4)
}

fn write_many(world: &mut World, count: usize) {
    let now = world.now;
    for n in 0..count {
        let record = format!("r{n}");
        world.client(0).put(now, key(&record), fields(&[("title", text(&record))])).expect("valid");
    }
}

#[test]
fn a_crash_between_pull_batches_resumes_without_reprocessing_or_skipping() {
    let mut world = world_with_small_batches();
    world.settle();
    world.go_offline(1);
    write_many(&mut world, 10);
    world.settle();
    // Client 1 gets the first batch, then loses the second in flight and crashes.
    world.drop_after(Direction::ToClient, 1, "pull-batch", 1);
    world.go_online(1);
    world.drain();
    let cursor_before = world.client_ref(1).cursor();
    assert!(cursor_before.0 > 0 && cursor_before.0 < 10, "mid-pull: {cursor_before:?}");
    world.crash_client(1);
    assert_eq!(
        world.client_ref(1).cursor(),
        cursor_before,
        "the cursor was committed with its data"
    );
    world.settle();
    world.assert_converged();
    assert_eq!(world.client_ref(1).metrics().ops_pulled, 10 - cursor_before.0, "no op twice");
    assert_eq!(world.client_ref(1).metrics().duplicates_dropped, 0);
}

#[test]
fn a_failed_commit_in_the_middle_of_a_pull_leaves_the_cursor_behind_its_data() {
    let mut world = world_with_small_batches();
    world.settle();
    world.go_offline(1);
    write_many(&mut world, 10);
    world.settle();
    world.client(1).store_mut().fail_next_commits(1);
    world.go_online(1);
    world.drain();
    let committed = world.client_ref(1).store().committed().client_meta.clone().unwrap_or_default();
    let stored_records = world.client_ref(1).store().committed().records.len() as u64;
    assert!(stored_records >= committed.cursor.0, "never a cursor ahead of its records");
    world.settle();
    world.assert_converged();
}

#[test]
fn a_damaged_pull_batch_fails_its_manifest_and_is_fetched_again() {
    let mut world = world_with_small_batches();
    world.settle();
    world.go_offline(1);
    write_many(&mut world, 3);
    world.settle();
    world.tamper_next(Direction::ToClient, 1, "pull-batch", |message| {
        if let driftsync_core::testing::wire::Message::PullBatch(batch) = message {
            // Damage the ops in transit but leave the manifest the server computed.
            let mut ops = batch.ops.decode(&Default::default()).expect("the server's ops decode");
            ops[0].key.record.push_str("-damaged");
            batch.ops = driftsync_core::testing::wire::OpsBytes::encode(&ops);
        }
    });
    world.go_online(1);
    world.settle();
    world.assert_converged();
    let metrics = world.client_ref(1).metrics();
    assert_eq!(metrics.manifest_mismatches, 1);
    assert!(!world.client_ref(1).view().keys().any(|k| k.record.ends_with("-damaged")));
    let told = world.client_events[1]
        .iter()
        .any(|e| matches!(e, driftsync_core::ClientEvent::ManifestMismatch { .. }));
    assert!(told, "the host hears about it");
}
