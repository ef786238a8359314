//! Reports: what a run or a sweep measured, written as a folder that people and CI systems read.
//!
//! The engine measures each seed in simulated time ([`measures`]); a sweep adds the seeds of a
//! scenario up as they arrive ([`summary::ScenarioTotals`]); [`files::write_report`] writes
//! `summary.json` (versioned, see `reports/README.md`), `summary.md`, `index.html`, `junit.xml`
//! and one `.hgrm` file per scenario and distribution; [`merge`] joins the reports of shards.

pub mod coverage;
pub mod distribution;
pub mod files;
pub mod hgrm;
pub mod html;
pub mod junit;
pub mod loss;
pub mod markdown;
pub mod measures;
pub mod merge;
pub mod seeds_digest;
pub mod summary;
mod svg;
pub mod timeline;

pub use loss::Loss;
pub use summary::{SCHEMA_VERSION, Summary};
