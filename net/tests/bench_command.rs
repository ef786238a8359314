//! `driftsync-client bench` against a real server: it writes, every write is acknowledged and
//! seen by its watcher, and it says so in one JSON line; bad arguments exit 2.

// Real processes: not under madsim, whose tests are in `madsim.rs`.
#![cfg(not(madsim))]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/notes.toml");

/// Runs a bench of replicas from `replica`, with `options` before the `bench` command.
fn bench(url: &str, folder: &str, replica: &str, options: &[&str], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftsync-client"))
        .args(["--server", url, "--db", folder, "--schema", SCHEMA, "--replica", replica])
        .args(options)
        .arg("bench")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("the bench runs")
}

#[test]
fn a_short_bench_reports_every_write_acknowledged_and_seen() {
    let folder = tempfile::tempdir().expect("a folder");
    let db = folder.path().join("server.db");
    let mut server = Command::new(env!("CARGO_BIN_EXE_driftsync-server"))
        .args(["--db", &db.display().to_string(), "--schema", SCHEMA, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    let stdout = server.stdout.take().expect("the server's output");
    BufReader::new(stdout).read_line(&mut line).expect("the server says where it listens");
    let url = line.trim().strip_prefix("listening on ").expect("a listening line").to_owned();
    let clients = folder.path().join("clients").display().to_string();

    let output = bench(&url, &clients, "100", &[], &["--clients", "2", "--duration-s", "1"]);
    assert!(output.status.success(), "the bench succeeds");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    let writes = report["writes"].as_u64().expect("a write count");
    assert!(writes > 0, "{report}");
    assert_eq!(report["unacknowledged"], 0, "{report}");
    assert!(report["up_ops_per_s"].as_f64().expect("a rate") > 0.0, "{report}");
    assert!(report["write_to_ack_ms"]["p50"].as_f64().expect("a percentile") > 0.0, "{report}");
    assert_eq!(report["compression"], "lz4", "{report}");
    let down = report["bytes_down"].as_u64().expect("bytes down");
    assert!(down > 0 && report["bytes_up"].as_u64().expect("bytes up") > 0, "{report}");
    assert!(down <= report["bytes_down_uncompressed"].as_u64().expect("plain"), "{report}");

    let plain = folder.path().join("plain").display().to_string();
    let args = ["--clients", "2", "--duration-s", "1"];
    let output = bench(&url, &plain, "200", &["--no-compression"], &args);
    assert!(output.status.success(), "the bench without compression succeeds");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    assert_eq!(report["compression"], "none", "{report}");
    assert_eq!(report["bytes_down"], report["bytes_down_uncompressed"], "{report}");

    let refused = bench(&url, &clients, "100", &[], &["--write-ratio", "2"]);
    assert_eq!(refused.status.code(), Some(2), "a write ratio above 1 is a usage error");
    let _ = server.kill();
    let _ = server.wait();
}
