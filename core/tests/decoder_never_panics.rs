//! The wire decoder turns any bytes a peer can send into a message or an error, never a panic,
//! and names each way a message can be refused.

use driftsync_core::testing::wire::{
    Compression, DecodeError, Hello, HiddenFields, Limits, Manifest, Message, OpsBytes,
    PROTOCOL_VERSION, Packing, PullBatch, PullRequest, Push, PushAck, Reject, RejectReason,
    SnapshotPage, SnapshotRequest, WIRE_VERSION, Welcome, decode, encode, encode_packed, seal,
};
use driftsync_core::{
    Access, BatchId, ChainSpan, CollectionSchema, FieldSchema, FieldType, FieldWrite, FieldWrites,
    Hlc, Link, LogPos, MergePolicy, Op, OpBody, OpId, QuarantineReason, RecordKey, Records,
    ReplicaId, Schema, Seq, Stamp, Value,
};
use proptest::prelude::*;
use proptest::sample::Index;

/// How many variants `Message` has; `variant_number` fails to compile when one is added.
const MESSAGE_VARIANTS: usize = 11;

proptest! {
    #[test]
    fn arbitrary_bytes_decode_to_a_message_or_an_error(
        bytes in prop::collection::vec(any::<u8>(), 0..4096)
    ) {
        decodes_without_panicking(&bytes)?;
    }

    /// Random bytes rarely get past the envelope, so these start with the current version, the
    /// plain body's tag and a valid message tag, and let the rest be random.
    #[test]
    fn arbitrary_bytes_behind_a_valid_header_decode_to_a_message_or_an_error(
        tag in 0..MESSAGE_VARIANTS as u8,
        body in prop::collection::vec(any::<u8>(), 0..4096)
    ) {
        let mut bytes = postcard::to_stdvec(&WIRE_VERSION).expect("a u16 encodes");
        bytes.extend([PLAIN_BODY, tag]);
        bytes.extend(body);
        decodes_without_panicking(&seal(&bytes))?;
    }

    /// Damage behind a valid seal reaches the parser, as from a sender that seals garbage.
    #[test]
    fn damaged_envelopes_behind_a_valid_seal_decode_to_a_message_or_an_error(
        which in any::<Index>(),
        damage in prop::collection::vec(damage(), 1..8)
    ) {
        let messages = sample_messages();
        let mut bytes = envelope(&messages[which.index(messages.len())]);
        for damage in &damage {
            damage.apply(&mut bytes);
        }
        decodes_without_panicking(&seal(&bytes))?;
    }

    /// The same behind a compressed body: damage inside the packed bytes reaches the
    /// decompressor, and then whatever it expands to reaches the parser.
    #[test]
    fn damaged_compressed_bodies_behind_a_valid_seal_decode_to_a_message_or_an_error(
        damage in prop::collection::vec(damage(), 1..8)
    ) {
        let mut bytes = compressed_envelope(&large_pull_batch());
        for damage in &damage {
            damage.apply(&mut bytes);
        }
        decodes_without_panicking(&seal(&bytes))?;
    }

    /// Damage in transit never yields a message: the seal refuses it before anything is parsed.
    #[test]
    fn a_message_with_any_byte_damaged_fails_its_checksum(
        which in any::<Index>(),
        at in any::<Index>(),
        mask in 1..=u8::MAX
    ) {
        let messages = sample_messages();
        let mut bytes = encode(&messages[which.index(messages.len())]).to_vec();
        let at = at.index(bytes.len());
        bytes[at] ^= mask;
        prop_assert_eq!(decode(&bytes, &Limits::default()), Err(DecodeError::ChecksumMismatch));
    }

    #[test]
    fn damaged_encodings_decode_to_a_message_or_an_error(
        which in any::<Index>(),
        damage in prop::collection::vec(damage(), 1..8)
    ) {
        let messages = sample_messages();
        let mut bytes = encode(&messages[which.index(messages.len())]).to_vec();
        for damage in &damage {
            damage.apply(&mut bytes);
        }
        decodes_without_panicking(&bytes)?;
    }
}

#[test]
fn every_message_variant_survives_a_round_trip() {
    let messages = sample_messages();
    let mut variants: Vec<usize> = messages.iter().map(variant_number).collect();
    variants.sort_unstable();
    variants.dedup();
    assert_eq!(variants.len(), MESSAGE_VARIANTS, "the samples cover every variant");
    for message in messages {
        let decoded = decode(&encode(&message), &Limits::default());
        assert_eq!(decoded, Ok(message.clone()), "{} round trip", message.kind_name());
    }
}

#[test]
fn an_input_over_the_size_limit_is_too_large() {
    let limits = Limits::default();
    let bytes = vec![0_u8; limits.message_bytes_max + 1];
    assert_eq!(
        decode(&bytes, &limits),
        Err(DecodeError::TooLarge { bytes: bytes.len(), max: limits.message_bytes_max })
    );
}

#[test]
fn a_push_with_more_ops_than_a_batch_may_hold_exceeds_the_limit() {
    let limits = Limits::default();
    let ops: Vec<Op> = (0..=limits.batch_ops_max as u64).map(|seq| delete(seq + 1)).collect();
    let push = Message::Push(push(BatchId(1), &ops));
    assert_eq!(
        decode(&encode(&push), &limits),
        Err(DecodeError::LimitExceeded {
            what: "push",
            found: limits.batch_ops_max + 1,
            max: limits.batch_ops_max,
        })
    );
}

#[test]
fn bytes_after_the_message_are_trailing_bytes() {
    let mut bytes = envelope(&Message::Poke { head: LogPos(3) });
    bytes.extend([0, 0]);
    assert_eq!(
        decode(&seal(&bytes), &Limits::default()),
        Err(DecodeError::TrailingBytes { count: 2 })
    );
}

#[test]
fn another_envelope_version_is_unsupported() {
    let message = Message::Poke { head: LogPos(3) };
    // A plain envelope is `(version, body tag, message)` in postcard; check that premise
    // before relying on it.
    let current =
        postcard::to_stdvec(&(WIRE_VERSION, PLAIN_BODY, &message)).expect("a message encodes");
    assert_eq!(seal(&current), encode(&message));
    let next = WIRE_VERSION + 1;
    let bytes = postcard::to_stdvec(&(next, PLAIN_BODY, &message)).expect("a message encodes");
    assert_eq!(
        decode(&seal(&bytes), &Limits::default()),
        Err(DecodeError::UnsupportedVersion { found: next, supported: WIRE_VERSION })
    );
}

/// A length prefix is untrusted: a decoder that reserved what it claims would abort the process
/// on allocation failure long before any limit is checked.
#[test]
fn a_length_prefix_claiming_two_to_the_sixtieth_elements_is_refused() {
    let messages_ending_in_an_empty_sequence = [
        Message::Push(push(BatchId(7), &[])),
        Message::PushAck(PushAck {
            batch: BatchId(7),
            acked_through: Seq(1),
            quarantined: Vec::new(),
        }),
        Message::Welcome(Welcome {
            access: Access::ReadWrite,
            batch: BatchId(7),
            schema_version: 1,
            head: LogPos(0),
            acked_seq: Seq(0),
            acked_stamp: None,
            resync: false,
            compression: None,
            cautions: Vec::new(),
            quarantined: Vec::new(),
        }),
    ];
    for message in messages_ending_in_an_empty_sequence {
        let mut bytes = envelope(&message);
        assert_eq!(bytes.pop(), Some(0), "{} ends with an empty length", message.kind_name());
        for claimed in [1_u64 << 60, u64::MAX] {
            let mut forged = bytes.clone();
            forged.extend(postcard::to_stdvec(&claimed).expect("a u64 encodes"));
            let decoded = decode(&seal(&forged), &Limits::default());
            assert!(
                decoded.is_err(),
                "{} claiming {claimed} elements: {decoded:?}",
                message.kind_name()
            );
        }
    }
}

// ---- helpers ----

/// A message's envelope without its seal.
fn envelope(message: &Message) -> Vec<u8> {
    let mut bytes = encode(message).to_vec();
    bytes.truncate(bytes.len() - CHECKSUM_BYTES);
    bytes
}

/// A pull batch of many similar ops: large and compressible, as real batches are.
fn large_pull_batch() -> Message {
    let ops: Vec<Op> = sample_ops().into_iter().cycle().take(200).collect();
    let bytes = OpsBytes::encode(&ops);
    Message::PullBatch(PullBatch {
        batch: BatchId(3),
        from: LogPos(0),
        to: LogPos(ops.len() as u64),
        head: LogPos(ops.len() as u64),
        manifest: bytes.manifest(),
        ops: bytes,
        withheld: 0,
        chain: ChainSpan::default(),
        hidden: Vec::new(),
    })
}

/// `message` encoded compressed, without its seal.
fn compressed_envelope(message: &Message) -> Vec<u8> {
    let packing = Packing { compression: Some(Compression::Lz4), threshold_bytes: 0 };
    let mut bytes = encode_packed(message, packing).bytes.to_vec();
    assert!(bytes.len() < encode(message).len(), "the message travels compressed");
    bytes.truncate(bytes.len() - CHECKSUM_BYTES);
    bytes
}

/// The tag of a plain (uncompressed) body, after the version.
const PLAIN_BODY: u8 = 0;

/// The length of the seal `encode` appends.
const CHECKSUM_BYTES: usize = 8;

/// Decodes `bytes`; whatever decodes must also survive its own round trip, which catches a
/// decoder that accepts something the encoder cannot reproduce.
fn decodes_without_panicking(bytes: &[u8]) -> Result<(), TestCaseError> {
    let limits = Limits::default();
    if let Ok(message) = decode(bytes, &limits) {
        prop_assert_eq!(decode(&encode(&message), &limits), Ok(message));
    }
    Ok(())
}

#[derive(Clone, Debug)]
enum Damage {
    Flip { at: Index, mask: u8 },
    Insert { at: Index, byte: u8 },
    Remove { at: Index },
    Truncate { at: Index },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => (any::<Index>(), 1..=u8::MAX).prop_map(|(at, mask)| Damage::Flip { at, mask }),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Damage::Insert { at, byte }),
        2 => any::<Index>().prop_map(|at| Damage::Remove { at }),
        1 => any::<Index>().prop_map(|at| Damage::Truncate { at }),
    ]
}

impl Damage {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            Damage::Flip { at, mask } if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes[at] ^= mask;
            }
            Damage::Insert { at, byte } => bytes.insert(at.index(bytes.len() + 1), *byte),
            Damage::Remove { at } if !bytes.is_empty() => {
                bytes.remove(at.index(bytes.len()));
            }
            Damage::Truncate { at } => bytes.truncate(at.index(bytes.len() + 1)),
            // Nothing is left to flip or remove.
            Damage::Flip { .. } | Damage::Remove { .. } => {}
        }
    }
}

fn variant_number(message: &Message) -> usize {
    match message {
        Message::Hello(_) => 0,
        Message::Welcome(_) => 1,
        Message::Reject(_) => 2,
        Message::Push(_) => 3,
        Message::PushAck(_) => 4,
        Message::PullRequest(_) => 5,
        Message::PullBatch(_) => 6,
        Message::ResyncRequired { .. } => 7,
        Message::SnapshotRequest(_) => 8,
        Message::SnapshotPage(_) => 9,
        Message::Poke { .. } => 10,
    }
}

/// One message of every variant, as rich as each can be, so damage lands in every part of the
/// decoder.
fn sample_messages() -> Vec<Message> {
    let ops = sample_ops();
    let mut records = Records::default();
    let schema = schema();
    for op in &ops {
        records.apply(op, &schema);
    }
    let records: Vec<_> = records.iter().map(|(key, state)| (key.clone(), state.clone())).collect();
    let stamp = Some(stamp(5, 1));
    let mut messages = handshake_messages();
    messages.extend([
        Message::Push(push(BatchId(2), &ops)),
        Message::PushAck(PushAck {
            batch: BatchId(2),
            acked_through: Seq(6),
            quarantined: vec![(ops[0].id, QuarantineReason::ForeignWriter { sender: 9 })],
        }),
        Message::PullRequest(PullRequest {
            batch: BatchId(3),
            cursor: LogPos(10),
            ops_max: 256,
            outbox_oldest: stamp,
        }),
        Message::PullBatch(PullBatch {
            batch: BatchId(3),
            from: LogPos(10),
            to: LogPos(10 + ops.len() as u64),
            head: LogPos(99),
            manifest: OpsBytes::encode(&ops).manifest(),
            ops: OpsBytes::encode(&ops),
            withheld: 2,
            chain: ChainSpan::new(1, Link([7; 32]), Link([9; 32])),
            hidden: vec![HiddenFields {
                key: RecordKey::new("items", "r0"),
                fields: vec!["due".into()],
            }],
        }),
        Message::ResyncRequired { batch: BatchId(4), compacted_through: LogPos(8) },
        Message::SnapshotRequest(SnapshotRequest {
            batch: BatchId(5),
            after: Some(RecordKey::new("items", "r0")),
            records_max: 64,
        }),
        Message::SnapshotPage(SnapshotPage {
            batch: BatchId(5),
            at: LogPos(40),
            chain_epoch: 1,
            chain_link: Link([3; 32]),
            manifest: Manifest::of(&records),
            records,
            next: Some(RecordKey::new("items", "r9")),
            applied: vec![(ReplicaId(1), Seq(6)), (ReplicaId(2), Seq(1))],
            hidden: Vec::new(),
        }),
        Message::Poke { head: LogPos(41) },
    ]);
    messages
}

/// The three messages of a handshake.
fn handshake_messages() -> Vec<Message> {
    vec![
        Message::Hello(Hello {
            batch: BatchId(1),
            protocol: PROTOCOL_VERSION,
            client: ReplicaId(1),
            schema_versions: vec![1, 2],
            token: "secret".to_owned(),
            cursor: LogPos(12),
            acked_seq: Seq(3),
            outbox_oldest: None,
            compression: vec!["lz4".to_owned()],
        }),
        Message::Welcome(Welcome {
            access: Access::ReadWrite,
            batch: BatchId(1),
            schema_version: 2,
            head: LogPos(40),
            acked_seq: Seq(3),
            acked_stamp: None,
            resync: true,
            compression: Some(Compression::Lz4),
            cautions: vec!["schema 1 is deprecated".to_owned()],
            quarantined: Vec::new(),
        }),
        Message::Reject(Reject {
            batch: BatchId(1),
            reason: RejectReason::SchemaUnsupported {
                offered: vec![1],
                min_required: 2,
                max_supported: 3,
            },
        }),
    ]
}

/// Every op body and every value type, with seen lists, so the page built from them holds
/// every kind of field state (on `r0`) and a tombstone (on `r1`).
fn push(batch: BatchId, ops: &[Op]) -> Push {
    let ops = OpsBytes::encode(ops);
    Push { batch, schema_version: 1, manifest: ops.manifest(), ops }
}

fn sample_ops() -> Vec<Op> {
    let op = |seq, body| Op {
        id: OpId { replica: ReplicaId(1), seq: Seq(seq) },
        stamp: stamp(seq, 1),
        key: RecordKey::new("items", if body == OpBody::Delete { "r1" } else { "r0" }),
        body,
        reason: None,
    };
    let write = |value, seen: &[u64]| FieldWrite {
        value,
        seen: seen.iter().map(|seq| OpId { replica: ReplicaId(1), seq: Seq(*seq) }).collect(),
    };
    let put_fields: FieldWrites = [
        ("title", write(Value::Str("héllo".to_owned()), &[])),
        ("flag", write(Value::Bool(true), &[])),
        ("ratio", write(Value::F64(f64::NAN), &[])),
        ("blob", write(Value::Bytes(vec![0, 255, 7]), &[])),
        ("high", write(Value::I64(-7), &[])),
        ("tags", write(Value::Null, &[])),
    ]
    .into_iter()
    .map(|(name, write)| (name.to_owned(), write))
    .collect();
    vec![
        op(1, OpBody::Put { fields: put_fields }),
        op(2, OpBody::Increment { field: "count".to_owned(), delta: i64::MIN }),
        op(
            3,
            OpBody::Update {
                fields: [("tags".to_owned(), write(Value::Str("x".to_owned()), &[1]))].into(),
            },
        ),
        op(
            4,
            OpBody::Resolve {
                field: "tags".to_owned(),
                write: write(Value::Str("y".to_owned()), &[1, 3]),
            },
        ),
        op(5, OpBody::Delete),
        op(
            6,
            OpBody::Update {
                fields: [("high".to_owned(), write(Value::I64(i64::MAX), &[]))].into(),
            },
        ),
    ]
}

fn schema() -> Schema {
    let field = |ty, policy| FieldSchema::new(ty, policy);
    Schema::new(1).collection(
        "items",
        CollectionSchema::default()
            .field("title", field(FieldType::Str, MergePolicy::LastWriterWins))
            .field("flag", field(FieldType::Bool, MergePolicy::LastWriterWins))
            .field("ratio", field(FieldType::F64, MergePolicy::LastWriterWins))
            .field("blob", field(FieldType::Bytes, MergePolicy::LastWriterWins))
            .field("count", field(FieldType::I64, MergePolicy::Counter))
            .field("high", field(FieldType::I64, MergePolicy::Max))
            .field("tags", field(FieldType::Str, MergePolicy::MultiValue)),
    )
}

fn stamp(wall_ms: u64, replica: u64) -> Stamp {
    Stamp::new(Hlc { wall_ms, logical: 0 }, ReplicaId(replica))
}

fn delete(seq: u64) -> Op {
    Op {
        id: OpId { replica: ReplicaId(1), seq: Seq(seq) },
        stamp: stamp(seq, 1),
        key: RecordKey::new("items", "r0"),
        body: OpBody::Delete,
        reason: None,
    }
}
