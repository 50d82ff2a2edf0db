//! `qnn generate criteo --rows N --out CSV`: synthetic data with a real dataset's schema, for
//! benchmarks and for trying full-scale runs without downloading anything.

use std::path::PathBuf;

use anyhow::Result;
use qnn_data::criteo_like::CriteoLike;

use crate::files::write_atomic_with;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Schema {
    /// Label, I1..I13 (counts with missing values), C1..C26 (hashed tokens with Criteo's
    /// cardinalities and long-tailed frequencies); use with `configs/criteo_x4/`.
    Criteo,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Whose schema the file has.
    pub schema: Schema,
    /// Data rows to write (Criteo has 45,840,617).
    #[arg(long)]
    pub rows: u64,
    /// The CSV to write (replaced atomically when complete).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the file's random streams: the same seed gives the same file.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Multiplies every categorical column's number of distinct tokens.
    #[arg(long, default_value_t = 1.0)]
    pub cardinality_scale: f64,
}

pub fn run(args: Args) -> Result<()> {
    if !(args.cardinality_scale > 0.0 && args.cardinality_scale.is_finite()) {
        anyhow::bail!(
            "--cardinality-scale must be a positive number, not {}",
            args.cardinality_scale
        );
    }
    let started = web_time::Instant::now();
    match args.schema {
        Schema::Criteo => {
            let spec = CriteoLike {
                rows: args.rows,
                seed: args.seed,
                cardinality_scale: args.cardinality_scale,
            };
            write_atomic_with(&args.out, |f| Ok(spec.write(f)?))?;
        }
    }
    let size = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    println!(
        "{} rows ({:.1} MB) written to {} in {:.1} s",
        args.rows,
        size as f64 / 1e6,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
