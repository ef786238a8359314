//! Local writes. Each becomes one op that is validated, applied and committed to the store
//! together with its outbox entry before the call returns: it survives a crash before any sync.

use std::collections::BTreeMap;

use crate::client::Client;
use crate::error::WriteError;
use crate::hlc::Stamp;
use crate::ids::{OpId, RecordKey};
use crate::merge::RecordState;
use crate::op::{FieldWrite, FieldWrites, Op, OpBody};
use crate::schema::{Violation, ViolationKind};
use crate::store::{Changes, Mutation, Store};
use crate::time::Now;
use crate::value::Value;

impl<S: Store> Client<S> {
    /// Runs `writes` with `reason` attached to every op they write: the why of the server's
    /// audit trail (`client.with_reason("merged duplicates", |c| c.delete(now, key))`). A
    /// reason past [`REASON_BYTES_MAX`](crate::op::REASON_BYTES_MAX) makes each write fail
    /// with a schema violation, as any invalid write does.
    pub fn with_reason<T>(&mut self, reason: &str, writes: impl FnOnce(&mut Self) -> T) -> T {
        let outer = self.reason.replace(reason.to_owned());
        let result = writes(self);
        self.reason = outer;
        result
    }

    /// Creates (or re-creates) a record with the given fields.
    pub fn put(
        &mut self,
        now: Now,
        key: RecordKey,
        fields: BTreeMap<String, Value>,
    ) -> Result<OpId, WriteError> {
        let fields = self.field_writes(&key, fields);
        self.write(now, key, OpBody::Put { fields })
    }

    /// Sets the given fields of a record, leaving the others as they are.
    pub fn update(
        &mut self,
        now: Now,
        key: RecordKey,
        fields: BTreeMap<String, Value>,
    ) -> Result<OpId, WriteError> {
        if fields.is_empty() {
            return Err(WriteError::ApiMisuse("an update must set at least one field".to_owned()));
        }
        let fields = self.field_writes(&key, fields);
        self.write(now, key, OpBody::Update { fields })
    }

    /// Deletes a record (a tombstone: everything older is hidden everywhere).
    pub fn delete(&mut self, now: Now, key: RecordKey) -> Result<OpId, WriteError> {
        self.write(now, key, OpBody::Delete)
    }

    /// Adds `delta` to a counter field.
    pub fn increment(
        &mut self,
        now: Now,
        key: RecordKey,
        field: &str,
        delta: i64,
    ) -> Result<OpId, WriteError> {
        self.write(now, key, OpBody::Increment { field: field.to_owned(), delta })
    }

    /// Settles a field to `value`, superseding every value it currently shows (all sides of a
    /// multi-value fork). The resolution is an ordinary op, so it stays resolved on every
    /// replica after every later sync.
    pub fn resolve_conflict(
        &mut self,
        now: Now,
        key: RecordKey,
        field: &str,
        value: Value,
    ) -> Result<OpId, WriteError> {
        let seen = self.records.get(&key).map(|r| r.seen(field)).unwrap_or_default();
        let write = FieldWrite { value, seen };
        self.write(now, key, OpBody::Resolve { field: field.to_owned(), write })
    }

    fn field_writes(&self, key: &RecordKey, fields: BTreeMap<String, Value>) -> FieldWrites {
        let record = self.records.get(key);
        fields
            .into_iter()
            .map(|(name, value)| {
                let seen = record.map(|r| r.seen(&name)).unwrap_or_default();
                (name, FieldWrite { value, seen })
            })
            .collect()
    }

    fn write(&mut self, now: Now, key: RecordKey, body: OpBody) -> Result<OpId, WriteError> {
        let now = self.observe(now);
        if self.outbox.len() >= self.config.outbox_ops_max {
            return Err(WriteError::OutboxFull { ops_max: self.config.outbox_ops_max });
        }
        let name_max = self.config.limits.name_bytes_max;
        if key.collection.len() > name_max || key.record.len() > name_max || key.record.is_empty() {
            return Err(WriteError::ApiMisuse(format!(
                "record ids must be 1..={name_max} bytes and collection names at most {name_max}"
            )));
        }
        let id = OpId { replica: self.config.replica, seq: self.meta.next_seq };
        let reason = self.reason.clone();
        let mut op = Op { id, stamp: Stamp::default(), key, body, reason };
        // Validate before ticking: a refused write must leave no trace, not even on the clock.
        let schema = self.config.schema();
        schema.validate(&op).map_err(WriteError::Schema)?;
        if let Some(field) = deprecated_field(schema, &op) {
            let kind = ViolationKind::RemovedField { schema_version: schema.version };
            return Err(WriteError::Schema(Violation::of(&op, Some(field), kind)));
        }
        // The write replaces what it saw, so it must be stamped after all of it. Pulled ops
        // moved the clock past their stamps already; this also covers state that arrived in a
        // snapshot, or any other way, without passing the clock.
        if let Some(newest) = self.records.get(&op.key).and_then(RecordState::newest_stamp) {
            self.clock.observe(newest.hlc, self.wall);
        }
        op.stamp = Stamp::new(self.clock.tick(self.wall), self.config.replica);
        let mut changes = Changes::default();
        // Stamped after everything the record holds, a local write decides no conflict.
        self.records.apply(&op, self.config.schema());
        changes.note(&op);
        self.meta.next_seq = id.seq.next();
        self.meta.applied.advance(id);
        let mut mutations: Vec<Mutation> = changes.into_mutations(&self.records).collect();
        mutations.push(Mutation::OutboxPut(op.clone()));
        mutations.push(self.meta_mutation());
        self.commit(mutations)?;
        self.outbox.push_back(op);
        self.metrics.set_outbox(self.outbox.len());
        self.drive(now);
        self.report_state();
        Ok(id)
    }
}

/// A field `op` writes that its version has removed: older clients may still write it, but
/// the app of this version no longer may.
fn deprecated_field<'a>(schema: &crate::schema::Schema, op: &'a Op) -> Option<&'a str> {
    let removed = |name: &&'a str| {
        schema.field(&op.key.collection, name).is_some_and(|field| field.deprecated)
    };
    match &op.body {
        OpBody::Put { fields } | OpBody::Update { fields } => {
            fields.keys().map(String::as_str).find(removed)
        }
        OpBody::Increment { field, .. } | OpBody::Resolve { field, .. } => {
            Some(field.as_str()).filter(removed)
        }
        OpBody::Delete => None,
    }
}
