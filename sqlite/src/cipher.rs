//! Encryption at rest: every stored value (field states, queued and logged ops, quarantined
//! ops, audit entries) sealed with ChaCha20-Poly1305 under a key the host supplies, so that
//! the file holds no field value in the clear.
//!
//! Each value gets a fresh random 96-bit nonce, stored before its ciphertext; the table and the
//! row's key are the additional data, so a value moved to another row, or another table, fails
//! to open rather than reading as that row's. What stays in the clear is what SQL must find
//! rows by: collection names, record ids, field names, seqs and log positions, and the
//! bookkeeping rows (cursors, stamps), which hold no value a user wrote.

use std::fmt;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The key a store is encrypted with: 32 bytes the host keeps (in the platform's keychain,
/// say), never in the file.
#[derive(Clone)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    pub const fn new(bytes: [u8; 32]) -> StoreKey {
        StoreKey(bytes)
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)") // Never printed.
    }
}

/// A store's sealing and opening of values.
pub(crate) struct Cipher {
    key: LessSafeKey,
    random: SystemRandom,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(ChaCha20-Poly1305)")
    }
}

/// The check value a new encrypted store seals into its `meta` table: opening it proves the key.
pub(crate) const KEY_CHECK: &[u8] = b"driftsync store key check";

impl Cipher {
    pub(crate) fn new(key: &StoreKey) -> Cipher {
        let key = UnboundKey::new(&CHACHA20_POLY1305, &key.0).expect("32 bytes is the key size");
        Cipher { key: LessSafeKey::new(key), random: SystemRandom::new() }
    }

    /// `nonce || ciphertext || tag` of `plain`, bound to `context` (table and row).
    pub(crate) fn seal(&self, context: &[u8], plain: Vec<u8>) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).map_err(|_| "the system's random source failed")?;
        let mut sealed = plain;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut sealed,
            )
            .map_err(|_| "sealing failed")?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(bytes)
    }

    /// The plain bytes of a value sealed for `context`; an error for a wrong key, a value
    /// moved from another row, or damage.
    pub(crate) fn open(&self, context: &[u8], bytes: &[u8]) -> Result<Vec<u8>, String> {
        if bytes.len() < NONCE_LEN {
            return Err("too short to be sealed".to_owned());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "a bad nonce")?;
        let mut plain = sealed.to_vec();
        let opened = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut plain)
            .map_err(|_| "does not open with this key (a wrong key, a moved value or damage)")?;
        let len = opened.len();
        plain.truncate(len);
        Ok(plain)
    }
}
