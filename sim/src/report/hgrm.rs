//! The `.hgrm` text: HdrHistogram's percentile distribution, as Java's
//! `outputPercentileDistribution(out, 5, 1.0)` prints it, so the HdrHistogram plotter and the
//! other tools that read those files read ours. hdrhistogram-rs does not print it itself.
//!
//! ```text
//!        Value     Percentile TotalCount 1/(1-Percentile)
//!
//!        12.00 0.000000000000          1           1.00
//!        ...
//!       980.00 1.000000000000       1000
//! #[Mean    =       312.00, StdDeviation   =       201.00]
//! #[Max     =       980.00, Total count    =         1000]
//! #[Buckets =            3, SubBuckets     =          256]
//! ```

use std::fmt::Write;

use super::distribution::Distribution;

/// Quantile ticks per half distance to 100 %, as HdrHistogram's own tools print them.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// The percentile distribution of `distribution`, values in its own unit.
pub fn percentile_text(distribution: &Distribution) -> String {
    let histogram = distribution.histogram();
    let digits = usize::from(histogram.sigfig());
    let mut text = String::new();
    // Writing into a String cannot fail; the results are ignored for that reason throughout.
    let _ = write!(
        text,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total_count = 0u64;
    if !histogram.is_empty() {
        for step in histogram.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total_count += step.count_since_last_iteration();
            let value = step.value_iterated_to() as f64;
            let quantile = step.quantile_iterated_to();
            if quantile < 1.0 {
                let _ = writeln!(
                    text,
                    "{value:>12.digits$} {quantile:>2.12} {total_count:>10} {:>14.2}",
                    1.0 / (1.0 - quantile)
                );
            } else {
                let _ = writeln!(text, "{value:>12.digits$} {quantile:>2.12} {total_count:>10}");
            }
        }
    }
    let (mean, stddev, max) = if histogram.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (histogram.mean(), histogram.stdev(), histogram.max() as f64)
    };
    let _ =
        writeln!(text, "#[Mean    = {mean:>12.digits$}, StdDeviation   = {stddev:>12.digits$}]");
    let _ =
        writeln!(text, "#[Max     = {max:>12.digits$}, Total count    = {:>12}]", histogram.len());
    let _ = writeln!(
        text,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        histogram.buckets(),
        sub_bucket_count(histogram.sigfig())
    );
    text
}

/// HdrHistogram's sub-bucket count for a precision: the power of two that holds
/// `2 * 10^digits` distinct values at unit resolution.
fn sub_bucket_count(significant_digits: u8) -> u64 {
    let single_unit_values = 2 * 10u64.pow(u32::from(significant_digits));
    single_unit_values.next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_to_thousand() -> Distribution {
        let mut distribution = Distribution::new();
        for value in 1..=1_000 {
            distribution.record(value);
        }
        distribution
    }

    /// Goal: the header, row and footer layout is the one HdrHistogram's tools parse.
    #[test]
    fn the_text_has_the_hdrhistogram_header_rows_and_footer() {
        let text = percentile_text(&one_to_thousand());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "       Value     Percentile TotalCount 1/(1-Percentile)");
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "        1.00 0.000000000000          1           1.00");
        let footer = &lines[lines.len() - 3..];
        assert_eq!(footer[0], "#[Mean    =       500.87, StdDeviation   =       288.84]");
        assert_eq!(footer[1], "#[Max     =      1003.00, Total count    =         1000]");
        assert_eq!(footer[2], "#[Buckets =            3, SubBuckets     =          256]");
    }

    /// Goal: the rows climb to 100 % and the last one, without the 1/(1-p) column, counts all.
    #[test]
    fn the_last_row_is_the_maximum_at_one_with_the_total_count() {
        let text = percentile_text(&one_to_thousand());
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(2)
            .take_while(|line| !line.starts_with('#'))
            .map(|line| line.split_whitespace().collect())
            .collect();
        let last = rows.last().expect("a non-empty histogram has rows");
        assert_eq!(last, &["1003.00", "1.000000000000", "1000"]);
        let percentiles: Vec<f64> =
            rows.iter().map(|row| row[1].parse().expect("a percentile")).collect();
        assert!(percentiles.windows(2).all(|pair| pair[0] <= pair[1]), "{percentiles:?}");
        assert!(rows[..rows.len() - 1].iter().all(|row| row.len() == 4));
    }

    /// Goal: an empty histogram still gives a well-formed file, with a zero count.
    #[test]
    fn an_empty_histogram_prints_only_header_and_footer() {
        let text = percentile_text(&Distribution::new());
        assert_eq!(text.lines().count(), 5);
        assert!(text.contains("Total count    =            0]"));
    }

    /// Goal: the sub-bucket counts match HdrHistogram's for the usual precisions.
    #[test]
    fn sub_bucket_counts_match_hdrhistogram() {
        assert_eq!(sub_bucket_count(2), 256);
        assert_eq!(sub_bucket_count(3), 2048);
    }
}
