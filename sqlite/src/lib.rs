//! driftsync-sqlite: a durable [`Store`](driftsync_core::Store) on SQLite.
//!
//! One [`Store::commit`](driftsync_core::Store::commit) is one SQLite transaction, durable
//! when it returns: the file runs in WAL mode with `synchronous = FULL` unless the app chooses
//! [`Durability::Normal`]. Each [`Mutation`](driftsync_core::Mutation) becomes row upserts and
//! deletes in tables shaped like the mutations (a record's head row and one row per field), so
//! a commit writes what changed, never the whole image.
//!
//! The file names what it is: SQLite's `application_id` marks it as driftsync's and its
//! `user_version` holds the format version. [`SqliteStore::open`] refuses, with an
//! [`OpenError`] that names the file, a file that is not a database, a database of another
//! program, a format from a newer build, a damaged file and a file another process holds
//! open, and writes nothing to any of them.
//!
//! ```
//! use driftsync_core::Store;
//! use driftsync_sqlite::{Durability, SqliteStore};
//!
//! let folder = tempfile::tempdir()?;
//! let store = SqliteStore::open(folder.path().join("replica.db"), Durability::Full)?;
//! assert!(store.load()?.records.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cipher;
mod commit;
mod load;
mod open;
mod rows;
mod upgrade;
mod verify;

pub use cipher::StoreKey;
pub use open::{Durability, FORMAT_VERSION, OpenError, SqliteStore};
pub use verify::{ChainReport, VerifyError};
