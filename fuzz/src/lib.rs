//! The bodies of driftsync's fuzz targets, one per kind of input a peer or a user can hand us:
//! the wire decoder, a server's WebSocket frames, scenario files, schema files and repro files.
//!
//! Each takes arbitrary bytes and returns normally when the code under test answered them with
//! a value or an error; a panic is the finding. Beyond "no panic", each checks what must hold
//! of an input that was accepted (a decoded message encodes back to itself, a parsed schema
//! starts a server, a repro survives its own round trip), so a fuzzer can also find wrong
//! answers. `libfuzzer/` runs them under cargo-fuzz on nightly; `tests/corpora.rs` replays
//! every committed corpus input on stable, so CI keeps each input that ever found a bug.

mod files;
mod frames;

pub use files::{repro_file, scenario_file, schema_file};
pub use frames::{decode_message, ws_frames};

/// A target: any bytes in, a normal return or a panic out.
pub type Target = fn(&[u8]);

/// The name of each target, as its corpus folder and its cargo-fuzz binary are named.
pub const TARGETS: [(&str, Target); 5] = [
    ("decode_message", decode_message),
    ("ws_frames", ws_frames),
    ("scenario_file", scenario_file),
    ("schema_file", schema_file),
    ("repro_file", repro_file),
];

/// Inputs whose first byte is odd have the rest sealed (checksummed) before use: bytes of
/// random content almost never carry a valid seal, and without one they never reach the parser
/// behind it. Even first bytes test the seal check itself.
fn sealed_or_raw(data: &[u8]) -> (bool, &[u8]) {
    match data.split_first() {
        Some((mode, rest)) => (mode & 1 == 1, rest),
        None => (false, data),
    }
}
