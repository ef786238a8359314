//! Scenario files: TOML → validated [`ScenarioSpec`] → one seed's concrete [`Params`].
//!
//! A scalar value is fixed; a two-element array `[lo, hi]` is drawn per seed (swarm testing),
//! see [`Range`]. Every problem with a file is a [`ScenarioError`] naming the file, the line and
//! the dotted field path, e.g.
//! ``scenarios/x.toml:12: field `network.loss`: must be within [0, 1], found 1.5``.
//!
//! ```
//! use std::path::Path;
//! use driftsync_sim::scenario::ScenarioSpec;
//! use driftsync_sim::seed::Seed;
//!
//! let text = "name = \"tiny\"\n[topology]\nclients = [2, 4]\n";
//! let spec = ScenarioSpec::from_toml_str(Path::new("tiny.toml"), text).expect("valid scenario");
//! let params = spec.draw(Seed(42));
//! assert!((2..=4).contains(&params.clients));
//! ```

mod app;
mod draw;
mod error;
pub mod limits;
mod params;
mod range;
mod rollout;
mod security;
mod source;
mod spec;
mod validate;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use app::{AppSpec, CollectionWorkload, KeyChoice};
pub use error::ScenarioError;
pub use params::{
    ClockParams, CrashParams, NetworkParams, NodeClock, OfflineParams, Params, PartitionParams,
    WorkloadParams,
};
pub use range::{Bound, Range};
pub use rollout::{SCHEMA_VERSION_MAX, SchemaParams, SchemaSpec, ServerVersions};
pub use security::{HostileKind, SecuritySpec};
pub use spec::{
    ClientSettings, ClocksSpec, CoverageSpec, CrashesSpec, FaultsSpec, Mix, NetworkSpec,
    OfflineSpec, PartitionKind, PartitionsSpec, RunSettings, ScenarioSpec, ServerSettings,
    TopologySpec, WorkloadSpec,
};

/// A scenario and the file it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file, as found (a directory argument is joined with the file name).
    pub path: PathBuf,
    /// The validated contents.
    pub spec: ScenarioSpec,
}

impl Scenario {
    /// Reads and validates one scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| file_error(path, format!("cannot read the file: {error}")))?;
        let spec = ScenarioSpec::from_toml_str(path, &text)?;
        Ok(Scenario { path: path.to_owned(), spec })
    }
}

/// Loads scenarios from files and directories, in argument order; a directory contributes every
/// `*.toml` file directly inside it except `Cargo.toml`, sorted by file name. Two scenarios may
/// not share a name, because the name is what a repro command uses to find its scenario.
pub fn load_scenarios(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    let mut scenarios: Vec<Scenario> = Vec::new();
    for path in paths {
        let files = if path.is_dir() { toml_files_in(path)? } else { vec![path.clone()] };
        for file in files {
            let scenario = Scenario::load(&file)?;
            if let Some(earlier) = scenarios.iter().find(|s| s.spec.name == scenario.spec.name) {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                return Err(ScenarioError {
                    line: name_line(&text),
                    file,
                    field: "name".to_owned(),
                    message: format!(
                        "scenario \"{}\" is already defined in {}",
                        scenario.spec.name,
                        earlier.path.display()
                    ),
                });
            }
            scenarios.push(scenario);
        }
    }
    Ok(scenarios)
}

impl ScenarioSpec {
    /// Parses and validates one scenario; `file` is only used to name it in errors.
    pub fn from_toml_str(file: &Path, text: &str) -> Result<ScenarioSpec, ScenarioError> {
        let (root, syntax_errors) = toml::de::DeTable::parse_recoverable(text);
        let map = source::SourceMap::new(text, &root);
        let located =
            |line, field, message| ScenarioError { file: file.to_owned(), line, field, message };
        if let Some(error) = syntax_errors.first() {
            let (line, field, message) = source::locate_toml_error(&map, error);
            return Err(located(line, field, format!("invalid TOML: {message}")));
        }
        let mut spec = ScenarioSpec::deserialize(toml::de::Deserializer::from(root.clone()))
            .map_err(|error| {
                let (line, field, message) = source::locate_toml_error(&map, &error);
                located(line, field, message)
            })?;
        let mut versions = (1, SCHEMA_VERSION_MAX);
        if let Some(app) = &mut spec.app {
            let lineage = app::resolve(file, app, &|field| map.line_of_field(field))?;
            versions = (lineage.first(), lineage.latest());
            // The app's collections are the ones written; `workload.collections` names the
            // demo app's.
            spec.workload.collections = app.written_collections(&lineage);
        }
        validate::validate(&spec, versions).map_err(|violation| {
            located(map.line_of_field(&violation.field), violation.field, violation.message)
        })?;
        Ok(spec)
    }
}

fn toml_files_in(directory: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let entries = std::fs::read_dir(directory)
        .map_err(|error| file_error(directory, format!("cannot list the directory: {error}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| {
            file_error(directory, format!("cannot list the directory: {error}"))
        })?;
        let path = entry.path();
        let is_toml = path.extension().is_some_and(|extension| extension == "toml");
        // The shipped scenarios directory is also a Cargo package; its manifest is no scenario.
        let is_manifest = path.file_name().is_some_and(|name| name == "Cargo.toml");
        if path.is_file() && is_toml && !is_manifest {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    if files.is_empty() {
        return Err(file_error(directory, "the directory holds no *.toml scenario files"));
    }
    Ok(files)
}

fn file_error(path: &Path, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        file: path.to_owned(),
        line: None,
        field: String::new(),
        message: message.into(),
    }
}

fn name_line(text: &str) -> Option<usize> {
    let (root, _) = toml::de::DeTable::parse_recoverable(text);
    source::SourceMap::new(text, &root).line_of_field("name")
}
