//! The server's signing keys, and the tools around them: `driftsync-server keygen` makes a
//! key, `driftsync-server token` signs a token with one, and `--keys` loads them.
//!
//! The keys file is TOML, one secret per key id, each a base64url string of 32 bytes or more:
//!
//! ```toml
//! [keys]
//! "2026-12" = "q3Jm…"
//! ```
//!
//! A token names the key that signed it; several keys are held at once, so a new key signs new
//! tokens while the old one stays listed until the tokens it signed have expired.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use driftsync_core::auth::{Claims, Keyring};
use ring::rand::{SecureRandom, SystemRandom};

use super::Failure;

/// Reads a keys file into a keyring.
pub(crate) fn read_keys(path: &Path) -> Result<Keyring, Failure> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::data(format!("{name}: cannot read: {error}")))?;
    let table: toml::Table =
        text.parse().map_err(|error| Failure::data(format!("{name}: not TOML: {error}")))?;
    let Some(toml::Value::Table(keys)) = table.get("keys") else {
        return Err(Failure::data(format!("{name}: no [keys] table of key id = secret")));
    };
    let mut keyring = Keyring::new();
    for (kid, secret) in keys {
        let Some(secret) = secret.as_str() else {
            return Err(Failure::data(format!("{name}: key `{kid}` is not a string")));
        };
        let bytes = URL_SAFE_NO_PAD.decode(secret.trim_end_matches('=')).map_err(|error| {
            Failure::data(format!("{name}: key `{kid}` is not base64url: {error}"))
        })?;
        keyring
            .insert(kid.as_str(), &bytes)
            .map_err(|weak| Failure::data(format!("{name}: {weak}")))?;
    }
    if keyring.key_ids().next().is_none() {
        return Err(Failure::data(format!("{name}: [keys] holds no key")));
    }
    Ok(keyring)
}

/// A fresh 32-byte secret from the operating system, as a keys file line.
pub(crate) fn keygen(kid: &str) -> Result<String, Failure> {
    let mut secret = [0u8; 32];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| Failure::unavailable("the operating system gave no random bytes"))?;
    Ok(format!("\"{kid}\" = \"{}\"", URL_SAFE_NO_PAD.encode(secret)))
}

/// What `driftsync-server token` signs.
pub(crate) struct TokenRequest<'a> {
    pub(crate) kid: &'a str,
    pub(crate) user: String,
    pub(crate) replicas: Vec<u64>,
    pub(crate) ttl_s: u64,
    pub(crate) read: Vec<String>,
    pub(crate) write: Vec<String>,
}

/// A token signed with key `kid` of `keys`, valid from now for `ttl_s` seconds.
pub(crate) fn sign(keys: &Keyring, request: TokenRequest<'_>) -> Result<String, Failure> {
    let now_s = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let TokenRequest { kid, user, replicas, ttl_s, read, write } = request;
    for scope in read.iter().chain(&write) {
        driftsync_core::auth::Scope::parse(scope)
            .map_err(|error| Failure::usage(error.to_string()))?;
    }
    let claims = Claims { sub: user, exp: now_s + ttl_s, nbf: None, replicas, read, write };
    keys.issue(kid, &claims).map_err(|error| Failure::usage(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_file(folder: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
        let path = folder.path().join("keys.toml");
        std::fs::write(&path, text).expect("the file is written");
        path
    }

    #[test]
    fn a_generated_key_loads_and_signs_a_token_the_keyring_admits() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let line = keygen("k1").expect("random bytes");
        let keys = read_keys(&keys_file(&folder, &format!("[keys]\n{line}\n"))).expect("loads");
        let request = TokenRequest {
            kid: "k1",
            user: "alice".into(),
            replicas: vec![7],
            ttl_s: 60,
            read: vec![],
            write: vec!["notes/*".into()],
        };
        let token = sign(&keys, request).expect("signs");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let now = driftsync_core::WallTime(now as u64);
        let grant = keys.admit(&token, driftsync_core::ReplicaId(7), now).expect("admitted");
        assert_eq!(grant.user, "alice");
    }

    #[test]
    fn a_short_or_malformed_key_is_refused_naming_the_file_and_key() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        for (text, needle) in [
            ("[keys]\nk = \"c2hvcnQ\"\n", "k"),
            ("[keys]\nk = \"not base64 !\"\n", "base64url"),
            ("keys = 3\n", "[keys]"),
            ("[keys]\n", "no key"),
        ] {
            let Err(error) = read_keys(&keys_file(&folder, text)) else {
                panic!("{text:?} was accepted");
            };
            assert!(error.message.contains("keys.toml"), "{}", error.message);
            assert!(error.message.contains(needle), "{}", error.message);
        }
    }
}
