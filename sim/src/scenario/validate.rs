//! The rules a parsed scenario must satisfy, checked in document order; the first broken rule
//! is reported with the dotted path of its field.

use super::error::Violation;
use super::limits;
use super::range::{Bound, Range};
use super::spec::{ClocksSpec, FaultsSpec, Mix, ScenarioSpec, WorkloadSpec};

/// Checks every rule; `Err` names the first field that breaks one. `versions` are the first
/// and latest of the app's schema versions.
pub(crate) fn validate(spec: &ScenarioSpec, versions: (u32, u32)) -> Result<(), Violation> {
    check_name("name", &spec.name, limits::SCENARIO_NAME_LEN_MAX)?;
    check_range("topology.clients", &spec.topology.clients, 1, limits::CLIENTS_MAX)?;
    check_workload(&spec.workload, spec.topology.clients.hi())?;
    let network = &spec.network;
    check_range("network.latency_ms", &network.latency_ms, 0, limits::LATENCY_MS_MAX)?;
    check_range("network.loss", &network.loss, 0.0, 1.0)?;
    check_range("network.duplicate", &network.duplicate, 0.0, 1.0)?;
    check_range("network.corrupt", &network.corrupt, 0.0, 1.0)?;
    check_faults(&spec.faults)?;
    let (server, client, run) = (&spec.server, &spec.client, &spec.run);
    check_value("server.gc_interval_s", server.gc_interval_s, 1, limits::DURATION_S_MAX)?;
    check_value("server.client_eviction_s", server.client_eviction_s, 1, limits::DURATION_S_MAX)?;
    let retention_s = server.tombstone_retention_s;
    check_value("server.tombstone_retention_s", retention_s, 1, limits::DURATION_S_MAX)?;
    let page = server.snapshot_page_records;
    check_value("server.snapshot_page_records", page, 1, SNAPSHOT_PAGE_RECORDS_MAX)?;
    check_value("client.sync_interval_s", client.sync_interval_s, 1, limits::DURATION_S_MAX)?;
    let ahead_max = limits::CLOCK_OFFSET_MS_ABS_MAX.unsigned_abs();
    check_value("client.clock_ahead_ms_max", client.clock_ahead_ms_max, 0, ahead_max)?;
    check_value("run.chaos_s", run.chaos_s, 1, limits::DURATION_S_MAX)?;
    check_value("run.liveness_deadline_s", run.liveness_deadline_s, 1, limits::DURATION_S_MAX)?;
    spec.schema.validate(run.chaos_s, versions.0, versions.1)?;
    spec.security.validate()?;
    for (index, name) in spec.coverage.require.iter().enumerate() {
        if !crate::report::coverage::is_known(name) {
            return Err(Violation::new(
                format!("coverage.require[{index}]"),
                format!("\"{name}\" is neither a fault nor a coverage mark a run reports"),
            ));
        }
    }
    Ok(())
}

fn check_workload(workload: &WorkloadSpec, clients_max: u64) -> Result<(), Violation> {
    let writes = &workload.writes_per_client;
    check_range("workload.writes_per_client", writes, 0, limits::WRITES_PER_CLIENT_MAX)?;
    let writes_total_max = clients_max.saturating_mul(writes.hi());
    if writes_total_max > limits::WRITES_TOTAL_MAX {
        return Err(Violation::new(
            "workload.writes_per_client",
            format!(
                "clients × writes_per_client may reach {writes_total_max}, above the limit of {}",
                limits::WRITES_TOTAL_MAX
            ),
        ));
    }
    check_range("workload.records", &workload.records, 1, limits::RECORDS_MAX)?;
    check_collections(&workload.collections)?;
    check_mix("workload.mix", &workload.mix)?;
    let rate_max = limits::WRITES_PER_SEC_MAX;
    check_range("workload.writes_per_sec", &workload.writes_per_sec, 0.0, rate_max)?;
    if workload.writes_per_sec.lo() <= 0.0 {
        return Err(Violation::new(
            "workload.writes_per_sec",
            format!("must be greater than 0, found {}", workload.writes_per_sec.lo()),
        ));
    }
    Ok(())
}

/// Every weight of a write mix (at `field`) is in range, and not all are 0.
pub(super) fn check_mix(field: &str, mix: &Mix) -> Result<(), Violation> {
    let weights = [
        ("put", mix.put),
        ("update", mix.update),
        ("delete", mix.delete),
        ("increment", mix.increment),
        ("resolve", mix.resolve),
    ];
    for (action, weight) in weights {
        check_value(&format!("{field}.{action}"), weight, 0.0, limits::MIX_WEIGHT_MAX)?;
    }
    if weights.iter().map(|(_, weight)| weight).sum::<f64>() <= 0.0 {
        return Err(Violation::new(field, "weights must sum to more than 0, found 0"));
    }
    Ok(())
}

fn check_collections(collections: &[String]) -> Result<(), Violation> {
    if collections.is_empty() {
        return Err(Violation::new("workload.collections", "must name at least one collection"));
    }
    if collections.len() > limits::COLLECTIONS_COUNT_MAX {
        return Err(Violation::new(
            "workload.collections",
            format!(
                "names {} collections, at most {} are allowed",
                collections.len(),
                limits::COLLECTIONS_COUNT_MAX
            ),
        ));
    }
    for (index, name) in collections.iter().enumerate() {
        let field = format!("workload.collections[{index}]");
        check_name(&field, name, limits::COLLECTION_NAME_LEN_MAX)?;
        if collections[..index].contains(name) {
            return Err(Violation::new(field, format!("collection \"{name}\" is listed twice")));
        }
    }
    Ok(())
}

fn check_faults(faults: &FaultsSpec) -> Result<(), Violation> {
    if let Some(partitions) = &faults.partitions {
        let count_max = limits::FAULTS_COUNT_MAX;
        check_range("faults.partitions.count", &partitions.count, 0, count_max)?;
        let duration = &partitions.duration_s;
        check_range("faults.partitions.duration_s", duration, 1, limits::DURATION_S_MAX)?;
        if partitions.kinds.is_empty() {
            return Err(Violation::new("faults.partitions.kinds", "must list at least one kind"));
        }
        for (index, kind) in partitions.kinds.iter().enumerate() {
            if partitions.kinds[..index].contains(kind) {
                return Err(Violation::new(
                    format!("faults.partitions.kinds[{index}]"),
                    format!("kind \"{}\" is listed twice", kind.name()),
                ));
            }
        }
    }
    if let Some(offline) = &faults.offline {
        check_range("faults.offline.fraction", &offline.fraction, 0.0, 1.0)?;
        let duration = &offline.duration_s;
        check_range("faults.offline.duration_s", duration, 1, limits::DURATION_S_MAX)?;
    }
    if let Some(crashes) = &faults.crashes {
        check_range("faults.crashes.count", &crashes.count, 0, limits::FAULTS_COUNT_MAX)?;
    }
    if let Some(clocks) = &faults.clocks {
        check_clocks(clocks)?;
    }
    if let Some(storage) = &faults.storage {
        let failures = &storage.commit_failures;
        check_range("faults.storage.commit_failures", failures, 0, limits::FAULTS_COUNT_MAX)?;
        let commits = &storage.commits_per_failure;
        check_range("faults.storage.commits_per_failure", commits, 1, COMMITS_PER_FAILURE_MAX)?;
    }
    Ok(())
}

/// The decoder's bound on records per page (`Limits::page_records_max`).
const SNAPSHOT_PAGE_RECORDS_MAX: u64 = 4_096;

/// More consecutive failures than this would only be a longer outage of the same kind.
const COMMITS_PER_FAILURE_MAX: u64 = 100;

fn check_clocks(clocks: &ClocksSpec) -> Result<(), Violation> {
    let offset_max = limits::CLOCK_OFFSET_MS_ABS_MAX;
    check_range("faults.clocks.offset_ms", &clocks.offset_ms, -offset_max, offset_max)?;
    let drift_max = limits::CLOCK_DRIFT_PPM_ABS_MAX;
    check_range("faults.clocks.drift_ppm", &clocks.drift_ppm, -drift_max, drift_max)?;
    check_range("faults.clocks.jumps", &clocks.jumps, 0, limits::FAULTS_COUNT_MAX)?;
    check_range("faults.clocks.jump_ms", &clocks.jump_ms, -offset_max, offset_max)?;
    Ok(())
}

/// A range is finite, ordered, and inside `[min, max]`.
fn check_range<T: Bound>(field: &str, range: &Range<T>, min: T, max: T) -> Result<(), Violation> {
    if let Range::Drawn { lo, hi } = *range {
        check_value(field, lo, min, max)?;
        check_value(field, hi, min, max)?;
        if lo > hi {
            return Err(Violation::new(
                field,
                format!("range [{lo}, {hi}] is empty: lo {lo} is greater than hi {hi}"),
            ));
        }
        Ok(())
    } else {
        check_value(field, range.lo(), min, max)
    }
}

fn check_value<T: Bound>(field: &str, value: T, min: T, max: T) -> Result<(), Violation> {
    if !value.is_finite() {
        return Err(Violation::new(field, format!("must be a finite number, found {value}")));
    }
    if value < min || value > max {
        return Err(Violation::new(field, format!("must be within [{min}, {max}], found {value}")));
    }
    Ok(())
}

/// Names end up in file names and command lines, so they are kept to a portable alphabet.
fn check_name(field: &str, name: &str, len_max: usize) -> Result<(), Violation> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    if name.is_empty() || name.len() > len_max || !name.chars().all(allowed) {
        return Err(Violation::new(
            field,
            format!("must match [a-z0-9_-]{{1,{len_max}}}, found \"{name}\""),
        ));
    }
    Ok(())
}
