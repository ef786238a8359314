//! Repro files: everything needed to rerun one failing seed exactly, as one JSON document.
//!
//! A repro stores the whole [`Plan`] (drawn parameters, the explicit fault schedule and the
//! workload), so a replay never re-derives anything from a scenario file that may have changed
//! since. It also records the sabotage, if any, and the digest and failures of the original run,
//! so `driftsync replay` can say whether the rerun took the same path.
//!
//! The file is named `repro-<first 16 hex digits of the blake3 of its content>.json`: writing the
//! same failure twice rewrites the same file instead of piling up copies.
//!
//! ```no_run
//! use std::path::Path;
//! use driftsync_sim::{engine, plan, repro, scenario, seed::Seed};
//!
//! let scenarios = scenario::load_scenarios(&["scenarios/standard.toml".into()])?;
//! let plan = plan::plan(&scenarios[0].spec, Seed(1));
//! let outcome = engine::run(&plan, &engine::RunOptions::default());
//! let path = repro::write(Path::new("reports"), &plan, None, &outcome)?;
//! let loaded = repro::load(&path)?;
//! assert_eq!(loaded.plan, plan);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Sabotage;
use crate::outcome::{Failure, Outcome};
use crate::plan::{Fault, Plan};
use crate::scenario::Params;

/// The version of the harness that writes repro files; a file whose major version differs is
/// refused, because a plan's meaning may have changed between majors.
pub const HARNESS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A repro file larger than this is refused before it is parsed: the largest scenarios the
/// limits allow produce plans of a few tens of megabytes.
pub const REPRO_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// The contents of a repro file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repro {
    /// The `CARGO_PKG_VERSION` of the harness that wrote the file.
    pub harness_version: String,
    /// The scenario's name (also in `plan.scenario`).
    pub scenario: String,
    /// The seed (also in `plan.seed`).
    pub seed: u64,
    /// The drawn parameters (also in `plan.params`), at the top for a reader of the file.
    pub params: Params,
    /// Everything the run did: replaying this plan reruns the failure.
    pub plan: Plan,
    /// The planted bug of the original run, if it was a sabotage run.
    pub sabotage: Option<Sabotage>,
    /// The trace digest of the original run.
    pub digest: String,
    /// What failed in the original run.
    pub failures: Vec<Failure>,
}

/// Why a repro file cannot be used. Blame: always the file (or whoever named it); recovery is to
/// pass the path printed by the failing run, or to regenerate the file with this harness.
#[derive(Debug)]
pub enum ReproError {
    /// The file cannot be read (missing, unreadable, or a directory).
    Read { path: PathBuf, source: io::Error },
    /// The file is larger than [`REPRO_BYTES_MAX`].
    TooLarge { path: PathBuf, bytes: u64 },
    /// The file is not JSON, or not a repro document (a missing or mistyped field).
    Malformed { path: PathBuf, source: serde_json::Error },
    /// The file was written by a harness of another major version.
    Version { path: PathBuf, found: String },
    /// The file's parts contradict each other (it was edited by hand, or truncated and mended).
    Inconsistent { path: PathBuf, field: &'static str, message: String },
}

impl fmt::Display for ReproError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReproError::Read { path, source } => {
                write!(f, "{}: cannot read the repro file: {source}", path.display())
            }
            ReproError::TooLarge { path, bytes } => write!(
                f,
                "{}: the repro file is {bytes} bytes, more than the {REPRO_BYTES_MAX} accepted",
                path.display()
            ),
            ReproError::Malformed { path, source } => {
                write!(f, "{}: not a valid repro file: {source}", path.display())
            }
            ReproError::Version { path, found } => write!(
                f,
                "{}: written by harness version {found}, but this is {HARNESS_VERSION} (another \
                 major version); rerun the scenario and seed with this harness instead",
                path.display()
            ),
            ReproError::Inconsistent { path, field, message } => {
                write!(f, "{}: field `{field}`: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ReproError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReproError::Read { source, .. } => Some(source),
            ReproError::Malformed { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Writes the repro file of one run into `dir` (created if missing) and returns its path, which
/// is `dir` joined with the content-addressed file name.
pub fn write(
    dir: &Path,
    plan: &Plan,
    sabotage: Option<Sabotage>,
    outcome: &Outcome,
) -> io::Result<PathBuf> {
    let repro = Repro {
        harness_version: HARNESS_VERSION.to_owned(),
        scenario: plan.scenario.clone(),
        seed: plan.seed,
        params: plan.params.clone(),
        plan: plan.clone(),
        sabotage,
        digest: outcome.digest.clone(),
        failures: outcome.failures.clone(),
    };
    let mut content = serde_json::to_vec_pretty(&repro).map_err(io::Error::other)?;
    content.push(b'\n');
    let hash = blake3::hash(&content).to_hex();
    let path = dir.join(format!("repro-{}.json", &hash[..16]));
    std::fs::create_dir_all(dir)?;
    // Writing to a private temporary name and renaming makes the file appear whole: two sweep
    // shards sharing a reports directory may write the same repro at the same moment.
    let temporary = dir.join(format!(".repro-{}.json.{}.tmp", &hash[..16], std::process::id()));
    std::fs::write(&temporary, &content)?;
    std::fs::rename(&temporary, &path).inspect_err(|_| {
        // The rename error is the one worth reporting; a leftover temporary file is harmless.
        let _ = std::fs::remove_file(&temporary);
    })?;
    Ok(path)
}

/// Reads and validates a repro file. Never panics, whatever the file holds.
pub fn load(path: &Path) -> Result<Repro, ReproError> {
    let metadata =
        std::fs::metadata(path).map_err(|source| ReproError::Read { path: path.into(), source })?;
    if metadata.len() > REPRO_BYTES_MAX {
        return Err(ReproError::TooLarge { path: path.into(), bytes: metadata.len() });
    }
    let text = std::fs::read_to_string(path)
        .map_err(|source| ReproError::Read { path: path.into(), source })?;
    parse(path, &text)
}

/// Parses the text of a repro file; `path` only names the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<Repro, ReproError> {
    let malformed = |source| ReproError::Malformed { path: path.into(), source };
    // The version is checked before the full shape: a file from another major version most
    // likely has another shape, and "wrong version" is the useful message then.
    let header: VersionHeader = serde_json::from_str(text).map_err(malformed)?;
    if major(&header.harness_version) != major(HARNESS_VERSION) {
        return Err(ReproError::Version { path: path.into(), found: header.harness_version });
    }
    let repro: Repro = serde_json::from_str(text).map_err(malformed)?;
    check_consistent(path, &repro)?;
    Ok(repro)
}

/// The one field read before the rest, so that an old file gets a version error.
#[derive(Deserialize)]
struct VersionHeader {
    harness_version: String,
}

/// The major component of a `major.minor.patch` version; anything unparsable is its own major.
fn major(version: &str) -> Option<u64> {
    version.split('.').next().and_then(|part| part.parse().ok())
}

fn check_consistent(path: &Path, repro: &Repro) -> Result<(), ReproError> {
    let inconsistent =
        |field, message: String| ReproError::Inconsistent { path: path.into(), field, message };
    if repro.scenario != repro.plan.scenario {
        let message =
            format!("\"{}\" but the plan is of \"{}\"", repro.scenario, repro.plan.scenario);
        return Err(inconsistent("scenario", message));
    }
    if repro.seed != repro.plan.seed {
        let message = format!("{} but the plan is of seed {}", repro.seed, repro.plan.seed);
        return Err(inconsistent("seed", message));
    }
    if repro.params != repro.plan.params {
        return Err(inconsistent("params", "differs from plan.params".to_owned()));
    }
    check_schema_rollout(&repro.plan).map_err(|message| inconsistent("plan", message))
}

/// The schema versions a plan names must exist and be served in order, or the engine would
/// be asked to build a server or a client it cannot.
fn check_schema_rollout(plan: &Plan) -> Result<(), String> {
    let schema = &plan.params.schema;
    if schema.server.is_empty() {
        return Err("schema.server has no entry: the server would serve no version".into());
    }
    let version_max = schema.version_max();
    let latest = match &plan.params.app {
        Some(app) => app.lineage().map_err(|error| format!("the app's schema: {error}"))?.latest(),
        None => crate::scenario::SCHEMA_VERSION_MAX,
    };
    if version_max > latest {
        return Err(format!("names schema v{version_max}; the simulated app has v1..=v{latest}"));
    }
    if schema.client_versions.len() != plan.params.clients as usize
        || schema.client_versions.contains(&0)
    {
        return Err("schema.client_versions needs one version of 1 or more per client".into());
    }
    let policies = schema.server.iter().map(|s| (s.newest, s.writable_from, s.readable_from));
    let faults = plan.faults.iter().filter_map(|timed| match timed.fault {
        Fault::ServerVersions { newest, writable_from, readable_from } => {
            Some((newest, writable_from, readable_from))
        }
        _ => None,
    });
    for (newest, writable_from, readable_from) in policies.chain(faults) {
        if !(1 <= readable_from && readable_from <= writable_from && writable_from <= newest)
            || newest > version_max
        {
            return Err(format!(
                "a server serving v{readable_from}..v{writable_from}..=v{newest} is out of order \
                 or beyond v{version_max}"
            ));
        }
    }
    for timed in &plan.faults {
        if let Fault::Upgrade { client, version } = timed.fault
            && (client.is_server()
                || client.0 > plan.params.clients
                || !(1..=version_max).contains(&version))
        {
            return Err(format!("an upgrade of {client} to v{version} cannot happen in this plan"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Checker, RunStats};
    use crate::scenario::ScenarioSpec;
    use crate::seed::Seed;

    /// The fixed loss has more digits than serde_json's fast float parser gets right: it reads
    /// back one ulp off unless the `float_roundtrip` feature is on.
    const SCENARIO: &str = "name = \"tiny\"\n[topology]\nclients = [2, 3]\n\
                            [network]\nloss = 0.042725523438974324\nduplicate = [0, 0.1]\n";

    fn plan_of(seed: u64) -> Plan {
        let spec = ScenarioSpec::from_toml_str(Path::new("tiny.toml"), SCENARIO)
            .expect("the test scenario is valid");
        crate::plan::plan(&spec, Seed(seed))
    }

    fn outcome_of(plan: &Plan) -> Outcome {
        Outcome {
            scenario: plan.scenario.clone(),
            seed: plan.seed,
            digest: "00112233".to_owned(),
            events: 10,
            end_ms: 1_000,
            heal_at_ms: 500,
            converged_at_ms: None,
            failures: vec![Failure {
                checker: Checker::Oracle,
                node: Some("client-1".to_owned()),
                record: None,
                at_ms: 900,
                event_index: 9,
                detail: "lost a write".to_owned(),
            }],
            stats: RunStats::default(),
            connects_ms: Vec::new(),
            quarantines: Vec::new(),
            trace: Vec::new(),
            measures: Default::default(),
        }
    }

    /// A directory of its own for one test, removed when the test ends, even by a panic.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> TempDir {
            let name = format!("driftsync-repro-{}-{test}", std::process::id());
            let path = std::env::temp_dir().join(name);
            let _ = std::fs::remove_dir_all(&path);
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Goal: a replay runs exactly the plan that failed, down to the last bit of every float.
    #[test]
    fn a_written_repro_loads_back_to_the_same_plan() {
        let dir = TempDir::new("roundtrip");
        for seed in 0..20 {
            let plan = plan_of(seed);
            let outcome = outcome_of(&plan);
            let path = write(&dir.0, &plan, Some(Sabotage::NeverHeal), &outcome).expect("written");
            let repro = load(&path).expect("loads");
            assert_eq!(repro.plan.params, plan.params, "seed {seed}");
            // Not `assert_eq!`: the debug print of a whole workload buries the difference.
            assert!(repro.plan == plan, "seed {seed}: the faults or the workload differ");
            assert_eq!(repro.sabotage, Some(Sabotage::NeverHeal));
            assert_eq!(repro.failures, outcome.failures);
            assert_eq!(repro.digest, outcome.digest);
        }
    }

    /// Goal: rerunning the same failure rewrites one file rather than adding another.
    #[test]
    fn writing_the_same_failure_twice_gives_the_same_file_name() {
        let dir = TempDir::new("same-name");
        let plan = plan_of(3);
        let outcome = outcome_of(&plan);
        let first = write(&dir.0, &plan, None, &outcome).expect("written");
        let second = write(&dir.0, &plan, None, &outcome).expect("written");
        assert_eq!(first, second);
        let name = first.file_name().and_then(|name| name.to_str()).expect("a UTF-8 name");
        assert!(name.starts_with("repro-") && name.ends_with(".json"), "{name}");
        assert_eq!(name.len(), "repro-".len() + 16 + ".json".len());
        assert_eq!(std::fs::read_dir(&dir.0).expect("listable").count(), 1);
    }

    /// Goal: every kind of broken file is an error naming the file, never a panic.
    #[test]
    fn broken_repro_files_are_errors_that_name_the_file() {
        let path = Path::new("reports/broken.json");
        let plan = plan_of(1);
        let good = serde_json::to_value(Repro {
            harness_version: HARNESS_VERSION.to_owned(),
            scenario: plan.scenario.clone(),
            seed: plan.seed,
            params: plan.params.clone(),
            plan: plan.clone(),
            sabotage: None,
            digest: String::new(),
            failures: Vec::new(),
        })
        .expect("serializable");
        let edited = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut value = good.clone();
            edit(&mut value);
            value.to_string()
        };
        let cases = [
            ("{ not json", "not a valid repro file"),
            ("[]", "not a valid repro file"),
            (&edited(&|v| v["harness_version"] = "999.0.0".into()), "another major version"),
            (&edited(&|v| v["plan"]["faults"] = 3.into()), "not a valid repro file"),
            (&edited(&|v| v["seed"] = 77.into()), "field `seed`"),
            (&edited(&|v| v["scenario"] = "other".into()), "field `scenario`"),
            (&edited(&|v| v["params"]["clients"] = 99.into()), "field `params`"),
            (
                &edited(&|v| {
                    let upgrade = serde_json::json!({ "Upgrade": { "client": 1, "version": 9 } });
                    v["plan"]["faults"] = serde_json::json!([{ "at_ms": 1, "fault": upgrade }]);
                }),
                "an upgrade of client-1 to v9",
            ),
            (
                &edited(&|v| {
                    v["params"]["schema"]["server"] = serde_json::json!([]);
                    v["plan"]["params"]["schema"]["server"] = serde_json::json!([]);
                }),
                "schema.server has no entry",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(path, text).expect_err(text).to_string();
            assert!(error.starts_with("reports/broken.json: "), "{error}");
            assert!(error.contains(expected), "{error}");
        }
        assert!(parse(path, &good.to_string()).is_ok());
    }

    /// Goal: a missing file is a read error with the path, not a panic.
    #[test]
    fn a_missing_repro_file_is_a_read_error() {
        let path = Path::new("/nonexistent/driftsync/repro.json");
        let error = load(path).expect_err("missing");
        assert!(matches!(error, ReproError::Read { .. }));
        assert!(error.to_string().starts_with("/nonexistent/driftsync/repro.json: "));
    }
}
