//! The real binaries with signed tokens: a key made by `driftsync-server keygen`, a token
//! signed by `driftsync-server token`, a server that admits only such tokens, `verify` on the
//! file it leaves, and both binaries refusing to expose a server or a connection off this
//! machine without keys and TLS.

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

    let token = run(
        SERVER,
        &["token", "--keys", &keys, "--kid", "k1", "--user", "alice"]
            .into_iter()
            .chain(["--replica", "1", "--write", "notes/*"])
            .collect::<Vec<_>>(),
    );
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token_file = folder.path().join("token").display().to_string();
    std::fs::write(&token_file, text(&token)).expect("written");
    let admitted = put(&url, &client_db, Some(&token_file), "n2");
    assert!(admitted.status.success(), "{}", String::from_utf8_lossy(&admitted.stderr));

    server.kill().expect("the server stops");
    server.wait().expect("it is gone");
    let verified = run(SERVER, &["verify", "--db", &server_db]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert!(text(&verified).contains("2 entries"), "{}", text(&verified));
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
