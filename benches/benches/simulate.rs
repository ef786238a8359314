//! How fast the simulator runs the `standard` scenario: seeds per minute on one core and on
//! two (`--jobs 2`), and, through criterion's element throughput, simulated seconds and events
//! per wall second. And seeds per minute of `scenarios/madsim-twin.toml`, the twin of the
//! madsim layer's scenario, to set against `madsim_seeds` in `driftsync-net`. And `scaling`:
//! writes per second of a run of 1,000 writes and of one of 100,000
//! (`scenarios/scaling-*.toml`), whose ratio is how the cost of a write grows with a run.
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
    plans_of(file, SEEDS)
}

fn plans_of(file: &str, seeds: u64) -> Vec<Plan> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let scenario = Scenario::load(&path).expect("the scenario loads");
    (0..seeds).map(|seed| plan(&scenario.spec, Seed(seed))).collect()
}

/// Writes per second of 16 short runs (1,000 writes each) and of one a hundred times longer, on
/// the same fixed knobs, each a whole run with its start and end-of-run checks. A cost per
/// write that stays flat means nothing the engine or a checker does grows with what a run has
/// already done.
fn scaling(c: &mut Criterion) {
    let options = RunOptions::default();
    let mut group = c.benchmark_group("scaling");
    group.sample_size(10);
    for (name, file, seeds) in [
        ("writes_1k", "scenarios/scaling-1k.toml", SEEDS),
        ("writes_100k", "scenarios/scaling-100k.toml", 1),
    ] {
        let plans = plans_of(file, seeds);
        assert!(plans.iter().all(|p| run(p, &options).passed()), "the {name} seeds pass");
        let writes: usize = plans.iter().map(|p| p.workload.len()).sum();
        group.throughput(Throughput::Elements(writes as u64));
        group.bench_function(name, |b| {
            b.iter(|| plans.iter().map(|p| black_box(run(p, &options)).events).sum::<u64>())
        });
    }
    group.finish();
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

criterion_group!(benches, simulate, madsim_twin, scaling);
criterion_main!(benches);
