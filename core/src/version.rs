//! Version vectors: what a node has applied, one contiguous seq per replica.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{OpId, ReplicaId, Seq};

/// Because each replica's seqs are contiguous and applied in order, the highest applied seq
/// per replica says exactly which of its ops a node has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionVector {
    applied: BTreeMap<ReplicaId, Seq>,
}

/// Where an op stands against a version vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// The next op of its replica: apply it.
    Next,
    /// Already applied: drop it and count it.
    Duplicate,
    /// Ops of its replica are missing before it: hold it back until they arrive.
    Gap { expected: Seq },
}

impl Admission {
    /// Where `seq` stands for a writer whose ops are applied through `applied`.
    pub(crate) fn of(applied: Seq, seq: Seq) -> Admission {
        let expected = applied.next();
        match seq.cmp(&expected) {
            std::cmp::Ordering::Less => Admission::Duplicate,
            std::cmp::Ordering::Equal => Admission::Next,
            std::cmp::Ordering::Greater => Admission::Gap { expected },
        }
    }
}

impl VersionVector {
    /// The highest seq of `replica` applied here.
    pub fn seq(&self, replica: ReplicaId) -> Seq {
        self.applied.get(&replica).copied().unwrap_or_default()
    }

    /// Whether `id` is already covered.
    pub fn contains(&self, id: OpId) -> bool {
        id.seq <= self.seq(id.replica)
    }

    /// Records `id` as applied. Callers admit first, so the seq is the next one (or the vector
    /// is being raised to a known point, as after a snapshot).
    pub fn advance(&mut self, id: OpId) {
        let entry = self.applied.entry(id.replica).or_default();
        if id.seq > *entry {
            *entry = id.seq;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (ReplicaId, Seq)> + '_ {
        self.applied.iter().map(|(r, s)| (*r, *s))
    }
}
