//! `driftsync-server audit`: one record's history, from the audit trail of a server's store.

use std::path::Path;

use driftsync_core::audit::AuditEntry;
use driftsync_core::{OpBody, RecordKey, Store};
use driftsync_sqlite::{Durability, SqliteStore};

use super::{Failure, say};

/// Prints every audited op of `record` (`COLLECTION/ID`), oldest first: when the server applied
/// it, its log position, who wrote it from which replica, what it did and why.
pub(crate) fn print(db: &Path, record: &str) -> Result<(), Failure> {
    let Some((collection, id)) =
        record.split_once('/').filter(|(c, id)| !c.is_empty() && !id.is_empty())
    else {
        return Err(Failure::usage(format!("--record {record:?}: expected COLLECTION/ID")));
    };
    if !db.is_file() {
        return Err(Failure::data(format!("{}: no such file", db.display())));
    }
    let store = SqliteStore::open(db, Durability::Full)
        .map_err(|error| Failure::data(error.to_string()))?;
    let key = RecordKey::new(collection, id);
    let entries = store
        .audit_of(&key)
        .map_err(|error| Failure::data(format!("{}: {error}", db.display())))?;
    let count = entries.len();
    say(&format!("{key}: {count} audited op{} (oldest first)", if count == 1 { "" } else { "s" }));
    for entry in &entries {
        say(&line(entry));
    }
    Ok(())
}

/// `2026-12-03T11:29:12.345Z  pos 17  alice  replica 1 seq 4  update title, body  "why"`
fn line(entry: &AuditEntry) -> String {
    let op = &entry.op;
    let what = match &op.body {
        OpBody::Put { fields } | OpBody::Update { fields } => {
            let names: Vec<&str> = fields.keys().map(String::as_str).collect();
            format!("{} {}", op.kind_name(), names.join(", "))
        }
        OpBody::Delete => "delete".to_owned(),
        OpBody::Increment { field, delta } => format!("increment {field} by {delta}"),
        OpBody::Resolve { field, .. } => format!("resolve {field}"),
    };
    let why =
        op.reason.as_deref().map_or_else(|| "(no reason given)".to_owned(), |r| format!("{r:?}"));
    format!(
        "{}  pos {}  {}  replica {} seq {}  {what}  {why}",
        entry.at.iso_utc(),
        entry.pos.0,
        entry.user,
        op.id.replica.0,
        op.id.seq.0
    )
}
