//! Sabotages of the nodes' lives: their stores across crashes, restarts and upgrades, their
//! jitter, and whether they come back at the heal.

use crate::engine::store::SimStore;
use crate::engine::tamper::Tamper;
use crate::plan::{NodeId, PlannedWrite};

/// Every store drops its last commit when its node crashes.
#[derive(Debug)]
pub(super) struct ForgetLastCommitOnCrash;

impl Tamper for ForgetLastCommitOnCrash {
    fn stores_forget_last_commit(&self) -> bool {
        true
    }
}

/// Client 1 restarts from an empty store, once: its cursor goes back.
#[derive(Debug, Default)]
pub(super) struct WipeStoreOnRestart {
    fired: bool,
}

impl Tamper for WipeStoreOnRestart {
    fn on_restart(&mut self, node: NodeId, store: SimStore) -> SimStore {
        if node != NodeId::client(1) || self.fired {
            return store;
        }
        self.fired = true;
        SimStore::default()
    }
}

/// Client 1 repeats its first planned write when the stability round starts.
#[derive(Debug)]
pub(super) struct WriteDuringStability;

impl Tamper for WriteDuringStability {
    fn write_during_stability(&mut self, workload: &[PlannedWrite]) -> Option<PlannedWrite> {
        workload.iter().find(|w| w.client == NodeId::client(1)).cloned()
    }
}

/// Client 1 stays offline after the heal.
#[derive(Debug)]
pub(super) struct NeverHeal;

impl Tamper for NeverHeal {
    fn stays_offline_after_heal(&self, client: NodeId) -> bool {
        client == NodeId::client(1)
    }
}

/// Client 1's upgrade reinstalls the app on an empty store.
#[derive(Debug)]
pub(super) struct LoseOutboxOnUpgrade;

impl Tamper for LoseOutboxOnUpgrade {
    fn on_upgrade(&mut self, client: NodeId, store: SimStore) -> SimStore {
        match client == NodeId::client(1) {
            true => SimStore::default(),
            false => store,
        }
    }
}

/// Every client seeds its jitter with zero.
#[derive(Debug)]
pub(super) struct SameJitterSeed;

impl Tamper for SameJitterSeed {
    fn jitter_seed(&self, _drawn: u64) -> u64 {
        0
    }
}
