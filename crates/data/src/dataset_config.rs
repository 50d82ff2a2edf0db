//! The dataset half of an experiment (spec §C.2), typed: where the splits are and how each column
//! is read and encoded.

use crate::Task;
use crate::config::{ConfigError, Experiment, count, number};
use crate::feature_map::{Dtype, Padding, Preprocess, RawColumn};
use crate::yaml::{Mapping, Value};
use qnn_keys::EMBEDDING_DIM;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// Raw rows: fitted and encoded here.
    Csv,
    /// Raw rows in parquet, read as the CSV of the same table (FuxiCTR 2.3's `data_format:
    /// parquet`).
    Parquet,
    /// FuxiCTR 2.3's encoded parquet files (`data_format: parquet` with `rebuild_dataset:
    /// False`), with its `feature_map.json`.
    EncodedParquet,
    /// FuxiCTR 2.0.1's encoded h5 files, with its `feature_map.json` beside them.
    H5,
    /// FuxiCTR 2.2+'s encoded npz files, with its `feature_map.json`.
    Npz,
    /// TFRecords of encoded `tf.train.Example`s (FuxiCTR's TensorFlow side).
    TfRecord,
}

impl DataFormat {
    /// Whether the files hold rows FuxiCTR already encoded (read with its `feature_map.json`)
    /// rather than raw rows to fit and encode.
    pub fn is_encoded(self) -> bool {
        !matches!(self, DataFormat::Csv | DataFormat::Parquet)
    }

    /// The extension of its files (and of the part files in a folder of them).
    pub fn extension(self) -> &'static str {
        match self {
            DataFormat::Parquet | DataFormat::EncodedParquet => "parquet",
            other => other.name(),
        }
    }

    /// The name `data_format` gives it.
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::Csv => "csv",
            DataFormat::H5 => "h5",
            DataFormat::Npz => "npz",
            DataFormat::TfRecord => "tfrecord",
            DataFormat::Parquet | DataFormat::EncodedParquet => "parquet",
        }
    }
}

/// How `valid_size` / `test_size` are carved off the train file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitType {
    /// The last rows (FuxiCTR's default).
    Sequential,
    /// Seeded random rows (the seed is the experiment's; numpy's stream is not reproduced).
    Random,
}

/// `valid_size` / `test_size`: a fraction of the train rows below 1, a row count otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SplitSize {
    Fraction(f64),
    Rows(usize),
}

impl SplitSize {
    pub fn rows(self, total: usize) -> usize {
        match self {
            SplitSize::Fraction(f) => (total as f64 * f) as usize,
            SplitSize::Rows(n) => n.min(total),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnKind {
    Categorical,
    Numeric {
        normalizer: Option<NormalizerKind>,
    },
    Sequence {
        splitter: String,
        /// 0: the longest sequence in the train split.
        max_len: usize,
        padding: Padding,
    },
    Meta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormalizerKind {
    Standard,
    MinMax,
}

/// One active feature column of `feature_cols` (a `name` list already expanded).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    pub source: String,
    pub raw: RawColumn,
    pub kind: ColumnKind,
    /// Per-column override of the dataset's `min_categr_count`.
    pub min_categr_count: Option<usize>,
    /// Per-column override of the model's `embedding_dim`.
    pub embedding_dim: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSpec {
    pub dataset_id: String,
    pub data_root: String,
    pub data_format: DataFormat,
    pub train_data: Option<String>,
    pub valid_data: Option<String>,
    pub test_data: Option<String>,
    pub min_categr_count: usize,
    pub columns: Vec<ColumnSpec>,
    pub label: String,
    pub label_raw: RawColumn,
    pub valid_size: Option<SplitSize>,
    pub test_size: Option<SplitSize>,
    pub split_type: SplitType,
    pub rebuild: bool,
    /// FuxiCTR's `task` (a model key, read here because it decides which labels are valid).
    pub task: Task,
    /// FuxiCTR's `group_id`: an active `meta` or categorical column whose values group the
    /// rows for gAUC and avgAUC.
    pub group_id: Option<String>,
    /// FuxiCTR's `feature_specs`: per-feature `embedding_dim` over the feature map's (already
    /// folded into `columns` for raw data; encoded data applies them to FuxiCTR's map).
    pub feature_specs: Vec<(String, usize)>,
    /// FuxiCTR's `ordered_features`: the model's fields in this order, the others left out
    /// (applied to `columns` for raw data; encoded data applies it to FuxiCTR's map).
    pub ordered_features: Option<Vec<String>>,
}

const COLUMN_KEYS: &[&str] = &[
    "name",
    "active",
    "dtype",
    "type",
    "source",
    "fill_na",
    "min_categr_count",
    "embedding_dim",
    "splitter",
    "max_len",
    "padding",
    "normalizer",
    "preprocess",
    "feature_encoder",
    "remap",
];

/// Column keys FuxiCTR 2.0.1 itself does not read: accepted with a note.
const COLUMN_IGNORED_KEYS: &[&str] = &["encoder", "na_value"];

impl DatasetSpec {
    pub fn from_experiment(exp: &Experiment) -> Result<(Self, Vec<String>), ConfigError> {
        let mut notes = Vec::new();
        let dataset_id = exp
            .string("dataset_id")?
            .ok_or_else(|| exp.bad("dataset_id", "is required"))?;
        let data_format = match exp.string("data_format")?.as_deref() {
            Some("csv") | None => DataFormat::Csv,
            Some("h5") => DataFormat::H5,
            Some("npz") => DataFormat::Npz,
            Some("tfrecord") => DataFormat::TfRecord,
            // FuxiCTR 2.3 reads raw parquet rows, and its own encoded parquet files when told
            // not to rebuild them.
            Some("parquet") => match exp.boolean("rebuild_dataset")? {
                Some(false) => {
                    notes.push(
                        "data_format: parquet with rebuild_dataset: False reads FuxiCTR's encoded \
                         parquet files and its feature_map.json, as FuxiCTR 2.3 does"
                            .to_string(),
                    );
                    DataFormat::EncodedParquet
                }
                _ => DataFormat::Parquet,
            },
            Some(other) => {
                return Err(exp.bad(
                    "data_format",
                    format!("'{other}' is not csv, parquet, h5, npz or tfrecord"),
                ));
            }
        };
        let split_size = |key: &str| -> Result<Option<SplitSize>, ConfigError> {
            match exp.get(key) {
                None => Ok(None),
                Some(Value::Int(0)) => Ok(None),
                Some(Value::Int(n)) if *n > 0 => Ok(Some(SplitSize::Rows(*n as usize))),
                Some(Value::Float(f)) if (0.0..1.0).contains(f) => {
                    Ok(Some(SplitSize::Fraction(*f)).filter(|_| *f > 0.0))
                }
                Some(other) => Err(exp.bad(
                    key,
                    format!("must be a fraction below 1 or a row count, not {other}"),
                )),
            }
        };
        let split_type = match exp.string("split_type")?.as_deref() {
            Some("sequential") | None => SplitType::Sequential,
            Some("random") => SplitType::Random,
            Some(other) => {
                return Err(exp.bad(
                    "split_type",
                    format!("'{other}' is not sequential or random"),
                ));
            }
        };
        // Encoded formats take their fields and label from FuxiCTR's feature_map.json; settings
        // given here still say how to read raw rows of the same data later (predict, evaluate).
        let (label, label_raw) = match exp.get("label_col") {
            None if data_format.is_encoded() => ("label".to_string(), RawColumn::default()),
            _ => label_col(exp)?,
        };
        let mut columns = Vec::new();
        let feature_cols = match exp.get("feature_cols") {
            None if data_format.is_encoded() => None,
            other => Some(other),
        };
        if let Some(feature_cols) = feature_cols {
            let cols = match feature_cols {
                Some(Value::List(cols)) => cols.clone(),
                Some(Value::Map(m)) => vec![Value::Map(m.clone())],
                Some(other) => {
                    return Err(exp.bad(
                        "feature_cols",
                        format!("must be a list of column settings, not {}", other.kind()),
                    ));
                }
                None => {
                    return Err(
                        exp.bad("feature_cols", "is required for raw (csv or parquet) data")
                    );
                }
            };
            for (i, col) in cols.iter().enumerate() {
                let key = format!("feature_cols[{i}]");
                let Value::Map(col) = col else {
                    return Err(exp.bad("feature_cols", format!("{key} is not a mapping")));
                };
                columns.extend(column_specs(exp, &key, col, &mut notes)?);
            }
            if columns.iter().all(|c| c.kind == ColumnKind::Meta) {
                return Err(exp.bad("feature_cols", "no active feature column"));
            }
            for (i, c) in columns.iter().enumerate() {
                if columns[..i].iter().any(|d| d.name == c.name) || c.name == label {
                    return Err(exp.bad(
                        "feature_cols",
                        format!("column `{}` is listed twice", c.name),
                    ));
                }
            }
        }
        let ordered_features = ordered_features(exp)?;
        if let Some(order) = ordered_features
            .as_ref()
            .filter(|_| !data_format.is_encoded())
        {
            columns = order_columns(columns, order)
                .map_err(|reason| exp.bad("ordered_features", reason))?;
        }
        let feature_specs = feature_specs(exp)?;
        if !data_format.is_encoded() {
            for (name, dim) in &feature_specs {
                match columns.iter_mut().find(|c| &c.name == name) {
                    Some(c) if c.kind != ColumnKind::Meta => c.embedding_dim = Some(*dim),
                    _ => return Err(exp.bad("feature_specs", not_a_feature(name, &columns))),
                }
            }
        }
        let spec = DatasetSpec {
            feature_specs,
            ordered_features,
            data_root: exp.string("data_root")?.unwrap_or_else(|| "./data/".into()),
            data_format,
            train_data: exp.string("train_data")?,
            valid_data: exp.string("valid_data")?,
            test_data: exp.string("test_data")?,
            min_categr_count: exp.count("min_categr_count")?.unwrap_or(1),
            columns,
            label,
            label_raw,
            valid_size: split_size("valid_size")?,
            test_size: split_size("test_size")?,
            split_type,
            rebuild: exp.boolean("rebuild_dataset")?.unwrap_or(false),
            task: task(exp)?,
            group_id: exp.string("group_id")?,
            dataset_id,
        };
        if let Some(g) = &spec.group_id
            && !spec.columns.is_empty()
            && !spec.columns.iter().any(|c| {
                &c.name == g && matches!(c.kind, ColumnKind::Meta | ColumnKind::Categorical)
            })
        {
            return Err(exp.bad(
                "group_id",
                format!(
                    "`{g}` is not an active meta or categorical column of feature_cols (gAUC \
                     groups rows by it: a user id, say, as `{{name: {g}, active: True, dtype: \
                     str, type: meta}}`)"
                ),
            ));
        }
        if data_format.is_encoded() && (spec.valid_size.is_some() || spec.test_size.is_some()) {
            notes.push(format!(
                "valid_size/test_size carve rows out of raw data; FuxiCTR's encoded {} files are \
                 used as they are (as FuxiCTR does), so they have no effect here",
                data_format.name()
            ));
        }
        Ok((spec, notes))
    }
}

/// `task`, FuxiCTR's default when absent.
pub fn task(exp: &Experiment) -> Result<Task, ConfigError> {
    match exp.string("task")? {
        None => Ok(Task::default()),
        Some(name) => Task::parse(&name).ok_or_else(|| {
            exp.bad(
                "task",
                format!("'{name}' is not one of {}", Task::NAMES.join(", ")),
            )
        }),
    }
}

fn label_col(exp: &Experiment) -> Result<(String, RawColumn), ConfigError> {
    let map = match exp.get("label_col") {
        Some(Value::Map(m)) => m.clone(),
        Some(Value::List(items)) if items.len() == 1 => match &items[0] {
            Value::Map(m) => m.clone(),
            _ => return Err(exp.bad("label_col", "must be {name: ..., dtype: ...}")),
        },
        Some(Value::List(_)) => {
            return Err(exp.bad(
                "label_col",
                "several labels (multi-task) are not supported: give one",
            ));
        }
        Some(other) => {
            return Err(exp.bad(
                "label_col",
                format!("must be a mapping, not {}", other.kind()),
            ));
        }
        None => return Err(exp.bad("label_col", "is required")),
    };
    for k in map.keys() {
        if k != "name" && k != "dtype" {
            return Err(exp.bad("label_col", format!("unknown key `{k}` in label_col")));
        }
    }
    let name = match map.get("name") {
        Some(Value::Str(s)) => s.clone(),
        _ => return Err(exp.bad("label_col", "needs a `name`")),
    };
    let dtype = match map.get("dtype") {
        None => Dtype::Float,
        Some(v) => dtype(v).map_err(|r| exp.bad("label_col", r))?,
    };
    Ok((
        name,
        RawColumn {
            dtype,
            fill_na: None,
            preprocess: None,
        },
    ))
}

/// FuxiCTR's `ordered_features`: a list of feature names.
fn ordered_features(exp: &Experiment) -> Result<Option<Vec<String>>, ConfigError> {
    let bad = |reason: String| exp.bad("ordered_features", reason);
    let names: Vec<String> = match exp.get("ordered_features") {
        None => return Ok(None),
        Some(Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.clone()),
                other => Err(bad(format!("must list feature names, not {other}"))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(bad(format!(
                "must be a list of feature names, not {}",
                other.kind()
            )));
        }
    };
    if names.is_empty() {
        return Err(bad("lists no feature (null keeps every feature)".into()));
    }
    if let Some((i, n)) = names
        .iter()
        .enumerate()
        .find(|(i, n)| names[..*i].contains(n))
    {
        return Err(bad(format!("`{n}` is listed twice (item {i})")));
    }
    Ok(Some(names))
}

/// Why `name` cannot be given to a feature: with the active feature column it is closest to.
fn not_a_feature(name: &str, columns: &[ColumnSpec]) -> String {
    let features = columns.iter().filter(|c| c.kind != ColumnKind::Meta);
    format!(
        "`{name}` is not an active feature column of feature_cols{}",
        qnn_keys::did_you_mean(name, features.map(|c| c.name.as_str()))
    )
}

/// The columns with the model fields in `order` and the unlisted fields left out; meta columns
/// (not fields) stay.
fn order_columns(columns: Vec<ColumnSpec>, order: &[String]) -> Result<Vec<ColumnSpec>, String> {
    let mut ordered = Vec::with_capacity(columns.len());
    for name in order {
        match columns.iter().find(|c| &c.name == name) {
            Some(c) if c.kind != ColumnKind::Meta => ordered.push(c.clone()),
            _ => return Err(not_a_feature(name, &columns)),
        }
    }
    ordered.extend(columns.into_iter().filter(|c| c.kind == ColumnKind::Meta));
    Ok(ordered)
}

/// FuxiCTR's `feature_specs`: a list of `{name: <name or list>, embedding_dim: N}`.
fn feature_specs(exp: &Experiment) -> Result<Vec<(String, usize)>, ConfigError> {
    let bad = |reason: String| exp.bad("feature_specs", reason);
    let items = match exp.get("feature_specs") {
        None => return Ok(Vec::new()),
        Some(Value::List(items)) => items.clone(),
        Some(Value::Map(m)) => vec![Value::Map(m.clone())],
        Some(other) => {
            return Err(bad(format!(
                "must be a list of {{name, embedding_dim}}, not {}",
                other.kind()
            )));
        }
    };
    let mut specs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Map(item) = item else {
            return Err(bad(format!("item {i} is not a mapping")));
        };
        if let Some(k) = item.keys().find(|k| !["name", "embedding_dim"].contains(k)) {
            return Err(bad(format!(
                "item {i}: `{k}` is not supported (QNN Lab reads `name` and `embedding_dim`)"
            )));
        }
        let names = match item.get("name") {
            Some(Value::Str(s)) => vec![s.clone()],
            Some(Value::List(names)) => names.iter().map(Value::python_str).collect(),
            _ => return Err(bad(format!("item {i} needs a `name` (a string or a list)"))),
        };
        let dim = match item.get("embedding_dim") {
            Some(v) => count(v)
                .and_then(|n| EMBEDDING_DIM.check_count(n))
                .map_err(|r| bad(format!("item {i}: `embedding_dim` {r}")))?,
            None => return Err(bad(format!("item {i} needs an `embedding_dim`"))),
        };
        specs.extend(names.into_iter().map(|name| (name, dim)));
    }
    Ok(specs)
}

fn dtype(v: &Value) -> Result<Dtype, String> {
    match v.as_str() {
        Some("str") => Ok(Dtype::Str),
        Some("int") => Ok(Dtype::Int),
        Some("float") => Ok(Dtype::Float),
        _ => Err(format!("dtype must be str, int or float, not {v}")),
    }
}

fn column_specs(
    exp: &Experiment,
    key: &str,
    col: &Mapping,
    notes: &mut Vec<String>,
) -> Result<Vec<ColumnSpec>, ConfigError> {
    let bad = |reason: String| exp.bad("feature_cols", format!("{key}: {reason}"));
    for k in col.keys() {
        if COLUMN_IGNORED_KEYS.contains(&k) {
            notes.push(format!(
                "{key}: `{k}` is ignored (FuxiCTR 2.0.1 does not read it either)"
            ));
        } else if !COLUMN_KEYS.contains(&k) {
            return Err(bad(format!("`{k}` is not supported")));
        }
    }
    let names = match col.get("name") {
        Some(Value::Str(s)) => vec![s.clone()],
        Some(Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.clone()),
                other => Ok(other.python_str()),
            })
            .collect::<Result<Vec<_>, ConfigError>>()?,
        Some(other) => {
            return Err(bad(format!(
                "`name` must be a string or a list, not {other}"
            )));
        }
        None => return Err(bad("`name` is required".into())),
    };
    match col.get("active") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => return Ok(Vec::new()),
        Some(other) => return Err(bad(format!("`active` must be True or False, not {other}"))),
        None => return Err(bad("`active` is required".into())),
    }
    let dtype = match col.get("dtype") {
        Some(v) => dtype(v).map_err(&bad)?,
        None => return Err(bad("`dtype` is required".into())),
    };
    let get_str = |k: &str| -> Result<Option<String>, ConfigError> {
        match col.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(other) => Err(bad(format!("`{k}` must be a string, not {other}"))),
        }
    };
    let kind_name = get_str("type")?.ok_or_else(|| bad("`type` is required".into()))?;
    let kind = match kind_name.as_str() {
        "categorical" => ColumnKind::Categorical,
        "numeric" => ColumnKind::Numeric {
            normalizer: match get_str("normalizer")?.as_deref() {
                None => None,
                Some("StandardScaler") => Some(NormalizerKind::Standard),
                Some("MinMaxScaler") => Some(NormalizerKind::MinMax),
                Some(other) => {
                    return Err(bad(format!(
                        "normalizer '{other}' is not StandardScaler or MinMaxScaler"
                    )));
                }
            },
        },
        "sequence" => ColumnKind::Sequence {
            splitter: match get_str("splitter")? {
                Some(s) => s,
                None => {
                    // FuxiCTR 2.0.1 counts whole strings when fitting but splits on spaces when
                    // encoding; splitting on spaces in both is the consistent reading.
                    notes.push(format!(
                        "{key}: sequence without `splitter`: splitting on spaces (set it to be explicit)"
                    ));
                    " ".to_string()
                }
            },
            max_len: match col.get("max_len") {
                None | Some(Value::Null) => 0,
                Some(v) => count(v).map_err(|r| bad(format!("`max_len` {r}")))?,
            },
            padding: match get_str("padding")?.as_deref() {
                None | Some("post") => Padding::Post,
                Some("pre") => Padding::Pre,
                Some(other) => return Err(bad(format!("padding '{other}' is not pre or post"))),
            },
        },
        "meta" => ColumnKind::Meta,
        other => {
            return Err(bad(format!(
                "unknown feature type '{other}' (categorical, numeric, sequence or meta)"
            )));
        }
    };
    if !matches!(kind, ColumnKind::Sequence { .. }) {
        for k in ["splitter", "max_len", "padding"] {
            if col.get(k).is_some() {
                return Err(bad(format!("`{k}` only applies to sequence columns")));
            }
        }
    }
    if !matches!(kind, ColumnKind::Numeric { .. }) && col.get("normalizer").is_some() {
        return Err(bad("`normalizer` only applies to numeric columns".into()));
    }
    match col.get("feature_encoder") {
        None | Some(Value::Null) => {}
        Some(Value::Str(s)) if s.contains("MaskedAveragePooling") => {}
        Some(other) => {
            return Err(bad(format!(
                "feature_encoder {other} is not supported (sequences use masked average pooling)"
            )));
        }
    }
    if let Some(v) = col.get("remap")
        && *v != Value::Bool(true)
    {
        return Err(bad("`remap: False` is not supported".into()));
    }
    let preprocess = match get_str("preprocess")?.as_deref() {
        None => None,
        Some("convert_to_bucket") => Some(Preprocess::ConvertToBucket),
        Some(other) => return Err(bad(format!("preprocess '{other}' is not supported"))),
    };
    let fill_na = match col.get("fill_na") {
        None | Some(Value::Null) => None,
        Some(v @ (Value::Int(_) | Value::Float(_))) if dtype != Dtype::Str => {
            Some(number(v).map_err(&bad)?.to_string())
        }
        Some(v @ (Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_))) => {
            Some(v.python_str())
        }
        Some(other) => return Err(bad(format!("`fill_na` must be a plain value, not {other}"))),
    };
    let min_categr_count = match col.get("min_categr_count") {
        None | Some(Value::Null) => None,
        Some(v) => Some(count(v).map_err(|r| bad(format!("`min_categr_count` {r}")))?),
    };
    let embedding_dim = match col.get("embedding_dim") {
        None | Some(Value::Null) => None,
        Some(_) if kind == ColumnKind::Meta => {
            return Err(bad(
                "`embedding_dim` only applies to model fields, not to meta columns".into(),
            ));
        }
        Some(v) => Some(
            count(v)
                .and_then(|n| EMBEDDING_DIM.check_count(n))
                .map_err(|r| bad(format!("`embedding_dim` {r}")))?,
        ),
    };
    let source = get_str("source")?.unwrap_or_default();
    Ok(names
        .into_iter()
        .map(|name| ColumnSpec {
            name,
            source: source.clone(),
            raw: RawColumn {
                dtype,
                fill_na: fill_na.clone(),
                preprocess,
            },
            kind: kind.clone(),
            min_categr_count,
            embedding_dim,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigFile;

    fn spec(dataset: &str) -> Result<DatasetSpec, ConfigError> {
        spec_and_notes(dataset).map(|(s, _)| s)
    }

    fn spec_and_notes(dataset: &str) -> Result<(DatasetSpec, Vec<String>), ConfigError> {
        spec_with_model("", dataset)
    }

    /// The spec of `dataset` under an experiment with `model` added to its keys.
    fn spec_with_model(
        model: &str,
        dataset: &str,
    ) -> Result<(DatasetSpec, Vec<String>), ConfigError> {
        let exp = Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: format!("E:\n  dataset_id: D\n{model}"),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: dataset.into(),
            }],
            "E",
        )?;
        DatasetSpec::from_experiment(&exp)
    }

    const FRAPPE: &str = "\
D:
    data_root: ../data/Frappe/
    data_format: csv
    train_data: ../data/Frappe/Frappe_x1/train.csv
    valid_data: ../data/Frappe/Frappe_x1/valid.csv
    test_data: ../data/Frappe/Frappe_x1/test.csv
    min_categr_count: 2
    feature_cols:
        [{name: [user, item, daytime, weekday, isweekend, homework, cost, weather, country, city],
          active: True, dtype: float, type: categorical}]
    label_col: {name: label, dtype: float}
";

    #[test]
    fn bars_frappe_config_expands_the_name_list() {
        let s = spec(FRAPPE).unwrap();
        assert_eq!(s.columns.len(), 10);
        assert_eq!(s.columns[9].name, "city");
        assert_eq!(s.columns[0].raw.dtype, Dtype::Float);
        assert_eq!(s.min_categr_count, 2);
        assert_eq!(s.label, "label");
        assert_eq!(s.data_format, DataFormat::Csv);
    }

    #[test]
    fn tiny_csv_sequence_numeric_and_inactive_columns() {
        let s = spec(
            "D:\n  data_format: csv\n  feature_cols:\n\
             \x20   - {name: [userid, brand], active: True, dtype: str, type: categorical}\n\
             \x20   - {name: time_stamp, active: False, dtype: str, type: categorical}\n\
             \x20   - {name: price, active: True, dtype: float, type: numeric, fill_na: 0, normalizer: StandardScaler}\n\
             \x20   - {name: click_sequence, active: True, dtype: str, type: sequence, splitter: ^, max_len: 5, padding: pre, encoder: MaskedAveragePooling}\n\
             \x20 label_col: {name: clk, dtype: float}\n",
        )
        .unwrap();
        let names: Vec<_> = s.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["userid", "brand", "price", "click_sequence"]);
        assert_eq!(s.columns[2].raw.fill_na.as_deref(), Some("0"));
        assert_eq!(
            s.columns[3].kind,
            ColumnKind::Sequence {
                splitter: "^".into(),
                max_len: 5,
                padding: Padding::Pre
            }
        );
    }

    #[test]
    fn bad_columns_name_the_key() {
        let err = spec("D:\n  feature_cols: [{name: a, active: True, dtype: str, type: image}]\n  label_col: {name: y}\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("feature_cols[0]: unknown feature type 'image'"),
            "{err}"
        );
        let err = spec("D:\n  feature_cols: [{name: a, active: True, dtype: str, type: categorical, share_embedding: b}]\n  label_col: {name: y}\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("`share_embedding` is not supported"),
            "{err}"
        );
        let err =
            spec("D:\n  feature_cols: [{name: a, active: True, dtype: str, type: categorical}]\n")
                .unwrap_err();
        assert_eq!(err.key.as_deref(), Some("label_col"));
        let err = spec("D:\n  feature_cols: [{name: a, active: True, dtype: double, type: categorical}]\n  label_col: {name: y}\n").unwrap_err();
        assert!(err.to_string().contains("dtype must be"), "{err}");
    }

    #[test]
    fn split_sizes_are_fractions_or_rows() {
        let s = spec(&format!(
            "{FRAPPE}    valid_size: 11545\n    test_size: 0.1\n"
        ))
        .unwrap();
        assert_eq!(s.valid_size, Some(SplitSize::Rows(11545)));
        assert_eq!(s.test_size.map(|t| t.rows(1000)), Some(100));
    }

    #[test]
    fn encoded_formats_need_no_columns_and_say_what_has_no_effect() {
        for (name, format) in [
            ("h5", DataFormat::H5),
            ("npz", DataFormat::Npz),
            ("tfrecord", DataFormat::TfRecord),
        ] {
            let (s, notes) = spec_and_notes(&format!(
                "D:\n  data_format: {name}\n  train_data: t.{name}\n  valid_size: 0.1\n"
            ))
            .unwrap();
            assert_eq!(s.data_format, format);
            assert!(s.data_format.is_encoded() && s.columns.is_empty());
            assert!(notes.iter().any(|n| n.contains("no effect")), "{notes:?}");
        }
        // parquet is raw rows unless FuxiCTR 2.3 is told not to rebuild its encoded files.
        let (s, notes) = spec_and_notes(
            "D:\n  data_format: parquet\n  rebuild_dataset: False\n  train_data: t.parquet\n",
        )
        .unwrap();
        assert_eq!(s.data_format, DataFormat::EncodedParquet);
        assert!(
            notes.iter().any(|n| n.contains("encoded parquet")),
            "{notes:?}"
        );
        let raw = format!("{FRAPPE}    data_format: parquet\n");
        for extra in ["", "    rebuild_dataset: True\n"] {
            let s = spec(&format!("{raw}{extra}")).unwrap();
            assert_eq!(s.data_format, DataFormat::Parquet);
            assert!(!s.data_format.is_encoded() && !s.columns.is_empty());
        }
        let err = spec("D:\n  data_format: parquet\n  label_col: {name: y}\n").unwrap_err();
        assert!(err.to_string().contains("feature_cols"), "{err}");
        let err = spec("D:\n  data_format: feather\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("not one of csv, parquet, h5, npz, tfrecord"),
            "{err}"
        );
        assert!(spec("D:\n  data_format: csv\n  label_col: {name: y}\n").is_err());
    }

    const TWO_COLUMNS: &str = "D:\n  data_format: csv\n  feature_cols:\n\
        \x20   - {name: [a, b], active: True, dtype: str, type: categorical, embedding_dim: 4}\n\
        \x20   - {name: c, active: True, dtype: float, type: numeric}\n\
        \x20   - {name: u, active: True, dtype: str, type: meta}\n\
        \x20 label_col: {name: y, dtype: float}\n";

    #[test]
    fn per_feature_embedding_dim_from_feature_cols_and_feature_specs() {
        let widths = |s: &DatasetSpec| -> Vec<Option<usize>> {
            s.columns.iter().map(|c| c.embedding_dim).collect()
        };
        let (s, _) = spec_with_model("", TWO_COLUMNS).unwrap();
        assert_eq!(widths(&s), [Some(4), Some(4), None, None]);
        // The model config's feature_specs (FuxiCTR's per-feature overrides) win.
        let (s, _) = spec_with_model(
            "  feature_specs: [{name: b, embedding_dim: 6}, {name: [c], embedding_dim: 2}]\n",
            TWO_COLUMNS,
        )
        .unwrap();
        assert_eq!(widths(&s), [Some(4), Some(6), Some(2), None]);
        assert_eq!(s.feature_specs, [("b".into(), 6), ("c".into(), 2)]);
        for (model, dataset, words) in [
            (
                "  feature_specs: [{name: z, embedding_dim: 6}]\n",
                TWO_COLUMNS,
                &["feature_specs", "`z` is not an active feature column"][..],
            ),
            (
                "  feature_specs: [{name: u, embedding_dim: 6}]\n",
                TWO_COLUMNS,
                &["feature_specs", "`u`"],
            ),
            (
                "  feature_specs: [{name: a, feature_encoder: null}]\n",
                TWO_COLUMNS,
                &["feature_specs", "`feature_encoder` is not supported"],
            ),
            (
                "  feature_specs: [{name: a, embedding_dim: 0}]\n",
                TWO_COLUMNS,
                &["feature_specs", "embedding_dim", "at least 1"],
            ),
            (
                "  feature_specs: 3\n",
                TWO_COLUMNS,
                &["feature_specs", "a list"],
            ),
            (
                "",
                "D:\n  feature_cols: [{name: u, active: True, dtype: str, type: meta, embedding_dim: 4}]\n  label_col: {name: y}\n",
                &["feature_cols[0]", "not to meta columns"],
            ),
            (
                "",
                "D:\n  feature_cols: [{name: a, active: True, dtype: str, type: categorical, embedding_dim: -1}]\n  label_col: {name: y}\n",
                &["feature_cols[0]", "embedding_dim"],
            ),
        ] {
            let err = spec_with_model(model, dataset).unwrap_err().to_string();
            for w in words {
                assert!(err.contains(w), "{w:?} not in {err}");
            }
        }
    }

    #[test]
    fn ordered_features_reorder_the_fields_and_leave_the_others_out() {
        let names =
            |s: &DatasetSpec| -> Vec<String> { s.columns.iter().map(|c| c.name.clone()).collect() };
        let (s, _) = spec_with_model(
            "  ordered_features: [c, a]\n  feature_specs: [{name: a, embedding_dim: 2}]\n",
            TWO_COLUMNS,
        )
        .unwrap();
        // b is left out; the meta column u is not a field and stays.
        assert_eq!(names(&s), ["c", "a", "u"]);
        assert_eq!(s.columns[1].embedding_dim, Some(2));
        for (model, words) in [
            (
                "  ordered_features: [a, z]\n",
                &["ordered_features", "`z` is not an active feature column"][..],
            ),
            ("  ordered_features: [a, u]\n", &["ordered_features", "`u`"]),
            (
                "  ordered_features: [a, a]\n",
                &["ordered_features", "`a` is listed twice"],
            ),
            (
                "  ordered_features: []\n",
                &["ordered_features", "no feature"],
            ),
            ("  ordered_features: a\n", &["ordered_features", "a list"]),
            // A field left out cannot be given a width.
            (
                "  ordered_features: [a]\n  feature_specs: [{name: b, embedding_dim: 2}]\n",
                &["feature_specs", "`b`"],
            ),
        ] {
            let err = spec_with_model(model, TWO_COLUMNS).unwrap_err().to_string();
            for w in words {
                assert!(err.contains(w), "{w:?} not in {err}");
            }
        }
        let (s, _) = spec_with_model("  ordered_features: null\n", TWO_COLUMNS).unwrap();
        assert_eq!(names(&s), ["a", "b", "c", "u"]);
    }
}
