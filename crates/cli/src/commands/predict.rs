//! `qnn predict --model FILE --data CSV --out CSV`: every input row, plus a probability column.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

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

    // Second pass over the input: copy every record as it is and add the probability.
    let input = fs::File::open(&args.data)
        .with_context(|| format!("cannot open {}", args.data.display()))?;
    let mut reader = csv::ReaderBuilder::new().from_reader(std::io::BufReader::new(input));
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = reader.byte_headers()?.clone();
    if header.iter().any(|h| h == args.column.as_bytes()) {
        bail!(
            "{}: already has a column `{}`; choose another name with --column",
            args.data.display(),
            args.column
        );
    }
    header.push_field(args.column.as_bytes());
    writer.write_byte_record(&header)?;
    let mut record = csv::ByteRecord::new();
    let mut row = 0;
    while reader.read_byte_record(&mut record)? {
        let p = probs
            .get(row)
            .context("the input changed while predicting")?;
        record.push_field(format!("{p}").as_bytes());
        writer.write_byte_record(&record)?;
        row += 1;
    }
    if row != probs.len() {
        bail!(
            "{}: the input changed while predicting",
            args.data.display()
        );
    }
    let bytes = writer.into_inner().context("cannot format the output")?;
    write_atomic(&args.out, &bytes)?;
    println!(
        "{row} rows with `{}` written to {}",
        args.column,
        args.out.display()
    );
    Ok(())
}
