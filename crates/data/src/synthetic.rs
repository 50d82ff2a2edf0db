//! Synthetic CTR data with one planted pairwise interaction.
//!
//! Every field is uniform over its vocabulary. Each token carries a hidden sign; the click
//! probability depends only on the product of the signs of the two planted fields, so no single
//! field predicts the label and only the planted pair does. That makes it the teaching example
//! (the interaction map must light up that pair) and a test of the interaction analysis.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Column, EncodedDataset};
use crate::feature_map::{Feature, FeatureKind, FeatureMap, Vocabulary};

/// Vocabulary sizes (padding and OOV rows included) that add up to Frappe's ΣV = 5383 (spec §B),
/// split over its ten fields in proportion to the distinct values of the public Frappe_x1 files.
pub const FRAPPE_VOCAB_SIZES: [usize; 10] = [954, 4084, 9, 9, 4, 5, 4, 11, 80, 223];

/// Parameters of a synthetic dataset.
#[derive(Debug, Clone)]
pub struct SyntheticSpec {
    /// Table rows per field, padding and OOV included (so at least 3).
    pub vocab_sizes: Vec<usize>,
    /// The two fields whose interaction decides the label; `None` for labels independent of
    /// the features (for speed benchmarks).
    pub planted_pair: Option<(usize, usize)>,
    /// Click probability when the planted signs agree; `1 - strength` when they differ.
    pub strength: f64,
    pub rows: usize,
    pub seed: u64,
}

impl SyntheticSpec {
    /// Six fields of eight tokens each with fields 2 and 5 interacting: the teaching example.
    pub fn planted(rows: usize, seed: u64) -> Self {
        Self {
            vocab_sizes: vec![10; 6],
            planted_pair: Some((2, 5)),
            strength: 0.9,
            rows,
            seed,
        }
    }

    /// Frappe's schema (ten categorical fields, spec §B) with labels that carry no signal.
    pub fn frappe_shaped(rows: usize, seed: u64) -> Self {
        Self {
            vocab_sizes: FRAPPE_VOCAB_SIZES.to_vec(),
            planted_pair: None,
            strength: 0.5,
            rows,
            seed,
        }
    }

    pub fn feature_map(&self) -> FeatureMap {
        FeatureMap {
            dataset_id: "synthetic".into(),
            features: self
                .vocab_sizes
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    Feature::new(
                        format!("f{i}"),
                        FeatureKind::Categorical {
                            vocab: Vocabulary::anonymous(v.saturating_sub(2)),
                        },
                    )
                })
                .collect(),
            labels: vec!["label".into()],
            task: Default::default(),
            group_id: None,
        }
    }

    /// The feature map and the encoded rows (token ids 1..=n, never padding or OOV).
    pub fn generate(&self) -> (FeatureMap, EncodedDataset) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let map = self.feature_map();
        let signs: Vec<Vec<f64>> = self
            .vocab_sizes
            .iter()
            .map(|&v| {
                // Balanced signs, so that the other field's marginal click rate stays 1/2.
                let tokens = v.saturating_sub(2).max(1);
                let mut s: Vec<f64> = (0..tokens)
                    .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
                    .collect();
                s.shuffle(&mut rng);
                // Index by token id: ids start at 1.
                s.insert(0, 0.0);
                s
            })
            .collect();
        let mut columns: Vec<Vec<u32>> =
            vec![Vec::with_capacity(self.rows); self.vocab_sizes.len()];
        let mut labels = Vec::with_capacity(self.rows);
        for _ in 0..self.rows {
            for (col, &v) in columns.iter_mut().zip(&self.vocab_sizes) {
                col.push(rng.random_range(1..=(v.saturating_sub(2).max(1)) as u32));
            }
            let p = match self.planted_pair {
                Some((a, b)) => {
                    let agree = signs[a][columns[a].last().copied().unwrap_or(0) as usize]
                        * signs[b][columns[b].last().copied().unwrap_or(0) as usize];
                    if agree > 0.0 {
                        self.strength
                    } else {
                        1.0 - self.strength
                    }
                }
                None => 0.5,
            };
            labels.push(if rng.random_bool(p) { 1.0 } else { 0.0 });
        }
        let columns = columns.into_iter().map(|c| Column::Ids(c.into())).collect();
        let data = EncodedDataset::new(&map, columns, labels)
            .expect("generated ids stay inside their vocabularies");
        (map, data)
    }
}

/// The teaching example bundled with the browser trainer (`static/examples/planted/`).
pub const BUNDLED_PLANTED: (usize, u64) = (5000, 42);

impl SyntheticSpec {
    /// The data as CSV text: a column per field (`f0`, `f1`, ...) with tokens `f<field>_t<id>`,
    /// then `label`. Reads back through the same pipeline as any user's file.
    pub fn to_csv(&self) -> String {
        let (map, data) = self.generate();
        let names: Vec<&str> = map.features.iter().map(|f| f.name.as_str()).collect();
        let mut out = format!("{},label\n", names.join(","));
        let ids: Vec<&[u32]> = data
            .columns()
            .iter()
            .map(|c| match c {
                Column::Ids(v) => &v[..],
                _ => unreachable!("synthetic fields are categorical"),
            })
            .collect();
        for (row, label) in data.labels().iter().enumerate() {
            for (f, col) in ids.iter().enumerate() {
                out.push_str(&format!("f{f}_t{},", col[row]));
            }
            out.push_str(if *label > 0.5 { "1\n" } else { "0\n" });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::auc;

    #[test]
    fn frappe_sizes_sum_to_the_paper_total() {
        assert_eq!(FRAPPE_VOCAB_SIZES.iter().sum::<usize>(), 5383);
    }

    #[test]
    fn only_the_planted_pair_predicts_the_label() {
        let spec = SyntheticSpec::planted(20_000, 3);
        let (_, data) = spec.generate();
        let ids = |f: usize| match &data.columns()[f] {
            Column::Ids(v) => v.to_vec(),
            _ => unreachable!(),
        };
        // Best single-field predictor: the per-token click rate. It stays near chance.
        for f in 0..6 {
            let col = ids(f);
            let mut clicks = [0.0f32; 10];
            let mut counts = [0.0f32; 10];
            for (&id, &y) in col.iter().zip(data.labels()) {
                clicks[id as usize] += y;
                counts[id as usize] += 1.0;
            }
            let score: Vec<f32> = col
                .iter()
                .map(|&id| clicks[id as usize] / counts[id as usize])
                .collect();
            let a = auc(data.labels(), &score).unwrap();
            assert!(a < 0.56, "field {f} alone gives AUC {a}");
        }
        // The pair's joint click rate is strongly predictive.
        let (a, b) = (ids(2), ids(5));
        let mut clicks = vec![0.0f32; 100];
        let mut counts = vec![0.0f32; 100];
        for ((&x, &y), &l) in a.iter().zip(&b).zip(data.labels()) {
            clicks[(x * 10 + y) as usize] += l;
            counts[(x * 10 + y) as usize] += 1.0;
        }
        let score: Vec<f32> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| clicks[(x * 10 + y) as usize] / counts[(x * 10 + y) as usize])
            .collect();
        assert!(auc(data.labels(), &score).unwrap() > 0.85);
    }

    #[test]
    fn bundled_example_is_this_generators_output() {
        let (rows, seed) = BUNDLED_PLANTED;
        let bundled = include_str!("../../../static/examples/planted/planted.csv");
        assert!(
            SyntheticSpec::planted(rows, seed).to_csv() == bundled,
            "static/examples/planted/planted.csv is stale: regenerate it with \
             `cargo run -p qnn-data --example planted_csv > static/examples/planted/planted.csv`"
        );
    }

    #[test]
    fn same_seed_same_data() {
        let a = SyntheticSpec::planted(100, 1).generate().1;
        let b = SyntheticSpec::planted(100, 1).generate().1;
        let c = SyntheticSpec::planted(100, 2).generate().1;
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
