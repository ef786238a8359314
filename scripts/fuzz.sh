#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a number of executions each, then merges what
# the fuzzer found into the committed corpora, keeping only inputs that add coverage:
#   scripts/fuzz.sh [--runs N] [target ...]      (default: 10,000,000 runs, every target)
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). A crash stops its
# target: libFuzzer prints the input's path under $FUZZ_WORK/artifacts; replay it with
#   fuzz/libfuzzer/target/x86_64-unknown-linux-gnu/release/<target> <input>
# then keep it in fuzz/corpus/<target>/ so that `cargo test -p driftsync-fuzz` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10000000
if [ "${1:-}" = "--runs" ]; then runs="$2"; shift 2; fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode_message ws_frames scenario_file schema_file repro_file)
fi
work="${FUZZ_WORK:-/tmp/driftsync-fuzz}"
mkdir -p "$work/artifacts"
# No sanitizer: the code under test forbids unsafe code, and ASan would halve the rate.
cargo +nightly fuzz build --fuzz-dir fuzz/libfuzzer --sanitizer none
bin=fuzz/libfuzzer/target/x86_64-unknown-linux-gnu/release
for target in "${targets[@]}"; do
  found="$work/$target"
  mkdir -p "$found"
  echo "== $target: $runs runs"
  # Bounded memory and time per input: an input that allocates past 512 MiB or runs past 10 s
  # is a finding, as a crash is.
  "$bin/$target" "$found" "fuzz/corpus/$target" -runs="$runs" -rss_limit_mb=2048 \
    -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$target-" 2>&1 | grep -E '^(#[0-9]+ +DONE|Done|stat::)|ERROR|panicked|SUMMARY'
  # Only inputs that reach new code (edges, not hit counts) join the committed corpus, which
  # keeps it small enough to commit and to replay on every `cargo test`.
  "$bin/$target" -merge=1 -use_counters=0 -use_value_profile=0 "fuzz/corpus/$target" "$found" \
    2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
done
