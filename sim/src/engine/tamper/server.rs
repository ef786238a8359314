//! Sabotages of the server: a broken configuration, or a bug planted in the core's server.

use std::sync::Arc;

use driftsync_core::testing::PlantedBug;
use driftsync_core::{Server, ServerConfig};

use crate::engine::store::SimStore;
use crate::engine::tamper::Tamper;
use crate::engine::workload;
use crate::scenario::Params;

/// The server migrates with a broken v2 step (see [`workload::lineage`]).
#[derive(Debug)]
pub(super) struct BrokenMigration;

impl Tamper for BrokenMigration {
    fn server_config(&self, params: &Params, config: &mut ServerConfig) {
        config.lineage = Arc::new(workload::run_lineage(params, true));
    }
}

/// The server evicts clients and forgets tombstones after one second.
#[derive(Debug)]
pub(super) struct ForgetfulServer;

impl Tamper for ForgetfulServer {
    fn server_config(&self, _params: &Params, config: &mut ServerConfig) {
        config.client_eviction_ms = 1_000;
        config.tombstone_retention_ms = 1_000;
    }
}

/// A bug the core's server carries for tests, planted each time it starts.
#[derive(Debug)]
pub(super) struct Planted(pub(super) PlantedBug);

impl Tamper for Planted {
    fn on_server_start(&self, server: &mut Server<SimStore>) {
        server.plant(self.0);
    }
}
