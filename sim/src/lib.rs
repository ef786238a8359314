//! driftsync-sim: the deterministic chaos simulator for driftsync-core.
//!
//! A run is a [`plan::Plan`] (drawn from a scenario file and a seed) executed by the
//! [`engine`], judged by the checkers (`check`, named by [`outcome::Checker`]), and summarised
//! as an [`outcome::Outcome`]. Layers run one way: the engine writes a `history` of what
//! happened and hands out a read-only `view` of the world; the checkers read the two and
//! nothing else, and the engine never reads what they keep. The [`runner`] runs seeds one at a
//! time or in sweeps; the `driftsync` command ([`cli`]) parses its arguments, calls the runner
//! and renders the results; failures are written as [`repro`] files.

pub(crate) mod check;
pub mod cli;
pub mod counters;
pub mod engine;
pub(crate) mod history;
pub mod outcome;
pub mod plan;
pub mod report;
pub mod repro;
pub mod runner;
pub mod scenario;
pub mod seed;
pub mod shrink;
pub(crate) mod view;
