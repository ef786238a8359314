//! The command line, as clap types. The help texts here are the user-facing documentation of
//! every flag; keep them precise.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::exit;
use crate::runner::shard::Shard;
use crate::runner::sweep::JOBS_MAX;

const ABOUT: &str = "Deterministic chaos simulator for driftsync: run, sweep, replay and \
                     check seeded scenarios.";

const LONG_ABOUT: &str = "\
Deterministic chaos simulator for driftsync.

Each seed of a scenario draws concrete parameters (printed at the start of a run), plans every \
fault and write, runs one server and its clients through chaos, heal and a stability round, \
checks every node's invariants after each of its inputs and that damaged messages are refused, \
and at the end checks convergence, the oracle (a reference merge model), no resurrection, \
stability, monotonicity, liveness, quarantines, schema rollouts and herd spread. A failing seed \
writes a repro file and prints the one command that replays it.

Results go to stdout (--format human or json); logs go to stderr, filtered by RUST_LOG \
(default: warn, and error for driftsync_core, whose warnings are the faults the simulator \
injects).";

/// Every command with one line a user would type; the top-level help shows them above the
/// exit codes.
const EXAMPLES: &str = "\
Examples:
  driftsync run scenarios/standard.toml --seed 7 --reports-dir reports
  driftsync sweep scenarios/ --seeds 200 --reports-dir reports
  driftsync sweep scenarios/ --seeds 2000 --shard 3/8 --reports-dir reports/shard-3
  driftsync replay reports/repro-0123456789abcdef.json --reports-dir reports
  driftsync shrink reports/repro-0123456789abcdef.json --budget-s 60 --reports-dir reports
  driftsync check-determinism scenarios/standard.toml --seeds 20 --reports-dir reports
  driftsync report merge shard-*/latest --reports-dir reports/merged";

fn top_help() -> String {
    format!("{EXAMPLES}\n\n{}", exit::HELP)
}

/// The `driftsync` command.
#[derive(Debug, Parser)]
#[command(name = "driftsync", version, about = ABOUT, long_about = LONG_ABOUT)]
#[command(after_help = top_help(), propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one seed of one scenario: print its drawn parameters, then its outcome.
    #[command(after_help = exit::HELP)]
    Run(RunArgs),
    /// Run many seeds of one or more scenarios on all cores, optionally as one shard of many.
    #[command(long_about = SWEEP_LONG_ABOUT, after_help = exit::HELP)]
    Sweep(SweepArgs),
    /// Rerun the plan stored in a repro file and say whether the failure reproduces.
    #[command(long_about = REPLAY_LONG_ABOUT, after_help = exit::HELP)]
    Replay(ReplayArgs),
    /// Find the smallest run that still fails the same checker as a repro file's, and write it
    /// as a repro file of its own.
    #[command(long_about = SHRINK_LONG_ABOUT, after_help = exit::HELP)]
    Shrink(ShrinkArgs),
    /// Run each seed twice and compare trace digests; name the first differing event.
    #[command(after_help = exit::HELP)]
    CheckDeterminism(DeterminismArgs),
    /// Work with report folders (`report merge`).
    #[command(subcommand)]
    Report(ReportCommand),
}

/// `driftsync report …`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge the report folders of the shards of one sweep into one report, written as a new
    /// folder under --reports-dir (and pointed at by its `latest`). Counters add, histograms
    /// merge exactly, failing seeds are united.
    #[command(after_help = exit::HELP)]
    Merge(MergeArgs),
}

/// `driftsync report merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report folders, each holding a summary.json.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub reports: ReportsArgs,
}

/// How results are printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// One JSON document.
    Json,
}

/// Flags every command has.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// How to print the results on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Where failing seeds write their repro files.
#[derive(Debug, Args)]
pub struct ReportsArgs {
    /// Directory for repro files of failing seeds and for report folders; created if missing.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports_dir: PathBuf,
}

/// `driftsync run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (a directory holding exactly one scenario also works).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// The seed to run.
    #[arg(long)]
    pub seed: u64,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub reports: ReportsArgs,
}

const SWEEP_LONG_ABOUT: &str = "\
Run seeds START..START+SEEDS of every scenario on JOBS worker threads. Each seed runs \
single-threaded and independently; results are reported in scenario order, then seed order, \
whatever the thread timing. Each failing seed writes a repro file to --reports-dir and prints \
the command that replays it.

Sharding: shard K of N (K is 1-based) runs the seeds whose position i = seed - START satisfies \
i % N == K - 1, so the N shards of one sweep partition its seeds exactly. Without --shard the \
shard comes from the environment, first match wins:
  1. CI_NODE_TOTAL set: CI_NODE_INDEX is the 1-based shard number (GitLab CI `parallel:`).
     CI_NODE_INDEX alone, without CI_NODE_TOTAL, is ignored.
  2. JOB_COMPLETION_INDEX set (Kubernetes Indexed Job, 0-based): shard JOB_COMPLETION_INDEX + 1 \
of JOB_COMPLETION_TOTAL. Kubernetes does not export the total: set JOB_COMPLETION_TOTAL to the \
Job's .spec.completions in the pod template; without it the sweep refuses to start (exit 2).
  3. Otherwise the sweep is not sharded.
CircleCI's CIRCLE_NODE_INDEX and Buildkite's BUILDKITE_PARALLEL_JOB are 0-based and are NOT \
read; pass them explicitly: --shard $((CIRCLE_NODE_INDEX + 1))/$CIRCLE_NODE_TOTAL. Empty \
variables count as unset.

Human output: a failure block for each failing seed, a line per scenario (passed and failed \
counts, writes quarantined out of writes committed, seeds/min, simulated seconds per wall \
second and events/s, each per worker thread), a line `lost: ...` with the writes quarantined \
over all scenarios, and last a line `N passed, M failed`. A plain progress line goes to stderr \
every 5 s.";

/// The scenarios and seeds a sweep or a determinism check covers.
#[derive(Debug, Args)]
pub struct SeedsArgs {
    /// Scenario files, or directories whose *.toml files are all scenarios.
    #[arg(value_name = "SCENARIO|DIR", required = true)]
    pub scenarios: Vec<PathBuf>,
    /// How many seeds to run per scenario (a sharded sweep runs its share of them).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Worker threads [default: the number of available cores].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=JOBS_MAX))]
    pub jobs: Option<u64>,
}

/// `driftsync sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub range: SeedsArgs,
    /// Run only shard K of N (1-based K), e.g. 2/8; see the long help (--help) for the
    /// environment variables read without it.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Skip the invariant checks after every input (they are on by default); for measuring
    /// what the checking costs.
    #[arg(long)]
    pub no_invariants: bool,
    /// Fail (exit 1) when a kind of fault a scenario turns on, or a fault or mark its
    /// `[coverage] require` names, happened in none of its seeds.
    #[arg(long)]
    pub require_coverage: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub reports: ReportsArgs,
}

const REPLAY_LONG_ABOUT: &str = "\
Rerun the plan stored in a repro file (with its recorded sabotage, if any), print the outcome, \
and say whether the trace digest matches the one recorded in the file. A different digest means \
the harness or the core changed since the file was written. Exits 1 if the failure reproduces \
(an invariant still fails) and 0 if the run now passes. The run's report folder (its timeline \
among the rest) goes under --reports-dir, as `run` writes one.";

/// `driftsync replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The repro file, as printed by the failing run.
    #[arg(value_name = "REPRO")]
    pub repro: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub reports: ReportsArgs,
}

const SHRINK_LONG_ABOUT: &str = "\
Rerun the plan of a repro file with parts of it taken away, keeping each cut after which the \
checker that failed first still fails: clients, faults (a start with its end), writes, hostile \
attempts, network loss, duplication, damage and reordering, clock offsets and drift; then \
partitions, offline periods and downtimes are shortened and written values made plain. Faults \
and writes go in halves, then quarters, down to one at a time. A line on stderr reports each \
smaller run found. The smallest is written as a repro file beside the original (or into \
--reports-dir) and its replay line printed.

The search is deterministic: the same repro and build give the same result, unless the budget \
stops it first; --runs-max bounds it the same on every machine. Exits 1 when it wrote a shrunk \
repro (the failure is still there), 0 when the repro no longer fails with this build.";

/// `driftsync shrink`.
#[derive(Debug, Args)]
pub struct ShrinkArgs {
    /// The repro file of a failing run, as printed by `run`, `sweep` or `replay`.
    #[arg(value_name = "REPRO")]
    pub repro: PathBuf,
    /// Wall-clock seconds to spend; the smallest run found by then is the result.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = positive_seconds)]
    pub budget_s: f64,
    /// Stop after this many runs, whatever the time: the same result on every machine.
    #[arg(long, value_name = "RUNS", value_parser = clap::value_parser!(u64).range(1..))]
    pub runs_max: Option<u64>,
    /// Directory for the shrunk repro file [default: the folder of REPRO].
    #[arg(long, value_name = "DIR")]
    pub reports_dir: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!("`{text}` is not a number of seconds in (0, 86400]")),
    }
}

/// `driftsync check-determinism`.
#[derive(Debug, Args)]
pub struct DeterminismArgs {
    #[command(flatten)]
    pub range: SeedsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub reports: ReportsArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Goal: clap's own consistency rules hold for every subcommand and flag.
    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Goal: `driftsync --help` shows every command with an example that really parses.
    #[test]
    fn the_help_has_a_parsing_example_of_every_command() {
        let examples: Vec<&str> =
            EXAMPLES.lines().skip(1).map(|line| line.trim()).collect::<Vec<_>>();
        for line in &examples {
            let words = line.split_whitespace();
            if let Err(error) = Cli::try_parse_from(words) {
                panic!("the example `{line}` does not parse: {error}");
            }
        }
        let command = Cli::command();
        let mut names = Vec::new();
        for sub in command.get_subcommands() {
            let nested: Vec<_> = sub.get_subcommands().map(|n| n.get_name().to_owned()).collect();
            if nested.is_empty() {
                names.push(sub.get_name().to_owned());
            }
            names.extend(nested.iter().map(|n| format!("{} {n}", sub.get_name())));
        }
        for name in names {
            let shown = examples.iter().any(|line| line.starts_with(&format!("driftsync {name} ")));
            assert!(shown, "`driftsync {name}` has no example in the help");
        }
    }

    /// Goal: every command that writes a report or a repro file says where.
    #[test]
    fn every_command_that_writes_takes_a_reports_dir() {
        for line in EXAMPLES.lines().skip(1) {
            let cli = Cli::try_parse_from(line.split_whitespace()).expect("parses");
            let dir = match &cli.command {
                Command::Run(args) => &args.reports.reports_dir,
                Command::Sweep(args) => &args.reports.reports_dir,
                Command::Replay(args) => &args.reports.reports_dir,
                Command::Shrink(args) => args.reports_dir.as_ref().expect("the example sets it"),
                Command::CheckDeterminism(args) => &args.reports.reports_dir,
                Command::Report(ReportCommand::Merge(args)) => &args.reports.reports_dir,
            };
            assert!(line.contains(&format!("--reports-dir {}", dir.display())), "{line}");
        }
    }
}
