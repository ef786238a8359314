//! Setting up the nodes as the scenario configures them (or as a sabotage breaks them).

use std::sync::Arc;

use driftsync_core::testing::PlantedBug;
use driftsync_core::{Client, ClientConfig, MonoTime, RetryConfig, Server, ServerConfig};
use driftsync_core::{SchemaLineage, VersionPolicy};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use crate::engine::nodes::{self, ClientNode};
use crate::engine::store::SimStore;
use crate::engine::{Sabotage, workload};
use crate::plan::NodeId;

/// The clients as the scenario configures them, each on a fresh store.
pub(super) fn new_clients(
    params: &crate::scenario::Params,
    lineage: &Arc<SchemaLineage>,
    node_seeds: &mut ChaCha8Rng,
    forget: bool,
    same_jitter: bool,
) -> Vec<ClientNode> {
    (1..=params.clients)
        .map(|i| {
            let node = NodeId::client(i);
            let version = params.schema.client_versions[i as usize - 1];
            let mut config =
                ClientConfig::with_lineage(nodes::replica(node), lineage.clone(), version)
                    .expect("validated: client versions are in the lineage");
            config.sync_interval_ms = params.client.sync_interval_s * 1_000;
            config.clock_ahead_ms_max = params.client.clock_ahead_ms_max;
            config.retry = RetryConfig::default();
            let seed = node_seeds.next_u64();
            let seed = if same_jitter { 0 } else { seed };
            let client = Client::new(config.clone(), SimStore::new(forget), seed, MonoTime(0))
                .expect("a fresh store loads");
            ClientNode::new(client, config)
        })
        .collect()
}

/// Starts (or restarts) the server from `store`, with the bug a sabotage plants in it.
pub(super) fn start_server(
    config: ServerConfig,
    store: SimStore,
    now: MonoTime,
    sabotage: Option<Sabotage>,
) -> Server<SimStore> {
    let mut server = Server::new(config, store, now).expect("the simulated store loads");
    let planted = match sabotage {
        Some(Sabotage::AckFailedCommit) => Some(PlantedBug::AckFailedCommit),
        Some(Sabotage::MisplacedTombstone) => Some(PlantedBug::MisplacedTombstone),
        Some(Sabotage::CompactionPastCursor) => Some(PlantedBug::CompactionPastCursor),
        _ => None,
    };
    if let Some(bug) = planted {
        server.plant(bug);
    }
    server
}

/// The server as the scenario configures it (or as a sabotage breaks it).
pub(super) fn server_config(
    params: &crate::scenario::Params,
    lineage: &Arc<SchemaLineage>,
    sabotage: Option<Sabotage>,
) -> ServerConfig {
    let server_lineage = match sabotage == Some(Sabotage::BrokenMigration) {
        true => {
            let collections = &params.workload.collections;
            Arc::new(workload::lineage(collections, params.schema.version_max(), true))
        }
        false => lineage.clone(),
    };
    let first = params.schema.server[0];
    let policy = VersionPolicy {
        newest: first.newest,
        writable_from: first.writable_from,
        readable_from: first.readable_from,
    };
    let mut config = ServerConfig::with_lineage(server_lineage, policy)
        .expect("validated: the scenario serves versions of the lineage");
    config.gc_interval_ms = params.server.gc_interval_s * 1_000;
    config.snapshot_page_records_max = params.server.snapshot_page_records as u32;
    config.client_eviction_ms = params.server.client_eviction_s * 1_000;
    config.tombstone_retention_ms = params.server.tombstone_retention_s * 1_000;
    if sabotage == Some(Sabotage::ForgetfulServer) {
        config.client_eviction_ms = 1_000;
        config.tombstone_retention_ms = 1_000;
    }
    config.clock_ahead_ms_max = params.client.clock_ahead_ms_max;
    config
}
