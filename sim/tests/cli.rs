//! The `driftsync` binary as a user and a CI job see it: exit codes, output formats, sharding
//! from the environment, and failing seeds that replay from their repro files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{SLOW_SCENARIO, TempDir, code, driftsync, stderr, stdout};

use driftsync_sim::engine::Sabotage;
use driftsync_sim::repro;
use driftsync_sim::runner::sweep::{SweepOptions, run_sweep};
use driftsync_sim::scenario::load_scenarios;
use serde_json::Value;

/// Two clients, a few writes, a short chaos phase: a seed runs in milliseconds.
const TINY_SCENARIO: &str = r#"
name = "tiny"
[topology]
clients = 2
[workload]
writes_per_client = 5
[network]
loss = [0, 0.2]
[run]
chaos_s = 20
liveness_deadline_s = 120
"#;

const REPLAY_PREFIX: &str = "replay: cargo run --release -p driftsync-sim -- replay ";

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is exactly one JSON document")
}

fn standard_scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/standard.toml")
}

/// Goal: a scenario author is pointed at the exact key to fix, and CI sees a data error.
#[test]
fn a_bad_scenario_file_exits_65_naming_file_line_and_field() {
    let dir = TempDir::new("bad-scenario");
    let scenario = dir.file("bad.toml", "name = \"bad\"\n[network]\nloss = 0.1\nlossy = true\n");
    let output = driftsync(&[&"run", &scenario, &"--seed", &"1"], &[]);
    assert_eq!(code(&output), 65, "{}", stderr(&output));
    let expected = format!("{}:4: field `network.lossy`", scenario.display());
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
}

/// Goal: a typo on the command line is a usage error, never a run.
#[test]
fn an_unknown_flag_exits_2() {
    let output = driftsync(&[&"run", &standard_scenario(), &"--seed", &"1", &"--frobnicate"], &[]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("--frobnicate"), "{}", stderr(&output));
    let missing_seeds = driftsync(&[&"sweep", &standard_scenario()], &[]);
    assert_eq!(code(&missing_seeds), 2);
}

/// Goal: every run says which parameters it drew before it says how it went.
#[test]
fn run_prints_the_drawn_parameters_and_passes() {
    let dir = TempDir::new("run-standard");
    let output = driftsync(
        &[&"run", &standard_scenario(), &"--seed", &"1", &"--reports-dir", &dir.reports()],
        &[],
    );
    let text = stdout(&output);
    assert_eq!(code(&output), 0, "{text}{}", stderr(&output));
    let header = text.find("scenario standard").expect("the header names the scenario");
    let params = text.find("topology   clients 5").expect("the drawn parameters are printed");
    let verdict = text.find("run passed: standard seed 1").expect("the verdict is printed");
    assert!(header < params && params < verdict, "{text}");
    assert!(text.contains("digest "), "{text}");
    assert_eq!(last_line(&text), "1 passed, 0 failed");
    let repro_files = std::fs::read_dir(dir.reports())
        .expect("the run wrote its report folder")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("repro-"))
        .count();
    assert_eq!(repro_files, 0, "a passing run writes no repro file");
}

/// Goal: scripts can parse every command's stdout as one JSON document.
#[test]
fn json_output_is_one_parseable_document() {
    let dir = TempDir::new("json");
    let tiny = dir.file("tiny.toml", TINY_SCENARIO);
    let reports = dir.reports();
    let run = driftsync(
        &[&"run", &tiny, &"--seed", &"3", &"--format", &"json", &"--reports-dir", &reports],
        &[],
    );
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let run = json(&run);
    assert_eq!(run["outcome"]["seed"], 3);
    assert_eq!(run["params"]["clients"], 2);
    assert_eq!(run["passed"], true);

    let sweep = driftsync(
        &[&"sweep", &tiny, &"--seeds", &"3", &"--format", &"json", &"--reports-dir", &reports],
        &[],
    );
    assert_eq!(code(&sweep), 0, "{}", stderr(&sweep));
    let sweep = json(&sweep);
    assert_eq!(sweep["passed"], 3);
    assert_eq!(sweep["scenarios"][0]["name"], "tiny");

    let check =
        driftsync(&[&"check-determinism", &tiny, &"--seeds", &"2", &"--format", &"json"], &[]);
    assert_eq!(code(&check), 0, "{}", stderr(&check));
    assert_eq!(json(&check)["passed"], 2);
}

/// Goal: a broken repro file is a data error that names the file, never a panic.
#[test]
fn a_corrupt_repro_file_exits_65() {
    let dir = TempDir::new("corrupt-repro");
    for (name, contents) in [
        ("truncated.json", "{ \"harness_version\": \"0.1"),
        ("wrong-shape.json", "{ \"harness_version\": \"0.1.0\", \"seed\": \"three\" }"),
        ("future.json", "{ \"harness_version\": \"99.0.0\" }"),
    ] {
        let path = dir.file(name, contents);
        let output = driftsync(&[&"replay", &path], &[]);
        assert_eq!(code(&output), 65, "{name}: {}", stderr(&output));
        assert!(stderr(&output).contains(&path.display().to_string()), "{}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
}

/// Goal: a red run ends in one line that, pasted, replays the very same run.
#[test]
fn a_failing_seed_prints_one_replay_line_whose_repro_replays_the_same_digest() {
    let dir = TempDir::new("failing-seed");
    let slow = dir.file("slow.toml", SLOW_SCENARIO);
    let run = driftsync(&[&"run", &slow, &"--seed", &"7", &"--reports-dir", &dir.reports()], &[]);
    let text = stdout(&run);
    assert_eq!(code(&run), 1, "{text}{}", stderr(&run));
    for expected in ["FAILED slow seed 7", "checker liveness", "event ", "detail "] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    let replay_lines: Vec<&str> = text.lines().filter(|l| l.starts_with(REPLAY_PREFIX)).collect();
    let [replay_line] = replay_lines.as_slice() else {
        panic!("expected exactly one replay line in:\n{text}");
    };
    let repro_path = PathBuf::from(&replay_line[REPLAY_PREFIX.len()..]);
    assert!(repro_path.starts_with(dir.reports()), "{}", repro_path.display());
    let name = repro_path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
    assert!(name.starts_with("repro-") && name.len() == "repro-.json".len() + 16, "{name}");

    let replays = dir.path("replays");
    let replay = driftsync(&[&"replay", &repro_path, &"--reports-dir", &replays], &[]);
    let replayed = stdout(&replay);
    assert_eq!(code(&replay), 1, "the failure still fails:\n{replayed}");
    assert!(replayed.contains("digest matches the recorded digest"), "{replayed}");
    assert_eq!(last_line(&replayed), "0 passed, 1 failed");
    let report = replays.join("latest").join("summary.json");
    let summary = std::fs::read_to_string(&report).expect("the replay wrote its report");
    assert!(summary.contains("\"command\": \"replay\""), "{summary}");
    assert!(replayed.contains(&format!("report: {}", replays.display())), "{replayed}");
}

/// Goal: a sweep reports every failing seed in seed order and exits 1.
#[test]
fn a_sweep_with_failing_seeds_exits_1_with_a_block_per_seed_and_the_totals_last() {
    let dir = TempDir::new("failing-sweep");
    let slow = dir.file("slow.toml", SLOW_SCENARIO);
    let output = driftsync(
        &[
            &"sweep",
            &slow,
            &"--seeds",
            &"3",
            &"--start",
            &"10",
            &"--jobs",
            &"2",
            &"--reports-dir",
            &dir.reports(),
        ],
        &[],
    );
    let text = stdout(&output);
    assert_eq!(code(&output), 1, "{text}{}", stderr(&output));
    let blocks: Vec<&str> =
        text.lines().filter(|line| line.starts_with("FAILED slow seed")).collect();
    assert_eq!(blocks.len(), 3, "{text}");
    for (block, seed) in blocks.iter().zip(10..) {
        assert!(block.starts_with(&format!("FAILED slow seed {seed} ")), "{block}");
    }
    assert_eq!(text.lines().filter(|l| l.starts_with(REPLAY_PREFIX)).count(), 3);
    assert!(text.contains("slow: 0 passed, 3 failed; 0 of "), "{text}");
    assert!(text.contains(" writes quarantined; per worker thread: "), "{text}");
    assert_eq!(last_line(&text), "0 passed, 3 failed");
}

/// Goal: a repro that cannot be written is the harness's failure (70), reported with a rerun
/// command instead of a replay line.
#[test]
fn an_unwritable_reports_dir_exits_70() {
    let dir = TempDir::new("unwritable-reports");
    let slow = dir.file("slow.toml", SLOW_SCENARIO);
    let not_a_dir = dir.file("occupied", "a file where the reports directory should be");
    let output = driftsync(&[&"run", &slow, &"--seed", &"1", &"--reports-dir", &not_a_dir], &[]);
    assert_eq!(code(&output), 70, "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot write a repro file"), "{}", stderr(&output));
    assert!(stdout(&output).contains("rerun: cargo run --release -p driftsync-sim -- run "));
}

/// Goal: a planted bug's repro replays with the same sabotage and reproduces exactly.
#[test]
fn a_planted_failure_replays_with_its_sabotage() {
    let dir = TempDir::new("planted");
    let tiny = dir.file("tiny.toml", TINY_SCENARIO);
    let scenarios = load_scenarios(&[tiny]).expect("the tiny scenario is valid");
    let sabotage = Sabotage::NeverHeal;
    let options = SweepOptions { jobs: 1, sabotage: Some(sabotage), ..SweepOptions::default() };
    let result = run_sweep(&scenarios, 0..4, &options);
    let failing = result.seeds.iter().find(|seed| !seed.passed()).expect("never healing fails");
    let plan = failing.plan.as_ref().expect("a failing seed keeps its plan");
    let path = repro::write(&dir.reports(), plan, Some(sabotage), &failing.outcome)
        .expect("the repro file can be written");
    assert_eq!(repro::load(&path).expect("it loads back").sabotage, Some(sabotage));

    let output = driftsync(&[&"replay", &path, &"--format", &"json"], &[]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let replay = json(&output);
    assert_eq!(replay["digest_matches"], true);
    assert_eq!(replay["sabotage"], "NeverHeal");
    assert_eq!(replay["outcome"]["digest"], failing.outcome.digest.as_str());

    let output = driftsync(&[&"shrink", &path, &"--runs-max", &"500"], &[]);
    let text = stdout(&output);
    assert_eq!(code(&output), 1, "the shrunk run still fails:\n{text}{}", stderr(&output));
    assert!(text.contains("no smaller edit fails it"), "{text}");
    assert!(text.contains("after   0 faults, 0 writes, 1 clients"), "{text}");
    assert!(stderr(&output).contains("shrink: run "), "progress on stderr");
    let shrunk = text.lines().find_map(|l| l.strip_prefix(REPLAY_PREFIX)).expect(&text);
    let shrunk = PathBuf::from(shrunk);
    assert_eq!(shrunk.parent(), path.parent(), "written beside the original");
    assert_ne!(shrunk, path);
    let replayed = driftsync(&[&"replay", &shrunk, &"--reports-dir", &dir.reports()], &[]);
    assert_eq!(code(&replayed), 1, "{}", stdout(&replayed));
    assert!(stdout(&replayed).contains("checker liveness"), "{}", stdout(&replayed));
}

/// Goal: shards that cannot exist stop the sweep before it runs anything.
#[test]
fn an_impossible_shard_exits_2() {
    let dir = TempDir::new("bad-shard");
    let tiny = dir.file("tiny.toml", TINY_SCENARIO);
    let flag = driftsync(&[&"sweep", &tiny, &"--seeds", &"2", &"--shard", &"5/4"], &[]);
    assert_eq!(code(&flag), 2, "{}", stderr(&flag));
    let zero_based = driftsync(
        &[&"sweep", &tiny, &"--seeds", &"2"],
        &[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "4")],
    );
    assert_eq!(code(&zero_based), 2, "{}", stderr(&zero_based));
    assert!(stderr(&zero_based).contains("1-based"), "{}", stderr(&zero_based));
    let no_total =
        driftsync(&[&"sweep", &tiny, &"--seeds", &"2"], &[("JOB_COMPLETION_INDEX", "1")]);
    assert_eq!(code(&no_total), 2, "{}", stderr(&no_total));
    assert!(stderr(&no_total).contains("JOB_COMPLETION_TOTAL"), "{}", stderr(&no_total));
}

/// Goal: a sharded CI job runs only its share of the seeds, with no flag needed.
#[test]
fn the_ci_environment_shards_a_sweep() {
    let dir = TempDir::new("ci-shard");
    let tiny = dir.file("tiny.toml", TINY_SCENARIO);
    let args: [&dyn AsRef<std::ffi::OsStr>; 6] =
        [&"sweep", &tiny, &"--seeds", &"7", &"--format", &"json"];
    let ci = driftsync(&args, &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]);
    assert_eq!(code(&ci), 0, "{}", stderr(&ci));
    let ci = json(&ci);
    assert_eq!(ci["passed"], 2, "seeds 1 and 4 of 0..7");
    assert_eq!(ci["shard"]["number"], 2);
    let kubernetes =
        driftsync(&args, &[("JOB_COMPLETION_INDEX", "0"), ("JOB_COMPLETION_TOTAL", "3")]);
    assert_eq!(json(&kubernetes)["passed"], 3, "seeds 0, 3 and 6 of 0..7");
}

/// Goal: the same seed run twice gives the same digest, and the command says so.
#[test]
fn check_determinism_passes_on_a_small_scenario() {
    let dir = TempDir::new("determinism");
    let tiny = dir.file("tiny.toml", TINY_SCENARIO);
    let reports = dir.reports();
    let output = driftsync(
        &[
            &"check-determinism",
            &tiny,
            &"--seeds",
            &"3",
            &"--start",
            &"5",
            &"--reports-dir",
            &reports,
        ],
        &[],
    );
    let text = stdout(&output);
    assert_eq!(code(&output), 0, "{text}{}", stderr(&output));
    assert_eq!(last_line(&text), "3 passed, 0 failed");
    let verdict = text.lines().find_map(|line| line.strip_prefix("verdict: ")).expect(&text);
    assert!(PathBuf::from(verdict).starts_with(&reports), "{verdict}");
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(verdict).expect("written")).expect("JSON");
    assert_eq!((document["passed"].as_u64(), document["seeds_start"].as_u64()), (Some(3), Some(5)));
}

/// Goal: the exit codes and the sharding rules are documented where users look.
#[test]
fn help_documents_exit_codes_and_sharding() {
    let top = stdout(&driftsync(&[&"--help"], &[]));
    for expected in ["65", "EX_DATAERR", "70", "EX_SOFTWARE", "RUST_LOG"] {
        assert!(top.contains(expected), "{expected:?} missing from:\n{top}");
    }
    let sweep = driftsync(&[&"sweep", &"--help"], &[]);
    assert_eq!(code(&sweep), 0);
    let sweep = stdout(&sweep);
    for expected in ["CI_NODE_INDEX", "1-based", "JOB_COMPLETION_TOTAL", "CIRCLE_NODE_INDEX"] {
        assert!(sweep.contains(expected), "{expected:?} missing from:\n{sweep}");
    }
}

/// Goal: a scenario that quietly stopped testing what it was written for fails its sweep: an
/// offline fault that never takes a client offline, and a mark that never fires, are named.
#[test]
fn require_coverage_fails_a_sweep_that_never_reached_what_its_scenario_names() {
    let dir = TempDir::new("coverage");
    let stale = dir.file(
        "stale.toml",
        "name = \"stale\"\n[topology]\nclients = 2\n[faults]\n\
         offline = { fraction = 0.01, duration_s = 10 }\n\
         [coverage]\nrequire = [\"tombstone-collected\"]\n",
    );
    let reports = dir.reports();
    let lenient = driftsync(&[&"sweep", &stale, &"--seeds", &"3", &"--reports-dir", &reports], &[]);
    assert_eq!(code(&lenient), 0, "without the flag coverage is reported, not required");
    let strict = driftsync(
        &[&"sweep", &stale, &"--seeds", &"3", &"--require-coverage", &"--reports-dir", &reports],
        &[],
    );
    let text = stdout(&strict);
    assert_eq!(code(&strict), 1, "{text}");
    let line = "UNCOVERED stale: never happened in any seed: offline, tombstone-collected";
    assert!(text.contains(line), "{text}");
    assert_eq!(last_line(&text), "3 passed, 0 failed");
    let summary = std::fs::read_to_string(reports.join("latest").join("summary.md"));
    assert!(summary.expect("written").contains("## Coverage"));

    let tiny = dir.file("tiny.toml", TINY_SCENARIO);
    let covered = driftsync(&[&"sweep", &tiny, &"--seeds", &"2", &"--require-coverage"], &[]);
    assert_eq!(code(&covered), 0, "{}", stdout(&covered));
}
