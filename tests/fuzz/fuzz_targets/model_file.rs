//! The model-file reader (see `harness::model_file`): any input must give a model or an error,
//! never a panic, an abort or an allocation out of proportion to the file.
#![no_main]

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::model_file(data);
});
