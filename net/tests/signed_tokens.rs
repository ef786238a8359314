//! The real binaries with signed tokens: a key made by `driftsync-server keygen`, a token
//! signed by `driftsync-server token`, a server that admits only such tokens, `verify` on the
//! file it leaves, `audit` naming who wrote each op of a record and why, and both binaries
//! refusing to expose a server or a connection off this machine without keys and TLS.

// Real sockets and processes: not under madsim.
#![cfg(not(madsim))]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/notes.toml");
const SERVER: &str = env!("CARGO_BIN_EXE_driftsync-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_driftsync-client");

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).env("DRIFTSYNC_LOG", "off").output().expect("the binary runs")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A keys file with one fresh key, `k1`.
fn keys_file(folder: &Path) -> String {
    let line = run(SERVER, &["keygen", "--kid", "k1"]);
    assert!(line.status.success());
    let path = folder.join("keys.toml");
    std::fs::write(&path, format!("[keys]\n{}\n", text(&line))).expect("written");
    path.display().to_string()
}

/// Starts a server on a free loopback port and returns it with its URL.
fn start_server(db: &str, keys: &str) -> (Child, String) {
    let mut server = Command::new(SERVER)
        .args(["--db", db, "--schema", SCHEMA, "--listen", "127.0.0.1:0", "--keys", keys])
        .env("DRIFTSYNC_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    let stdout = server.stdout.take().expect("its output");
    BufReader::new(stdout).read_line(&mut line).expect("the listening line");
    let url = line.trim().strip_prefix("listening on ").expect("a listening line").to_owned();
    (server, url)
}

fn put(url: &str, db: &str, token_file: Option<&str>, id: &str) -> Output {
    let mut args = vec!["--server", url, "--schema", SCHEMA, "--db", db, "--replica", "1"];
    args.extend(["--wait-s", "3"]);
    if let Some(file) = token_file {
        args.extend(["--token-file", file]);
    }
    args.extend(["put", "notes", id, "title=hello"]);
    run(CLIENT, &args)
}

#[test]
fn a_server_with_keys_admits_only_a_signed_token_and_its_log_verifies_afterwards() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let keys = keys_file(folder.path());
    let server_db = folder.path().join("server.db").display().to_string();
    let client_db = folder.path().join("client.db").display().to_string();
    let (mut server, url) = start_server(&server_db, &keys);

    let refused = put(&url, &client_db, None, "n1");
    assert_eq!(refused.status.code(), Some(69), "without a token the write waits locally");

    let token_file = alice_token_file(folder.path(), &keys);
    let admitted = put(&url, &client_db, Some(&token_file), "n2");
    assert!(admitted.status.success(), "{}", String::from_utf8_lossy(&admitted.stderr));

    server.kill().expect("the server stops");
    server.wait().expect("it is gone");
    let verified = run(SERVER, &["verify", "--db", &server_db]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert!(text(&verified).contains("2 entries"), "{}", text(&verified));
}

/// A token for alice, replica 1, written to a file in `folder`.
fn alice_token_file(folder: &Path, keys: &str) -> String {
    let args = ["token", "--keys", keys, "--kid", "k1", "--user", "alice", "--replica", "1"];
    let token = run(SERVER, &args.into_iter().chain(["--write", "notes/*"]).collect::<Vec<_>>());
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token_file = folder.join("token").display().to_string();
    std::fs::write(&token_file, text(&token)).expect("written");
    token_file
}

#[test]
fn audit_prints_who_wrote_each_op_of_a_record_when_and_why() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let keys = keys_file(folder.path());
    let server_db = folder.path().join("server.db").display().to_string();
    let client_db = folder.path().join("client.db").display().to_string();
    let (mut server, url) = start_server(&server_db, &keys);
    let token_file = alice_token_file(folder.path(), &keys);
    let client = ["--server", &url, "--schema", SCHEMA, "--db", &client_db, "--replica", "1"];
    let client = [&client[..], &["--token-file", &token_file, "--wait-s", "3"]].concat();
    let writes: [&[&str]; 2] = [
        &["--reason", "imported from mail", "put", "notes", "n1", "title=hello"],
        &["increment", "notes", "n1", "count", "5"],
    ];
    for write in writes {
        let written = run(CLIENT, &[&client[..], write].concat());
        assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    }
    server.kill().expect("the server stops");
    server.wait().expect("it is gone");

    let audit = run(SERVER, &["audit", "--db", &server_db, "--record", "notes/n1"]);
    assert!(audit.status.success(), "{}", String::from_utf8_lossy(&audit.stderr));
    let lines: Vec<String> = text(&audit).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], "notes/n1: 2 audited ops (oldest first)", "{lines:?}");
    assert!(lines[1].contains("  pos 1  alice  replica 1 seq 1  put title"), "{}", lines[1]);
    assert!(lines[1].ends_with("\"imported from mail\""), "{}", lines[1]);
    assert!(lines[2].contains("alice") && lines[2].contains("increment count by 5"), "{lines:?}");
    assert!(lines[2].ends_with("(no reason given)"), "{}", lines[2]);
    let year = &lines[1][..4];
    assert!(year.starts_with("20") && lines[1].as_bytes()[10] == b'T', "a UTC time: {}", lines[1]);

    let none = run(SERVER, &["audit", "--db", &server_db, "--record", "notes/other"]);
    assert_eq!(text(&none), "notes/other: 0 audited ops (oldest first)");
    let malformed = run(SERVER, &["audit", "--db", &server_db, "--record", "n1"]);
    assert_eq!(malformed.status.code(), Some(2), "COLLECTION/ID is required");
}

#[test]
fn neither_binary_exposes_plain_or_unauthenticated_traffic_off_this_machine() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let db = folder.path().join("s.db").display().to_string();
    let open = run(SERVER, &["--db", &db, "--schema", SCHEMA, "--listen", "0.0.0.0:0"]);
    assert_eq!(open.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&open.stderr).contains("--insecure"));
    assert!(!Path::new(&db).exists(), "nothing was created");
    let client_db = folder.path().join("c.db").display().to_string();
    let args = ["--server", "ws://192.0.2.1:7420/", "--schema", SCHEMA, "--db", &client_db];
    let plain =
        run(CLIENT, &args.into_iter().chain(["--replica", "1", "watch"]).collect::<Vec<_>>());
    assert_eq!(plain.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("wss://"));
}
