//! Interaction maps as plain data (design.md): for every quadratic layer and head, a field × field
//! matrix saying how much field a's values are scaled by what field b contributes — once from the
//! weights alone, and once from activations on data when data was given.
//!
//! `qnn-model` computes them; the CLI and the browser page draw them. This crate has no Burn in it,
//! so the page can read maps without linking the model.

use serde::{Deserialize, Serialize};

/// A square field × field matrix, row-major: `values[a * size + b]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldMatrix {
    pub size: usize,
    pub values: Vec<f64>,
}

impl FieldMatrix {
    pub fn zeros(size: usize) -> Self {
        Self {
            size,
            values: vec![0.0; size * size],
        }
    }

    pub fn get(&self, a: usize, b: usize) -> f64 {
        self.values[a * self.size + b]
    }

    /// Each row divided by its sum (rows summing to zero stay zero).
    pub fn row_normalized(&self) -> FieldMatrix {
        let mut out = self.clone();
        for row in out.values.chunks_mut(self.size) {
            let sum: f64 = row.iter().sum();
            if sum > 0.0 {
                row.iter_mut().for_each(|v| *v /= sum);
            }
        }
        out
    }

    /// Element-wise sum (to aggregate heads or layers).
    pub fn add(&self, other: &FieldMatrix) -> FieldMatrix {
        FieldMatrix {
            size: self.size,
            values: self
                .values
                .iter()
                .zip(&other.values)
                .map(|(a, b)| a + b)
                .collect(),
        }
    }

    /// The largest cell.
    pub fn max(&self) -> f64 {
        self.values.iter().copied().fold(0.0, f64::max)
    }

    /// What the darkest shade of a heatmap stands for when it is scaled to the pairs: the
    /// largest cell with a ≠ b. A field's product with itself can outweigh every pair by far (a
    /// numeric field), and would leave the pairs white; such cells lie beyond the scale. A map
    /// of one field has no pair: its cell.
    pub fn pair_scale(&self) -> f64 {
        self.top_off_diagonal()
            .map_or_else(|| self.max(), |(_, _, v)| v)
    }

    /// The largest cell with a ≠ b, as (a, b, value).
    pub fn top_off_diagonal(&self) -> Option<(usize, usize, f64)> {
        (0..self.size)
            .flat_map(|a| (0..self.size).map(move |b| (a, b)))
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a, b, self.get(a, b)))
            .max_by(|x, y| x.2.total_cmp(&y.2))
    }
}

/// Maps of one head of one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadMaps {
    pub weight: FieldMatrix,
    /// Present when the maps were computed on data.
    pub activation: Option<FieldMatrix>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerMaps {
    pub heads: Vec<HeadMaps>,
}

/// Which of a head's two maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapView {
    /// From the weights alone.
    Weight,
    /// From activations on data.
    Activation,
}

/// Every map is F × F for the F field names, every layer has the same number of heads, and there
/// is at least one: what drawing them relies on. Reading maps (from JSON, or a message the worker
/// posted) checks it, so a page never holds maps it cannot draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedMaps")]
pub struct InteractionMaps {
    pub field_names: Vec<String>,
    pub layers: Vec<LayerMaps>,
}

/// Maps as read, before [`InteractionMaps::check`].
#[derive(Deserialize)]
struct UncheckedMaps {
    field_names: Vec<String>,
    layers: Vec<LayerMaps>,
}

impl TryFrom<UncheckedMaps> for InteractionMaps {
    type Error = String;

    fn try_from(m: UncheckedMaps) -> Result<Self, String> {
        let maps = InteractionMaps {
            field_names: m.field_names,
            layers: m.layers,
        };
        maps.check()?;
        Ok(maps)
    }
}

impl InteractionMaps {
    /// Whether the maps are well formed (see the type); the error says what is not.
    pub fn check(&self) -> Result<(), String> {
        let fields = self.field_names.len();
        let heads = self.layers.first().map_or(0, |l| l.heads.len());
        if heads == 0 {
            return Err("interaction maps need at least one layer with a head".into());
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.heads.len() != heads {
                return Err(format!(
                    "layer {i} has {} heads, layer 0 has {heads}",
                    layer.heads.len()
                ));
            }
            for (h, head) in layer.heads.iter().enumerate() {
                for m in std::iter::once(&head.weight).chain(&head.activation) {
                    if m.size != fields || Some(m.values.len()) != fields.checked_mul(fields) {
                        return Err(format!(
                            "layer {i}, head {h}: a {}-value map of size {} for {fields} fields",
                            m.values.len(),
                            m.size
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// One view summed over the chosen layer and head (`None`: over all of them). `None` when
    /// nothing matches, or when activation maps are asked for and were not computed.
    pub fn select(
        &self,
        view: MapView,
        layer: Option<usize>,
        head: Option<usize>,
    ) -> Option<FieldMatrix> {
        self.layers
            .iter()
            .enumerate()
            .filter(|(i, _)| layer.is_none_or(|l| l == *i))
            .flat_map(|(_, l)| l.heads.iter().enumerate())
            .filter(|(i, _)| head.is_none_or(|h| h == *i))
            .map(|(_, h)| match view {
                MapView::Weight => Some(h.weight.clone()),
                MapView::Activation => h.activation.clone(),
            })
            .reduce(|a, b| Some(a?.add(&b?)))
            .flatten()
    }

    /// Activation maps summed over heads and layers (`None` without data).
    pub fn total_activation(&self) -> Option<FieldMatrix> {
        self.select(MapView::Activation, None, None)
    }

    /// Weight maps summed over heads and layers.
    pub fn total_weight(&self) -> FieldMatrix {
        self.select(MapView::Weight, None, None)
            .expect("a model has at least one head")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(values: &[f64]) -> FieldMatrix {
        FieldMatrix {
            size: 2,
            values: values.to_vec(),
        }
    }

    fn maps(with_activation: bool) -> InteractionMaps {
        let head = |w: f64, a: f64| HeadMaps {
            weight: matrix(&[w, 1.0, 2.0, w]),
            activation: with_activation.then(|| matrix(&[0.0, a, 3.0 * a, 0.0])),
        };
        InteractionMaps {
            field_names: vec!["x".into(), "y".into()],
            layers: vec![
                LayerMaps {
                    heads: vec![head(1.0, 1.0), head(2.0, 10.0)],
                },
                LayerMaps {
                    heads: vec![head(3.0, 100.0), head(4.0, 1000.0)],
                },
            ],
        }
    }

    #[test]
    fn the_pair_scale_leaves_the_diagonal_out() {
        let m = matrix(&[9.0, 2.0, 3.0, 1.0]);
        assert_eq!((m.max(), m.pair_scale()), (9.0, 3.0));
        let one = FieldMatrix {
            size: 1,
            values: vec![4.0],
        };
        assert_eq!(one.pair_scale(), 4.0);
        assert_eq!(FieldMatrix::zeros(3).pair_scale(), 0.0);
    }

    #[test]
    fn select_sums_over_what_is_not_fixed() {
        let m = maps(true);
        let one = m.select(MapView::Activation, Some(1), Some(0)).unwrap();
        assert_eq!(one.values, [0.0, 100.0, 300.0, 0.0]);
        let layer = m.select(MapView::Activation, Some(0), None).unwrap();
        assert_eq!(layer.values, [0.0, 11.0, 33.0, 0.0]);
        let head = m.select(MapView::Weight, None, Some(1)).unwrap();
        assert_eq!(head.values, [6.0, 2.0, 4.0, 6.0]);
        assert_eq!(m.total_weight().values, [10.0, 4.0, 8.0, 10.0]);
        assert_eq!(
            m.total_activation().unwrap().values,
            [0.0, 1111.0, 3333.0, 0.0]
        );
        assert_eq!(m.select(MapView::Weight, Some(2), None), None);
    }

    #[test]
    fn activation_views_are_absent_without_data() {
        let m = maps(false);
        assert_eq!(m.total_activation(), None);
        assert!(m.select(MapView::Weight, Some(0), Some(0)).is_some());
    }

    #[test]
    fn row_normalisation_and_the_hottest_off_diagonal_cell() {
        let m = matrix(&[1.0, 3.0, 0.0, 0.0]);
        assert_eq!(m.row_normalized().values, [0.25, 0.75, 0.0, 0.0]);
        assert_eq!(
            matrix(&[9.0, 2.0, 5.0, 9.0]).top_off_diagonal(),
            Some((1, 0, 5.0))
        );
    }

    #[test]
    fn maps_survive_json() {
        let m = maps(true);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<InteractionMaps>(&json).unwrap(), m);
    }

    /// Maps the page could not draw are refused when they are read, with what is wrong.
    #[test]
    fn maps_that_do_not_fit_their_fields_do_not_read() {
        let read = |m: &InteractionMaps| {
            serde_json::from_str::<InteractionMaps>(&serde_json::to_string(m).unwrap())
        };
        let mut m = maps(true);
        m.field_names.push("z".into());
        assert!(read(&m).unwrap_err().to_string().contains("for 3 fields"));
        let mut m = maps(true);
        m.layers[1].heads[0]
            .activation
            .as_mut()
            .unwrap()
            .values
            .pop();
        assert!(
            read(&m)
                .unwrap_err()
                .to_string()
                .contains("layer 1, head 0")
        );
        let mut m = maps(false);
        m.layers[1].heads.pop();
        assert!(
            read(&m)
                .unwrap_err()
                .to_string()
                .contains("layer 1 has 1 heads")
        );
        let mut m = maps(false);
        m.layers.clear();
        assert!(read(&m).unwrap_err().to_string().contains("at least one"));
        assert_eq!(maps(true).check(), Ok(()));
    }
}
