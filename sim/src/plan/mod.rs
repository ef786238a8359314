//! The explicit, replayable plan of one run: every fault and every write, with its time.
//!
//! [`plan`] turns a scenario and a seed into a [`Plan`]; the engine executes a plan and nothing
//! else, so a repro file that stores the plan replays the run even after the scenario file or
//! the drawing code changed, and the shrinker can edit a plan (drop faults, shorten partitions,
//! remove writes) and run the result.
//!
//! Times are simulated milliseconds from the start of the run. Every planned event lies inside
//! the chaos phase `[0, chaos_s × 1000)`; in particular every fault that starts also ends inside
//! it, so all nodes are up, online and unpartitioned when the heal phase begins. Clock offsets
//! and drift are not events: they are per-node values in [`Params::clocks`].
//!
//! ```
//! use std::path::Path;
//! use driftsync_sim::{plan::plan, scenario::ScenarioSpec, seed::Seed};
//!
//! let spec = ScenarioSpec::from_toml_str(Path::new("t.toml"), "name = \"t\"").expect("valid");
//! let run = plan(&spec, Seed(7));
//! assert_eq!(run.workload.len(), 3 * 100);
//! assert!(run.workload.iter().all(|write| write.at_ms < run.params.chaos_ms()));
//! ```

mod app;
mod faults;
mod rollout;
mod values;
mod workload;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use driftsync_core::Value;
use serde::{Deserialize, Serialize};

pub use crate::scenario::PartitionKind;
use crate::scenario::{HostileKind, Params, ScenarioSpec};
use crate::seed::{Seed, Stream, Streams, stream, uniform_u64};

/// Names of the fields of the schema that every simulated collection uses. The engine builds
/// the schema from these names and the planner writes values that are valid for it.
///
/// | field | type | required | merge policy |
/// |---|---|---|---|
/// | title | string | yes | last-writer-wins |
/// | body | string | no | last-writer-wins |
/// | done | bool | no | last-writer-wins |
/// | weight | f64 | no | last-writer-wins |
/// | blob | bytes | no | last-writer-wins |
/// | high | i64 | no | max |
/// | low | i64 | no | min |
/// | count | i64 | no | counter (only changed by `Increment`) |
/// | tags | string | no | multi-value (the target of `Resolve`) |
pub mod fields {
    /// Required string, last writer wins; never `Null`.
    pub const TITLE: &str = "title";
    /// Optional string, last writer wins; the only field a write may set to `Null`.
    pub const BODY: &str = "body";
    /// Optional bool, last writer wins.
    pub const DONE: &str = "done";
    /// Optional f64, last writer wins.
    pub const WEIGHT: &str = "weight";
    /// Optional bytes, last writer wins.
    pub const BLOB: &str = "blob";
    /// Optional i64 merged by maximum.
    pub const HIGH: &str = "high";
    /// Optional i64 merged by minimum.
    pub const LOW: &str = "low";
    /// Optional i64 counter: the sum of every `Increment` delta.
    pub const COUNT: &str = "count";
    /// Optional string kept as multiple values until a person resolves it.
    pub const TAGS: &str = "tags";
    /// `body` as schema v2 and later name it.
    pub const NOTES: &str = "notes";
    /// Optional i64, last writer wins, added in schema v2 (default 0).
    pub const PRIORITY: &str = "priority";
    /// The fields `Put` and `Update` may set besides the title: every field but the counter.
    pub const OPTIONAL_NON_COUNTER: [&str; 7] = [BODY, DONE, WEIGHT, BLOB, HIGH, LOW, TAGS];
}

/// A node of the simulated system: the server is node 0, clients are nodes 1..=clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The sync server.
    pub const SERVER: NodeId = NodeId(0);

    /// Client number `index` (1-based, like the node ids).
    pub fn client(index: u32) -> NodeId {
        assert!(index >= 1, "client node ids start at 1");
        NodeId(index)
    }

    /// Whether this node is the server.
    pub fn is_server(self) -> bool {
        self == NodeId::SERVER
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_server() { write!(f, "server") } else { write!(f, "client-{}", self.0) }
    }
}

/// Everything one run will do, fixed before it starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The scenario's name.
    pub scenario: String,
    /// The seed the plan was drawn from; the engine draws per-message decisions from it.
    pub seed: u64,
    /// The drawn parameters.
    pub params: Params,
    /// Faults in time order; ties are ordered by [`Fault::order_key`].
    pub faults: Vec<TimedFault>,
    /// Writes in time order; ties are ordered by client, then by the client's own order.
    pub workload: Vec<PlannedWrite>,
    /// Hostile peers' attempts in time order (see `[security]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<Attack>,
}

/// One attempt of a hostile peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attack {
    /// Simulated milliseconds from the start of the run.
    pub at_ms: u64,
    pub kind: HostileKind,
}

/// A fault and when it happens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedFault {
    /// Simulated milliseconds from the start of the run.
    pub at_ms: u64,
    /// What happens.
    pub fault: Fault,
}

/// A change to the simulated world. Every `…Start`/`Offline`/`Crash` has its matching end later
/// in the same plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// Messages between the two sides are dropped as `kind` says. Partitions may overlap in
    /// time; a message is dropped when any active partition drops it. The sides are disjoint,
    /// non-empty, sorted, and together hold every node.
    PartitionStart {
        /// Identifies the partition for its `PartitionEnd`; numbered by start time from 0.
        id: u32,
        /// Which directions are cut.
        kind: PartitionKind,
        /// One side.
        side_a: Vec<NodeId>,
        /// The other side.
        side_b: Vec<NodeId>,
    },
    /// The partition with this id heals.
    PartitionEnd {
        /// The id of its `PartitionStart`.
        id: u32,
    },
    /// The client loses its connection; it keeps running and writing locally.
    Offline {
        /// The client (never the server).
        client: NodeId,
    },
    /// The client's connection comes back.
    Online {
        /// The client.
        client: NodeId,
    },
    /// The node stops; whatever it had not committed to its store is lost.
    Crash {
        /// The node. A node is never crashed twice without a restart between.
        node: NodeId,
    },
    /// The node restarts from its durable store.
    Restart {
        /// The node.
        node: NodeId,
    },
    /// The node's wall clock jumps by `delta_ms` (backwards when negative).
    ClockJump {
        /// The node.
        node: NodeId,
        /// The jump.
        delta_ms: i64,
    },
    /// The server is redeployed serving other schema versions (an upgrade, or a rollback when
    /// `newest` goes down); it restarts from its store.
    ServerVersions {
        /// The newest version served.
        newest: u32,
        /// The oldest version served read-write.
        writable_from: u32,
        /// The oldest version served at all (read-only below `writable_from`).
        readable_from: u32,
    },
    /// The client's app is upgraded to `version`; it restarts from its store.
    Upgrade {
        /// The client.
        client: NodeId,
        /// The app's new schema version.
        version: u32,
    },
    /// The node's next `commits` commits fail with an I/O error (a crash ends the burst).
    CommitFailures {
        /// The node.
        node: NodeId,
        /// How many consecutive commits fail.
        commits: u32,
    },
}

impl Fault {
    /// Orders faults that share an instant: endings first (so a node restarting and a new fault
    /// starting at one instant are seen in that order), then starts, then clock jumps, each
    /// group by partition id or node id.
    pub fn order_key(&self) -> (u8, u32) {
        match self {
            Fault::PartitionEnd { id } => (0, *id),
            Fault::Online { client } => (1, client.0),
            Fault::Restart { node } => (2, node.0),
            Fault::PartitionStart { id, .. } => (3, *id),
            Fault::Offline { client } => (4, client.0),
            Fault::Crash { node } => (5, node.0),
            Fault::ClockJump { node, .. } => (6, node.0),
            Fault::ServerVersions { newest, .. } => (7, *newest),
            Fault::Upgrade { client, .. } => (8, client.0),
            Fault::CommitFailures { node, .. } => (9, node.0),
        }
    }
}

/// One write a client's application issues.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedWrite {
    /// Simulated milliseconds from the start of the run.
    pub at_ms: u64,
    /// The writing client.
    pub client: NodeId,
    /// The collection written to.
    pub collection: String,
    /// The record's index in the collection (`< params.workload.records`); all clients share
    /// the records, which is what makes them contend.
    pub record: u32,
    /// What the write does.
    pub action: WriteAction,
    /// Corrupted on the wire into an invalid payload, which the server must quarantine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<InvalidPayload>,
    /// For the user's own app: the schema version whose field names and types the write uses
    /// (the writer's at the planned time). `None` for the demo app, whose writes are in v1
    /// terms and translated by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// How a write is corrupted on its way to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvalidPayload {
    /// One written value gets a type its field does not have.
    TypeMismatch,
    /// A put loses its required title (a non-put gets a type mismatch instead).
    MissingRequired,
}

/// What a planned write does to its record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WriteAction {
    /// Creates or overwrites the record: the title plus a non-empty set of other fields.
    Put {
        /// Field values, by name (see [`fields`]).
        fields: BTreeMap<String, Value>,
    },
    /// Changes a non-empty set of fields, occasionally including the title.
    Update {
        /// Field values, by name (see [`fields`]).
        fields: BTreeMap<String, Value>,
    },
    /// Tombstones the record.
    Delete,
    /// Adds `delta` (never 0, within [-10, 10]) to the counter field.
    Increment {
        /// Always [`fields::COUNT`].
        field: String,
        /// The amount added.
        delta: i64,
    },
    /// A person resolves the multi-value field's conflict.
    Resolve {
        /// Always [`fields::TAGS`].
        field: String,
    },
}

/// Draws the parameters and the full schedule of one run.
///
/// Streams: parameters first (see [`ScenarioSpec::draw_from`]), then partitions and offline
/// periods from Faults, crashes from Crashes, clock jumps from Clocks, writes from Workload.
pub fn plan(spec: &ScenarioSpec, seed: Seed) -> Plan {
    let mut streams = Streams::new(seed);
    let params = spec.draw_from(&mut streams);
    let mut faults = faults::schedule(&params, &mut streams);
    rollout::schedule_versions(&params, &mut streams.schema, &mut faults);
    let app = params.app.as_ref().map(|app| (app, app_lineage(app, &params)));
    let mut workload = match &app {
        None => workload::generate(&params, &mut streams.workload),
        Some((app, lineage)) => {
            app::generate(&params, app, lineage, &faults, &mut streams.workload)
        }
    };
    rollout::mark_invalid(&params, &mut streams.schema, &mut workload);
    let attacks = attacks(&params, seed);
    Plan { scenario: spec.name.clone(), seed: seed.0, params, faults, workload, attacks }
}

/// The lineage of a validated app; a plan cannot be drawn from an app whose schema does not
/// parse, which loading the scenario rules out.
fn app_lineage(app: &crate::scenario::AppSpec, params: &Params) -> driftsync_core::SchemaLineage {
    app.lineage_up_to(params.schema.version_max())
        .unwrap_or_else(|error| panic!("validated when the scenario was loaded: {error}"))
}

/// Every hostile attempt, at a time drawn from the seed's own stream for them (a scenario
/// without hostile peers draws nothing), within the middle of the chaos phase so that honest
/// clients have pushed something a replay can copy.
fn attacks(params: &Params, seed: Seed) -> Vec<Attack> {
    let security = &params.security;
    if security.hostile.is_empty() {
        return Vec::new();
    }
    let mut rng = stream(seed, Stream::Hostile);
    let chaos_ms = params.chaos_ms();
    let mut attacks: Vec<Attack> = security
        .hostile
        .iter()
        .flat_map(|kind| (0..security.attacks).map(move |_| *kind))
        .map(|kind| Attack { at_ms: uniform_u64(&mut rng, chaos_ms / 5, chaos_ms * 9 / 10), kind })
        .collect();
    attacks.sort_by_key(|attack| (attack.at_ms, attack.kind));
    attacks
}
