//! A synthetic CSV with Criteo's schema, at any row count: the benchmark input for full-scale
//! runs (the real Criteo has 45.8 M rows; its licence keeps it out of the repository).
//!
//! Columns as in FuxiCTR's Criteo_x4 files: `Label`, 13 count features `I1..I13` (log-normal
//! integers, missing at Criteo's rates) and 26 categorical features `C1..C26` (8-hex-digit
//! hashed tokens, missing at Criteo's rates). Each categorical column draws token ranks from a
//! Zipf law over the column's distinct-value count in the full Criteo file, so frequencies are
//! long-tailed and most distinct tokens are rare, as in the real data. The label (about 25 %
//! positive) depends on a few fields and one pairwise interaction, so a model has something to
//! learn.

use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Zipf};

/// Distinct values of `C1..C26` in the full Criteo (Kaggle display-ads) training file.
pub const CRITEO_CARDINALITIES: [u64; 26] = [
    1_460, 583, 10_131_227, 2_202_608, 305, 24, 12_517, 633, 3, 93_145, 5_683, 8_351_593, 3_194,
    27, 14_992, 5_461_306, 10, 5_652, 2_173, 4, 7_046_547, 18, 15, 286_181, 105, 142_572,
];

/// Share of missing values of `C1..C26` in Criteo.
const CATEGORICAL_MISSING: [f64; 26] = [
    0.0, 0.0, 0.034, 0.034, 0.0, 0.121, 0.0, 0.0, 0.0, 0.0, 0.0, 0.034, 0.0, 0.0, 0.0, 0.034, 0.0,
    0.0, 0.44, 0.44, 0.034, 0.0, 0.0, 0.034, 0.44, 0.44,
];

/// Share of missing values and mean of `I1..I13` in Criteo.
const INTEGER_MISSING: [f64; 13] = [
    0.454, 0.0, 0.215, 0.217, 0.026, 0.224, 0.044, 0.0005, 0.044, 0.454, 0.044, 0.767, 0.217,
];
const INTEGER_MEAN: [f64; 13] = [
    3.5, 105.8, 26.9, 7.3, 18_538.0, 116.1, 16.3, 12.5, 106.1, 0.6, 2.7, 1.0, 8.2,
];

/// Parameters of a synthetic Criteo-schema file.
#[derive(Debug, Clone)]
pub struct CriteoLike {
    pub rows: u64,
    pub seed: u64,
    /// Multiplies every categorical column's distinct-value count (1.0: Criteo's own; small
    /// values give a file whose vocabularies are complete after a few thousand rows).
    pub cardinality_scale: f64,
}

/// Zipf exponent of the token ranks: a long tail in which most distinct tokens are rare.
const ZIPF_EXPONENT: f64 = 1.05;

impl CriteoLike {
    /// The header line's column names, in file order.
    pub fn columns() -> Vec<String> {
        std::iter::once("Label".to_string())
            .chain((1..=13).map(|i| format!("I{i}")))
            .chain((1..=26).map(|i| format!("C{i}")))
            .collect()
    }

    /// Writes the CSV (header and `rows` rows) to `out`.
    pub fn write(&self, out: impl Write) -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(1 << 20, out);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let ranks: Vec<Zipf<f64>> = CRITEO_CARDINALITIES
            .iter()
            .map(|&n| {
                let n = ((n as f64) * self.cardinality_scale).round().max(1.0);
                Zipf::new(n, ZIPF_EXPONENT).expect("n ≥ 1 and a positive exponent")
            })
            .collect();
        let counts: Vec<LogNormal<f64>> = INTEGER_MEAN
            .iter()
            .map(|&mean| {
                let sigma: f64 = 1.2;
                LogNormal::new(mean.ln() - sigma * sigma / 2.0, sigma).expect("a finite sigma")
            })
            .collect();
        writeln!(out, "{}", Self::columns().join(","))?;
        let mut line = String::with_capacity(512);
        let mut tokens = [0u32; 26];
        let mut integers = [None::<i64>; 13];
        for _ in 0..self.rows {
            for (i, slot) in integers.iter_mut().enumerate() {
                *slot = (!rng.random_bool(INTEGER_MISSING[i])).then(|| {
                    let v = counts[i].sample(&mut rng).floor() as i64;
                    if i == 1 { v - 1 } else { v }
                });
            }
            for (c, slot) in tokens.iter_mut().enumerate() {
                *slot = if rng.random_bool(CATEGORICAL_MISSING[c]) {
                    0
                } else {
                    ranks[c].sample(&mut rng) as u32
                };
            }
            let sign = |c: usize| {
                if tokens[c] != 0 && token_hash(c, tokens[c]) & 1 == 1 {
                    1.0
                } else {
                    -1.0
                }
            };
            let activity = integers[0].map_or(0.0, |v| (1.0 + v.max(0) as f64).ln());
            let logit =
                -1.2 + 0.5 * sign(0) + 0.6 * sign(1) * sign(5) + 0.25 * sign(13) - 0.15 * activity;
            let click = rng.random_bool(1.0 / (1.0 + (-logit).exp()));

            line.clear();
            line.push(if click { '1' } else { '0' });
            for v in integers {
                line.push(',');
                if let Some(v) = v {
                    line.push_str(&v.to_string());
                }
            }
            for (c, &rank) in tokens.iter().enumerate() {
                line.push(',');
                if rank != 0 {
                    line.push_str(&format!("{:08x}", token_hash(c, rank)));
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        out.flush()
    }
}

/// The token of rank `rank` in column `c`: a fixed 32-bit hash, printed like Criteo's.
fn token_hash(c: usize, rank: u32) -> u32 {
    // SplitMix64's finaliser over (column, rank).
    let mut z = ((c as u64) << 32 | rank as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_have_criteo_columns_missing_values_and_long_tails() {
        let spec = CriteoLike {
            rows: 20_000,
            seed: 3,
            cardinality_scale: 1.0,
        };
        let mut bytes = Vec::new();
        spec.write(&mut bytes).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(reader.headers().unwrap().len(), 40);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 20_000);
        let clicks = rows.iter().filter(|r| &r[0] == "1").count() as f64 / 20_000.0;
        assert!((0.15..0.35).contains(&clicks), "{clicks}");
        let missing_i12 = rows.iter().filter(|r| r[12].is_empty()).count() as f64 / 20_000.0;
        assert!((0.72..0.81).contains(&missing_i12), "{missing_i12}");
        // C3 (10 M distinct in Criteo): mostly tokens seen once; C9 (3 distinct): all frequent.
        let distinct = |col: usize| {
            let mut counts = std::collections::HashMap::new();
            for r in &rows {
                *counts.entry(r[col].to_string()).or_insert(0) += 1;
            }
            counts
        };
        let c3 = distinct(14 + 2);
        let once = c3.values().filter(|&&n| n == 1).count();
        assert!(
            c3.len() > 5_000 && once * 2 > c3.len(),
            "{} {once}",
            c3.len()
        );
        assert_eq!(distinct(14 + 8).len(), 3);
        assert!(
            rows.iter()
                .all(|r| r[14 + 2].is_empty() || r[14 + 2].len() == 8)
        );
        // Same seed, same file.
        let mut again = Vec::new();
        spec.write(&mut again).unwrap();
        assert_eq!(bytes, again);
    }
}
