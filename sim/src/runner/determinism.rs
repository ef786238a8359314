//! The determinism check as a library: run each seed twice, from planning on, and compare the
//! trace digests; on a mismatch, name the first event where the two runs parted.

use std::cell::RefCell;
use std::ops::Range;
use std::time::Duration;

use super::one_seed::run_seed;
use super::pool;
use super::progress::Progress;
use super::shard::{SelectedSeeds, Shard};
use super::sweep::{JOBS_MAX, item, items_count};
use crate::engine::{RunOptions, TraceEntry};
use crate::scenario::Scenario;
use crate::seed::Seed;

/// What two runs of one seed showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Both runs produced the same digest.
    Same,
    /// The digests differ; the first differing event, if the traces show one.
    Differs(Option<TraceDifference>),
    /// The harness panicked, so there was no trace to compare; the panic's detail.
    Panicked(String),
}

/// Where two traces of one seed first part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceDifference {
    /// Event `first.index` differs between the first and the second run.
    Event { first: TraceEntry, second: TraceEntry },
    /// One run stopped after `common_count` events while the other went on with `next`.
    Length { common_count: u64, next: TraceEntry, longer_is_second: bool },
}

/// The check of one seed.
#[derive(Clone, Debug)]
pub struct DeterminismResult {
    /// Index into the scenarios the check was given.
    pub scenario_index: usize,
    pub seed: u64,
    pub first_digest: String,
    pub second_digest: String,
    pub verdict: Verdict,
}

impl DeterminismResult {
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Same
    }
}

/// Checks every seed of `seeds` that `shard` selects, for every scenario, on `jobs` threads,
/// handing each result to `on_result` in scenario-then-seed order; returns the wall time.
pub fn check_each(
    scenarios: &[Scenario],
    seeds: Range<u64>,
    shard: Shard,
    jobs: usize,
    progress: bool,
    mut on_result: impl FnMut(DeterminismResult),
) -> Duration {
    let selected = SelectedSeeds::new(seeds, shard);
    let count = items_count(scenarios.len(), selected.len());
    let options = RunOptions { record_trace: true, ..RunOptions::default() };
    // Both the collector and its idle callback update the display, one at a time.
    let display = RefCell::new(Progress::new(count as u64, progress));
    let work = |index: usize| {
        let (scenario_index, seed) = item(&selected, index);
        let spec = &scenarios[scenario_index].spec;
        let first = run_seed(spec, Seed(seed), &options).outcome;
        let second = run_seed(spec, Seed(seed), &options).outcome;
        let verdict =
            if let Some(panicked) = [&first, &second].into_iter().find(|o| o.digest.is_empty()) {
                // Only a harness panic leaves the digest empty: the engine digests even the runs
                // whose core panicked, so those are compared like any other run.
                let detail = panicked.failures.first().map(|failure| failure.detail.clone());
                Verdict::Panicked(detail.unwrap_or_default())
            } else if first.digest == second.digest {
                Verdict::Same
            } else {
                Verdict::Differs(first_difference(&first.trace, &second.trace))
            };
        DeterminismResult {
            scenario_index,
            seed,
            first_digest: first.digest,
            second_digest: second.digest,
            verdict,
        }
    };
    let consume = |_: usize, result: DeterminismResult| {
        display.borrow_mut().finished(result.passed());
        on_result(result);
    };
    let jobs = jobs.clamp(1, JOBS_MAX as usize);
    pool::run_ordered(count, jobs, work, consume, || display.borrow_mut().tick());
    display.borrow().elapsed()
}

/// The first event where two traces differ in time, hash or description; `None` if they agree
/// event for event.
pub fn first_difference(first: &[TraceEntry], second: &[TraceEntry]) -> Option<TraceDifference> {
    let differs = |a: &TraceEntry, b: &TraceEntry| {
        a.at_ms != b.at_ms || a.hash != b.hash || a.description != b.description
    };
    if let Some((a, b)) = first.iter().zip(second).find(|(a, b)| differs(a, b)) {
        return Some(TraceDifference::Event { first: a.clone(), second: b.clone() });
    }
    let common_count = first.len().min(second.len());
    let (longer, longer_is_second) =
        if first.len() > second.len() { (first, false) } else { (second, true) };
    longer.get(common_count).map(|next| TraceDifference::Length {
        common_count: common_count as u64,
        next: next.clone(),
        longer_is_second,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, hash: u64, description: &str) -> TraceEntry {
        TraceEntry { index, at_ms: index * 10, hash, description: description.to_owned() }
    }

    /// Goal: the report points at the first divergent event, not at a later consequence.
    #[test]
    fn the_first_differing_event_is_named() {
        let first = [entry(0, 1, "a"), entry(1, 2, "b"), entry(2, 3, "c")];
        let second = [entry(0, 1, "a"), entry(1, 9, "b'"), entry(2, 8, "c'")];
        assert_eq!(
            first_difference(&first, &second),
            Some(TraceDifference::Event { first: first[1].clone(), second: second[1].clone() })
        );
        assert_eq!(first_difference(&first, &first), None);
    }

    /// Goal: a run that stops early is reported at the event the other run went on with.
    #[test]
    fn a_shorter_trace_is_reported_where_it_ends() {
        let long = [entry(0, 1, "a"), entry(1, 2, "b")];
        assert_eq!(
            first_difference(&long[..1], &long),
            Some(TraceDifference::Length {
                common_count: 1,
                next: long[1].clone(),
                longer_is_second: true
            })
        );
    }
}
