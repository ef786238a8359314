//! The workspace's style, checked by machine, as TigerBeetle's `tidy` checks its own: a rule a
//! reviewer has to remember is a rule that erodes. `cargo test` runs every check over every
//! Rust file of the workspace (see `tests/workspace_is_tidy.rs`) and names each offender by
//! path and line: lines, files and functions past their length, `unwrap()` outside tests,
//! public functions nothing calls, and core modules that use one of their own layer or above
//! (the order is in `layers.rs`).
//!
//! The checks read source text, not a syntax tree, so they rely on what `cargo fmt` guarantees:
//! a function's closing brace sits alone on a line at the indentation of its `fn`, and a test
//! module starts at a `#[cfg(test)]` line at the start of a line and runs to the end of its
//! file.

mod callers;
mod layers;
mod scan;

use std::fmt;
use std::path::{Path, PathBuf};

pub use callers::uncalled_functions;
pub use layers::layer_breaches;
pub use scan::{check_file, workspace_sources};

/// Columns a line may span; rustfmt keeps code within it, so only long literals and comments
/// can pass it.
pub const LINE_COLUMNS_MAX: usize = 100;
/// Lines a file may hold: past it, a file holds more than one idea.
pub const FILE_LINES_MAX: usize = 600;
/// Lines a function may span, its signature and closing brace included.
pub const FUNCTION_LINES_MAX: usize = 70;

/// One Rust file of the workspace.
#[derive(Debug)]
pub struct Source {
    /// The path relative to the workspace root, with `/` separators.
    pub path: String,
    pub text: String,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Source {
        Source { path: path.into(), text: text.into() }
    }

    /// Whether the whole file is test or benchmark code, where `unwrap()` says what it means.
    fn is_test_code(&self) -> bool {
        let test_dirs = ["/tests/", "/benches/", "tests/", "benches/"];
        test_dirs.iter().any(|dir| self.path.starts_with(dir) || self.path.contains(dir))
            || self.path.ends_with("/tests.rs")
    }
}

/// The rule an offender breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    LineTooLong,
    FileTooLong,
    FunctionTooLong,
    UnwrapOutsideTests,
    FunctionWithoutCaller,
    LayerBreach,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::LineTooLong => "line too long",
            Rule::FileTooLong => "file too long",
            Rule::FunctionTooLong => "function too long",
            Rule::UnwrapOutsideTests => "unwrap() outside tests",
            Rule::FunctionWithoutCaller => "public function without a caller",
            Rule::LayerBreach => "core layer breached",
        }
    }
}

/// A place that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Offence {
    pub path: String,
    /// 1-based.
    pub line: usize,
    pub rule: Rule,
    pub detail: String,
}

impl fmt::Display for Offence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.path, self.line, self.rule.name(), self.detail)
    }
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().map_or_else(|| here.to_path_buf(), Path::to_path_buf)
}

#[cfg(test)]
mod tests;
