//! Coverage marks: named situations a node passes through, counted in its [`Metrics`] so a
//! test or a simulator sweep can say which of the paths that matter it really exercised, and
//! fail when a scenario written for one of them quietly stopped reaching it.
//!
//! A mark costs one map update where the situation is decided; it changes nothing else.
//!
//! [`Metrics`]: crate::Metrics

use serde::{Deserialize, Serialize};

/// One situation worth knowing a test reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mark {
    /// A client's push ack was lost and the server's welcome acknowledged those ops instead.
    LostAckSettledByWelcome,
    /// The server told a reconnecting client to rebuild from a snapshot (it was evicted, or
    /// the log was compacted past its cursor).
    ResyncOrderedByServer,
    /// A client finished rebuilding its state from a snapshot.
    ResyncFinished,
    /// A pull batch did not match its manifest; the client dropped it to fetch it again.
    ManifestMismatchRefetched,
    /// The server refused ops a client had already applied locally, and the client rebuilt.
    RefusedOpsRebuilt,
    /// The server served ops to a client of an older schema version.
    OpsMigratedDown,
    /// An op served to an older version hid a field from it: one added later, or a value
    /// that version cannot express (served as cleared).
    ValueHiddenFromOlderVersion,
    /// The server collected tombstones every client had seen.
    TombstoneCollected,
    /// The server evicted a client that had been silent too long.
    ClientEvicted,
}

impl Mark {
    /// Every mark, in declaration order.
    pub const ALL: [Mark; 9] = [
        Mark::LostAckSettledByWelcome,
        Mark::ResyncOrderedByServer,
        Mark::ResyncFinished,
        Mark::ManifestMismatchRefetched,
        Mark::RefusedOpsRebuilt,
        Mark::OpsMigratedDown,
        Mark::ValueHiddenFromOlderVersion,
        Mark::TombstoneCollected,
        Mark::ClientEvicted,
    ];

    /// The mark's name in reports and scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Mark::LostAckSettledByWelcome => "lost-ack-settled-by-welcome",
            Mark::ResyncOrderedByServer => "resync-ordered-by-server",
            Mark::ResyncFinished => "resync-finished",
            Mark::ManifestMismatchRefetched => "manifest-mismatch-refetched",
            Mark::RefusedOpsRebuilt => "refused-ops-rebuilt",
            Mark::OpsMigratedDown => "ops-migrated-down",
            Mark::ValueHiddenFromOlderVersion => "value-hidden-from-older-version",
            Mark::TombstoneCollected => "tombstone-collected",
            Mark::ClientEvicted => "client-evicted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: names are unique and are what serde writes, so reports and scenario files agree.
    #[test]
    fn every_mark_has_one_name_which_is_its_serialized_form() {
        let mut names: Vec<&str> = Mark::ALL.iter().map(|mark| mark.name()).collect();
        for mark in Mark::ALL {
            let json = serde_json::to_string(&mark).expect("serializes");
            assert_eq!(json, format!("\"{}\"", mark.name()));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Mark::ALL.len());
    }
}
