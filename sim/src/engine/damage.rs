//! Damage in transit, applied to a message's bytes as the network decided (see
//! [`Damage`]): a flipped byte anywhere, which the receiver's checksum must refuse, or a batch
//! altered beneath a valid seal, which the batch's manifest must refuse.

use bytes::Bytes;
use driftsync_core::testing::wire::{Message, OpsBytes, decode, encode};

use crate::engine::Sim;
use crate::engine::network::Damage;
use crate::outcome::Checker;
use crate::plan::NodeId;
use crate::view::{Content, content};

impl Sim<'_> {
    /// Gives a damaged message to its node, which must refuse it, or else ignore it without
    /// effect (a late answer to a request the client gave up on is dropped unread): the
    /// `damage_refused` checker.
    pub(super) fn hand_over_damaged(
        &mut self,
        from: NodeId,
        to: NodeId,
        index: usize,
        bytes: Bytes,
    ) {
        let refused_before = self.damage_refusals_count;
        let before = self.applied_state(to);
        self.hand_over(from, to, index, bytes);
        if self.damage_refusals_count == refused_before && self.applied_state(to) != before {
            let detail = format!("a message damaged in transit from {from} was applied");
            self.fail(Checker::DamageRefused, Some(to.to_string()), None, detail);
        }
    }

    /// What a message could change on a node, to tell whether a damaged one was applied.
    fn applied_state(&self, node: NodeId) -> Option<(u64, Vec<u64>, Content)> {
        if node.is_server() {
            let server = self.server.slot.get()?;
            let acked = server.registrations().values().map(|r| r.acked_seq.0).collect();
            Some((server.head().0, acked, content(server.records())))
        } else {
            let client = self.clients[node.0 as usize - 1].slot.get()?;
            let meta = client.meta();
            let state = vec![meta.acked_seq.0, meta.next_seq.0, u64::from(meta.resync_needed)];
            Some((client.cursor().0, state, content(client.records())))
        }
    }
}

/// The damaged bytes, or `None` when this damage cannot touch this message (a control
/// message, or an empty batch, has nothing beneath its seal to alter).
pub(super) fn apply(bytes: &[u8], damage: Damage, forge_manifest: bool) -> Option<Bytes> {
    match damage {
        Damage::Frame { at, mask } => {
            let mut damaged = bytes.to_vec();
            let at = (at % damaged.len() as u64) as usize;
            damaged[at] ^= mask;
            Some(Bytes::from(damaged))
        }
        Damage::Beneath { at } => beneath(bytes, at, forge_manifest),
    }
}

/// Alters one op of a push or pull batch (its stamp), or one record id of a snapshot page, and
/// seals the message again. With `forge_manifest` the manifest is recomputed too, as a
/// receiver that never checks it would in effect accept.
fn beneath(bytes: &[u8], at: u64, forge_manifest: bool) -> Option<Bytes> {
    let limits = Default::default();
    let message = match decode(bytes, &limits).ok()? {
        Message::Push(mut push) => {
            push.ops = alter_ops(&push.ops, at)?;
            if forge_manifest {
                push.manifest = push.ops.manifest();
            }
            Message::Push(push)
        }
        Message::PullBatch(mut batch) => {
            batch.ops = alter_ops(&batch.ops, at)?;
            if forge_manifest {
                batch.manifest = batch.ops.manifest();
            }
            Message::PullBatch(batch)
        }
        Message::SnapshotPage(mut page) => {
            let count = page.records.len() as u64;
            let (key, _) = page.records.get_mut((at % count.max(1)) as usize)?;
            key.record.push('~');
            if forge_manifest {
                page.manifest = driftsync_core::testing::wire::Manifest::of(&page.records);
            }
            Message::SnapshotPage(page)
        }
        _ => return None,
    };
    Some(encode(&message))
}

fn alter_ops(ops: &OpsBytes, at: u64) -> Option<OpsBytes> {
    let mut ops = ops.decode(&Default::default()).ok()?;
    let count = ops.len() as u64;
    let op = ops.get_mut((at % count.max(1)) as usize)?;
    op.stamp.hlc.logical = op.stamp.hlc.logical.wrapping_add(1);
    Some(OpsBytes::encode(&ops))
}
