//! `qnn predict --model FILE --data CSV --out CSV`: every input row, plus a probability column.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::commands::evaluate::{ModelArgs, predict_csv};
use crate::files::write_atomic;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    /// CSV with a header and the model's feature columns (a label column is not needed).
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write the input rows with the added column.
    #[arg(long)]
    pub out: PathBuf,
    /// Name of the added column.
    #[arg(long, default_value = "probability")]
    pub column: String,
}

pub fn run(args: Args) -> Result<()> {
    let (_, probs) = predict_csv(&args.model, &args.data, false)?;

    // Second pass over the input: every record as it is, plus the probability.
    let input = fs::File::open(&args.data)
        .with_context(|| format!("cannot open {}", args.data.display()))?;
    let source = args.data.display().to_string();
    let bytes = qnn_data::csv_table::append_column(
        std::io::BufReader::new(input),
        &source,
        &args.column,
        &probs,
    )
    .map_err(|e| match &e.column {
        Some(c) if *c == args.column => {
            anyhow::anyhow!("{e}: choose another name with --column")
        }
        _ => e.into(),
    })?;
    write_atomic(&args.out, &bytes)?;
    println!(
        "{} rows with `{}` written to {}",
        probs.len(),
        args.column,
        args.out.display()
    );
    Ok(())
}
