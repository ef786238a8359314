//! Small, distinct rows for the conformance checks, each made from a number so that two
//! samples made from different numbers differ.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::audit::AuditEntry;
use crate::chain::{Link, LogEntry};
use crate::hlc::{Hlc, Stamp};
use crate::ids::{LogPos, OpId, RecordKey, ReplicaId, Seq};
use crate::merge::{Entry, FieldState, MergePolicy, RecordState};
use crate::op::{FieldWrite, FieldWrites, Op, OpBody};
use crate::persist::{ClientMeta, Registration, ServerMeta};
use crate::quarantine::{QuarantineReason, QuarantinedOp};
use crate::store::Mutation;
use crate::time::WallTime;
use crate::value::Value;

pub(super) fn key(n: u64) -> RecordKey {
    RecordKey::new(if n.is_multiple_of(2) { "notes" } else { "tasks" }, format!("r{n}"))
}

pub(super) fn stamp(n: u64) -> Stamp {
    Stamp::new(Hlc { wall_ms: 1_700_000_000_000 + n, logical: (n % 3) as u32 }, ReplicaId(n % 4))
}

fn op_id(n: u64) -> OpId {
    OpId { replica: ReplicaId(n % 4 + 1), seq: Seq(n) }
}

fn entry(n: u64) -> Entry {
    Entry { stamp: stamp(n), op: op_id(n), value: Value::Str(format!("v{n}")), seen: None }
}

/// One of each kind of field state, by `n`.
pub(super) fn field(n: u64) -> FieldState {
    match n % 4 {
        0 => FieldState::Register(Some(entry(n))),
        1 => FieldState::Counter { deltas: [(stamp(n), n as i64 - 2)].into(), sum: n as i64 - 2 },
        2 => FieldState::Extremum { policy: MergePolicy::Max, frontier: vec![entry(n)] },
        _ => FieldState::Multi {
            entries: [(op_id(n), entry(n))].into(),
            superseded: [(op_id(n + 1), stamp(n + 1))].into(),
        },
    }
}

/// An op with seq `n`, of a kind chosen by `n`.
/// A log entry holding `op(n)`, its link chained from genesis (the store keeps links as given).
pub(super) fn log_entry(n: u64) -> LogEntry {
    let op = op(n);
    LogEntry { link: Link::GENESIS.next(LogPos(n), &op), op }
}

pub(super) fn op(n: u64) -> Op {
    let write = FieldWrite { value: Value::I64(n as i64), seen: vec![op_id(n + 7)] };
    let body = match n % 4 {
        0 => OpBody::Put { fields: FieldWrites::from([("title".to_owned(), write)]) },
        1 => OpBody::Update { fields: FieldWrites::from([("body".to_owned(), write)]) },
        2 => OpBody::Delete,
        _ => OpBody::Increment { field: "count".to_owned(), delta: -(n as i64) },
    };
    // Every third op says why it was made, so each table holds ops with and without a reason.
    let reason = n.is_multiple_of(3).then(|| format!("reason {n}"));
    Op {
        id: OpId { replica: ReplicaId(3), seq: Seq(n) },
        stamp: stamp(n),
        key: key(n),
        body,
        reason,
    }
}

/// The audit entry of `op(n)` at log position `n`, applied at wall time `n` seconds.
pub(super) fn audited(n: u64) -> AuditEntry {
    AuditEntry { pos: LogPos(n), at: WallTime(n * 1_000), user: format!("user-{n}"), op: op(n) }
}

pub(super) fn quarantined(n: u64) -> QuarantinedOp {
    let reason = if n.is_multiple_of(2) {
        QuarantineReason::ForeignWriter { sender: n }
    } else {
        QuarantineReason::Stale { forgotten_through: stamp(n) }
    };
    QuarantinedOp { op: op(n), reason }
}

pub(super) fn meta_client(n: u64) -> ClientMeta {
    ClientMeta {
        cursor: LogPos(n),
        next_seq: Seq(n + 1),
        acked_seq: Seq(n / 2),
        schema_version: 2,
        written_versions: vec![(Seq(1), 1), (Seq(n), 2)],
        pulled_in: Some(1),
        ..ClientMeta::default()
    }
}

pub(super) fn meta_server(n: u64) -> ServerMeta {
    ServerMeta {
        head: LogPos(n),
        compacted_through: LogPos(n / 2),
        schema_version: 3,
        ..ServerMeta::default()
    }
}

pub(super) fn registration(n: u64) -> Mutation {
    let registration = Registration {
        acked_seq: Seq(n),
        acked_stamp: Some(stamp(n)),
        cursor: LogPos(n),
        outbox_oldest: None,
        last_seen: WallTime(n),
        evicted: n.is_multiple_of(2),
    };
    Mutation::Registration { client: ReplicaId(n % 5), registration }
}

/// A mutation of any kind, on a key space small enough that rows are written, overwritten
/// and removed many times over.
pub(super) fn random_mutation(rng: &mut ChaCha8Rng) -> Mutation {
    let n = rng.random_range(0..12);
    match rng.random_range(0..13) {
        0 | 1 => Mutation::Record { key: key(n), state: random_record(rng) },
        2..=4 => Mutation::Fields {
            key: key(n),
            created: rng.random_bool(0.7).then(|| stamp(n)),
            deleted: rng.random_bool(0.3).then(|| stamp(n + 1)),
            fields: (0..rng.random_range(0..4))
                .map(|f| (format!("f{}", (n + f) % 5), rng.random_bool(0.8).then(|| field(n + f))))
                .collect(),
        },
        5 => Mutation::OutboxPut(op(n + 1)),
        6 => Mutation::OutboxRemoveThrough(Seq(n / 2)),
        7 => Mutation::LogAppend { pos: LogPos(n + 1), entry: log_entry(n) },
        8 => Mutation::LogCompactThrough(LogPos(n / 3)),
        9 => Mutation::Quarantine(quarantined(n)),
        10 => {
            if rng.random_bool(0.5) {
                Mutation::ClientMeta(meta_client(n))
            } else {
                Mutation::ServerMeta(meta_server(n))
            }
        }
        11 => registration(n),
        _ => match rng.random_range(0..2) {
            0 => Mutation::RecreatedOver {
                key: key(n),
                forgotten_through: rng.random_bool(0.6).then(|| stamp(n)),
            },
            _ => Mutation::Forgotten { bucket: (n % 4) as u16, through: stamp(n) },
        },
    }
}

fn random_record(rng: &mut ChaCha8Rng) -> Option<RecordState> {
    rng.random_bool(0.8).then(|| {
        let n = rng.random_range(0..20);
        RecordState {
            created: Some(stamp(n)),
            deleted: rng.random_bool(0.3).then(|| stamp(n + 2)),
            fields: (0..rng.random_range(0..5)).map(|f| (format!("f{f}"), field(n + f))).collect(),
        }
    })
}
