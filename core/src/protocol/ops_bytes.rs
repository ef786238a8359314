//! Ops as they travel: the canonical (postcard) encoding of a sequence of ops, kept as bytes
//! inside a message. A sender encodes straight from the ops it holds, without copying them into
//! a message first; a receiver checks the manifest against exactly these bytes before it parses
//! a single op ("verify, then parse"), and nobody encodes anything twice.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::op::Op;
use crate::protocol::Manifest;
use crate::protocol::wire::{DecodeError, Limits, check_ops};

/// What an op typically encodes to, to size a batch's buffer up front (a larger op only
/// grows it).
const OP_BYTES_TYPICAL: usize = 128;

/// The encoding of `Vec<Op>`: a varint count, then each op.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OpsBytes(Vec<u8>);

impl OpsBytes {
    /// Encodes ops in order.
    pub fn encode<'a>(ops: impl IntoIterator<Item = &'a Op>) -> OpsBytes {
        let ops: Vec<&Op> = ops.into_iter().collect();
        let buffer = Vec::with_capacity(ops.len() * OP_BYTES_TYPICAL);
        // A `&Op` serializes exactly as an `Op`, so this is the encoding of `Vec<Op>`; it
        // cannot fail for our own types (see `Manifest::of`).
        OpsBytes(postcard::to_extend(&ops, buffer).expect("postcard encodes core ops"))
    }

    /// How many bytes the encoding takes.
    pub fn byte_len(&self) -> usize {
        self.0.len()
    }

    /// The manifest of these bytes: the op count they announce and their digest.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            count: self.count().unwrap_or(u32::MAX),
            digest: *blake3::hash(&self.0).as_bytes(),
        }
    }

    /// The op count the encoding announces, read without decoding the ops.
    pub fn count(&self) -> Result<u32, DecodeError> {
        let (count, _): (u32, _) = postcard::take_from_bytes(&self.0)
            .map_err(|e| DecodeError::Malformed(format!("op count: {e}")))?;
        Ok(count)
    }

    /// Parses the ops, checking every bound in `limits`.
    pub fn decode(&self, limits: &Limits) -> Result<Vec<Op>, DecodeError> {
        let count = self.count()? as usize;
        if count > limits.batch_ops_max {
            let max = limits.batch_ops_max;
            return Err(DecodeError::LimitExceeded { what: "ops in a batch", found: count, max });
        }
        let (ops, rest): (Vec<Op>, &[u8]) = postcard::take_from_bytes(&self.0)
            .map_err(|e| DecodeError::Malformed(format!("ops: {e}")))?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes { count: rest.len() });
        }
        check_ops("ops", &ops, limits)?;
        Ok(ops)
    }
}

impl fmt::Debug for OpsBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.count() {
            Ok(count) => write!(f, "OpsBytes({count} ops, {} bytes)", self.0.len()),
            Err(_) => write!(f, "OpsBytes(undecodable, {} bytes)", self.0.len()),
        }
    }
}

impl Serialize for OpsBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for OpsBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OpsBytes, D::Error> {
        struct BytesVisitor;

        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = OpsBytes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("encoded ops")
            }

            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<OpsBytes, E> {
                Ok(OpsBytes(bytes.to_vec()))
            }

            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<OpsBytes, E> {
                Ok(OpsBytes(bytes))
            }
        }

        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::{Hlc, Stamp};
    use crate::ids::{OpId, RecordKey, ReplicaId, Seq};
    use crate::op::OpBody;

    fn delete(seq: u64) -> Op {
        let replica = ReplicaId(3);
        Op {
            id: OpId { replica, seq: Seq(seq) },
            stamp: Stamp::new(Hlc { wall_ms: seq, logical: 0 }, replica),
            key: RecordKey::new("notes", format!("r{seq}")),
            body: OpBody::Delete,
            reason: None,
        }
    }

    #[test]
    fn encoded_ops_decode_to_the_same_ops_and_announce_their_count() {
        let ops: Vec<Op> = (1..=5).map(delete).collect();
        let bytes = OpsBytes::encode(&ops);
        assert_eq!(bytes.count(), Ok(5));
        assert_eq!(bytes.decode(&Limits::default()), Ok(ops.clone()));
        assert_eq!(bytes.0, postcard::to_stdvec(&ops).expect("encodes"), "the Vec<Op> encoding");
    }

    #[test]
    fn a_changed_byte_changes_the_manifest() {
        let bytes = OpsBytes::encode(&[delete(1)]);
        let mut damaged = bytes.clone();
        let last = damaged.0.len() - 1;
        damaged.0[last] ^= 1;
        assert_ne!(bytes.manifest(), damaged.manifest());
    }

    #[test]
    fn more_ops_than_the_limit_are_refused_before_they_are_parsed() {
        let ops: Vec<Op> = (1..=3).map(delete).collect();
        let limits = Limits { batch_ops_max: 2, ..Limits::default() };
        let error = OpsBytes::encode(&ops).decode(&limits).expect_err("over the limit");
        assert_eq!(error, DecodeError::LimitExceeded { what: "ops in a batch", found: 3, max: 2 });
    }
}
