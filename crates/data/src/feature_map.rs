//! The feature map: which fields a model sees, in which order, and how raw values were encoded.
//!
//! It mirrors FuxiCTR's `feature_map.json` (spec §C.4) and additionally keeps what is needed to
//! encode new rows without the training data: vocabularies and normalizer statistics. The model file
//! embeds it, so a saved model can predict on a raw CSV on its own.

use serde::{Deserialize, Serialize};

use crate::Task;

/// Id of the padding token in every vocabulary.
pub const PADDING_ID: u32 = 0;

/// Ordered description of a dataset's features and labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMap {
    pub dataset_id: String,
    /// Features in model order (FuxiCTR's `feature_map.json` order), meta features included.
    pub features: Vec<Feature>,
    pub labels: Vec<String>,
    /// What the labels are (FuxiCTR's `task`): files written before regression existed have
    /// none and were binary.
    #[serde(default, skip_serializing_if = "Task::is_binary")]
    pub task: Task,
    /// FuxiCTR's `group_id`: the column whose values group rows for gAUC and avgAUC (a user
    /// id, usually a `meta` column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// One feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    #[serde(default)]
    pub source: String,
    /// How the raw CSV cell is read before encoding.
    #[serde(default, skip_serializing_if = "RawColumn::is_default")]
    pub raw: RawColumn,
    #[serde(flatten)]
    pub kind: FeatureKind,
    /// This field's own embedding width (FuxiCTR's per-feature `embedding_dim`); `None` takes
    /// the model's `embedding_dim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_dim: Option<usize>,
}

impl Feature {
    /// A feature read from the CSV column of the same name as a string.
    pub fn new(name: impl Into<String>, kind: FeatureKind) -> Self {
        Self {
            name: name.into(),
            source: String::new(),
            raw: RawColumn::default(),
            kind,
            embedding_dim: None,
        }
    }
}

/// FuxiCTR's `dtype`: what a raw cell is cast to before it becomes a token or a value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    #[default]
    Str,
    Int,
    Float,
}

/// Named FuxiCTR `preprocess` methods that QNN Lab implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preprocess {
    /// Criteo's integer bucketing: v > 2 → ⌊(ln v)²⌋, else int(v).
    ConvertToBucket,
}

/// Reading rules of one raw column (spec §C.3 step 2): NA replacement, cast, preprocess.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawColumn {
    #[serde(default)]
    pub dtype: Dtype,
    /// Replacement for missing cells, as text (FuxiCTR's `fill_na`); `None` means "" for string
    /// columns and an error for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_na: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocess: Option<Preprocess>,
}

impl RawColumn {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// How a column is encoded and embedded (spec §C.3, §C.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeatureKind {
    /// One token per row, looked up in a table of `vocab.size()` rows.
    Categorical { vocab: Vocabulary },
    /// A real value; its embedding is `value · w` for a learned vector `w`.
    Numeric {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        normalizer: Option<Normalizer>,
    },
    /// A list of tokens per row, padded or truncated to `max_len`, embedded as the masked mean.
    Sequence {
        vocab: Vocabulary,
        max_len: usize,
        splitter: String,
        #[serde(default)]
        padding: Padding,
    },
    /// Carried along with the data but never embedded; not a model field.
    Meta,
}

/// Token vocabulary: id 0 is padding, ids 1..=n the kept tokens, id n+1 out-of-vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// `tokens[i]` is the token with id `i + 1`, sorted as FuxiCTR sorts them.
    pub tokens: Vec<String>,
}

impl Vocabulary {
    pub fn new(tokens: Vec<String>) -> Self {
        Self { tokens }
    }

    /// A vocabulary of `n` anonymous tokens ("1".."n"), for synthetic data.
    pub fn anonymous(n: usize) -> Self {
        Self::new((1..=n).map(|i| i.to_string()).collect())
    }

    /// Rows of the embedding table: padding + tokens + OOV.
    pub fn size(&self) -> usize {
        self.tokens.len() + 2
    }

    pub fn oov_id(&self) -> u32 {
        (self.tokens.len() + 1) as u32
    }
}

/// Which side sequences are padded and truncated on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    Pre,
    #[default]
    Post,
}

/// Fitted numeric scaler.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Normalizer {
    Standard { mean: f64, std: f64 },
    MinMax { min: f64, max: f64 },
}

impl Normalizer {
    pub fn apply(&self, v: f64) -> f64 {
        match *self {
            Normalizer::Standard { mean, std } => (v - mean) / if std == 0.0 { 1.0 } else { std },
            Normalizer::MinMax { min, max } => {
                let range = max - min;
                (v - min) / if range == 0.0 { 1.0 } else { range }
            }
        }
    }
}

impl FeatureMap {
    /// Features that the model embeds (all but meta), in model order.
    pub fn fields(&self) -> impl Iterator<Item = &Feature> {
        self.features
            .iter()
            .filter(|f| !matches!(f.kind, FeatureKind::Meta))
    }

    /// FuxiCTR's `num_fields`.
    pub fn num_fields(&self) -> usize {
        self.fields().count()
    }

    /// Names of the model fields, in order.
    pub fn field_names(&self) -> Vec<String> {
        self.fields().map(|f| f.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_reserves_padding_and_oov() {
        let v = Vocabulary::new(vec!["a".into(), "b".into()]);
        assert_eq!(v.size(), 4);
        assert_eq!(v.oov_id(), 3);
    }

    #[test]
    fn meta_features_are_not_fields_and_json_round_trips() {
        let map = FeatureMap {
            dataset_id: "d".into(),
            features: vec![
                Feature::new(
                    "user",
                    FeatureKind::Categorical {
                        vocab: Vocabulary::anonymous(3),
                    },
                ),
                Feature::new("group", FeatureKind::Meta),
                Feature {
                    raw: RawColumn {
                        dtype: Dtype::Float,
                        fill_na: Some("0".into()),
                        preprocess: None,
                    },
                    ..Feature::new(
                        "price",
                        FeatureKind::Numeric {
                            normalizer: Some(Normalizer::Standard {
                                mean: 1.0,
                                std: 2.0,
                            }),
                        },
                    )
                },
            ],
            labels: vec!["clk".into()],
            task: Default::default(),
            group_id: None,
        };
        assert_eq!(map.num_fields(), 2);
        assert_eq!(map.field_names(), ["user", "price"]);
        let json = serde_json::to_string(&map).unwrap();
        assert!(json.contains(r#""type":"categorical""#));
        let back: FeatureMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back, map);
    }

    #[test]
    fn normalizers_follow_sklearn_and_survive_constant_columns() {
        let s = Normalizer::Standard {
            mean: 2.0,
            std: 4.0,
        };
        assert_eq!(s.apply(6.0), 1.0);
        let m = Normalizer::MinMax { min: 1.0, max: 1.0 };
        assert_eq!(m.apply(1.0), 0.0);
    }
}
