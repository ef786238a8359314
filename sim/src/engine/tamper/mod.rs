//! Planted bugs, as hooks: the engine calls a [`Tamper`] at every point where a test-only
//! sabotage may break the world, and every hook does nothing by default. The engine so carries
//! no branch per sabotage; each [`Sabotage`] names one hook implementation, and a repro file
//! records that name so a planted failure replays exactly.

mod nodes;
mod server;
pub(super) mod wire;

use bytes::Bytes;
use driftsync_core::{Server, ServerConfig};
use serde::{Deserialize, Serialize};

use crate::engine::store::SimStore;
use crate::plan::{NodeId, PlannedWrite};
use crate::scenario::Params;

/// A deliberately broken replica, for showing that each checker catches what it exists for.
/// Never set by the command line's normal runs; a repro file records it so a planted failure
/// replays exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sabotage {
    /// Client 1 silently skips one op of a pull batch (the manifest is forged to match).
    DropPulledOp,
    /// The first pushed value of client 1 is changed in transit, as by a buggy encoder.
    AlterPushedValue,
    /// Stores lose their last commit when the node crashes.
    ForgetLastCommitOnCrash,
    /// Client 1 restarts from an empty store after its first crash (its cursor goes back).
    WipeStoreOnRestart,
    /// Client 1 writes once more during the stability round.
    WriteDuringStability,
    /// Client 1 never comes back online after the heal.
    NeverHeal,
    /// Every delete client 1 pushes is rewritten into an update (lost tombstones).
    DropPushedDelete,
    /// A pushed value of client 1 is given the wrong type, so the server quarantines it
    /// although the workload never injected anything invalid.
    CorruptPushedType,
    /// The server runs a broken v2 migration: it maps the old `low` field onto `priority`
    /// instead of adding `priority`, so older clients' edits overwrite a newer field.
    BrokenMigration,
    /// Client 1's upgrade reinstalls the app from scratch, losing the writes it had queued.
    LoseOutboxOnUpgrade,
    /// The server evicts clients and forgets tombstones after one second instead of the
    /// scenario's windows, so it quarantines as stale writes those windows promise to keep.
    ForgetfulServer,
    /// Client 1 applies batches without checking their manifests: a batch damaged beneath its
    /// seal reaches it with a manifest that matches the damage.
    SkipManifestCheck,
    /// The server acknowledges a push whose commit failed.
    AckFailedCommit,
    /// The server records each tombstone one log position after its delete.
    MisplacedTombstone,
    /// The server compacts its log one entry past the slowest client it waits for.
    CompactionPastCursor,
    /// The server admits a Hello whatever its token: forged, expired or stolen.
    AcceptAnyToken,
    /// The server applies writes outside the writer's scopes.
    IgnoreWriteScope,
    /// The server sends every record to every session, whatever its read scopes.
    IgnoreReadScope,
    /// The server's audit trail names every writer `anonymous`.
    MisattributedAudit,
    /// Every client seeds its backoff jitter alike, as if the jitter were lost: clients that
    /// fail together retry together.
    SameJitterSeed,
}

impl Sabotage {
    /// The hooks that plant this bug, each with its own one-shot state.
    pub(crate) fn hooks(self) -> Box<dyn Tamper> {
        use driftsync_core::testing::PlantedBug;
        match self {
            Sabotage::DropPulledOp => Box::new(wire::DropPulledOp::default()),
            Sabotage::AlterPushedValue => Box::new(wire::FirstPushedValue::altered()),
            Sabotage::CorruptPushedType => Box::new(wire::FirstPushedValue::mistyped()),
            Sabotage::DropPushedDelete => Box::new(wire::DeletesBecomeUpdates),
            Sabotage::SkipManifestCheck => Box::new(wire::SkipManifestCheck),
            Sabotage::ForgetLastCommitOnCrash => Box::new(nodes::ForgetLastCommitOnCrash),
            Sabotage::WipeStoreOnRestart => Box::new(nodes::WipeStoreOnRestart::default()),
            Sabotage::WriteDuringStability => Box::new(nodes::WriteDuringStability),
            Sabotage::NeverHeal => Box::new(nodes::NeverHeal),
            Sabotage::LoseOutboxOnUpgrade => Box::new(nodes::LoseOutboxOnUpgrade),
            Sabotage::SameJitterSeed => Box::new(nodes::SameJitterSeed),
            Sabotage::BrokenMigration => Box::new(server::BrokenMigration),
            Sabotage::ForgetfulServer => Box::new(server::ForgetfulServer),
            Sabotage::AckFailedCommit => Box::new(server::Planted(PlantedBug::AckFailedCommit)),
            Sabotage::MisplacedTombstone => {
                Box::new(server::Planted(PlantedBug::MisplacedTombstone))
            }
            Sabotage::CompactionPastCursor => {
                Box::new(server::Planted(PlantedBug::CompactionPastCursor))
            }
            Sabotage::AcceptAnyToken => Box::new(server::Planted(PlantedBug::AcceptAnyToken)),
            Sabotage::IgnoreWriteScope => Box::new(server::Planted(PlantedBug::IgnoreWriteScope)),
            Sabotage::MisattributedAudit => {
                Box::new(server::Planted(PlantedBug::MisattributedAudit))
            }
            Sabotage::IgnoreReadScope => Box::new(server::Planted(PlantedBug::IgnoreReadScope)),
        }
    }
}

/// The hooks of a run: the sabotage's, or none that change anything.
pub(crate) fn hooks(sabotage: Option<Sabotage>) -> Box<dyn Tamper> {
    match sabotage {
        Some(sabotage) => sabotage.hooks(),
        None => Box::new(Untouched),
    }
}

/// Where a planted bug may change what the engine does. Each hook runs at one point of the
/// engine, named in its comment, and its default leaves the world as the scenario made it.
/// Hooks that rewrite bytes return `None` to leave a message as it is.
pub(crate) trait Tamper: std::fmt::Debug {
    /// A message a client sends the server, before the network takes it.
    fn outgoing(&mut self, _from: NodeId, _to: NodeId, _bytes: &[u8]) -> Option<Bytes> {
        None
    }

    /// A message delivered on a live connection, before its node handles it.
    fn incoming(&mut self, _from: NodeId, _to: NodeId, _bytes: &[u8]) -> Option<Bytes> {
        None
    }

    /// Whether damage beneath a batch's seal, on its way to `to`, also forges the batch's
    /// manifest to match, so that only a receiver that skips its manifest check accepts it.
    fn forges_manifest_under_damage(&self, _to: NodeId) -> bool {
        false
    }

    /// Whether every node's store drops its last commit when the node crashes.
    fn stores_forget_last_commit(&self) -> bool {
        false
    }

    /// The jitter seed a client starts with, given the one drawn for it.
    fn jitter_seed(&self, drawn: u64) -> u64 {
        drawn
    }

    /// The server's configuration, after the scenario configured it.
    fn server_config(&self, _params: &Params, _config: &mut ServerConfig) {}

    /// The server, each time it starts or restarts.
    fn on_server_start(&self, _server: &mut Server<SimStore>) {}

    /// The store a crashed node restarts from.
    fn on_restart(&mut self, _node: NodeId, store: SimStore) -> SimStore {
        store
    }

    /// The store a client keeps across an app upgrade.
    fn on_upgrade(&mut self, _client: NodeId, store: SimStore) -> SimStore {
        store
    }

    /// Whether a client stays offline when everyone else is brought back at the heal.
    fn stays_offline_after_heal(&self, _client: NodeId) -> bool {
        false
    }

    /// A write to make when the stability round starts, when nothing may change any more.
    fn write_during_stability(&mut self, _workload: &[PlannedWrite]) -> Option<PlannedWrite> {
        None
    }
}

/// No planted bug: every hook keeps its default.
#[derive(Debug)]
struct Untouched;

impl Tamper for Untouched {}
