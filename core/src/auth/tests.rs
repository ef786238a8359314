use super::*;
use crate::ids::{RecordKey, ReplicaId};
use crate::time::WallTime;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW_S: u64 = 1_800_000_000;

fn keyring() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert("k1", SECRET).expect("long enough");
    keys
}

fn claims() -> Claims {
    Claims {
        sub: "alice".into(),
        exp: NOW_S + 3_600,
        nbf: None,
        replicas: vec![7],
        read: vec!["notes".into()],
        write: vec!["notes/alice-*".into()],
    }
}

fn at(seconds: u64) -> WallTime {
    WallTime(seconds * 1_000)
}

#[test]
fn an_issued_token_admits_its_replica_with_its_scopes() {
    let keys = keyring();
    let token = keys.issue("k1", &claims()).expect("known key");
    let grant = keys.admit(&token, ReplicaId(7), at(NOW_S)).expect("valid token");
    assert_eq!(grant.user, "alice");
    assert!(grant.may_write(&RecordKey::new("notes", "alice-1")));
    assert!(!grant.may_write(&RecordKey::new("notes", "bob-1")));
    assert!(grant.may_read(&RecordKey::new("notes", "bob-1")));
    assert!(!grant.may_read(&RecordKey::new("tasks", "t1")));
}

#[test]
fn a_token_for_another_replica_id_is_refused() {
    let keys = keyring();
    let token = keys.issue("k1", &claims()).expect("known key");
    let refused = keys.admit(&token, ReplicaId(8), at(NOW_S));
    assert_eq!(refused, Err(TokenError::ReplicaNotGranted { replica: 8 }));
}

#[test]
fn an_expired_token_is_refused_once_the_skew_allowance_has_passed() {
    let keys = keyring();
    let token = keys.issue("k1", &claims()).expect("known key");
    let exp = claims().exp;
    assert!(keys.verify(&token, at(exp + 59)).is_ok(), "within the minute of skew");
    let refused = keys.verify(&token, at(exp + 60));
    assert_eq!(refused, Err(TokenError::Expired { expired_at_s: exp }));
}

#[test]
fn a_token_not_yet_valid_is_refused() {
    let keys = keyring();
    let early = Claims { nbf: Some(NOW_S + 600), ..claims() };
    let token = keys.issue("k1", &early).expect("known key");
    let refused = keys.verify(&token, at(NOW_S));
    assert_eq!(refused, Err(TokenError::NotYetValid { valid_from_s: NOW_S + 600 }));
}

#[test]
fn a_token_whose_claims_were_altered_fails_its_signature() {
    let keys = keyring();
    let token = keys.issue("k1", &claims()).expect("known key");
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = Claims { replicas: vec![7, 8], write: vec!["*".into()], ..claims() };
    let forged_payload = keys.issue("k1", &forged_claims).expect("known key");
    let forged_payload = forged_payload.split('.').nth(1).expect("three parts");
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_eq!(keys.verify(&forged, at(NOW_S)), Err(TokenError::BadSignature));
}

#[test]
fn a_token_signed_with_a_key_of_another_server_is_refused() {
    let mut other = Keyring::new();
    other.insert("k1", b"another secret of thirty-two bytes!").expect("long enough");
    let token = other.issue("k1", &claims()).expect("known key");
    assert_eq!(keyring().verify(&token, at(NOW_S)), Err(TokenError::BadSignature));
}

#[test]
fn keys_rotate_without_a_flag_day() {
    let mut keys = keyring();
    let old = keys.issue("k1", &claims()).expect("known key");
    keys.insert("k2", b"the next key, also thirty-two bytes").expect("long enough");
    let new = keys.issue("k2", &claims()).expect("known key");
    assert!(keys.verify(&old, at(NOW_S)).is_ok() && keys.verify(&new, at(NOW_S)).is_ok());
    assert!(keys.retire("k1"));
    let refused = keys.verify(&old, at(NOW_S));
    assert_eq!(refused, Err(TokenError::UnknownKey { kid: "k1".into() }));
    assert!(keys.verify(&new, at(NOW_S)).is_ok());
}

#[test]
fn a_token_choosing_another_algorithm_is_refused_before_any_key_is_used() {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let keys = keyring();
    let token = keys.issue("k1", &claims()).expect("known key");
    let payload = token.split('.').nth(1).expect("three parts");
    let header = engine.encode(br#"{"alg":"none","kid":"k1"}"#);
    let refused = keys.verify(&format!("{header}.{payload}."), at(NOW_S));
    assert_eq!(refused, Err(TokenError::UnsupportedAlgorithm { alg: "none".into() }));
}

#[test]
fn malformed_tokens_get_a_reason_and_never_a_panic() {
    let keys = keyring();
    for token in ["x", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30", "\u{0}.\u{0}.\u{0}"] {
        let refused = keys.verify(token, at(NOW_S));
        assert!(matches!(refused, Err(TokenError::Malformed { .. })), "{token:?} gave {refused:?}");
    }
    assert_eq!(keys.verify("", at(NOW_S)), Err(TokenError::Missing));
}

#[test]
fn a_short_signing_key_is_refused() {
    let refused = Keyring::new().insert("k1", b"short");
    assert_eq!(refused, Err(WeakKey { kid: "k1".into(), bytes: 5 }));
}

#[test]
fn a_token_with_a_bad_scope_is_refused_naming_it() {
    let keys = keyring();
    let token = keys.issue("k1", &Claims { write: vec!["no*tes".into()], ..claims() });
    let refused = keys.admit(&token.expect("known key"), ReplicaId(7), at(NOW_S));
    assert!(matches!(refused, Err(TokenError::BadScope(e)) if e.scope == "no*tes"));
}

#[test]
fn a_token_of_realistic_size_verifies() {
    let keys = keyring();
    let many = (0..100).map(|i| format!("notes/user-{i}-*")).collect();
    let big = Claims { read: many, ..claims() };
    let token = keys.issue("k1", &big).expect("known key");
    assert!(token.len() > 2_000, "{} bytes", token.len());
    assert!(keys.admit(&token, ReplicaId(7), at(NOW_S)).is_ok());
}
