//! The server's invariants (see [`crate::invariant`]).

use crate::ids::LogPos;
use crate::invariant::{InvariantViolation, ensure};
use crate::op::{Op, OpBody};
use crate::server::Server;
use crate::store::{Store, Stored};

impl<S: Store> Server<S> {
    /// Checks the server's internal invariants, cheapest first:
    /// - `log_length`: the log holds exactly the entries after the compaction point through
    ///   the head;
    /// - `cursors_within_head`: no client is recorded as having pulled past the head;
    /// - `clock_covers_log`: the clock is at or past every stamp in the log, so the server
    ///   stamps nothing of its own below what it has accepted;
    /// - `recreated_records_held`: a record noted as re-created over a forgotten delete is
    ///   held;
    /// - `tombstone_positions`: every position belongs to a record with a tombstone, and a
    ///   position after the compaction point is the log entry of a delete of that very record.
    ///
    /// Its cost grows with the log and the tombstones, not with the records; a host that checks
    /// after every input calls [`Server::check_invariants_after`] instead, whose cost follows
    /// only the entries appended since its last call. [`Server::check_all_invariants`] adds
    /// the rest.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_invariants_after(LogPos(0))?;
        self.check_recreated_held()?;
        self.check_tombstone_positions()
    }

    /// The invariants of [`Server::check_invariants`] for what changed since the head
    /// `checked` that the previous call saw: `log_length` and `cursors_within_head` in full,
    /// `clock_covers_log` for the log entries after `checked`, and `tombstone_positions` for
    /// the deletes among them (each has a position at or after its own, at a delete of the
    /// same record, whose record holds a tombstone). Its cost follows the entries appended
    /// since, so it is cheap enough for every input of a run however long. An entry never
    /// changes once appended and the clock never goes back, so an entry covered once stays
    /// covered; a position that a later change breaks is left to the full checks.
    pub fn check_invariants_after(&self, checked: LogPos) -> Result<(), InvariantViolation> {
        let (head, compacted) = (self.meta.head, self.meta.compacted_through);
        ensure(
            compacted <= head && self.log.len() as u64 == head.0 - compacted.0,
            "log_length",
            || {
                format!(
                    "{} entries held between compaction point {} and head {}",
                    self.log.len(),
                    compacted.0,
                    head.0
                )
            },
        )?;
        for (client, registration) in &self.registrations {
            ensure(registration.cursor <= head, "cursors_within_head", || {
                format!(
                    "client {} is at cursor {} past head {}",
                    client.0, registration.cursor.0, head.0
                )
            })?;
        }
        let clock = self.clock.last();
        let held_checked = checked.0.saturating_sub(compacted.0);
        let first_unchecked =
            usize::try_from(held_checked).map_or(self.log.len(), |n| n.min(self.log.len()));
        for (offset, op) in self.log.range(first_unchecked..).enumerate() {
            ensure(op.stamp.hlc <= clock, "clock_covers_log", || {
                format!("op {} is stamped {}, after the clock {clock:?}", op.id, op.stamp)
            })?;
            if matches!(op.body, OpBody::Delete) {
                let pos = LogPos(compacted.0 + (first_unchecked + offset) as u64 + 1);
                self.check_new_delete_positioned(op, pos)?;
            }
        }
        Ok(())
    }

    /// `tombstone_positions` for a delete appended at `pos`: its record holds a tombstone whose
    /// position is this delete or a later delete of the same record.
    fn check_new_delete_positioned(&self, op: &Op, pos: LogPos) -> Result<(), InvariantViolation> {
        let key = &op.key;
        let deleted = self.records.get(key).and_then(|state| state.deleted);
        ensure(deleted.is_some(), "tombstone_positions", || {
            format!("{key} was deleted at {} but holds no tombstone", pos.0)
        })?;
        let positioned = self.tombstone_pos.get(key).copied();
        let entry = positioned.filter(|at| *at >= pos).and_then(|at| self.log_entry(at));
        let is_a_delete = entry.is_some_and(|e| e.key == *key && matches!(e.body, OpBody::Delete));
        ensure(is_a_delete, "tombstone_positions", || {
            format!("{key} was deleted at {} but its tombstone is at {positioned:?}", pos.0)
        })
    }

    /// `recreated_records_held`, for every record noted as re-created.
    fn check_recreated_held(&self) -> Result<(), InvariantViolation> {
        for key in self.recreated_over.keys() {
            ensure(self.records.get(key).is_some(), "recreated_records_held", || {
                format!("{key} is noted as re-created but not held")
            })?;
        }
        Ok(())
    }

    /// `tombstone_positions`, one way: every position names a tombstone, and after the
    /// compaction point its log entry.
    fn check_tombstone_positions(&self) -> Result<(), InvariantViolation> {
        let compacted = self.meta.compacted_through;
        for (key, pos) in &self.tombstone_pos {
            let deleted = self.records.get(key).and_then(|state| state.deleted);
            ensure(deleted.is_some(), "tombstone_positions", || {
                format!("{key} has a tombstone position {} but no tombstone", pos.0)
            })?;
            if *pos > compacted {
                let entry = self.log_entry(*pos);
                let is_its_delete =
                    entry.is_some_and(|op| op.key == *key && matches!(op.body, OpBody::Delete));
                ensure(is_its_delete, "tombstone_positions", || {
                    format!("{key}'s tombstone is at {} but that entry is {entry:?}", pos.0)
                })?;
            }
        }
        Ok(())
    }

    /// Checks every invariant: those of [`Server::check_invariants`], then
    /// - `tombstone_positions`, in full: every record with a tombstone has a position;
    /// - `memory_matches_store`: memory holds exactly what `stored` does (see below).
    ///
    /// `stored` is what the node's store would load now (`&node.store().load()?`; a host whose
    /// store keeps its image in memory can lend it instead). It reads every record.
    pub fn check_all_invariants(&self, stored: &Stored) -> Result<(), InvariantViolation> {
        self.check_invariants()?;
        for (key, state) in self.records.iter() {
            let positioned = state.deleted.is_none() || self.tombstone_pos.contains_key(key);
            ensure(positioned, "tombstone_positions", || {
                format!("{key} has a tombstone but no position")
            })?;
        }
        self.check_durable(stored)
    }

    /// Checks `memory_matches_store`: records, log, quarantine, acknowledgements and bookkeeping
    /// in memory are exactly what `stored` holds, so nothing the server has acted on
    /// (acknowledged, served) would be gone after a crash.
    fn check_durable(&self, stored: &Stored) -> Result<(), InvariantViolation> {
        let differs = |what: &str| format!("{what} in memory differ from the store's");
        let records_match = self.records.len() == stored.records.len()
            && self.records.iter().eq(stored.records.iter());
        ensure(records_match, "memory_matches_store", || differs("the records"))?;
        let log_matches = self.log.len() == stored.log.len()
            && self
                .log
                .iter()
                .zip(&self.links)
                .eq(stored.log.values().map(|entry| (&entry.op, &entry.link)));
        ensure(log_matches, "memory_matches_store", || {
            format!("{} log entries in memory, {} stored", self.log.len(), stored.log.len())
        })?;
        ensure(self.quarantine == stored.quarantine, "memory_matches_store", || {
            differs("quarantined ops")
        })?;
        // A client's cursor, oldest pending stamp and last contact are persisted lazily (see
        // `on_pull`): an older stored report only makes collection more careful. What the
        // server has acknowledged, and whether it waits for the client, are durable.
        let durable = |r: &crate::persist::Registration| (r.acked_seq, r.acked_stamp, r.evicted);
        let registrations_match = self.registrations.len() == stored.registrations.len()
            && self
                .registrations
                .iter()
                .zip(&stored.registrations)
                .all(|((a, memory), (b, stored))| a == b && durable(memory) == durable(stored));
        ensure(registrations_match, "memory_matches_store", || {
            differs("the acknowledgements of client registrations")
        })?;
        ensure(self.recreated_over == stored.recreated_over, "memory_matches_store", || {
            differs("the re-created records")
        })?;
        let Some(stored_meta) = &stored.server_meta else {
            return Ok(());
        };
        let mut meta = self.meta.clone();
        // The clock moves on between commits; what is stored is its reading at the last one.
        meta.hlc = stored_meta.hlc;
        ensure(meta == *stored_meta, "memory_matches_store", || {
            format!("bookkeeping {:?} in memory, {stored_meta:?} stored", self.meta)
        })
    }

    /// The log entry at `pos`, if it is held.
    fn log_entry(&self, pos: LogPos) -> Option<&Op> {
        let offset = pos.0.checked_sub(self.meta.compacted_through.0 + 1)?;
        self.log.get(usize::try_from(offset).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::client::{Client, ClientConfig};
    use crate::hlc::{Hlc, Stamp};
    use crate::ids::{LogPos, PeerId, RecordKey, ReplicaId};
    use crate::merge::MergePolicy;
    use crate::persist::Registration;
    use crate::schema::{CollectionSchema, FieldSchema, Schema};
    use crate::server::{Server, ServerConfig};
    use crate::store::{MemoryStore, Store};
    use crate::time::{MonoTime, Now, WallTime};
    use crate::value::{FieldType, Value};

    /// Both clock readings at `ms`: these tests' clocks agree.
    fn at_ms(ms: u64) -> Now {
        Now::new(MonoTime(ms), WallTime(ms))
    }

    /// A server that took two puts and a delete of the first record from one client.
    fn server_holding_a_tombstone() -> Server {
        let notes = CollectionSchema::default()
            .field("title", FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins));
        let schema = Schema::new(1).collection("notes", notes);
        let mut server =
            Server::new(ServerConfig::new(schema.clone()), MemoryStore::new(), at_ms(0))
                .expect("loads");
        let config = ClientConfig::new(ReplicaId(1), schema);
        let mut client = Client::new(config, MemoryStore::new(), 7, at_ms(0)).expect("loads");
        for (at, id) in [(1_000, "a"), (2_000, "b")] {
            let fields = [("title".to_owned(), Value::Str(id.to_owned()))].into();
            client.put(at_ms(at), RecordKey::new("notes", id), fields).expect("a valid put");
        }
        client.delete(at_ms(3_000), RecordKey::new("notes", "a")).expect("a valid delete");
        let (now, peer) = (at_ms(3_000), PeerId(1));
        server.connected(now, peer);
        client.connected(now);
        for _ in 0..16 {
            while let Some(bytes) = client.poll_transmit() {
                server.handle_message(now, peer, &bytes);
            }
            while let Some(transmit) = server.poll_transmit() {
                client.handle_message(now, &transmit.payload);
            }
        }
        assert_eq!(server.head(), LogPos(3), "the server applied all three ops");
        server
    }

    /// The invariant `server` breaks, checked in full against its own store.
    fn broken(server: &Server) -> Option<&'static str> {
        let stored = server.store().load().expect("memory loads");
        server.check_all_invariants(&stored).err().map(|violation| violation.invariant)
    }

    #[test]
    fn an_intact_server_keeps_every_invariant() {
        assert_eq!(broken(&server_holding_a_tombstone()), None);
    }

    #[test]
    fn a_head_past_the_log_breaks_log_length() {
        let mut server = server_holding_a_tombstone();
        server.meta.head = LogPos(4);
        assert_eq!(broken(&server), Some("log_length"));
    }

    #[test]
    fn a_client_recorded_past_the_head_breaks_cursors_within_head() {
        let mut server = server_holding_a_tombstone();
        let registration = Registration { cursor: LogPos(9), ..Registration::default() };
        server.registrations.insert(ReplicaId(2), registration);
        assert_eq!(broken(&server), Some("cursors_within_head"));
    }

    #[test]
    fn a_tombstone_position_off_its_delete_breaks_tombstone_positions() {
        let mut server = server_holding_a_tombstone();
        server.tombstone_pos.insert(RecordKey::new("notes", "a"), LogPos(2));
        assert_eq!(broken(&server), Some("tombstone_positions"));
    }

    #[test]
    fn a_tombstone_without_a_position_breaks_tombstone_positions() {
        let mut server = server_holding_a_tombstone();
        server.tombstone_pos.clear();
        assert_eq!(broken(&server), Some("tombstone_positions"));
    }

    #[test]
    fn a_recreated_record_that_is_not_held_breaks_recreated_records_held() {
        let mut server = server_holding_a_tombstone();
        let bound = Stamp::new(Hlc { wall_ms: 1, logical: 0 }, ReplicaId(1));
        server.recreated_over.insert(RecordKey::new("notes", "gone"), bound);
        assert_eq!(broken(&server), Some("recreated_records_held"));
    }

    #[test]
    fn a_logged_op_stamped_past_the_clock_breaks_clock_covers_log() {
        let mut server = server_holding_a_tombstone();
        server.log[0].stamp.hlc.wall_ms = 1 << 40;
        assert_eq!(broken(&server), Some("clock_covers_log"));
    }

    #[test]
    fn the_cheap_check_reads_the_clock_against_the_log_entries_after_the_head_it_is_given() {
        let mut server = server_holding_a_tombstone();
        server.log[2].stamp.hlc.wall_ms = 1 << 40;
        let broken_after = |checked| server.check_invariants_after(LogPos(checked)).err();
        assert_eq!(broken_after(2).map(|v| v.invariant), Some("clock_covers_log"));
        assert_eq!(broken_after(3), None, "entries through the head given were checked before");
    }

    #[test]
    fn the_cheap_check_finds_a_delete_appended_after_the_head_it_is_given_positioned_elsewhere() {
        let mut server = server_holding_a_tombstone();
        server.tombstone_pos.insert(RecordKey::new("notes", "a"), LogPos(2));
        let broken_after = |checked| server.check_invariants_after(LogPos(checked)).err();
        assert_eq!(broken_after(2).map(|v| v.invariant), Some("tombstone_positions"));
        assert_eq!(broken_after(3), None, "the delete at 3 was checked before");
    }

    #[test]
    fn the_cheap_check_finds_a_delete_appended_after_the_head_whose_record_holds_no_tombstone() {
        let mut server = server_holding_a_tombstone();
        let key = RecordKey::new("notes", "a");
        let mut record = server.records.get(&key).expect("held").clone();
        record.deleted = None;
        server.records.insert(key, record);
        let broken = server.check_invariants_after(LogPos(2)).err();
        assert_eq!(broken.map(|v| v.invariant), Some("tombstone_positions"));
    }

    #[test]
    fn an_acknowledgement_the_store_lacks_breaks_memory_matches_store() {
        let mut server = server_holding_a_tombstone();
        let registration = server.registrations.get_mut(&ReplicaId(1)).expect("registered");
        registration.acked_seq = crate::ids::Seq(4);
        assert_eq!(broken(&server), Some("memory_matches_store"));
    }
}
