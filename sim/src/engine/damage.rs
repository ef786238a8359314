//! Damage in transit, applied to a message's bytes as the network decided (see
//! [`Damage`]): a flipped byte anywhere, which the receiver's checksum must refuse, or a batch
//! altered beneath a valid seal, which the batch's manifest must refuse.

use bytes::Bytes;
use driftsync_core::protocol::{Message, OpsBytes, decode, encode};

use crate::engine::network::Damage;

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
                page.manifest = driftsync_core::protocol::Manifest::of(&page.records);
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
