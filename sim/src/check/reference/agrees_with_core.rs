//! The core's merge shows exactly the reference content: any realistic op set, applied to core
//! `Records` in any order with duplicates, leaves the content the model computes from the set.
//!
//! Ops come from a few simulated writers, each with its own hybrid logical clock and its own
//! core replica. Before writing, a writer sometimes learns everything another writer knows, so
//! seen lists name only ops the writer really had, and every op is stamped after all it saw.
//! Run with `PROPTEST_CASES=2000` (or more) after changing the merge or the model.

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{
    CollectionSchema, FieldSchema, FieldType, FieldWrite, Hlc, MergePolicy, Op, OpBody, OpId,
    RecordKey, Records, ReplicaId, Schema, Seq, Stamp, Value,
};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::check::reference;
use crate::view::{Content, content, record_content};

proptest! {
    #[test]
    fn the_core_shows_the_reference_content_whatever_the_delivery((ops, delivery) in scenario()) {
        let schema = schema();
        let mut records = Records::default();
        for op in &delivery {
            records.apply(op, &schema);
        }
        let expected = reference::content(&ops, &schema);
        prop_assert_eq!(&content(&records), &expected);
        prop_assert_eq!(&reference::content(&delivery, &schema), &expected, "model is order-free");
    }

    /// Goal: the running form the server is judged by at every commit is the set model.
    #[test]
    fn the_running_reference_shows_the_set_model_after_every_op((_, delivery) in scenario()) {
        let schema = schema();
        let mut running: BTreeMap<RecordKey, reference::Running> = BTreeMap::new();
        for (index, op) in delivery.iter().enumerate() {
            running.entry(op.key.clone()).or_default().apply(op, &schema);
            let shown: Content =
                running.iter().filter_map(|(key, r)| Some((key.clone(), r.content()?))).collect();
            prop_assert_eq!(shown, reference::content(&delivery[..=index], &schema));
        }
    }

    /// Goal: the per-commit oracle's field-by-field judgment says what comparing the two
    /// contents would, for a replica that matches the reference and one an op behind it.
    #[test]
    fn the_running_reference_judges_a_replica_as_comparing_contents_would(
        (_, delivery) in scenario()
    ) {
        let schema = schema();
        let mut running: BTreeMap<RecordKey, reference::Running> = BTreeMap::new();
        let (mut behind, mut current) = (Records::default(), Records::default());
        for op in &delivery {
            let reference = running.entry(op.key.clone()).or_default();
            reference.apply(op, &schema);
            current.apply(op, &schema);
            for records in [&behind, &current] {
                let state = records.get(&op.key);
                let same = state.and_then(record_content) == reference.content();
                prop_assert_eq!(reference.shown_by(state), same);
            }
            behind.apply(op, &schema);
        }
    }
}

pub(super) const COLLECTION: &str = "notes";
pub(super) const TITLE: &str = "title";
pub(super) const HIGH: &str = "high";
pub(super) const LOW: &str = "low";
pub(super) const COUNT: &str = "count";
pub(super) const TAGS: &str = "tags";

/// The fields a put, update or resolve may write; the counter changes only by increments.
const VALUE_FIELDS: [&str; 4] = [TITLE, HIGH, LOW, TAGS];

const WRITERS: usize = 3;
const RECORDS: usize = 3;
const STEPS_MAX: usize = 40;
const DUPLICATES_MAX: usize = 8;
/// Wall readings from a small range make writers' clocks collide, so races are close and the
/// logical part of the clock is exercised.
const WALL_MS_MAX: u64 = 12;

/// The schema both the property test and the unit tests of the model write to.
pub(super) fn schema() -> Schema {
    let field = FieldSchema::new;
    Schema::new(1).collection(
        COLLECTION,
        CollectionSchema::default()
            .field(TITLE, field(FieldType::Str, MergePolicy::LastWriterWins))
            .field(HIGH, field(FieldType::I64, MergePolicy::Max))
            .field(LOW, field(FieldType::I64, MergePolicy::Min))
            .field(COUNT, field(FieldType::I64, MergePolicy::Counter))
            .field(TAGS, field(FieldType::Str, MergePolicy::MultiValue)),
    )
}

fn key(record: usize) -> RecordKey {
    RecordKey::new(COLLECTION, format!("r{record}"))
}

/// The generated ops in writing order, and a delivery of them.
fn scenario() -> impl Strategy<Value = (Vec<Op>, Vec<Op>)> {
    let ops = prop::collection::vec(step(), 0..=STEPS_MAX).prop_map(|steps| build_ops(&steps));
    ops.prop_flat_map(|ops| (Just(ops.clone()), delivery(ops)))
}

/// `ops` shuffled, with up to `DUPLICATES_MAX` extra copies inserted anywhere.
fn delivery(ops: Vec<Op>) -> impl Strategy<Value = Vec<Op>> {
    let copies = prop::collection::vec(any::<(Index, Index)>(), 0..=DUPLICATES_MAX);
    (Just(ops.clone()).prop_shuffle(), copies).prop_map(move |(mut delivery, copies)| {
        for (which, at) in copies.iter().filter(|_| !ops.is_empty()) {
            let copy = ops[which.index(ops.len())].clone();
            delivery.insert(at.index(delivery.len() + 1), copy);
        }
        delivery
    })
}

#[derive(Clone, Debug)]
struct Step {
    writer: usize,
    wall_ms: u64,
    /// Before writing, the writer learns everything this other writer knows.
    sync_from: Option<usize>,
    record: usize,
    action: Action,
}

#[derive(Clone, Debug)]
enum Action {
    /// One optional write per entry of `VALUE_FIELDS`.
    Put(Vec<Option<WriteSeed>>),
    Update(Vec<Option<WriteSeed>>),
    Delete,
    Increment(i64),
    Resolve {
        field: usize,
        write: WriteSeed,
    },
}

#[derive(Clone, Copy, Debug)]
struct WriteSeed {
    /// `None` writes null; a number becomes the field's type.
    value: Option<i64>,
    seen: SeenChoice,
}

#[derive(Clone, Copy, Debug)]
enum SeenChoice {
    /// What the writer's replica shows in the field, as a real client records it.
    Shown,
    /// A subset (bit `i % 64` picks the `i`-th) of the writes to the field the writer knows,
    /// for writers that saw more or less than the current value.
    Subset(u64),
}

fn step() -> impl Strategy<Value = Step> {
    (0..WRITERS, 0..=WALL_MS_MAX, prop::option::weighted(0.3, 0..WRITERS), 0..RECORDS, action())
        .prop_map(|(writer, wall_ms, sync_from, record, action)| Step {
            writer,
            wall_ms,
            sync_from,
            record,
            action,
        })
}

fn action() -> impl Strategy<Value = Action> {
    let writes = || prop::collection::vec(prop::option::of(write_seed()), VALUE_FIELDS.len());
    let delta = prop_oneof![4 => -3_i64..=3, 1 => any::<i64>()];
    prop_oneof![
        3 => writes().prop_map(Action::Put),
        4 => writes().prop_map(Action::Update),
        2 => Just(Action::Delete),
        3 => delta.prop_map(Action::Increment),
        // Only title (last writer) and tags (multi-value) can be resolved: the schema refuses
        // a resolve of a counter or an extreme.
        3 => (prop::sample::select(vec![0, 3]), write_seed())
            .prop_map(|(field, write)| Action::Resolve { field, write }),
    ]
}

fn write_seed() -> impl Strategy<Value = WriteSeed> {
    let value = prop::option::weighted(0.9, -4_i64..4);
    let seen =
        prop_oneof![2 => Just(SeenChoice::Shown), 1 => any::<u64>().prop_map(SeenChoice::Subset)];
    (value, seen).prop_map(|(value, seen)| WriteSeed { value, seen })
}

/// A writer replica: its clock, its sequence, what it knows, and its records merged from that.
struct Writer {
    replica: ReplicaId,
    clock: Hlc,
    next_seq: u64,
    /// Positions (in the generated op list) of every op this writer knows, its own included.
    /// It grows only by its own writes and by another writer's whole knowledge, so a known op's
    /// seen list names only known ops.
    known: BTreeSet<usize>,
    records: Records,
}

impl Writer {
    fn new(index: usize) -> Writer {
        let replica = ReplicaId(index as u64 + 1);
        Writer {
            replica,
            clock: Hlc::default(),
            next_seq: 1,
            known: BTreeSet::new(),
            records: Records::default(),
        }
    }

    fn learn(&mut self, position: usize, op: &Op, schema: &Schema) {
        if self.known.insert(position) {
            self.clock = self.clock.max(op.stamp.hlc);
            self.records.apply(op, schema);
        }
    }

    /// A fresh stamp, greater than every stamp this writer has issued or learned.
    fn tick(&mut self, wall_ms: u64) -> Stamp {
        self.clock = if wall_ms > self.clock.wall_ms {
            Hlc { wall_ms, logical: 0 }
        } else {
            Hlc { wall_ms: self.clock.wall_ms, logical: self.clock.logical + 1 }
        };
        Stamp::new(self.clock, self.replica)
    }

    fn write(&mut self, step: &Step, ops: &[Op]) -> Op {
        let key = key(step.record);
        let fields = |seeds: &[Option<WriteSeed>]| {
            let named = VALUE_FIELDS.iter().zip(seeds);
            named
                .filter_map(|(name, seed)| {
                    Some(((*name).to_owned(), self.field_write(ops, &key, name, (*seed)?)))
                })
                .collect()
        };
        let body = match &step.action {
            Action::Put(seeds) => OpBody::Put { fields: fields(seeds) },
            Action::Update(seeds) => OpBody::Update { fields: fields(seeds) },
            Action::Delete => OpBody::Delete,
            Action::Increment(delta) => {
                OpBody::Increment { field: COUNT.to_owned(), delta: *delta }
            }
            Action::Resolve { field, write } => OpBody::Resolve {
                field: VALUE_FIELDS[*field].to_owned(),
                write: self.field_write(ops, &key, VALUE_FIELDS[*field], *write),
            },
        };
        let id = OpId { replica: self.replica, seq: Seq(self.next_seq) };
        self.next_seq += 1;
        Op { id, stamp: self.tick(step.wall_ms), key, body, reason: None }
    }

    fn field_write(&self, ops: &[Op], key: &RecordKey, name: &str, seed: WriteSeed) -> FieldWrite {
        let value = match (seed.value, name) {
            (None, _) => Value::Null,
            (Some(n), HIGH | LOW) => Value::I64(n),
            // A handful of distinct strings, so different writers write equal values.
            (Some(n), _) => Value::Str(format!("s{}", n.rem_euclid(5))),
        };
        let seen = match seed.seen {
            SeenChoice::Shown => self.records.get(key).map(|r| r.seen(name)).unwrap_or_default(),
            SeenChoice::Subset(mask) => self
                .known
                .iter()
                .map(|position| &ops[*position])
                .filter(|op| op.key == *key && writes_field(op, name))
                .enumerate()
                .filter(|(i, _)| mask >> (i % 64) & 1 == 1)
                .map(|(_, op)| op.id)
                .collect(),
        };
        FieldWrite { value, seen }
    }
}

fn writes_field(op: &Op, name: &str) -> bool {
    match &op.body {
        OpBody::Put { fields } | OpBody::Update { fields } => fields.contains_key(name),
        OpBody::Resolve { field, .. } => field == name,
        OpBody::Increment { .. } | OpBody::Delete => false,
    }
}

/// Runs the writers through `steps` and returns their ops in the order they were written.
fn build_ops(steps: &[Step]) -> Vec<Op> {
    let schema = schema();
    let mut writers: Vec<Writer> = (0..WRITERS).map(Writer::new).collect();
    let mut ops: Vec<Op> = Vec::with_capacity(steps.len());
    for step in steps {
        if let Some(from) = step.sync_from.filter(|from| *from != step.writer) {
            let learned: Vec<usize> =
                writers[from].known.difference(&writers[step.writer].known).copied().collect();
            for position in learned {
                writers[step.writer].learn(position, &ops[position], &schema);
            }
        }
        let writer = &mut writers[step.writer];
        let op = writer.write(step, &ops);
        writer.learn(ops.len(), &op, &schema);
        ops.push(op);
    }
    check_generated(&ops, &schema);
    ops
}

/// The generator's own guarantees, without which the property would test unrealistic input.
fn check_generated(ops: &[Op], schema: &Schema) {
    let stamps: BTreeSet<Stamp> = ops.iter().map(|op| op.stamp).collect();
    assert_eq!(stamps.len(), ops.len(), "stamps are unique per op");
    for op in ops {
        if let Err(violation) = schema.validate(op) {
            panic!("generated op {op:?} violates the schema: {violation:?}");
        }
        let seen = match &op.body {
            OpBody::Put { fields } | OpBody::Update { fields } => {
                fields.values().flat_map(|write| &write.seen).collect()
            }
            OpBody::Resolve { write, .. } => write.seen.iter().collect(),
            OpBody::Increment { .. } | OpBody::Delete => Vec::new(),
        };
        for id in seen {
            let seen_op = ops.iter().find(|candidate| candidate.id == *id);
            let seen_op = seen_op.expect("a seen id names a known op, which was generated earlier");
            assert!(seen_op.stamp < op.stamp, "{} saw {} but is not newer", op.id, seen_op.id);
        }
    }
}
