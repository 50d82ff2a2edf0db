//! `qnn`: FuxiCTR-compatible training, evaluation, prediction, inspection and tuning of QNN models.

mod commands;
mod config_dir;
mod data;
mod device;
mod files;
mod logging;

use std::process::ExitCode;

// jemalloc, tuned for training's large tensors (see the crate).
use qnn_alloc as _;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// QNN Lab: quadratic neural networks for CTR prediction, with FuxiCTR's configs.
#[derive(Debug, Parser)]
#[command(name = "qnn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train one experiment of a FuxiCTR config directory (like FuxiCTR's run_expid.py).
    Train(commands::train::Args),
    /// Compute the metrics of a model file on a labelled CSV (logloss and AUC; MSE, RMSE and
    /// MAE for a regression model).
    Evaluate(commands::evaluate::Args),
    /// Add the model's prediction (a probability, or a value for regression) to every row of a CSV.
    Predict(commands::predict::Args),
    /// Show which field pairs a model's quadratic layers use (interaction maps).
    Inspect(commands::inspect::Args),
    /// Grid search over a tuner config's `tuner_space` (like FuxiCTR's run_param_tuner.py).
    Tune(commands::tune::Args),
    /// Write a synthetic CSV with a real dataset's schema (benchmarks, full-scale trials).
    Generate(commands::generate::Args),
    /// List the keys a FuxiCTR config may hold: type and range, default, what each does.
    Keys(commands::keys::Args),
}

/// `qnn --version`: what this binary was built with, so that runs of differently built binaries
/// can be told apart (the backends are Cargo features, and so are Burn's GPU options).
fn build_info() -> String {
    let on = |items: &[(&'static str, bool)]| {
        items
            .iter()
            .filter(|(_, built)| *built)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
    };
    let backends = on(&[
        ("cpu", true),
        ("wgpu", cfg!(feature = "wgpu")),
        ("cuda", cfg!(feature = "cuda")),
    ]);
    format!(
        "{}\nbackends: {}\nBurn on the GPU backends: {}",
        env!("CARGO_PKG_VERSION"),
        backends.join(", "),
        if qnn_model::GPU_OPTIONS.is_empty() {
            "no fusion, no autotune".to_string()
        } else {
            qnn_model::GPU_OPTIONS.join(", ")
        }
    )
}

fn main() -> ExitCode {
    // A panic inside the parquet reader on a damaged file comes back as an error naming the
    // file; its panic message would only be noise above that error line.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !qnn_data::panic_becomes_error() {
            report(info)
        }
    }));
    // clap keeps a borrowed version text; this one lives as long as the process anyway.
    let version: &'static str = build_info().leak();
    let cli = Cli::command().long_version(version).get_matches();
    let cli = Cli::from_arg_matches(&cli).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Train(args) => commands::train::run(args),
        Command::Evaluate(args) => commands::evaluate::run(args),
        Command::Predict(args) => commands::predict::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Tune(args) => commands::tune::run(args),
        Command::Generate(args) => commands::generate::run(args),
        Command::Keys(args) => commands::keys::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the context chain, outermost first.
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
