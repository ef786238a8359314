//! Quarantined writes are lost writes. Every verdict a person reads (a run's, each scenario's
//! line of a sweep, `summary.md` and the report page) states how many, out of how many, and
//! why, in one phrase made here: "2,100 of 2,700 writes quarantined (78%): 2,100 stale".

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::outcome::RunStats;

/// Writes committed and writes quarantined (each op once, whichever nodes reported it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loss {
    pub committed: u64,
    pub quarantined: u64,
    pub by_reason: BTreeMap<String, u64>,
}

impl Loss {
    pub fn of_stats(stats: &RunStats) -> Loss {
        Loss {
            committed: stats.writes_committed,
            quarantined: stats.quarantined,
            by_reason: stats.quarantined_by_reason.clone(),
        }
    }

    /// From a scenario's summed counters (see `summary.json`).
    pub fn of_counters(counters: &Map<String, Value>) -> Loss {
        let number = |key: &str| counters.get(key).and_then(Value::as_u64).unwrap_or(0);
        let by_reason = match counters.get("quarantined_by_reason") {
            Some(Value::Object(map)) => {
                map.iter().map(|(reason, n)| (reason.clone(), n.as_u64().unwrap_or(0))).collect()
            }
            _ => BTreeMap::new(),
        };
        Loss {
            committed: number("writes_committed"),
            quarantined: number("quarantined"),
            by_reason,
        }
    }

    pub fn add(&mut self, other: &Loss) {
        self.committed += other.committed;
        self.quarantined += other.quarantined;
        for (reason, count) in &other.by_reason {
            *self.by_reason.entry(reason.clone()).or_default() += count;
        }
    }

    /// The quarantined share of the writes committed, as the phrase gives it (`2.7%`).
    pub fn share(&self) -> String {
        share(self.quarantined, self.committed)
    }

    /// Whether any write was lost to a delete the server had forgotten: the one loss a longer
    /// retention window would have avoided, so it is flagged wherever the count appears.
    pub fn has_stale(&self) -> bool {
        self.by_reason.get("stale").is_some_and(|count| *count > 0)
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} writes quarantined",
            grouped(self.quarantined),
            grouped(self.committed)
        )?;
        if self.quarantined == 0 {
            return Ok(());
        }
        write!(f, " ({})", self.share())?;
        let reasons: Vec<String> = self
            .by_reason
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(reason, count)| format!("{} {reason}", grouped(*count)))
            .collect();
        if !reasons.is_empty() {
            write!(f, ": {}", reasons.join(", "))?;
        }
        if self.has_stale() {
            write!(f, " [STALE: lost to deletes the server had forgotten]")?;
        }
        Ok(())
    }
}

/// `part` as a percentage of `whole`, with the precision a small share needs.
fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "of none".to_owned();
    }
    let percent = part as f64 * 100.0 / whole as f64;
    match percent {
        p if p >= 10.0 => format!("{p:.0}%"),
        p if p >= 1.0 => format!("{p:.1}%"),
        p if p >= 0.01 => format!("{p:.2}%"),
        _ => "<0.01%".to_owned(),
    }
}

/// A count with thousands separators: `2,100`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss(committed: u64, reasons: &[(&str, u64)]) -> Loss {
        let by_reason: BTreeMap<String, u64> =
            reasons.iter().map(|(reason, n)| ((*reason).to_owned(), *n)).collect();
        Loss { committed, quarantined: by_reason.values().sum(), by_reason }
    }

    /// Goal: the phrase gives count, total, share and reasons, and flags stale losses.
    #[test]
    fn a_loss_reads_as_a_count_of_writes_a_share_and_the_reasons() {
        assert_eq!(loss(2_700, &[]).to_string(), "0 of 2,700 writes quarantined");
        assert_eq!(
            loss(2_700, &[("stale", 2_100)]).to_string(),
            "2,100 of 2,700 writes quarantined (78%): 2,100 stale \
             [STALE: lost to deletes the server had forgotten]"
        );
        assert_eq!(
            loss(1_234_567, &[("invalid", 3)]).to_string(),
            "3 of 1,234,567 writes quarantined (<0.01%): 3 invalid"
        );
        assert_eq!(
            loss(400, &[("invalid", 6)]).to_string(),
            "6 of 400 writes quarantined (1.5%): 6 invalid"
        );
    }
}
