//! `driftsync report merge`: the reports of the shards of one sweep, joined into the report of
//! the whole. Counters add, histograms merge bucket by bucket, failing seeds are united in seed
//! order, and the seeds digest (an XOR) equals the unsharded run's.

use std::path::PathBuf;

use super::summary::{ScenarioTotals, Summary};

/// Merges summaries read from `sources` (for error messages) into one. A timeline is kept only
/// when there is a single input.
pub fn merge(inputs: &[(PathBuf, Summary)]) -> Result<Summary, String> {
    let Some((_, first)) = inputs.first() else {
        return Err("nothing to merge: give at least one report folder".to_owned());
    };
    let mut scenarios: Vec<ScenarioTotals> = Vec::new();
    let mut shards: Vec<String> = Vec::new();
    let mut wall_s = 0.0;
    for (path, summary) in inputs {
        for scenario in &summary.scenarios {
            let totals = ScenarioTotals::from_summary(scenario)
                .map_err(|error| format!("{}: {error}", path.display()))?;
            match scenarios.iter_mut().find(|s| s.name == totals.name) {
                Some(existing) => existing.merge(totals),
                None => scenarios.push(totals),
            }
        }
        shards.extend(summary.run.shards.iter().cloned());
        wall_s += summary.run.wall_s;
    }
    shards.sort();
    let scenarios: Vec<_> = scenarios.iter().map(ScenarioTotals::summary).collect();
    let mut run = first.run.clone();
    run.command = "merge".to_owned();
    run.shards = shards;
    run.wall_s = wall_s;
    run.seeds_start = inputs.iter().map(|(_, s)| s.run.seeds_start).min().unwrap_or(0);
    run.seeds_count = inputs.iter().map(|(_, s)| s.run.seeds_count).max().unwrap_or(0);
    Ok(Summary {
        schema: first.schema.clone(),
        schema_version: first.schema_version,
        run,
        passed: scenarios.iter().map(|s| s.passed).sum(),
        failed: scenarios.iter().map(|s| s.failed).sum(),
        scenarios,
        timeline: if inputs.len() == 1 { first.timeline.clone() } else { None },
    })
}
