//! `summary.json`: the machine-readable report, versioned and documented field by field in
//! `reports/README.md` (a test checks the two agree). Everything under `scenarios` and
//! `timeline` is a pure function of the binary, the scenarios and the seeds; only `run` holds
//! wall-clock figures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::distribution::{Distribution, DistributionSummary};
use super::measures::METRICS;
use super::timeline::Timeline;
use crate::outcome::{Failure, Outcome};
use crate::report::seeds_digest::SeedsDigest;

/// What `schema` holds in every summary.
pub const SCHEMA_NAME: &str = "driftsync-report";
/// Raised whenever a field changes meaning or disappears; adding a field does not raise it.
pub const SCHEMA_VERSION: u32 = 2;
/// Failing seeds listed per scenario; the rest are counted in `failing_seeds_omitted`.
pub const FAILING_SEEDS_KEPT_MAX: usize = 100;
/// Failures listed per failing seed; its repro file holds them all.
pub const FAILURES_KEPT_MAX: usize = 10;

/// The whole `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub schema: String,
    pub schema_version: u32,
    pub run: RunInfo,
    pub passed: u64,
    pub failed: u64,
    pub scenarios: Vec<ScenarioSummary>,
    /// Faults against client activity; only for a single-seed run.
    pub timeline: Option<Timeline>,
}

impl Summary {
    /// The summary of finished scenarios.
    pub fn new(run: RunInfo, scenarios: &[ScenarioTotals], timeline: Option<Timeline>) -> Summary {
        let scenarios: Vec<ScenarioSummary> =
            scenarios.iter().map(ScenarioTotals::summary).collect();
        Summary {
            schema: SCHEMA_NAME.to_owned(),
            schema_version: SCHEMA_VERSION,
            run,
            passed: scenarios.iter().map(|s| s.passed).sum(),
            failed: scenarios.iter().map(|s| s.failed).sum(),
            scenarios,
            timeline,
        }
    }
}

impl Summary {
    /// Every scenario's quarantined writes, added up.
    pub fn loss(&self) -> super::Loss {
        let mut total = super::Loss::default();
        for scenario in &self.scenarios {
            total.add(&scenario.loss());
        }
        total
    }
}

impl ScenarioSummary {
    /// The scenario's quarantined writes, from its counters.
    pub fn loss(&self) -> super::Loss {
        super::Loss::of_counters(&self.counters)
    }
}

/// How the report came about: the only part that differs between two identical runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    /// `run`, `sweep` or `merge`.
    pub command: String,
    pub harness_version: String,
    /// When the report was written, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_utc: String,
    pub seeds_start: u64,
    pub seeds_count: u64,
    /// The shards the report covers, as `K/N`; a merged report lists every input's shards.
    pub shards: Vec<String>,
    pub jobs: u64,
    pub wall_s: f64,
}

/// One scenario's seeds, added up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSummary {
    pub name: String,
    pub path: String,
    pub passed: u64,
    pub failed: u64,
    /// XOR over seeds of BLAKE3(seed, trace digest), first 16 bytes in hex: independent of
    /// order and sharding, so a merged report has the digest of the unsharded run.
    pub seeds_digest: String,
    pub events: u64,
    pub simulated_ms: u64,
    pub failing_seeds: Vec<FailingSeed>,
    pub failing_seeds_omitted: u64,
    /// By metric key (see [`METRICS`]).
    pub distributions: BTreeMap<String, DistributionSummary>,
    /// Every counter of the runs, summed: plain numbers, or maps from a name to a number.
    pub counters: Map<String, Value>,
    /// Conflict decisions per record, summed over seeds and replicas.
    pub conflicts_by_record: BTreeMap<String, u64>,
}

/// A seed that failed, with the command that replays it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailingSeed {
    pub seed: u64,
    pub digest: String,
    pub replay: String,
    pub failures_count: u64,
    pub failures: Vec<Failure>,
}

/// One scenario's running totals while its seeds arrive; histograms are merged as they come, so
/// memory does not grow with the number of seeds.
#[derive(Clone, Debug)]
pub struct ScenarioTotals {
    pub name: String,
    pub path: String,
    pub passed: u64,
    pub failed: u64,
    seeds_digest: SeedsDigest,
    pub events: u64,
    pub simulated_ms: u64,
    pub failing_seeds: Vec<FailingSeed>,
    pub failing_seeds_omitted: u64,
    pub distributions: BTreeMap<String, Distribution>,
    pub counters: Map<String, Value>,
    pub conflicts_by_record: BTreeMap<String, u64>,
}

impl ScenarioTotals {
    pub fn new(name: &str, path: &str) -> ScenarioTotals {
        ScenarioTotals {
            name: name.to_owned(),
            path: path.to_owned(),
            passed: 0,
            failed: 0,
            seeds_digest: SeedsDigest::default(),
            events: 0,
            simulated_ms: 0,
            failing_seeds: Vec::new(),
            failing_seeds_omitted: 0,
            distributions: METRICS
                .iter()
                .map(|(key, ..)| (key.to_string(), Distribution::new()))
                .collect(),
            counters: Map::new(),
            conflicts_by_record: BTreeMap::new(),
        }
    }

    /// Adds one seed; `replay` is the command that replays it if it failed.
    pub fn add(&mut self, outcome: &Outcome, replay: Option<String>) {
        if outcome.passed() {
            self.passed += 1;
        } else {
            self.failed += 1;
            let replay = replay.unwrap_or_default();
            self.keep_failing(vec![FailingSeed {
                seed: outcome.seed,
                digest: outcome.digest.clone(),
                replay,
                failures_count: outcome.failures.len() as u64,
                failures: outcome.failures.iter().take(FAILURES_KEPT_MAX).cloned().collect(),
            }]);
        }
        self.seeds_digest.add(outcome.seed, &outcome.digest);
        self.events += outcome.events;
        self.simulated_ms += outcome.simulated_ms();
        let measures = &outcome.measures;
        for (key, distribution) in &measures.distributions {
            self.distributions.entry((*key).to_owned()).or_default().merge(distribution);
        }
        add_counters(&mut self.counters, &seed_counters(outcome));
        for (record, count) in &measures.conflicts_by_record {
            *self.conflicts_by_record.entry(record.clone()).or_default() += count;
        }
    }

    /// Adds another part of the same scenario (another shard).
    pub fn merge(&mut self, other: ScenarioTotals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.seeds_digest.merge(other.seeds_digest);
        self.events += other.events;
        self.simulated_ms += other.simulated_ms;
        self.failing_seeds_omitted += other.failing_seeds_omitted;
        self.keep_failing(other.failing_seeds);
        for (key, distribution) in &other.distributions {
            self.distributions.entry(key.clone()).or_default().merge(distribution);
        }
        add_counters(&mut self.counters, &other.counters);
        for (record, count) in other.conflicts_by_record {
            *self.conflicts_by_record.entry(record).or_default() += count;
        }
    }

    pub fn summary(&self) -> ScenarioSummary {
        let unit = |key: &str| METRICS.iter().find(|(k, ..)| *k == key).map_or("", |(_, u, _)| u);
        ScenarioSummary {
            name: self.name.clone(),
            path: self.path.clone(),
            passed: self.passed,
            failed: self.failed,
            seeds_digest: self.seeds_digest.to_hex(),
            events: self.events,
            simulated_ms: self.simulated_ms,
            failing_seeds: self.failing_seeds.clone(),
            failing_seeds_omitted: self.failing_seeds_omitted,
            distributions: self
                .distributions
                .iter()
                .map(|(key, d)| (key.clone(), d.summary(unit(key))))
                .collect(),
            counters: self.counters.clone(),
            conflicts_by_record: self.conflicts_by_record.clone(),
        }
    }

    /// The running totals a summary was written from.
    pub fn from_summary(summary: &ScenarioSummary) -> Result<ScenarioTotals, String> {
        let seeds_digest = SeedsDigest::from_hex(&summary.seeds_digest).ok_or_else(|| {
            format!("scenario {}: seeds_digest is not 32 hex digits", summary.name)
        })?;
        Ok(ScenarioTotals {
            name: summary.name.clone(),
            path: summary.path.clone(),
            passed: summary.passed,
            failed: summary.failed,
            seeds_digest,
            events: summary.events,
            simulated_ms: summary.simulated_ms,
            failing_seeds: summary.failing_seeds.clone(),
            failing_seeds_omitted: summary.failing_seeds_omitted,
            distributions: summary
                .distributions
                .iter()
                .map(|(key, d)| (key.clone(), d.distribution()))
                .collect(),
            counters: summary.counters.clone(),
            conflicts_by_record: summary.conflicts_by_record.clone(),
        })
    }

    /// Keeps the failing seeds in seed order, at most [`FAILING_SEEDS_KEPT_MAX`].
    fn keep_failing(&mut self, more: Vec<FailingSeed>) {
        self.failing_seeds.extend(more);
        self.failing_seeds.sort_by_key(|seed| seed.seed);
        let overflow = self.failing_seeds.len().saturating_sub(FAILING_SEEDS_KEPT_MAX);
        self.failing_seeds.truncate(FAILING_SEEDS_KEPT_MAX);
        self.failing_seeds_omitted += overflow as u64;
    }
}

/// The counters of one seed: the run's stats plus what only the engine's observer saw.
fn seed_counters(outcome: &Outcome) -> Map<String, Value> {
    let mut counters = match serde_json::to_value(&outcome.stats) {
        Ok(Value::Object(map)) => map,
        // RunStats is a struct of numbers and maps of numbers: it always serialises to an
        // object. Should that ever change, the report shows no counters rather than failing.
        _ => Map::new(),
    };
    let measures = &outcome.measures;
    counters
        .insert(super::coverage::SEEDS_COVERING.to_owned(), super::coverage::seed_counter(outcome));
    counters.insert("writes_never_acked".to_owned(), measures.writes_never_acked.into());
    counters.insert(
        "writes_not_visible_everywhere".to_owned(),
        measures.writes_not_visible_everywhere.into(),
    );
    counters
        .insert("seeds_converged".to_owned(), u64::from(outcome.converged_at_ms.is_some()).into());
    counters
}

/// Adds `more` into `sum`: numbers add, objects add key by key, anything else is replaced.
pub fn add_counters(sum: &mut Map<String, Value>, more: &Map<String, Value>) {
    for (key, value) in more {
        match (sum.get_mut(key), value) {
            (Some(Value::Number(a)), Value::Number(b)) => {
                let total = a.as_u64().unwrap_or(0).saturating_add(b.as_u64().unwrap_or(0));
                *a = total.into();
            }
            (Some(Value::Object(a)), Value::Object(b)) => add_counters(a, b),
            _ => {
                sum.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: counters add key by key, nested maps included, whatever fields RunStats grows.
    #[test]
    fn counters_add_numbers_and_nested_maps() {
        let mut sum = serde_json::json!({"retries": 2, "faults": {"crash": 1}});
        let more =
            serde_json::json!({"retries": 3, "faults": {"crash": 1, "offline": 4}, "new": 7});
        let (Value::Object(sum_map), Value::Object(more_map)) = (&mut sum, &more) else {
            unreachable!("both literals are objects");
        };
        add_counters(sum_map, more_map);
        assert_eq!(
            sum,
            serde_json::json!({"retries": 5, "faults": {"crash": 2, "offline": 4}, "new": 7})
        );
    }
}
