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
use crate::protocol::compression::{self, Compression, Packing};
use crate::value::Value;

/// The envelope revision. A decoder refuses any other, so old and new builds fail loudly.
/// (3: the body may be compressed.)
pub const WIRE_VERSION: u16 = 3;

/// The length of the checksum that ends every message.
const CHECKSUM_BYTES: usize = 8;

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    version: u16,
    body: BodyRef<'a>,
}

/// The body as it is sent. The variants are `Body`'s, in the same order.
#[derive(Serialize)]
enum BodyRef<'a> {
    Plain(&'a Message),
    /// The whole plain envelope (version and plain body), LZ4-compressed.
    Lz4 {
        plain_bytes: u32,
        packed: Packed<'a>,
    },
}

#[derive(Deserialize)]
struct Envelope<'a> {
    version: u16,
    #[serde(borrow)]
    body: Body<'a>,
}

#[derive(Deserialize)]
enum Body<'a> {
    Plain(Message),
    Lz4 { plain_bytes: u32, packed: &'a [u8] },
}

/// Compressed bytes, serialized as one byte string rather than byte by byte.
struct Packed<'a>(&'a [u8]);

impl Serialize for Packed<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// A message as encoded for the wire, and the size it would have had plain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Bytes,
    pub plain_bytes: usize,
}

/// A message as decoded, and the sizes it had on the wire and plain.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub message: Message,
    pub wire_bytes: usize,
    pub plain_bytes: usize,
}

/// Bounds on what a decoded message may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub message_bytes_max: usize,
    pub batch_ops_max: usize,
    pub fields_per_op_max: usize,
    pub seen_per_field_max: usize,
    pub name_bytes_max: usize,
    /// A signed token of realistic size (claims with many scopes) takes a few kilobytes.
    pub token_bytes_max: usize,
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
            token_bytes_max: 16 << 10,
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
    /// A compressed body that does not decompress to what it announces.
    BadCompression {
        codec: Compression,
        problem: String,
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
            DecodeError::BadCompression { codec, problem } => {
                write!(f, "bad {codec} body: {problem}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Encodes a message plain, in the current envelope, sealed with its checksum.
pub fn encode(message: &Message) -> Bytes {
    encode_packed(message, Packing::PLAIN).bytes
}

/// Encodes a message as `packing` says: compressed if its plain encoding reaches the
/// threshold and compression makes it shorter, plain otherwise.
pub fn encode_packed(message: &Message, packing: Packing) -> Encoded {
    let plain = envelope(BodyRef::Plain(message), capacity_for(message));
    let plain_bytes = plain.len() + CHECKSUM_BYTES;
    let packed = match packing.compression {
        Some(codec) if plain.len() >= packing.threshold_bytes => compressed(codec, &plain),
        _ => None,
    };
    let mut bytes = packed.filter(|packed| packed.len() < plain.len()).unwrap_or(plain);
    let seal = checksum(&bytes);
    bytes.extend_from_slice(&seal);
    Encoded { bytes: Bytes::from(bytes), plain_bytes }
}

/// The envelope of a compressed `plain` envelope, if the codec shrinks it.
fn compressed(codec: Compression, plain: &[u8]) -> Option<Vec<u8>> {
    let plain_bytes = u32::try_from(plain.len()).ok()?;
    let packed = compression::pack(codec, plain)?;
    let packed = Packed(&packed);
    let capacity = packed.0.len() + ENVELOPE_ROOM;
    Some(envelope(
        match codec {
            Compression::Lz4 => BodyRef::Lz4 { plain_bytes, packed },
        },
        capacity,
    ))
}

/// Room, beyond the ops a message carries, for the rest of its envelope and the seal.
const ENVELOPE_ROOM: usize = 256;

/// The buffer to encode `message` into: sized for the ops it carries, so that encoding a large
/// batch does not regrow and copy its buffer a dozen times.
fn capacity_for(message: &Message) -> usize {
    let ops = match message {
        Message::Push(push) => push.ops.byte_len(),
        Message::PullBatch(batch) => batch.ops.byte_len(),
        _ => 0,
    };
    ops + ENVELOPE_ROOM
}

fn envelope(body: BodyRef<'_>, capacity: usize) -> Vec<u8> {
    // Encoding our own message types into a Vec cannot fail (see `Manifest::of`).
    let buffer = Vec::with_capacity(capacity);
    postcard::to_extend(&EnvelopeRef { version: WIRE_VERSION, body }, buffer)
        .expect("postcard encodes core messages")
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
#[cfg(feature = "testing")]
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    decode_sized(bytes, limits).map(|decoded| decoded.message)
}

/// Decodes and bounds-checks one message, telling its sizes on the wire and plain.
pub fn decode_sized(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    if bytes.len() > limits.message_bytes_max {
        return Err(DecodeError::TooLarge { bytes: bytes.len(), max: limits.message_bytes_max });
    }
    let split = bytes.len().checked_sub(CHECKSUM_BYTES).ok_or(DecodeError::ChecksumMismatch)?;
    let (unsealed, seal) = bytes.split_at(split);
    if checksum(unsealed) != seal {
        return Err(DecodeError::ChecksumMismatch);
    }
    let (message, plain_bytes) = match open(unsealed)? {
        Body::Plain(message) => (message, bytes.len()),
        Body::Lz4 { plain_bytes, packed } => {
            let codec = Compression::Lz4;
            let plain = compression::unpack(codec, packed, plain_bytes, limits.message_bytes_max)?;
            match open(&plain)? {
                Body::Plain(message) => (message, plain.len() + CHECKSUM_BYTES),
                Body::Lz4 { .. } => {
                    let problem = "a compressed body inside a compressed body".to_owned();
                    return Err(DecodeError::BadCompression { codec, problem });
                }
            }
        }
    };
    check_message(&message, limits)?;
    Ok(Decoded { message, wire_bytes: bytes.len(), plain_bytes })
}

/// Parses an unsealed envelope of the current version.
fn open(bytes: &[u8]) -> Result<Body<'_>, DecodeError> {
    let (envelope, rest): (Envelope<'_>, &[u8]) =
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
    Ok(envelope.body)
}

fn check_message(message: &Message, limits: &Limits) -> Result<(), DecodeError> {
    match message {
        Message::Hello(hello) => {
            bound(
                "hello schema versions",
                hello.schema_versions.len(),
                limits.schema_versions_max,
            )?;
            bound("hello token bytes", hello.token.len(), limits.token_bytes_max)?;
            bound("hello codecs", hello.compression.len(), limits.schema_versions_max)?;
            for name in &hello.compression {
                bound("codec name bytes", name.len(), limits.name_bytes_max)?;
            }
            Ok(())
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
