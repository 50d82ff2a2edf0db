//! Page–worker messages as the receiver reads them (see `harness::message`): any input must be
//! a message the receiver can use or an error, never a panic, an abort, a hang or a memory
//! blow-up.
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::message(data);
});
