//! Internal invariants: what must hold between any two inputs of a state machine.
//!
//! [`Client::check_invariants`](crate::Client::check_invariants) and
//! [`Server::check_invariants`](crate::Server::check_invariants) check them against the node's
//! own state; `check_durable` on each compares what the node holds in memory with what its
//! store holds. A host calls them where it can afford to (the simulator, after every input);
//! a broken one names itself, so a failure points at the input that broke it rather than at
//! the symptom much later.

use std::fmt;

/// A broken invariant: its name, and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantViolation {
    /// A stable snake_case name, as in the docs of the check that found it.
    pub invariant: &'static str,
    pub detail: String,
}

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant `{}` broken: {}", self.invariant, self.detail)
    }
}

impl std::error::Error for InvariantViolation {}

/// `Err` naming `invariant` unless `holds`; the detail is built only on failure.
pub(crate) fn ensure(
    holds: bool,
    invariant: &'static str,
    detail: impl FnOnce() -> String,
) -> Result<(), InvariantViolation> {
    match holds {
        true => Ok(()),
        false => Err(InvariantViolation { invariant, detail: detail() }),
    }
}
