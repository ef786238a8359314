#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| driftsync_fuzz::ws_frames(data));
