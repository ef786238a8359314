//! One counting vocabulary: every counter the core keeps, summed over the server's
//! incarnations and separately over the clients', from the core's `Metrics` to `summary.json`.
//! The two sides add up to the run's totals; a conflict is counted where it is decided for
//! everyone, at the server, so each conflict counts once.

use std::collections::BTreeMap;

use driftsync_core::Metrics;
use serde::{Deserialize, Serialize};

/// The core's counters of a set of nodes, summed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCounters {
    pub ops_pushed: u64,
    pub ops_pulled: u64,
    pub duplicates_dropped: u64,
    pub ops_out_of_order: u64,
    pub retries: u64,
    pub breaker_opened: u64,
    pub resyncs: u64,
    pub ops_migrated_up: u64,
    pub ops_migrated_down: u64,
    pub manifest_mismatches: u64,
    /// Pulls whose hash chain showed the server's history rewritten.
    pub history_rewrites: u64,
    pub messages_malformed: u64,
    pub clock_ahead_reports: u64,
    pub tombstones_collected: u64,
    pub clients_evicted: u64,
    pub commits: u64,
    pub push_batches: u64,
    pub pull_batches: u64,
    /// The largest any of the nodes' outboxes has been.
    pub outbox_ops_peak: u64,
    /// Message bytes sent, as sent and as they would have been uncompressed.
    pub bytes_sent: u64,
    pub bytes_sent_plain: u64,
    /// Message bytes received that decoded, as received and uncompressed.
    pub bytes_received: u64,
    pub bytes_received_plain: u64,
    /// Conflicts decided, by merge policy (`last-writer-wins`, `multi-value`, …).
    pub conflicts_by_rule: BTreeMap<String, u64>,
    /// Ops quarantined, by reason kind.
    pub quarantined_by_reason: BTreeMap<String, u64>,
    /// Passes through the core's coverage marks, by mark name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub marks: BTreeMap<String, u64>,
}

impl NodeCounters {
    /// Adds one node incarnation's counters. Every field of `Metrics` is named here, so a
    /// counter the core adds does not compile until the report carries it.
    pub fn add(&mut self, metrics: &Metrics) {
        let Metrics {
            ops_pushed,
            ops_pulled,
            duplicates_dropped,
            ops_out_of_order,
            conflicts_by_rule,
            quarantined_by_reason,
            retries,
            breaker_opened,
            resyncs,
            ops_migrated_up,
            ops_migrated_down,
            manifest_mismatches,
            history_rewrites,
            messages_malformed,
            clock_ahead_reports,
            tombstones_collected,
            clients_evicted,
            push_batch_sizes,
            pull_batch_sizes,
            outbox_ops: _, // a gauge of the moment: the peak is what a run reports
            outbox_ops_peak,
            commits,
            bytes_sent,
            bytes_sent_plain,
            bytes_received,
            bytes_received_plain,
            marks,
        } = metrics;
        for (mark, count) in marks {
            *self.marks.entry(mark.name().to_owned()).or_default() += count;
        }
        self.ops_pushed += ops_pushed;
        self.ops_pulled += ops_pulled;
        self.duplicates_dropped += duplicates_dropped;
        self.ops_out_of_order += ops_out_of_order;
        self.retries += retries;
        self.breaker_opened += breaker_opened;
        self.resyncs += resyncs;
        self.ops_migrated_up += ops_migrated_up;
        self.ops_migrated_down += ops_migrated_down;
        self.manifest_mismatches += manifest_mismatches;
        self.history_rewrites += history_rewrites;
        self.messages_malformed += messages_malformed;
        self.clock_ahead_reports += clock_ahead_reports;
        self.tombstones_collected += tombstones_collected;
        self.clients_evicted += clients_evicted;
        self.commits += commits;
        self.bytes_sent += bytes_sent;
        self.bytes_sent_plain += bytes_sent_plain;
        self.bytes_received += bytes_received;
        self.bytes_received_plain += bytes_received_plain;
        self.push_batches += push_batch_sizes.count;
        self.pull_batches += pull_batch_sizes.count;
        self.outbox_ops_peak = self.outbox_ops_peak.max(*outbox_ops_peak);
        for (rule, count) in conflicts_by_rule {
            *self.conflicts_by_rule.entry(rule.name().to_owned()).or_default() += count;
        }
        for (reason, count) in quarantined_by_reason {
            *self.quarantined_by_reason.entry(reason.clone()).or_default() += count;
        }
    }

    /// Conflicts decided, whatever the rule.
    pub fn conflicts(&self) -> u64 {
        self.conflicts_by_rule.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use driftsync_core::{MergePolicy, Metrics};

    use super::*;

    #[test]
    fn node_counters_add_every_counter_and_spell_rules_as_the_docs_do() {
        let mut metrics = Metrics {
            retries: 2,
            breaker_opened: 1,
            manifest_mismatches: 3,
            messages_malformed: 4,
            clients_evicted: 5,
            outbox_ops_peak: 9,
            ..Metrics::default()
        };
        metrics.conflicts_by_rule.insert(MergePolicy::LastWriterWins, 2);
        let mut sum = NodeCounters::default();
        sum.add(&metrics);
        metrics.outbox_ops_peak = 4;
        sum.add(&metrics);
        assert_eq!(
            (sum.retries, sum.breaker_opened, sum.manifest_mismatches, sum.messages_malformed),
            (4, 2, 6, 8)
        );
        assert_eq!(sum.clients_evicted, 10);
        assert_eq!(sum.outbox_ops_peak, 9, "a peak is the greatest, not a sum");
        assert_eq!(sum.conflicts_by_rule.get("last-writer-wins"), Some(&4));
        assert_eq!(sum.conflicts(), 4);
    }
}
