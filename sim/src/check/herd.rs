//! `herd_spread`: clients that come back on line at one instant do not all reconnect at one
//! instant. Each keeps retrying while it is away, with a backoff whose jitter comes from its
//! own seed; without that jitter, clients that failed in lockstep retry in lockstep, and a
//! server that comes back (or a network that heals) meets the whole fleet in the same second.

use std::collections::BTreeMap;

use crate::check::Report;
use crate::history::History;
use crate::outcome::Checker;
use crate::plan::Fault;
use crate::view::WorldView;

/// Fewer clients returning together than this are not a herd worth judging.
pub(crate) const HERD_CLIENTS_MIN: usize = 10;
/// The window a herd must not crowd into.
pub(crate) const HERD_WINDOW_MS: u64 = 1_000;
/// The largest share of a herd that may reconnect within one window.
pub(crate) const HERD_WINDOW_SHARE_MAX: f64 = 0.25;

pub(super) fn herd_spread(view: &WorldView<'_>, history: &History, report: &mut Report<'_>) {
    let mut returning: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for timed in &view.plan.faults {
        if let Fault::Online { client } = timed.fault {
            returning.entry(timed.at_ms).or_default().push(client.0 as usize - 1);
        }
    }
    let connects = &history.client_connects;
    for (at_ms, clients) in returning.into_iter().filter(|(_, c)| c.len() >= HERD_CLIENTS_MIN) {
        let mut first: Vec<u64> = clients
            .iter()
            .filter_map(|client| {
                connects.iter().find(|(ms, c)| c == client && *ms >= at_ms).map(|(ms, _)| *ms)
            })
            .collect();
        first.sort_unstable();
        let crowd = most_within(&first, HERD_WINDOW_MS);
        let allowed = (clients.len() as f64 * HERD_WINDOW_SHARE_MAX).ceil() as usize;
        if crowd > allowed {
            let detail = format!(
                "{crowd} of {} clients back on line at {:.3} s reconnected within one second \
                 (at most {allowed} may): their backoff is not spread",
                clients.len(),
                at_ms as f64 / 1_000.0
            );
            report(Checker::HerdSpread, None, None, detail);
        }
    }
}

/// The most of the sorted instants that fit in one window of `window_ms`.
fn most_within(sorted_ms: &[u64], window_ms: u64) -> usize {
    let mut start = 0;
    let mut most = 0;
    for (end, at) in sorted_ms.iter().enumerate() {
        while sorted_ms[start] + window_ms <= *at {
            start += 1;
        }
        most = most.max(end + 1 - start);
    }
    most
}

#[cfg(test)]
mod tests {
    use super::most_within;

    #[test]
    fn instants_a_window_apart_never_share_it() {
        assert_eq!(most_within(&[0, 1_000, 2_000], 1_000), 1);
    }

    #[test]
    fn the_most_crowded_window_is_found_wherever_it_is() {
        assert_eq!(most_within(&[0, 5_000, 5_100, 5_999, 6_500, 9_000], 1_000), 3);
        assert_eq!(most_within(&[], 1_000), 0);
    }
}
