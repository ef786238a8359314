//! The SQLite store passes the store conformance suite that every store must pass, reopened
//! from its file each time the suite asks for a restart.

use driftsync_core::conformance::StoreUnderTest;
use driftsync_sqlite::{Durability, SqliteStore};
use tempfile::TempDir;

/// Stores in files of one temporary folder, removed with it.
struct Files {
    folder: TempDir,
    made: u32,
}

impl Files {
    fn new() -> Files {
        Files { folder: tempfile::tempdir().expect("a temporary folder"), made: 0 }
    }
}

impl StoreUnderTest for Files {
    type Store = SqliteStore;

    fn create(&mut self) -> SqliteStore {
        self.made += 1;
        let path = self.folder.path().join(format!("store-{}.db", self.made));
        SqliteStore::open(path, Durability::Full).expect("a new store opens")
    }

    fn reopen(&mut self, store: SqliteStore) -> SqliteStore {
        let path = store.path().to_path_buf();
        drop(store);
        SqliteStore::open(path, Durability::Normal).expect("the store opens again")
    }
}

driftsync_core::store_conformance_tests!(Files::new());
