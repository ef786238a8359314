//! The event queue: ordered by `(time, seq)`, so events at one instant run in the order they
//! were scheduled and the run is a pure function of the seed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// An entry of the queue.
#[derive(Debug)]
struct Scheduled<E> {
    at_ms: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Scheduled<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at_ms, self.seq) == (other.at_ms, other.seq)
    }
}

impl<E> Eq for Scheduled<E> {}

impl<E> PartialOrd for Scheduled<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Scheduled<E> {
    /// Reversed, because `BinaryHeap` pops the greatest and we want the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at_ms, other.seq).cmp(&(self.at_ms, self.seq))
    }
}

/// A min-queue of events by simulated time, ties broken by insertion order.
#[derive(Debug)]
pub(crate) struct EventQueue<E> {
    heap: BinaryHeap<Scheduled<E>>,
    next_seq: u64,
}

impl<E> EventQueue<E> {
    pub(crate) fn new() -> EventQueue<E> {
        EventQueue { heap: BinaryHeap::new(), next_seq: 0 }
    }

    pub(crate) fn push(&mut self, at_ms: u64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Scheduled { at_ms, seq, event });
    }

    /// The earliest event, if it is due at or before `until_ms`.
    pub(crate) fn pop_until(&mut self, until_ms: u64) -> Option<(u64, E)> {
        if self.heap.peek()?.at_ms > until_ms {
            return None;
        }
        self.heap.pop().map(|s| (s.at_ms, s.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_time_then_by_insertion_order() {
        let mut queue = EventQueue::new();
        queue.push(5, "b");
        queue.push(1, "a");
        queue.push(5, "c");
        queue.push(9, "d");
        let mut out = Vec::new();
        while let Some((at, e)) = queue.pop_until(8) {
            out.push((at, e));
        }
        assert_eq!(out, vec![(1, "a"), (5, "b"), (5, "c")]);
        assert_eq!(queue.pop_until(9), Some((9, "d")));
    }
}
