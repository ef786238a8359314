//! How fast remote last-writer-wins ops are applied, in field ops per second: on the server (a
//! push), on a client (a pull batch), and by the bare merge.
//!
//! Every op is a put of `FIELDS_PER_OP` string fields on a record of its own, so the figures
//! are the cost of the path (decode, checks, merge, commit), not of conflict resolution.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use driftsync_core::testing::wire::{
    Hello, Limits, Message, OpsBytes, PROTOCOL_VERSION, PullBatch, Push, decode, encode,
};
use driftsync_core::{
    BatchId, Client, ClientConfig, ClientEvent, CollectionSchema, FieldSchema, FieldType,
    FieldWrite, Hlc, LogPos, MemoryStore, MergePolicy, MonoTime, Now, Op, OpBody, OpId, PeerId,
    RecordKey, Records, ReplicaId, Schema, Seq, Server, ServerConfig, Stamp, Value, WallTime,
};

const COLLECTION: &str = "notes";
const SCHEMA_VERSION: u32 = 1;
const FIELDS_PER_OP: usize = 4;
/// The client's default `push_batch_ops_max`.
const PUSH_OPS_PER_BATCH: usize = 128;
const PUSH_BATCHES: usize = 8;
/// The simulator's pull batch size (a deployment's default is 1,024 ops).
const PULL_OPS_PER_BATCH: usize = 256;
/// Ops stamped at this wall time look current to a node reading the same clock, so no
/// clock-ahead reports are raised during the measurement.
const WALL_MS: u64 = 1_700_000_000_000;
/// Round trips allowed for a fresh client to reach its first pull request.
const HANDSHAKE_ROUNDS_MAX: usize = 16;
const PEER: PeerId = PeerId(1);
const PUSHER: ReplicaId = ReplicaId(1);
const PULLER: ReplicaId = ReplicaId(1);
/// The writer of the ops a client pulls: someone other than the client itself.
const REMOTE_WRITER: ReplicaId = ReplicaId(2);

fn apply_lww(c: &mut Criterion) {
    let schema = schema();
    let mut group = c.benchmark_group("apply_lww");

    let push_ops = lww_puts(PUSHER, PUSH_OPS_PER_BATCH * PUSH_BATCHES);
    let pushes: Vec<_> = push_ops
        .chunks(PUSH_OPS_PER_BATCH)
        .zip(100..)
        .map(|(ops, batch)| {
            let ops = OpsBytes::encode(ops);
            let manifest = ops.manifest();
            encode(&Message::Push(Push {
                batch: BatchId(batch),
                schema_version: SCHEMA_VERSION,
                manifest,
                ops,
            }))
        })
        .collect();
    let server = feed_server(server_after_hello(&schema), &pushes);
    assert_eq!(server.head().0, push_ops.len() as u64, "the server applied every pushed op");
    group.throughput(Throughput::Elements(field_ops(&push_ops)));
    group.bench_function("server_push", |b| {
        b.iter_batched(
            || (server_after_hello(&schema), pushes.clone()),
            |(server, pushes)| feed_server(server, &pushes),
            BatchSize::SmallInput,
        )
    });

    let pull_ops = lww_puts(REMOTE_WRITER, PULL_OPS_PER_BATCH);
    let client = feed_client(client_awaiting_pull(&schema, &pull_ops));
    assert_eq!(client.cursor().0, pull_ops.len() as u64, "the client applied the whole batch");
    assert_eq!(client.records().len(), pull_ops.len(), "each pulled op made its own record");
    group.throughput(Throughput::Elements(field_ops(&pull_ops)));
    group.bench_function("client_pull", |b| {
        b.iter_batched(
            || client_awaiting_pull(&schema, &pull_ops),
            feed_client,
            BatchSize::SmallInput,
        )
    });

    // The merge alone, with no decoding, validation or commit: the ceiling for both paths above.
    group.throughput(Throughput::Elements(field_ops(&push_ops)));
    group.bench_function("records_apply", |b| {
        b.iter_batched(
            Records::default,
            |mut records| {
                for op in &push_ops {
                    black_box(records.apply(op, &schema));
                }
                records
            },
            BatchSize::SmallInput,
        )
    });

    group.finish();
}

criterion_group!(benches, apply_lww);
criterion_main!(benches);

/// Both clock readings `ms` into the bench; the wall clock stands still, as it did when these
/// figures were first taken.
fn at(ms: u64) -> Now {
    Now::new(MonoTime(ms), WallTime(WALL_MS))
}

// ---- the server side ----

/// A fresh server with one client past its handshake, ready for pushes.
fn server_after_hello(schema: &Schema) -> Server {
    let now = at(0);
    let mut server = Server::new(ServerConfig::new(schema.clone()), MemoryStore::new(), now)
        .expect("an empty memory store always loads");
    server.connected(now, PEER);
    let hello = Message::Hello(Hello {
        batch: BatchId(1),
        protocol: PROTOCOL_VERSION,
        client: PUSHER,
        schema_versions: vec![schema.version],
        token: String::new(),
        cursor: LogPos(0),
        acked_seq: Seq(0),
        outbox_oldest: None,
        compression: Vec::new(),
    });
    server.handle_message(now, PEER, &encode(&hello));
    let welcome = server.poll_transmit().expect("the server answers a hello");
    assert!(
        matches!(decode(&welcome.payload, &Limits::default()), Ok(Message::Welcome(_))),
        "the server welcomes a client speaking its schema and protocol"
    );
    while server.poll_event().is_some() {}
    server
}

/// Hands the server every push, draining its outputs after each as the driving contract asks.
fn feed_server<B: AsRef<[u8]>>(mut server: Server, pushes: &[B]) -> Server {
    let now = at(1);
    for push in pushes {
        server.handle_message(now, PEER, push.as_ref());
        while let Some(transmit) = server.poll_transmit() {
            black_box(transmit);
        }
        while let Some(event) = server.poll_event() {
            black_box(event);
        }
    }
    server
}

// ---- the client side ----

/// A fresh client, driven against a real server until it sends its first pull request, plus a
/// pull batch carrying `ops` that answers exactly that request.
fn client_awaiting_pull(schema: &Schema, ops: &[Op]) -> (Client, Vec<u8>) {
    let mut server = Server::new(ServerConfig::new(schema.clone()), MemoryStore::new(), at(0))
        .expect("an empty memory store always loads");
    let config = ClientConfig::new(PULLER, schema.clone());
    let mut client = Client::new(config, MemoryStore::new(), 7, at(0))
        .expect("an empty memory store always loads");
    let now = at(0);
    client.handle_timeout(now);
    for _ in 0..HANDSHAKE_ROUNDS_MAX {
        while let Some(event) = client.poll_event() {
            if event == ClientEvent::WantsConnection {
                client.connected(now);
                server.connected(now, PEER);
            }
        }
        while let Some(bytes) = client.poll_transmit() {
            let request = decode(&bytes, &Limits::default()).expect("clients send valid messages");
            if let Message::PullRequest(request) = request {
                let batch = pull_batch(request.batch, request.cursor, ops);
                return (client, encode(&batch).to_vec());
            }
            server.handle_message(now, PEER, &bytes);
        }
        while let Some(transmit) = server.poll_transmit() {
            client.handle_message(now, &transmit.payload);
        }
    }
    panic!("a fresh client sends a pull request within {HANDSHAKE_ROUNDS_MAX} round trips");
}

fn pull_batch(batch: BatchId, cursor: LogPos, ops: &[Op]) -> Message {
    let to = LogPos(cursor.0 + ops.len() as u64);
    Message::PullBatch(PullBatch {
        batch,
        from: cursor,
        to,
        head: to,
        ops: OpsBytes::encode(ops),
        manifest: OpsBytes::encode(ops).manifest(),
        withheld: 0,
        chain: driftsync_core::ChainSpan::default(),
        hidden: Vec::new(),
    })
}

/// Hands the client its pull batch and drains its outputs.
fn feed_client((mut client, batch): (Client, Vec<u8>)) -> Client {
    client.handle_message(at(1), &batch);
    while let Some(bytes) = client.poll_transmit() {
        black_box(bytes);
    }
    while let Some(event) = client.poll_event() {
        black_box(event);
    }
    client
}

// ---- the ops ----

fn schema() -> Schema {
    let collection = (0..FIELDS_PER_OP).fold(CollectionSchema::default(), |collection, field| {
        collection
            .field(field_name(field), FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins))
    });
    Schema::new(SCHEMA_VERSION).collection(COLLECTION, collection)
}

fn field_name(field: usize) -> String {
    format!("f{field}")
}

/// `count` puts by `writer`, seqs contiguous from 1, each on a record of its own and setting
/// every field.
fn lww_puts(writer: ReplicaId, count: usize) -> Vec<Op> {
    (1..=count)
        .map(|seq| {
            let logical = u32::try_from(seq).expect("benchmark batches are far below 2^32 ops");
            let fields = (0..FIELDS_PER_OP)
                .map(|field| {
                    let value = Value::Str(format!("value {seq} of field {field}"));
                    (field_name(field), FieldWrite::new(value))
                })
                .collect();
            Op {
                id: OpId { replica: writer, seq: Seq(seq as u64) },
                stamp: Stamp::new(Hlc { wall_ms: WALL_MS, logical }, writer),
                key: RecordKey::new(COLLECTION, format!("record-{seq:06}")),
                body: OpBody::Put { fields },
                reason: None,
            }
        })
        .collect()
}

fn field_ops(ops: &[Op]) -> u64 {
    ops.iter().map(Op::field_op_count).sum::<usize>() as u64
}
