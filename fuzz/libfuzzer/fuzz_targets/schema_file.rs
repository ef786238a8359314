#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| driftsync_fuzz::schema_file(data));
