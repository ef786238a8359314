//! The wire codec: a versioned envelope, encoded with postcard, sealed with a checksum.
//!
//! Every message ends with the first [`CHECKSUM_BYTES`] bytes of a BLAKE3 digest of what comes
//! before it. Transports do not all guarantee integrity end to end (a relay that re-frames can
//! damage what it carries), and a flipped byte inside a value would otherwise decode as a
//! different, valid message; with the seal a damaged message is refused before it is parsed.
//! Batches are also checked against their manifests, which cover the ops themselves.
//!
//! Decoding is the edge where untrusted bytes become typed messages, so it never panics and
//! never allocates beyond a bound: the input length is checked first (every decoded element
//! consumes at least one byte, and serde caps speculative preallocation), then every count and
//! length inside the message is checked against [`Limits`].

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::op::{FieldWrite, Op, OpBody};
use crate::protocol::Message;
use crate::value::Value;

/// The envelope revision. A decoder refuses any other, so old and new builds fail loudly.
pub const WIRE_VERSION: u16 = 2;

/// The length of the checksum that ends every message.
const CHECKSUM_BYTES: usize = 8;

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    version: u16,
    message: &'a Message,
}

#[derive(Deserialize)]
struct Envelope {
    version: u16,
    message: Message,
}

/// Bounds on what a decoded message may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub message_bytes_max: usize,
    pub batch_ops_max: usize,
    pub fields_per_op_max: usize,
    pub seen_per_field_max: usize,
    pub name_bytes_max: usize,
    pub value_bytes_max: usize,
    pub page_records_max: usize,
    pub schema_versions_max: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            message_bytes_max: 8 << 20,
            batch_ops_max: 4_096,
            fields_per_op_max: 256,
            seen_per_field_max: 256,
            name_bytes_max: 256,
            value_bytes_max: 1 << 20,
            page_records_max: 4_096,
            schema_versions_max: 64,
        }
    }
}

/// Why bytes did not decode into a message. The sender misbehaved (or the bytes were damaged
/// in transit); the receiver drops the message, counts it, and carries on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    TooLarge {
        bytes: usize,
        max: usize,
    },
    Malformed(String),
    TrailingBytes {
        count: usize,
    },
    /// The bytes do not match their checksum: damaged in transit.
    ChecksumMismatch,
    UnsupportedVersion {
        found: u16,
        supported: u16,
    },
    LimitExceeded {
        what: &'static str,
        found: usize,
        max: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLarge { bytes, max } => {
                write!(f, "message of {bytes} bytes exceeds the {max}-byte limit")
            }
            DecodeError::Malformed(e) => write!(f, "malformed message: {e}"),
            DecodeError::TrailingBytes { count } => write!(f, "{count} bytes after the message"),
            DecodeError::ChecksumMismatch => {
                f.write_str("the message does not match its checksum (damaged in transit)")
            }
            DecodeError::UnsupportedVersion { found, supported } => {
                write!(f, "wire version {found} unsupported (this build speaks {supported})")
            }
            DecodeError::LimitExceeded { what, found, max } => {
                write!(f, "{what}: {found} exceeds the limit of {max}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Encodes a message in the current envelope, sealed with its checksum.
pub fn encode(message: &Message) -> Bytes {
    let envelope = EnvelopeRef { version: WIRE_VERSION, message };
    // Encoding our own message types into a Vec cannot fail (see `Manifest::of`).
    let mut bytes = postcard::to_stdvec(&envelope).expect("postcard encodes core messages");
    let seal = checksum(&bytes);
    bytes.extend_from_slice(&seal);
    Bytes::from(bytes)
}

/// Seals an envelope encoded by other means, as `encode` seals its own: for tests and fuzzers
/// that build envelopes byte by byte to reach the parser behind the checksum.
#[cfg(feature = "testing")]
pub fn seal(envelope: &[u8]) -> Bytes {
    let mut bytes = envelope.to_vec();
    bytes.extend_from_slice(&checksum(envelope));
    Bytes::from(bytes)
}

/// The checksum of an encoded envelope.
fn checksum(envelope: &[u8]) -> [u8; CHECKSUM_BYTES] {
    let digest = blake3::hash(envelope);
    let mut seal = [0; CHECKSUM_BYTES];
    seal.copy_from_slice(&digest.as_bytes()[..CHECKSUM_BYTES]);
    seal
}

/// Decodes and bounds-checks one message.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    if bytes.len() > limits.message_bytes_max {
        return Err(DecodeError::TooLarge { bytes: bytes.len(), max: limits.message_bytes_max });
    }
    let split = bytes.len().checked_sub(CHECKSUM_BYTES).ok_or(DecodeError::ChecksumMismatch)?;
    let (bytes, seal) = bytes.split_at(split);
    if checksum(bytes) != seal {
        return Err(DecodeError::ChecksumMismatch);
    }
    let (envelope, rest): (Envelope, &[u8]) =
        postcard::take_from_bytes(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { count: rest.len() });
    }
    if envelope.version != WIRE_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            found: envelope.version,
            supported: WIRE_VERSION,
        });
    }
    check_message(&envelope.message, limits)?;
    Ok(envelope.message)
}

fn check_message(message: &Message, limits: &Limits) -> Result<(), DecodeError> {
    match message {
        Message::Hello(hello) => {
            bound(
                "hello schema versions",
                hello.schema_versions.len(),
                limits.schema_versions_max,
            )?;
            bound("hello token bytes", hello.token.len(), limits.name_bytes_max)
        }
        Message::Welcome(welcome) => {
            bound("welcome cautions", welcome.cautions.len(), limits.fields_per_op_max)?;
            bound("welcome quarantined", welcome.quarantined.len(), limits.batch_ops_max)
        }
        // The ops themselves are checked when they are parsed (`OpsBytes::decode`); their count
        // is checked here so an oversized batch is refused at the edge.
        Message::Push(push) => bound("push", push.ops.count()? as usize, limits.batch_ops_max),
        Message::PullBatch(batch) => {
            bound("pull batch", batch.ops.count()? as usize, limits.batch_ops_max)
        }
        Message::PushAck(ack) => {
            bound("push-ack quarantined", ack.quarantined.len(), limits.batch_ops_max)
        }
        Message::SnapshotPage(page) => {
            bound("snapshot page records", page.records.len(), limits.page_records_max)?;
            for (key, state) in &page.records {
                bound("collection name bytes", key.collection.len(), limits.name_bytes_max)?;
                bound("record id bytes", key.record.len(), limits.name_bytes_max)?;
                bound("fields per record", state.fields.len(), limits.fields_per_op_max)?;
            }
            Ok(())
        }
        Message::SnapshotRequest(request) => match &request.after {
            Some(key) => bound("record id bytes", key.record.len(), limits.name_bytes_max),
            None => Ok(()),
        },
        Message::Reject(_)
        | Message::PullRequest(_)
        | Message::ResyncRequired { .. }
        | Message::Poke { .. } => Ok(()),
    }
}

pub(crate) fn check_ops(
    what: &'static str,
    ops: &[Op],
    limits: &Limits,
) -> Result<(), DecodeError> {
    bound(what, ops.len(), limits.batch_ops_max)?;
    for op in ops {
        bound("collection name bytes", op.key.collection.len(), limits.name_bytes_max)?;
        bound("record id bytes", op.key.record.len(), limits.name_bytes_max)?;
        match &op.body {
            OpBody::Put { fields } | OpBody::Update { fields } => {
                bound("fields per op", fields.len(), limits.fields_per_op_max)?;
                for (name, write) in fields {
                    bound("field name bytes", name.len(), limits.name_bytes_max)?;
                    check_write(write, limits)?;
                }
            }
            OpBody::Resolve { field, write } => {
                bound("field name bytes", field.len(), limits.name_bytes_max)?;
                check_write(write, limits)?;
            }
            OpBody::Increment { field, .. } => {
                bound("field name bytes", field.len(), limits.name_bytes_max)?;
            }
            OpBody::Delete => {}
        }
    }
    Ok(())
}

fn check_write(write: &FieldWrite, limits: &Limits) -> Result<(), DecodeError> {
    bound("seen ops per field", write.seen.len(), limits.seen_per_field_max)?;
    match &write.value {
        Value::Str(s) => bound("value bytes", s.len(), limits.value_bytes_max),
        Value::Bytes(b) => bound("value bytes", b.len(), limits.value_bytes_max),
        Value::Null | Value::Bool(_) | Value::I64(_) | Value::F64(_) => Ok(()),
    }
}

fn bound(what: &'static str, found: usize, max: usize) -> Result<(), DecodeError> {
    if found > max { Err(DecodeError::LimitExceeded { what, found, max }) } else { Ok(()) }
}
