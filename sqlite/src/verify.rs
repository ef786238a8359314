//! Checking a server store's log against its hash chain, entry by entry, without starting a
//! server: what `driftsync-server verify --db` runs. An entry whose op no longer decodes, whose
//! link is not 32 bytes, or whose link is not what the entry before it, its position and its op
//! hash to, is named by its position; so is a missing entry.

use driftsync_core::{ChainBreak, Link, LogEntry, LogPos, Op, ServerMeta, StorageError};

use crate::SqliteStore;
use crate::rows::{Row, decode, from_position, open, sql};

/// A log that holds its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// Entries checked (the log after its compaction point).
    pub entries: u64,
    /// The compaction point the chain starts from.
    pub compacted_through: LogPos,
    /// The link at the log's last entry.
    pub head_link: Link,
}

/// Why a log does not verify.
#[derive(Debug)]
pub enum VerifyError {
    /// The file could not be read (it is not altered for all this says).
    Storage(StorageError),
    /// The chain breaks here: the entry, or the one before it, was altered.
    Broken(ChainBreak),
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Storage(error) => write!(f, "cannot read the log: {error}"),
            VerifyError::Broken(broken) => write!(f, "{broken}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl SqliteStore {
    /// Recomputes the log's hash chain from the server's compaction point to its head.
    pub fn verify_log(&self) -> Result<ChainReport, VerifyError> {
        let meta = self.server_meta().map_err(VerifyError::Storage)?;
        let mut statement =
            self.conn.prepare("SELECT pos, op, link FROM log ORDER BY pos").map_err(storage)?;
        let mut rows = statement.query([]).map_err(storage)?;
        let mut link = meta.chain_base;
        let mut expected = LogPos(meta.compacted_through.0 + 1);
        let mut entries = 0;
        while let Some(row) = rows.next().map_err(storage)? {
            let pos: i64 = row.get(0).map_err(storage)?;
            let pos = LogPos(from_position("log", pos).map_err(VerifyError::Storage)?);
            if pos != expected {
                return Err(VerifyError::Broken(ChainBreak::Gap { expected, found: pos }));
            }
            let altered = VerifyError::Broken(ChainBreak::Altered { pos });
            let op: Vec<u8> = row.get(1).map_err(storage)?;
            let stored: Vec<u8> = row.get(2).map_err(storage)?;
            let op = open::<Op>(self.cipher.as_ref(), &Row::at("log", pos.0), &op);
            let (Ok(op), Ok(stored)) = (op, <[u8; 32]>::try_from(stored)) else {
                return Err(altered);
            };
            let entry = LogEntry { link: Link(stored), op };
            link = driftsync_core::verify_chain(LogPos(pos.0 - 1), link, [(pos, &entry)])
                .map_err(VerifyError::Broken)?;
            expected = LogPos(pos.0 + 1);
            entries += 1;
        }
        let held_through = LogPos(expected.0 - 1);
        driftsync_core::check_chain_head(held_through, meta.head).map_err(VerifyError::Broken)?;
        Ok(ChainReport { entries, compacted_through: meta.compacted_through, head_link: link })
    }

    /// The server's bookkeeping row; a store no server has used has the default.
    fn server_meta(&self) -> Result<ServerMeta, StorageError> {
        let mut statement =
            self.conn.prepare("SELECT value FROM meta WHERE name = 'server'").map_err(sql)?;
        let mut rows = statement.query([]).map_err(sql)?;
        match rows.next().map_err(sql)? {
            Some(row) => decode("meta", &row.get::<_, Vec<u8>>(0).map_err(sql)?),
            None => Ok(ServerMeta::default()),
        }
    }
}

fn storage(error: rusqlite::Error) -> VerifyError {
    VerifyError::Storage(sql(error))
}
