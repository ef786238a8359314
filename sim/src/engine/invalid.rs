//! Invalid payloads injected on the wire: the plan marks some writes, and every push that
//! carries one of them is rewritten on its way out, the same way on every resend, so the
//! server sees a consistently invalid op and must quarantine it.

use std::collections::BTreeMap;

use bytes::Bytes;
use driftsync_core::testing::wire::{Message, OpsBytes, decode, encode};
use driftsync_core::{OpBody, OpId, Value};

use crate::plan::{InvalidPayload, fields};

/// The push with every marked op corrupted, or `None` if it carries none.
pub(super) fn corrupt_push(
    injected: &BTreeMap<OpId, InvalidPayload>,
    bytes: &[u8],
) -> Option<Bytes> {
    let Ok(Message::Push(mut push)) = decode(bytes, &Default::default()) else {
        return None;
    };
    let mut ops = push.ops.decode(&Default::default()).ok()?;
    let mut touched = false;
    for op in &mut ops {
        let Some(kind) = injected.get(&op.id) else {
            continue;
        };
        let is_put = matches!(op.body, OpBody::Put { .. });
        let (OpBody::Put { fields: written } | OpBody::Update { fields: written }) = &mut op.body
        else {
            continue;
        };
        if *kind == InvalidPayload::MissingRequired && is_put {
            touched |= written.remove(fields::TITLE).is_some();
        } else if let Some(write) = written.values_mut().next() {
            // Bytes is a type no field but the blob has; the blob gets a bool instead.
            write.value = match write.value {
                Value::Bytes(_) => Value::Bool(true),
                _ => Value::Bytes(b"not this type".to_vec()),
            };
            touched = true;
        }
    }
    if !touched {
        return None;
    }
    push.ops = OpsBytes::encode(&ops);
    push.manifest = push.ops.manifest();
    Some(encode(&Message::Push(push)))
}
