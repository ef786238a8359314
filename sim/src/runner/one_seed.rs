//! One seed: draw its plan and run it, with a panic in either turned into a failing outcome of
//! that seed, so that a sweep (or a single `run`) reports it and goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::engine::{self, RunOptions};
use crate::outcome::{Checker, Failure, Outcome, RunStats};
use crate::plan::{Plan, plan};
use crate::scenario::ScenarioSpec;
use crate::seed::Seed;

/// The plan and outcome of one seed.
#[derive(Clone, Debug)]
pub struct SeedRun {
    /// `None` only if drawing the plan panicked.
    pub plan: Option<Plan>,
    pub outcome: Outcome,
}

/// Plans and runs one seed. A panic anywhere (planning included) becomes a `panic` failure of
/// this seed rather than a crash of the caller.
pub fn run_seed(spec: &ScenarioSpec, seed: Seed, options: &RunOptions) -> SeedRun {
    match plan_guarded(spec, seed) {
        Ok(plan) => {
            let outcome = run_plan_guarded(&plan, options);
            SeedRun { plan: Some(plan), outcome }
        }
        Err(outcome) => SeedRun { plan: None, outcome: *outcome },
    }
}

/// Draws the plan of one seed, or the outcome that reports the panic that drawing it raised.
pub fn plan_guarded(spec: &ScenarioSpec, seed: Seed) -> Result<Plan, Box<Outcome>> {
    catch_unwind(|| plan(spec, seed)).map_err(|payload| {
        let detail = format!("drawing the plan panicked: {}", panic_message(&*payload));
        Box::new(panic_outcome(&spec.name, seed.0, detail))
    })
}

/// Runs a plan; a panic that escapes the engine (which catches the core's own panics) becomes a
/// `panic` failure of the run.
pub fn run_plan_guarded(plan: &Plan, options: &RunOptions) -> Outcome {
    // The plan and options are only read, and nothing of the engine's state outlives the
    // panic, so no broken invariant can be observed after unwinding.
    catch_unwind(AssertUnwindSafe(|| engine::run(plan, options))).unwrap_or_else(|payload| {
        let detail = format!("the harness panicked: {}", panic_message(&*payload));
        panic_outcome(&plan.scenario, plan.seed, detail)
    })
}

fn panic_outcome(scenario: &str, seed: u64, detail: String) -> Outcome {
    Outcome {
        scenario: scenario.to_owned(),
        seed,
        digest: String::new(),
        events: 0,
        end_ms: 0,
        heal_at_ms: 0,
        converged_at_ms: None,
        failures: vec![Failure {
            checker: Checker::Panic,
            node: None,
            record: None,
            at_ms: 0,
            event_index: 0,
            detail,
        }],
        stats: RunStats::default(),
        connects_ms: Vec::new(),
        quarantines: Vec::new(),
        trace: Vec::new(),
        measures: Default::default(),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: a panic's message survives into the failure detail, whatever its payload type.
    #[test]
    fn panic_payloads_become_readable_details() {
        let owned = catch_unwind(|| panic!("{} {}", "owned", 1)).expect_err("panics");
        assert_eq!(panic_message(&*owned), "owned 1");
        let fixed = catch_unwind(|| std::panic::panic_any("static")).expect_err("panics");
        assert_eq!(panic_message(&*fixed), "static");
        let outcome = panic_outcome("s", 3, "boom".to_owned());
        assert_eq!(outcome.failures[0].checker, Checker::Panic);
        assert!(!outcome.passed());
    }
}
