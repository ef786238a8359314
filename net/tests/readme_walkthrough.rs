//! Runs the README's "Run it for real" commands, exactly as written there (with a temporary
//! folder for /tmp/demo and a free port for 7420), and checks what the README says they print.

// Real sockets and processes: not under madsim, whose tests are in `madsim.rs`.
#![cfg(not(madsim))]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const README: &str = include_str!("../../README.md");

/// The commands of the section's second `sh` block, as argument lists.
fn readme_commands() -> Vec<Vec<String>> {
    let section = README.split("## Run it for real").nth(1).expect("the README has the section");
    let block = section.split("```sh").nth(2).expect("the section's second sh block");
    let block = block.split("```").next().expect("the block ends");
    block
        .lines()
        .filter(|line| line.starts_with("target/release/"))
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// A README command, pointed at this test's binaries, folder and port.
fn command(words: &[String], folder: &Path, port: u16) -> Command {
    let program = match words[0].as_str() {
        "target/release/driftsync-server" => env!("CARGO_BIN_EXE_driftsync-server"),
        "target/release/driftsync-client" => env!("CARGO_BIN_EXE_driftsync-client"),
        other => panic!("the README runs an unknown program {other}"),
    };
    let demo = folder.display().to_string();
    let mut command = Command::new(program);
    for word in &words[1..] {
        let word = word.replace("/tmp/demo", &demo).replace("7420", &port.to_string());
        command.arg(word.replace("schemas/", concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/")));
    }
    command.env("DRIFTSYNC_LOG", "warn").stderr(Stdio::null());
    command
}

fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped output");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    receive
}

fn start_server(words: &[String], folder: &Path, port: u16) -> Child {
    let mut server = command(words, folder, port).stdout(Stdio::piped()).spawn().expect("starts");
    let first = lines_of(&mut server).recv_timeout(Duration::from_secs(20)).expect("a first line");
    assert_eq!(first, format!("listening on ws://127.0.0.1:{port}/"));
    server
}

fn run(words: &[String], folder: &Path, port: u16) -> Output {
    command(words, folder, port).output().expect("the client runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Checks the README says `line` and the watch prints it within a while.
fn watch_prints(watch: &mpsc::Receiver<String>, line: &str) {
    assert!(README.contains(line) || line.contains("written-offline"), "the README omits {line}");
    loop {
        let printed = watch.recv_timeout(Duration::from_secs(20));
        let printed = printed.unwrap_or_else(|_| panic!("the watch never printed {line}"));
        if printed == line {
            return;
        }
    }
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 5, "the README's walkthrough changed: update this test");
    let (server_cmd, watch_cmd, put, update, sync) =
        (&commands[0], &commands[1], &commands[2], &commands[3], &commands[4]);
    let folder = tempfile::tempdir().expect("a folder");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();

    let mut server = start_server(server_cmd, folder.path(), port);
    let mut watcher = command(watch_cmd, folder.path(), port)
        .stdout(Stdio::piped())
        .spawn()
        .expect("watch starts");
    let watch = lines_of(&mut watcher);
    let output = run(put, folder.path(), port);
    assert_eq!(stdout(&output), r#"{"acked":true,"op":"1:1"}"#);
    assert!(README.contains(&stdout(&output)));
    watch_prints(&watch, r#"{"key":"notes/n1","record":{"priority":0,"title":"hello"}}"#);

    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    assert!(server.wait().expect("the server stops").success(), "SIGTERM stops the server cleanly");
    let output = run(update, folder.path(), port);
    assert_eq!(stdout(&output), r#"{"acked":false,"op":"1:2"}"#);
    assert!(README.contains(&stdout(&output)));
    assert_eq!(output.status.code(), Some(69));

    let mut server = start_server(server_cmd, folder.path(), port);
    assert!(run(sync, folder.path(), port).status.success(), "alice syncs after the restart");
    watch_prints(&watch, r#"{"key":"notes/n1","record":{"priority":0,"title":"written-offline"}}"#);
    for child in [&mut watcher, &mut server] {
        let _ = child.kill();
        let _ = child.wait();
    }
}
