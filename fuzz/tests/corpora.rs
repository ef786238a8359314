//! Every input in the committed fuzz corpora (`fuzz/corpus/<target>/`) goes through its target
//! on stable, as an ordinary test: an input that once crashed a target, kept in its corpus,
//! fails this test if the bug comes back.

use std::path::{Path, PathBuf};

fn corpus_of(target: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let entries =
        std::fs::read_dir(&folder).unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    let mut inputs: Vec<PathBuf> = entries.map(|entry| entry.expect("listable").path()).collect();
    inputs.sort();
    inputs
}

#[test]
fn every_committed_corpus_input_runs_through_its_target_without_a_crash() {
    for (target, run) in driftsync_fuzz::TARGETS {
        let inputs = corpus_of(target);
        assert!(inputs.len() >= 10, "{target}: a corpus of {} inputs is too thin", inputs.len());
        for input in inputs {
            let data = std::fs::read(&input).expect("a corpus file reads");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target} crashed on {}", input.display());
        }
    }
}

#[test]
fn the_targets_check_what_they_accept_not_only_that_nothing_panics() {
    // A shipped schema file, a shipped scenario: accepted, and their checks pass.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    driftsync_fuzz::schema_file(&std::fs::read(root.join("schemas/notes.toml")).expect("shipped"));
    let scenario = std::fs::read(root.join("scenarios/standard.toml")).expect("shipped");
    driftsync_fuzz::scenario_file(&scenario);
}
