//! The config reader through to the typed configs (see `harness::config`): any input must give
//! configs or an error, never a panic, an abort, a hang or a memory blow-up.
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::config(data);
});
