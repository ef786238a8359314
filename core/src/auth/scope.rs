//! Scopes: which records a token lets its user read or write.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::RecordKey;

/// One rule of a token's read or write list, written as a string in the token:
///
/// - `*`: every record of every collection;
/// - `tasks` or `tasks/*`: every record of collection `tasks`;
/// - `notes/alice-*`: the records of `notes` whose id starts with `alice-`;
/// - `notes/n1`: that one record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    /// `None` matches every collection.
    collection: Option<String>,
    records: Records,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum Records {
    All,
    Prefix(String),
    Exact(String),
}

/// Why a scope string does not parse.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScopeError {
    pub scope: String,
    pub detail: String,
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scope {:?}: {}", self.scope, self.detail)
    }
}

impl std::error::Error for ScopeError {}

impl Scope {
    /// Every record of every collection.
    pub fn everything() -> Scope {
        Scope { collection: None, records: Records::All }
    }

    /// Parses the token form (see [`Scope`]).
    pub fn parse(text: &str) -> Result<Scope, ScopeError> {
        let error = |detail: &str| ScopeError { scope: text.to_owned(), detail: detail.to_owned() };
        if text == "*" {
            return Ok(Scope::everything());
        }
        let (collection, records) = match text.split_once('/') {
            None => (text, Records::All),
            Some((collection, "*")) => (collection, Records::All),
            Some((collection, record)) => match record.strip_suffix('*') {
                Some(prefix) => (collection, Records::Prefix(prefix.to_owned())),
                None => (collection, Records::Exact(record.to_owned())),
            },
        };
        if collection.is_empty() || collection.contains('*') {
            return Err(error("the collection must be a name, or the whole scope `*`"));
        }
        let record = match &records {
            Records::All => "",
            Records::Prefix(text) | Records::Exact(text) => text,
        };
        if record.contains('*') {
            return Err(error("`*` may only end the record part"));
        }
        if matches!(&records, Records::Exact(id) if id.is_empty()) {
            return Err(error("the record part is empty"));
        }
        Ok(Scope { collection: Some(collection.to_owned()), records })
    }

    /// Whether the scope covers the record `key`.
    pub fn covers(&self, key: &RecordKey) -> bool {
        if self.collection.as_ref().is_some_and(|c| *c != key.collection) {
            return false;
        }
        match &self.records {
            Records::All => true,
            Records::Prefix(prefix) => key.record.starts_with(prefix.as_str()),
            Records::Exact(id) => key.record == *id,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(collection) = &self.collection else {
            return f.write_str("*");
        };
        match &self.records {
            Records::All => write!(f, "{collection}"),
            Records::Prefix(prefix) => write!(f, "{collection}/{prefix}*"),
            Records::Exact(id) => write!(f, "{collection}/{id}"),
        }
    }
}

/// What an admitted session may do: whose it is, and which records it may read and write.
/// A record one may write one may also read, so a writer's own records always come back to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The user the token names (`sub`), for logs, quarantine reasons and the audit trail.
    pub user: String,
    pub read: Vec<Scope>,
    pub write: Vec<Scope>,
}

impl Grant {
    /// A server without keys admits everyone to everything, as this user.
    pub fn open() -> Grant {
        Grant {
            user: "anonymous".to_owned(),
            read: vec![Scope::everything()],
            write: vec![Scope::everything()],
        }
    }

    /// Whether the session may receive `key`'s record and ops.
    pub fn may_read(&self, key: &RecordKey) -> bool {
        self.read.iter().any(|scope| scope.covers(key)) || self.may_write(key)
    }

    /// Whether the session's writes to `key` may be applied.
    pub fn may_write(&self, key: &RecordKey) -> bool {
        self.write.iter().any(|scope| scope.covers(key))
    }

    /// Whether the grant reads every record, so pulls need no filtering.
    pub fn reads_everything(&self) -> bool {
        self.read.iter().chain(&self.write).any(|scope| *scope == Scope::everything())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(scope: &str, collection: &str, record: &str) -> bool {
        Scope::parse(scope).expect("valid scope").covers(&RecordKey::new(collection, record))
    }

    #[test]
    fn a_scope_covers_its_collection_prefix_or_record_and_nothing_else() {
        assert!(covers("*", "notes", "n1"));
        assert!(covers("notes", "notes", "n1") && !covers("notes", "tasks", "n1"));
        assert!(covers("notes/*", "notes", "anything"));
        assert!(covers("notes/alice-*", "notes", "alice-1"));
        assert!(!covers("notes/alice-*", "notes", "bob-1"));
        assert!(!covers("notes/alice-*", "notesx", "alice-1"));
        assert!(covers("notes/n1", "notes", "n1") && !covers("notes/n1", "notes", "n10"));
    }

    #[test]
    fn a_scope_prints_as_it_parses() {
        for text in ["*", "notes", "notes/alice-*", "notes/n1"] {
            assert_eq!(Scope::parse(text).expect("valid").to_string(), text);
        }
    }

    #[test]
    fn a_malformed_scope_is_refused_with_what_is_wrong() {
        for text in ["", "no*tes", "*/x", "notes/a*b", "notes/"] {
            assert!(Scope::parse(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn a_writable_record_is_readable_too() {
        let grant = Grant {
            user: "alice".into(),
            read: Vec::new(),
            write: vec![Scope::parse("notes/alice-*").expect("valid")],
        };
        assert!(grant.may_read(&RecordKey::new("notes", "alice-1")));
        assert!(!grant.may_read(&RecordKey::new("notes", "bob-1")));
        assert!(!grant.reads_everything() && Grant::open().reads_everything());
    }
}
