//! The training worker: receives configs and files from the page, runs the same pipeline and
//! training loop as `qnn train`, and streams progress back. Runs in a dedicated Web Worker so
//! that neither training nor WebGPU's shader compilation blocks the page.
//!
//! A binary of its own so that Burn (and the CubeCL compiler's self-registering dialects, which
//! no link-time pass removes) stay out of the page's wasm; the page's code never names Burn.

#[cfg(target_family = "wasm")]
mod worker;

// Synthesised by wasm-ld: runs every static constructor (CubeCL registers its compiler dialects
// in some). A module that never calls it is linked "command-style", with every export wrapped to
// run all constructors first; JS calls into the worker's wasm for each value it hands over, and
// the wrappers made that ~0.7 ms a call (10 s to post one Finished message of the tiny example,
// WebGPU training 4× slower). Calling it once from main makes the linker leave the exports alone.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code)]
unsafe extern "C" {
    fn __wasm_call_ctors();
}

fn main() {
    #[cfg(target_family = "wasm")]
    {
        // SAFETY: called once, first thing, before any code that relies on a constructor.
        #[allow(unsafe_code)]
        unsafe {
            __wasm_call_ctors()
        };
        worker::start();
    }
    #[cfg(not(target_family = "wasm"))]
    eprintln!(
        "the training worker is part of the browser trainer: run `trunk serve` at the repository root"
    );
}
