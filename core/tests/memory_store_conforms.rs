//! The in-memory store passes the store conformance suite that every store must pass.

use driftsync_core::MemoryStore;
use driftsync_core::conformance::StoreUnderTest;

/// Memory stores: a reopen hands back the same value, as a simulated restart does.
struct Memory;

impl StoreUnderTest for Memory {
    type Store = MemoryStore;

    fn create(&mut self) -> MemoryStore {
        MemoryStore::new()
    }

    fn reopen(&mut self, store: MemoryStore) -> MemoryStore {
        store
    }
}

driftsync_core::store_conformance_tests!(Memory);
