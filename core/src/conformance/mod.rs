//! One conformance suite for every [`Store`]: what the state machines rely on a store to do,
//! written once and run against [`MemoryStore`](crate::MemoryStore) here and against each real
//! store in its own crate, so a new store is held to exactly the contract the core was tested
//! on.
//!
//! A store under test is given by a [`StoreUnderTest`], which can make a new empty store and
//! reopen one the way a restarted process would.
//! [`store_conformance_tests!`](crate::store_conformance_tests) expands into one `#[test]` per
//! check:
//!
//! ```ignore
//! driftsync_core::store_conformance_tests!(MyStoreUnderTest::new());
//! ```
//!
//! The expected image after any batches is [`Stored::apply`], the model the state machines
//! were built against: a store conforms when loading it, before and after a reopen, gives the
//! model's image.

mod sample;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ids::{LogPos, Seq};
use crate::merge::RecordState;
use crate::store::{Mutation, Store, Stored};
use sample::{
    audited, field, key, log_entry, meta_client, meta_server, op, quarantined, random_mutation,
    stamp,
};

/// A store kind under test: makes new stores and reopens them.
pub trait StoreUnderTest {
    type Store: Store;
    /// A new, empty store.
    fn create(&mut self) -> Self::Store;
    /// The same store as a restarted process finds it: for a file-backed store, closed and
    /// opened again from its file.
    fn reopen(&mut self, store: Self::Store) -> Self::Store;
}

/// Expands into one `#[test]` per conformance check, each named for the behaviour it checks,
/// against the [`StoreUnderTest`] that `$make` evaluates to (once per test).
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!(@each $make;
            a_new_store_loads_empty,
            every_kind_of_row_survives_a_reopen,
            a_field_change_leaves_the_other_fields_of_its_record_alone,
            a_whole_record_replaces_every_field_it_had,
            a_removed_record_takes_its_fields_with_it,
            outbox_and_log_ranges_are_cut_exactly_at_their_bound,
            quarantine_keeps_every_entry_in_order,
            the_last_write_to_a_row_within_one_batch_wins,
            an_empty_batch_changes_nothing,
            random_batches_load_as_the_model_applies_them,
            the_audit_trail_answers_by_record_and_forgets_only_past_its_retention,
        );
    };
    (@each $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let mut under_test = $make;
                $crate::conformance::$check(&mut under_test);
            }
        )*
    };
}

/// Commits `batches` one by one, checking after each, and after a reopen at the end, that
/// the store loads exactly as the model applies them. Returns the reopened store.
fn commit_all<T: StoreUnderTest>(
    under_test: &mut T,
    mut store: T::Store,
    batches: Vec<Vec<Mutation>>,
) -> (T::Store, Stored) {
    let mut model = load(&store);
    for (index, batch) in batches.into_iter().enumerate() {
        model.apply(batch.clone());
        store.commit(batch).unwrap_or_else(|error| panic!("batch {index} failed: {error}"));
        assert_eq!(load(&store), model, "after batch {index}, the store differs from the model");
    }
    let store = under_test.reopen(store);
    assert_eq!(load(&store), model, "after a reopen, the store differs from the model");
    (store, model)
}

fn load<S: Store>(store: &S) -> Stored {
    store.load().unwrap_or_else(|error| panic!("load failed: {error}"))
}

pub fn a_new_store_loads_empty<T: StoreUnderTest>(under_test: &mut T) {
    let store = under_test.create();
    assert_eq!(load(&store), Stored::default());
    let store = under_test.reopen(store);
    assert_eq!(load(&store), Stored::default());
}

pub fn every_kind_of_row_survives_a_reopen<T: StoreUnderTest>(under_test: &mut T) {
    let record = RecordState {
        created: Some(stamp(1)),
        deleted: None,
        fields: [("title".to_owned(), field(1)), ("count".to_owned(), field(2))].into(),
    };
    let batch = vec![
        Mutation::Record { key: key(1), state: Some(record) },
        Mutation::Fields {
            key: key(2),
            created: Some(stamp(2)),
            deleted: Some(stamp(3)),
            fields: vec![("body".to_owned(), Some(field(3)))],
        },
        Mutation::OutboxPut(op(1)),
        Mutation::LogAppend { pos: LogPos(1), entry: log_entry(2) },
        Mutation::Quarantine(quarantined(3)),
        Mutation::ClientMeta(meta_client(4)),
        Mutation::ServerMeta(meta_server(5)),
        sample::registration(7),
        Mutation::RecreatedOver { key: key(3), forgotten_through: Some(stamp(4)) },
        Mutation::Forgotten { bucket: 9, through: stamp(5) },
    ];
    let store = under_test.create();
    let (_, model) = commit_all(under_test, store, vec![batch]);
    assert_eq!(model.records.len(), 2);
    assert_eq!(model.registrations.len(), 1);
}

pub fn a_field_change_leaves_the_other_fields_of_its_record_alone<T: StoreUnderTest>(
    under_test: &mut T,
) {
    let both = [("a".to_owned(), field(1)), ("b".to_owned(), field(2))].into();
    let first = Mutation::Record {
        key: key(1),
        state: Some(RecordState { created: Some(stamp(1)), deleted: None, fields: both }),
    };
    let change_a = Mutation::Fields {
        key: key(1),
        created: Some(stamp(1)),
        deleted: Some(stamp(2)),
        fields: vec![("a".to_owned(), Some(field(3)))],
    };
    let drop_b = Mutation::Fields {
        key: key(1),
        created: Some(stamp(3)),
        deleted: Some(stamp(2)),
        fields: vec![("b".to_owned(), None), ("c".to_owned(), Some(field(4)))],
    };
    let store = under_test.create();
    let (_, model) = commit_all(under_test, store, vec![vec![first], vec![change_a], vec![drop_b]]);
    let record = &model.records[&key(1)];
    assert_eq!(record.fields.keys().collect::<Vec<_>>(), ["a", "c"]);
    assert_eq!(record.deleted, Some(stamp(2)));
}

pub fn a_whole_record_replaces_every_field_it_had<T: StoreUnderTest>(under_test: &mut T) {
    let with_fields = |names: &[&str]| RecordState {
        created: Some(stamp(1)),
        deleted: None,
        fields: names.iter().map(|name| ((*name).to_owned(), field(1))).collect(),
    };
    let batches = vec![
        vec![Mutation::Record { key: key(1), state: Some(with_fields(&["a", "b", "c"])) }],
        vec![Mutation::Record { key: key(1), state: Some(with_fields(&["d"])) }],
    ];
    let store = under_test.create();
    let (_, model) = commit_all(under_test, store, batches);
    assert_eq!(model.records[&key(1)].fields.keys().collect::<Vec<_>>(), ["d"]);
}

pub fn a_removed_record_takes_its_fields_with_it<T: StoreUnderTest>(under_test: &mut T) {
    let batches = vec![
        vec![Mutation::Fields {
            key: key(1),
            created: Some(stamp(1)),
            deleted: None,
            fields: vec![("a".to_owned(), Some(field(1)))],
        }],
        vec![Mutation::Record { key: key(1), state: None }],
        // Fields of a record written after its removal start from an empty record.
        vec![Mutation::Fields {
            key: key(1),
            created: None,
            deleted: Some(stamp(2)),
            fields: vec![("b".to_owned(), Some(field(2)))],
        }],
    ];
    let store = under_test.create();
    let (_, model) = commit_all(under_test, store, batches);
    assert_eq!(model.records[&key(1)].fields.keys().collect::<Vec<_>>(), ["b"]);
}

pub fn outbox_and_log_ranges_are_cut_exactly_at_their_bound<T: StoreUnderTest>(under_test: &mut T) {
    let fill: Vec<Mutation> = (1..=6)
        .flat_map(|n| {
            [
                Mutation::OutboxPut(op(n)),
                Mutation::LogAppend { pos: LogPos(n), entry: log_entry(n) },
            ]
        })
        .collect();
    let cut = vec![Mutation::OutboxRemoveThrough(Seq(3)), Mutation::LogCompactThrough(LogPos(4))];
    let store = under_test.create();
    let (_, model) = commit_all(under_test, store, vec![fill, cut]);
    assert_eq!(model.outbox.keys().map(|seq| seq.0).collect::<Vec<_>>(), [4, 5, 6]);
    assert_eq!(model.log.keys().map(|pos| pos.0).collect::<Vec<_>>(), [5, 6]);
}

pub fn quarantine_keeps_every_entry_in_order<T: StoreUnderTest>(under_test: &mut T) {
    // The same op may be quarantined twice (once per attempt): both entries are kept.
    let batches = vec![
        vec![Mutation::Quarantine(quarantined(5)), Mutation::Quarantine(quarantined(2))],
        vec![Mutation::Quarantine(quarantined(5))],
    ];
    let store = under_test.create();
    let (_, model) = commit_all(under_test, store, batches);
    assert_eq!(model.quarantine.len(), 3);
}

pub fn the_last_write_to_a_row_within_one_batch_wins<T: StoreUnderTest>(under_test: &mut T) {
    let batch = vec![
        Mutation::ClientMeta(meta_client(1)),
        Mutation::ClientMeta(meta_client(2)),
        Mutation::Record { key: key(1), state: Some(RecordState::default()) },
        Mutation::Record { key: key(1), state: None },
        Mutation::RecreatedOver { key: key(2), forgotten_through: Some(stamp(1)) },
        Mutation::RecreatedOver { key: key(2), forgotten_through: None },
        Mutation::Forgotten { bucket: 1, through: stamp(1) },
        Mutation::Forgotten { bucket: 1, through: stamp(2) },
    ];
    let store = under_test.create();
    let (_, model) = commit_all(under_test, store, vec![batch]);
    assert_eq!(model.client_meta, Some(meta_client(2)));
    assert!(model.records.is_empty() && model.recreated_over.is_empty());
}

pub fn an_empty_batch_changes_nothing<T: StoreUnderTest>(under_test: &mut T) {
    let store = under_test.create();
    let batches = vec![vec![Mutation::OutboxPut(op(1))], Vec::new()];
    let (_, model) = commit_all(under_test, store, batches);
    assert_eq!(model.outbox.len(), 1);
}

pub fn random_batches_load_as_the_model_applies_them<T: StoreUnderTest>(under_test: &mut T) {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let mut store = under_test.create();
    for round in 0..4 {
        let batches = (0..40)
            .map(|_| {
                let len = rng.random_range(0..12);
                (0..len).map(|_| random_mutation(&mut rng)).collect()
            })
            .collect();
        let (reopened, model) = commit_all(under_test, store, batches);
        assert!(round == 0 || !model.records.is_empty(), "the random batches wrote no record");
        store = reopened;
    }
}

/// The audit trail is kept apart from the image a node loads: it answers one record's entries
/// in log order, across a reopen, and a prune forgets exactly the entries applied before it.
pub fn the_audit_trail_answers_by_record_and_forgets_only_past_its_retention<T: StoreUnderTest>(
    under_test: &mut T,
) {
    // Entries of three records, one in three: entries 1, 4, 7 and 10 are one record's.
    let entries: Vec<_> = (1..=10)
        .map(|n| {
            let mut entry = audited(n);
            entry.op.key = key(n % 3);
            entry
        })
        .collect();
    let record = entries[0].op.key.clone();
    let of_record = |from: u64| -> Vec<_> {
        entries.iter().filter(|e| e.op.key == record && e.pos.0 >= from).cloned().collect()
    };
    let trail = |store: &T::Store| {
        store.audit_of(&record).unwrap_or_else(|error| panic!("audit_of failed: {error}"))
    };
    let mut store = under_test.create();
    let batch: Vec<_> = entries.iter().rev().cloned().map(Mutation::Audit).collect();
    store.commit(batch).unwrap_or_else(|error| panic!("commit failed: {error}"));
    assert_eq!(trail(&store), of_record(0), "one record's entries, in log order");
    assert_eq!(load(&store), Stored::default(), "the trail is not part of the loaded image");
    let mut store = under_test.reopen(store);
    assert_eq!(trail(&store), of_record(0), "after a reopen");
    // Entry n was applied at n seconds: a prune before 4 s forgets entries 1 to 3 only.
    let prune = vec![Mutation::AuditPruneBefore(crate::time::WallTime(4_000))];
    store.commit(prune).unwrap_or_else(|error| panic!("commit failed: {error}"));
    let store = under_test.reopen(store);
    assert_eq!(trail(&store), of_record(4));
    assert!(under_test.create().audit_of(&record).is_ok_and(|t| t.is_empty()));
}
