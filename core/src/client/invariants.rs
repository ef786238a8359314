//! The client's invariants (see [`crate::invariant`]).

use crate::client::Client;
use crate::invariant::{InvariantViolation, ensure};
use crate::store::{Store, Stored};

impl<S: Store> Client<S> {
    /// Checks the client's internal invariants, cheapest first:
    /// - `outbox_contiguous`: outbox seqs run without a gap, from just above the acked seq to
    ///   just below the next seq, and every op in it is this replica's;
    /// - `outbox_stamps_increase`: each queued op is stamped after the one before it, and the
    ///   clock is at or past the newest;
    /// - `acked_below_next`: the server cannot have acknowledged a seq not yet written;
    /// - `quarantine_not_queued`: an op kept aside is not also waiting to be pushed.
    ///
    /// Its cost grows with the outbox and the quarantine, not with the records, so a host can
    /// afford it after every input; [`Client::check_all_invariants`] adds the rest.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let meta = &self.meta;
        ensure(meta.acked_seq < meta.next_seq, "acked_below_next", || {
            format!("acked seq {} but next seq {}", meta.acked_seq.0, meta.next_seq.0)
        })?;
        let mut expected = meta.acked_seq.next();
        let mut previous = None;
        for op in &self.outbox {
            ensure(op.id.replica == self.config.replica, "outbox_contiguous", || {
                format!("op {} is not this replica's", op.id)
            })?;
            ensure(op.id.seq == expected, "outbox_contiguous", || {
                format!(
                    "expected seq {} after acked seq {}, found op {}",
                    expected.0, meta.acked_seq.0, op.id
                )
            })?;
            ensure(previous.is_none_or(|p| p < op.stamp), "outbox_stamps_increase", || {
                format!("op {} is stamped {} but an earlier op {previous:?}", op.id, op.stamp)
            })?;
            expected = expected.next();
            previous = Some(op.stamp);
        }
        ensure(expected == meta.next_seq, "outbox_contiguous", || {
            format!(
                "the outbox ends before seq {} but the next seq is {}",
                expected.0, meta.next_seq.0
            )
        })?;
        let clock = self.clock.last();
        ensure(previous.is_none_or(|p| p.hlc <= clock), "outbox_stamps_increase", || {
            format!("the newest queued op is stamped {previous:?}, after the clock {clock:?}")
        })?;
        // The outbox holds exactly the seqs above the acked one (checked above).
        for held in &self.quarantine {
            let queued =
                held.op.id.replica == self.config.replica && held.op.id.seq > meta.acked_seq;
            ensure(!queued, "quarantine_not_queued", || {
                format!("op {} is quarantined ({}) and queued", held.op.id, held.reason)
            })?;
        }
        Ok(())
    }

    /// Checks every invariant: those of [`Client::check_invariants`], then
    /// - `clock_covers_records`: no record holds a stamp the clock has not passed, so a local
    ///   write is always newer than everything it saw;
    /// - `memory_matches_store`: memory holds exactly what `stored` does (see below).
    ///
    /// `stored` is what the node's store would load now (`&node.store().load()?`; a host whose
    /// store keeps its image in memory can lend it instead). It reads every record.
    pub fn check_all_invariants(&self, stored: &Stored) -> Result<(), InvariantViolation> {
        self.check_invariants()?;
        let clock = self.clock.last();
        for (key, state) in self.records.iter() {
            let newest = state.newest_stamp();
            ensure(newest.is_none_or(|s| s.hlc <= clock), "clock_covers_records", || {
                format!("{key} holds stamp {newest:?}, after the clock {clock:?}")
            })?;
        }
        self.check_durable(stored)
    }

    /// Checks `memory_matches_store`: the records, outbox, quarantine and bookkeeping held in
    /// memory are exactly what `stored` holds, so a crash now loses nothing the client has
    /// acted on.
    fn check_durable(&self, stored: &Stored) -> Result<(), InvariantViolation> {
        let records = self.records.iter();
        let first_record_difference = records
            .zip(stored.records.iter())
            .find(|(memory, stored)| memory != stored)
            .map(|((key, _), _)| key.to_string());
        ensure(
            self.records.len() == stored.records.len() && first_record_difference.is_none(),
            "memory_matches_store",
            || match &first_record_difference {
                Some(key) => format!("record {key} differs from the store's"),
                None => format!(
                    "{} records in memory, {} stored",
                    self.records.len(),
                    stored.records.len()
                ),
            },
        )?;
        ensure(self.outbox.iter().eq(stored.outbox.values()), "memory_matches_store", || {
            format!("{} ops queued in memory, {} stored", self.outbox.len(), stored.outbox.len())
        })?;
        ensure(self.quarantine == stored.quarantine, "memory_matches_store", || {
            format!(
                "{} ops quarantined in memory, {} stored",
                self.quarantine.len(),
                stored.quarantine.len()
            )
        })?;
        // A client that has committed nothing yet holds only what it derived at its start.
        let Some(stored_meta) = &stored.client_meta else {
            return Ok(());
        };
        let mut meta = self.meta.clone();
        // The clock moves on between commits; what is stored is its reading at the last one.
        meta.hlc = stored_meta.hlc;
        ensure(meta == *stored_meta, "memory_matches_store", || {
            format!("bookkeeping {:?} in memory, {stored_meta:?} stored", self.meta)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::client::{Client, ClientConfig};
    use crate::hlc::{Hlc, Stamp};
    use crate::ids::{RecordKey, ReplicaId};
    use crate::merge::MergePolicy;
    use crate::merge::RecordState;
    use crate::quarantine::{QuarantineReason, QuarantinedOp};
    use crate::schema::{CollectionSchema, FieldSchema, Schema};
    use crate::store::{MemoryStore, Store};
    use crate::time::{MonoTime, Now, WallTime};
    use crate::value::{FieldType, Value};

    /// Both clock readings at `ms`: these tests' clocks agree.
    fn at_ms(ms: u64) -> Now {
        Now::new(MonoTime(ms), WallTime(ms))
    }

    /// A client that wrote three records, none of them pushed.
    fn client_with_three_queued_writes() -> Client {
        let notes = CollectionSchema::default()
            .field("title", FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins));
        let schema = Schema::new(1).collection("notes", notes);
        let config = ClientConfig::new(ReplicaId(1), schema);
        let mut client = Client::new(config, MemoryStore::new(), 7, at_ms(0)).expect("loads");
        for (at, id) in [(1_000, "a"), (2_000, "b"), (3_000, "c")] {
            let fields = [("title".to_owned(), Value::Str(id.to_owned()))].into();
            client.put(at_ms(at), RecordKey::new("notes", id), fields).expect("a valid put");
        }
        client
    }

    /// The invariant `client` breaks, checked in full against its own store.
    fn broken(client: &Client) -> Option<&'static str> {
        let stored = client.store().load().expect("memory loads");
        client.check_all_invariants(&stored).err().map(|violation| violation.invariant)
    }

    #[test]
    fn an_intact_client_keeps_every_invariant() {
        assert_eq!(broken(&client_with_three_queued_writes()), None);
    }

    #[test]
    fn a_gap_in_the_outbox_breaks_outbox_contiguous() {
        let mut client = client_with_three_queued_writes();
        client.outbox.remove(1);
        assert_eq!(broken(&client), Some("outbox_contiguous"));
    }

    #[test]
    fn another_replicas_op_in_the_outbox_breaks_outbox_contiguous() {
        let mut client = client_with_three_queued_writes();
        client.outbox[0].id.replica = ReplicaId(2);
        assert_eq!(broken(&client), Some("outbox_contiguous"));
    }

    #[test]
    fn a_queued_op_stamped_before_the_one_ahead_of_it_breaks_outbox_stamps_increase() {
        let mut client = client_with_three_queued_writes();
        let first = client.outbox[0].stamp;
        client.outbox[1].stamp = first;
        assert_eq!(broken(&client), Some("outbox_stamps_increase"));
    }

    #[test]
    fn an_ack_of_a_seq_not_yet_written_breaks_acked_below_next() {
        let mut client = client_with_three_queued_writes();
        client.meta.acked_seq = client.meta.next_seq;
        assert_eq!(broken(&client), Some("acked_below_next"));
    }

    #[test]
    fn an_op_both_quarantined_and_queued_breaks_quarantine_not_queued() {
        let mut client = client_with_three_queued_writes();
        let op = client.outbox[2].clone();
        client
            .quarantine
            .push(QuarantinedOp { op, reason: QuarantineReason::ForeignWriter { sender: 2 } });
        assert_eq!(broken(&client), Some("quarantine_not_queued"));
    }

    #[test]
    fn a_record_stamped_past_the_clock_breaks_clock_covers_records() {
        let mut client = client_with_three_queued_writes();
        let ahead = Stamp::new(Hlc { wall_ms: 1 << 40, logical: 0 }, ReplicaId(2));
        let state = RecordState { created: Some(ahead), ..RecordState::default() };
        client.records.insert(RecordKey::new("notes", "z"), state);
        assert_eq!(broken(&client), Some("clock_covers_records"));
    }

    #[test]
    fn memory_that_differs_from_the_store_breaks_memory_matches_store() {
        let mut client = client_with_three_queued_writes();
        client.records.remove(&RecordKey::new("notes", "b"));
        assert_eq!(broken(&client), Some("memory_matches_store"));
    }
}
