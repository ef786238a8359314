//! driftsync-sim: the deterministic chaos simulator.
pub mod plan;
pub mod scenario;
pub mod seed;
