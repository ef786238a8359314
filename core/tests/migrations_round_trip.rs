//! Any lineage of reversible steps migrates ops and records from the base version to the latest
//! and back without changing them, and what arrives in the latest version is valid there.
//!
//! The base schema, the steps and the ops are all drawn from one list of random numbers, read
//! in order, so proptest shrinks a failure toward small numbers: fewer fields, fewer steps,
//! simpler ops. A step is kept only if the lineage accepts it and it stays reversible, which is
//! what makes every generated lineage one a server could serve from its base version up.

use std::collections::BTreeMap;

use driftsync_core::FieldState;
use driftsync_core::{
    CollectionSchema, FieldSchema, FieldType, FieldWrite, FieldWrites, Hlc, MergePolicy, Op,
    OpBody, OpId, RecordKey, RecordState, ReplicaId, Schema, Seq, Stamp, Value,
};
use driftsync_core::{Converter, SchemaLineage, Step};
use proptest::prelude::*;

const COLLECTIONS: [&str; 2] = ["notes", "tasks"];
/// A small pool, so renames and additions collide with existing names and get refused.
const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
const FIELDS_PER_COLLECTION_MAX: usize = 4;
const VERSIONS_MAX: usize = 5;
const STEPS_PER_VERSION_MAX: usize = 3;
const OPS_MAX: usize = 8;
/// Integers a conversion to f64 carries: `Converter::I64ToF64` refuses anything larger.
const INTEGER_MAGNITUDE_MAX: i64 = 1 << 53;
const CHOICES: usize = 256;

/// Up converters that accept every value the test draws, with the converter that undoes each
/// exactly. A fallible up converter (`StrToI64`) would refuse ops valid in the base.
const REVERSIBLE: [(Converter, Converter); 3] = [
    (Converter::I64ToStr, Converter::StrToI64),
    (Converter::I64ToF64, Converter::F64ToI64),
    (Converter::BoolToI64, Converter::I64ToBool),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ops_valid_in_the_base_version_survive_a_trip_to_the_latest_and_back(
        choices in prop::collection::vec(any::<u32>(), CHOICES)
    ) {
        let mut draw = Draw { choices: &choices, at: 0 };
        let lineage = random_lineage(&mut draw);
        let (base, latest) = (lineage.first(), lineage.latest());
        for op in random_ops(&mut draw, lineage.schema(base).expect("the base is in the lineage")) {
            let up = lineage.migrate_op(&op, base, latest).map_err(|e| {
                TestCaseError::fail(format!("{e} in lineage {}", describe(&lineage)))
            })?;
            prop_assert!(up.hidden.is_empty(), "going up hid {:?}", up.hidden);
            let valid = lineage.latest_schema().validate(&up.op);
            prop_assert!(valid.is_ok(), "{:?}\n{:?}\nin {}", valid, up.op, describe(&lineage));
            let down = lineage.migrate_op(&up.op, latest, base).expect("down never fails");
            prop_assert!(down.hidden.is_empty(), "coming down hid {:?}", down.hidden);
            prop_assert_eq!(&*down.op, &op, "in {}", describe(&lineage));
        }
    }

    #[test]
    fn records_built_in_the_base_version_survive_a_trip_to_the_latest_and_back(
        choices in prop::collection::vec(any::<u32>(), CHOICES)
    ) {
        let mut draw = Draw { choices: &choices, at: 0 };
        let lineage = random_lineage(&mut draw);
        let (first, latest) = (lineage.first(), lineage.latest());
        let base = lineage.schema(first).expect("the base is in the lineage").clone();
        let mut records: BTreeMap<RecordKey, RecordState> = BTreeMap::new();
        for op in random_ops(&mut draw, &base) {
            records.entry(op.key.clone()).or_default().apply(&op, &base);
        }
        for (key, state) in &records {
            let up = lineage.migrate_record(key, state, first, latest);
            prop_assert!(up.hidden.is_empty(), "going up hid {:?}", up.hidden);
            for (name, field) in &up.state.fields {
                let declared = lineage.latest_schema().field(&key.collection, name);
                prop_assert!(declared.is_some(), "{key}.{name} is undeclared in the latest");
                if let FieldState::Register(Some(entry)) = field {
                    let ty = declared.map(|d| d.ty);
                    let found = entry.value.field_type();
                    prop_assert!(found.is_none() || found == ty, "{key}.{name}: {found:?}");
                }
            }
            let down = lineage.migrate_record(key, &up.state, latest, first);
            prop_assert!(down.hidden.is_empty(), "coming down hid {:?}", down.hidden);
            prop_assert_eq!(&down.state, state, "in {}", describe(&lineage));
        }
    }
}

/// Reads the random numbers in order; past the end every draw is zero.
struct Draw<'a> {
    choices: &'a [u32],
    at: usize,
}

impl Draw<'_> {
    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "a draw needs at least one outcome");
        let choice = self.choices.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        choice as usize % n
    }

    fn chance(&mut self) -> bool {
        self.below(2) == 1
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> Option<&'t T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }

    fn value(&mut self, ty: FieldType) -> Value {
        match ty {
            FieldType::Bool => Value::Bool(self.chance()),
            FieldType::I64 => {
                let magnitude = self.below(4);
                let n = match magnitude {
                    0 => self.below(3) as i64,
                    1 => self.below(1_000) as i64 - 500,
                    2 => INTEGER_MAGNITUDE_MAX - self.below(2) as i64,
                    _ => -INTEGER_MAGNITUDE_MAX + self.below(2) as i64,
                };
                Value::I64(n)
            }
            FieldType::F64 => Value::F64(self.below(2_000) as f64 / 8.0 - 100.0),
            FieldType::Str => Value::Str(format!("s{}", self.below(50))),
            FieldType::Bytes => Value::Bytes(vec![self.below(256) as u8; self.below(3)]),
        }
    }
}

fn random_lineage(draw: &mut Draw) -> SchemaLineage {
    let mut lineage = SchemaLineage::new(random_base(draw));
    for _ in 0..draw.below(VERSIONS_MAX + 1) {
        let mut steps = Vec::new();
        for _ in 0..=draw.below(STEPS_PER_VERSION_MAX) {
            // Steps of one version see the schema as the earlier steps of it left it.
            let current = lineage.clone().evolve(steps.clone()).expect("only valid steps kept");
            let Some(step) = random_step(draw, current.latest_schema()) else { continue };
            steps.push(step);
            let reversible = lineage
                .clone()
                .evolve(steps.clone())
                .is_ok_and(|next| next.one_way_between(next.first(), next.latest()).is_none());
            if !reversible {
                steps.pop();
            }
        }
        lineage = lineage.evolve(steps).expect("only valid steps kept");
    }
    lineage
}

fn random_base(draw: &mut Draw) -> Schema {
    let mut schema = Schema::new(1);
    for collection in COLLECTIONS {
        let mut fields = CollectionSchema::default();
        for _ in 0..=draw.below(FIELDS_PER_COLLECTION_MAX) {
            let name = *draw.pick(&NAMES).expect("names exist");
            fields = fields.field(name, random_field(draw, false));
        }
        schema = schema.collection(collection, fields);
    }
    schema
}

/// A declaration; one for an added field always carries a default.
fn random_field(draw: &mut Draw, with_default: bool) -> FieldSchema {
    let (ty, policy) = *draw
        .pick(&[
            (FieldType::Str, MergePolicy::LastWriterWins),
            (FieldType::I64, MergePolicy::LastWriterWins),
            (FieldType::Bool, MergePolicy::LastWriterWins),
            (FieldType::F64, MergePolicy::LastWriterWins),
            (FieldType::I64, MergePolicy::Counter),
            (FieldType::I64, MergePolicy::Max),
            (FieldType::I64, MergePolicy::Min),
            (FieldType::Str, MergePolicy::MultiValue),
        ])
        .expect("choices exist");
    let mut field = FieldSchema::new(ty, policy);
    if policy != MergePolicy::Counter && draw.chance() {
        field = field.required();
    }
    if with_default || draw.chance() {
        field = field.with_default(draw.value(ty));
    }
    field
}

fn random_step(draw: &mut Draw, schema: &Schema) -> Option<Step> {
    let collection = (*draw.pick(&COLLECTIONS).expect("collections exist")).to_owned();
    let visible: Vec<(String, FieldSchema)> =
        schema.visible_fields(&collection).map(|(n, f)| (n.clone(), f.clone())).collect();
    let name = |draw: &mut Draw| (*draw.pick(&NAMES).expect("names exist")).to_owned();
    let step = match draw.below(4) {
        0 => {
            let field = name(draw);
            Step::AddField { collection, field, schema: random_field(draw, true) }
        }
        1 => {
            let from = draw.pick(&visible)?.0.clone();
            let to = name(draw);
            Step::RenameField { collection, from, to }
        }
        2 => Step::RemoveField { collection, field: draw.pick(&visible)?.0.clone() },
        _ => {
            let field = draw.pick(&visible)?.0.clone();
            let (up, down) = *draw.pick(&REVERSIBLE).expect("converters exist");
            Step::ChangeType { collection, field, up, down: Some(down) }
        }
    };
    Some(step)
}

fn random_ops(draw: &mut Draw, base: &Schema) -> Vec<Op> {
    let replica = ReplicaId(1);
    let mut ops = Vec::new();
    for seq in 1..=draw.below(OPS_MAX + 1) as u64 {
        let collection = *draw.pick(&COLLECTIONS).expect("collections exist");
        let declared = &base.collections[collection].fields;
        let writable: Vec<(&String, &FieldSchema)> =
            declared.iter().filter(|(_, f)| f.policy != MergePolicy::Counter).collect();
        let counters: Vec<&String> = declared
            .iter()
            .filter(|(_, f)| f.policy == MergePolicy::Counter)
            .map(|(n, _)| n)
            .collect();
        // A counter or an extreme has nothing to resolve: the schema refuses it.
        let resolvable: Vec<&(&String, &FieldSchema)> = writable
            .iter()
            .filter(|(_, f)| !matches!(f.policy, MergePolicy::Max | MergePolicy::Min))
            .collect();
        let value_of = |draw: &mut Draw, field: &FieldSchema| {
            if !field.required && draw.below(5) == 0 { Value::Null } else { draw.value(field.ty) }
        };
        let body = match draw.below(5) {
            0 | 1 => {
                let mut fields = FieldWrites::new();
                for (name, field) in &writable {
                    let needed = field.required && field.default.is_none();
                    if needed || draw.chance() {
                        let value = value_of(draw, field);
                        fields.insert((*name).clone(), FieldWrite::new(value));
                    }
                }
                OpBody::Put { fields }
            }
            2 if !writable.is_empty() => {
                let (name, field) = *draw.pick(&writable).expect("not empty");
                let value = value_of(draw, field);
                OpBody::Update {
                    fields: FieldWrites::from([(name.clone(), FieldWrite::new(value))]),
                }
            }
            3 if !counters.is_empty() => {
                let field = (*draw.pick(&counters).expect("not empty")).clone();
                OpBody::Increment { field, delta: draw.below(10) as i64 - 5 }
            }
            4 if !resolvable.is_empty() => {
                let (name, field) = **draw.pick(&resolvable).expect("not empty");
                let write = FieldWrite::new(value_of(draw, field));
                OpBody::Resolve { field: name.clone(), write }
            }
            _ => OpBody::Delete,
        };
        let hlc = Hlc { wall_ms: 1_000 + seq, logical: 0 };
        let op = Op {
            id: OpId { replica, seq: Seq(seq) },
            stamp: Stamp::new(hlc, replica),
            key: RecordKey::new(collection, format!("r{}", draw.below(2))),
            body,
            reason: None,
        };
        base.validate(&op).expect("generated ops are valid in the base version");
        ops.push(op);
    }
    ops
}

fn describe(lineage: &SchemaLineage) -> String {
    let steps: Vec<String> = (lineage.first() + 1..=lineage.latest())
        .map(|v| {
            let steps: Vec<String> = lineage.steps_into(v).iter().map(Step::to_string).collect();
            format!("v{v}: [{}]", steps.join(", "))
        })
        .collect();
    format!(
        "{:?} then {}",
        lineage.schema(lineage.first()).map(|s| &s.collections),
        steps.join("; ")
    )
}
