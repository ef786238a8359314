//! Which schema versions a server accepts, and how it picks one in the handshake.

use serde::{Deserialize, Serialize};

use crate::schema::{LineageError, SchemaLineage};

/// The versions a server serves: `writable_from..=newest` read-write, `readable_from..
/// writable_from` read-only (their clients pull but keep their writes queued until they
/// upgrade), anything else refused with the range it would accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionPolicy {
    pub newest: u32,
    pub writable_from: u32,
    pub readable_from: u32,
}

/// What a session may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Access {
    ReadWrite,
    /// The client's version is deprecated: it receives what it can read, its writes wait.
    ReadOnly,
}

/// The outcome of a handshake's version negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Negotiation {
    Accepted { version: u32, access: Access },
    Refused { min_required: u32, max_supported: u32 },
}

impl VersionPolicy {
    /// Serves exactly one version, read-write.
    pub fn only(version: u32) -> VersionPolicy {
        VersionPolicy { newest: version, writable_from: version, readable_from: version }
    }

    /// Serves read-write every version the lineage's latest data can be migrated down to: what
    /// a server of an app's schema file offers.
    pub fn widest(lineage: &SchemaLineage) -> VersionPolicy {
        let oldest = lineage.reachable_from(lineage.latest());
        VersionPolicy { newest: lineage.latest(), writable_from: oldest, readable_from: oldest }
    }

    /// Checks the policy against the lineage the server stores in: every version it serves
    /// exists, and data stored in the lineage's latest version can be migrated down to it.
    pub fn check(&self, lineage: &SchemaLineage) -> Result<(), LineageError> {
        let error = |version, problem: String| LineageError {
            version,
            collection: None,
            field: None,
            problem,
        };
        if !(self.readable_from <= self.writable_from && self.writable_from <= self.newest) {
            let problem = format!(
                "policy ranges out of order: readable from v{}, writable from v{}, newest v{}",
                self.readable_from, self.writable_from, self.newest
            );
            return Err(error(self.newest, problem));
        }
        for version in [self.readable_from, self.newest] {
            if !lineage.contains(version) {
                let problem =
                    format!("not in the lineage (v{}..=v{})", lineage.first(), lineage.latest());
                return Err(error(version, problem));
            }
        }
        if let Some((step_version, why)) =
            lineage.one_way_between(self.readable_from, lineage.latest())
        {
            let problem = format!(
                "cannot be served: the step into v{step_version} is one-way ({why}); raise \
                 readable_from to v{step_version}"
            );
            return Err(error(self.readable_from, problem));
        }
        Ok(())
    }

    /// Picks the highest offered version this policy serves.
    pub(crate) fn negotiate(&self, offered: &[u32]) -> Negotiation {
        let best = offered
            .iter()
            .copied()
            .filter(|v| (self.readable_from..=self.newest).contains(v))
            .max();
        match best {
            Some(version) if version >= self.writable_from => {
                Negotiation::Accepted { version, access: Access::ReadWrite }
            }
            Some(version) => Negotiation::Accepted { version, access: Access::ReadOnly },
            None => Negotiation::Refused {
                min_required: self.readable_from,
                max_supported: self.newest,
            },
        }
    }
}
