//! What a server remembers of deletes, in bytes: a retained tombstone (kept among the records
//! for the retention window, in memory and in the store's image), and what is left once it is
//! forgotten (one stamp per bucket of keys, however many deletes).
//!
//! dhat's allocator counts live heap bytes; the figures print as one JSON line per
//! measure. Run with `cargo bench -p driftsync-benches --bench tombstone_memory`.

use std::collections::BTreeMap;
use std::io::Write;

use driftsync_core::{
    Client, ClientConfig, CollectionSchema, FieldSchema, FieldType, MemoryStore, MergePolicy,
    MonoTime, Now, RecordKey, ReplicaId, Schema, Server, ServerConfig, Value, WallTime,
};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const DELETES: usize = 20_000;
const WALL_MS: u64 = 1_700_000_000_000;
const RETENTION_MS: u64 = 60_000;

/// Both clock readings `ms` into the run: the bench's clocks agree and never jump.
fn at(ms: u64) -> Now {
    Now::new(MonoTime(ms), WallTime(WALL_MS + ms))
}

fn live_bytes() -> isize {
    dhat::HeapStats::get().curr_bytes as isize
}

fn schema() -> Schema {
    let title = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins).required();
    Schema::new(1).collection("notes", CollectionSchema::default().field("title", title))
}

/// Delivers every message both ways until both sides fall quiet.
fn settle(server: &mut Server, client: &mut Client, now: Now) {
    driftsync_benches::settle(server, std::slice::from_mut(client), now)
        .expect("the bench's nodes fall quiet");
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut config = ServerConfig::new(schema());
    config.client_eviction_ms = RETENTION_MS;
    config.tombstone_retention_ms = RETENTION_MS;
    let mut server = Server::new(config, MemoryStore::new(), at(0)).expect("fresh store");
    let mut client_config = ClientConfig::new(ReplicaId(1), schema());
    client_config.outbox_ops_max = DELETES + 1;
    let mut client = Client::new(client_config, MemoryStore::new(), 1, at(0)).expect("fresh");
    let keys: Vec<RecordKey> =
        (0..DELETES).map(|i| RecordKey::new("notes", format!("note-{i:06}"))).collect();
    let title = |s: &str| BTreeMap::from([("title".to_owned(), Value::Str(s.to_owned()))]);
    client.sync_now(at(0));
    settle(&mut server, &mut client, at(0));
    for key in &keys {
        client.put(at(0), key.clone(), title("x")).expect("valid");
    }
    settle(&mut server, &mut client, at(0));
    for key in &keys {
        client.delete(at(0), key.clone()).expect("valid");
    }
    settle(&mut server, &mut client, at(0));
    // Two collection passes with the client caught up: the log is compacted, the tombstones
    // stay for their retention window.
    for now_ms in [1_000, 2_000] {
        client.sync_now(at(now_ms));
        settle(&mut server, &mut client, at(now_ms));
        server.handle_timeout(at(now_ms + 30_000));
    }
    assert_eq!(server.records().len(), DELETES, "every tombstone is retained");
    assert!(server.records().iter().all(|(_, state)| state.is_bare_tombstone()));
    assert_eq!(server.log().count(), 0, "the log is compacted behind the client");
    drop(client);
    let records = bytes_of(|| server.records().clone());
    let positions = bytes_of(|| {
        let positions: BTreeMap<RecordKey, driftsync_core::LogPos> =
            keys.iter().map(|key| (key.clone(), driftsync_core::LogPos(0))).collect();
        positions
    });
    // Past the retention window every tombstone is forgotten.
    let later = RETENTION_MS * 3;
    server.handle_timeout(at(later));
    assert_eq!(server.records().len(), 0, "every tombstone is forgotten");
    let bounded = keys.iter().filter(|key| server.forgotten_through(key).is_some()).count();
    assert_eq!(bounded, DELETES, "every forgotten delete still bounds its key");
    let buckets = bytes_of(|| server.store().committed().forgotten.clone());
    let buckets_count = server.store().committed().forgotten.len();
    print_figures(records, positions, buckets, buckets_count);
}

/// The figures are this program's output, one JSON line per measure.
fn print_figures(records: isize, positions: isize, buckets: isize, buckets_count: usize) {
    let per = |bytes: isize| bytes as f64 / DELETES as f64;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{{\"measure\":\"retained_tombstone\",\"tombstones\":{DELETES},\
         \"record_bytes\":{:.1},\"position_bytes\":{:.1},\"note\":\"heap bytes per \
         tombstone kept within its retention window: the record (keys of 5 + 11 bytes) and its \
         log position; a store keeps one row more\"}}",
        per(records),
        per(positions)
    )
    .expect("stdout is writable");
    writeln!(
        out,
        "{{\"measure\":\"forgotten_tombstones\",\"tombstones\":{DELETES},\
         \"buckets\":{buckets_count},\"bytes_total\":{buckets},\"note\":\"heap bytes of \
         all the server keeps of {DELETES} forgotten deletes (at most 4,096 buckets, whatever \
         the count)\"}}"
    )
    .expect("stdout is writable");
}

/// Live heap bytes of what `make` builds, while it is alive.
fn bytes_of<T>(make: impl FnOnce() -> T) -> isize {
    let before = live_bytes();
    let made = make();
    let bytes = live_bytes() - before;
    drop(made);
    bytes
}
