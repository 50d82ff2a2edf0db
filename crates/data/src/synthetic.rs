//! Synthetic CTR data with one planted interaction (a pair of fields, or more).
//!
//! Every field is uniform over its vocabulary. Each token carries a hidden sign; the click
//! probability depends only on the product of the signs of the planted fields, so no single
//! field predicts the label and only the planted fields together do. That makes it the teaching
//! example (the interaction map must light up that pair) and a test of the interaction analysis.
//! An optional cross column (the planted fields' tokens joined) is the feature cross an engineer
//! would add by hand: with it, a linear model finds the signal too.

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
    /// The fields whose interaction decides the label (a pair, a triple…); empty for labels
    /// independent of the features (for speed benchmarks).
    pub planted: Vec<usize>,
    /// Click probability when the planted signs agree; `1 - strength` when they differ.
    pub strength: f64,
    pub rows: usize,
    pub seed: u64,
    /// Adds a categorical column `f<a>_x_f<b>…` whose token is the planted fields' tokens
    /// together.
    pub cross_column: bool,
}

impl SyntheticSpec {
    /// Six fields of eight tokens each with fields 2 and 5 interacting: the teaching example.
    pub fn planted(rows: usize, seed: u64) -> Self {
        Self {
            vocab_sizes: vec![10; 6],
            planted: vec![2, 5],
            strength: 0.9,
            rows,
            seed,
            cross_column: false,
        }
    }

    /// Frappe's schema (ten categorical fields, spec §B) with labels that carry no signal.
    pub fn frappe_shaped(rows: usize, seed: u64) -> Self {
        Self {
            vocab_sizes: FRAPPE_VOCAB_SIZES.to_vec(),
            planted: Vec::new(),
            strength: 0.5,
            rows,
            seed,
            cross_column: false,
        }
    }

    /// Tokens of field `f` (its table rows less padding and OOV; at least one).
    fn tokens(&self, f: usize) -> usize {
        self.vocab_sizes
            .get(f)
            .map_or(1, |v| v.saturating_sub(2).max(1))
    }

    /// The planted fields that exist (a field index past the last is ignored).
    fn planted_fields(&self) -> impl Iterator<Item = usize> + '_ {
        self.planted
            .iter()
            .copied()
            .filter(|&f| f < self.vocab_sizes.len())
    }

    /// The cross column's name and number of tokens, when there is one.
    pub fn cross(&self) -> Option<(String, usize)> {
        if !self.cross_column || self.planted_fields().next().is_none() {
            return None;
        }
        let name = self
            .planted_fields()
            .map(|f| format!("f{f}"))
            .collect::<Vec<_>>()
            .join("_x_");
        let tokens = self
            .planted_fields()
            .map(|f| self.tokens(f))
            .fold(1usize, usize::saturating_mul);
        Some((name, tokens))
    }

    pub fn feature_map(&self) -> FeatureMap {
        let categorical = |name: String, tokens: usize| {
            Feature::new(
                name,
                FeatureKind::Categorical {
                    vocab: Vocabulary::anonymous(tokens),
                },
            )
        };
        FeatureMap {
            dataset_id: "synthetic".into(),
            features: (0..self.vocab_sizes.len())
                .map(|i| categorical(format!("f{i}"), self.tokens(i)))
                .chain(self.cross().map(|(name, tokens)| categorical(name, tokens)))
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
            let p = if self.planted_fields().next().is_none() {
                0.5
            } else {
                let agree: f64 = self
                    .planted_fields()
                    .map(|f| signs[f][columns[f].last().copied().unwrap_or(0) as usize])
                    .product();
                if agree > 0.0 {
                    self.strength
                } else {
                    1.0 - self.strength
                }
            };
            labels.push(if rng.random_bool(p) { 1.0 } else { 0.0 });
        }
        if self.cross().is_some() {
            // Mixed radix over the planted fields' token ids (1-based), then 1-based itself.
            let cross = (0..self.rows)
                .map(|row| {
                    self.planted_fields().fold(0u32, |acc, f| {
                        acc * self.tokens(f) as u32 + (columns[f][row] - 1)
                    }) + 1
                })
                .collect();
            columns.push(cross);
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
    /// The data as CSV text: a column per field (`f0`, `f1`, ..., then the cross column) with
    /// tokens `<field>_t<id>`, then `label`. Reads back through the same pipeline as any user's
    /// file.
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
            for (name, col) in names.iter().zip(&ids) {
                out.push_str(&format!("{name}_t{},", col[row]));
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
        // Best single-field predictor: the per-token click rate. It stays near chance.
        for f in 0..6 {
            let a = rate_auc(&ids(&data, f), data.labels());
            assert!(a < 0.56, "field {f} alone gives AUC {a}");
        }
        // The pair's joint click rate is strongly predictive.
        let (a, b) = (ids(&data, 2), ids(&data, 5));
        let joint: Vec<u32> = a.iter().zip(&b).map(|(&x, &y)| x * 10 + y).collect();
        assert!(rate_auc(&joint, data.labels()) > 0.85);
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

    /// AUC of the per-token click rate of a column (the best a model of that column alone does).
    fn rate_auc(ids: &[u32], labels: &[f32]) -> f64 {
        let n = ids.iter().max().map_or(0, |&m| m as usize + 1);
        let (mut clicks, mut counts) = (vec![0.0f32; n], vec![0.0f32; n]);
        for (&id, &y) in ids.iter().zip(labels) {
            clicks[id as usize] += y;
            counts[id as usize] += 1.0;
        }
        let score: Vec<f32> = ids
            .iter()
            .map(|&id| clicks[id as usize] / counts[id as usize])
            .collect();
        auc(labels, &score).unwrap()
    }

    fn ids(data: &EncodedDataset, f: usize) -> Vec<u32> {
        match &data.columns()[f] {
            Column::Ids(v) => v.to_vec(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_planted_triple_hides_from_every_pair() {
        let spec = SyntheticSpec {
            vocab_sizes: vec![6; 5],
            planted: vec![0, 2, 4],
            ..SyntheticSpec::planted(30_000, 5)
        };
        let (_, data) = spec.generate();
        let columns: Vec<Vec<u32>> = (0..5).map(|f| ids(&data, f)).collect();
        let joint = |fields: &[usize]| -> Vec<u32> {
            (0..data.len())
                .map(|r| fields.iter().fold(0, |acc, &f| acc * 8 + columns[f][r]))
                .collect()
        };
        for pair in [[0, 2], [0, 4], [2, 4]] {
            let a = rate_auc(&joint(&pair), data.labels());
            assert!(a < 0.56, "pair {pair:?} alone gives AUC {a}");
        }
        assert!(rate_auc(&joint(&[0, 2, 4]), data.labels()) > 0.85);
    }

    #[test]
    fn the_cross_column_carries_the_pair_and_changes_nothing_else() {
        let plain = SyntheticSpec::planted(20_000, 3);
        let crossed = SyntheticSpec {
            cross_column: true,
            ..plain.clone()
        };
        assert_eq!(crossed.cross(), Some(("f2_x_f5".into(), 64)));
        let (map, data) = crossed.generate();
        let (_, before) = plain.generate();
        assert_eq!(map.features.len(), 7);
        assert_eq!(data.labels(), before.labels());
        for f in 0..6 {
            assert_eq!(ids(&data, f), ids(&before, f));
        }
        // One column a linear model can read: its tokens are the pair's.
        let (cross, a, b) = (ids(&data, 6), ids(&data, 2), ids(&data, 5));
        for r in 0..data.len() {
            assert_eq!(cross[r], (a[r] - 1) * 8 + b[r]);
        }
        assert!(rate_auc(&cross, data.labels()) > 0.85);
        let text = crossed.to_csv();
        assert!(
            text.starts_with("f0,f1,f2,f3,f4,f5,f2_x_f5,label\n"),
            "{}",
            &text[..60]
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
