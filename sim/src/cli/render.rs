//! Human-readable output: run headers, outcome summaries, and the failure block with its one
//! replay line. Every function writes to a caller-given writer, so tests can read the text.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::outcome::Outcome;
use crate::scenario::Params;

/// The command a failure block tells the reader to copy, as printed before the path.
pub const REPLAY_COMMAND: &str = "cargo run --release -p driftsync-sim -- replay";

/// How many failures of one seed the failure block lists; the repro file holds them all.
pub const FAILURES_SHOWN_MAX: usize = 10;

/// What a failure block offers for reproducing the failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayHint {
    /// The repro file written for this failure.
    Repro(PathBuf),
    /// No repro file could be written (or none was wanted); rerun the seed from its scenario.
    Rerun { scenario_path: PathBuf, seed: u64, reason: String },
}

/// The header of a run: which scenario and seed, then every drawn parameter.
pub fn run_header(
    out: &mut dyn Write,
    scenario: &str,
    path: &Path,
    seed: u64,
    params: &Params,
) -> io::Result<()> {
    writeln!(out, "scenario {scenario} ({}), seed {seed}", path.display())?;
    write!(out, "{params}")?;
    writeln!(out)
}

/// PASSED or FAILED, the digest, and the key numbers of a run.
pub fn outcome_summary(out: &mut dyn Write, outcome: &Outcome) -> io::Result<()> {
    let verdict = if outcome.passed() { "passed" } else { "failed" };
    let loss = crate::report::Loss::of_stats(&outcome.stats);
    writeln!(out, "run {verdict}: {} seed {}; {loss}", outcome.scenario, outcome.seed)?;
    let digest = if outcome.digest.is_empty() { "(none)" } else { &outcome.digest };
    writeln!(out, "  digest       {digest}")?;
    writeln!(out, "  events       {}", outcome.events)?;
    let converged = match outcome.converged_at_ms {
        Some(at_ms) => format!("converged at {}", seconds(at_ms)),
        None => "never converged".to_owned(),
    };
    writeln!(
        out,
        "  simulated    {} (heal at {}, {converged})",
        seconds(outcome.simulated_ms()),
        seconds(outcome.heal_at_ms)
    )?;
    let stats = &outcome.stats;
    writeln!(
        out,
        "  writes       {} committed, {} refused, {} skipped while down",
        stats.writes_committed, stats.writes_refused, stats.writes_skipped_down
    )?;
    writeln!(
        out,
        "  messages     {} sent, {} lost, {} cut by partitions, {} duplicated",
        stats.messages_sent,
        stats.messages_lost,
        stats.messages_cut_by_partition,
        stats.messages_duplicated
    )?;
    writeln!(
        out,
        "  sync         {} conflicts, {} retries, {} resyncs, {} duplicates dropped",
        stats.conflicts, stats.retries, stats.resyncs, stats.duplicates_dropped
    )?;
    writeln!(
        out,
        "  upkeep       {} quarantined, {} tombstones collected, {} clock-ahead reports",
        stats.quarantined, stats.tombstones_collected, stats.clock_ahead_reports
    )?;
    let versions: Vec<&str> = stats.nodes_at_schema_version.keys().map(String::as_str).collect();
    writeln!(
        out,
        "  schema       {}; {} ops migrated up, {} down; {} invalid payloads injected",
        versions.join(", "),
        stats.ops_migrated_up,
        stats.ops_migrated_down,
        stats.invalid_payloads_injected
    )?;
    let fired: Vec<String> =
        stats.faults_fired.iter().map(|(fault, count)| format!("{fault} {count}")).collect();
    let fired = if fired.is_empty() { "none".to_owned() } else { fired.join(", ") };
    writeln!(out, "  faults fired {fired}")?;
    for line in outcome.quarantines.iter().take(QUARANTINES_SHOWN_MAX) {
        writeln!(out, "  quarantined  {line}")?;
    }
    let more = outcome.quarantines.len().saturating_sub(QUARANTINES_SHOWN_MAX);
    if more > 0 {
        writeln!(out, "  quarantined  … and {more} more (see summary.json counters by reason)")?;
    }
    Ok(())
}

/// Quarantines listed one per line in a run's output.
const QUARANTINES_SHOWN_MAX: usize = 20;

/// The failure block of one failing seed: where, what, and one line to copy to replay it.
pub fn failure_block(
    out: &mut dyn Write,
    scenario_path: &Path,
    outcome: &Outcome,
    hint: &ReplayHint,
) -> io::Result<()> {
    let failures_count = outcome.failures.len();
    writeln!(
        out,
        "FAILED {} seed {} ({}): {failures_count} failures",
        outcome.scenario,
        outcome.seed,
        scenario_path.display()
    )?;
    for (number, failure) in (1..).zip(outcome.failures.iter().take(FAILURES_SHOWN_MAX)) {
        writeln!(out, "  {number:>2}. checker {}", failure.checker)?;
        writeln!(out, "      node    {}", failure.node.as_deref().unwrap_or("-"))?;
        writeln!(out, "      record  {}", failure.record.as_deref().unwrap_or("-"))?;
        let at = seconds(failure.at_ms);
        writeln!(out, "      at      {at} simulated, event {}", failure.event_index)?;
        writeln!(out, "      detail  {}", failure.detail)?;
    }
    let hidden_count = outcome.failures.len().saturating_sub(FAILURES_SHOWN_MAX);
    if hidden_count > 0 {
        writeln!(out, "  ... and {hidden_count} more failures, all in the repro file")?;
    }
    match hint {
        ReplayHint::Repro(path) => writeln!(out, "replay: {REPLAY_COMMAND} {}", shell_word(path)),
        ReplayHint::Rerun { scenario_path, seed, reason } => {
            writeln!(out, "  (no repro file: {reason})")?;
            writeln!(
                out,
                "rerun: cargo run --release -p driftsync-sim -- run {} --seed {seed}",
                shell_word(scenario_path)
            )
        }
    }
}

/// The one command that replays (or reruns) a failing seed, as the failure block prints it.
pub fn replay_command(hint: &ReplayHint) -> String {
    match hint {
        ReplayHint::Repro(path) => format!("{REPLAY_COMMAND} {}", shell_word(path)),
        ReplayHint::Rerun { scenario_path, seed, .. } => format!(
            "cargo run --release -p driftsync-sim -- run {} --seed {seed}",
            shell_word(scenario_path)
        ),
    }
}

/// The last line of every command: `N passed, M failed`.
pub fn totals(out: &mut dyn Write, passed_count: u64, failed_count: u64) -> io::Result<()> {
    writeln!(out, "{passed_count} passed, {failed_count} failed")
}

/// Simulated milliseconds as seconds with millisecond precision, e.g. `12.345 s`.
pub fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1_000, ms % 1_000)
}

/// A path as one word a POSIX shell reads back unchanged: as is when it only holds safe
/// characters, single-quoted otherwise.
pub fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./+:@%=,".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Checker, Failure, RunStats};

    fn failing_outcome() -> Outcome {
        Outcome {
            scenario: "standard".to_owned(),
            seed: 17,
            digest: "abc".to_owned(),
            events: 100,
            end_ms: 12_345,
            heal_at_ms: 10_000,
            converged_at_ms: None,
            failures: vec![Failure {
                checker: Checker::Oracle,
                node: Some("client-2".to_owned()),
                record: None,
                at_ms: 12_000,
                event_index: 99,
                detail: "a committed write is missing".to_owned(),
            }],
            stats: RunStats::default(),
            connects_ms: Vec::new(),
            quarantines: Vec::new(),
            trace: Vec::new(),
            measures: Default::default(),
        }
    }

    fn text(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
        let mut buffer = Vec::new();
        write(&mut buffer).expect("writing to a Vec cannot fail");
        String::from_utf8(buffer).expect("the renderers write UTF-8")
    }

    /// Goal: the block names every coordinate of the failure and ends in one copyable line.
    #[test]
    fn a_failure_block_ends_with_exactly_one_replay_line() {
        let hint = ReplayHint::Repro(PathBuf::from("reports/repro-0123456789abcdef.json"));
        let path = Path::new("scenarios/standard.toml");
        let block = text(|out| failure_block(out, path, &failing_outcome(), &hint));
        for expected in ["standard seed 17", "oracle", "client-2", "12.000 s", "event 99"] {
            assert!(block.contains(expected), "{expected:?} missing from:\n{block}");
        }
        let replay_lines: Vec<&str> =
            block.lines().filter(|line| line.starts_with("replay: ")).collect();
        assert_eq!(
            replay_lines,
            ["replay: cargo run --release -p driftsync-sim -- replay \
              reports/repro-0123456789abcdef.json"]
        );
    }

    /// Goal: a copied path survives the shell even with spaces or quotes in it.
    #[test]
    fn paths_with_shell_characters_are_quoted() {
        assert_eq!(shell_word(Path::new("reports/repro-1.json")), "reports/repro-1.json");
        assert_eq!(shell_word(Path::new("my reports/r.json")), "'my reports/r.json'");
        assert_eq!(shell_word(Path::new("it's/r.json")), r"'it'\''s/r.json'");
    }

    /// Goal: simulated times read as seconds without float rounding surprises.
    #[test]
    fn simulated_milliseconds_print_as_seconds() {
        assert_eq!(seconds(0), "0.000 s");
        assert_eq!(seconds(12_345), "12.345 s");
        assert_eq!(seconds(7), "0.007 s");
    }
}
