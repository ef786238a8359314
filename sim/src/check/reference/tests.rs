//! Each rule of the reference model, shown on the smallest op set that needs it.

use driftsync_core::{
    FieldView, FieldWrite, Hlc, Op, OpBody, OpId, RecordKey, RecordView, ReplicaId, Seq, Stamp,
    Value,
};

use super::agrees_with_core::{COLLECTION, COUNT, HIGH, LOW, TAGS, TITLE, schema};
use super::content;

#[test]
fn last_writer_wins_shows_the_newest_write_in_any_order() {
    let older = by(1, 1, update(TITLE, text("older")));
    let newer = by(2, 2, update(TITLE, text("newer")));
    let expected = Some((false, fields(&[(TITLE, one(text("newer")))])));
    assert_eq!(shows(&[older.clone(), newer.clone()]), expected);
    assert_eq!(shows(&[newer, older]), expected);
}

#[test]
fn a_delete_hides_every_older_write_of_its_record() {
    let ops = [
        by(1, 1, put(&[(TITLE, text("old")), (HIGH, int(5))])),
        by(2, 2, OpBody::Delete),
        by(1, 3, update(LOW, int(3))),
    ];
    assert_eq!(shows(&ops), Some((false, fields(&[(LOW, one(int(3)))]))));
}

#[test]
fn a_record_exists_when_its_newest_put_is_newer_than_its_newest_delete() {
    let put_then_delete = [by(1, 1, put(&[(TITLE, text("a"))])), by(2, 2, OpBody::Delete)];
    assert_eq!(shows(&put_then_delete), None);
    let put_again = by(1, 3, put(&[(TITLE, text("b"))]));
    let recreated = [put_then_delete[0].clone(), put_then_delete[1].clone(), put_again];
    assert_eq!(shows(&recreated), Some((true, fields(&[(TITLE, one(text("b")))]))));
}

#[test]
fn an_update_alone_never_makes_a_record_exist() {
    let ops = [by(1, 1, update(TITLE, text("draft")))];
    assert_eq!(shows(&ops), Some((false, fields(&[(TITLE, one(text("draft")))]))));
}

#[test]
fn a_record_with_nothing_but_a_tombstone_is_left_out() {
    assert_eq!(shows(&[by(1, 1, OpBody::Delete)]), None);
    assert_eq!(shows(&[by(1, 1, increment(3)), by(2, 2, OpBody::Delete)]), None);
}

#[test]
fn a_counter_sums_the_increments_newer_than_the_latest_delete() {
    let ops = [
        by(1, 1, increment(5)),
        by(2, 2, OpBody::Delete),
        by(1, 3, increment(2)),
        by(2, 4, increment(-1)),
    ];
    assert_eq!(shows(&ops), Some((false, fields(&[(COUNT, one(int(1)))]))));
}

#[test]
fn a_counter_sum_wraps_around() {
    let ops = [by(1, 1, increment(i64::MAX)), by(2, 2, increment(1))];
    assert_eq!(shows(&ops), Some((false, fields(&[(COUNT, one(int(i64::MIN)))]))));
}

#[test]
fn an_op_delivered_twice_counts_once() {
    let twice = by(1, 1, increment(4));
    assert_eq!(shows(&[twice.clone(), twice]), Some((false, fields(&[(COUNT, one(int(4)))]))));
}

#[test]
fn max_shows_the_greatest_value_whoever_wrote_last() {
    let ops = [by(1, 1, update(HIGH, int(9))), by(2, 2, update(HIGH, int(4)))];
    assert_eq!(shows(&ops), Some((false, fields(&[(HIGH, one(int(9)))]))));
}

#[test]
fn a_smaller_value_newer_than_a_delete_outlives_the_greatest() {
    let ops =
        [by(1, 1, update(HIGH, int(9))), by(2, 2, OpBody::Delete), by(1, 3, update(HIGH, int(4)))];
    assert_eq!(shows(&ops), Some((false, fields(&[(HIGH, one(int(4)))]))));
}

#[test]
fn min_shows_the_smallest_value_whoever_wrote_last() {
    let ops = [by(1, 1, update(LOW, int(-2))), by(2, 2, update(LOW, int(7)))];
    assert_eq!(shows(&ops), Some((false, fields(&[(LOW, one(int(-2)))]))));
}

#[test]
fn concurrent_multi_values_are_all_kept_in_stamp_order() {
    let ops = [by(2, 2, update(TAGS, text("blue"))), by(1, 1, update(TAGS, text("red")))];
    let both = FieldView::Many(vec![text("red"), text("blue")]);
    assert_eq!(shows(&ops), Some((false, fields(&[(TAGS, both)]))));
}

#[test]
fn a_multi_value_write_supersedes_exactly_what_its_writer_saw() {
    let red = by(1, 1, update(TAGS, text("red")));
    let blue = by(2, 2, update(TAGS, text("blue")));
    let green = by(1, 3, update_seeing(TAGS, text("green"), &[&red]));
    let kept = FieldView::Many(vec![text("blue"), text("green")]);
    assert_eq!(shows(&[red, blue, green]), Some((false, fields(&[(TAGS, kept)]))));
}

#[test]
fn a_resolve_leaves_exactly_the_chosen_value() {
    let created = by(1, 1, put(&[(TITLE, text("t"))]));
    let red = by(1, 2, update(TAGS, text("red")));
    let blue = by(2, 3, update(TAGS, text("blue")));
    let chosen = seeing(text("purple"), &[&red, &blue]);
    let resolve = by(3, 4, OpBody::Resolve { field: TAGS.into(), write: chosen });
    let expected = fields(&[(TITLE, one(text("t"))), (TAGS, one(text("purple")))]);
    assert_eq!(shows(&[created, red, blue, resolve]), Some((true, expected)));
}

#[test]
fn a_value_superseded_by_a_write_a_delete_hides_stays_hidden() {
    let red = by(1, 1, update(TAGS, text("red")));
    let blue = by(1, 2, update_seeing(TAGS, text("blue"), &[&red]));
    let ops = [red, blue, by(2, 3, OpBody::Delete), by(2, 4, update(TAGS, text("green")))];
    assert_eq!(shows(&ops), Some((false, fields(&[(TAGS, one(text("green")))]))));
}

#[test]
fn an_undeclared_field_merges_as_last_writer_wins() {
    let ops = [by(1, 1, update("extra", int(1))), by(2, 2, update("extra", int(0)))];
    assert_eq!(shows(&ops), Some((false, fields(&[("extra", one(int(0)))]))));
}

// ---- helpers ----

fn key() -> RecordKey {
    RecordKey::new(COLLECTION, "r1")
}

/// What the model shows of the one record the ops write.
fn shows(ops: &[Op]) -> Option<(bool, RecordView)> {
    content(ops, &schema()).get(&key()).cloned()
}

/// The op `replica` writes at `wall_ms`; a test's wall readings are unique per replica, so
/// they serve as seqs too.
fn by(replica: u64, wall_ms: u64, body: OpBody) -> Op {
    let stamp = Stamp::new(Hlc { wall_ms, logical: 0 }, ReplicaId(replica));
    let id = OpId { replica: ReplicaId(replica), seq: Seq(wall_ms) };
    Op { id, stamp, key: key(), body, reason: None }
}

fn put(writes: &[(&str, Value)]) -> OpBody {
    let fields =
        writes.iter().map(|(name, value)| (name.to_string(), FieldWrite::new(value.clone())));
    OpBody::Put { fields: fields.collect() }
}

fn update(name: &str, value: Value) -> OpBody {
    update_seeing(name, value, &[])
}

fn update_seeing(name: &str, value: Value, seen: &[&Op]) -> OpBody {
    OpBody::Update { fields: [(name.to_owned(), seeing(value, seen))].into() }
}

fn seeing(value: Value, seen: &[&Op]) -> FieldWrite {
    FieldWrite { value, seen: seen.iter().map(|op| op.id).collect() }
}

fn increment(delta: i64) -> OpBody {
    OpBody::Increment { field: COUNT.to_owned(), delta }
}

fn fields(views: &[(&str, FieldView)]) -> RecordView {
    views.iter().map(|(name, view)| (name.to_string(), view.clone())).collect()
}

fn one(value: Value) -> FieldView {
    FieldView::One(value)
}

fn text(s: &str) -> Value {
    Value::Str(s.to_owned())
}

fn int(n: i64) -> Value {
    Value::I64(n)
}
