//! Publishing a report: the folder under `--reports-dir`, and, inside GitHub Actions, the job
//! summary and a bounded number of annotations.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::CliError;
use crate::report::files::{self, ReportErrorKind, write_report};
use crate::report::markdown;
use crate::report::summary::{RunInfo, Summary};
use crate::runner::progress;

/// GitHub refuses a job summary over 1 MiB; ours stays a little under it.
pub const STEP_SUMMARY_BYTES_MAX: usize = 1024 * 1024 - 4 * 1024;
/// `::error` annotations per run; GitHub shows only ten per step anyway, and the rest are
/// counted in one notice.
pub const ANNOTATIONS_MAX: usize = 10;

/// The `run` part of a summary, stamped with the wall clock.
pub(crate) fn run_info(
    command: &str,
    seeds_start: u64,
    seeds_count: u64,
    shards: Vec<String>,
    jobs: u64,
    wall_s: f64,
) -> RunInfo {
    RunInfo {
        command: command.to_owned(),
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_utc: files::iso_utc(progress::utc_now_s()),
        seeds_start,
        seeds_count,
        shards,
        jobs,
        wall_s: (wall_s * 1_000.0).round() / 1_000.0,
    }
}

/// Writes the report folder and does what the CI environment asks for; returns the folder.
pub(crate) fn publish(
    reports_dir: &Path,
    summary: &Summary,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, CliError> {
    let name = files::folder_name(progress::utc_now_s(), &summary.run.command);
    let dir = write_report(reports_dir, &name, summary).map_err(|error| match error.kind {
        ReportErrorKind::Write => CliError::internal(error.to_string()),
        ReportErrorKind::BadInput => CliError::data(error.to_string()),
    })?;
    if let Some(path) = env("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        append_step_summary(Path::new(&path), summary)?;
    }
    if env("GITHUB_ACTIONS").as_deref() == Some("true") {
        let mut stderr = std::io::stderr().lock();
        // Annotations that cannot be printed only cost the reader a convenience.
        let _ = stderr.write_all(annotations(summary).as_bytes());
    }
    Ok(dir)
}

fn append_step_summary(path: &Path, summary: &Summary) -> Result<(), CliError> {
    let note = "_(cut to fit GitHub's 1 MiB job summary; the full report is `summary.md` in the \
     report folder)_";
    let text = markdown::truncated(&markdown::render(summary), STEP_SUMMARY_BYTES_MAX, note);
    let mut file =
        std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|error| {
            CliError::internal(format!(
                "cannot open GITHUB_STEP_SUMMARY {}: {error}",
                path.display()
            ))
        })?;
    file.write_all(text.as_bytes()).map_err(|error| {
        CliError::internal(format!(
            "cannot append to GITHUB_STEP_SUMMARY {}: {error}",
            path.display()
        ))
    })
}

/// At most [`ANNOTATIONS_MAX`] `::error` lines pointing at the scenario files of failing
/// seeds, then one `::notice` counting the failing seeds left out.
pub fn annotations(summary: &Summary) -> String {
    let mut text = String::new();
    let mut shown = 0;
    let mut left_out = 0u64;
    for scenario in &summary.scenarios {
        for seed in &scenario.failing_seeds {
            if shown == ANNOTATIONS_MAX {
                left_out += 1;
                continue;
            }
            shown += 1;
            let first = seed.failures.first().map(ToString::to_string).unwrap_or_default();
            text.push_str(&format!(
                "::error file={},title={}::{} seed {} failed: {} — replay: {}\n",
                property(&scenario.path),
                property(&format!("driftsync {} seed {}", scenario.name, seed.seed)),
                scenario.name,
                seed.seed,
                data(&first),
                data(&seed.replay)
            ));
        }
        left_out += scenario.failing_seeds_omitted;
    }
    if left_out > 0 {
        text.push_str(&format!(
            "::notice title=driftsync::{left_out} more failing seeds are not annotated; see the \
             job summary or summary.json\n"
        ));
    }
    text
}

/// Escapes a workflow command's message, as GitHub's toolkit does.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}
