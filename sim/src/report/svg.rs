//! Inline SVG charts for `index.html`: HdrHistogram-style percentile plots and the fault
//! timeline. Plain strings, no scripts, so the page works offline and from `file://`.

use std::fmt::Write;

use super::distribution::Distribution;
use super::hgrm::TICKS_PER_HALF_DISTANCE;
use super::timeline::{Timeline, TimelineFault};

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
    let value_max = series.iter().map(|(_, d)| d.histogram().max()).max().unwrap_or(1).max(1);
    let plot = PercentilePlot {
        left,
        top,
        plot_w: width - left - right,
        plot_h: height - top - bottom,
        decades: (value_max as f64).log10().ceil().max(1.0),
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         class=\"chart\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    let _ = write!(svg, r#"<text x="{left}" y="18" class="title">{}</text>"#, escape(title));
    plot.axes(&mut svg, height, unit);
    for (index, (name, distribution)) in series.iter().enumerate() {
        if !distribution.is_empty() {
            plot.line(&mut svg, PALETTE[index % PALETTE.len()], name, distribution);
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Where values and percentiles fall on a percentile plot.
struct PercentilePlot {
    left: f64,
    top: f64,
    plot_w: f64,
    plot_h: f64,
    /// Decades of the log-scale value axis.
    decades: f64,
}

impl PercentilePlot {
    fn x(&self, quantile: f64) -> f64 {
        let nines = if quantile >= 1.0 { NINES_MAX } else { (1.0 / (1.0 - quantile)).log10() };
        self.left + self.plot_w * nines.min(NINES_MAX) / NINES_MAX
    }

    fn y(&self, value: u64) -> f64 {
        self.top + self.plot_h * (1.0 - (value.max(1) as f64).log10() / self.decades)
    }

    /// The grid, the ticks of both axes, and their labels.
    fn axes(&self, svg: &mut String, height: f64, unit: &str) {
        let (left, top, plot_w, plot_h) = (self.left, self.top, self.plot_w, self.plot_h);
        for (index, label) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"].iter().enumerate()
        {
            let px = left + plot_w * index as f64 / NINES_MAX;
            let _ = write!(
                svg,
                "<line x1=\"{px:.1}\" y1=\"{top}\" x2=\"{px:.1}\" y2=\"{:.1}\" class=\"grid\"/>\
                 <text x=\"{px:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{label}\
                 </text>",
                top + plot_h,
                top + plot_h + 14.0
            );
        }
        for decade in 0..=self.decades as u32 {
            let py = self.y(10u64.pow(decade));
            let _ = write!(
                svg,
                "<line x1=\"{left}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" class=\"grid\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
                left + plot_w,
                left - 4.0,
                py + 4.0,
                short_number(10u64.pow(decade))
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">percentile</text>\
             <text x=\"12\" y=\"{:.1}\" class=\"tick\" transform=\"rotate(-90 12 {:.1})\" \
             text-anchor=\"middle\">{}</text>",
            left + plot_w / 2.0,
            height - 6.0,
            top + plot_h / 2.0,
            top + plot_h / 2.0,
            escape(unit)
        );
    }

    /// One series, as a line through its percentiles.
    fn line(&self, svg: &mut String, colour: &str, name: &str, distribution: &Distribution) {
        let points: Vec<String> = distribution
            .histogram()
            .iter_quantiles(TICKS_PER_HALF_DISTANCE)
            .map(|step| {
                let (x, y) =
                    (self.x(step.quantile_iterated_to()), self.y(step.value_iterated_to()));
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\"><title>\
             {}</title></polyline>",
            points.join(" "),
            escape(name)
        );
    }
}

/// The fault timeline of one seed: a row for partitions, the server, and each client.
pub(crate) fn timeline_chart(timeline: &Timeline) -> String {
    let rows = timeline.clients as usize + 2;
    let (left, right, top, row_h) = (84.0, 16.0, 24.0, 22.0);
    let width = 1100.0;
    let height = top + row_h * rows as f64 + 40.0;
    let plot = TimelinePlot {
        left,
        top,
        row_h,
        plot_w: width - left - right,
        end_ms: timeline.end_ms.max(1) as f64,
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height:.0}\" \
         class=\"timeline\" role=\"img\" aria-label=\"fault timeline\">"
    );
    plot.rows(&mut svg, timeline.clients);
    plot.connections(&mut svg, timeline);
    plot.writes(&mut svg, timeline);
    for fault in &timeline.faults {
        plot.fault(&mut svg, fault);
    }
    let bottom = plot.row_y(rows);
    plot.heal_and_convergence(&mut svg, timeline, bottom);
    plot.time_axis(&mut svg, timeline.end_ms, bottom);
    svg.push_str("</svg>");
    svg
}

/// Where rows and instants fall on the fault timeline.
struct TimelinePlot {
    left: f64,
    top: f64,
    row_h: f64,
    plot_w: f64,
    /// The run's end, at the right edge (at least 1 ms).
    end_ms: f64,
}

impl TimelinePlot {
    fn x(&self, ms: u64) -> f64 {
        self.left + self.plot_w * ms as f64 / self.end_ms
    }

    fn row_y(&self, row: usize) -> f64 {
        self.top + self.row_h * row as f64
    }

    /// Each row's label and the line beneath it: partitions, the server, then the clients.
    fn rows(&self, svg: &mut String, clients: u32) {
        let (left, row_h) = (self.left, self.row_h);
        let labels = std::iter::once("partitions".to_owned())
            .chain(std::iter::once("server".to_owned()))
            .chain((1..=clients).map(|i| format!("client-{i}")));
        for (row, label) in labels.enumerate() {
            let py = self.row_y(row);
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{label}</text>\
                 <line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"grid\"/>",
                left - 6.0,
                py + row_h * 0.65,
                py + row_h,
                left + self.plot_w,
                py + row_h
            );
        }
    }

    /// A thin bar on each client's row while it was connected.
    fn connections(&self, svg: &mut String, timeline: &Timeline) {
        for (client, spans) in timeline.connected_spans.iter().enumerate() {
            let py = self.row_y(client + 2) + self.row_h * 0.4;
            for (from_ms, to_ms) in spans {
                let _ = write!(
                    svg,
                    "<rect x=\"{:.1}\" y=\"{py:.1}\" width=\"{:.2}\" height=\"4\" \
                     class=\"connected\"><title>connected {} – {}</title></rect>",
                    self.x(*from_ms),
                    (self.x(*to_ms) - self.x(*from_ms)).max(0.5),
                    seconds(*from_ms),
                    seconds(*to_ms)
                );
            }
        }
    }

    /// A tick per second a client wrote in, taller for more writes.
    fn writes(&self, svg: &mut String, timeline: &Timeline) {
        for (client, writes) in timeline.writes_per_second.iter().enumerate() {
            let base = self.row_y(client + 2) + self.row_h - 2.0;
            for (second, count) in writes {
                let px = self.x(second * 1_000);
                let tick_h = (2.0 + *count as f64).min(self.row_h * 0.35);
                let _ = write!(
                    svg,
                    r#"<line x1="{px:.1}" y1="{base:.1}" x2="{px:.1}" y2="{:.1}" class="write"/>"#,
                    base - tick_h
                );
            }
        }
    }

    /// A fault on its node's row: a bar for the time it lasted, or a marker for an instant.
    fn fault(&self, svg: &mut String, fault: &TimelineFault) {
        let row = match fault.node.as_str() {
            "all" => 0,
            "server" => 1,
            node => node.trim_start_matches("client-").parse::<usize>().map_or(0, |i| i + 1),
        };
        let py = self.row_y(row) + 2.0;
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
            let px = self.x(fault.from_ms);
            let class = if fault.kind == "clock-jump" { "jump" } else { fault.kind.as_str() };
            let _ = write!(
                svg,
                "<path d=\"M{:.1},{py:.1} l5,9 l-10,0 z\" class=\"{class}\"><title>{}</title>\
                 </path>",
                px,
                escape(&tip)
            );
        } else {
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{py:.1}\" width=\"{:.2}\" height=\"{:.1}\" class=\"{}\">\
                 <title>{}</title></rect>",
                self.x(fault.from_ms),
                (self.x(fault.to_ms) - self.x(fault.from_ms)).max(1.0),
                self.row_h - 4.0,
                fault.kind,
                escape(&tip)
            );
        }
    }

    /// Vertical lines at the heal and at convergence.
    fn heal_and_convergence(&self, svg: &mut String, timeline: &Timeline, bottom: f64) {
        let top = self.top;
        // The heal is labelled above the rows, convergence (often right after it) below them.
        let marks = [
            (Some(timeline.heal_at_ms), "heal", "heal", top - 6.0),
            (timeline.converged_at_ms, "converged", "converged", bottom + 28.0),
        ];
        for (ms, class, label, label_y) in marks {
            if let Some(ms) = ms {
                let px = self.x(ms);
                let _ = write!(
                    svg,
                    "<line x1=\"{px:.1}\" y1=\"{top}\" x2=\"{px:.1}\" y2=\"{bottom:.1}\" \
                     class=\"{class}\"/><text x=\"{px:.1}\" y=\"{label_y:.1}\" class=\"tick\" \
                     text-anchor=\"end\">{label}</text>"
                );
            }
        }
    }

    /// Seconds along the bottom, at a round step that gives about ten labels.
    fn time_axis(&self, svg: &mut String, end_ms: u64, bottom: f64) {
        let step_s = nice_step(end_ms / 1_000 / 10);
        let mut second = 0;
        while second * 1_000 <= end_ms {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{second} s</text>"#,
                self.x(second * 1_000),
                bottom + 16.0
            );
            second += step_s;
        }
    }
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
