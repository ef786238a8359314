//! `[security]`: signed tokens for every client, and hostile peers that try to get past them.
//!
//! With `tokens` on, the server holds a signing key and admits only clients with a valid token
//! bound to their replica id; tokens live `token_ttl_s` of the server's time, and a client whose
//! token expired asks its host for a fresh one (the simulated host answers a second later).
//! Each kind in `hostile` sends `attacks` attempts during the chaos phase, at times drawn from
//! the seed's own stream; the checker `no_unauthorized_access` then holds every one of them to
//! account.

use serde::{Deserialize, Serialize};

use super::error::Violation;
use super::limits;

/// What a hostile peer tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostileKind {
    /// A token signed with a key the server does not hold.
    ForgedToken,
    /// A token signed with the server's key whose expiry passed (beyond the skew allowance).
    ExpiredToken,
    /// A valid token of an honest client, presented for another replica id.
    StolenToken,
    /// A valid token whose scopes cover none of the app's records: it writes them anyway, and
    /// pulls and snapshots to see what it is shown.
    OutOfScope,
    /// A valid session that replays a push an honest client sent earlier, byte for byte.
    Replay,
}

impl HostileKind {
    pub const ALL: [HostileKind; 5] = [
        HostileKind::ForgedToken,
        HostileKind::ExpiredToken,
        HostileKind::StolenToken,
        HostileKind::OutOfScope,
        HostileKind::Replay,
    ];

    /// The kind as scenario files and reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            HostileKind::ForgedToken => "forged-token",
            HostileKind::ExpiredToken => "expired-token",
            HostileKind::StolenToken => "stolen-token",
            HostileKind::OutOfScope => "out-of-scope",
            HostileKind::Replay => "replay",
        }
    }
}

/// `[security]`, the same in the spec and in a seed's parameters (nothing is drawn).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySpec {
    /// The server admits only clients with a valid signed token.
    pub tokens: bool,
    /// How long a token lives, in seconds of the server's clock.
    pub token_ttl_s: u64,
    /// The hostile peers that attack the server; needs `tokens`.
    pub hostile: Vec<HostileKind>,
    /// Attempts of each hostile kind during the chaos phase.
    pub attacks: u64,
}

impl Default for SecuritySpec {
    fn default() -> SecuritySpec {
        SecuritySpec { tokens: false, token_ttl_s: 3_600, hostile: Vec::new(), attacks: 3 }
    }
}

/// At most this many attempts of one kind: each is a handful of messages, but a scenario
/// should stay a chaos test with adversaries in it, not a flood.
const ATTACKS_MAX: u64 = 100;

impl SecuritySpec {
    /// Whether nothing is asked for, so that scenarios and repro files without the table are
    /// written as they always were.
    pub fn is_default(&self) -> bool {
        *self == SecuritySpec::default()
    }

    pub(crate) fn validate(&self) -> Result<(), Violation> {
        let ttl_max = limits::DURATION_S_MAX;
        if !(1..=ttl_max).contains(&self.token_ttl_s) {
            let message = format!("must be within [1, {ttl_max}], found {}", self.token_ttl_s);
            return Err(Violation::new("security.token_ttl_s", message));
        }
        if !(1..=ATTACKS_MAX).contains(&self.attacks) {
            let message = format!("must be within [1, {ATTACKS_MAX}], found {}", self.attacks);
            return Err(Violation::new("security.attacks", message));
        }
        if !self.hostile.is_empty() && !self.tokens {
            let message = "hostile peers attack token checks: set `tokens = true`";
            return Err(Violation::new("security.hostile", message));
        }
        for (i, kind) in self.hostile.iter().enumerate() {
            if self.hostile[..i].contains(kind) {
                let message = format!("`{}` is listed twice", kind.name());
                return Err(Violation::new(format!("security.hostile[{i}]"), message));
            }
        }
        Ok(())
    }
}
