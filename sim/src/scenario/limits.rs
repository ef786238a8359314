//! Upper bounds on every scenario knob, so that no scenario file can ask for an unbounded run.

/// Longest scenario name.
pub const SCENARIO_NAME_LEN_MAX: usize = 64;
/// Most clients in one run.
pub const CLIENTS_MAX: u64 = 1_000;
/// Most writes one client issues in one run.
pub const WRITES_PER_CLIENT_MAX: u64 = 100_000;
/// Most writes all clients together may issue in one run (bounds the plan's memory).
pub const WRITES_TOTAL_MAX: u64 = 1_000_000;
/// Most records per collection.
pub const RECORDS_MAX: u64 = 1_000_000;
/// Most collections.
pub const COLLECTIONS_COUNT_MAX: usize = 16;
/// Longest collection name.
pub const COLLECTION_NAME_LEN_MAX: usize = 32;
/// Largest action weight; weights are ratios, so this only rejects typos such as `1e300`.
pub const MIX_WEIGHT_MAX: f64 = 1_000_000.0;
/// Fastest mean write rate of one client.
pub const WRITES_PER_SEC_MAX: f64 = 10_000.0;
/// Slowest one-way message latency: ten minutes.
pub const LATENCY_MS_MAX: u64 = 600_000;
/// Most partitions, crashes or clock jumps of each kind in one run.
pub const FAULTS_COUNT_MAX: u64 = 100;
/// Longest duration of anything (phases, outages, timers): thirty days.
pub const DURATION_S_MAX: u64 = 30 * 86_400;
/// Largest clock offset, clock jump or allowed clock lead: seven days.
pub const CLOCK_OFFSET_MS_ABS_MAX: i64 = 7 * 86_400_000;
/// Largest clock drift: 10%, far beyond any quartz but within reach of a broken NTP client.
pub const CLOCK_DRIFT_PPM_ABS_MAX: i64 = 100_000;
/// Shortest downtime of a crashed node before it restarts.
pub const CRASH_DOWNTIME_S_MIN: u64 = 1;
/// Longest downtime of a crashed node before it restarts.
pub const CRASH_DOWNTIME_S_MAX: u64 = 30;
/// Longest string value an app's workload may ask for, in characters.
pub const TEXT_CHARS_MAX: u64 = 65_536;
/// Longest bytes value an app's workload may ask for.
pub const BYTES_MAX: u64 = 65_536;
