//! How fast the simulator runs the `standard` scenario: seeds per minute on one core and on
//! two (`--jobs 2`), and, through criterion's element throughput, simulated seconds and events
//! per wall second. And seeds per minute of `scenarios/madsim-twin.toml`, the twin of the
//! madsim layer's scenario, to set against `madsim_seeds` in `driftsync-net`.
//!
//! Plans are drawn outside the timed part: the figures are the engine's, not the planner's.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftsync_sim::engine::{RunOptions, run};
use driftsync_sim::plan::{Plan, plan};
use driftsync_sim::scenario::Scenario;
use driftsync_sim::seed::Seed;

// The same allocator as the `driftsync` binary, so the figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seeds per measured iteration: enough to average over the scenario's swarm of parameters.
const SEEDS: u64 = 16;

/// The plans of the first `SEEDS` seeds of a scenario file (relative to this crate).
fn plans(file: &str) -> Vec<Plan> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let scenario = Scenario::load(&path).expect("the scenario loads");
    (0..SEEDS).map(|seed| plan(&scenario.spec, Seed(seed))).collect()
}

fn madsim_twin(c: &mut Criterion) {
    let plans = plans("scenarios/madsim-twin.toml");
    let options = RunOptions::default();
    assert!(plans.iter().all(|p| run(p, &options).passed()), "the twin's seeds pass");
    let mut group = c.benchmark_group("madsim_twin");
    group.throughput(Throughput::Elements(SEEDS));
    group.bench_function("seeds_one_core", |b| {
        b.iter(|| plans.iter().map(|p| black_box(run(p, &options)).events).sum::<u64>())
    });
    group.finish();
}

fn simulate(c: &mut Criterion) {
    let plans = plans("../scenarios/standard.toml");
    let options = RunOptions::default();
    // One untimed pass tells how many events and simulated seconds an iteration covers.
    let outcomes: Vec<_> = plans.iter().map(|p| run(p, &options)).collect();
    assert!(outcomes.iter().all(|o| o.passed()), "the standard seeds pass");
    let events: u64 = outcomes.iter().map(|o| o.events).sum();
    let simulated_s: u64 = outcomes.iter().map(|o| o.simulated_ms() / 1_000).sum();

    let mut group = c.benchmark_group("standard");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SEEDS));
    group.bench_function("seeds_one_core", |b| {
        b.iter(|| plans.iter().map(|p| black_box(run(p, &options)).events).sum::<u64>())
    });
    group.bench_function("seeds_two_jobs", |b| {
        b.iter(|| {
            std::thread::scope(|scope| {
                let (even, odd): (Vec<_>, Vec<_>) =
                    plans.iter().enumerate().partition(|(i, _)| i % 2 == 0);
                let workers: Vec<_> = [even, odd]
                    .into_iter()
                    .map(|half| {
                        let options = &options;
                        scope.spawn(move || {
                            half.iter().map(|(_, p)| run(p, options).events).sum::<u64>()
                        })
                    })
                    .collect();
                workers.into_iter().map(|w| w.join().expect("a seed panicked")).sum::<u64>()
            })
        })
    });
    group.throughput(Throughput::Elements(simulated_s));
    group.bench_function("simulated_seconds_one_core", |b| {
        b.iter(|| plans.iter().map(|p| black_box(run(p, &options)).events).sum::<u64>())
    });
    group.throughput(Throughput::Elements(events));
    group.bench_function("events_one_core", |b| {
        b.iter(|| plans.iter().map(|p| black_box(run(p, &options)).events).sum::<u64>())
    });
    group.finish();
}

criterion_group!(benches, simulate, madsim_twin);
criterion_main!(benches);
