//! FuxiCTR's FeatureProcessor (spec §C.3): fit vocabularies and scalers on the train rows, then
//! encode any split with them.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use string_interner::backend::StringBackend;
use string_interner::symbol::SymbolU32;
use string_interner::{StringInterner, Symbol};

use crate::Task;
use crate::csv_table::{
    ColumnData, CsvError, RawTable, ReadColumn, Role, TokenColumn, canonical_token,
};
use crate::dataset::{Column, EncodedDataset};
use crate::dataset_config::{ColumnKind, DatasetSpec, NormalizerKind, SplitType};
use crate::feature_map::{
    Dtype, Feature, FeatureKind, FeatureMap, Normalizer, PADDING_ID, Padding, RawColumn, Vocabulary,
};
use crate::pipeline::CHUNK_ROWS;
use crate::random::{self, Purpose};

/// Columns to read for training: every configured column, then the label.
pub fn training_columns(spec: &DatasetSpec) -> Vec<ReadColumn> {
    let mut cols: Vec<ReadColumn> = spec
        .columns
        .iter()
        .map(|c| ReadColumn {
            name: c.name.clone(),
            raw: c.raw.clone(),
            role: match &c.kind {
                ColumnKind::Categorical | ColumnKind::Meta => Role::Token,
                ColumnKind::Numeric { .. } => Role::Numeric,
                ColumnKind::Sequence { splitter, .. } => Role::Sequence {
                    splitter: splitter.clone(),
                },
            },
        })
        .collect();
    cols.push(label_column(&spec.label, spec.label_raw.clone(), spec.task));
    cols
}

/// The `group_id` column when it is read only for the grouped metrics (not a model field): a
/// file without it still predicts and gives the ungrouped metrics.
pub fn group_only_column(map: &FeatureMap) -> Option<&str> {
    map.group_id
        .as_deref()
        .filter(|g| !map.fields().any(|f| f.name == *g))
}

/// Columns a trained feature map needs from a CSV; the label only when `with_label`.
pub fn model_columns(map: &FeatureMap, with_label: bool) -> Vec<ReadColumn> {
    let mut cols: Vec<ReadColumn> = map
        .fields()
        .map(|f| ReadColumn {
            name: f.name.clone(),
            raw: f.raw.clone(),
            role: match &f.kind {
                FeatureKind::Numeric { .. } => Role::Numeric,
                FeatureKind::Sequence { splitter, .. } => Role::Sequence {
                    splitter: splitter.clone(),
                },
                _ => Role::Token,
            },
        })
        .collect();
    if with_label && let Some(label) = map.labels.first() {
        cols.push(label_column(label, RawColumn::default(), map.task));
        // The group column, unless it is a field already (a categorical user id).
        if let Some(g) = &map.group_id
            && !cols.iter().any(|c| &c.name == g)
        {
            let raw = map
                .features
                .iter()
                .find(|f| &f.name == g)
                .map(|f| f.raw.clone())
                .unwrap_or_default();
            cols.push(ReadColumn {
                name: g.clone(),
                raw,
                role: Role::Token,
            });
        }
    }
    cols
}

fn label_column(name: &str, raw: RawColumn, task: Task) -> ReadColumn {
    ReadColumn {
        name: name.to_string(),
        raw,
        role: Role::Label(task),
    }
}

/// The token FuxiCTR leaves out of a vocabulary: the column's `fill_na` (so missing values are
/// OOV), "" for string columns without one.
fn excluded_token(raw: &RawColumn) -> Option<String> {
    match &raw.fill_na {
        Some(fill) => canonical_token(fill, raw).ok(),
        None => (raw.dtype == Dtype::Str).then(String::new),
    }
}

/// Fits the feature map on `rows` of `table` (the train split).
pub fn fit(spec: &DatasetSpec, table: &RawTable, rows: &[usize]) -> Result<FeatureMap, CsvError> {
    let mut fitter = Fitter::new(spec);
    fitter.add(table, rows)?;
    fitter.finish(&table.source)
}

/// FuxiCTR's fit, a chunk of rows at a time: token counts, sequence lengths and scaler
/// statistics are summed over the chunks, so memory holds the distinct tokens, not the rows.
#[derive(Debug)]
pub struct Fitter<'a> {
    spec: &'a DatasetSpec,
    columns: Vec<ColumnFit>,
    rows: usize,
}

type Interner = StringInterner<StringBackend<SymbolU32>>;

#[derive(Debug)]
enum ColumnFit {
    Meta,
    /// Every distinct token of the train rows with its count (a sequence's items counted one by
    /// one), and the longest sequence.
    Tokens {
        interner: Interner,
        counts: Vec<u32>,
        longest: usize,
    },
    Numeric(Moments),
}

/// Count, mean, sum of squared deviations, min and max, merged chunk by chunk (Chan et al.):
/// each chunk's own statistics are exact two-pass ones, so one chunk gives the textbook values.
#[derive(Debug, Default, Clone, Copy)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Moments {
    fn of(values: impl Iterator<Item = f64> + Clone) -> Self {
        let (mut n, mut sum, mut min, mut max) = (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        for v in values.clone() {
            n += 1.0;
            sum += v;
            min = f64::min(min, v);
            max = f64::max(max, v);
        }
        let mean = sum / n;
        let m2 = values.map(|v| (v - mean).powi(2)).sum::<f64>();
        Self {
            n,
            mean,
            m2,
            min,
            max,
        }
    }

    fn merge(self, other: Self) -> Self {
        if self.n == 0.0 {
            return other;
        }
        if other.n == 0.0 {
            return self;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        Self {
            n,
            mean: self.mean + delta * other.n / n,
            m2: self.m2 + other.m2 + delta * delta * self.n * other.n / n,
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }
}

impl ColumnFit {
    /// Adds `rows` of one column (of the kind [`Fitter::add`] checked).
    fn add(&mut self, data: &ColumnData, rows: &[usize]) {
        match (self, data) {
            (
                ColumnFit::Tokens {
                    interner,
                    counts,
                    longest,
                },
                ColumnData::Tokens(t),
            ) => {
                let mut local = vec![0u32; t.tokens.len()];
                for &r in rows {
                    if t.offsets.is_empty() {
                        local[t.ids[r] as usize] += 1;
                    } else {
                        let items = &t.ids[t.offsets[r]..t.offsets[r + 1]];
                        *longest = (*longest).max(items.len());
                        for &id in items {
                            local[id as usize] += 1;
                        }
                    }
                }
                for (token, n) in t.tokens.iter().zip(local) {
                    if n > 0 {
                        let sym = interner.get_or_intern(token).to_usize();
                        if sym == counts.len() {
                            counts.push(0);
                        }
                        counts[sym] = counts[sym].saturating_add(n);
                    }
                }
            }
            (ColumnFit::Numeric(moments), ColumnData::Values(v)) if !rows.is_empty() => {
                *moments = moments.merge(Moments::of(rows.iter().map(|&r| v[r])));
            }
            _ => {}
        }
    }
}

impl<'a> Fitter<'a> {
    pub fn new(spec: &'a DatasetSpec) -> Self {
        let columns = spec
            .columns
            .iter()
            .map(|c| match c.kind {
                ColumnKind::Meta => ColumnFit::Meta,
                ColumnKind::Categorical | ColumnKind::Sequence { .. } => ColumnFit::Tokens {
                    interner: Interner::new(),
                    counts: Vec::new(),
                    longest: 0,
                },
                ColumnKind::Numeric { .. } => ColumnFit::Numeric(Moments::default()),
            })
            .collect();
        Self {
            spec,
            columns,
            rows: 0,
        }
    }

    /// Train rows fitted so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds `rows` of `table` (train rows of one chunk).
    pub fn add(&mut self, table: &RawTable, rows: &[usize]) -> Result<(), CsvError> {
        let mut data = Vec::with_capacity(self.columns.len());
        for (c, fit) in self.spec.columns.iter().zip(&self.columns) {
            let problem = |reason: &str| CsvError {
                file: table.source.clone(),
                line: None,
                column: Some(c.name.clone()),
                reason: reason.into(),
            };
            let column = table
                .column(&c.name)
                .ok_or_else(|| problem("was not read"))?;
            match (fit, column) {
                (ColumnFit::Meta, _)
                | (ColumnFit::Tokens { .. }, ColumnData::Tokens(_))
                | (ColumnFit::Numeric(_), ColumnData::Values(_)) => data.push(column),
                _ => return Err(problem("was read with the wrong role")),
            }
        }
        crate::par::for_each_mut(&mut self.columns, |fit, i| fit.add(data[i], rows));
        self.rows += rows.len();
        Ok(())
    }

    /// The fitted feature map; `source` names the train data in the error for an empty split.
    pub fn finish(self, source: &str) -> Result<FeatureMap, CsvError> {
        if self.rows == 0 {
            return Err(CsvError {
                file: source.to_string(),
                line: None,
                column: None,
                reason: "the train split has no rows".into(),
            });
        }
        let spec = self.spec;
        let features = spec
            .columns
            .iter()
            .zip(self.columns)
            .map(|(c, fit)| {
                let min_count = c.min_categr_count.unwrap_or(spec.min_categr_count);
                let kind = match (&c.kind, fit) {
                    (
                        ColumnKind::Categorical,
                        ColumnFit::Tokens {
                            interner, counts, ..
                        },
                    ) => FeatureKind::Categorical {
                        vocab: vocabulary(&interner, &counts, min_count, &c.raw),
                    },
                    (
                        ColumnKind::Sequence {
                            splitter,
                            max_len,
                            padding,
                        },
                        ColumnFit::Tokens {
                            interner,
                            counts,
                            longest,
                        },
                    ) => FeatureKind::Sequence {
                        vocab: vocabulary(&interner, &counts, min_count, &c.raw),
                        max_len: match *max_len {
                            0 => longest.max(1),
                            n => n,
                        },
                        splitter: splitter.clone(),
                        padding: *padding,
                    },
                    (ColumnKind::Numeric { normalizer }, ColumnFit::Numeric(m)) => {
                        FeatureKind::Numeric {
                            normalizer: normalizer.map(|kind| match kind {
                                NormalizerKind::Standard => Normalizer::Standard {
                                    mean: m.mean,
                                    std: (m.m2 / m.n).sqrt(),
                                },
                                NormalizerKind::MinMax => Normalizer::MinMax {
                                    min: m.min,
                                    max: m.max,
                                },
                            }),
                        }
                    }
                    _ => FeatureKind::Meta,
                };
                Feature {
                    name: c.name.clone(),
                    source: c.source.clone(),
                    raw: c.raw.clone(),
                    kind,
                    embedding_dim: c.embedding_dim,
                }
            })
            .collect::<Vec<_>>();
        for (c, f) in spec.columns.iter().zip(&features) {
            if let FeatureKind::Sequence { max_len, .. } = f.kind
                && max_len > MAX_SEQUENCE_LEN
            {
                let given = matches!(c.kind, ColumnKind::Sequence { max_len: n, .. } if n > 0);
                let reason = if given {
                    format!("max_len {max_len} is more than QNN Lab takes ({MAX_SEQUENCE_LEN})")
                } else {
                    format!(
                        "the longest cell has {max_len} tokens, and without max_len every row is \
                         padded to it; more than {MAX_SEQUENCE_LEN} is refused: set max_len for \
                         this column in dataset_config.yaml"
                    )
                };
                return Err(CsvError {
                    file: source.to_string(),
                    line: None,
                    column: Some(c.name.clone()),
                    reason: format!(
                        "{reason} (a chunk of {CHUNK_ROWS} rows padded to {MAX_SEQUENCE_LEN} ids \
                         is 4 GiB)"
                    ),
                });
            }
        }
        Ok(FeatureMap {
            dataset_id: spec.dataset_id.clone(),
            features,
            labels: vec![spec.label.clone()],
            task: spec.task,
            group_id: spec.group_id.clone(),
        })
    }
}

/// The longest a sequence field's rows may be padded to. Rows are encoded a chunk at a time and
/// batches are gathered padded, so the padded length multiplies every buffer of the field; CTR
/// sequences (click histories, tags) are tens to hundreds of tokens long.
pub const MAX_SEQUENCE_LEN: usize = 16_384;

/// Tokens seen at least `min_count` times, minus the NA token, sorted as Python sorts the cast
/// values (numbers numerically, strings by code point).
fn vocabulary(
    interner: &Interner,
    counts: &[u32],
    min_count: usize,
    raw: &RawColumn,
) -> Vocabulary {
    let excluded = excluded_token(raw);
    let mut kept: Vec<&str> = interner
        .iter()
        .filter(|(sym, tok)| {
            counts[sym.to_usize()] as usize >= min_count.max(1) && Some(*tok) != excluded.as_deref()
        })
        .map(|(_, tok)| tok)
        .collect();
    match raw.dtype {
        Dtype::Str => kept.sort_unstable(),
        Dtype::Int | Dtype::Float => kept.sort_by(|a, b| {
            let (x, y) = (
                a.parse::<f64>().unwrap_or(f64::NAN),
                b.parse::<f64>().unwrap_or(f64::NAN),
            );
            x.total_cmp(&y)
        }),
    }
    Vocabulary::new(kept.into_iter().map(str::to_string).collect())
}

/// Encodes `rows` of `table` with a fitted feature map. Tokens the map has not seen become OOV.
pub fn encode(
    map: &FeatureMap,
    table: &RawTable,
    rows: &[usize],
) -> Result<EncodedDataset, CsvError> {
    Encoder::new(map).encode(table, rows)
}

/// Encodes chunk after chunk with one fitted feature map (its token index built once).
#[derive(Debug)]
pub struct Encoder<'a> {
    map: &'a FeatureMap,
    /// Token → id per field; `None` for numeric and meta fields.
    index: Vec<Option<HashMap<&'a str, u32>>>,
    excluded: Vec<Option<String>>,
}

impl<'a> Encoder<'a> {
    pub fn new(map: &'a FeatureMap) -> Self {
        let index = map
            .fields()
            .map(|f| match &f.kind {
                FeatureKind::Categorical { vocab } | FeatureKind::Sequence { vocab, .. } => Some(
                    vocab
                        .tokens
                        .iter()
                        .enumerate()
                        .map(|(i, tok)| (tok.as_str(), i as u32 + 1))
                        .collect(),
                ),
                _ => None,
            })
            .collect();
        let excluded = map.fields().map(|f| excluded_token(&f.raw)).collect();
        Self {
            map,
            index,
            excluded,
        }
    }

    pub fn feature_map(&self) -> &'a FeatureMap {
        self.map
    }

    /// Encodes `rows` of `table`.
    pub fn encode(&self, table: &RawTable, rows: &[usize]) -> Result<EncodedDataset, CsvError> {
        let err = |column: Option<&str>, reason: String| CsvError {
            file: table.source.clone(),
            line: None,
            column: column.map(str::to_string),
            reason,
        };
        let fields: Vec<_> = self.map.fields().collect();
        let encoded = crate::par::map(fields.len(), |i| {
            self.encode_column(fields[i], &self.index[i], &self.excluded[i], table, rows)
        });
        let columns = encoded.into_iter().collect::<Result<Vec<_>, _>>()?;
        let labels: Vec<f32> = match &table.labels {
            Some(y) => rows.iter().map(|&r| y[r]).collect(),
            None => vec![0.0; rows.len()],
        };
        let data =
            EncodedDataset::new(self.map, columns, labels).map_err(|e| err(None, e.to_string()))?;
        // The group column is read with the label (training, evaluation), not for prediction.
        let groups = self.map.group_id.as_deref().and_then(|g| table.column(g));
        match groups {
            Some(ColumnData::Tokens(t)) => {
                let hashes: Vec<u64> = t.tokens.iter().map(|tok| group_of(tok)).collect();
                let groups: Vec<u64> = rows.iter().map(|&r| hashes[t.ids[r] as usize]).collect();
                data.with_groups(groups)
                    .map_err(|e| err(self.map.group_id.as_deref(), e.to_string()))
            }
            _ => Ok(data),
        }
    }
}

/// The group of a `group_id` value: rows whose values have the same text share it. A 64-bit
/// hash keeps a split's groups the same across its chunks without a table of every value
/// seen; among ten million distinct values two share a hash with probability 3·10⁻⁶.
pub fn group_of(token: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    token.hash(&mut h);
    h.finish()
}

impl Encoder<'_> {
    fn encode_column(
        &self,
        f: &Feature,
        index: &Option<HashMap<&str, u32>>,
        excluded: &Option<String>,
        table: &RawTable,
        rows: &[usize],
    ) -> Result<Column, CsvError> {
        let err = |reason: &str| CsvError {
            file: table.source.clone(),
            line: None,
            column: Some(f.name.clone()),
            reason: reason.into(),
        };
        let data = table
            .column(&f.name)
            .ok_or_else(|| err("the model needs this column"))?;
        Ok(match (&f.kind, data, index) {
            (FeatureKind::Categorical { vocab }, ColumnData::Tokens(t), Some(index)) => {
                let ids = token_ids(t, index, vocab, excluded);
                Column::Ids(rows.iter().map(|&r| ids[t.ids[r] as usize]).collect())
            }
            (
                FeatureKind::Sequence {
                    vocab,
                    max_len,
                    padding,
                    ..
                },
                ColumnData::Tokens(t),
                Some(index),
            ) => {
                let ids = token_ids(t, index, vocab, excluded);
                let mut out = Vec::with_capacity(rows.len() * max_len);
                let mut items = Vec::new();
                for &r in rows {
                    items.clear();
                    items.extend(
                        t.ids[t.offsets[r]..t.offsets[r + 1]]
                            .iter()
                            .map(|&i| ids[i as usize]),
                    );
                    pad_sequence(&items, *max_len, *padding, &mut out);
                }
                Column::Sequences {
                    ids: out.into(),
                    max_len: *max_len,
                }
            }
            (FeatureKind::Numeric { normalizer }, ColumnData::Values(v), _) => Column::Values(
                rows.iter()
                    .map(|&r| normalizer.map_or(v[r], |n| n.apply(v[r])) as f32)
                    .collect(),
            ),
            _ => return Err(err("was read with the wrong role")),
        })
    }
}

/// Final id of every token interned in a chunk: its vocabulary id, padding for the NA token in
/// sequences, OOV otherwise.
fn token_ids(
    t: &TokenColumn,
    index: &HashMap<&str, u32>,
    vocab: &Vocabulary,
    excluded: &Option<String>,
) -> Vec<u32> {
    t.tokens
        .iter()
        .map(|tok| match index.get(tok.as_str()) {
            Some(&id) => id,
            None if Some(tok) == excluded.as_ref() && !t.offsets.is_empty() => PADDING_ID,
            None => vocab.oov_id(),
        })
        .collect()
}

/// Keras `pad_sequences` with `padding = truncating = side`.
fn pad_sequence(items: &[u32], max_len: usize, side: Padding, out: &mut Vec<u32>) {
    let kept = if items.len() > max_len {
        match side {
            Padding::Post => &items[..max_len],
            Padding::Pre => &items[items.len() - max_len..],
        }
    } else {
        items
    };
    let pad = max_len - kept.len();
    if side == Padding::Pre {
        out.extend(std::iter::repeat_n(PADDING_ID, pad));
    }
    out.extend_from_slice(kept);
    if side == Padding::Post {
        out.extend(std::iter::repeat_n(PADDING_ID, pad));
    }
}

/// Row indices of the train, valid and test parts carved out of one file (FuxiCTR's
/// `split_train_test`: test taken first, then valid, from the end of the — possibly shuffled —
/// row order).
pub fn split_rows(
    total: usize,
    spec: &DatasetSpec,
    seed: u64,
) -> (Vec<usize>, Option<Vec<usize>>, Option<Vec<usize>>) {
    let mut ids: Vec<usize> = (0..total).collect();
    if spec.split_type == SplitType::Random {
        ids.shuffle(&mut random::stream(seed, Purpose::Split));
    }
    let mut carve = |size: Option<crate::dataset_config::SplitSize>| {
        let n = size?.rows(total).min(ids.len());
        (n > 0).then(|| ids.split_off(ids.len() - n))
    };
    let test = carve(spec.test_size);
    let valid = carve(spec.valid_size);
    (ids, valid, test)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigFile, Experiment};

    fn spec(cols: &str, extra: &str) -> DatasetSpec {
        let exp = Experiment::load(
            &[ConfigFile {
                name: "m.yaml".into(),
                text: "E:\n  dataset_id: D\n".into(),
            }],
            &[ConfigFile {
                name: "d.yaml".into(),
                text: format!(
                    "D:\n  feature_cols:\n{cols}  label_col: {{name: y, dtype: float}}\n{extra}"
                ),
            }],
            "E",
        )
        .unwrap();
        DatasetSpec::from_experiment(&exp).unwrap().0
    }

    fn table(spec: &DatasetSpec, text: &str) -> RawTable {
        RawTable::read(
            text.as_bytes(),
            "t.csv",
            &training_columns(spec),
            &mut |_| {},
        )
        .unwrap()
    }

    #[test]
    fn vocabulary_counts_train_only_drops_rare_and_na_and_sorts() {
        let s = spec(
            "    - {name: c, active: True, dtype: str, type: categorical, min_categr_count: 2}\n",
            "",
        );
        let t = table(&s, "y,c\n1,b\n0,a\n1,b\n0,a\n1,z\n0,\n1,\n0,q\n0,q\n");
        let train: Vec<usize> = (0..7).collect();
        let map = fit(&s, &t, &train).unwrap();
        let FeatureKind::Categorical { vocab } = &map.features[0].kind else {
            panic!()
        };
        assert_eq!(vocab.tokens, ["a", "b"]); // z rare, "" is NA, q only in valid
        let data = encode(&map, &t, &(0..9).collect::<Vec<_>>()).unwrap();
        assert_eq!(
            data.columns()[0],
            Column::Ids(vec![2, 1, 2, 1, 3, 3, 3, 3, 3].into())
        );
        assert_eq!(data.labels()[0], 1.0);
    }

    #[test]
    fn float_tokens_sort_numerically() {
        let s = spec(
            "    - {name: c, active: True, dtype: float, type: categorical}\n",
            "",
        );
        let t = table(&s, "y,c\n1,10\n0,9\n1,2.5\n");
        let map = fit(&s, &t, &[0, 1, 2]).unwrap();
        let FeatureKind::Categorical { vocab } = &map.features[0].kind else {
            panic!()
        };
        assert_eq!(vocab.tokens, ["2.5", "9.0", "10.0"]);
    }

    #[test]
    fn sequences_pad_truncate_and_infer_max_len() {
        let s = spec(
            "    - {name: s, active: True, dtype: str, type: sequence, splitter: ^}\n\
             \x20   - {name: p, active: True, dtype: str, type: sequence, splitter: ^, max_len: 2, padding: pre}\n",
            "",
        );
        let t = table(&s, "y,s,p\n1,a^b^c,a^b^c\n0,b,\n1,,x\n");
        let map = fit(&s, &t, &[0, 1, 2]).unwrap();
        let FeatureKind::Sequence { max_len, vocab, .. } = &map.features[0].kind else {
            panic!()
        };
        assert_eq!((*max_len, vocab.tokens.len()), (3, 3));
        let data = encode(&map, &t, &[0, 1, 2]).unwrap();
        assert_eq!(
            data.columns()[0],
            Column::Sequences {
                ids: vec![1, 2, 3, 2, 0, 0, 0, 0, 0].into(),
                max_len: 3
            }
        );
        // pre: keep the last two, pad in front.
        let Column::Sequences { ids, .. } = &data.columns()[1] else {
            panic!()
        };
        assert_eq!(ids[..], [2, 3, 0, 0, 0, 4]);
    }

    #[test]
    fn a_sequence_too_long_to_pad_to_is_an_error_naming_the_column() {
        let s = spec(
            "    - {name: s, active: True, dtype: str, type: sequence, splitter: ^}\n",
            "",
        );
        // One cell of 20,000 tokens: without max_len every row would be padded to it.
        let long = vec!["t"; MAX_SEQUENCE_LEN + 1].join("^");
        let t = table(&s, &format!("y,s\n1,{long}\n0,a\n"));
        let err = fit(&s, &t, &[0, 1]).unwrap_err().to_string();
        assert!(
            err.contains("`s`") && err.contains("the longest cell has 16385 tokens"),
            "{err}"
        );
        assert!(err.contains("set max_len"), "{err}");
        // With max_len the same data is fine: the cell is truncated.
        let s = spec(
            "    - {name: s, active: True, dtype: str, type: sequence, splitter: ^, max_len: 5}\n",
            "",
        );
        let t = table(&s, &format!("y,s\n1,{long}\n0,a\n"));
        assert!(fit(&s, &t, &[0, 1]).is_ok());
        let s = spec(
            "    - {name: s, active: True, dtype: str, type: sequence, splitter: ^, max_len: 2000000}\n",
            "",
        );
        let t = table(&s, "y,s\n1,a\n0,b\n");
        let err = fit(&s, &t, &[0, 1]).unwrap_err().to_string();
        assert!(err.contains("max_len 2000000 is more than"), "{err}");
    }

    #[test]
    fn numeric_normalizers_fit_on_train() {
        let s = spec(
            "    - {name: n, active: True, dtype: float, type: numeric, normalizer: StandardScaler}\n\
             \x20   - {name: m, active: True, dtype: float, type: numeric, normalizer: MinMaxScaler, fill_na: 1}\n",
            "",
        );
        let t = table(&s, "y,n,m\n1,1,0\n0,3,\n1,100,4\n");
        let map = fit(&s, &t, &[0, 1]).unwrap();
        let data = encode(&map, &t, &[0, 1, 2]).unwrap();
        assert_eq!(
            data.columns()[0],
            Column::Values(vec![-1.0, 1.0, 98.0].into())
        );
        assert_eq!(
            data.columns()[1],
            Column::Values(vec![0.0, 1.0, 4.0].into())
        );
    }

    #[test]
    fn sequential_split_takes_valid_from_the_end() {
        let s = spec(
            "    - {name: c, active: True, dtype: str, type: categorical}\n",
            "  valid_size: 3\n  test_size: 0.2\n",
        );
        let (train, valid, test) = split_rows(10, &s, 1);
        assert_eq!(test.unwrap(), [8, 9]);
        assert_eq!(valid.unwrap(), [5, 6, 7]);
        assert_eq!(train, [0, 1, 2, 3, 4]);
    }
}
