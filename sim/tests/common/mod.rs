//! What the command-line test files share: scratch directories and running the binary the way
//! a CI job would, but without ever writing into the source tree.

#![allow(dead_code, unreachable_pub)]

pub mod planted;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

/// Messages take 5 s but convergence is due 1 s after the heal: every seed fails liveness.
pub const SLOW_SCENARIO: &str = r#"
name = "slow"
[topology]
clients = 2
[workload]
writes_per_client = 5
[network]
latency_ms = 5000
[run]
chaos_s = 10
liveness_deadline_s = 1
"#;

/// A directory of its own for one test, removed when the test ends.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        // A counter as well as the process id: one test may ask for several directories.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("driftsync-test-{}-{n}-{test}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the temporary directory can be created");
        TempDir(path)
    }

    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("the temporary file can be written");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn reports(&self) -> PathBuf {
        self.path("reports")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary with a clean CI environment (so a test suite running inside a sharded or
/// GitHub job does not shard or annotate the runs under test), in a scratch working directory
/// (so a run without `--reports-dir` writes its default `reports/` there, not into the tree).
pub fn driftsync(args: &[&dyn AsRef<std::ffi::OsStr>], env: &[(&str, &str)]) -> Output {
    let cwd = TempDir::new("cwd");
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftsync"));
    command.current_dir(&cwd.0).args(args.iter().map(|arg| arg.as_ref()));
    for name in [
        "CI_NODE_INDEX",
        "CI_NODE_TOTAL",
        "JOB_COMPLETION_INDEX",
        "JOB_COMPLETION_TOTAL",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_ACTIONS",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("the driftsync binary starts")
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("the binary exits rather than being killed")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}
