//! A CSV file through schema inference, the exported config read back, and feature processing
//! (see `harness::csv`): any input must give encoded splits or an error, never a panic, an abort,
//! a hang or a memory blow-up, and the exported config must always read back.
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::csv(data);
});
