//! `driftsync report merge <dir>...`: the reports of a sweep's shards, joined into one.

use std::io::Write;

use serde_json::json;

use crate::cli::args::{Format, MergeArgs};
use crate::cli::{CliError, exit, publish, render};
use crate::report::files::read_summary;
use crate::report::merge::merge as merge_summaries;

pub(crate) fn merge(args: &MergeArgs, out: &mut dyn Write) -> Result<u8, CliError> {
    let mut inputs = Vec::with_capacity(args.dirs.len());
    for dir in &args.dirs {
        let summary = read_summary(dir).map_err(|error| CliError::data(error.to_string()))?;
        inputs.push((dir.clone(), summary));
    }
    let mut summary = merge_summaries(&inputs).map_err(CliError::data)?;
    summary.run.created_utc = publish::run_info("merge", 0, 0, Vec::new(), 0, 0.0).created_utc;
    let env = |name: &str| std::env::var(name).ok();
    let dir = publish::publish(&args.reports.reports_dir, &summary, &env)?;
    match args.output.format {
        Format::Human => {
            writeln!(
                out,
                "merged {} reports: {} scenarios, shards {}",
                inputs.len(),
                summary.scenarios.len(),
                summary.run.shards.join(", ")
            )?;
            writeln!(out, "report: {}", dir.join("index.html").display())?;
            writeln!(out, "lost: {}", summary.loss())?;
            render::totals(out, summary.passed, summary.failed)?;
        }
        Format::Json => {
            let document = json!({
                "report": dir,
                "passed": summary.passed,
                "failed": summary.failed,
                "writes_committed": summary.loss().committed,
                "writes_quarantined": summary.loss().quarantined,
                "shards": summary.run.shards,
            });
            serde_json::to_writer_pretty(&mut *out, &document).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(if summary.failed == 0 { exit::PASSED } else { exit::FAILED })
}
