//! What a server keeps in memory per record: a server reopened over a SQLite database of
//! `DRIFTSYNC_BENCH_RECORDS` notes (100,000 unless set), in live heap bytes (dhat's allocator
//! counts them), reported per record and per million records, as one JSON line.
//!
//! The server holds its records and its uncompacted log in memory; SQLite's own page cache
//! (bounded, a few MB) is allocated by SQLite itself and not counted. Run with
//! `cargo bench -p driftsync-benches --bench server_memory`.

use std::io::Write;

use driftsync_benches::{populate_server, records, schema};
use driftsync_core::{MonoTime, Now, Server, ServerConfig, WallTime};
use driftsync_sqlite::{Durability, SqliteStore};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn live_bytes() -> u64 {
    dhat::HeapStats::get().curr_bytes as u64
}

/// The live bytes of what `make` returns: a copy of part of the server, measured apart.
fn bytes_of<T>(make: impl FnOnce() -> T) -> u64 {
    let before = live_bytes();
    let made = make();
    let bytes = live_bytes().saturating_sub(before);
    drop(made);
    bytes
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let notes = records();
    let folder = tempfile::tempdir().expect("a temporary folder");
    let db = folder.path().join("server.db");
    populate_server(&db, notes).expect("the server's notes are written");
    let before = live_bytes();
    let store = SqliteStore::open(&db, Durability::Full).expect("the store opens");
    let now = Now::new(MonoTime(0), WallTime(1_700_000_000_000));
    let server = Server::new(ServerConfig::new(schema()), store, now).expect("the server starts");
    let held = live_bytes().saturating_sub(before);
    assert_eq!(server.records().len(), notes, "every note is loaded");
    let (log, records) = (server.log().count(), server.records().len());
    let records_bytes = bytes_of(|| server.records().clone());
    let log_bytes = bytes_of(|| server.log().cloned().collect::<Vec<_>>());
    let per_record = held as f64 / notes as f64;
    let line = serde_json::json!({
        "measure": "server memory",
        "records": records,
        "log_entries": log,
        "heap_bytes": held,
        "of_which_records": records_bytes,
        "of_which_log": log_bytes,
        "bytes_per_record": per_record,
        "mib_per_million_records": per_record * 1e6 / (1 << 20) as f64,
    });
    writeln!(std::io::stdout().lock(), "{line}").expect("stdout is writable");
}
