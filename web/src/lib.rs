//! QNN Lab's browser trainer. The page ([`app`]) handles data, schema, settings and pictures; the
//! training worker (this package's `worker` binary, `src/bin/worker`) runs the shared pipeline
//! and training loop. They talk through the messages of crate `qnn-protocol` (`web/protocol`).
//! Natively only the page's state and logic compile (settings, races, map frames, lessons, the
//! planted example's parameters, schema edits in links, opened configs, saved runs, uploads),
//! and are tested.

pub mod columns;
pub mod configs;
pub mod frames;
pub mod lesson;
pub mod planted;
pub mod race;
pub mod runs;
pub mod settings;
pub mod uploads;

#[cfg(target_family = "wasm")]
pub mod app;
#[cfg(target_family = "wasm")]
mod browser;
#[cfg(target_family = "wasm")]
mod charts;
#[cfg(target_family = "wasm")]
mod examples;
#[cfg(target_family = "wasm")]
mod heatmap;
#[cfg(target_family = "wasm")]
mod store;
