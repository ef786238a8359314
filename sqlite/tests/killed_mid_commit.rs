//! A process killed with SIGKILL at any moment, mid-commit included, leaves a store that holds
//! every commit that had returned and no part of any other.
//!
//! The test runs its own binary again as the child (`crash_child`, ignored unless asked for),
//! which commits in a loop and prints each commit's number once `commit` has returned.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use driftsync_core::{
    ClientMeta, Hlc, Mutation, Op, OpBody, OpId, RecordKey, RecordState, ReplicaId, Seq, Stamp,
    Store,
};
use driftsync_sqlite::{Durability, SqliteStore};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CHILD_STORE: &str = "DRIFTSYNC_CRASH_CHILD_STORE";
const KILLS: u32 = 40;

/// Commit `n`: a record, an outbox op and the bookkeeping that counts them, in one batch.
fn commit_number(n: u64) -> Vec<Mutation> {
    let key = RecordKey::new("notes", format!("n{n:06}"));
    let stamp = Stamp::new(Hlc { wall_ms: n, logical: 0 }, ReplicaId(1));
    let op = Op {
        id: OpId { replica: ReplicaId(1), seq: Seq(n) },
        stamp,
        key,
        body: OpBody::Delete,
        reason: None,
    };
    vec![
        Mutation::Record { key: op.key.clone(), state: Some(RecordState::default()) },
        Mutation::OutboxPut(op),
        Mutation::ClientMeta(ClientMeta { next_seq: Seq(n + 1), ..ClientMeta::default() }),
    ]
}

/// The number of the last whole commit in the store, after checking that every commit up to
/// it is whole and nothing of a later one is there.
fn last_whole_commit(path: &Path) -> u64 {
    let store = SqliteStore::open(path, Durability::Full).expect("the store reopens after a kill");
    let stored = store.load().expect("the store loads");
    let last = stored.client_meta.map_or(0, |meta| meta.next_seq.0 - 1);
    assert_eq!(stored.records.len() as u64, last, "records disagree with the bookkeeping");
    assert_eq!(
        stored.outbox.keys().map(|seq| seq.0).collect::<Vec<_>>(),
        (1..=last).collect::<Vec<_>>()
    );
    last
}

#[test]
#[ignore = "the child process of every_returned_commit_survives_sigkill"]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_STORE) else {
        return;
    };
    let mut store = SqliteStore::open(&path, Durability::Full).expect("the child opens its store");
    let stored = store.load().expect("the child loads");
    let mut next = stored.client_meta.map_or(1, |meta| meta.next_seq.0);
    loop {
        store.commit(commit_number(next)).expect("the child commits");
        // The parent reads this line as proof that the commit returned.
        #[allow(clippy::print_stdout)]
        {
            println!("committed {next}");
        }
        next += 1;
    }
}

#[test]
fn every_returned_commit_survives_sigkill() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("killed.db");
    let seed = 0xdead_5eed;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut returned = 0;
    for kill in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().expect("this test's binary"))
            .args(["--exact", "crash_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_STORE, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the child starts");
        thread::sleep(Duration::from_millis(rng.random_range(5..60)));
        child.kill().expect("SIGKILL is sent");
        child.wait().expect("the child is reaped");
        let stdout = child.stdout.take().expect("the child's output");
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line of output");
            if let Some(number) = line.strip_prefix("committed ") {
                returned = returned.max(number.parse::<u64>().expect("a commit number"));
            }
        }
        let whole = last_whole_commit(&path);
        assert!(
            whole >= returned,
            "kill {kill} (seed {seed:#x}): commit {returned} had returned, the store holds {whole}"
        );
        returned = whole;
    }
    assert!(returned > u64::from(KILLS), "the children made too little progress to show much");
}
