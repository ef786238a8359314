//! Running seeds: one seed planned and run with its panics caught ([`one_seed`]), many of them
//! on a worker pool in a fixed order ([`sweep`]), split across machines ([`shard`]), or each
//! run twice and compared ([`determinism`]); with the progress display and the wall-time
//! readings that only people and benchmarks see ([`progress`]).
//!
//! The command line ([`crate::cli`]) parses arguments, calls these and renders what they
//! return; tests and benchmarks call them directly.

pub mod determinism;
pub mod one_seed;
pub(crate) mod pool;
pub mod progress;
pub mod shard;
pub mod sweep;
