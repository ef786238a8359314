//! The simulator's store: durable, atomic commits kept as a log of batches, folded into a
//! `Stored` image only when a node restarts (or the log grows long). Moving a batch into the
//! log costs nothing, which matters because every simulated commit goes through here.

use driftsync_core::audit::AuditEntry;
use driftsync_core::{AuditTrail, Mutation, RecordKey, StorageError, Store, Stored};

/// Batches kept unfolded before they are folded into the image.
const PENDING_BATCHES_MAX: usize = 256;
/// Mutations kept unfolded before they are folded: a long run pulls big batches, and holding
/// 256 of them (each field state a mutation copies included) made a run of 100,000 writes hold
/// hundreds of megabytes, and every op cost more the longer the run.
const PENDING_MUTATIONS_MAX: usize = 4_096;

/// Durable for the life of the value, like `MemoryStore`. With `forget_last_commit` set (only
/// by the `ForgetLastCommitOnCrash` sabotage) a crash drops the last batch: a store that
/// acknowledges a commit it then loses.
#[derive(Clone, Debug, Default)]
pub(crate) struct SimStore {
    folded: Stored,
    /// The audit trail of the folded batches (not part of the image a node restarts from).
    audit: AuditTrail,
    pending: Vec<Vec<Mutation>>,
    /// The mutations in `pending`.
    pending_mutations: usize,
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
            self.pending.pop();
        }
        self.fold();
        self
    }

    /// The committed image of a crashed node's store (folded by `after_crash`).
    pub(crate) fn crashed_image(&self) -> &Stored {
        debug_assert!(self.pending.is_empty(), "after_crash folds every batch");
        &self.folded
    }

    /// What a load would return now, without copying it: every batch is folded in, unless the
    /// sabotage may still drop the last one (then `None`, and a caller loads instead).
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
        for batch in &self.pending {
            trail.apply(batch);
        }
        trail
    }

    fn fold(&mut self) {
        self.pending_mutations = 0;
        for batch in self.pending.drain(..) {
            self.audit.apply(&batch);
            self.folded.apply(batch);
        }
    }
}

impl Store for SimStore {
    fn load(&self) -> Result<Stored, StorageError> {
        let mut image = self.folded.clone();
        for batch in &self.pending {
            image.apply(batch.clone());
        }
        Ok(image)
    }

    fn commit(&mut self, batch: Vec<Mutation>) -> Result<(), StorageError> {
        if self.failing_commits > 0 {
            self.failing_commits -= 1;
            return Err(StorageError { message: "injected I/O error: commit failed".to_owned() });
        }
        // Keep the last batch unfolded so the sabotage can still drop it.
        if self.pending.len() >= PENDING_BATCHES_MAX
            || self.pending_mutations + batch.len() > PENDING_MUTATIONS_MAX
        {
            let last = self.pending.pop();
            self.fold();
            self.pending_mutations = last.as_ref().map_or(0, Vec::len);
            self.pending.extend(last);
        }
        self.pending_mutations += batch.len();
        self.pending.push(batch);
        Ok(())
    }

    fn audit_of(&self, key: &RecordKey) -> Result<Vec<AuditEntry>, StorageError> {
        Ok(self.audit_trail().of(key))
    }
}
