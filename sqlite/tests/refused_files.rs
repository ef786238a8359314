//! A file the store cannot trust is refused with an error that names it, and is left byte for
//! byte as it was.

use std::fs;
use std::path::{Path, PathBuf};

use driftsync_core::{Mutation, RecordKey, RecordState, Store};
use driftsync_sqlite::{Durability, FORMAT_VERSION, OpenError, SqliteStore};
use tempfile::TempDir;

fn folder() -> TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// Opens `path`, expecting a refusal, and checks that the file did not change.
fn refuse(path: &Path) -> OpenError {
    let before = fs::read(path).expect("the file reads");
    let error = SqliteStore::open(path, Durability::Full).expect_err("the file is refused");
    assert_eq!(fs::read(path).expect("the file reads"), before, "a refused file was written");
    assert!(error.to_string().contains(&path.display().to_string()), "{error} names no file");
    error
}

/// A store holding enough records to span many pages, closed.
fn filled_store(folder: &TempDir) -> PathBuf {
    let path = folder.path().join("filled.db");
    let mut store = SqliteStore::open(&path, Durability::Full).expect("a new store opens");
    let batch = (0..2_000)
        .map(|n| Mutation::Record {
            key: RecordKey::new("notes", format!("note-{n:05}")),
            state: Some(RecordState::default()),
        })
        .collect();
    store.commit(batch).expect("the commit succeeds");
    path
}

#[test]
fn a_text_file_is_refused_as_not_a_database() {
    let folder = folder();
    let path = folder.path().join("notes.txt");
    fs::write(&path, "shopping list: milk, eggs, and a sync engine that never loses data\n")
        .expect("the file writes");
    assert!(matches!(refuse(&path), OpenError::NotADatabase { .. }));
}

#[test]
fn another_programs_database_is_refused_as_foreign() {
    let folder = folder();
    let path = folder.path().join("other.db");
    let other = rusqlite::Connection::open(&path).expect("sqlite opens");
    other.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY);").expect("a table");
    drop(other);
    assert!(matches!(refuse(&path), OpenError::Foreign { .. }));
}

#[test]
fn a_store_from_a_newer_build_is_refused_and_names_both_formats() {
    let folder = folder();
    let path = filled_store(&folder);
    let newer = rusqlite::Connection::open(&path).expect("sqlite opens");
    newer.pragma_update(None, "user_version", FORMAT_VERSION + 1).expect("the format is raised");
    drop(newer);
    let error = refuse(&path);
    assert!(matches!(error, OpenError::Newer { format, .. } if format == FORMAT_VERSION + 1));
    assert!(error.to_string().contains("newer than this build reads"), "{error}");
}

#[test]
fn a_truncated_store_is_refused_as_damaged() {
    let folder = folder();
    let path = filled_store(&folder);
    let bytes = fs::read(&path).expect("the store reads");
    assert!(bytes.len() > 16 * 4096, "the store spans many pages");
    fs::write(&path, &bytes[..bytes.len() / 2]).expect("the store is truncated");
    assert!(matches!(refuse(&path), OpenError::Corrupt { .. }));
}

#[test]
fn a_store_with_overwritten_pages_is_refused_as_damaged() {
    let folder = folder();
    let path = filled_store(&folder);
    let mut bytes = fs::read(&path).expect("the store reads");
    let middle = bytes.len() / 2;
    bytes[middle..middle + 4096].fill(0xa5);
    fs::write(&path, &bytes).expect("the store is damaged");
    assert!(matches!(refuse(&path), OpenError::Corrupt { .. }));
}

#[test]
fn a_store_open_in_another_process_is_refused_as_in_use() {
    let folder = folder();
    let path = folder.path().join("shared.db");
    let _first = SqliteStore::open(&path, Durability::Full).expect("the first open succeeds");
    let error = SqliteStore::open(&path, Durability::Full).expect_err("the second is refused");
    assert!(matches!(error, OpenError::InUse { .. }), "{error}");
}

#[test]
fn a_store_reopens_with_what_it_held_and_an_empty_file_opens_as_a_new_store() {
    let folder = folder();
    let path = filled_store(&folder);
    let store = SqliteStore::open(&path, Durability::Normal).expect("the store reopens");
    assert_eq!(store.load().expect("the store loads").records.len(), 2_000);
    // An empty file holds nothing to lose: a crash while a store was first created leaves one.
    let empty = folder.path().join("empty.db");
    fs::write(&empty, b"").expect("the file writes");
    let store = SqliteStore::open(&empty, Durability::Full).expect("an empty file opens");
    assert!(store.load().expect("the store loads").records.is_empty());
}
