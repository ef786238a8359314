//! `index.html`: one self-contained page (inline CSS and SVG, no scripts, no network) with the
//! verdict, per-scenario tables, percentile charts and, for a single seed, the fault timeline.

use std::fmt::Write;

use super::distribution::Distribution;
use super::markdown::hottest;
use super::measures::METRICS;
use super::summary::Summary;
use super::svg::{PALETTE, escape, percentile_chart, timeline_chart};

/// The page's style, kept in its own file so it reads as CSS.
const STYLE: &str = include_str!("page.css");

/// The whole page.
pub fn render(summary: &Summary) -> String {
    let mut page = String::new();
    let passed = summary.failed == 0;
    let loss = summary.loss();
    let run = &summary.run;
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>driftsync report: \
         {}</title><style>{STYLE}</style></head><body>",
        if passed { "passed" } else { "FAILED" }
    );
    let _ = write!(
        page,
        "<header class=\"{}\"><h1>driftsync report: {}</h1><p>{} passed, {} failed · <code>{}\
         </code> · {} scenarios · seeds {}..{} · shards {} · harness {} · {}</p><p class=\"{}\">\
         Lost: {}</p></header><main>",
        if passed { "pass" } else { "fail" },
        if passed { "PASSED" } else { "FAILED" },
        summary.passed,
        summary.failed,
        escape(&run.command),
        summary.scenarios.len(),
        run.seeds_start,
        run.seeds_start.saturating_add(run.seeds_count),
        escape(&run.shards.join(", ")),
        escape(&run.harness_version),
        escape(&run.created_utc),
        if loss.has_stale() {
            "loss stale"
        } else if loss.quarantined > 0 {
            "loss"
        } else {
            "loss none"
        },
        escape(&loss.to_string())
    );
    scenarios_table(&mut page, summary);
    failing_seeds(&mut page, summary);
    if let Some(timeline) = &summary.timeline {
        let _ = write!(
            page,
            "<section><h2>Timeline: {} seed {}</h2><p>Orange: partitions · grey: offline · red: \
             crashed · purple: clock jumps · brown: server redeploys (schema versions) · teal: app \
             upgrades · green bars: connected · blue ticks: writes per second · dashed: heal and \
             convergence.</p>{}</section>",
            escape(&timeline.scenario),
            timeline.seed,
            timeline_chart(timeline)
        );
    }
    charts(&mut page, summary);
    counters_table(&mut page, summary);
    page.push_str("</main></body></html>\n");
    page
}

fn scenarios_table(page: &mut String, summary: &Summary) {
    page.push_str(
        "<section><h2>Scenarios</h2><table><tr><th>scenario</th><th>result</th><th>\
     passed</th><th>failed</th><th>writes lost</th><th>write→ack p50 / p99 ms</th><th>\
     write→visible p99 ms</th><th>heal→converged p99 ms</th><th>hottest records</th></tr>",
    );
    for s in &summary.scenarios {
        let p = |key: &str, pick: fn(&super::distribution::DistributionSummary) -> u64| {
            s.distributions
                .get(key)
                .filter(|d| d.count > 0)
                .map_or("–".to_owned(), |d| pick(d).to_string())
        };
        let _ = write!(
            page,
            "<tr><td title=\"{}\">{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td \
             class=\"{}\" title=\"{}\">{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td>\
             </tr>",
            escape(&s.path),
            escape(&s.name),
            if s.failed == 0 { "ok" } else { "bad" },
            if s.failed == 0 { "pass" } else { "FAIL" },
            s.passed,
            s.failed,
            if s.loss().has_stale() { "bad" } else { "" },
            escape(&s.loss().to_string()),
            loss_share(&s.loss()),
            p("write_to_ack_ms", |d| d.p50),
            p("write_to_ack_ms", |d| d.p99),
            p("write_to_visible_everywhere_ms", |d| d.p99),
            p("heal_to_converged_ms", |d| d.p99),
            escape(&hottest(s).join(", ").replace('`', ""))
        );
    }
    page.push_str("</table></section>");
}

/// The table cell of a scenario's loss: the count and the share, the full phrase as a tooltip.
fn loss_share(loss: &super::Loss) -> String {
    if loss.quarantined == 0 {
        return "0".to_owned();
    }
    format!("{} ({})", loss.quarantined, loss.share())
}

fn failing_seeds(page: &mut String, summary: &Summary) {
    if summary.failed == 0 {
        return;
    }
    page.push_str(
        "<section><h2>Failing seeds</h2><table><tr><th>scenario</th><th>seed</th><th>\
     first failure</th><th>replay</th></tr>",
    );
    for s in &summary.scenarios {
        for seed in &s.failing_seeds {
            let first = seed.failures.first().map(ToString::to_string).unwrap_or_default();
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td><td \
                 style=\"text-align:left\"><code>{}</code></td></tr>",
                escape(&s.name),
                seed.seed,
                escape(&first),
                escape(&seed.replay)
            );
        }
    }
    page.push_str("</table></section>");
}

fn charts(page: &mut String, summary: &Summary) {
    page.push_str("<section><h2>Distributions in simulated time</h2><p class=\"legend\">");
    for (index, s) in summary.scenarios.iter().enumerate() {
        let _ = write!(
            page,
            "<span><i style=\"background:{}\"></i>{}</span>",
            PALETTE[index % PALETTE.len()],
            escape(&s.name)
        );
    }
    page.push_str("</p><div class=\"charts\">");
    for (key, unit, what) in METRICS {
        let series: Vec<(String, Distribution)> = summary
            .scenarios
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    s.distributions.get(key).map(|d| d.distribution()).unwrap_or_default(),
                )
            })
            .collect();
        page.push_str(&percentile_chart(what, unit, &series));
    }
    page.push_str("</div></section>");
}

fn counters_table(page: &mut String, summary: &Summary) {
    page.push_str("<section><h2>Counters</h2><table><tr><th>scenario</th>");
    let keys: Vec<&String> = summary
        .scenarios
        .first()
        .map(|s| s.counters.iter().filter(|(_, v)| v.is_u64()).map(|(k, _)| k).collect())
        .unwrap_or_default();
    for key in &keys {
        let _ = write!(page, "<th>{}</th>", escape(&key.replace('_', " ")));
    }
    page.push_str(
        "<th style=\"text-align:left\">faults · conflicts by rule · quarantined by \
     reason</th></tr>",
    );
    for s in &summary.scenarios {
        let _ = write!(page, "<tr><td>{}</td>", escape(&s.name));
        for key in &keys {
            let value = s.counters.get(key.as_str()).and_then(|v| v.as_u64()).unwrap_or(0);
            let _ = write!(page, "<td>{value}</td>");
        }
        let maps: Vec<String> = ["faults_fired", "conflicts_by_rule", "quarantined_by_reason"]
            .iter()
            .filter_map(|key| s.counters.get(*key).and_then(|v| v.as_object()))
            .map(|map| map.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "))
            .map(|text| if text.is_empty() { "–".to_owned() } else { text })
            .collect();
        let _ =
            write!(page, "<td style=\"text-align:left\">{}</td></tr>", escape(&maps.join(" · ")));
    }
    page.push_str("</table></section>");
}
