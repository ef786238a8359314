//! Sabotages on the wire: messages rewritten between client 1 and the server, each resealed
//! with a manifest that matches, as a buggy encoder (or decoder) would.

use bytes::Bytes;
use driftsync_core::testing::wire::{Message, OpsBytes, decode, encode};
use driftsync_core::{FieldWrite, Op, OpBody, ReplicaId, Seq, Value};

use crate::engine::tamper::Tamper;
use crate::plan::NodeId;

/// Changes the first value of the first push from client 1 that carries one, once.
#[derive(Debug)]
pub(super) struct FirstPushedValue {
    rewrite: fn(&Value) -> Value,
    fired: bool,
}

impl FirstPushedValue {
    /// The value changed within its type, so the server stores a value nobody wrote.
    pub(super) fn altered() -> FirstPushedValue {
        FirstPushedValue { rewrite: altered, fired: false }
    }

    /// The value given a type its field does not have, so the server quarantines it.
    pub(super) fn mistyped() -> FirstPushedValue {
        FirstPushedValue { rewrite: mistyped, fired: false }
    }
}

impl Tamper for FirstPushedValue {
    fn outgoing(&mut self, from: NodeId, _to: NodeId, bytes: &[u8]) -> Option<Bytes> {
        if from != NodeId::client(1) || self.fired {
            return None;
        }
        let tampered = rewrite_first_value(bytes, self.rewrite)?;
        self.fired = true;
        Some(tampered)
    }
}

fn altered(value: &Value) -> Value {
    match value {
        Value::Str(s) => Value::Str(format!("{s} (altered)")),
        Value::I64(n) => Value::I64(n.wrapping_add(1)),
        Value::Bool(b) => Value::Bool(!b),
        Value::F64(x) => Value::F64(x + 1.0),
        Value::Bytes(b) => Value::Bytes([b.as_slice(), b"!"].concat()),
        Value::Null => Value::Str("altered".to_owned()),
    }
}

fn mistyped(value: &Value) -> Value {
    match value {
        Value::Bytes(_) => Value::Bool(true),
        _ => Value::Bytes(b"wrong type".to_vec()),
    }
}

/// The push with the first field value of its first put or update rewritten, or `None` if
/// it carries no such value.
fn rewrite_first_value(bytes: &[u8], rewrite: fn(&Value) -> Value) -> Option<Bytes> {
    rewrite_push_ops(bytes, |ops| {
        let first = ops.iter_mut().find_map(|op| match &mut op.body {
            OpBody::Put { fields } | OpBody::Update { fields } => fields.values_mut().next(),
            _ => None,
        });
        first.map(|write| write.value = rewrite(&write.value)).is_some()
    })
}

/// `bytes` as a push whose ops `rewrite` changed, resealed with a manifest that matches; `None`
/// if they are not a push or `rewrite` says it changed nothing.
pub(in crate::engine) fn rewrite_push_ops(
    bytes: &[u8],
    rewrite: impl FnOnce(&mut [Op]) -> bool,
) -> Option<Bytes> {
    let Ok(Message::Push(mut push)) = decode(bytes, &Default::default()) else {
        return None;
    };
    let mut ops = push.ops.decode(&Default::default()).ok()?;
    if !rewrite(&mut ops) {
        return None;
    }
    push.ops = OpsBytes::encode(&ops);
    push.manifest = push.ops.manifest();
    Some(encode(&Message::Push(push)))
}

/// Rewrites every delete client 1 pushes into an update: its tombstones are lost.
#[derive(Debug)]
pub(super) struct DeletesBecomeUpdates;

impl Tamper for DeletesBecomeUpdates {
    fn outgoing(&mut self, from: NodeId, _to: NodeId, bytes: &[u8]) -> Option<Bytes> {
        if from != NodeId::client(1) {
            return None;
        }
        rewrite_push_ops(bytes, |ops| {
            let mut touched = false;
            for op in ops.iter_mut().filter(|op| matches!(op.body, OpBody::Delete)) {
                let write = FieldWrite::new(Value::Str("resurrected".to_owned()));
                op.body = OpBody::Update { fields: [("title".to_owned(), write)].into() };
                touched = true;
            }
            touched
        })
    }
}

/// Once, gives one op of a pull batch to client 1, written by another client, the id of an op
/// every replica has already applied, and forges the manifest to match: client 1 then drops
/// the op as a duplicate without noticing.
#[derive(Debug, Default)]
pub(super) struct DropPulledOp {
    fired: bool,
}

impl Tamper for DropPulledOp {
    fn incoming(&mut self, _from: NodeId, to: NodeId, bytes: &[u8]) -> Option<Bytes> {
        if to != NodeId::client(1) || self.fired {
            return None;
        }
        let tampered = disguise_pulled_op(bytes)?;
        self.fired = true;
        Some(tampered)
    }
}

fn disguise_pulled_op(bytes: &[u8]) -> Option<Bytes> {
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

/// Client 1 applies batches without checking their manifests, which the damage forges.
#[derive(Debug)]
pub(super) struct SkipManifestCheck;

impl Tamper for SkipManifestCheck {
    fn forges_manifest_under_damage(&self, to: NodeId) -> bool {
        to == NodeId::client(1)
    }
}
