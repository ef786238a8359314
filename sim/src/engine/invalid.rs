//! Invalid payloads injected on the wire: the plan marks some writes, and every push that
//! carries one of them is rewritten on its way out, the same way on every resend, so the
//! server sees a consistently invalid op and must quarantine it.
//!
//! The rewrite goes through the same [`Tamper`] hook as a sabotage's, but it is not a planted
//! bug: the scenario asks for it (`invalid_payload_rate`), the plan marks the writes, and the
//! checkers expect each marked op in the server's quarantine.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use driftsync_core::{OpBody, OpId, SchemaLineage, Value};

use crate::engine::tamper::Tamper;
use crate::engine::tamper::wire::rewrite_push_ops;
use crate::plan::{InvalidPayload, NodeId};

/// The committed writes the plan marks invalid, and how each is corrupted.
#[derive(Debug)]
pub(crate) struct InvalidPayloads {
    marked: BTreeMap<OpId, InvalidPayload>,
    /// Every field some version of the app requires (of any collection), which a put
    /// missing its required field loses.
    required: BTreeSet<String>,
}

impl InvalidPayloads {
    pub(super) fn new(lineage: &SchemaLineage) -> InvalidPayloads {
        let versions = lineage.first()..=lineage.latest();
        let required = versions
            .filter_map(|version| lineage.schema(version))
            .flat_map(|schema| schema.collections.values())
            .flat_map(|collection| &collection.fields)
            .filter(|(_, field)| field.required && field.default.is_none())
            .map(|(name, _)| name.clone())
            .collect();
        InvalidPayloads { marked: BTreeMap::new(), required }
    }

    /// Marks the op a write is about to commit (its push may leave during that very input).
    pub(super) fn mark(&mut self, id: OpId, kind: InvalidPayload) {
        self.marked.insert(id, kind);
    }

    /// Unmarks the op of a write the client refused: it was never committed.
    pub(super) fn unmark(&mut self, id: OpId) {
        self.marked.remove(&id);
    }

    pub(crate) fn marked(&self) -> &BTreeMap<OpId, InvalidPayload> {
        &self.marked
    }
}

impl Tamper for InvalidPayloads {
    fn outgoing(&mut self, _from: NodeId, _to: NodeId, bytes: &[u8]) -> Option<Bytes> {
        // Most runs mark nothing: skip decoding every push.
        if self.marked.is_empty() {
            return None;
        }
        corrupt_push(&self.marked, &self.required, bytes)
    }
}

/// The push with every marked op corrupted, or `None` if it carries none. A put that should
/// miss a required field but has none gets a type mismatch instead.
fn corrupt_push(
    injected: &BTreeMap<OpId, InvalidPayload>,
    required: &BTreeSet<String>,
    bytes: &[u8],
) -> Option<Bytes> {
    rewrite_push_ops(bytes, |ops| {
        let mut touched = false;
        for op in ops {
            let Some(kind) = injected.get(&op.id) else {
                continue;
            };
            let is_put = matches!(op.body, OpBody::Put { .. });
            let (OpBody::Put { fields: written } | OpBody::Update { fields: written }) =
                &mut op.body
            else {
                continue;
            };
            let missing = *kind == InvalidPayload::MissingRequired && is_put;
            let lost = missing.then(|| required.iter().find(|name| written.contains_key(name)));
            if let Some(Some(name)) = lost {
                written.remove(name);
                touched = true;
            } else if let Some(write) = written.values_mut().next() {
                // Bytes is a type no field but the blob has; the blob gets a bool instead.
                write.value = match write.value {
                    Value::Bytes(_) => Value::Bool(true),
                    _ => Value::Bytes(b"not this type".to_vec()),
                };
                touched = true;
            }
        }
        touched
    })
}
