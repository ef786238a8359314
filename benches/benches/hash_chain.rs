//! What the server log's hash chain costs: linking one entry (encoding its op and hashing it
//! with the link before), verifying a stored chain of 100,000 realistic entries (a put of three
//! fields each), and the bytes a link adds. The README states the time per million entries.
//!
//! Run with `cargo bench -p driftsync-benches --bench hash_chain`.

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftsync_core::{
    ChainSpan, FieldWrite, FieldWrites, Hlc, Link, LogEntry, LogPos, Op, OpBody, OpId, RecordKey,
    ReplicaId, Seq, Stamp, Value, verify_chain,
};

const ENTRIES: u64 = 100_000;

/// A put of a title, a body and a counter-free number: a typical note edit.
fn op(n: u64) -> Op {
    let replica = ReplicaId(1 + n % 16);
    let fields: FieldWrites = [
        ("title", Value::Str(format!("note {n}"))),
        ("body", Value::Str("a line or two of text, as a note has".to_owned())),
        ("high", Value::I64(n as i64)),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), FieldWrite::new(value)))
    .collect();
    Op {
        id: OpId { replica, seq: Seq(n) },
        stamp: Stamp::new(Hlc { wall_ms: 1_700_000_000_000 + n, logical: 0 }, replica),
        key: RecordKey::new("notes", format!("n{}", n % 5_000)),
        body: OpBody::Put { fields },
        reason: None,
    }
}

fn chained() -> Vec<(LogPos, LogEntry)> {
    let mut link = Link::GENESIS;
    (1..=ENTRIES)
        .map(|n| {
            let op = op(n);
            link = link.next(LogPos(n), &op);
            (LogPos(n), LogEntry { op, link })
        })
        .collect()
}

fn link_one(c: &mut Criterion) {
    let op = op(7);
    let mut group = c.benchmark_group("hash_chain");
    group.throughput(Throughput::Elements(1));
    group.bench_function("link_one_entry", |b| {
        b.iter(|| black_box(Link::GENESIS).next(LogPos(7), black_box(&op)))
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let entries = chained();
    let mut group = c.benchmark_group("hash_chain");
    group.throughput(Throughput::Elements(ENTRIES));
    group.sample_size(10);
    group.bench_function("verify_100k_entries", |b| {
        b.iter(|| {
            let held = entries.iter().map(|(pos, entry)| (*pos, entry));
            verify_chain(LogPos(0), Link::GENESIS, held).expect("the chain holds")
        })
    });
    group.finish();
    // What the chain adds on the wire, measured by encoding it: a pull batch's span (plus
    // one byte for its `withheld` count, 0 in an open session), empty and not.
    let size = |value: &ChainSpan| postcard::to_stdvec(value).map_or(0, |bytes| bytes.len());
    let (a, b) = (entries[0].1.link, entries[1].1.link);
    let op_bytes = postcard::to_stdvec(&entries[0].1.op).map_or(0, |bytes| bytes.len());
    writeln!(
        std::io::stdout().lock(),
        "{{\"op_bytes\":{op_bytes},\"stored_link_bytes\":32,\"empty_pull_bytes_added\":{},\
         \"pull_with_ops_bytes_added\":{}}}",
        size(&ChainSpan::new(0, a, a)) + 1,
        size(&ChainSpan::new(0, a, b)) + 1
    )
    .expect("stdout is writable");
}

criterion_group!(benches, link_one, verify);
criterion_main!(benches);
