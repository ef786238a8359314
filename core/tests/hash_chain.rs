//! The server log's hash chain: a store altered behind the server's back is refused at start,
//! naming the entry, and a history rewritten consistently (every link recomputed) is noticed
//! by the clients that pulled the old one.

mod common;

use common::{World, fields, key, text};
use driftsync_core::{
    ChainBreak, ClientEvent, Link, LogPos, MemoryStore, Mutation, Now, Server, ServerConfig,
    StartError, Store,
};

/// A world whose server has logged three writes of client 0, all pulled by client 1.
fn synced() -> World {
    let mut world = World::new(2);
    for record in ["a", "b", "c"] {
        let now = world.now;
        let title = fields(&[("title", text(record))]);
        world.client(0).put(now, key(record), title).expect("valid");
        world.settle();
    }
    assert_eq!(world.server.head(), LogPos(3));
    world
}

/// The server's store with entry `pos` replaced by `op`, links recomputed from there on only
/// when `rechain` is set.
fn rewritten(world: &World, pos: u64, rechain: bool) -> MemoryStore {
    let mut store = world.server.store().clone();
    let stored = store.committed().clone();
    let mut link = Link::GENESIS;
    let mut mutations = Vec::new();
    for (at, entry) in &stored.log {
        let mut entry = entry.clone();
        if at.0 == pos {
            entry.op.key = key("forged");
        }
        if rechain {
            link = link.next(*at, &entry.op);
            entry.link = link;
        }
        mutations.push(Mutation::LogAppend { pos: *at, entry });
    }
    store.commit(mutations).expect("the memory store commits");
    store
}

fn start(store: MemoryStore, world: &World) -> Result<Server<MemoryStore>, StartError> {
    let now = Now::new(world.now, driftsync_core::WallTime(common::WALL_EPOCH_MS));
    Server::new(ServerConfig::new(common::schema()), store, now)
}

#[test]
fn a_server_refuses_to_start_on_a_log_entry_altered_in_its_store() {
    let world = synced();
    let error = start(rewritten(&world, 2, false), &world).err();
    assert!(
        matches!(error, Some(StartError::Tampered(ChainBreak::Altered { pos: LogPos(2) }))),
        "{error:?}"
    );
}

#[test]
fn a_server_starts_on_its_own_untouched_log() {
    let world = synced();
    assert!(start(world.server.store().clone(), &world).is_ok());
}

#[test]
fn a_client_notices_a_rewritten_history_and_resyncs_keeping_its_queued_writes() {
    let mut world = synced();
    let store = rewritten(&world, 1, true);
    let server = start(store, &world).expect("a consistently rechained log verifies");
    world.server = server;
    let now = world.now;
    world.client(1).put(now, key("queued"), fields(&[("title", text("q"))])).expect("valid");
    for i in 0..2 {
        world.client(i).disconnected(now);
    }
    world.settle();
    let noticed = world.client_events[1]
        .iter()
        .any(|event| matches!(event, ClientEvent::HistoryRewritten { at: LogPos(3), .. }));
    assert!(noticed, "client 1 held the old link at its cursor");
    assert_eq!(world.client_ref(1).metrics().history_rewrites, 1);
    assert!(world.client_ref(1).metrics().resyncs >= 1, "it rebuilt from the server's state");
    assert!(world.server.view().contains_key(&key("queued")), "its queued write got through");
}
