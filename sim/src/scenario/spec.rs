//! The scenario file's schema: one struct per TOML table, with the documented defaults.
//!
//! Build a `ScenarioSpec` with [`ScenarioSpec::from_toml_str`], which validates it; the serde
//! impls exist for that parser and for repro files that embed an already validated spec. The
//! fields are public so that the planner, the shrinker and reports can read every knob.

use serde::{Deserialize, Serialize};

use super::app::AppSpec;
use super::range::Range;
use super::rollout::SchemaSpec;
use super::security::SecuritySpec;

/// A validated scenario: what to simulate, with ranged values still undrawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// Short identifier, `[a-z0-9_-]`, used in repro commands and report names.
    pub name: String,
    /// What the scenario stresses, for people reading reports.
    #[serde(default)]
    pub description: String,
    /// How many nodes take part.
    #[serde(default)]
    pub topology: TopologySpec,
    /// What the clients write.
    #[serde(default)]
    pub workload: WorkloadSpec,
    /// How messages travel when no partition or outage is in force.
    #[serde(default)]
    pub network: NetworkSpec,
    /// Partitions, outages, crashes and clock faults during the chaos phase.
    #[serde(default)]
    pub faults: FaultsSpec,
    /// Server configuration.
    #[serde(default)]
    pub server: ServerSettings,
    /// Client configuration.
    #[serde(default)]
    pub client: ClientSettings,
    /// Phase lengths.
    #[serde(default)]
    pub run: RunSettings,
    /// Schema versions in play: mixed clients, upgrades, server upgrades and rollbacks.
    #[serde(default)]
    pub schema: SchemaSpec,
    /// Signed tokens and hostile peers.
    #[serde(default, skip_serializing_if = "SecuritySpec::is_default")]
    pub security: SecuritySpec,
    /// The user's own app: its schema and how its users write. Absent, the demo notes app
    /// (`schemas/notes.toml`) is written as `[workload]` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<AppSpec>,
    /// What a sweep of this scenario must go through (see `report::coverage`).
    #[serde(default, skip_serializing_if = "CoverageSpec::is_default")]
    pub coverage: CoverageSpec,
}

/// `[coverage]`: besides every kind of fault the scenario turns on, the faults and core marks
/// (`driftsync_core::Mark`) some seed of a sweep must go through.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoverageSpec {
    /// Fault and mark names, such as `"lost-ack-settled-by-welcome"`.
    pub require: Vec<String>,
    /// Fail every sweep of this scenario that misses one, as `--require-coverage` does.
    pub enforce: bool,
}

impl CoverageSpec {
    fn is_default(&self) -> bool {
        *self == CoverageSpec::default()
    }
}

/// `[topology]`: one server (node 0) and `clients` clients (nodes 1..=clients).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologySpec {
    /// Number of clients (at most [`super::limits::CLIENTS_MAX`]).
    pub clients: Range<u64>,
}

impl Default for TopologySpec {
    fn default() -> Self {
        TopologySpec { clients: Range::Fixed(3) }
    }
}

/// `[workload]`: every client writes to records shared by all clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Writes each client issues during the chaos phase.
    pub writes_per_client: Range<u64>,
    /// Records per collection; writes pick one uniformly, so fewer records mean more contention.
    pub records: Range<u64>,
    /// Collection names, `[a-z0-9_-]{1,32}`, distinct.
    pub collections: Vec<String>,
    /// Relative weights of the write actions.
    pub mix: Mix,
    /// Mean write rate of each client, in writes per simulated second.
    pub writes_per_sec: Range<f64>,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            writes_per_client: Range::Fixed(100),
            records: Range::Fixed(50),
            collections: vec!["notes".to_owned()],
            mix: Mix::default(),
            writes_per_sec: Range::Fixed(5.0),
        }
    }
}

/// Relative weights of the write actions; only their ratios matter, and they must not all be 0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    /// Create or overwrite a record.
    pub put: f64,
    /// Change some fields of a record.
    pub update: f64,
    /// Tombstone a record.
    pub delete: f64,
    /// Add a delta to the counter field.
    pub increment: f64,
    /// A person resolves the multi-value field.
    #[serde(default)]
    pub resolve: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix { put: 0.5, update: 0.3, delete: 0.1, increment: 0.1, resolve: 0.0 }
    }
}

/// `[network]`: the fault-free behaviour of every link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSpec {
    /// Bounds for the per-seed latency interval; see `NetworkParams` for how it is drawn.
    pub latency_ms: Range<u64>,
    /// Probability that a message is dropped.
    pub loss: Range<f64>,
    /// Probability that a message is delivered twice.
    pub duplicate: Range<f64>,
    /// Probability that a message arrives damaged. Half of the damaged messages have a byte
    /// flipped anywhere (the receiver's checksum must refuse them); in the other half a batch's
    /// ops or records are altered beneath an intact seal, as by a relay that re-frames what it
    /// carries (the batch's manifest must refuse them).
    pub corrupt: Range<f64>,
    /// When false, messages on one link arrive in the order they were sent.
    pub reorder: bool,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency_ms: Range::Drawn { lo: 5, hi: 50 },
            loss: Range::Fixed(0.0),
            duplicate: Range::Fixed(0.0),
            corrupt: Range::Fixed(0.0),
            reorder: false,
        }
    }
}

/// `[faults]`: each absent table disables that kind of fault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsSpec {
    /// Network partitions between two groups of nodes.
    pub partitions: Option<PartitionsSpec>,
    /// Clients losing their connection for a while.
    pub offline: Option<OfflineSpec>,
    /// Nodes crashing and restarting from their durable store.
    pub crashes: Option<CrashesSpec>,
    /// Wall-clock offsets, drift and jumps.
    pub clocks: Option<ClocksSpec>,
    /// Commits that fail with an I/O error.
    pub storage: Option<StorageSpec>,
}

/// `faults.storage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSpec {
    /// Bursts of failing commits per run, each on one node (the server among them).
    pub commit_failures: Range<u64>,
    /// How many consecutive commits of its node one burst fails, drawn per burst.
    pub commits_per_failure: Range<u64>,
}

impl Default for StorageSpec {
    fn default() -> Self {
        StorageSpec {
            commit_failures: Range::Fixed(1),
            commits_per_failure: Range::Drawn { lo: 1, hi: 3 },
        }
    }
}

/// `faults.partitions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartitionsSpec {
    /// Partitions per run; they may overlap in time.
    pub count: Range<u64>,
    /// Length of each partition, drawn per partition.
    pub duration_s: Range<u64>,
    /// The kinds a partition may take, drawn per partition.
    pub kinds: Vec<PartitionKind>,
}

impl Default for PartitionsSpec {
    fn default() -> Self {
        PartitionsSpec {
            count: Range::Fixed(1),
            duration_s: Range::Drawn { lo: 5, hi: 60 },
            kinds: PartitionKind::ALL.to_vec(),
        }
    }
}

/// How a partition treats messages between its two sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartitionKind {
    /// No message crosses in either direction.
    Symmetric,
    /// Messages from side A to side B are delivered; messages from B to A are dropped, so A
    /// keeps talking into a void that never answers.
    Asymmetric,
    /// Messages from side A to side B are dropped; messages from B to A are delivered.
    OneWay,
}

impl PartitionKind {
    /// Every kind, in declaration order.
    pub const ALL: [PartitionKind; 3] =
        [PartitionKind::Symmetric, PartitionKind::Asymmetric, PartitionKind::OneWay];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            PartitionKind::Symmetric => "symmetric",
            PartitionKind::Asymmetric => "asymmetric",
            PartitionKind::OneWay => "one-way",
        }
    }

    /// Whether a message crossing the partition is dropped, given which side sent it.
    pub fn drops(self, sent_from_side_a: bool) -> bool {
        match self {
            PartitionKind::Symmetric => true,
            PartitionKind::Asymmetric => !sent_from_side_a,
            PartitionKind::OneWay => sent_from_side_a,
        }
    }
}

/// `faults.offline`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfflineSpec {
    /// Fraction of the clients that go offline once each (rounded to a whole client count).
    pub fraction: Range<f64>,
    /// Length of each offline period.
    pub duration_s: Range<u64>,
    /// When true, all chosen clients drop at one instant and return at one instant (a reconnect
    /// herd); when false, each has its own period.
    pub together: bool,
    /// When true, each period starts with the run: the client is a fresh install that writes
    /// offline from its first start and first connects when the period ends.
    pub from_start: bool,
}

impl Default for OfflineSpec {
    fn default() -> Self {
        OfflineSpec {
            fraction: Range::Fixed(0.5),
            duration_s: Range::Drawn { lo: 10, hi: 120 },
            together: false,
            from_start: false,
        }
    }
}

/// `faults.crashes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrashesSpec {
    /// Crashes per run; each is followed by a restart after a short downtime.
    pub count: Range<u64>,
    /// Whether the server may be among the crashed nodes.
    pub server: bool,
}

impl Default for CrashesSpec {
    fn default() -> Self {
        CrashesSpec { count: Range::Fixed(1), server: true }
    }
}

/// `faults.clocks`: applied to each node's wall-clock input, never to simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClocksSpec {
    /// Per-node constant offset, drawn per node.
    pub offset_ms: Range<i64>,
    /// Per-node rate error in parts per million, drawn per node.
    pub drift_ppm: Range<i64>,
    /// Clock jumps per run, across all nodes.
    pub jumps: Range<u64>,
    /// Size of each jump, drawn per jump.
    pub jump_ms: Range<i64>,
}

impl Default for ClocksSpec {
    fn default() -> Self {
        ClocksSpec {
            offset_ms: Range::Fixed(0),
            drift_ppm: Range::Fixed(0),
            jumps: Range::Fixed(0),
            jump_ms: Range::Drawn { lo: -60_000, hi: 60_000 },
        }
    }
}

/// `[server]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// How often the server collects tombstones and compacts its log.
    pub gc_interval_s: u64,
    /// A client unseen this long no longer holds back garbage collection.
    pub client_eviction_s: u64,
    /// How long past its stamp a tombstone is kept (at least `client_eviction_s`; a shorter
    /// value is raised to it). Only an op older than this can be quarantined as stale.
    pub tombstone_retention_s: u64,
    /// The most records one snapshot page carries: smaller pages make a resync take many
    /// round trips, and so give crashes and faults a resync to land in.
    pub snapshot_page_records: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            gc_interval_s: 30,
            client_eviction_s: 86_400,
            tombstone_retention_s: 7 * 86_400,
            snapshot_page_records: 256,
        }
    }
}

/// `[client]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientSettings {
    /// Period of the background sync timer.
    pub sync_interval_s: u64,
    /// How far ahead of the server a client's clock may run before its ops are refused.
    pub clock_ahead_ms_max: u64,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings { sync_interval_s: 10, clock_ahead_ms_max: 60_000 }
    }
}

/// `[run]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSettings {
    /// Length of the chaos phase; every fault and write happens inside it.
    pub chaos_s: u64,
    /// Simulated time allowed after the heal for every replica to converge.
    pub liveness_deadline_s: u64,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings { chaos_s: 300, liveness_deadline_s: 900 }
    }
}
