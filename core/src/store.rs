//! Durable storage behind the state machines.
//!
//! The core keeps its working state in memory and describes every durable change as a list of
//! [`Mutation`]s handed to [`Store::commit`] in one atomic batch. Each mutation names a table
//! and a row, so a SQLite store maps a batch to one transaction of row upserts and deletes; the
//! in-memory store applies it to a map. A node restarts from [`Store::load`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::AuditEntry;
use crate::chain::LogEntry;
use crate::error::StorageError;
use crate::hlc::Stamp;
use crate::ids::{LogPos, RecordKey, ReplicaId, Seq};
use crate::merge::{FieldState, RecordState, Records};
use crate::op::{Op, OpBody};
use crate::persist::{ClientMeta, Registration, ServerMeta};
use crate::quarantine::QuarantinedOp;
use crate::time::WallTime;

/// Durable storage. `commit` is atomic (all of the batch or none of it) and durable when it
/// returns `Ok`; a crash loses exactly the batches whose commit had not returned.
pub trait Store {
    /// Everything committed so far.
    fn load(&self) -> Result<Stored, StorageError>;
    /// Applies a batch atomically and durably.
    fn commit(&mut self, batch: Vec<Mutation>) -> Result<(), StorageError>;
    /// One record's audit trail, oldest first (see [`crate::audit`]: not part of `load`).
    fn audit_of(&self, key: &RecordKey) -> Result<Vec<AuditEntry>, StorageError>;
}

/// One row-level change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Mutation {
    /// Upserts (`Some`) or removes (`None`) a whole record.
    Record { key: RecordKey, state: Option<RecordState> },
    /// Sets a record's head (its put and delete stamps) and upserts (`Some`) or removes
    /// (`None`) the named fields, leaving its other fields as they are. Most ops touch a few
    /// fields, so this is what they write: a row per field, not the whole record again.
    Fields {
        key: RecordKey,
        created: Option<Stamp>,
        deleted: Option<Stamp>,
        fields: Vec<(String, Option<FieldState>)>,
    },
    /// Adds a local op to the outbox.
    OutboxPut(Op),
    /// Forgets outbox ops through a seq (the server acknowledged them).
    OutboxRemoveThrough(Seq),
    /// Appends to the server's op log at `pos` (the position after the entry), with the entry's
    /// link in the log's hash chain.
    LogAppend { pos: LogPos, entry: LogEntry },
    /// Drops log entries at or before `pos` (compaction).
    LogCompactThrough(LogPos),
    /// Keeps an op that must not be applied, with its reason.
    Quarantine(QuarantinedOp),
    /// Replaces the client's bookkeeping.
    ClientMeta(ClientMeta),
    /// Replaces the server's bookkeeping.
    ServerMeta(ServerMeta),
    /// Upserts the server's record of one client.
    Registration { client: ReplicaId, registration: Registration },
    /// Notes (`Some`) or forgets (`None`) that the server re-created a record after it had
    /// forgotten deletes through the given stamp.
    RecreatedOver { key: RecordKey, forgotten_through: Option<Stamp> },
    /// Raises the newest forgotten delete of one bucket of record keys.
    Forgotten { bucket: u16, through: Stamp },
    /// Adds an applied op to the audit trail.
    Audit(AuditEntry),
    /// Forgets the audit entries applied before a time (the retention has passed).
    AuditPruneBefore(WallTime),
}

/// The records a batch of ops changed, and which of their fields, so that a commit writes
/// only those.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    records: BTreeMap<RecordKey, Touched>,
}

#[derive(Debug)]
enum Touched {
    /// A delete may prune any field: write the whole record.
    Whole,
    /// These fields (few, so a vector beats a set).
    Fields(Vec<String>),
}

impl Changes {
    /// Notes what `op` changed in its record. Only a delete marks it whole: any other op
    /// writes just its own fields, so a commit copies and writes those and not the rest of the
    /// record (a counter's every increment, a multi-value field's superseded ids), which would
    /// make the cost of a write grow with the record's history.
    pub(crate) fn note(&mut self, op: &Op) {
        let touched = match self.records.get_mut(&op.key) {
            Some(touched) => touched,
            None => self.records.entry(op.key.clone()).or_insert(Touched::Fields(Vec::new())),
        };
        let Touched::Fields(names) = touched else {
            return;
        };
        let (one, many) = match &op.body {
            OpBody::Delete => {
                *touched = Touched::Whole;
                return;
            }
            OpBody::Put { fields } | OpBody::Update { fields } => (None, Some(fields)),
            OpBody::Increment { field, .. } | OpBody::Resolve { field, .. } => (Some(field), None),
        };
        for name in one.into_iter().chain(many.into_iter().flat_map(|fields| fields.keys())) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }

    /// The mutations that persist the noted changes as `records` now holds them.
    pub(crate) fn into_mutations(self, records: &Records) -> impl Iterator<Item = Mutation> + '_ {
        self.records.into_iter().map(|(key, touched)| match (records.get(&key), touched) {
            (Some(state), Touched::Fields(names)) => {
                let fields = names
                    .into_iter()
                    .map(|name| {
                        let field = state.fields.get(&name).cloned();
                        (name, field)
                    })
                    .collect();
                Mutation::Fields { key, created: state.created, deleted: state.deleted, fields }
            }
            (state, _) => Mutation::Record { key, state: state.cloned() },
        })
    }
}

/// The committed image of a store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub records: BTreeMap<RecordKey, RecordState>,
    pub outbox: BTreeMap<Seq, Op>,
    pub log: BTreeMap<LogPos, LogEntry>,
    pub quarantine: Vec<QuarantinedOp>,
    pub client_meta: Option<ClientMeta>,
    pub server_meta: Option<ServerMeta>,
    pub registrations: BTreeMap<ReplicaId, Registration>,
    pub recreated_over: BTreeMap<RecordKey, Stamp>,
    pub forgotten: BTreeMap<u16, Stamp>,
}

impl Stored {
    /// Applies one batch. Shared by every store that keeps a `Stored` image.
    pub fn apply(&mut self, batch: Vec<Mutation>) {
        for mutation in batch {
            match mutation {
                Mutation::Record { key, state: Some(state) } => {
                    self.records.insert(key, state);
                }
                Mutation::Record { key, state: None } => {
                    self.records.remove(&key);
                }
                Mutation::Fields { key, created, deleted, fields } => {
                    let record = self.records.entry(key).or_default();
                    record.created = created;
                    record.deleted = deleted;
                    for (name, state) in fields {
                        match state {
                            Some(state) => record.fields.insert(name, state),
                            None => record.fields.remove(&name),
                        };
                    }
                }
                Mutation::OutboxPut(op) => {
                    self.outbox.insert(op.id.seq, op);
                }
                Mutation::OutboxRemoveThrough(seq) => {
                    self.outbox = self.outbox.split_off(&seq.next());
                }
                Mutation::LogAppend { pos, entry } => {
                    self.log.insert(pos, entry);
                }
                Mutation::LogCompactThrough(pos) => {
                    self.log = self.log.split_off(&LogPos(pos.0 + 1));
                }
                Mutation::Quarantine(q) => self.quarantine.push(q),
                Mutation::ClientMeta(meta) => self.client_meta = Some(meta),
                Mutation::ServerMeta(meta) => self.server_meta = Some(meta),
                Mutation::Registration { client, registration } => {
                    self.registrations.insert(client, registration);
                }
                Mutation::RecreatedOver { key, forgotten_through: Some(stamp) } => {
                    self.recreated_over.insert(key, stamp);
                }
                Mutation::RecreatedOver { key, forgotten_through: None } => {
                    self.recreated_over.remove(&key);
                }
                Mutation::Forgotten { bucket, through } => {
                    self.forgotten.insert(bucket, through);
                }
                // Not part of the image a node restarts from (see `crate::audit`).
                Mutation::Audit(_) | Mutation::AuditPruneBefore(_) => {}
            }
        }
    }
}

/// An audit trail held in memory, for the stores that keep everything in memory.
#[derive(Clone, Debug, Default)]
pub struct AuditTrail {
    entries: BTreeMap<LogPos, AuditEntry>,
}

impl AuditTrail {
    /// Takes the audit mutations of a committed batch; ignores the rest.
    pub fn apply(&mut self, batch: &[Mutation]) {
        for mutation in batch {
            match mutation {
                Mutation::Audit(entry) => {
                    self.entries.insert(entry.pos, entry.clone());
                }
                Mutation::AuditPruneBefore(cutoff) => self.entries.retain(|_, e| e.at >= *cutoff),
                _ => {}
            }
        }
    }

    /// Every entry, in log order.
    pub fn entries(&self) -> impl Iterator<Item = &AuditEntry> {
        self.entries.values()
    }

    /// One record's entries, oldest first.
    pub fn of(&self, key: &RecordKey) -> Vec<AuditEntry> {
        self.entries.values().filter(|entry| entry.op.key == *key).cloned().collect()
    }
}

/// The in-memory store: durable for the life of the value. A simulated crash drops the node
/// and restarts it from this store, so whatever was not committed is gone.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    committed: Stored,
    audit: AuditTrail,
    failing_commits: u32,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Makes the next `count` commits fail, to exercise the callers' error paths.
    pub fn fail_next_commits(&mut self, count: u32) {
        self.failing_commits = count;
    }

    pub fn committed(&self) -> &Stored {
        &self.committed
    }
}

impl Store for MemoryStore {
    fn load(&self) -> Result<Stored, StorageError> {
        Ok(self.committed.clone())
    }

    fn commit(&mut self, batch: Vec<Mutation>) -> Result<(), StorageError> {
        if self.failing_commits > 0 {
            self.failing_commits -= 1;
            return Err(StorageError { message: "injected commit failure".to_owned() });
        }
        self.audit.apply(&batch);
        self.committed.apply(batch);
        Ok(())
    }

    fn audit_of(&self, key: &RecordKey) -> Result<Vec<AuditEntry>, StorageError> {
        Ok(self.audit.of(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_commit_changes_nothing() {
        let mut store = MemoryStore::new();
        store.fail_next_commits(1);
        let key = RecordKey::new("notes", "a");
        let batch =
            vec![Mutation::Record { key: key.clone(), state: Some(RecordState::default()) }];
        assert!(store.commit(batch.clone()).is_err());
        assert!(store.load().expect("memory loads").records.is_empty());
        store.commit(batch).expect("second commit succeeds");
        assert!(store.load().expect("memory loads").records.contains_key(&key));
    }
}
