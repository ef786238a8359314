//! What encryption at rest and the audit trail cost a store: committing batches of 100 note
//! edits (an outbox op and its field rows each, as a client's write commits them; a log entry
//! and an audit entry each, as a server's push commits them) into a plain and an encrypted
//! SQLite store, and the bytes each adds per op. The note of the security issue states the
//! ratios.
//!
//! Run with `cargo bench -p driftsync-benches --bench at_rest`.

use std::io::Write;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use driftsync_core::audit::AuditEntry;
use driftsync_core::{
    FieldState, FieldWrite, FieldWrites, Hlc, Link, LogEntry, LogPos, Mutation, Op, OpBody, OpId,
    RecordKey, ReplicaId, Seq, Stamp, Store, Value, WallTime,
};
use driftsync_sqlite::{Durability, SqliteStore, StoreKey};

const BATCH: u64 = 100;

fn op(n: u64, reason: Option<&str>) -> Op {
    let replica = ReplicaId(1);
    let fields: FieldWrites = [
        ("title", Value::Str(format!("note {n}"))),
        ("body", Value::Str("a line or two of text, as a note has".to_owned())),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), FieldWrite::new(value)))
    .collect();
    Op {
        id: OpId { replica, seq: Seq(n) },
        stamp: Stamp::new(Hlc { wall_ms: 1_700_000_000_000 + n, logical: 0 }, replica),
        key: RecordKey::new("notes", format!("n{n}")),
        body: OpBody::Update { fields },
        reason: reason.map(str::to_owned),
    }
}

/// A client's commit of `BATCH` writes starting at `first`: each op in the outbox, its two
/// fields in their rows.
fn client_batch(first: u64) -> Vec<Mutation> {
    let mut batch = Vec::new();
    for n in first..first + BATCH {
        let op = op(n, None);
        let state = FieldState::Register(None);
        let fields =
            vec![("title".to_owned(), Some(state.clone())), ("body".to_owned(), Some(state))];
        batch.push(Mutation::Fields { key: op.key.clone(), created: None, deleted: None, fields });
        batch.push(Mutation::OutboxPut(op));
    }
    batch
}

/// A server's commit of `BATCH` applied ops: each in the log, and with `audited` in the trail.
fn server_batch(first: u64, audited: bool) -> Vec<Mutation> {
    let mut batch = Vec::new();
    for n in first..first + BATCH {
        let op = op(n, audited.then_some("edited in the app"));
        let pos = LogPos(n);
        if audited {
            let user = "alice".to_owned();
            batch.push(Mutation::Audit(AuditEntry { pos, at: WallTime(n), user, op: op.clone() }));
        }
        batch.push(Mutation::LogAppend { pos, entry: LogEntry { link: Link::GENESIS, op } });
    }
    batch
}

fn open(folder: &std::path::Path, encrypted: bool) -> SqliteStore {
    let path = folder.join(format!("store-{encrypted}-{}.db", rand_suffix()));
    let key = StoreKey::new([9; 32]);
    match encrypted {
        true => SqliteStore::open_encrypted(path, Durability::Normal, &key),
        false => SqliteStore::open(path, Durability::Normal),
    }
    .expect("a new store")
}

/// A distinct file name per store without randomness: a process-wide counter.
fn rand_suffix() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A benchmark's name, whether its store is encrypted, and the batch it commits from a seq.
type Case = (&'static str, bool, fn(u64) -> Vec<Mutation>);

fn commits(c: &mut Criterion) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let mut group = c.benchmark_group("at_rest");
    group.throughput(Throughput::Elements(BATCH));
    let cases: [Case; 4] = [
        ("client_commit_plain", false, client_batch),
        ("client_commit_encrypted", true, client_batch),
        ("server_commit_unaudited", false, |first| server_batch(first, false)),
        ("server_commit_audited", false, |first| server_batch(first, true)),
    ];
    for (name, encrypted, batch) in cases {
        let mut store = open(folder.path(), encrypted);
        let mut next = 1;
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    next += BATCH;
                    batch(next)
                },
                |mutations| store.commit(mutations).expect("committed"),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    let mut sizes = Vec::new();
    for (name, encrypted, batch) in cases {
        let mut store = open(folder.path(), encrypted);
        store.commit(batch(1)).expect("committed");
        let path = store.path().to_path_buf();
        drop(store); // Checkpoints the WAL into the file.
        let empty = open(folder.path(), encrypted);
        let empty_path = empty.path().to_path_buf();
        drop(empty);
        let bytes = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
        sizes.push(format!(
            "\"{name}_file_bytes_per_op\":{}",
            (bytes(&path) - bytes(&empty_path)) / BATCH
        ));
    }
    let value = postcard::to_stdvec(&op(1, None)).map_or(0, |bytes| bytes.len());
    let entry =
        AuditEntry { pos: LogPos(1), at: WallTime(1), user: "alice".into(), op: op(1, None) };
    let entry = postcard::to_stdvec(&entry).map_or(0, |bytes| bytes.len());
    writeln!(
        std::io::stdout().lock(),
        "{{\"op_bytes\":{value},\"audit_entry_bytes\":{entry},\"sealed_value_bytes_added\":28,{}}}",
        sizes.join(",")
    )
    .expect("stdout is writable");
}

criterion_group!(benches, commits);
criterion_main!(benches);
