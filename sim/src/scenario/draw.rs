//! Drawing one seed's `Params` from a `ScenarioSpec`.
//!
//! Each knob draws from the stream of the subsystem that owns it, in a fixed order, and every
//! knob consumes exactly one draw whether it is fixed, ranged or absent (an absent fault table
//! draws a fixed 0). Adding a range or a fault table to a scenario therefore leaves the other
//! knobs' values for a given seed unchanged, except where a count changes how many per-node
//! values follow it (the per-node clocks follow the client count).

use rand::RngCore;

use super::limits;
use super::params::{
    ClockParams, CrashParams, NetworkParams, NodeClock, OfflineParams, Params, PartitionParams,
    StorageParams, WorkloadParams,
};
use super::range::Range;
use super::spec::{ClocksSpec, PartitionsSpec, ScenarioSpec};
use crate::seed::{Seed, Streams};

impl ScenarioSpec {
    /// Draws every ranged value of this scenario for `seed`.
    pub fn draw(&self, seed: Seed) -> Params {
        self.draw_from(&mut Streams::new(seed))
    }

    /// Draws every ranged value from `streams`, leaving each stream positioned after its draws
    /// so that the planner continues it.
    ///
    /// Order per stream: Workload draws clients, writes_per_client, records, writes_per_sec;
    /// Network draws two latency bounds, loss, duplicate; Faults draws the partition count and
    /// the offline fraction; Crashes draws the crash count; Clocks draws the jump count, then an
    /// offset and a drift per node from node 0 up.
    pub fn draw_from(&self, streams: &mut Streams) -> Params {
        let workload_rng = &mut streams.workload;
        let clients = to_u32(self.topology.clients.draw(workload_rng), "topology.clients");
        let workload = &self.workload;
        let workload = WorkloadParams {
            writes_per_client: to_u32(workload.writes_per_client.draw(workload_rng), "writes"),
            records: to_u32(workload.records.draw(workload_rng), "workload.records"),
            collections: workload.collections.clone(),
            mix: workload.mix,
            writes_per_sec: workload.writes_per_sec.draw(workload_rng),
        };
        let network = self.draw_network(&mut streams.network);
        let partitions = self.draw_partitions(&mut streams.faults);
        let offline = self.draw_offline(&mut streams.faults, clients);
        let crashes = self.draw_crashes(&mut streams.crashes);
        let storage = self.draw_storage(&mut streams.crashes);
        let clocks = draw_clocks(self.faults.clocks.as_ref(), &mut streams.clocks, clients);
        let schema = self.schema.draw(streams, clients);
        Params {
            clients,
            workload,
            network,
            partitions,
            offline,
            crashes,
            storage,
            clocks,
            server: self.server,
            client: self.client,
            run: self.run,
            schema,
            security: self.security.clone(),
            app: self.app.clone(),
        }
    }

    fn draw_network(&self, rng: &mut impl RngCore) -> NetworkParams {
        let network = &self.network;
        let first = network.latency_ms.draw(rng);
        let second = network.latency_ms.draw(rng);
        NetworkParams {
            latency_ms_min: first.min(second),
            latency_ms_max: first.max(second),
            loss: network.loss.draw(rng),
            duplicate: network.duplicate.draw(rng),
            // Drawn only when asked for, so that scenarios without it draw what they always did.
            corrupt: match network.corrupt {
                Range::Fixed(0.0) => 0.0,
                corrupt => corrupt.draw(rng),
            },
            reorder: network.reorder,
        }
    }

    fn draw_partitions(&self, rng: &mut impl RngCore) -> PartitionParams {
        let disabled = PartitionsSpec {
            count: Range::Fixed(0),
            duration_s: Range::Fixed(0),
            kinds: Vec::new(),
        };
        let spec = self.faults.partitions.as_ref().unwrap_or(&disabled);
        PartitionParams {
            count: to_u32(spec.count.draw(rng), "faults.partitions.count"),
            duration_s_min: spec.duration_s.lo(),
            duration_s_max: spec.duration_s.hi(),
            kinds: spec.kinds.clone(),
        }
    }

    fn draw_offline(&self, rng: &mut impl RngCore, clients: u32) -> OfflineParams {
        let spec = self.faults.offline.as_ref();
        let fraction = spec.map_or(Range::Fixed(0.0), |offline| offline.fraction).draw(rng);
        // Rounding half away from zero is exact IEEE arithmetic, so every machine agrees.
        let clients_count = (fraction * f64::from(clients)).round() as u32;
        let (duration_s_min, duration_s_max) =
            spec.map_or((0, 0), |offline| (offline.duration_s.lo(), offline.duration_s.hi()));
        OfflineParams {
            fraction,
            clients_count: clients_count.min(clients),
            duration_s_min,
            duration_s_max,
            together: spec.is_some_and(|offline| offline.together),
            from_start: spec.is_some_and(|offline| offline.from_start),
        }
    }

    /// Draws nothing without `faults.storage`, so other scenarios' streams stay as they were.
    fn draw_storage(&self, rng: &mut impl RngCore) -> StorageParams {
        let Some(spec) = self.faults.storage.as_ref() else {
            return StorageParams::default();
        };
        StorageParams {
            commit_failures: to_u32(
                spec.commit_failures.draw(rng),
                "faults.storage.commit_failures",
            ),
            commits_per_failure_min: spec.commits_per_failure.lo(),
            commits_per_failure_max: spec.commits_per_failure.hi(),
        }
    }

    fn draw_crashes(&self, rng: &mut impl RngCore) -> CrashParams {
        let spec = self.faults.crashes.as_ref();
        let count = spec.map_or(Range::Fixed(0), |crashes| crashes.count).draw(rng);
        CrashParams {
            count: to_u32(count, "faults.crashes.count"),
            server: spec.is_some_and(|crashes| crashes.server),
            downtime_s_min: limits::CRASH_DOWNTIME_S_MIN,
            downtime_s_max: limits::CRASH_DOWNTIME_S_MAX,
        }
    }
}

fn draw_clocks(spec: Option<&ClocksSpec>, rng: &mut impl RngCore, clients: u32) -> ClockParams {
    let disabled = ClocksSpec { jump_ms: Range::Fixed(0), ..ClocksSpec::default() };
    let spec = spec.unwrap_or(&disabled);
    let jumps_count = to_u32(spec.jumps.draw(rng), "faults.clocks.jumps");
    let nodes = (0..=clients)
        .map(|_| NodeClock {
            offset_ms: spec.offset_ms.draw(rng),
            drift_ppm: spec.drift_ppm.draw(rng),
        })
        .collect();
    ClockParams {
        nodes,
        jumps_count,
        jump_ms_min: spec.jump_ms.lo(),
        jump_ms_max: spec.jump_ms.hi(),
    }
}

/// Narrows a drawn count; validation bounds every count far below `u32::MAX`.
fn to_u32(value: u64, field: &str) -> u32 {
    u32::try_from(value).unwrap_or_else(|_| panic!("validated: {field} {value} fits in u32"))
}
