//! The simulator's store: durable, atomic commits folded into a `Stored` image as they come,
//! all but the last: with `forget_last_commit` set (only by the `ForgetLastCommitOnCrash`
//! sabotage) a crash drops the last batch, a store that acknowledges a commit it then loses.
//!
//! A batch is folded when the next one commits, while its mutations are still in the cache.
//! Folding later costs the same work and holds every pending field state a mutation copies:
//! a run of 20,000 writes held 40 MB of them with 4,096 mutations pending per node.

use driftsync_core::audit::AuditEntry;
use driftsync_core::{AuditTrail, Mutation, RecordKey, StorageError, Store, Stored};

/// Durable for the life of the value, like `MemoryStore`.
#[derive(Clone, Debug, Default)]
pub(crate) struct SimStore {
    folded: Stored,
    /// The audit trail of the folded batches (not part of the image a node restarts from).
    audit: AuditTrail,
    /// The last batch committed, not yet folded, so the sabotage can still drop it.
    last: Option<Vec<Mutation>>,
    forget_last_commit: bool,
    /// Commits still to fail with an I/O error (a storage fault).
    failing_commits: u32,
}

impl SimStore {
    pub(crate) fn new(forget_last_commit: bool) -> SimStore {
        SimStore { forget_last_commit, ..SimStore::default() }
    }

    /// Makes the next `count` commits fail, changing nothing.
    pub(crate) fn fail_next_commits(&mut self, count: u32) {
        self.failing_commits = count;
    }

    /// What survives a crash. A burst of failing commits ends with it: the node restarts on a
    /// disk that works.
    pub(crate) fn after_crash(mut self) -> SimStore {
        self.failing_commits = 0;
        if self.forget_last_commit {
            self.last = None;
        }
        self.fold();
        self
    }

    /// The committed image of a crashed node's store (folded by `after_crash`).
    pub(crate) fn crashed_image(&self) -> &Stored {
        debug_assert!(self.last.is_none(), "after_crash folds every batch");
        &self.folded
    }

    /// What a load would return now, without copying it: the last batch is folded in, unless
    /// the sabotage may still drop it (then `None`, and a caller loads instead).
    pub(crate) fn image(&mut self) -> Option<&Stored> {
        if self.forget_last_commit {
            return None;
        }
        self.fold();
        Some(&self.folded)
    }

    /// The folded image (all of it after [`SimStore::image`]).
    pub(crate) fn folded(&self) -> &Stored {
        &self.folded
    }

    /// The whole audit trail committed so far.
    pub(crate) fn audit_trail(&self) -> AuditTrail {
        let mut trail = self.audit.clone();
        if let Some(batch) = &self.last {
            trail.apply(batch);
        }
        trail
    }

    fn fold(&mut self) {
        if let Some(batch) = self.last.take() {
            self.audit.apply(&batch);
            self.folded.apply(batch);
        }
    }
}

impl Store for SimStore {
    fn load(&self) -> Result<Stored, StorageError> {
        let mut image = self.folded.clone();
        if let Some(batch) = &self.last {
            image.apply(batch.clone());
        }
        Ok(image)
    }

    fn commit(&mut self, batch: Vec<Mutation>) -> Result<(), StorageError> {
        if self.failing_commits > 0 {
            self.failing_commits -= 1;
            return Err(StorageError { message: "injected I/O error: commit failed".to_owned() });
        }
        self.fold();
        self.last = Some(batch);
        Ok(())
    }

    fn audit_of(&self, key: &RecordKey) -> Result<Vec<AuditEntry>, StorageError> {
        Ok(self.audit_trail().of(key))
    }
}
