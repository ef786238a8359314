//! A fleet on links slower than the client's response timeout converges: requests wait for
//! their answers, and "converged" does not ask every client to be idle at one instant, which
//! never happens when some client is always between a request and its answer.

use std::path::Path;

use driftsync_sim::engine::{RunOptions, run};
use driftsync_sim::plan::plan;
use driftsync_sim::scenario::ScenarioSpec;
use driftsync_sim::seed::Seed;

/// Twenty clients, every message two seconds on its way: a round trip of four seconds against
/// a three-second response timeout, and pulls every five seconds that keep someone busy always.
const SLOW: &str = r#"
name = "slow"
[topology]
clients = 20
[workload]
writes_per_client = 20
records = 20
writes_per_sec = 0.2
[network]
latency_ms = 2000
[client]
sync_interval_s = 5
[run]
chaos_s = 120
liveness_deadline_s = 900
"#;

#[test]
fn a_fleet_on_links_slower_than_the_response_timeout_converges() {
    let spec = ScenarioSpec::from_toml_str(Path::new("slow.toml"), SLOW).expect("valid scenario");
    for seed in 0..2 {
        let outcome = run(&plan(&spec, Seed(seed)), &RunOptions::default());
        assert!(outcome.passed(), "seed {seed}: {:?}", outcome.failures);
        assert_eq!(outcome.stats.writes_committed, 20 * 20);
    }
}
