//! The one error a scenario file can produce: what is wrong, in which file, on which line, in
//! which field.

use std::fmt;
use std::path::PathBuf;

/// A scenario file that cannot be read, parsed or accepted.
///
/// Blame: always the scenario's author (or the caller who named a missing file). Recovery: fix
/// the named field at the named line; nothing was run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file, as the caller named it.
    pub file: PathBuf,
    /// The 1-based line of the offending key or value; `None` when no line applies (an
    /// unreadable file, or a required key that is absent from the whole document).
    pub line: Option<usize>,
    /// The dotted path of the offending field (`network.loss`, `workload.collections[1]`);
    /// empty when the problem is the file itself.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// A broken rule found by validation, before it is located in the source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    pub(crate) field: String,
    pub(crate) message: String,
}

impl Violation {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Violation { field: field.into(), message: message.into() }
    }
}
