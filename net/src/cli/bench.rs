//! `driftsync-client bench`: a load generator for a deployment, as pgbench is for a database.
//! Many clients in one process, each with its own store, write (or read locally) for a while;
//! one more client watches. It prints writes acknowledged per second (up), writes seen by the
//! watcher per second (down), percentiles of write → acknowledged and write → visible, and the
//! bytes that crossed the wire each way, with what they would have been uncompressed.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use driftsync_core::{
    ClientConfig, Compression, FieldType, Metrics, RecordKey, ReplicaId, Schema, SchemaLineage,
    Value,
};
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use tokio::time::Instant;

use super::{Failure, say};
use crate::{Change, ClientDriver, DriverConfig, Write};

/// What one bench run does.
pub(crate) struct Load<'a> {
    pub(crate) url: &'a str,
    pub(crate) folder: &'a Path,
    pub(crate) lineage: Arc<SchemaLineage>,
    pub(crate) compression: Vec<Compression>,
    pub(crate) replica_base: u64,
    pub(crate) clients: u64,
    pub(crate) duration: Duration,
    pub(crate) write_ratio: f64,
    pub(crate) tls: Option<crate::ClientTls>,
    pub(crate) durability: driftsync_sqlite::Durability,
}

/// How long each client may take to catch up before the clock starts.
const CATCH_UP: Duration = Duration::from_secs(300);

/// Writes not yet seen by the watcher, per writer in the order they were made, with when.
/// One writer's writes reach the log in its order, so the watcher checks each queue from the
/// front and stops at the first it does not see: a pull costs what it brought, not what waits.
type Pending = Arc<Mutex<BTreeMap<u64, VecDeque<(RecordKey, Instant)>>>>;

/// Microseconds from 1 to an hour: a fixed range, because a resizing histogram would clamp
/// `saturating_record` to the little it had grown to.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .unwrap_or_else(|_| unreachable!("these bounds and 3 significant digits are valid"))
}

pub(crate) async fn run(load: Load<'_>) -> Result<(), Failure> {
    std::fs::create_dir_all(load.folder)
        .map_err(|e| Failure::data(format!("{}: {e}", load.folder.display())))?;
    let schema = load.lineage.latest_schema().clone();
    let (collection, fields) = record_shape(&schema)?;
    let (watcher, drivers) = start_caught_up(&load).await?;
    // What the catch-up cost is not part of the run's traffic.
    let mut before = Traffic::default();
    for driver in drivers.iter().chain([&watcher]) {
        before.add(&driver.metrics().await.unwrap_or_default());
    }
    let watcher = Arc::new(watcher);
    let pending: Pending = Arc::default();
    let visible = Arc::new(Mutex::new(histogram()));
    let watching = tokio::spawn(watch(watcher.clone(), pending.clone(), visible.clone()));
    let began = Instant::now();
    let mut writers = Vec::new();
    for driver in drivers {
        let (collection, fields, pending) = (collection.clone(), fields.clone(), pending.clone());
        let (duration, ratio) = (load.duration, load.write_ratio);
        writers.push(tokio::spawn(write_for(driver, collection, fields, pending, duration, ratio)));
    }
    let mut acked = histogram();
    let (mut written, mut reads) = (0u64, 0u64);
    let mut traffic = Traffic::default();
    for writer in writers {
        let outcome = writer.await.map_err(|e| Failure::unavailable(e.to_string()))?;
        acked.add(&outcome.acked).map_err(|e| Failure::unavailable(e.to_string()))?;
        written += outcome.written;
        reads += outcome.reads;
        traffic.add(&outcome.metrics);
    }
    // Give the watcher a moment to see the last writes.
    tokio::time::sleep(Duration::from_secs(2)).await;
    watching.abort();
    traffic.add(&watcher.metrics().await.unwrap_or_default());
    let traffic = traffic.since(&before);
    let elapsed = began.elapsed().as_secs_f64();
    let visible = visible.lock().clone();
    let summary = serde_json::json!({
        "clients": load.clients,
        "seconds": elapsed,
        "writes": written,
        "local_reads": reads,
        "up_ops_per_s": acked.len() as f64 / elapsed,
        "down_ops_per_s": visible.len() as f64 / elapsed,
        "unacknowledged": written - acked.len(),
        "write_to_ack_ms": percentiles(&acked),
        "write_to_visible_ms": percentiles(&visible),
        "compression": load.compression.first().map_or("none", |codec| codec.name()),
        "bytes_up": traffic.up,
        "bytes_down": traffic.down,
        "bytes_down_uncompressed": traffic.down_plain,
    });
    say(&summary.to_string());
    Ok(())
}

/// The watcher and the writers, started, each caught up with what the server already holds,
/// so that the clock measures the steady state, not a first download of the whole log.
async fn start_caught_up(load: &Load<'_>) -> Result<(ClientDriver, Vec<ClientDriver>), Failure> {
    let start = |replica: u64| {
        let version = load.lineage.latest();
        let mut client =
            ClientConfig::with_lineage(ReplicaId(replica), load.lineage.clone(), version)
                .map_err(|e| Failure::data(e.to_string()))?;
        client.compression = load.compression.clone();
        let db = load.folder.join(format!("bench-{replica}.db"));
        let mut config = DriverConfig::new(load.url, client, db);
        config.seed = replica;
        config.tls = load.tls.clone();
        config.durability = load.durability;
        ClientDriver::start(config).map_err(|e| Failure::data(e.to_string()))
    };
    let watcher = start(load.replica_base)?;
    let drivers: Vec<ClientDriver> =
        (1..=load.clients).map(|i| start(load.replica_base + i)).collect::<Result<_, _>>()?;
    for driver in drivers.iter().chain([&watcher]) {
        if !super::client::synced(driver, CATCH_UP).await {
            return Err(Failure::unavailable("a bench client did not catch up with the server"));
        }
    }
    Ok((watcher, drivers))
}

/// The collection a bench writes to, and a field set that satisfies it: every required field
/// with a value of its type.
fn record_shape(schema: &Schema) -> Result<(String, BTreeMap<String, Value>), Failure> {
    let (name, declared) = schema
        .collections
        .iter()
        .next()
        .ok_or_else(|| Failure::data("the schema has no collection to write to"))?;
    let fields = declared
        .fields
        .iter()
        .filter(|(_, field)| field.required && !field.deprecated)
        .map(|(field, declared)| {
            let value = match declared.ty {
                FieldType::Bool => Value::Bool(true),
                FieldType::I64 => Value::I64(1),
                FieldType::F64 => Value::F64(1.0),
                FieldType::Str => Value::Str("bench".to_owned()),
                FieldType::Bytes => Value::Bytes(vec![1]),
            };
            (field.clone(), value)
        })
        .collect();
    Ok((name.clone(), fields))
}

struct WriterOutcome {
    acked: Histogram<u64>,
    written: u64,
    reads: u64,
    metrics: Metrics,
}

/// Bytes the bench's clients sent and received, summed.
#[derive(Clone, Copy, Debug, Default)]
struct Traffic {
    up: u64,
    down: u64,
    down_plain: u64,
}

impl Traffic {
    fn add(&mut self, metrics: &Metrics) {
        self.up += metrics.bytes_sent;
        self.down += metrics.bytes_received;
        self.down_plain += metrics.bytes_received_plain;
    }

    fn since(self, before: &Traffic) -> Traffic {
        Traffic {
            up: self.up.saturating_sub(before.up),
            down: self.down.saturating_sub(before.down),
            down_plain: self.down_plain.saturating_sub(before.down_plain),
        }
    }
}

async fn write_for(
    driver: ClientDriver,
    collection: String,
    fields: BTreeMap<String, Value>,
    pending: Pending,
    duration: Duration,
    write_ratio: f64,
) -> WriterOutcome {
    let metrics = Metrics::default();
    let mut outcome = WriterOutcome { acked: histogram(), written: 0, reads: 0, metrics };
    let mut in_flight: BTreeMap<u64, Instant> = BTreeMap::new();
    let mut changes = driver.changes();
    let replica = driver.replica();
    let until = Instant::now() + duration;
    // An even spread of writes and reads at the given ratio, without randomness.
    let mut credit = 0.0;
    while Instant::now() < until {
        credit += write_ratio;
        if credit >= 1.0 {
            credit -= 1.0;
            let key = RecordKey::new(collection.clone(), format!("b{replica}-{}", outcome.written));
            let made = Instant::now();
            let write = Write::Put { key: key.clone(), fields: fields.clone() };
            let Ok(op) = driver.write(write).await else { break };
            pending.lock().entry(replica.0).or_default().push_back((key, made));
            in_flight.insert(op.seq.0, made);
            outcome.written += 1;
        } else {
            let key = RecordKey::new(collection.clone(), format!("b{replica}-0"));
            let _ = driver.get(key).await;
            outcome.reads += 1;
        }
        while let Ok(change) = changes.try_recv() {
            if let Change::Acked { through } = change {
                note_acked(&mut in_flight, through.0, &mut outcome.acked);
            }
        }
        tokio::task::yield_now().await;
    }
    // The last acknowledgements, briefly.
    let settle = Instant::now() + Duration::from_secs(2);
    while !in_flight.is_empty() && Instant::now() < settle {
        if let Ok(Ok(Change::Acked { through })) =
            tokio::time::timeout(Duration::from_millis(100), changes.recv()).await
        {
            note_acked(&mut in_flight, through.0, &mut outcome.acked);
        }
    }
    outcome.metrics = driver.metrics().await.unwrap_or_default();
    driver.stop().await;
    outcome
}

fn note_acked(in_flight: &mut BTreeMap<u64, Instant>, through: u64, acked: &mut Histogram<u64>) {
    let rest = in_flight.split_off(&(through + 1));
    for made in std::mem::replace(in_flight, rest).into_values() {
        acked.saturating_record(made.elapsed().as_micros() as u64);
    }
}

/// The watcher: after each pull, which pending writes it now sees, and how long they took.
async fn watch(watcher: Arc<ClientDriver>, pending: Pending, visible: Arc<Mutex<Histogram<u64>>>) {
    let mut changes = watcher.changes();
    while let Ok(change) = changes.recv().await {
        if !matches!(change, Change::Remote { .. }) {
            continue;
        }
        let writers: Vec<u64> = pending.lock().keys().copied().collect();
        for writer in writers {
            loop {
                let front = pending.lock().get(&writer).and_then(|queue| queue.front().cloned());
                let Some((key, made)) = front else { break };
                if !matches!(watcher.get(key).await, Ok(Some(_))) {
                    break;
                }
                pending.lock().get_mut(&writer).and_then(VecDeque::pop_front);
                visible.lock().saturating_record(made.elapsed().as_micros() as u64);
            }
        }
    }
}

fn percentiles(histogram: &Histogram<u64>) -> serde_json::Value {
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1_000.0;
    let max = histogram.max() as f64 / 1_000.0;
    serde_json::json!({ "p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "max": max })
}
