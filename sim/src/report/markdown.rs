//! `summary.md`: the report for people, and what a GitHub job summary shows.

use std::fmt::Write;

use serde_json::Value;

use super::measures::METRICS;
use super::summary::{ScenarioSummary, Summary};

/// Conflict hotspots listed per scenario.
pub const HOTSPOTS_SHOWN_MAX: usize = 5;
/// Failing seeds listed per scenario in the Markdown; `summary.json` keeps more.
pub const FAILING_SEEDS_SHOWN_MAX: usize = 20;

/// The whole Markdown summary.
pub fn render(summary: &Summary) -> String {
    let mut md = String::new();
    // Writing into a String cannot fail; results are ignored for that reason throughout.
    let verdict = if summary.failed == 0 { "PASSED ✅" } else { "FAILED ❌" };
    let _ = writeln!(md, "# driftsync report: {verdict}\n");
    let run = &summary.run;
    let _ = writeln!(
        md,
        "`{}` · {} scenarios · seeds {}..{} · shards {} · {} passed, {} failed · harness {} · {}\n",
        run.command,
        summary.scenarios.len(),
        run.seeds_start,
        run.seeds_start.saturating_add(run.seeds_count),
        run.shards.join(", "),
        summary.passed,
        summary.failed,
        run.harness_version,
        run.created_utc
    );
    let loss = summary.loss();
    let flag = if loss.has_stale() { "⚠️ " } else { "" };
    let _ = writeln!(
        md,
        "{flag}**Lost: {loss}.** A quarantined write is kept and reported, but it is a write the \
         app's user made that no replica shows.\n"
    );
    scenario_table(&mut md, &summary.scenarios);
    failing_seeds(&mut md, &summary.scenarios);
    let _ = writeln!(md, "## Distributions (simulated time)\n");
    for (key, unit, what) in METRICS {
        percentile_table(&mut md, &summary.scenarios, key, unit, what);
    }
    counters(&mut md, &summary.scenarios);
    coverage(&mut md, &summary.scenarios);
    hotspots(&mut md, &summary.scenarios);
    md
}

/// `text` cut at a line boundary to at most `bytes_max` bytes, with a note saying so.
pub fn truncated(text: &str, bytes_max: usize, note: &str) -> String {
    if text.len() <= bytes_max {
        return text.to_owned();
    }
    let budget = bytes_max.saturating_sub(note.len() + 2);
    let cut = text[..budget.min(text.len())].rfind('\n').map_or(0, |at| at + 1);
    format!("{}\n{note}\n", &text[..cut])
}

fn scenario_table(md: &mut String, scenarios: &[ScenarioSummary]) {
    let _ = writeln!(md, "| scenario | result | passed | failed | writes lost | seeds digest |");
    let _ = writeln!(md, "|---|---|---:|---:|---|---|");
    for s in scenarios {
        let result = if s.failed == 0 { "✅ pass" } else { "❌ FAIL" };
        let _ = writeln!(
            md,
            "| {} | {result} | {} | {} | {} | `{}` |",
            s.name,
            s.passed,
            s.failed,
            s.loss(),
            s.seeds_digest
        );
    }
    let _ = writeln!(md);
}

fn failing_seeds(md: &mut String, scenarios: &[ScenarioSummary]) {
    if scenarios.iter().all(|s| s.failed == 0) {
        return;
    }
    let _ = writeln!(md, "## Failing seeds\n");
    for s in scenarios.iter().filter(|s| s.failed > 0) {
        let _ = writeln!(md, "### {} (`{}`): {} failed\n", s.name, s.path, s.failed);
        for seed in s.failing_seeds.iter().take(FAILING_SEEDS_SHOWN_MAX) {
            let first = seed.failures.first().map(ToString::to_string).unwrap_or_default();
            let _ = writeln!(
                md,
                "- seed {}: {} failures; first: {first}",
                seed.seed, seed.failures_count
            );
            let _ = writeln!(md, "  ```sh\n  {}\n  ```", seed.replay);
        }
        let hidden =
            s.failed.saturating_sub(s.failing_seeds.len().min(FAILING_SEEDS_SHOWN_MAX) as u64);
        if hidden > 0 {
            let _ = writeln!(md, "- … and {hidden} more failing seeds (see `summary.json`)");
        }
        let _ = writeln!(md);
    }
}

fn percentile_table(
    md: &mut String,
    scenarios: &[ScenarioSummary],
    key: &str,
    unit: &str,
    what: &str,
) {
    let _ = writeln!(md, "### {what} ({unit})\n");
    let _ = writeln!(md, "| scenario | count | p50 | p90 | p99 | p99.9 | max |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    for s in scenarios {
        match s.distributions.get(key) {
            Some(d) if d.count > 0 => {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    s.name, d.count, d.p50, d.p90, d.p99, d.p99_9, d.max
                );
            }
            _ => {
                let _ = writeln!(md, "| {} | 0 | – | – | – | – | – |", s.name);
            }
        }
    }
    let _ = writeln!(md);
}

/// The counters table: the headline numbers, then each map counter as `name count` pairs.
fn counters(md: &mut String, scenarios: &[ScenarioSummary]) {
    const COLUMNS: [(&str, &str); 9] = [
        ("writes_committed", "writes"),
        ("retries", "retries"),
        ("duplicates_dropped", "duplicates dropped"),
        ("conflicts", "conflicts"),
        ("resyncs", "resyncs"),
        ("quarantined", "quarantined"),
        ("ops_migrated_up", "migrated up"),
        ("ops_migrated_down", "migrated down"),
        ("writes_not_visible_everywhere", "not visible everywhere"),
    ];
    let _ = writeln!(md, "## Counters\n");
    let header: Vec<&str> = COLUMNS.iter().map(|(_, label)| *label).collect();
    let _ = writeln!(md, "| scenario | {} |", header.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(COLUMNS.len()));
    for s in scenarios {
        let cells: Vec<String> =
            COLUMNS.iter().map(|(key, _)| number(s.counters.get(*key))).collect();
        let _ = writeln!(md, "| {} | {} |", s.name, cells.join(" | "));
    }
    let _ = writeln!(md);
    let _ =
        writeln!(md, "| scenario | faults injected | conflicts by rule | quarantined by reason |");
    let _ = writeln!(md, "|---|---|---|---|");
    for s in scenarios {
        let maps: Vec<String> = ["faults_fired", "conflicts_by_rule", "quarantined_by_reason"]
            .iter()
            .map(|key| pairs(s.counters.get(*key)))
            .collect();
        let _ = writeln!(md, "| {} | {} |", s.name, maps.join(" | "));
    }
    let _ = writeln!(md);
}

/// How many seeds of each scenario went through each fault and each of the core's marks.
fn coverage(md: &mut String, scenarios: &[ScenarioSummary]) {
    let _ = writeln!(md, "## Coverage\n");
    let _ = writeln!(md, "Seeds that went through each fault and marked situation.\n");
    let _ = writeln!(md, "| scenario | seeds | faults and marks |");
    let _ = writeln!(md, "|---|---:|---|");
    for s in scenarios {
        let covering = pairs(s.counters.get(super::coverage::SEEDS_COVERING));
        let _ = writeln!(md, "| {} | {} | {covering} |", s.name, s.passed + s.failed);
    }
    let _ = writeln!(md);
}

fn hotspots(md: &mut String, scenarios: &[ScenarioSummary]) {
    let _ = writeln!(md, "## Conflict hotspots\n");
    let _ = writeln!(md, "| scenario | hottest records (conflict decisions) |");
    let _ = writeln!(md, "|---|---|");
    for s in scenarios {
        let _ = writeln!(md, "| {} | {} |", s.name, hottest(s).join(", "));
    }
}

/// The records with the most conflicts, as `record count`, most first (ties by name).
pub fn hottest(scenario: &ScenarioSummary) -> Vec<String> {
    let mut records: Vec<(&String, &u64)> = scenario.conflicts_by_record.iter().collect();
    records.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = records
        .iter()
        .take(HOTSPOTS_SHOWN_MAX)
        .map(|(record, count)| format!("`{record}` {count}"))
        .collect();
    if shown.is_empty() { vec!["–".to_owned()] } else { shown }
}

fn number(value: Option<&Value>) -> String {
    value.and_then(Value::as_u64).map_or_else(|| "–".to_owned(), |n| n.to_string())
}

fn pairs(value: Option<&Value>) -> String {
    match value.and_then(Value::as_object) {
        Some(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| format!("{k} {}", number(Some(v))))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "–".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: a GitHub step summary stays under its limit, cut between lines, with a note.
    #[test]
    fn truncation_cuts_at_a_line_and_says_so() {
        let text = "line one\nline two\nline three\n";
        assert_eq!(truncated(text, 1_000, "cut"), text);
        let cut = truncated(text, 20, "(cut)");
        assert!(cut.len() <= 20, "{cut:?}");
        assert_eq!(cut, "line one\n\n(cut)\n");
    }
}
