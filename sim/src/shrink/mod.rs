//! Shrinking a failing run: edit its plan smaller, rerun it, and keep each edit after which the
//! same checker still fails, until no edit is kept (or the budget is spent).
//!
//! The edits, in the order each round tries them: drop a client, drop faults (a start with its
//! end), drop writes, drop hostile attempts, make the network clean and the clocks true,
//! shorten partitions, offline periods and downtimes, and make values plain. Faults, writes and
//! attempts are dropped in halves, then quarters, and so on down to one at a time (the
//! delta-debugging schedule), so a failure that needs two writes out of a thousand is found in
//! a few hundred runs rather than a million.
//!
//! The search is deterministic: the same plan, sabotage and build try the same candidates in
//! the same order and keep the same ones. A budget that runs out stops it early, and then how
//! far it got depends on the machine's speed; [`Budget::runs_max`] bounds it by runs instead,
//! which is the same everywhere.
//!
//! Shrinking only reruns plans; it never reads a clock inside a run. Its wall-clock budget is
//! the caller's [`Stopwatch`], like a sweep's progress line.

mod edits;

#[cfg(test)]
mod tests;

use std::ops::Range;
use std::time::Duration;

use crate::engine::{RunOptions, Sabotage};
use crate::outcome::{Checker, Outcome};
use crate::plan::Plan;
use crate::runner::one_seed::run_plan_guarded;
use crate::runner::progress::Stopwatch;

/// When to stop looking for a smaller run.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Wall time after which the smallest plan found so far is the result.
    pub wall: Option<Duration>,
    /// Runs after which the smallest plan found so far is the result.
    pub runs_max: u64,
}

/// What a plan does, counted as the shrinker reduces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Faults, a start and its end counted once.
    pub faults: usize,
    pub writes: usize,
    pub clients: u32,
    /// Hostile peers' attempts.
    pub attacks: usize,
}

impl Size {
    pub fn of(plan: &Plan) -> Size {
        Size {
            faults: edits::faults_count(plan),
            writes: plan.workload.len(),
            clients: plan.params.clients,
            attacks: plan.attacks.len(),
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} faults, {} writes, {} clients, {} hostile attempts",
            self.faults, self.writes, self.clients, self.attacks
        )
    }
}

/// The result of a shrink.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The checker that failed in the original run and still fails in `plan`'s.
    pub checker: Checker,
    pub before: Size,
    /// The smallest plan found, and its run's outcome.
    pub plan: Plan,
    pub outcome: Outcome,
    /// Plans run, the original's rerun included.
    pub runs: u64,
    /// Whether no edit of `plan` keeps the failure (false: the budget ran out first).
    pub minimal: bool,
}

/// Why nothing could be shrunk.
#[derive(Debug, PartialEq, Eq)]
pub enum ShrinkError {
    /// The original run recorded no failure.
    NoFailure,
    /// Rerun with this build, the original plan no longer fails the checker it recorded.
    DoesNotReproduce { checker: Checker },
}

impl std::fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShrinkError::NoFailure => f.write_str("the run recorded no failure: nothing to shrink"),
            ShrinkError::DoesNotReproduce { checker } => write!(
                f,
                "rerun with this build, the plan no longer fails `{checker}`: nothing to shrink"
            ),
        }
    }
}

impl std::error::Error for ShrinkError {}

/// Shrinks `plan`, whose run failed `failed` first, keeping that checker failing. `progress`
/// hears of every smaller plan found, with the runs so far.
pub fn shrink(
    plan: &Plan,
    sabotage: Option<Sabotage>,
    failed: Option<Checker>,
    budget: Budget,
    progress: &mut dyn FnMut(Size, u64),
) -> Result<Shrunk, ShrinkError> {
    let checker = failed.ok_or(ShrinkError::NoFailure)?;
    let options = RunOptions { sabotage, ..RunOptions::default() };
    let outcome = run_plan_guarded(plan, &options);
    if !fails(&outcome, checker) {
        return Err(ShrinkError::DoesNotReproduce { checker });
    }
    let mut search = Search {
        checker,
        options,
        budget,
        stopwatch: Stopwatch::start(),
        runs: 1,
        best: plan.clone(),
        outcome,
        progress,
    };
    let minimal = search.run_to_fixpoint();
    Ok(Shrunk {
        checker,
        before: Size::of(plan),
        plan: search.best,
        outcome: search.outcome,
        runs: search.runs,
        minimal,
    })
}

fn fails(outcome: &Outcome, checker: Checker) -> bool {
    outcome.failures.iter().any(|failure| failure.checker == checker)
}

/// What a range search does with each range it tries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    Remove,
    Edit,
}

/// The state of one shrink: the smallest failing plan so far and what was spent finding it.
struct Search<'a> {
    checker: Checker,
    options: RunOptions,
    budget: Budget,
    stopwatch: Stopwatch,
    runs: u64,
    best: Plan,
    outcome: Outcome,
    progress: &'a mut dyn FnMut(Size, u64),
}

impl Search<'_> {
    /// Rounds of every edit until a round keeps none; false if the budget ends it first.
    fn run_to_fixpoint(&mut self) -> bool {
        loop {
            let mut kept = self.drop_clients();
            let groups = |p: &Plan| edits::fault_groups(&p.faults).len();
            kept |=
                self.chunks(Cut::Remove, groups, |p, r| Some(edits::without_fault_groups(p, r)));
            let writes = |p: &Plan| p.workload.len();
            kept |= self.chunks(Cut::Remove, writes, |p, r| Some(edits::without_writes(p, r)));
            let attacks = |p: &Plan| p.attacks.len();
            kept |= self.chunks(Cut::Remove, attacks, |p, r| Some(edits::without_attacks(p, r)));
            kept |= self.try_edit(edits::with_clean_network);
            kept |= self.try_edit(edits::with_true_clocks);
            kept |= self.shorten_faults();
            kept |= self.chunks(Cut::Edit, writes, edits::with_plain_values);
            if self.spent() {
                return false;
            }
            if !kept {
                return true;
            }
        }
    }

    fn spent(&self) -> bool {
        self.runs >= self.budget.runs_max
            || self.budget.wall.is_some_and(|wall| self.stopwatch.elapsed() >= wall)
    }

    /// Runs `candidate` and keeps it if the checker still fails; false once the budget is spent.
    fn try_plan(&mut self, candidate: Plan) -> bool {
        if self.spent() {
            return false;
        }
        self.runs += 1;
        let outcome = run_plan_guarded(&candidate, &self.options);
        if !fails(&outcome, self.checker) {
            return false;
        }
        self.best = candidate;
        self.outcome = outcome;
        (self.progress)(Size::of(&self.best), self.runs);
        true
    }

    fn try_edit(&mut self, edit: impl Fn(&Plan) -> Option<Plan>) -> bool {
        edit(&self.best).is_some_and(|candidate| self.try_plan(candidate))
    }

    /// The clients from the last to the first, each dropped if the failure survives it.
    fn drop_clients(&mut self) -> bool {
        let mut kept = false;
        for client in (1..=self.best.params.clients).rev() {
            kept |= self.try_edit(|plan| edits::without_client(plan, client));
        }
        kept
    }

    /// Cuts ranges of the items `len` counts, halving the range length down to one item. A
    /// range whose removal (`Cut::Remove`) keeps the failure is gone and the next range takes
    /// its place; a range edited in place (`Cut::Edit`) is passed either way.
    fn chunks(
        &mut self,
        cut: Cut,
        len: impl Fn(&Plan) -> usize,
        edit: impl Fn(&Plan, Range<usize>) -> Option<Plan>,
    ) -> bool {
        let mut kept = false;
        let mut chunk = len(&self.best).div_ceil(2);
        while chunk > 0 && !self.spent() {
            let mut start = 0;
            while start < len(&self.best) && !self.spent() {
                let range = start..(start + chunk).min(len(&self.best));
                let end = range.end;
                let accepted = self.try_edit(|plan| edit(plan, range.clone()));
                kept |= accepted;
                // A removed range's place is taken by the items after it.
                if !(accepted && cut == Cut::Remove) {
                    start = end;
                }
            }
            chunk = if chunk == 1 { 0 } else { chunk.div_ceil(2) };
        }
        kept
    }

    /// Halves each partition, offline period and downtime while the failure survives.
    fn shorten_faults(&mut self) -> bool {
        let mut kept = false;
        let mut group = 0;
        while group < edits::fault_groups(&self.best.faults).len() && !self.spent() {
            if self.try_edit(|plan| edits::shortened(plan, group, 0.5)) {
                kept = true;
            } else {
                group += 1;
            }
        }
        kept
    }
}
