//! Opening a store file: create it with its tables, or check that an existing file is one of
//! ours, in a format this build reads, undamaged and held by no other process, before
//! anything is written to it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::cipher::{Cipher, KEY_CHECK, StoreKey};

/// The format of the tables. Raised whenever a table or a row encoding changes; a build
/// refuses files of another format rather than misread them. Format 2 added the log's hash
/// chain (a `link` per entry, chain fields in the server's meta row); format 3 the audit
/// trail and an op's reason.
pub const FORMAT_VERSION: i64 = 3;

/// SQLite's `application_id` of a driftsync store: "dsyn" in ASCII.
const APPLICATION_ID: i32 = 0x6473_796e;

/// The tables, shaped like the core's mutations.
const TABLES: &str = "
    CREATE TABLE records (
        collection TEXT NOT NULL, record TEXT NOT NULL, created BLOB, deleted BLOB,
        PRIMARY KEY (collection, record)) WITHOUT ROWID;
    CREATE TABLE fields (
        collection TEXT NOT NULL, record TEXT NOT NULL, name TEXT NOT NULL, state BLOB NOT NULL,
        PRIMARY KEY (collection, record, name)) WITHOUT ROWID;
    CREATE TABLE outbox (seq INTEGER PRIMARY KEY, op BLOB NOT NULL);
    CREATE TABLE log (pos INTEGER PRIMARY KEY, op BLOB NOT NULL, link BLOB NOT NULL);
    CREATE TABLE quarantine (entry INTEGER PRIMARY KEY AUTOINCREMENT, op BLOB NOT NULL);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE registrations (client INTEGER PRIMARY KEY, registration BLOB NOT NULL);
    CREATE TABLE recreated_over (
        collection TEXT NOT NULL, record TEXT NOT NULL, stamp BLOB NOT NULL,
        PRIMARY KEY (collection, record)) WITHOUT ROWID;
    CREATE TABLE forgotten (bucket INTEGER PRIMARY KEY, stamp BLOB NOT NULL);
";

/// The audit trail: one row per applied op, clustered by record (what `audit` reads) and
/// indexed by time (what a prune deletes by).
pub(crate) const AUDIT_TABLE: &str = "
    CREATE TABLE audit (
        collection TEXT NOT NULL, record TEXT NOT NULL, pos INTEGER NOT NULL,
        at_ms INTEGER NOT NULL, entry BLOB NOT NULL,
        PRIMARY KEY (collection, record, pos)) WITHOUT ROWID;
    CREATE INDEX audit_by_time ON audit (at_ms);
";

/// How hard a commit works to survive a power loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: a commit that returned survives a crash of the process and of
    /// the machine. The default, and the only setting for a server.
    #[default]
    Full,
    /// `synchronous = NORMAL`: a commit that returned survives a crash of the process, but a
    /// power loss may take the last commits back (never part of one: the file stays whole).
    /// For a client that accepts redoing its last few writes for faster commits; a server
    /// must not use it, since it acknowledges writes to others. If the writes a power loss
    /// took back had already been acknowledged, the server knows seqs the file no longer
    /// does: the client then stops with `ReplicaIdInUse` rather than reuse them (it cannot
    /// tell this from another install on its id), keeping its file; the writes are safe on
    /// the server, and the install carries on under a new replica id.
    Normal,
}

/// A store file that cannot be opened. Every case names the file, and none has written to it.
#[derive(Debug)]
pub enum OpenError {
    /// The file is not an SQLite database.
    NotADatabase { path: PathBuf },
    /// The file is another program's SQLite database.
    Foreign { path: PathBuf, application_id: i32 },
    /// The file was written by a newer build, in a format this one cannot read.
    Newer { path: PathBuf, format: i64, supported: i64 },
    /// The file is encrypted and was opened without a key.
    KeyRequired { path: PathBuf },
    /// The file is encrypted under another key.
    WrongKey { path: PathBuf },
    /// A key was given for a file that is not encrypted (it is left as it is, not encrypted
    /// in place: a copy of its plain values could remain in the file's free pages).
    NotEncrypted { path: PathBuf },
    /// The file was written by an older build, in a format this one has no upgrade for.
    Older { path: PathBuf, format: i64, supported: i64 },
    /// The file is damaged (truncated, or pages overwritten).
    Corrupt { path: PathBuf, detail: String },
    /// Another process has the store open; two writers would interleave two nodes' state.
    InUse { path: PathBuf },
    /// SQLite failed for another reason (permissions, a full disk, …).
    Sqlite { path: PathBuf, source: rusqlite::Error },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::NotADatabase { path } => {
                write!(f, "{}: not a database; left as it is", path.display())
            }
            OpenError::Foreign { path, application_id } => write!(
                f,
                "{}: a database of another program (application id {application_id:#x}), \
                 not a driftsync store; left as it is",
                path.display()
            ),
            OpenError::Newer { path, format, supported } => write!(
                f,
                "{}: store format {format} is newer than this build reads ({supported}); \
                 upgrade driftsync to open it",
                path.display()
            ),
            OpenError::Older { path, format, supported } => write!(
                f,
                "{}: store format {format} predates this build's ({supported}) and cannot be \
                 upgraded in place; left as it is",
                path.display()
            ),
            OpenError::Corrupt { path, detail } => {
                write!(f, "{}: damaged store ({detail}); left as it is", path.display())
            }
            OpenError::KeyRequired { path } => {
                write!(f, "{}: store is encrypted; open it with its key", path.display())
            }
            OpenError::WrongKey { path } => {
                write!(f, "{}: store is encrypted under another key", path.display())
            }
            OpenError::NotEncrypted { path } => write!(
                f,
                "{}: store is not encrypted, so a key cannot open it; left as it is",
                path.display()
            ),
            OpenError::InUse { path } => {
                write!(f, "{}: store is open in another process", path.display())
            }
            OpenError::Sqlite { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::Sqlite { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A durable store in one SQLite file (with its `-wal` beside it).
#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// Seals every value column, for a store encrypted at rest.
    pub(crate) cipher: Option<Cipher>,
}

impl SqliteStore {
    /// Opens the store at `path`, creating it if there is no file there.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<SqliteStore, OpenError> {
        SqliteStore::open_with(path.as_ref(), durability, None)
    }

    /// Opens the store at `path` encrypted at rest under `key` (see [`StoreKey`]), creating it
    /// if there is no file there. Every value a user wrote is sealed before it reaches the
    /// file; a file made without a key, or under another, is refused and left as it is.
    pub fn open_encrypted(
        path: impl AsRef<Path>,
        durability: Durability,
        key: &StoreKey,
    ) -> Result<SqliteStore, OpenError> {
        SqliteStore::open_with(path.as_ref(), durability, Some(Cipher::new(key)))
    }

    fn open_with(
        path: &Path,
        durability: Durability,
        cipher: Option<Cipher>,
    ) -> Result<SqliteStore, OpenError> {
        let path = path.to_path_buf();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, e))?;
        // A store held by another process is refused at once rather than waited for.
        conn.busy_timeout(Duration::ZERO).map_err(|e| classify(&path, e))?;
        // Held for the life of the connection once taken, so a second process is refused
        // rather than interleaved; set before WAL so that WAL needs no shared memory file.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(|e| classify(&path, e))?;
        let store = SqliteStore { conn, path, cipher };
        let created = store.check_or_create()?;
        store.check_key(created)?;
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        let conn = &store.conn;
        let fail = |error: rusqlite::Error| classify(&store.path, error);
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(fail)?;
        conn.pragma_update(None, "synchronous", synchronous).map_err(fail)?;
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the file and its format, upgrading an older one; true if it was just created.
    fn check_or_create(&self) -> Result<bool, OpenError> {
        let fail = |error: rusqlite::Error| classify(&self.path, error);
        let pragma = |name: &str| {
            self.conn.pragma_query_value(None, name, |row| row.get::<_, i64>(0)).map_err(fail)
        };
        // The first read of the header: a file that is not SQLite fails here, before any write.
        let application_id = pragma("application_id")? as i32;
        let format = pragma("user_version")?;
        let tables: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
            .map_err(fail)?;
        if application_id == 0 && format == 0 && tables == 0 {
            return self.create().map(|()| true);
        }
        if application_id != APPLICATION_ID {
            return Err(OpenError::Foreign { path: self.path.clone(), application_id });
        }
        if format > FORMAT_VERSION {
            let path = self.path.clone();
            return Err(OpenError::Newer { path, format, supported: FORMAT_VERSION });
        }
        if format < 1 {
            let path = self.path.clone();
            return Err(OpenError::Older { path, format, supported: FORMAT_VERSION });
        }
        let verdict: String =
            self.conn.query_row("PRAGMA quick_check(1)", [], |row| row.get(0)).map_err(fail)?;
        if verdict != "ok" {
            return Err(OpenError::Corrupt { path: self.path.clone(), detail: verdict });
        }
        if format < FORMAT_VERSION {
            crate::upgrade::from_format(format, &self.conn).map_err(|detail| {
                let detail = format!("cannot upgrade from format {format}: {detail}");
                OpenError::Corrupt { path: self.path.clone(), detail }
            })?;
        }
        // Takes the write lock now, so that a second process is refused at open.
        self.conn.execute_batch("BEGIN IMMEDIATE; COMMIT;").map_err(fail).map(|()| false)
    }

    /// An encrypted store holds a check value sealed under its key: a new one is given it, an
    /// existing one must open it with the key it was opened with, and only an encrypted one
    /// may be opened with a key.
    fn check_key(&self, created: bool) -> Result<(), OpenError> {
        let fail = |error: rusqlite::Error| classify(&self.path, error);
        let context = b"meta cipher";
        if let (true, Some(cipher)) = (created, &self.cipher) {
            let sealed = cipher
                .seal(context, KEY_CHECK.to_vec())
                .map_err(|detail| OpenError::Corrupt { path: self.path.clone(), detail })?;
            let insert = "INSERT INTO meta VALUES ('cipher', ?1)";
            return self.conn.execute(insert, [sealed]).map(drop).map_err(fail);
        }
        let query = "SELECT value FROM meta WHERE name = 'cipher'";
        let check: Option<Vec<u8>> = match self.conn.query_row(query, [], |row| row.get(0)) {
            Ok(value) => Some(value),
            Err(rusqlite::Error::QueryReturnedNoRows) => None,
            Err(error) => return Err(fail(error)),
        };
        let path = self.path.clone();
        match (check, &self.cipher) {
            (None, None) => Ok(()),
            (Some(_), None) => Err(OpenError::KeyRequired { path }),
            (None, Some(_)) => Err(OpenError::NotEncrypted { path }),
            (Some(check), Some(cipher)) => match cipher.open(context, &check) {
                Ok(plain) if plain == KEY_CHECK => Ok(()),
                _ => Err(OpenError::WrongKey { path }),
            },
        }
    }

    fn create(&self) -> Result<(), OpenError> {
        let fail = |error: rusqlite::Error| classify(&self.path, error);
        let script = format!(
            "BEGIN IMMEDIATE; {TABLES} {AUDIT_TABLE} PRAGMA application_id = {APPLICATION_ID}; \
             PRAGMA user_version = {FORMAT_VERSION}; COMMIT;"
        );
        self.conn.execute_batch(&script).map_err(fail)
    }
}

/// An SQLite error at open, as what it says about the file.
fn classify(path: &Path, error: rusqlite::Error) -> OpenError {
    let path = path.to_path_buf();
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => OpenError::NotADatabase { path },
        Some(ErrorCode::DatabaseCorrupt) => OpenError::Corrupt { path, detail: error.to_string() },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => OpenError::InUse { path },
        _ => OpenError::Sqlite { path, source: error },
    }
}
