//! The training worker: receives configs and files from the page, runs the same pipeline and
//! training loop as `qnn train`, and streams progress back. Runs in a dedicated Web Worker so
//! that neither training nor WebGPU's shader compilation blocks the page.
//!
//! Its own crate so that Burn (and the CubeCL compiler's self-registering dialects, which no
//! link-time pass removes) stay out of the page's wasm.

#[cfg(target_family = "wasm")]
mod worker;

fn main() {
    #[cfg(target_family = "wasm")]
    worker::start();
    #[cfg(not(target_family = "wasm"))]
    eprintln!(
        "the training worker is part of the browser trainer: run `trunk serve` at the repository root"
    );
}
