//! The user's own app in a scenario (`[app]`): its schema drives the fleet, the writes fit it
//! in the version of each writer, the workload's key choice and value sizes hold, a bad app is
//! refused naming file, line and field, and the checkers catch a planted bug in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use driftsync_core::{FieldType, MergePolicy, SchemaLineage, Value};
use driftsync_sim::engine::{RunOptions, Sabotage, run};
use driftsync_sim::outcome::Checker;
use driftsync_sim::plan::{Plan, WriteAction, plan};
use driftsync_sim::scenario::{Scenario, ScenarioError, ScenarioSpec};
use driftsync_sim::seed::Seed;
use driftsync_sim::shrink::{Budget, Size, shrink};

mod common;
use common::TempDir;

fn shipped(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
    Scenario::load(&path).unwrap_or_else(|error| panic!("{error}"))
}

fn lineage_of(plan: &Plan) -> SchemaLineage {
    let app = plan.params.app.as_ref().expect("an app scenario");
    app.lineage_up_to(plan.params.schema.version_max()).expect("validated")
}

/// Goal: every planned write names a collection and fields of the app, with values of the
/// field's type in the writer's version, and increments and resolutions target counters and
/// multi-value fields.
#[test]
fn every_write_of_an_app_scenario_fits_the_apps_schema_in_the_writers_version() {
    for name in ["app-tasks.toml", "app-notebook.toml"] {
        let scenario = shipped(name);
        let plan = plan(&scenario.spec, Seed(5));
        let lineage = lineage_of(&plan);
        assert!(lineage.latest() >= 2, "{name}: a history of versions");
        let mut versions_seen = std::collections::BTreeSet::new();
        for write in &plan.workload {
            let version = write.version.expect("app writes say their version");
            versions_seen.insert(version);
            let schema = lineage.schema(version).expect("a version of the lineage");
            let field = |name: &str| {
                let field = schema.field(&write.collection, name);
                field.unwrap_or_else(|| panic!("{} has no {name} in v{version}", write.collection))
            };
            match &write.action {
                WriteAction::Put { fields } | WriteAction::Update { fields } => {
                    for (name, value) in fields {
                        let declared = field(name);
                        assert!(!declared.deprecated, "{name} is removed in v{version}");
                        let fits = value.field_type().is_none_or(|ty| ty == declared.ty);
                        assert!(fits, "{name} = {value:?} in v{version}");
                        assert_ne!(declared.policy, MergePolicy::Counter);
                    }
                }
                WriteAction::Increment { field: name, .. } => {
                    assert_eq!(field(name).policy, MergePolicy::Counter);
                }
                WriteAction::Resolve { field: name } => {
                    assert_eq!(field(name).policy, MergePolicy::MultiValue);
                }
                WriteAction::Delete => {}
            }
        }
        assert!(versions_seen.len() >= 2, "{name}: writers of several versions {versions_seen:?}");
        let outcome = run(&plan, &RunOptions::default());
        assert!(outcome.passed(), "{name}: {:?}", outcome.failures);
    }
}

const BASE: &str = r#"
name = "mine"
[workload]
writes_per_client = 400
records = 20
[app]
schema_toml = '''
[collections.items]
title = { type = "string", required = true }
body = { type = "string" }
data = { type = "bytes" }
hits = { type = "i64", merge = "counter" }
'''
"#;

fn spec_with(extra: &str) -> Result<ScenarioSpec, ScenarioError> {
    ScenarioSpec::from_toml_str(Path::new("mine.toml"), &format!("{BASE}{extra}"))
}

fn record_counts(plan: &Plan) -> BTreeMap<u32, usize> {
    let mut counts = BTreeMap::new();
    for write in &plan.workload {
        *counts.entry(write.record).or_default() += 1;
    }
    counts
}

/// Goal: Zipf keys give the first record the most writes, falling with rank; a hot set takes
/// its share of the writes.
#[test]
fn zipf_keys_favour_the_first_records_and_a_hot_set_takes_its_share() {
    let zipf = spec_with("[app.collections.items]\nkeys = { zipf = 1.5 }\nrecords = 100\n");
    let plan_zipf = plan(&zipf.expect("valid"), Seed(1));
    let counts = record_counts(&plan_zipf);
    let total: usize = counts.values().sum();
    // P(first) = 1 / H(100, 1.5), about 0.39 of 1,200 writes.
    let first = counts.get(&0).copied().unwrap_or(0);
    assert!(first * 100 > total * 30 && first * 100 < total * 48, "{first} of {total}");
    assert!(counts.get(&1).copied().unwrap_or(0) > counts.get(&20).copied().unwrap_or(0));

    let hot = "[app.collections.items]\nkeys = { hot = { fraction = 0.1, share = 0.9 } }\n";
    let plan_hot = plan(&spec_with(hot).expect("valid"), Seed(1));
    let counts = record_counts(&plan_hot);
    let in_hot: usize = counts.iter().filter(|(record, _)| **record < 2).map(|(_, n)| n).sum();
    let total: usize = counts.values().sum();
    assert!(in_hot * 100 > total * 85 && in_hot * 100 < total * 95, "{in_hot} of {total}");
    assert!(counts.keys().any(|record| *record >= 2), "the cold records get writes too");
}

/// Goal: string and bytes values are as large as the workload says, so payload size can be
/// measured; field lists limit what each kind of write touches.
#[test]
fn values_are_as_large_as_the_workload_asks_and_writes_touch_the_listed_fields() {
    let extra = "[app.collections.items]\ntext_chars = [1000, 2000]\nbytes = [300, 400]\n\
                 update = [\"data\"]\n";
    let plan = plan(&spec_with(extra).expect("valid"), Seed(2));
    let mut sizes_seen = 0;
    for write in &plan.workload {
        let (WriteAction::Put { fields } | WriteAction::Update { fields }) = &write.action else {
            continue;
        };
        if matches!(write.action, WriteAction::Update { .. }) {
            assert_eq!(fields.keys().collect::<Vec<_>>(), ["data"], "only the listed field");
        }
        for value in fields.values() {
            match value {
                Value::Str(text) => assert!((1000..=2000).contains(&text.chars().count())),
                Value::Bytes(bytes) => assert!((300..=400).contains(&bytes.len())),
                _ => continue,
            }
            sizes_seen += 1;
        }
    }
    assert!(sizes_seen > 100, "{sizes_seen} sized values");
}

/// Goal: whatever is wrong with an app is refused before anything runs, naming the file, the
/// line and the field.
#[test]
fn a_bad_app_is_refused_naming_file_line_and_field() {
    let unknown = spec_with("[app.collections.items]\nupdate = [\"body\", \"colour\"]\n");
    let error = unknown.expect_err("no such field");
    assert_eq!(error.field, "app.collections.items.update[1]");
    assert_eq!(error.line, Some(15));
    assert!(error.message.contains("no field \"colour\""), "{error}");

    let counter = spec_with("[app.collections.items]\nput = [\"hits\"]\n").expect_err("counter");
    assert!(counter.message.contains("which a put cannot write"), "{counter}");

    let collection = spec_with("[app.collections.other]\nshare = 1\n").expect_err("no such");
    assert_eq!(collection.field, "app.collections.other");

    let inline = ScenarioSpec::from_toml_str(
        Path::new("mine.toml"),
        "name = \"x\"\n[app]\nschema_toml = '''\n[collections.a]\nt = { type = \"text\" }\n'''\n",
    )
    .expect_err("no such type");
    assert_eq!((inline.file.as_path(), inline.line), (Path::new("mine.toml"), Some(5)), "{inline}");
    assert!(inline.field.contains("a.t"), "{inline}");

    let dir = TempDir::new("bad-app");
    let schema = dir.file("app.toml", "[collections.a]\nt = { type = \"string\" }\n\nu = 3\n");
    dir.file("s.toml", "name = \"s\"\n[app]\nschema = \"app.toml\"\n");
    let error = Scenario::load(&dir.path("s.toml")).expect_err("a broken schema file");
    assert_eq!(error.file, schema, "{error}");
    assert_eq!(error.line, Some(4), "{error}");

    dir.file("missing.toml", "name = \"s\"\n[app]\nschema = \"nowhere.toml\"\n");
    let error = Scenario::load(&dir.path("missing.toml")).expect_err("no schema file");
    assert_eq!((error.field.as_str(), error.line), ("app.schema", Some(3)), "{error}");

    let both = "name = \"s\"\n[app]\nschema = \"a.toml\"\nschema_toml = \"\"\n";
    let error = ScenarioSpec::from_toml_str(Path::new("b.toml"), both).expect_err("both");
    assert_eq!(error.field, "app");

    let beyond = spec_with("[schema]\nclient_versions = 2\n").expect_err("v2 does not exist");
    assert_eq!(beyond.field, "schema.client_versions");
    assert!(beyond.message.contains("[1, 1]"), "{beyond}");
}

/// Goal: the checkers judge the user's app too: a value altered on its way to the server is
/// caught, and the failure shrinks small.
#[test]
fn a_planted_bug_in_the_users_app_is_caught_and_shrinks() {
    let spec = shipped("app-tasks.toml").spec;
    let sabotage = Sabotage::AlterPushedValue;
    let options = RunOptions { sabotage: Some(sabotage), ..RunOptions::default() };
    let plan = plan(&spec, Seed(0));
    let outcome = run(&plan, &options);
    assert!(
        outcome.failures.iter().any(|f| f.checker == Checker::Oracle),
        "{:?}",
        outcome.failures
    );
    let budget = Budget { wall: None, runs_max: 3_000 };
    let shrunk = shrink(&plan, Some(sabotage), Some(Checker::Oracle), budget, &mut |_, _| {})
        .expect("reproduces");
    let after = Size::of(&shrunk.plan);
    assert!(after.faults <= 10 && after.writes <= 50, "{after}");
}

/// Goal: a repro of an app scenario carries the schema: it replays with the schema file gone.
#[test]
fn a_repro_of_an_app_scenario_replays_without_its_schema_file() {
    let dir = TempDir::new("app-repro");
    dir.file("app.toml", "[collections.a]\nt = { type = \"string\", required = true }\n");
    let scenario_path: PathBuf = dir.file("s.toml", "name = \"s\"\n[app]\nschema = \"app.toml\"\n");
    let scenario = Scenario::load(&scenario_path).expect("valid");
    let plan = plan(&scenario.spec, Seed(4));
    let outcome = run(&plan, &RunOptions::default());
    let path =
        driftsync_sim::repro::write(&dir.path("reports"), &plan, None, &outcome).expect("written");
    std::fs::remove_file(dir.path("app.toml")).expect("removed");
    let loaded = driftsync_sim::repro::load(&path).expect("loads without the schema file");
    let again = run(&loaded.plan, &RunOptions::default());
    assert_eq!(again.digest, outcome.digest);
    let field =
        |name: &str| lineage_of(&loaded.plan).latest_schema().field("a", name).map(|f| f.ty);
    assert_eq!(field("t"), Some(FieldType::Str));
}
