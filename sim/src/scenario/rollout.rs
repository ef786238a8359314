//! `[schema]`: which schema versions are in play, and how they change during a run.
//!
//! The simulated app has a fixed lineage (see the engine's workload): v1 is the base schema,
//! v2 adds `priority` and renames `body` to `notes`, v3 turns `done` into an integer and removes
//! `blob`. A scenario picks the versions clients start on, how likely each is to upgrade
//! mid-run, what the server serves over time (an upgrade or a rollback is a new entry), and how
//! often a write is corrupted on the wire into an invalid payload.

use serde::{Deserialize, Serialize};

use super::error::Violation;
use super::range::Range;
use crate::seed::{self, Streams};

/// The newest version of the simulated app's lineage.
pub const SCHEMA_VERSION_MAX: u32 = 3;

/// `[schema]`. Absent, every node speaks version 1 and nothing changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchemaSpec {
    /// The version each client starts on, drawn per client.
    pub client_versions: Range<u64>,
    /// Probability that a client below the newest version upgrades to it during the chaos
    /// phase (at a drawn time), as an app store update would.
    pub upgrade_probability: Range<f64>,
    /// Probability that a write is turned into an invalid payload on the wire (a type
    /// mismatch, or a put missing its required field): the server must quarantine each one.
    pub invalid_payload_rate: Range<f64>,
    /// What the server serves over time, in time order; the first entry is at 0 s and the last
    /// must serve the newest version any client reaches, so the heal can bring everyone in.
    pub server: Vec<ServerVersions>,
}

/// One entry of `schema.server`: from `at_s` on, the server serves `writable_from..=newest`
/// read-write and `readable_from..writable_from` read-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerVersions {
    pub at_s: u64,
    pub newest: u32,
    pub writable_from: u32,
    pub readable_from: u32,
}

impl Default for SchemaSpec {
    fn default() -> Self {
        SchemaSpec {
            client_versions: Range::Fixed(1),
            upgrade_probability: Range::Fixed(0.0),
            invalid_payload_rate: Range::Fixed(0.0),
            server: vec![ServerVersions { at_s: 0, newest: 1, writable_from: 1, readable_from: 1 }],
        }
    }
}

/// One seed's drawn schema rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaParams {
    /// The version each client starts on, client 1 first.
    pub client_versions: Vec<u32>,
    pub upgrade_probability: f64,
    pub invalid_payload_rate: f64,
    pub server: Vec<ServerVersions>,
}

impl SchemaParams {
    /// The newest version any node reaches: the lineage the run builds.
    pub fn version_max(&self) -> u32 {
        let servers = self.server.iter().map(|s| s.newest);
        let clients = self.client_versions.iter().copied();
        let upgrades = (self.upgrade_probability > 0.0).then_some(self.server_final().newest);
        servers.chain(clients).chain(upgrades).max().unwrap_or(1)
    }

    /// What the server serves at the end of the chaos phase.
    pub fn server_final(&self) -> ServerVersions {
        *self.server.last().expect("validated: schema.server has an entry")
    }
}

impl SchemaSpec {
    /// Draws from the Schema stream: the rates first, then one version per client.
    pub(super) fn draw(&self, streams: &mut Streams, clients: u32) -> SchemaParams {
        let rng = &mut streams.schema;
        let upgrade_probability = self.upgrade_probability.draw(rng);
        let invalid_payload_rate = self.invalid_payload_rate.draw(rng);
        let client_versions = (0..clients)
            .map(|_| {
                let version =
                    seed::uniform_u64(rng, self.client_versions.lo(), self.client_versions.hi());
                u32::try_from(version).expect("validated: versions <= SCHEMA_VERSION_MAX")
            })
            .collect();
        SchemaParams {
            client_versions,
            upgrade_probability,
            invalid_payload_rate,
            server: self.server.clone(),
        }
    }

    /// Checks the rollout against the app's versions, `first..=latest`.
    pub(super) fn validate(&self, chaos_s: u64, first: u32, latest: u32) -> Result<(), Violation> {
        let (version_min, version_max) = (u64::from(first), u64::from(latest));
        let versions = &self.client_versions;
        if versions.lo() < version_min
            || versions.hi() > version_max
            || versions.lo() > versions.hi()
        {
            return Err(Violation::new(
                "schema.client_versions",
                format!("must lie within [{version_min}, {version_max}], found {versions}"),
            ));
        }
        for (field, rate) in [
            ("schema.upgrade_probability", &self.upgrade_probability),
            ("schema.invalid_payload_rate", &self.invalid_payload_rate),
        ] {
            if !(rate.lo() >= 0.0 && rate.hi() <= 1.0 && rate.lo() <= rate.hi()) {
                return Err(Violation::new(field, format!("must lie within [0, 1], found {rate}")));
            }
        }
        let Some(last) = self.server.last() else {
            return Err(Violation::new("schema.server", "must have at least one entry"));
        };
        for (index, entry) in self.server.iter().enumerate() {
            let field = format!("schema.server[{index}]");
            let ordered = first <= entry.readable_from
                && entry.readable_from <= entry.writable_from
                && entry.writable_from <= entry.newest
                && entry.newest <= latest;
            if !ordered {
                return Err(Violation::new(
                    field,
                    format!(
                        "needs {first} <= readable_from <= writable_from <= newest <= {latest}"
                    ),
                ));
            }
            let at_s_min = if index == 0 { 0 } else { self.server[index - 1].at_s + 1 };
            let at_s_max = if index == 0 { 0 } else { chaos_s.saturating_sub(1) };
            if entry.at_s < at_s_min || entry.at_s > at_s_max {
                return Err(Violation::new(
                    format!("{field}.at_s"),
                    format!(
                        "must be 0 for the first entry, then increase, inside the chaos phase \
                         ({chaos_s} s); found {}",
                        entry.at_s
                    ),
                ));
            }
        }
        let reached = versions.hi().max(if self.upgrade_probability.hi() > 0.0 {
            u64::from(last.newest)
        } else {
            0
        });
        let newest_ever = self.server.iter().map(|s| u64::from(s.newest)).max().unwrap_or(1);
        if u64::from(last.newest) < reached.max(newest_ever) {
            return Err(Violation::new(
                format!("schema.server[{}].newest", self.server.len() - 1),
                format!(
                    "the last entry must serve the newest version any node reaches (v{}) so the \
                     heal can bring every client in; found v{}",
                    reached.max(newest_ever),
                    last.newest
                ),
            ));
        }
        Ok(())
    }
}
