//! Signed, expiring tokens: JSON Web Tokens signed with HMAC-SHA-256 (`HS256`), so any JWT
//! library can issue them. A token names its user (`sub`), the replica ids it may sync as, its
//! read and write scopes and its expiry; its header names the key (`kid`) that signed it, so
//! several keys are active at once and a key rotates without a flag day: add the new key,
//! issue with it, retire the old one once its tokens have expired.
//!
//! Only `HS256` is accepted (never `none`, never an algorithm the token picks), the signature
//! is checked in constant time before the claims are read, and expiry is judged by the wall
//! clock the host passes in, with a bounded allowance for skew.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::auth::scope::{Grant, Scope, ScopeError};
use crate::ids::ReplicaId;
use crate::time::WallTime;

/// A signing key shorter than this is refused: HMAC-SHA-256 wants at least its output size.
pub const KEY_BYTES_MIN: usize = 32;

/// What a token says. Times are seconds since the Unix epoch, as in every JWT.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The first second the token is no longer valid.
    pub exp: u64,
    /// The first second the token is valid, if it is not valid at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The replica ids (client installs) the user may sync as.
    pub replicas: Vec<u64>,
    /// Scopes the user may read (see [`Scope`]); a writable record is readable too.
    #[serde(default)]
    pub read: Vec<String>,
    /// Scopes the user may write.
    #[serde(default)]
    pub write: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

/// Why a token was refused. Sent to the client in its `Reject`, so the app can tell an expired
/// token (fetch a fresh one) from a forged one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenError {
    /// The server requires a token and the Hello carried none.
    Missing,
    /// Not three base64url parts of JSON.
    Malformed {
        detail: String,
    },
    UnsupportedAlgorithm {
        alg: String,
    },
    /// No active key has this id (never issued here, or retired).
    UnknownKey {
        kid: String,
    },
    BadSignature,
    Expired {
        expired_at_s: u64,
    },
    NotYetValid {
        valid_from_s: u64,
    },
    /// The token is genuine but not for the replica id the client claims.
    ReplicaNotGranted {
        replica: u64,
    },
    BadScope(ScopeError),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Missing => f.write_str("no token; this server requires one"),
            TokenError::Malformed { detail } => write!(f, "malformed token: {detail}"),
            TokenError::UnsupportedAlgorithm { alg } => {
                write!(f, "token algorithm {alg:?} refused; only HS256 is accepted")
            }
            TokenError::UnknownKey { kid } => write!(f, "token signed with unknown key {kid:?}"),
            TokenError::BadSignature => f.write_str("token signature does not verify"),
            TokenError::Expired { expired_at_s } => {
                write!(f, "token expired at {expired_at_s} (Unix seconds)")
            }
            TokenError::NotYetValid { valid_from_s } => {
                write!(f, "token not valid before {valid_from_s} (Unix seconds)")
            }
            TokenError::ReplicaNotGranted { replica } => {
                write!(f, "token does not grant replica id {replica}")
            }
            TokenError::BadScope(error) => write!(f, "token scope refused: {error}"),
        }
    }
}

impl std::error::Error for TokenError {}

/// A signing key refused for being too short.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeakKey {
    pub kid: String,
    pub bytes: usize,
}

impl fmt::Display for WeakKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {:?} has {} bytes; at least {KEY_BYTES_MIN} needed", self.kid, self.bytes)
    }
}

impl std::error::Error for WeakKey {}

/// The active signing keys, by key id, and the clock skew allowed when judging expiry.
#[derive(Clone, Debug)]
pub struct Keyring {
    keys: BTreeMap<String, hmac::Key>,
    /// How far the server's clock may be behind (or ahead of) the issuer's, in milliseconds.
    pub skew_ms: u64,
}

impl Keyring {
    /// An empty keyring (which admits no token) allowing one minute of skew.
    pub fn new() -> Keyring {
        Keyring { keys: BTreeMap::new(), skew_ms: 60_000 }
    }

    /// Activates a key.
    pub fn insert(&mut self, kid: impl Into<String>, secret: &[u8]) -> Result<(), WeakKey> {
        let kid = kid.into();
        if secret.len() < KEY_BYTES_MIN {
            return Err(WeakKey { kid, bytes: secret.len() });
        }
        self.keys.insert(kid, hmac::Key::new(hmac::HMAC_SHA256, secret));
        Ok(())
    }

    /// Retires a key: tokens it signed are refused from now on. Whether it was active.
    pub fn retire(&mut self, kid: &str) -> bool {
        self.keys.remove(kid).is_some()
    }

    /// The ids of the active keys.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Signs `claims` with key `kid`.
    pub fn issue(&self, kid: &str, claims: &Claims) -> Result<String, TokenError> {
        let key = self.key(kid)?;
        let header = Header { alg: "HS256".into(), typ: Some("JWT".into()), kid: Some(kid.into()) };
        let mut token = encode_json(&header);
        token.push('.');
        token.push_str(&encode_json(claims));
        let tag = hmac::sign(key, token.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(tag.as_ref()));
        Ok(token)
    }

    /// The claims of a genuine token valid at `now`.
    pub fn verify(&self, token: &str, now: WallTime) -> Result<Claims, TokenError> {
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        let malformed = |detail: &str| TokenError::Malformed { detail: detail.to_owned() };
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("a token has three parts separated by dots"));
        };
        let header: Header = decode_json(header).map_err(|e| malformed(&format!("header: {e}")))?;
        if header.alg != "HS256" {
            return Err(TokenError::UnsupportedAlgorithm { alg: header.alg });
        }
        let kid = header.kid.ok_or_else(|| malformed("the header names no key (kid)"))?;
        let key = self.key(&kid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| malformed("signature is not base64url"))?;
        let signed = &token[..header_and_payload_len(token)];
        hmac::verify(key, signed.as_bytes(), &signature).map_err(|_| TokenError::BadSignature)?;
        let claims: Claims =
            decode_json(payload).map_err(|e| malformed(&format!("claims: {e}")))?;
        let now_ms = now.0;
        if now_ms.saturating_sub(self.skew_ms) >= claims.exp.saturating_mul(1_000) {
            return Err(TokenError::Expired { expired_at_s: claims.exp });
        }
        if let Some(nbf) = claims.nbf
            && now_ms.saturating_add(self.skew_ms) < nbf.saturating_mul(1_000)
        {
            return Err(TokenError::NotYetValid { valid_from_s: nbf });
        }
        Ok(claims)
    }

    /// What a token admits replica `replica` to at `now`.
    pub fn admit(
        &self,
        token: &str,
        replica: ReplicaId,
        now: WallTime,
    ) -> Result<Grant, TokenError> {
        let claims = self.verify(token, now)?;
        if !claims.replicas.contains(&replica.0) {
            return Err(TokenError::ReplicaNotGranted { replica: replica.0 });
        }
        let scopes =
            |list: &[String]| list.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>();
        let read = scopes(&claims.read).map_err(TokenError::BadScope)?;
        let write = scopes(&claims.write).map_err(TokenError::BadScope)?;
        Ok(Grant { user: claims.sub, read, write })
    }

    fn key(&self, kid: &str) -> Result<&hmac::Key, TokenError> {
        self.keys.get(kid).ok_or_else(|| TokenError::UnknownKey { kid: kid.to_owned() })
    }
}

impl Default for Keyring {
    fn default() -> Keyring {
        Keyring::new()
    }
}

/// The bytes the signature covers: everything before the last dot.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn encode_json<T: Serialize>(value: &T) -> String {
    // Our own claim and header types always serialize: no maps with non-string keys.
    let json = serde_json::to_vec(value).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, String> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| "not base64url".to_owned())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
