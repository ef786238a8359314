//! Who may sync what: signed, expiring tokens bound to a user and the replica ids it may use
//! ([`Keyring`]), and the read and write scopes they grant ([`Grant`]).
//!
//! A server with a keyring admits a Hello only with a genuine, unexpired token that grants the
//! replica id the client claims; every pull and snapshot page then carries only records the
//! session may read, and a pushed write outside its write scope is quarantined as
//! [`crate::QuarantineReason::Forbidden`], its writer told which write and why. A server
//! without a keyring admits everyone to everything (for tests and loopback development).

mod scope;
mod token;

pub use scope::{Grant, Scope, ScopeError};
pub use token::{Claims, KEY_BYTES_MIN, Keyring, TokenError, WeakKey};

#[cfg(test)]
mod tests;
