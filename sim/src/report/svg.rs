//! Inline SVG charts for `index.html`: HdrHistogram-style percentile plots and the fault
//! timeline. Plain strings, no scripts, so the page works offline and from `file://`.

use std::fmt::Write;

use super::distribution::Distribution;
use super::hgrm::TICKS_PER_HALF_DISTANCE;
use super::timeline::Timeline;

/// Line colours, one per series, reused in order.
pub(crate) const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

/// The highest `1/(1-p)` decade on the x axis: 99.999 %.
const NINES_MAX: f64 = 5.0;

/// A percentile plot: value (log scale) against percentile, on HdrHistogram's "number of
/// nines" axis, one line per series.
pub(crate) fn percentile_chart(
    title: &str,
    unit: &str,
    series: &[(String, Distribution)],
) -> String {
    let (width, height, left, right, top, bottom) = (540.0, 280.0, 56.0, 30.0, 28.0, 40.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let value_max = series.iter().map(|(_, d)| d.histogram().max()).max().unwrap_or(1).max(1);
    let decades = (value_max as f64).log10().ceil().max(1.0);
    let x = |quantile: f64| {
        let nines = if quantile >= 1.0 { NINES_MAX } else { (1.0 / (1.0 - quantile)).log10() };
        left + plot_w * nines.min(NINES_MAX) / NINES_MAX
    };
    let y = |value: u64| top + plot_h * (1.0 - (value.max(1) as f64).log10() / decades);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" aria-label="{}">"#,
        escape(title)
    );
    let _ = write!(svg, r#"<text x="{left}" y="18" class="title">{}</text>"#, escape(title));
    for (index, label) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"].iter().enumerate() {
        let px = left + plot_w * index as f64 / NINES_MAX;
        let _ = write!(
            svg,
            r#"<line x1="{px:.1}" y1="{top}" x2="{px:.1}" y2="{:.1}" class="grid"/><text x="{px:.1}" y="{:.1}" class="tick" text-anchor="middle">{label}</text>"#,
            top + plot_h,
            top + plot_h + 14.0
        );
    }
    for decade in 0..=decades as u32 {
        let py = y(10u64.pow(decade));
        let _ = write!(
            svg,
            r#"<line x1="{left}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" class="grid"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            left + plot_w,
            left - 4.0,
            py + 4.0,
            short_number(10u64.pow(decade))
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">percentile</text><text x="12" y="{:.1}" class="tick" transform="rotate(-90 12 {:.1})" text-anchor="middle">{}</text>"#,
        left + plot_w / 2.0,
        height - 6.0,
        top + plot_h / 2.0,
        top + plot_h / 2.0,
        escape(unit)
    );
    for (index, (name, distribution)) in series.iter().enumerate() {
        if distribution.is_empty() {
            continue;
        }
        let colour = PALETTE[index % PALETTE.len()];
        let points: Vec<String> = distribution
            .histogram()
            .iter_quantiles(TICKS_PER_HALF_DISTANCE)
            .map(|step| {
                format!("{:.1},{:.1}", x(step.quantile_iterated_to()), y(step.value_iterated_to()))
            })
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.8"><title>{}</title></polyline>"#,
            points.join(" "),
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The fault timeline of one seed: a row for partitions, the server, and each client.
pub(crate) fn timeline_chart(timeline: &Timeline) -> String {
    let rows = timeline.clients as usize + 2;
    let (left, right, top, row_h) = (84.0, 16.0, 24.0, 22.0);
    let width = 1100.0;
    let height = top + row_h * rows as f64 + 40.0;
    let plot_w = width - left - right;
    let end_ms = timeline.end_ms.max(1) as f64;
    let x = |ms: u64| left + plot_w * ms as f64 / end_ms;
    let row_y = |row: usize| top + row_h * row as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0}" class="timeline" role="img" aria-label="fault timeline">"#
    );
    let labels = std::iter::once("partitions".to_owned())
        .chain(std::iter::once("server".to_owned()))
        .chain((1..=timeline.clients).map(|i| format!("client-{i}")));
    for (row, label) in labels.enumerate() {
        let py = row_y(row);
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{label}</text><line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" class="grid"/>"#,
            left - 6.0,
            py + row_h * 0.65,
            py + row_h,
            left + plot_w,
            py + row_h
        );
    }
    for (client, spans) in timeline.connected_spans.iter().enumerate() {
        let py = row_y(client + 2) + row_h * 0.4;
        for (from_ms, to_ms) in spans {
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{py:.1}" width="{:.2}" height="4" class="connected"><title>connected {} – {}</title></rect>"#,
                x(*from_ms),
                (x(*to_ms) - x(*from_ms)).max(0.5),
                seconds(*from_ms),
                seconds(*to_ms)
            );
        }
    }
    for (client, writes) in timeline.writes_per_second.iter().enumerate() {
        let base = row_y(client + 2) + row_h - 2.0;
        for (second, count) in writes {
            let px = x(second * 1_000);
            let tick_h = (2.0 + *count as f64).min(row_h * 0.35);
            let _ = write!(
                svg,
                r#"<line x1="{px:.1}" y1="{base:.1}" x2="{px:.1}" y2="{:.1}" class="write"/>"#,
                base - tick_h
            );
        }
    }
    for fault in &timeline.faults {
        let row = match fault.node.as_str() {
            "all" => 0,
            "server" => 1,
            node => node.trim_start_matches("client-").parse::<usize>().map_or(0, |i| i + 1),
        };
        let py = row_y(row) + 2.0;
        let tip = format!(
            "{} {} {} – {} {}",
            fault.kind,
            fault.node,
            seconds(fault.from_ms),
            seconds(fault.to_ms),
            fault.detail
        );
        if fault.from_ms == fault.to_ms {
            // An instant (a clock jump, a redeploy, an app upgrade) is a marker, not a bar.
            let px = x(fault.from_ms);
            let class = if fault.kind == "clock-jump" { "jump" } else { fault.kind.as_str() };
            let _ = write!(
                svg,
                r#"<path d="M{:.1},{py:.1} l5,9 l-10,0 z" class="{class}"><title>{}</title></path>"#,
                px,
                escape(&tip)
            );
        } else {
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{py:.1}" width="{:.2}" height="{:.1}" class="{}"><title>{}</title></rect>"#,
                x(fault.from_ms),
                (x(fault.to_ms) - x(fault.from_ms)).max(1.0),
                row_h - 4.0,
                fault.kind,
                escape(&tip)
            );
        }
    }
    let bottom = row_y(rows);
    // The heal is labelled above the rows, convergence (often right after it) below them.
    let marks = [
        (Some(timeline.heal_at_ms), "heal", "heal", top - 6.0),
        (timeline.converged_at_ms, "converged", "converged", bottom + 28.0),
    ];
    for (ms, class, label, label_y) in marks {
        if let Some(ms) = ms {
            let px = x(ms);
            let _ = write!(
                svg,
                r#"<line x1="{px:.1}" y1="{top}" x2="{px:.1}" y2="{bottom:.1}" class="{class}"/><text x="{px:.1}" y="{label_y:.1}" class="tick" text-anchor="end">{label}</text>"#
            );
        }
    }
    let step_s = nice_step(timeline.end_ms / 1_000 / 10);
    let mut second = 0;
    while second * 1_000 <= timeline.end_ms {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{second} s</text>"#,
            x(second * 1_000),
            bottom + 16.0
        );
        second += step_s;
    }
    svg.push_str("</svg>");
    svg
}

/// A round step (1, 2, 5, 10, 20, 50, …) at least `raw`.
fn nice_step(raw: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= raw.max(1) {
                return step * factor;
            }
        }
        step *= 10;
    }
}

fn short_number(value: u64) -> String {
    match value {
        v if v >= 1_000_000 => format!("{}M", v / 1_000_000),
        v if v >= 1_000 => format!("{}k", v / 1_000),
        v => v.to_string(),
    }
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1_000, ms % 1_000)
}

/// Text made safe for HTML and SVG content and attributes.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
