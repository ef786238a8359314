//! The simulator's store: an in-memory image, with a sabotage hook for checker tests.

use driftsync_core::{Mutation, StorageError, Store, Stored};

/// Durable for the life of the value, like `MemoryStore`. With `forget_last_commit` set
/// (only by the `ForgetLastCommitOnCrash` sabotage) it keeps the image from before the last
/// commit, and a crash rolls back to it: a store that acknowledges commits it then loses.
#[derive(Clone, Debug, Default)]
pub(crate) struct SimStore {
    committed: Stored,
    before_last: Option<Stored>,
    forget_last_commit: bool,
}

impl SimStore {
    pub(crate) fn new(forget_last_commit: bool) -> SimStore {
        SimStore { forget_last_commit, ..SimStore::default() }
    }

    /// What survives a crash.
    pub(crate) fn after_crash(mut self) -> SimStore {
        if let Some(previous) = self.before_last.take() {
            self.committed = previous;
        }
        self
    }
}

impl Store for SimStore {
    fn load(&self) -> Result<Stored, StorageError> {
        Ok(self.committed.clone())
    }

    fn commit(&mut self, batch: Vec<Mutation>) -> Result<(), StorageError> {
        if self.forget_last_commit {
            self.before_last = Some(self.committed.clone());
        }
        self.committed.apply(batch);
        Ok(())
    }
}
