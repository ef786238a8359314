//! The collection pass: evict silent clients, collect tombstones, compact the log.
//!
//! A tombstone may go only when no client can ever need it again: every registered client
//! (not evicted) has pulled past its delete, and none still holds an unpushed op older than it.
//! After pulling the delete a client's clock is past the tombstone, so any op it writes later is
//! newer and would be hidden by nothing; the only danger is an older op still in an outbox, and
//! each client reports its oldest, with its cursor, in every Hello and pull request. An evicted client no longer holds anything
//! back: when it returns it resyncs from a snapshot, and its ops older than the horizon are
//! quarantined as stale instead of applied.

use tracing::info;

use crate::event::{Eviction, ServerEvent};
use crate::ids::RecordKey;
use crate::server::Server;
use crate::store::{Mutation, Store};

impl<S: Store> Server<S> {
    pub(super) fn collect(&mut self) {
        let mut mutations = Vec::new();
        self.evict_silent_clients();
        let active: Vec<_> = self.registrations.values().filter(|r| !r.evicted).collect();
        let safe_pos =
            active.iter().map(|r| r.cursor).min().unwrap_or(self.meta.head).min(self.meta.head);
        let oldest_pending = active.iter().filter_map(|r| r.outbox_oldest).min();
        let collectable: Vec<(RecordKey, crate::hlc::Stamp)> = self
            .tombstone_pos
            .iter()
            .filter(|(_, pos)| **pos <= safe_pos)
            .filter_map(|(key, _)| {
                let state = self.records.get(key)?;
                let deleted = state.deleted?;
                let pending_older = oldest_pending.is_some_and(|oldest| oldest < deleted);
                (state.is_bare_tombstone() && !pending_older).then(|| (key.clone(), deleted))
            })
            .collect();
        for (key, deleted) in &collectable {
            self.records.remove(key);
            self.tombstone_pos.remove(key);
            self.meta.gc_horizon = self.meta.gc_horizon.max(Some(*deleted));
            mutations.push(Mutation::Record { key: key.clone(), state: None });
        }
        let compact_to = safe_pos.max(self.meta.compacted_through);
        let dropped = compact_to.0 - self.meta.compacted_through.0;
        if dropped > 0 {
            self.log.drain(..dropped as usize);
            self.meta.compacted_through = compact_to;
            mutations.push(Mutation::LogCompactThrough(compact_to));
        }
        for (client, registration) in &self.registrations {
            mutations.push(Mutation::Registration {
                client: *client,
                registration: registration.clone(),
            });
        }
        mutations.push(self.meta_mutation());
        if self.commit(mutations).is_err() {
            return; // Reloaded from the store; the next pass tries again.
        }
        let tombstones = collectable.len() as u64;
        self.metrics.tombstones_collected += tombstones;
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
            self.sessions.values().filter_map(|session| session.client).collect();
        for (client, registration) in self.registrations.iter_mut() {
            let silent_ms = wall.0.saturating_sub(registration.last_seen.0);
            let silent = silent_ms > eviction_ms && !connected.contains(client);
            if !registration.evicted && silent {
                registration.evicted = true;
                self.metrics.clients_evicted += 1;
                self.events.push_back(ServerEvent::ClientEvicted {
                    client: *client,
                    why: Eviction::Silent,
                });
            }
        }
    }
}
