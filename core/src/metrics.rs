//! Counters a host reads to see what a node has been doing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::coverage::Mark;
use crate::merge::MergePolicy;

/// Counters of one node. Every field only grows, except `outbox_ops` which is a gauge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Ops sent in push batches (clients) or accepted from them (server), resends included.
    pub ops_pushed: u64,
    /// Ops applied from pull batches (clients) or served in them (server).
    pub ops_pulled: u64,
    /// Ops that had already been applied and were dropped.
    pub duplicates_dropped: u64,
    /// Ops received beyond a gap in their writer's seqs, left for the writer to resend.
    pub ops_out_of_order: u64,
    pub conflicts_by_rule: BTreeMap<MergePolicy, u64>,
    pub quarantined_by_reason: BTreeMap<String, u64>,
    /// Requests resent after a timeout, and reconnects after a failure.
    pub retries: u64,
    pub breaker_opened: u64,
    pub resyncs: u64,
    /// Ops translated from an older schema version to a newer one (server: pushes from older
    /// clients; client: local writes queued under an older version, migrated after an upgrade).
    pub ops_migrated_up: u64,
    /// Ops translated down to an older client's schema version before they were served.
    pub ops_migrated_down: u64,
    pub manifest_mismatches: u64,
    /// Pulls whose hash chain did not extend what the client had pulled before.
    pub history_rewrites: u64,
    pub messages_malformed: u64,
    /// Remote stamps further ahead of the local wall clock than the configured bound.
    pub clock_ahead_reports: u64,
    pub tombstones_collected: u64,
    pub clients_evicted: u64,
    /// Push and pull batch sizes, in power-of-two buckets: bucket `i` counts batches of
    /// `[2^i, 2^(i+1))` ops (bucket 0 also counts empty batches).
    pub push_batch_sizes: BatchSizes,
    pub pull_batch_sizes: BatchSizes,
    /// Ops waiting in the outbox now.
    pub outbox_ops: u64,
    /// The largest the outbox has been.
    pub outbox_ops_peak: u64,
    pub commits: u64,
    /// Message bytes handed to the host to send, and what they would have been uncompressed.
    pub bytes_sent: u64,
    pub bytes_sent_plain: u64,
    /// Message bytes received (those that decoded), and what they were uncompressed.
    pub bytes_received: u64,
    pub bytes_received_plain: u64,
    /// How often the node passed through each situation that matters (see [`Mark`]).
    #[serde(default)]
    pub marks: BTreeMap<Mark, u64>,
}

/// A small fixed histogram of batch sizes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSizes {
    pub buckets: [u64; 16],
    pub count: u64,
    pub ops_total: u64,
}

impl BatchSizes {
    pub fn record(&mut self, ops: usize) {
        let bucket = (usize::BITS - ops.max(1).leading_zeros() - 1) as usize;
        self.buckets[bucket.min(self.buckets.len() - 1)] += 1;
        self.count += 1;
        self.ops_total += ops as u64;
    }
}

impl Metrics {
    pub(crate) fn conflict(&mut self, rule: MergePolicy) {
        *self.conflicts_by_rule.entry(rule).or_default() += 1;
    }

    /// Counts one pass through `mark`'s situation.
    pub(crate) fn mark(&mut self, mark: Mark) {
        *self.marks.entry(mark).or_default() += 1;
    }

    pub(crate) fn quarantined(&mut self, kind: &str) {
        *self.quarantined_by_reason.entry(kind.to_owned()).or_default() += 1;
    }

    pub(crate) fn sent(&mut self, wire_bytes: usize, plain_bytes: usize) {
        self.bytes_sent += wire_bytes as u64;
        self.bytes_sent_plain += plain_bytes as u64;
    }

    pub(crate) fn received(&mut self, wire_bytes: usize, plain_bytes: usize) {
        self.bytes_received += wire_bytes as u64;
        self.bytes_received_plain += plain_bytes as u64;
    }

    pub(crate) fn set_outbox(&mut self, ops: usize) {
        self.outbox_ops = ops as u64;
        self.outbox_ops_peak = self.outbox_ops_peak.max(self.outbox_ops);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_sizes_fall_into_power_of_two_buckets() {
        let mut sizes = BatchSizes::default();
        for ops in [0, 1, 2, 3, 4, 100] {
            sizes.record(ops);
        }
        assert_eq!(&sizes.buckets[..7], &[2, 2, 1, 0, 0, 0, 1]);
        assert_eq!(sizes.count, 6);
        assert_eq!(sizes.ops_total, 110);
    }
}
