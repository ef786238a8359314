//! Seeds per minute of the madsim layer: the real driver and host, on SQLite files, under
//! madsim, running the scenario of `tests/madsim.rs` (included here, so both run the same
//! code), one seed per iteration. The discrete-event simulator runs its twin,
//! `benches/scenarios/madsim-twin.toml`, in `cargo bench -p driftsync-benches --bench
//! simulate`; the ratio of the two throughputs is what the fast engine buys.
//!
//! Built only with `--cfg madsim`:
//! `cargo bench --config "build.rustflags=['--cfg','madsim']" --target-dir target/madsim
//! -p driftsync-net --bench madsim_seeds`

#[cfg(madsim)]
#[allow(dead_code, unused_imports)]
#[path = "../tests/madsim.rs"]
mod scenario;

#[cfg(madsim)]
fn main() {
    use criterion::{Criterion, Throughput};

    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    let mut group = criterion.benchmark_group("madsim_layer");
    group.throughput(Throughput::Elements(1));
    let mut seed = 0;
    group.bench_function("seeds", |b| {
        b.iter(|| {
            seed += 1;
            let folder = tempfile::tempdir().expect("a folder");
            let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, Default::default());
            runtime.block_on(scenario::one_seed(folder.path().to_path_buf()))
        })
    });
    group.finish();
    criterion.final_summary();
}

#[cfg(not(madsim))]
fn main() {
    // Without the flag there is no madsim runtime to measure; say so instead of measuring
    // real tokio under a madsim name.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "madsim_seeds measures the madsim layer: build it with --cfg madsim (see its header)"
    );
}
