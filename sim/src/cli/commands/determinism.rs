//! `driftsync check-determinism`: every seed twice, digests compared, first divergence named.

use std::io::Write;

use serde_json::{Value, json};

use super::{jobs, load, seed_range};
use crate::cli::args::{DeterminismArgs, Format};
use crate::cli::render::{self, shell_word};
use crate::cli::{CliError, exit};
use crate::engine::TraceEntry;
use crate::report::files;
use crate::runner::determinism::{DeterminismResult, TraceDifference, Verdict, check_each};
use crate::runner::progress;
use crate::runner::shard::Shard;
use crate::scenario::Scenario;

pub(crate) fn check(args: &DeterminismArgs, out: &mut dyn Write) -> Result<u8, CliError> {
    let scenarios = load(&args.range.scenarios)?;
    let seeds = seed_range(args.range.start, args.range.seeds)?;
    let (seeds_start, seeds_count) = (seeds.start, seeds.end - seeds.start);
    let format = args.output.format;
    let jobs = jobs(args.range.jobs);
    if format == Format::Human {
        writeln!(
            out,
            "check-determinism: {} scenarios, seeds {}..{}, each run twice, {jobs} threads",
            scenarios.len(),
            seeds.start,
            seeds.end
        )?;
        out.flush()?;
    }
    let mut passed_count = 0u64;
    let mut failed_count = 0u64;
    // Every mismatch goes into the verdict file; human output also prints a block for each.
    let mut mismatches = Vec::new();
    let mut output: std::io::Result<()> = Ok(());
    check_each(&scenarios, seeds, Shard::ALL, jobs, true, |result| {
        if result.passed() {
            passed_count += 1;
            return;
        }
        failed_count += 1;
        let scenario = &scenarios[result.scenario_index];
        if format == Format::Human && output.is_ok() {
            output = mismatch_block(out, scenario, &result);
        }
        mismatches.push(mismatch_json(scenario, &result));
    });
    output?;
    let document = json!({
        "seeds_start": seeds_start,
        "seeds_count": seeds_count,
        "passed": passed_count,
        "failed": failed_count,
        "mismatches": mismatches,
    });
    let name = files::folder_name(progress::utc_now_s(), "check-determinism");
    let written = files::write_determinism(&args.reports.reports_dir, &name, &document)
        .map_err(|error| CliError::internal(error.to_string()));
    match format {
        Format::Human => {
            if let Ok(path) = &written {
                writeln!(out, "verdict: {}", path.display())?;
            }
            render::totals(out, passed_count, failed_count)?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &document).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    written?;
    Ok(if failed_count == 0 { exit::PASSED } else { exit::FAILED })
}

fn mismatch_block(
    out: &mut dyn Write,
    scenario: &Scenario,
    result: &DeterminismResult,
) -> std::io::Result<()> {
    writeln!(
        out,
        "MISMATCH {} seed {} ({})",
        scenario.spec.name,
        result.seed,
        scenario.path.display()
    )?;
    match &result.verdict {
        Verdict::Same => {}
        Verdict::Panicked(detail) => writeln!(out, "  the harness panicked: {detail}")?,
        Verdict::Differs(difference) => {
            writeln!(out, "  first run    digest {}", result.first_digest)?;
            writeln!(out, "  second run   digest {}", result.second_digest)?;
            match difference {
                Some(TraceDifference::Event { first, second }) => {
                    writeln!(
                        out,
                        "  first difference at event {}, {}",
                        first.index,
                        render::seconds(first.at_ms)
                    )?;
                    writeln!(out, "    first run:  {}", describe(first))?;
                    writeln!(out, "    second run: {}", describe(second))?;
                }
                Some(TraceDifference::Length { common_count, next, longer_is_second }) => {
                    let (longer, shorter) =
                        if *longer_is_second { ("second", "first") } else { ("first", "second") };
                    writeln!(
                        out,
                        "  the {shorter} run stopped after {common_count} events; the {longer} \
                         went on with: {}",
                        describe(next)
                    )?;
                }
                None => writeln!(
                    out,
                    "  the recorded traces agree event for event: the difference is in state \
                     digested outside the events"
                )?,
            }
        }
    }
    writeln!(
        out,
        "rerun: cargo run --release -p driftsync-sim -- check-determinism {} --seeds 1 --start {}",
        shell_word(&scenario.path),
        result.seed
    )
}

fn describe(entry: &TraceEntry) -> String {
    format!(
        "[{} at {}, hash {:016x}] {}",
        entry.index,
        render::seconds(entry.at_ms),
        entry.hash,
        entry.description
    )
}

fn mismatch_json(scenario: &Scenario, result: &DeterminismResult) -> Value {
    let difference = match &result.verdict {
        Verdict::Same => json!(null),
        Verdict::Panicked(detail) => json!({ "panicked": detail }),
        Verdict::Differs(None) => json!({ "traces_agree": true }),
        Verdict::Differs(Some(TraceDifference::Event { first, second })) => {
            json!({ "event": { "first": first, "second": second } })
        }
        Verdict::Differs(Some(TraceDifference::Length {
            common_count,
            next,
            longer_is_second,
        })) => {
            json!({ "length": {
                "common_count": common_count,
                "next": next,
                "longer_is_second": longer_is_second,
            } })
        }
    };
    json!({
        "scenario": scenario.spec.name,
        "path": scenario.path,
        "seed": result.seed,
        "first_digest": result.first_digest,
        "second_digest": result.second_digest,
        "difference": difference,
    })
}
