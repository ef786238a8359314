//! The sabotage hooks: message rewrites that turn client 1 into a broken replica. They exist
//! only to show, in tests, that each checker catches the failure it is named for.

use bytes::Bytes;
use driftsync_core::protocol::{Message, OpsBytes, decode, encode};
use driftsync_core::{OpBody, ReplicaId, Seq, Value};

use crate::engine::Sabotage;

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
