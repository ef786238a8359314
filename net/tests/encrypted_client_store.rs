//! `driftsync-client --store-key-file`: the client's file holds no value it wrote in the
//! clear, the value still syncs, and the file cannot be opened without its key; and neither
//! binary's log at `info` carries a value or a reason a user wrote.

// Real sockets and processes: not under madsim.
#![cfg(not(madsim))]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/notes.toml");
const SERVER: &str = env!("CARGO_BIN_EXE_driftsync-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_driftsync-client");
const SECRET: &str = "meet-at-the-old-mill-0451";

fn client(url: &str, db: &Path, key: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(CLIENT);
    command.args(["--server", url, "--schema", SCHEMA, "--replica", "1", "--wait-s", "3"]);
    command.arg("--db").arg(db);
    if let Some(key) = key {
        command.arg("--store-key-file").arg(key);
    }
    command.args(args).env("DRIFTSYNC_LOG", "info").output().expect("the client runs")
}

fn holds(path: &Path, needle: &str) -> bool {
    let mut bytes = std::fs::read(path).expect("the file");
    bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
    bytes.windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[test]
fn an_encrypted_client_store_holds_no_written_value_and_needs_its_key() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let (server_db, client_db) = (folder.path().join("server.db"), folder.path().join("c.db"));
    let key = folder.path().join("store.key");
    std::fs::write(&key, [42u8; 32]).expect("a key file");
    let mut server = Command::new(SERVER)
        .arg("--db")
        .arg(&server_db)
        .args(["--schema", SCHEMA, "--listen", "127.0.0.1:0"])
        .env("DRIFTSYNC_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("its output")).read_line(&mut line).expect("line");
    let url = line.trim().strip_prefix("listening on ").expect("a listening line").to_owned();

    let title = format!("title={SECRET}");
    let put = ["--reason", SECRET, "put", "notes", "n1", &title];
    let written = client(&url, &client_db, Some(&key), &put);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let client_log = String::from_utf8_lossy(&written.stderr).into_owned();
    assert!(!client_log.contains(SECRET), "{client_log}");
    let read = client(&url, &client_db, Some(&key), &["get", "notes", "n1"]);
    assert!(String::from_utf8_lossy(&read.stdout).contains(SECRET), "read back with its key");
    let without = client(&url, &client_db, None, &["get", "notes", "n1"]);
    assert_eq!(without.status.code(), Some(65), "no key, no store");
    assert!(String::from_utf8_lossy(&without.stderr).contains("encrypted"));
    server.kill().expect("the server stops");
    let server_log = server.wait_with_output().expect("it is gone").stderr;
    let server_log = String::from_utf8_lossy(&server_log);
    assert!(server_log.contains("INFO"), "the server logs at info: {server_log}");
    assert!(!server_log.contains(SECRET), "{server_log}");

    assert!(!holds(&client_db, SECRET), "the client's file holds the value only sealed");
    assert!(holds(&server_db, SECRET), "the value synced (the server's store is not encrypted)");
}
