//! Setting up the nodes as the scenario configures them (or as a sabotage breaks them).

use std::sync::Arc;

use driftsync_core::{Client, ClientConfig, Now, RetryConfig, Server, ServerConfig};
use driftsync_core::{SchemaLineage, VersionPolicy};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use crate::engine::nodes::{self, ClientNode};
use crate::engine::store::SimStore;
use crate::engine::tamper::Tamper;
use crate::engine::tokens;
use crate::plan::NodeId;

/// Pull batches in the simulator are a quarter of a deployment's default: a scenario's few
/// thousand ops then take many round trips, each one a chance for a fault to land mid-download.
const SIM_PULL_BATCH_OPS: u32 = 256;

/// The clients as the scenario configures them (or as a sabotage breaks them), each on a
/// fresh store.
pub(super) fn new_clients(
    params: &crate::scenario::Params,
    lineage: &Arc<SchemaLineage>,
    node_seeds: &mut ChaCha8Rng,
    tamper: &dyn Tamper,
    start: impl Fn(NodeId) -> Now,
) -> Vec<ClientNode> {
    let forget = tamper.stores_forget_last_commit();
    let server_wall_ms = start(NodeId::SERVER).wall.0;
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
            config.pull_batch_ops_max = SIM_PULL_BATCH_OPS;
            if params.security.tokens {
                config.token = tokens::honest_token(&params.security, node, server_wall_ms);
            }
            // Every other client asks for everything plain, so both sides of the codec
            // negotiation, and damaged compressed bodies, are exercised in every run.
            if i % 2 == 0 {
                config.compression.clear();
            }
            let seed = tamper.jitter_seed(node_seeds.next_u64());
            let client = Client::new(config.clone(), SimStore::new(forget), seed, start(node))
                .expect("a fresh store loads");
            ClientNode::new(client, config)
        })
        .collect()
}

/// Starts (or restarts) the server from `store`, with the bug a sabotage plants in it.
pub(super) fn start_server(
    config: ServerConfig,
    store: SimStore,
    now: Now,
    tamper: &dyn Tamper,
) -> Server<SimStore> {
    let mut server = Server::new(config, store, now).expect("the simulated store loads");
    tamper.on_server_start(&mut server);
    server
}

/// The server as the scenario configures it (or as a sabotage breaks it).
pub(super) fn server_config(
    params: &crate::scenario::Params,
    lineage: &Arc<SchemaLineage>,
    tamper: &dyn Tamper,
) -> ServerConfig {
    let first = params.schema.server[0];
    let policy = VersionPolicy {
        newest: first.newest,
        writable_from: first.writable_from,
        readable_from: first.readable_from,
    };
    let mut config = ServerConfig::with_lineage(lineage.clone(), policy)
        .expect("validated: the scenario serves versions of the lineage");
    config.gc_interval_ms = params.server.gc_interval_s * 1_000;
    config.pull_batch_ops_max = SIM_PULL_BATCH_OPS;
    config.snapshot_page_records_max = params.server.snapshot_page_records as u32;
    config.client_eviction_ms = params.server.client_eviction_s * 1_000;
    config.tombstone_retention_ms = params.server.tombstone_retention_s * 1_000;
    config.clock_ahead_ms_max = params.client.clock_ahead_ms_max;
    if params.security.tokens {
        config.keys = Some(tokens::keyring());
        // Kept for the whole run, for the `audit_trail` checker.
        config.audit_retention_ms = Some(u64::MAX);
    }
    tamper.server_config(params, &mut config);
    config
}
