//! What the server still knows of the deletes it has forgotten.
//!
//! Forgetting a tombstone frees its record, yet an op older than that delete may still arrive,
//! from a client away for longer than the retention window. The server must not guess at such
//! an op, so it keeps, for each of [`BUCKETS`] buckets of record keys, the newest delete stamp
//! it forgot among the keys of that bucket. Memory stays bounded (one stamp per bucket at
//! most), and the bound an op is judged by is usually its record's own forgotten delete: few
//! keys share a bucket, so an op on a record that was never deleted is rarely held back.

use std::collections::BTreeMap;

use crate::hlc::Stamp;
use crate::ids::RecordKey;
use crate::store::Mutation;

/// How many buckets the keys are spread over.
pub(crate) const BUCKETS: u16 = 4_096;

/// Per bucket of keys, the newest forgotten delete.
#[derive(Clone, Debug, Default)]
pub(crate) struct Forgotten {
    through: BTreeMap<u16, Stamp>,
}

impl Forgotten {
    pub(crate) fn new(through: BTreeMap<u16, Stamp>) -> Forgotten {
        Forgotten { through }
    }

    /// Whether no delete has been forgotten yet: then no op can be stale.
    pub(crate) fn is_empty(&self) -> bool {
        self.through.is_empty()
    }

    /// The newest forgotten delete that may have been one of `key`'s: an op on `key` at or
    /// below it may be hidden by a delete the server no longer knows.
    pub(crate) fn through(&self, key: &RecordKey) -> Option<Stamp> {
        if self.through.is_empty() {
            return None;
        }
        self.through.get(&bucket(key)).copied()
    }

    /// Notes that the server forgot `key`'s delete at `deleted`; returns the row to persist.
    pub(crate) fn forget(&mut self, key: &RecordKey, deleted: Stamp) -> Mutation {
        let bucket = bucket(key);
        let through = self.through.entry(bucket).or_insert(deleted);
        *through = (*through).max(deleted);
        Mutation::Forgotten { bucket, through: *through }
    }
}

/// The bucket of a key: a hash, so that the same key lands in the same bucket on every machine
/// and in every build.
fn bucket(key: &RecordKey) -> u16 {
    let hash = blake3::Hasher::new()
        .update(key.collection.as_bytes())
        .update(&[0])
        .update(key.record.as_bytes())
        .finalize();
    let bytes = hash.as_bytes();
    u16::from_le_bytes([bytes[0], bytes[1]]) % BUCKETS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;

    fn stamp(wall_ms: u64) -> Stamp {
        Stamp { hlc: Hlc { wall_ms, logical: 0 }, replica: 1 }
    }

    #[test]
    fn a_forgotten_delete_bounds_its_own_key_and_keeps_the_newest() {
        let mut forgotten = Forgotten::default();
        let key = RecordKey::new("notes", "r1");
        assert_eq!(forgotten.through(&key), None);
        forgotten.forget(&key, stamp(20));
        forgotten.forget(&key, stamp(10));
        assert_eq!(forgotten.through(&key), Some(stamp(20)));
    }

    #[test]
    fn keys_that_were_never_deleted_are_mostly_not_held_back() {
        let mut forgotten = Forgotten::default();
        for i in 0..100 {
            forgotten.forget(&RecordKey::new("notes", format!("deleted-{i}")), stamp(5));
        }
        let bounded = (0..1_000)
            .filter(|i| forgotten.through(&RecordKey::new("notes", format!("kept-{i}"))).is_some())
            .count();
        // 100 of 4,096 buckets are taken: about 2.4% of other keys share one.
        assert!(bounded < 60, "{bounded} of 1,000 keys held back");
    }
}
