//! What happens next in the simulated world, and how each event feeds the trace.

use bytes::Bytes;
use driftsync_core::testing::wire::{Message, decode};

use crate::engine::Sim;
use crate::engine::hostile::Move;
use crate::history::Current;
use crate::plan::NodeId;

/// What happens next in the simulated world.
#[derive(Debug)]
pub(super) enum Event {
    /// A message arrives. `epoch` is the sender-side client connection it travelled on.
    Deliver {
        from: NodeId,
        to: NodeId,
        epoch: u32,
        bytes: Bytes,
        /// Damaged on the way: the receiver must refuse it.
        damaged: bool,
    },
    Timer {
        node: NodeId,
        generation: u64,
    },
    /// A client's dial completes (or fails, if it cannot reach the server by then).
    Dial {
        client: NodeId,
    },
    Write(usize),
    Fault(usize),
    /// A crash that found no input to land after lands now.
    CrashFallback {
        node: NodeId,
    },
    Heal,
    /// After the heal: check whether everyone has converged.
    Probe,
    /// Planned attack `n` begins (see `hostile.rs`).
    Attack(usize),
    /// A hostile peer's next move, after the server's answer.
    AttackMove {
        index: usize,
        next: Move,
    },
    /// A client's host hands it the fresh token it asked for.
    TokenRefresh {
        client: usize,
    },
}

impl Event {
    /// The event's kind as the trace digest hashes it. Every digest ever recorded (repro
    /// files, snapshots, a CI run's summary) depends on these numbers: changing one changes
    /// them all.
    pub(super) fn trace_tag(&self) -> u8 {
        match self {
            Event::Deliver { .. } => 1,
            Event::Timer { .. } => 2,
            Event::Dial { .. } => 3,
            Event::Write(_) => 4,
            Event::Fault(_) => 5,
            Event::CrashFallback { .. } => 6,
            Event::Heal => 7,
            Event::Probe => 8,
            Event::Attack(_) => 9,
            Event::AttackMove { .. } => 10,
            Event::TokenRefresh { .. } => 11,
        }
    }

    /// What the invariant checker names if this event breaks one.
    pub(super) fn current(&self) -> Current {
        match self {
            Event::Deliver { from, to, bytes, .. } => {
                Current::Deliver { from: *from, to: *to, bytes: bytes.clone() }
            }
            Event::Timer { node, .. } => Current::Timer(*node),
            Event::Dial { client } => Current::Dial(*client),
            Event::Write(index) => Current::Write(*index),
            Event::Fault(index) => Current::Fault(*index),
            Event::CrashFallback { node } => Current::CrashFallback(*node),
            Event::Heal => Current::Heal,
            Event::Probe => Current::Probe,
            Event::Attack(index) | Event::AttackMove { index, .. } => Current::Attack(*index),
            Event::TokenRefresh { client } => Current::TokenRefresh(*client),
        }
    }
}

impl Sim<'_> {
    /// Feeds an event to the trace before it is handled: its tag, the node it concerns, and
    /// the bytes that tell it apart from another event of its kind at the same instant.
    pub(super) fn trace_event(&mut self, event: &Event) {
        let (now_ms, tag, plan) = (self.now_ms, event.trace_tag(), self.plan);
        let trace = &mut self.trace;
        match event {
            Event::Deliver { from, to, bytes, .. } => {
                trace.event(now_ms, tag, to.0, bytes, || describe(*from, *to, bytes));
            }
            Event::Timer { node, generation } => {
                let generation = generation.to_le_bytes();
                trace.event(now_ms, tag, node.0, &generation, || format!("timer {node}"));
            }
            Event::Dial { client } => {
                trace.event(now_ms, tag, client.0, &[], || format!("dial {client}"));
            }
            Event::Write(index) => {
                let write = &plan.workload[*index];
                let payload = (*index as u64).to_le_bytes();
                trace.event(now_ms, tag, write.client.0, &payload, || {
                    format!("write #{index} by {}", write.client)
                });
            }
            Event::Fault(index) => {
                let fault = &plan.faults[*index].fault;
                trace.event(now_ms, tag, *index as u32, &[], || format!("fault {fault:?}"));
            }
            Event::CrashFallback { node } => {
                trace.event(now_ms, tag, node.0, &[], || format!("crash fallback {node}"));
            }
            Event::Heal => trace.event(now_ms, tag, 0, &[], || "heal".to_owned()),
            Event::Probe => trace.event(now_ms, tag, 0, &[], || "probe".to_owned()),
            Event::Attack(index) => {
                let attack = plan.attacks[*index];
                trace.event(now_ms, tag, *index as u32, &[], || format!("attack {attack:?}"));
            }
            Event::AttackMove { index, next } => {
                let bytes: &[u8] = match next {
                    Move::Send(bytes) => bytes,
                    Move::Leave => &[],
                };
                trace.event(now_ms, tag, *index as u32, bytes, || format!("attack #{index} moves"));
            }
            Event::TokenRefresh { client } => {
                let node = *client as u32 + 1;
                trace.event(now_ms, tag, node, &[], || format!("token for client-{node}"));
            }
        }
    }
}

/// A one-line description of a message in flight, for recorded traces.
fn describe(from: NodeId, to: NodeId, bytes: &[u8]) -> String {
    match decode(bytes, &Default::default()) {
        Ok(message) => format!("{} {from} -> {to}{}", message.kind_name(), batch_of(&message)),
        Err(error) => format!("undecodable {from} -> {to}: {error}"),
    }
}

fn batch_of(message: &Message) -> String {
    message.batch().map(|b| format!(" batch {b}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tags are part of every digest: pinned here so that reordering the enum cannot move
    /// them.
    #[test]
    fn trace_tags_stay_the_numbers_recorded_digests_were_made_with() {
        let node = NodeId::client(1);
        let deliver = Event::Deliver {
            from: node,
            to: NodeId::SERVER,
            epoch: 1,
            bytes: Bytes::new(),
            damaged: false,
        };
        let events = [
            deliver,
            Event::Timer { node, generation: 0 },
            Event::Dial { client: node },
            Event::Write(0),
            Event::Fault(0),
            Event::CrashFallback { node },
            Event::Heal,
            Event::Probe,
        ];
        let tags: Vec<u8> = events.iter().map(Event::trace_tag).collect();
        assert_eq!(tags, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
