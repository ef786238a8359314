//! The planned writes of every client.
//!
//! Each client issues `writes_per_client` writes separated by exponential gaps at the drawn
//! `writes_per_sec` (a Poisson process), on a record drawn uniformly from the records every
//! client shares. When a client's writes do not fit in the chaos window, its timeline is
//! compressed: every time is scaled by the same factor so the last write lands at
//! `chaos_ms - 1`. Order and relative spacing survive; the client just writes faster than drawn,
//! which makes the run harder, never easier, and keeps the promised number of writes.

use rand::RngCore;

use super::{NodeId, PlannedWrite, values};
use crate::scenario::Params;
use crate::seed;

/// Draws every client's writes and returns them in time order (ties: by client, then in the
/// order the client issues them).
pub(super) fn generate(params: &Params, rng: &mut impl RngCore) -> Vec<PlannedWrite> {
    let workload = &params.workload;
    let writes_count = params.clients as usize * workload.writes_per_client as usize;
    let mut writes = Vec::with_capacity(writes_count);
    for client in 1..=params.clients {
        writes.extend(client_writes(params, NodeId::client(client), rng));
    }
    writes.sort_by_key(|write| (write.at_ms, write.client));
    writes
}

fn client_writes(params: &Params, client: NodeId, rng: &mut impl RngCore) -> Vec<PlannedWrite> {
    let workload = &params.workload;
    assert!(workload.writes_per_sec > 0.0, "validated: writes_per_sec > 0");
    let gap_ms_mean = 1_000.0 / workload.writes_per_sec;
    let mut at_ms: u64 = 0;
    let mut writes = Vec::with_capacity(workload.writes_per_client as usize);
    for _ in 0..workload.writes_per_client {
        // The float-to-integer cast floors and saturates, so a huge gap cannot wrap.
        at_ms = at_ms.saturating_add(seed::exponential(rng, gap_ms_mean) as u64);
        let collection = workload.collections[seed::index(rng, workload.collections.len())].clone();
        let record = seed::uniform_u64(rng, 0, u64::from(workload.records) - 1) as u32;
        writes.push(PlannedWrite {
            at_ms,
            client,
            collection,
            record,
            action: values::action(rng, &workload.mix),
            invalid: None,
            version: None,
        });
    }
    let mut times: Vec<u64> = writes.iter().map(|write| write.at_ms).collect();
    compress_into_window(&mut times, params.chaos_ms());
    for (write, at_ms) in writes.iter_mut().zip(times) {
        write.at_ms = at_ms;
    }
    writes
}

/// One client's write times, drawn before anything else of its writes (the app's writes draw
/// the rest per write afterwards).
pub(super) fn client_times(params: &Params, rng: &mut impl RngCore) -> Vec<u64> {
    let workload = &params.workload;
    let gap_ms_mean = 1_000.0 / workload.writes_per_sec;
    let mut at_ms: u64 = 0;
    let mut times: Vec<u64> = (0..workload.writes_per_client)
        .map(|_| {
            at_ms = at_ms.saturating_add(seed::exponential(rng, gap_ms_mean) as u64);
            at_ms
        })
        .collect();
    compress_into_window(&mut times, params.chaos_ms());
    times
}

/// Scales a non-decreasing timeline so that its last time is below `chaos_ms`.
fn compress_into_window(times: &mut [u64], chaos_ms: u64) {
    let Some(last_ms) = times.last().copied() else {
        return;
    };
    if last_ms < chaos_ms {
        return;
    }
    let target_ms = u128::from(chaos_ms - 1);
    for at_ms in times {
        // at_ms <= last_ms, so the quotient is at most target_ms and fits back into u64.
        *at_ms = (u128::from(*at_ms) * target_ms / u128::from(last_ms)) as u64;
    }
}
