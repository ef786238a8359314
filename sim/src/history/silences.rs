//! When the server heard from each client, and what held when it quarantined an op as stale:
//! the facts `quarantine_justified` judges stale quarantines by.

use driftsync_core::{OpId, RecordKey, Stamp};

/// When the server last heard from each client, and the silences longer than the eviction
/// window, both measured on the server's wall clock as its eviction is.
#[derive(Debug, Default)]
pub(crate) struct Silences {
    /// Per client index: the server's wall clock when it last heard from the client, or when
    /// the run began (every client is installed then).
    heard_wall_ms: Vec<u64>,
    /// Per client index: when (simulated ms) each silence longer than the eviction window ended.
    long_silence_ends_ms: Vec<Vec<u64>>,
}

impl Silences {
    pub(crate) fn new(clients: usize, install_wall_ms: u64) -> Silences {
        Silences {
            heard_wall_ms: vec![install_wall_ms; clients],
            long_silence_ends_ms: vec![Vec::new(); clients],
        }
    }

    /// The server hears from client `index` at simulated `now_ms`, its clock reading `wall_ms`.
    pub(crate) fn heard(&mut self, index: usize, now_ms: u64, wall_ms: u64, eviction_ms: u64) {
        let silent_ms = wall_ms.saturating_sub(self.heard_wall_ms[index]);
        if silent_ms > eviction_ms {
            self.long_silence_ends_ms[index].push(now_ms);
        }
        self.heard_wall_ms[index] = wall_ms;
    }

    /// Whether client `index` went unheard past the eviction window after `since_ms`, the
    /// silence ending by `until_ms`.
    pub(crate) fn was_silent_after(&self, index: usize, since_ms: u64, until_ms: u64) -> bool {
        let ends = self.long_silence_ends_ms.get(index).map_or(&[][..], Vec::as_slice);
        ends.iter().any(|end| *end > since_ms && *end <= until_ms)
    }
}

/// The server's situation when it quarantined one op as stale.
#[derive(Clone, Debug)]
pub(crate) struct StaleDecision {
    pub(crate) op: OpId,
    pub(crate) key: RecordKey,
    pub(crate) at_ms: u64,
    /// The server's wall clock then.
    pub(crate) server_wall_ms: u64,
    /// Whether the server held the record (live, or as a tombstone) when the push carrying the
    /// op arrived.
    pub(crate) record_held: bool,
    /// The record was re-created after the server forgot deletes through this stamp.
    pub(crate) recreated_over: Option<Stamp>,
}
