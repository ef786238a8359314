//! Goal: scenario files parse into validated specs, every mistake is reported at its file, line
//! and field, and drawing is a deterministic function of the seed.

use super::*;
use crate::seed::Seed;

fn parse(text: &str) -> Result<ScenarioSpec, ScenarioError> {
    ScenarioSpec::from_toml_str(Path::new("scenarios/x.toml"), text)
}

fn error_of(text: &str) -> ScenarioError {
    parse(text).expect_err("the scenario is invalid")
}

fn shipped_scenarios_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Goal: the scenarios CI runs are all valid, named after their files, and plannable.
#[test]
fn every_shipped_scenario_file_parses_and_plans() {
    let scenarios = load_scenarios(&[shipped_scenarios_directory()]).expect("shipped scenarios");
    let names: Vec<&str> = scenarios.iter().map(|s| s.spec.name.as_str()).collect();
    let expected = [
        "app-notebook",
        "app-tasks",
        "big-resync",
        "client-ahead",
        "clock-chaos",
        "conflict-storm",
        "crash-restart",
        "damaged-wire",
        "extreme",
        "flaky-network",
        "fresh-installs",
        "hostile",
        "invalid-payloads",
        "long-offline",
        "partition-heal",
        "quarantine-restart",
        "reconnect-herd",
        "refused-versions",
        "rollback",
        "rolling-upgrade",
        "server-ahead",
        "standard",
        "tombstone-expiry",
        "tombstone-gc",
    ];
    assert_eq!(names, expected, "files are loaded sorted by file name");
    for scenario in &scenarios {
        let stem = scenario.path.file_stem().and_then(|stem| stem.to_str());
        assert_eq!(stem, Some(scenario.spec.name.as_str()));
        assert!(!scenario.spec.description.is_empty(), "{} has no description", stem.unwrap_or(""));
        let run = crate::plan::plan(&scenario.spec, Seed(1));
        assert!(!run.workload.is_empty(), "{} plans no writes", scenario.spec.name);
    }
}

/// Goal: a typo in a key is caught, not silently ignored.
#[test]
fn an_unknown_key_is_reported_at_its_line_and_field() {
    let error = error_of("name = \"x\"\n\n[network]\nlatency_ms = 5\nlos = 0.5\n");
    assert_eq!(error.line, Some(5));
    assert_eq!(error.field, "network.los");
    assert!(error.message.contains("unknown field `los`"), "{}", error.message);
}

/// Goal: an unknown key inside an inline table names the full path.
#[test]
fn an_unknown_key_in_an_inline_table_is_reported_with_its_full_path() {
    let error = error_of("name = \"x\"\n[faults]\ncrashes = { count = 1, servers = true }\n");
    assert_eq!(error.line, Some(3));
    assert_eq!(error.field, "faults.crashes.servers");
}

/// Goal: a value of the wrong type says what would be accepted.
#[test]
fn a_wrong_type_is_reported_at_its_line_and_field() {
    let error = error_of("name = \"x\"\n[topology]\nclients = \"five\"\n");
    assert_eq!(error.line, Some(3));
    assert_eq!(error.field, "topology.clients");
    assert!(error.message.contains("two-element array [lo, hi]"), "{}", error.message);
}

/// Goal: a float where an integer is required is not silently truncated.
#[test]
fn a_fractional_bound_of_an_integer_range_is_reported_at_the_bound() {
    let error = error_of("name = \"x\"\n[faults]\n\n[faults.clocks]\njumps = [1, 2.5]\n");
    assert_eq!(error.line, Some(5));
    assert_eq!(error.field, "faults.clocks.jumps[1]");
    assert_eq!(error.message, "expected a non-negative integer, found 2.5");
}

/// Goal: an empty range is rejected rather than drawn from.
#[test]
fn a_range_with_lo_above_hi_is_reported_at_its_line_and_field() {
    let error = error_of("name = \"x\"\n[network]\nlatency_ms = [300, 1]\n");
    assert_eq!(error.line, Some(3));
    assert_eq!(error.field, "network.latency_ms");
    assert!(error.message.contains("lo 300 is greater than hi 1"), "{}", error.message);
}

/// Goal: the error reads exactly as documented, with file, line, field and value.
#[test]
fn a_probability_above_one_is_reported_in_the_documented_format() {
    let text = "name = \"x\"\n[network]\nloss = 0.1\nduplicate = [0, 1.5]\n";
    let error = error_of(text);
    assert_eq!(
        error.to_string(),
        "scenarios/x.toml:4: field `network.duplicate`: must be within [0, 1], found 1.5"
    );
}

/// Goal: range checks apply to nested fault tables too.
#[test]
fn a_fraction_outside_zero_to_one_is_reported_in_its_fault_table() {
    let error = error_of("name = \"x\"\n[faults.offline]\nduration_s = 5\nfraction = -0.5\n");
    assert_eq!(error.line, Some(4));
    assert_eq!(error.field, "faults.offline.fraction");
}

/// Goal: the one required key is named even though it has no line.
#[test]
fn a_missing_name_is_reported_without_a_line() {
    let error = error_of("description = \"no name\"\n");
    assert_eq!(error.line, None);
    assert_eq!(error.field, "name");
    assert_eq!(error.to_string(), "scenarios/x.toml: field `name`: missing field `name`");
}

/// Goal: a mix nobody can draw from is rejected.
#[test]
fn mix_weights_that_sum_to_zero_are_rejected() {
    let text = "name = \"x\"\n[workload]\nrecords = 3\nmix = { put = 0, update = 0, delete = 0, \
     increment = 0 }\n";
    let error = error_of(text);
    assert_eq!(error.line, Some(4));
    assert_eq!(error.field, "workload.mix");
}

/// Goal: collections are checked one by one, at the element's own line.
#[test]
fn a_bad_collection_name_is_reported_at_its_element() {
    let error =
        error_of("name = \"x\"\n[workload]\ncollections = [\n  \"notes\",\n  \"Bad Name\",\n]\n");
    assert_eq!(error.line, Some(5));
    assert_eq!(error.field, "workload.collections[1]");
}

/// Goal: empty collections are rejected, not defaulted.
#[test]
fn empty_collections_are_rejected() {
    let error = error_of("name = \"x\"\n[workload]\ncollections = []\n");
    assert_eq!((error.line, error.field.as_str()), (Some(3), "workload.collections"));
    let error = error_of("name = \"x\"\n[faults]\npartitions = { kinds = [] }\n");
    assert_eq!((error.line, error.field.as_str()), (Some(3), "faults.partitions.kinds"));
}

/// Goal: unbounded runs are impossible.
#[test]
fn a_client_count_above_the_limit_is_rejected() {
    let error = error_of("name = \"x\"\ntopology.clients = [1, 5000]\n");
    assert_eq!(error.line, Some(2));
    assert_eq!(error.message, "must be within [1, 1000], found 5000");
}

/// Goal: broken TOML is located too.
#[test]
fn a_syntax_error_is_reported_at_its_line() {
    let error = error_of("name = \"x\"\n\n[network\nloss = 0.1\n");
    assert_eq!(error.line, Some(3));
    assert!(error.message.starts_with("invalid TOML"), "{}", error.message);
}

/// Goal: the documented defaults apply to every absent key.
#[test]
fn absent_keys_take_their_documented_defaults() {
    let spec = parse("name = \"minimal\"").expect("a name is all a scenario needs");
    assert_eq!(spec.topology.clients, Range::Fixed(3));
    assert_eq!(spec.workload.writes_per_client, Range::Fixed(100));
    assert_eq!(spec.workload.records, Range::Fixed(50));
    assert_eq!(spec.workload.collections, ["notes"]);
    assert_eq!(spec.workload.writes_per_sec, Range::Fixed(5.0));
    assert_eq!(spec.network.loss, Range::Fixed(0.0));
    assert!(!spec.network.reorder);
    assert_eq!(spec.faults, FaultsSpec::default());
    assert_eq!((spec.server.gc_interval_s, spec.server.client_eviction_s), (30, 86_400));
    assert_eq!((spec.client.sync_interval_s, spec.client.clock_ahead_ms_max), (10, 60_000));
    assert_eq!((spec.run.chaos_s, spec.run.liveness_deadline_s), (300, 900));
    let mix =
        parse("name = \"x\"\nworkload.mix = { put = 1, update = 1, delete = 1, increment = 1 }")
            .expect("resolve is optional");
    assert_eq!(mix.workload.mix.resolve, 0.0);
}

/// Goal: a scalar is the same for every seed; a range is drawn inside its bounds and varies.
#[test]
fn scalars_are_fixed_and_ranges_are_drawn_within_their_bounds() {
    let text = "name = \"x\"\n[topology]\nclients = 4\n[network]\nlatency_ms = [10, 20]\nloss = \
     [0.1, 0.2]\n";
    let spec = parse(text).expect("valid scenario");
    let mut losses = std::collections::BTreeSet::new();
    for seed in 0..50 {
        let params = spec.draw(Seed(seed));
        assert_eq!(params.clients, 4);
        let network = &params.network;
        assert!(10 <= network.latency_ms_min, "seed {seed}");
        assert!(network.latency_ms_min <= network.latency_ms_max, "seed {seed}");
        assert!(network.latency_ms_max <= 20, "seed {seed}");
        assert!((0.1..=0.2).contains(&network.loss), "seed {seed}");
        losses.insert(network.loss.to_bits());
    }
    assert!(losses.len() > 40, "loss barely varies: {} values", losses.len());
}

/// Goal: parameters depend on the seed only, survive a repro file, and print in full.
#[test]
fn drawn_parameters_are_deterministic_round_trip_and_print_every_value() {
    let spec = load_scenarios(&[shipped_scenarios_directory().join("standard.toml")])
        .expect("standard scenario")
        .remove(0)
        .spec;
    let params = spec.draw(Seed(42));
    assert_eq!(params, spec.draw(Seed(42)));
    assert_ne!(params, spec.draw(Seed(43)));
    let json = serde_json::to_string(&params).expect("params hold only serialisable values");
    let decoded: Params = serde_json::from_str(&json).expect("the JSON was just written");
    assert_eq!(decoded, params);
    let printed = params.to_string();
    for needle in ["writes_per_sec", "latency_ms", "loss", "jumps_count", "gc_interval_s"] {
        assert!(printed.contains(needle), "missing {needle} in:\n{printed}");
    }
    assert_eq!(printed.matches("offset_ms").count(), 6, "one clock line per node:\n{printed}");
}

/// Goal: two files may not claim one name, since repro commands find scenarios by name.
#[test]
fn loading_two_scenarios_with_one_name_is_rejected_at_the_second() {
    let directory =
        std::env::temp_dir().join(format!("driftsync-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temporary directory is writable");
    let first = directory.join("a.toml");
    let second = directory.join("b.toml");
    std::fs::write(&first, "name = \"same\"\n").expect("temporary file is writable");
    std::fs::write(&second, "# the same name again\nname = \"same\"\n").expect("writable");
    let result = load_scenarios(std::slice::from_ref(&directory));
    std::fs::remove_dir_all(&directory).expect("the directory was just created");
    let error = result.expect_err("duplicate names");
    assert_eq!(error.file, second);
    assert_eq!((error.line, error.field.as_str()), (Some(2), "name"));
}

/// Goal: hostile peers without token checks to attack is a mistake named at its field.
#[test]
fn hostile_peers_without_tokens_are_refused_at_their_line() {
    let error = error_of("name = \"x\"\n[security]\nhostile = [\"replay\"]\n");
    assert_eq!(error.field, "security.hostile");
    assert_eq!(error.line, Some(3));
    assert!(error.message.contains("tokens = true"), "{}", error.message);
}

/// Goal: an unknown hostile kind lists the kinds there are.
#[test]
fn an_unknown_hostile_kind_is_reported_with_its_field() {
    let error = error_of("name = \"x\"\n[security]\ntokens = true\nhostile = [\"dos\"]\n");
    assert!(error.field.starts_with("security.hostile"), "{}", error.field);
    assert!(error.message.contains("forged-token"), "{}", error.message);
}
