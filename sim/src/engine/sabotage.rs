//! The sabotages, and their hooks: message rewrites that turn client 1 into a broken replica. They exist
//! only to show, in tests, that each checker catches the failure it is named for.

use bytes::Bytes;
use driftsync_core::testing::wire::{Message, OpsBytes, decode, encode};
use driftsync_core::{OpBody, ReplicaId, Seq, Value};

use serde::{Deserialize, Serialize};

/// A deliberately broken replica, for showing that each checker catches what it exists for.
/// Never set by the command line's normal runs; a repro file records it so a planted failure
/// replays exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sabotage {
    /// Client 1 silently skips one op of a pull batch (the manifest is forged to match).
    DropPulledOp,
    /// The first pushed value of client 1 is changed in transit, as by a buggy encoder.
    AlterPushedValue,
    /// Stores lose their last commit when the node crashes.
    ForgetLastCommitOnCrash,
    /// Client 1 restarts from an empty store after its first crash (its cursor goes back).
    WipeStoreOnRestart,
    /// Client 1 writes once more during the stability round.
    WriteDuringStability,
    /// Client 1 never comes back online after the heal.
    NeverHeal,
    /// Every delete client 1 pushes is rewritten into an update (lost tombstones).
    DropPushedDelete,
    /// A pushed value of client 1 is given the wrong type, so the server quarantines it
    /// although the workload never injected anything invalid.
    CorruptPushedType,
    /// The server runs a broken v2 migration: it maps the old `low` field onto `priority`
    /// instead of adding `priority`, so older clients' edits overwrite a newer field.
    BrokenMigration,
    /// Client 1's upgrade reinstalls the app from scratch, losing the writes it had queued.
    LoseOutboxOnUpgrade,
    /// The server evicts clients and forgets tombstones after one second instead of the
    /// scenario's windows, so it quarantines as stale writes those windows promise to keep.
    ForgetfulServer,
    /// Client 1 applies batches without checking their manifests: a batch damaged beneath its
    /// seal reaches it with a manifest that matches the damage.
    SkipManifestCheck,
    /// The server acknowledges a push whose commit failed.
    AckFailedCommit,
    /// The server records each tombstone one log position after its delete.
    MisplacedTombstone,
    /// The server compacts its log one entry past the slowest client it waits for.
    CompactionPastCursor,
    /// Every client seeds its backoff jitter alike, as if the jitter were lost: clients that
    /// fail together retry together.
    SameJitterSeed,
}

/// Rewrites a push from client 1 as the sabotage says, or `None` if this push is not one it
/// touches. `DropPushedDelete` rewrites every delete; the others change one value, once.
pub(super) fn tamper_push(kind: Sabotage, bytes: &[u8]) -> Option<Bytes> {
    let Ok(Message::Push(mut push)) = decode(bytes, &Default::default()) else {
        return None;
    };
    let mut ops = push.ops.decode(&Default::default()).ok()?;
    if kind == Sabotage::DropPushedDelete {
        let deletes = ops.iter_mut().filter(|op| matches!(op.body, OpBody::Delete));
        let mut touched = false;
        for op in deletes {
            let write = driftsync_core::FieldWrite::new(Value::Str("resurrected".to_owned()));
            op.body = OpBody::Update { fields: [("title".to_owned(), write)].into() };
            touched = true;
        }
        push.ops = OpsBytes::encode(&ops);
        push.manifest = push.ops.manifest();
        return touched.then(|| encode(&Message::Push(push)));
    }
    let op =
        ops.iter_mut().find(|op| matches!(op.body, OpBody::Put { .. } | OpBody::Update { .. }))?;
    let (OpBody::Put { fields } | OpBody::Update { fields }) = &mut op.body else {
        return None;
    };
    let write = fields.values_mut().next()?;
    write.value = match (kind, &write.value) {
        (Sabotage::AlterPushedValue, Value::Str(s)) => Value::Str(format!("{s} (altered)")),
        (Sabotage::AlterPushedValue, Value::I64(n)) => Value::I64(n.wrapping_add(1)),
        (Sabotage::AlterPushedValue, Value::Bool(b)) => Value::Bool(!b),
        (Sabotage::AlterPushedValue, Value::F64(x)) => Value::F64(x + 1.0),
        (Sabotage::AlterPushedValue, Value::Bytes(b)) => {
            Value::Bytes([b.as_slice(), b"!"].concat())
        }
        (Sabotage::AlterPushedValue, Value::Null) => Value::Str("altered".to_owned()),
        (Sabotage::CorruptPushedType, Value::Bytes(_)) => Value::Bool(true),
        (Sabotage::CorruptPushedType, _) => Value::Bytes(b"wrong type".to_vec()),
        _ => return None,
    };
    push.ops = OpsBytes::encode(&ops);
    push.manifest = push.ops.manifest();
    Some(encode(&Message::Push(push)))
}

/// Gives one op of a pull batch, written by another client, the id of an op every replica has
/// already applied, and forges the manifest to match: client 1 then drops the op as a
/// duplicate without noticing.
pub(super) fn drop_pulled_op(bytes: &[u8]) -> Option<Bytes> {
    let Ok(Message::PullBatch(mut batch)) = decode(bytes, &Default::default()) else {
        return None;
    };
    let mut ops = batch.ops.decode(&Default::default()).ok()?;
    let op = ops.iter_mut().find(|op| op.id.replica != ReplicaId(1))?;
    op.id.seq = Seq(0);
    batch.ops = OpsBytes::encode(&ops);
    batch.manifest = batch.ops.manifest();
    Some(encode(&Message::PullBatch(batch)))
}
