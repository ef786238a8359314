//! The collection pass: evict silent clients, compact the log, forget old tombstones.
//!
//! The log is compacted behind the cursor of every client the server still waits for (every
//! registered client that is not evicted); a client behind the compaction point resyncs from a
//! snapshot. A tombstone stays among the records, and so in every snapshot, until it may be
//! forgotten: nothing but the tombstone is left of its record, every client the server waits
//! for has pulled past its delete and holds no unpushed op older than it, and its retention
//! window has passed (the delete's stamp is older than [`ServerConfig::retention_ms`] by the
//! server's wall clock). Until then an op older than the delete, from any client, known or
//! brand new, merges against it and is hidden, exactly as if nothing had been collected.
//!
//! After a client pulls a delete its clock is past the tombstone, so any op it writes later is
//! newer; the only danger is an older op still in an outbox, and each client reports its
//! oldest, with its cursor, in every Hello and pull request. An evicted client or a fresh install
//! can hold older ops the server knows nothing of: the retention window is what protects them,
//! and only an op older than that window can meet a forgotten delete (see `push.rs`).
//!
//! [`ServerConfig::retention_ms`]: crate::server::ServerConfig::retention_ms

use tracing::info;

use crate::coverage::Mark;
use crate::event::{Eviction, ServerEvent};
use crate::hlc::Stamp;
use crate::ids::{LogPos, RecordKey};
use crate::server::Server;
use crate::store::{Mutation, Store};
use crate::testing::PlantedBug;
use crate::time::WallTime;

impl<S: Store> Server<S> {
    pub(super) fn collect(&mut self) {
        let mut mutations = Vec::new();
        self.evict_silent_clients();
        let active: Vec<_> = self.registrations.values().filter(|r| !r.evicted).collect();
        let safe_pos =
            active.iter().map(|r| r.cursor).min().unwrap_or(self.meta.head).min(self.meta.head);
        let oldest_pending = active.iter().filter_map(|r| r.outbox_oldest).min();
        let retention_ms = self.config.retention_ms();
        let wall_ms = self.wall.0;
        let forgettable: Vec<(RecordKey, Stamp)> = self
            .tombstone_pos
            .iter()
            .filter(|(_, pos)| **pos <= safe_pos)
            .filter_map(|(key, _)| {
                let state = self.records.get(key)?;
                let deleted = state.deleted?;
                let pending_older = oldest_pending.is_some_and(|oldest| oldest < deleted);
                let retained = deleted.hlc.wall_ms.saturating_add(retention_ms) >= wall_ms;
                (state.is_bare_tombstone() && !pending_older && !retained)
                    .then(|| (key.clone(), deleted))
            })
            .collect();
        for (key, deleted) in &forgettable {
            self.records.remove(key);
            self.tombstone_pos.remove(key);
            if self.recreated_over.remove(key).is_some() {
                mutations
                    .push(Mutation::RecreatedOver { key: key.clone(), forgotten_through: None });
            }
            mutations.push(self.forgotten.forget(key, *deleted));
            mutations.push(Mutation::Record { key: key.clone(), state: None });
        }
        let safe_pos = match self.planted(PlantedBug::CompactionPastCursor) {
            true => LogPos(safe_pos.0 + 1).min(self.meta.head),
            false => safe_pos,
        };
        let compact_to = safe_pos.max(self.meta.compacted_through);
        let dropped = compact_to.0 - self.meta.compacted_through.0;
        if dropped > 0 {
            self.meta.chain_base = self.link_at(compact_to);
            self.log.drain(..dropped as usize);
            self.links.drain(..dropped as usize);
            self.meta.compacted_through = compact_to;
            mutations.push(Mutation::LogCompactThrough(compact_to));
        }
        for (client, registration) in &self.registrations {
            mutations.push(Mutation::Registration {
                client: *client,
                registration: registration.clone(),
            });
        }
        if let Some(audit_ms) = self.config.audit_retention_ms {
            mutations.push(Mutation::AuditPruneBefore(WallTime(wall_ms.saturating_sub(audit_ms))));
        }
        mutations.push(self.meta_mutation());
        if self.commit(mutations).is_err() {
            return; // Reloaded from the store; the next pass tries again.
        }
        let tombstones = forgettable.len() as u64;
        self.metrics.tombstones_collected += tombstones;
        if tombstones > 0 {
            self.metrics.mark(Mark::TombstoneCollected);
        }
        if tombstones > 0 || dropped > 0 {
            info!(tombstones, compacted_through = compact_to.0, "collected");
            let compacted_through = self.meta.compacted_through;
            self.events.push_back(ServerEvent::Collected { tombstones, compacted_through });
        }
    }

    /// Marks clients silent past the limit as evicted (persisted with the rest of the pass).
    fn evict_silent_clients(&mut self) {
        let wall = self.wall;
        let eviction_ms = self.config.client_eviction_ms;
        // A client with a live session is not silent, whatever the wall clock says (a jump of
        // the server's clock must not evict everyone at once).
        let connected: std::collections::BTreeSet<_> =
            self.sessions.values().filter_map(|session| session.client()).collect();
        for (client, registration) in self.registrations.iter_mut() {
            let silent_ms = wall.0.saturating_sub(registration.last_seen.0);
            let silent = silent_ms > eviction_ms && !connected.contains(client);
            if !registration.evicted && silent {
                registration.evicted = true;
                self.metrics.clients_evicted += 1;
                self.metrics.mark(Mark::ClientEvicted);
                self.events.push_back(ServerEvent::ClientEvicted {
                    client: *client,
                    why: Eviction::Silent,
                });
            }
        }
    }
}
