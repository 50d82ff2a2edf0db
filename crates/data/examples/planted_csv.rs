//! Writes the browser trainer's planted-interaction example to stdout:
//! `cargo run -p qnn-data --example planted_csv > static/examples/planted/planted.csv`

use qnn_data::synthetic::{BUNDLED_PLANTED, SyntheticSpec};

fn main() {
    let (rows, seed) = BUNDLED_PLANTED;
    print!("{}", SyntheticSpec::planted(rows, seed).to_csv());
}
