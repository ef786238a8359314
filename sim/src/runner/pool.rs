//! A worker pool that runs independent items on several threads and hands their results back
//! in item order, whatever order the threads finish in.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// Stack size of a worker: what a main thread usually gets, so that a seed that runs in
/// `driftsync run` (one worker) also fits in a sweep worker, and the other way round.
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

/// How long the collector waits for a result before calling `idle` (for a progress line).
const IDLE_INTERVAL: Duration = Duration::from_millis(500);

/// Runs `work(0..count)` on up to `jobs` threads and calls `consume(index, result)` on the
/// calling thread, in index order. Results that finish early wait in a reorder buffer until
/// every item before them is consumed. `work` must not panic (callers guard each item); a panic
/// escaping it is re-raised here once the other workers stop.
pub(crate) fn run_ordered<R, W, C, I>(count: usize, jobs: usize, work: W, mut consume: C, idle: I)
where
    R: Send,
    W: Fn(usize) -> R + Sync,
    C: FnMut(usize, R),
    I: FnMut(),
{
    let next_index = AtomicUsize::new(0);
    let work = &work;
    let next_index = &next_index;
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(usize, R)>();
        let mut spawned_count = 0;
        for worker in 0..jobs.clamp(1, count.max(1)) {
            let sender = sender.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("driftsync-worker-{worker}"))
                .stack_size(WORKER_STACK_BYTES)
                .spawn_scoped(scope, move || {
                    loop {
                        let index = next_index.fetch_add(1, Ordering::Relaxed);
                        if index >= count {
                            break;
                        }
                        // The collector only hangs up after every result arrived, or while
                        // unwinding a panic; either way there is nothing left to do.
                        if sender.send((index, work(index))).is_err() {
                            break;
                        }
                    }
                });
            match spawned {
                Ok(_) => spawned_count += 1,
                Err(error) => tracing::warn!("cannot start worker thread {worker}: {error}"),
            }
        }
        drop(sender);
        if spawned_count == 0 {
            // No thread could be started: the items still run, one after another, here.
            for index in 0..count {
                consume(index, work(index));
            }
            return;
        }
        collect_in_order(&receiver, consume, idle);
    });
}

/// Runs `work` on one worker thread, with the stack a sweep worker has, and returns its result.
/// `work` must not panic (callers guard it); a panic escaping it is re-raised here.
pub(crate) fn run_one<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    // The work waits in a slot the thread takes it from, so that it can still run here if no
    // thread can be started.
    let slot = Mutex::new(Some(work));
    let take = || slot.lock().ok().and_then(|mut work| work.take());
    let result = std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("driftsync-worker-0".to_owned())
            .stack_size(WORKER_STACK_BYTES)
            .spawn_scoped(scope, || take().map(|work| work()));
        match spawned {
            Ok(handle) => {
                handle.join().unwrap_or_else(|payload| std::panic::resume_unwind(payload))
            }
            Err(error) => {
                tracing::warn!("cannot start a worker thread, running on the main thread: {error}");
                None
            }
        }
    });
    match result {
        Some(result) => result,
        None => match take() {
            Some(work) => work(),
            // Only reached when no thread started, so the work is still in its slot: a started
            // thread always takes it (nothing panics while the lock is held) and returns Some.
            None => unreachable!("no worker thread started, yet the work was taken"),
        },
    }
}

fn collect_in_order<R, C: FnMut(usize, R), I: FnMut()>(
    receiver: &mpsc::Receiver<(usize, R)>,
    mut consume: C,
    mut idle: I,
) {
    let mut waiting: BTreeMap<usize, R> = BTreeMap::new();
    let mut next_to_consume = 0;
    loop {
        match receiver.recv_timeout(IDLE_INTERVAL) {
            Ok((index, result)) => {
                waiting.insert(index, result);
                while let Some(result) = waiting.remove(&next_to_consume) {
                    consume(next_to_consume, result);
                    next_to_consume += 1;
                }
            }
            Err(RecvTimeoutError::Timeout) => idle(),
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: the consumer sees items in index order even when later items finish first.
    #[test]
    fn results_arrive_in_index_order_whatever_finishes_first() {
        for jobs in [1, 2, 3, 8] {
            let mut seen = Vec::new();
            run_ordered(
                20,
                jobs,
                |index| {
                    // Early items are the slow ones, so later items overtake them.
                    std::thread::sleep(Duration::from_millis(((20 - index) % 4) as u64));
                    index * 10
                },
                |index, result| seen.push((index, result)),
                || {},
            );
            let expected: Vec<(usize, usize)> = (0..20).map(|index| (index, index * 10)).collect();
            assert_eq!(seen, expected, "jobs {jobs}");
        }
    }

    /// Goal: an empty sweep finishes without starting work or hanging.
    #[test]
    fn zero_items_consume_nothing() {
        let mut consumed = 0;
        run_ordered(0, 4, |index| index, |_, _| consumed += 1, || {});
        assert_eq!(consumed, 0);
    }
}
