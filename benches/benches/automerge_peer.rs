//! driftsync-core beside Automerge on the same map workload: `REPLICAS` replicas each make
//! `OPS_PER_REPLICA` changes to `RECORDS` shared records while apart (last-writer-wins field
//! writes, deletes and counter increments), then everything is merged everywhere. Criterion
//! prints ops per second of each (the ops are made and merged inside the measurement); one
//! JSON line gives each engine's bytes of state per record.
//!
//! The engines merge by different rules (Automerge keeps a deleted map's concurrent edits out,
//! driftsync's delete wins by stamp; see the README), so the final states are not compared,
//! only the work. driftsync's replicas meet at its server, as in a deployment; Automerge's
//! merge document into document, as its apps do.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::Write;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftsync_core::{
    Client, ClientConfig, CollectionSchema, FieldSchema, FieldType, MemoryStore, MergePolicy,
    MonoTime, Now, RecordKey, ReplicaId, Schema, Server, ServerConfig, Value, WallTime,
};

const REPLICAS: usize = 4;
const RECORDS: usize = 200;
const OPS_PER_REPLICA: usize = 2_000;

/// One change a replica makes.
#[derive(Clone, Copy, Debug)]
enum Change {
    Write { record: usize, value: usize },
    Delete { record: usize },
    Increment { record: usize },
}

/// Replica `r`'s changes: per ten, seven field writes, two increments and one delete, spread
/// over the records so that replicas meet on every one of them.
fn changes(r: usize) -> Vec<Change> {
    (0..OPS_PER_REPLICA)
        .map(|i| {
            let record = (i * 7 + r * 13) % RECORDS;
            match i % 10 {
                0 => Change::Delete { record },
                1 | 2 => Change::Increment { record },
                _ => Change::Write { record, value: i },
            }
        })
        .collect()
}

fn schema() -> Schema {
    let title = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins);
    let likes = FieldSchema::new(FieldType::I64, MergePolicy::Counter);
    let notes = CollectionSchema::default().field("title", title).field("likes", likes);
    Schema::new(1).collection("notes", notes)
}

fn at_start() -> Now {
    Now::new(MonoTime(0), WallTime(1_700_000_000_000))
}

/// driftsync: each replica a core client on a memory store, making its changes offline, then
/// every client syncs through one server until all are quiet. Returns the server and clients.
fn driftsync_run(workloads: &[Vec<Change>]) -> (Server, Vec<Client>) {
    let now = at_start();
    let mut server = Server::new(ServerConfig::new(schema()), MemoryStore::new(), now)
        .expect("an empty memory store loads");
    let mut clients: Vec<Client> = (0..REPLICAS)
        .map(|r| {
            let mut config = ClientConfig::new(ReplicaId(r as u64 + 1), schema());
            config.outbox_ops_max = OPS_PER_REPLICA;
            Client::new(config, MemoryStore::new(), r as u64, now).expect("a fresh client")
        })
        .collect();
    for (client, changes) in clients.iter_mut().zip(workloads) {
        for change in changes {
            driftsync_change(client, now, *change);
        }
    }
    for client in &mut clients {
        client.sync_now(now);
    }
    driftsync_benches::settle(&mut server, &mut clients, now).expect("the replicas fall quiet");
    (server, clients)
}

fn driftsync_change(client: &mut Client, now: Now, change: Change) {
    let key = |record: usize| RecordKey::new("notes", format!("r{record}"));
    let title =
        |value: usize| BTreeMap::from([("title".to_owned(), Value::Str(value.to_string()))]);
    let result = match change {
        Change::Write { record, value } if client.get(&key(record)).is_some() => {
            client.update(now, key(record), title(value))
        }
        // Writing a field of a record this replica does not have creates it.
        Change::Write { record, value } => client.put(now, key(record), title(value)),
        Change::Delete { record } if client.get(&key(record)).is_some() => {
            client.delete(now, key(record))
        }
        Change::Increment { record } if client.get(&key(record)).is_some() => {
            client.increment(now, key(record), "likes", 1)
        }
        // Nothing to delete or count on: the change becomes the record's creation.
        Change::Delete { record } | Change::Increment { record } => {
            client.put(now, key(record), title(record))
        }
    };
    result.expect("a valid change");
}

/// Automerge: each replica a document making its changes, then each document merges every
/// other. Returns the documents.
fn automerge_run(workloads: &[Vec<Change>]) -> Vec<AutoCommit> {
    let mut docs: Vec<AutoCommit> = (0..REPLICAS)
        .map(|r| AutoCommit::new().with_actor(ActorId::from(vec![r as u8 + 1])))
        .collect();
    for (doc, changes) in docs.iter_mut().zip(workloads) {
        for change in changes {
            automerge_change(doc, *change).expect("a valid change");
        }
    }
    for i in 0..REPLICAS {
        for j in 0..REPLICAS {
            if i != j {
                let mut other = docs[j].clone();
                docs[i].merge(&mut other).expect("documents merge");
            }
        }
    }
    docs
}

fn automerge_change(doc: &mut AutoCommit, change: Change) -> Result<(), automerge::AutomergeError> {
    let key = |record: usize| format!("r{record}");
    let record = match change {
        Change::Write { record, .. } | Change::Delete { record } | Change::Increment { record } => {
            record
        }
    };
    let existing = doc.get(ROOT, key(record))?.map(|(_, id)| id);
    let Some(note) = existing else {
        // As in driftsync: a change to a record this replica does not have creates it.
        let note = doc.put_object(ROOT, key(record), ObjType::Map)?;
        doc.put(&note, "title", record.to_string())?;
        return doc.put(&note, "likes", ScalarValue::counter(0));
    };
    match change {
        Change::Write { value, .. } => doc.put(&note, "title", value.to_string()),
        Change::Delete { .. } => doc.delete(ROOT, key(record)),
        Change::Increment { .. } => doc.increment(&note, "likes", 1),
    }
}

fn peer(c: &mut Criterion) {
    let workloads: Vec<Vec<Change>> = (0..REPLICAS).map(changes).collect();
    let (server, clients) = driftsync_run(&workloads);
    let views: Vec<_> = clients.iter().map(Client::view).collect();
    assert!(views.iter().all(|view| *view == server.view()), "driftsync converged");
    let mut docs = automerge_run(&workloads);
    let heads: Vec<_> = docs.iter_mut().map(|doc| doc.get_heads()).collect();
    assert!(heads.windows(2).all(|pair| pair[0] == pair[1]), "automerge converged");
    let per_record = |bytes: usize| bytes as f64 / RECORDS as f64;
    let server_bytes = postcard::to_stdvec(server.store().committed()).expect("encodes").len();
    let client_bytes = postcard::to_stdvec(clients[0].store().committed()).expect("encodes").len();
    let line = serde_json::json!({
        "measure": "bytes of state per record",
        "records": RECORDS,
        "ops": REPLICAS * OPS_PER_REPLICA,
        "driftsync_server_store": per_record(server_bytes),
        "driftsync_client_store": per_record(client_bytes),
        "automerge_saved_document": per_record(docs[0].save().len()),
    });
    writeln!(std::io::stdout().lock(), "{line}").expect("stdout is writable");

    let mut group = c.benchmark_group("peer_map_workload");
    group.sample_size(10);
    group.throughput(Throughput::Elements((REPLICAS * OPS_PER_REPLICA) as u64));
    group.bench_function("driftsync", |b| b.iter(|| black_box(driftsync_run(&workloads))));
    group.bench_function("automerge", |b| b.iter(|| black_box(automerge_run(&workloads))));
    group.finish();
}

criterion_group!(benches, peer);
criterion_main!(benches);
