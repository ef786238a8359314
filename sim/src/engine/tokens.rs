//! Signed tokens in the simulator (`[security] tokens`): the server holds one signing key,
//! every honest client starts with a token for its own replica id that lives `token_ttl_s` of
//! the server's clock, and a client refused for an expired token gets a fresh one from its host
//! a second after it asks, as a real app's token provider would answer.

use std::collections::BTreeMap;

use driftsync_core::auth::{Claims, Keyring};
use driftsync_core::{LogPos, OpId, Server};

use crate::engine::Sim;
use crate::engine::nodes::{Slot, replica};
use crate::engine::store::SimStore;
use crate::outcome::Checker;
use crate::plan::NodeId;
use crate::scenario::SecuritySpec;

/// The key id of the simulated server's signing key.
const KEY_ID: &str = "sim";
const SIGNING_SECRET: &[u8] = b"driftsync-sim: the server's own signing key";

/// The simulated server's keyring.
pub(crate) fn keyring() -> Keyring {
    keyring_of(SIGNING_SECRET)
}

/// A keyring holding `secret` under the server's key id.
pub(crate) fn keyring_of(secret: &[u8]) -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(KEY_ID, secret).expect("the simulated keys are long enough");
    keys
}

/// Read and write scopes of a token.
pub(crate) struct Scopes {
    pub(crate) read: Vec<String>,
    pub(crate) write: Vec<String>,
}

impl Scopes {
    /// What honest clients get: everything.
    pub(crate) fn everything() -> Scopes {
        Scopes { read: Vec::new(), write: vec!["*".to_owned()] }
    }
}

/// A token for `replicas`, expiring at `exp_s` (Unix seconds), with these scopes.
pub(crate) fn token(keys: &Keyring, replicas: Vec<u64>, exp_s: u64, scopes: Scopes) -> String {
    let sub = match replicas.first() {
        Some(replica) => format!("user-{replica}"),
        None => "nobody".to_owned(),
    };
    let Scopes { read, write } = scopes;
    let claims = Claims { sub, exp: exp_s, nbf: None, replicas, read, write };
    keys.issue(KEY_ID, &claims).expect("the simulated key id is in its keyring")
}

/// The token client `node` is issued when the server's clock reads `server_wall_ms`.
pub(crate) fn honest_token(security: &SecuritySpec, node: NodeId, server_wall_ms: u64) -> String {
    let exp_s = server_wall_ms / 1_000 + security.token_ttl_s;
    token(&keyring(), vec![replica(node).0], exp_s, Scopes::everything())
}

impl Sim<'_> {
    /// Client `index`'s host hands it a fresh token; a crashed client gets it at restart.
    pub(super) fn refresh_token(&mut self, index: usize) {
        let node = NodeId::client(index as u32 + 1);
        let wall_ms = self.now_of(NodeId::SERVER).wall.0;
        let fresh = honest_token(&self.plan.params.security, node, wall_ms);
        self.clients[index].config.token = fresh.clone();
        self.with_client(index, |client, _| client.set_token(fresh));
    }
}

impl Sim<'_> {
    /// `audit_trail`: positions 1 through the server's head each have one entry, for the op
    /// the log holds there (while it still holds it), naming the honest user of the replica
    /// that wrote it: in the simulator, only a replica's own token can push its ops.
    pub(super) fn check_audit_trail(&mut self) {
        let (trail, head, held) = match &self.server.slot {
            Slot::Up(server) => {
                let held: BTreeMap<LogPos, OpId> =
                    server.log().enumerate().map(|(i, op)| (log_pos(server, i), op.id)).collect();
                (server.store().audit_trail(), server.head(), held)
            }
            Slot::Down(store) => (store.audit_trail(), LogPos(0), BTreeMap::new()),
        };
        let mut expected = LogPos(1);
        for entry in trail.entries() {
            let writer = entry.op.id.replica.0;
            let honest = format!("user-{writer}");
            let problem = if entry.pos != expected {
                Some(format!("no audit entry at log position {}", expected.0))
            } else if held.get(&entry.pos).is_some_and(|op| *op != entry.op.id) {
                Some(format!("the entry at {} is of another op than the log's", entry.pos.0))
            } else if entry.user != honest {
                let user = &entry.user;
                Some(format!(
                    "op {} of replica {writer} is audited as {user}, not {honest}",
                    entry.op.id
                ))
            } else {
                None
            };
            if let Some(detail) = problem {
                let record = Some(entry.op.key.to_string());
                return self.fail(Checker::AuditTrail, Some("server".to_owned()), record, detail);
            }
            expected = LogPos(expected.0 + 1);
        }
        if head.0 >= expected.0 {
            let detail =
                format!("the log's head is {} but the trail ends at {}", head.0, expected.0 - 1);
            self.fail(Checker::AuditTrail, Some("server".to_owned()), None, detail);
        }
    }
}

/// The log position of the `index`th op the server still holds.
fn log_pos(server: &Server<SimStore>, index: usize) -> LogPos {
    LogPos(server.meta().compacted_through.0 + 1 + index as u64)
}
