//! A first look at an unknown CSV: per column a profile (missing values, distinct values, an
//! example) and a guess of its role, then the FuxiCTR `dataset_config.yaml` for the roles a
//! person settled on. The browser trainer's schema screen is built on this.

use std::collections::HashSet;
use std::io::Read;

use crate::Task;
use crate::csv_table::CsvError;
use crate::yaml::{Mapping, Value, to_document};

/// Distinct values are counted up to this many; beyond, the count reads "at least".
pub const DISTINCT_CAP: usize = 100_000;

/// Separators a multi-valued (sequence) column may use, in the order they are tried.
pub const SPLITTERS: [&str; 3] = ["|", "^", ";"];

/// Names a click label usually has (compared in lower case).
const LABEL_NAMES: [&str; 8] = [
    "label",
    "click",
    "clicked",
    "is_click",
    "y",
    "target",
    "conversion",
    "clk",
];

/// Names a real-valued label usually has, beside [`LABEL_NAMES`] (compared in lower case).
const VALUE_LABEL_NAMES: [&str; 3] = ["rating", "score", "value"];

/// What a column is used as.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ColumnRole {
    Label,
    Categorical,
    Numeric,
    Sequence { splitter: String },
    Ignore,
}

impl ColumnRole {
    /// Every role's name, in the order a menu lists them.
    pub const NAMES: [&'static str; 5] = ["label", "categorical", "numeric", "sequence", "ignore"];

    /// The role called `name` (one of [`ColumnRole::NAMES`]); a sequence splits on `splitter`.
    pub fn named(name: &str, splitter: &str) -> Option<ColumnRole> {
        Some(match name {
            "label" => ColumnRole::Label,
            "categorical" => ColumnRole::Categorical,
            "numeric" => ColumnRole::Numeric,
            "sequence" => ColumnRole::Sequence {
                splitter: splitter.to_string(),
            },
            "ignore" => ColumnRole::Ignore,
            _ => return None,
        })
    }

    /// Whether the column is embedded (has an embedding width).
    pub fn is_feature(&self) -> bool {
        !matches!(self, ColumnRole::Label | ColumnRole::Ignore)
    }

    pub fn name(&self) -> &'static str {
        match self {
            ColumnRole::Label => "label",
            ColumnRole::Categorical => "categorical",
            ColumnRole::Numeric => "numeric",
            ColumnRole::Sequence { .. } => "sequence",
            ColumnRole::Ignore => "ignore",
        }
    }
}

/// What one pass over a column saw.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    /// Cells that pandas reads as missing (empty, `NA`, `null`, ...).
    pub missing: usize,
    /// Distinct non-missing values, counted up to [`DISTINCT_CAP`].
    pub distinct: usize,
    /// The first non-missing value.
    pub example: Option<String>,
    /// Every non-missing value parses as a finite number.
    pub numeric: bool,
    /// ... and every one of them is a whole number.
    pub integral: bool,
    /// Every non-missing value is 0 or 1 (as `0`, `1`, `0.0`, `1.0`).
    pub binary: bool,
    /// The separator found in enough cells to call the column multi-valued.
    pub splitter: Option<String>,
}

/// Profiles of every column of a CSV, and how many rows were looked at.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    pub source: String,
    pub rows: usize,
    /// Whether rows were left out because of `max_rows`.
    pub truncated: bool,
    pub columns: Vec<ColumnProfile>,
}

struct Counter {
    missing: usize,
    distinct: HashSet<String>,
    example: Option<String>,
    numeric: bool,
    integral: bool,
    binary: bool,
    with_splitter: [usize; SPLITTERS.len()],
}

/// Reads the header and up to `max_rows` rows of CSV text and profiles every column. A ragged row
/// or a header-less file is an error that names the line.
pub fn profile_csv<R: Read>(
    reader: R,
    source: &str,
    max_rows: Option<usize>,
) -> Result<Profile, CsvError> {
    let err = |line: Option<u64>, reason: String| CsvError {
        file: source.to_string(),
        line,
        column: None,
        reason,
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| err(None, e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(err(None, "the file is empty (no header line)".into()));
    }
    let mut seen = HashSet::new();
    for h in &header {
        if !seen.insert(h) {
            return Err(err(Some(1), format!("the header names column `{h}` twice")));
        }
    }
    let mut counters: Vec<Counter> = header
        .iter()
        .map(|_| Counter {
            missing: 0,
            distinct: HashSet::new(),
            example: None,
            numeric: true,
            integral: true,
            binary: true,
            with_splitter: [0; SPLITTERS.len()],
        })
        .collect();
    let mut rows = 0;
    let mut truncated = false;
    let mut record = csv::StringRecord::new();
    loop {
        if max_rows.is_some_and(|m| rows >= m) {
            truncated = csv.read_record(&mut record).unwrap_or(false);
            break;
        }
        let more = csv.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line());
            let reason = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("{len} fields, the header has {expected_len}"),
                _ => e.to_string(),
            };
            err(line, reason)
        })?;
        if !more {
            break;
        }
        rows += 1;
        for (c, cell) in counters.iter_mut().zip(record.iter()) {
            if crate::csv_table::is_na(cell) {
                c.missing += 1;
                continue;
            }
            if c.example.is_none() {
                c.example = Some(cell.to_string());
            }
            if c.distinct.len() < DISTINCT_CAP && !c.distinct.contains(cell) {
                c.distinct.insert(cell.to_string());
            }
            match cell.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    c.integral &= v.fract() == 0.0;
                    c.binary &= v == 0.0 || v == 1.0;
                }
                _ => {
                    c.numeric = false;
                    c.integral = false;
                    c.binary = false;
                }
            }
            for (n, s) in c.with_splitter.iter_mut().zip(SPLITTERS) {
                if cell.contains(s) {
                    *n += 1;
                }
            }
        }
    }
    if rows == 0 {
        return Err(err(
            Some(2),
            "the file has a header but no data rows".into(),
        ));
    }
    let columns = header
        .into_iter()
        .zip(counters)
        .map(|(name, c)| {
            let present = rows - c.missing;
            // Multi-valued: a separator in at least a fifth of the cells, and not a number.
            let splitter = (!c.numeric)
                .then(|| {
                    SPLITTERS
                        .iter()
                        .zip(c.with_splitter)
                        .find(|(_, n)| *n > 0 && *n * 5 >= present)
                        .map(|(s, _)| (*s).to_string())
                })
                .flatten();
            ColumnProfile {
                name,
                missing: c.missing,
                distinct: c.distinct.len(),
                example: c.example,
                numeric: c.numeric && present > 0,
                integral: c.integral && present > 0,
                binary: c.binary && present > 0,
                splitter,
            }
        })
        .collect();
    Ok(Profile {
        source: source.to_string(),
        rows,
        truncated,
        columns,
    })
}

impl Profile {
    /// A role for every column: the label by name (or the first 0/1 column), then per column a
    /// guess from what its values look like.
    pub fn guess_roles(&self) -> Vec<ColumnRole> {
        let named = |c: &ColumnProfile, names: &[&str]| {
            c.missing == 0 && names.contains(&c.name.to_lowercase().as_str())
        };
        let by_name = self
            .columns
            .iter()
            .position(|c| c.binary && named(c, &LABEL_NAMES));
        // Without a 0/1 column, a numeric column named like a label is one for regression.
        let label = by_name
            .or_else(|| self.columns.iter().position(|c| c.binary && c.missing == 0))
            .or_else(|| {
                self.columns.iter().position(|c| {
                    c.numeric && (named(c, &LABEL_NAMES) || named(c, &VALUE_LABEL_NAMES))
                })
            });
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if Some(i) == label {
                    ColumnRole::Label
                } else {
                    guess_feature(c, self.rows)
                }
            })
            .collect()
    }
}

impl Profile {
    /// The task the values of the label column `label` call for: binary classification for
    /// 0/1 values, regression for other numbers; `None` for text or an unknown column.
    pub fn task_of(&self, label: &str) -> Option<Task> {
        let c = self.columns.iter().find(|c| c.name == label)?;
        match (c.binary, c.numeric) {
            (true, _) => Some(Task::BinaryClassification),
            (false, true) => Some(Task::Regression),
            (false, false) => None,
        }
    }
}

fn guess_feature(c: &ColumnProfile, rows: usize) -> ColumnRole {
    let present = rows - c.missing;
    // Nothing to learn from: empty or constant.
    if present == 0 || c.distinct <= 1 {
        return ColumnRole::Ignore;
    }
    // A value per row (ids, timestamps, free text): an embedding per row memorises.
    let unique_per_row = c.distinct == present && present > 50;
    if let Some(s) = &c.splitter {
        return ColumnRole::Sequence {
            splitter: s.clone(),
        };
    }
    if c.numeric && !c.integral {
        return ColumnRole::Numeric;
    }
    if unique_per_row {
        return ColumnRole::Ignore;
    }
    // Whole numbers with many values behave like measurements, few values like categories.
    if c.numeric && c.distinct > 100 && c.distinct * 2 > present {
        return ColumnRole::Numeric;
    }
    ColumnRole::Categorical
}

/// Where the validation and test rows come from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SplitChoice {
    /// Seeded random fractions of the one file.
    Random { valid: f64, test: f64 },
    /// Separate files (test optional).
    Files { valid: String, test: Option<String> },
}

/// A person's decisions on the schema screen: everything `dataset_config.yaml` needs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetChoice {
    pub dataset_id: String,
    /// The train file's name as the config will refer to it (relative to the working directory).
    pub train_file: String,
    pub split: SplitChoice,
    pub min_categr_count: usize,
    /// (column, role) in file order; the label once.
    pub columns: Vec<(String, ColumnRole)>,
    /// Columns with missing values: numeric ones get `fill_na: 0` (FuxiCTR cannot take NaN).
    pub with_missing: Vec<String>,
    /// Feature columns with their own embedding width (`embedding_dim` in their entry).
    pub widths: Vec<(String, usize)>,
}

/// Why a choice cannot become a config.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChoiceError {
    #[error("no column is marked as the label")]
    NoLabel,
    #[error("columns `{0}` and `{1}` are both marked as the label; keep one")]
    TwoLabels(String, String),
    #[error("every column is ignored: mark at least one as a feature")]
    NoFeatures,
    #[error("the validation and test fractions ({0} and {1}) must be ≥ 0 and leave training rows")]
    BadFractions(f64, f64),
    #[error("the validation fraction must be above 0: the training loop evaluates on it")]
    NoValidation,
    #[error("dataset id `{0}` must be letters, digits, `_` or `-`")]
    BadId(String),
}

impl DatasetChoice {
    pub fn label(&self) -> Result<&str, ChoiceError> {
        let mut labels = self.columns.iter().filter(|(_, r)| *r == ColumnRole::Label);
        let first = labels.next().ok_or(ChoiceError::NoLabel)?;
        if let Some(second) = labels.next() {
            return Err(ChoiceError::TwoLabels(first.0.clone(), second.0.clone()));
        }
        Ok(&first.0)
    }

    /// `dataset_config.yaml` in FuxiCTR's layout; `qnn train` and FuxiCTR read it unchanged.
    pub fn to_yaml(&self) -> Result<String, ChoiceError> {
        let id_ok = !self.dataset_id.is_empty()
            && self
                .dataset_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !id_ok {
            return Err(ChoiceError::BadId(self.dataset_id.clone()));
        }
        let label = self.label()?.to_string();
        let mut features = Vec::new();
        for (name, role) in &self.columns {
            let mut col = Mapping::new();
            col.insert("name", Value::Str(name.clone()), 0);
            col.insert("active", Value::Bool(true), 0);
            let missing = self.with_missing.contains(name);
            match role {
                ColumnRole::Label | ColumnRole::Ignore => continue,
                ColumnRole::Categorical => {
                    col.insert("dtype", Value::Str("str".into()), 0);
                    col.insert("type", Value::Str("categorical".into()), 0);
                }
                ColumnRole::Numeric => {
                    col.insert("dtype", Value::Str("float".into()), 0);
                    col.insert("type", Value::Str("numeric".into()), 0);
                    if missing {
                        col.insert("fill_na", Value::Int(0), 0);
                    }
                    col.insert("normalizer", Value::Str("StandardScaler".into()), 0);
                }
                ColumnRole::Sequence { splitter } => {
                    col.insert("dtype", Value::Str("str".into()), 0);
                    col.insert("type", Value::Str("sequence".into()), 0);
                    col.insert("splitter", Value::Str(splitter.clone()), 0);
                    col.insert("padding", Value::Str("post".into()), 0);
                }
            }
            if let Some((_, width)) = self.widths.iter().find(|(n, _)| n == name) {
                col.insert("embedding_dim", Value::Int(*width as i64), 0);
            }
            features.push(Value::Map(col));
        }
        if features.is_empty() {
            return Err(ChoiceError::NoFeatures);
        }
        let mut d = Mapping::new();
        d.insert("data_root", Value::Str("./data/".into()), 0);
        d.insert("data_format", Value::Str("csv".into()), 0);
        d.insert("train_data", Value::Str(self.train_file.clone()), 0);
        match &self.split {
            SplitChoice::Random { valid, test } => {
                let (v, t) = (*valid, *test);
                if !(v >= 0.0 && t >= 0.0 && v + t < 1.0) {
                    return Err(ChoiceError::BadFractions(v, t));
                }
                if v == 0.0 {
                    return Err(ChoiceError::NoValidation);
                }
                d.insert("valid_size", Value::Float(v), 0);
                if t > 0.0 {
                    d.insert("test_size", Value::Float(t), 0);
                }
                d.insert("split_type", Value::Str("random".into()), 0);
            }
            SplitChoice::Files { valid, test } => {
                d.insert("valid_data", Value::Str(valid.clone()), 0);
                if let Some(t) = test {
                    d.insert("test_data", Value::Str(t.clone()), 0);
                }
            }
        }
        d.insert(
            "min_categr_count",
            Value::Int(self.min_categr_count as i64),
            0,
        );
        d.insert("feature_cols", Value::List(features), 0);
        let mut label_col = Mapping::new();
        label_col.insert("name", Value::Str(label), 0);
        label_col.insert("dtype", Value::Str("float".into()), 0);
        d.insert("label_col", Value::Map(label_col), 0);
        let mut root = Mapping::new();
        root.insert(self.dataset_id.clone(), Value::Map(d), 0);
        Ok(to_document(&root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigFile, Experiment};
    use crate::dataset_config::{ColumnKind, DatasetSpec};

    const CSV: &str = "id,clicked,city,price,genres,hour,const\n\
        1,0,paris,1.5,a|b,3,x\n\
        2,1,rome,,b,4,x\n\
        3,0,,2.25,c|a|b,3,x\n\
        4,1,paris,3.0,a,5,x\n";

    #[test]
    fn profiles_and_guesses_each_kind_of_column() {
        let p = profile_csv(CSV.as_bytes(), "t.csv", None).unwrap();
        assert_eq!(p.rows, 4);
        let city = &p.columns[2];
        assert_eq!(
            (city.missing, city.distinct, city.example.as_deref()),
            (1, 2, Some("paris"))
        );
        assert_eq!(p.columns[4].splitter.as_deref(), Some("|"));
        let roles = p.guess_roles();
        assert_eq!(
            roles,
            vec![
                ColumnRole::Categorical, // 4 rows are too few to call ids ids
                ColumnRole::Label,
                ColumnRole::Categorical,
                ColumnRole::Numeric,
                ColumnRole::Sequence {
                    splitter: "|".into()
                },
                ColumnRole::Categorical,
                ColumnRole::Ignore,
            ]
        );
    }

    #[test]
    fn every_role_is_found_by_its_name() {
        for name in ColumnRole::NAMES {
            let role = ColumnRole::named(name, "^").unwrap();
            assert_eq!(role.name(), name);
            assert_eq!(role.is_feature(), !matches!(name, "label" | "ignore"));
        }
        assert_eq!(
            ColumnRole::named("sequence", "^"),
            Some(ColumnRole::Sequence {
                splitter: "^".into()
            })
        );
        assert_eq!(ColumnRole::named("Label", "|"), None);
    }

    #[test]
    fn a_numeric_label_without_a_click_column_calls_for_regression() {
        let csv = "user,rating,city\nu1,4,paris\nu2,3.5,rome\nu3,5,paris\nu1,1,rome\n";
        let p = profile_csv(csv.as_bytes(), "r.csv", None).unwrap();
        let roles = p.guess_roles();
        assert_eq!(roles[1], ColumnRole::Label);
        assert_eq!(p.task_of("rating"), Some(Task::Regression));
        assert_eq!(p.task_of("city"), None);
        assert_eq!(p.task_of("nope"), None);
        // A 0/1 column wins over a rating, and is a binary task.
        let csv = "rating,clicked\n4,1\n2,0\n5,1\n";
        let p = profile_csv(csv.as_bytes(), "c.csv", None).unwrap();
        assert_eq!(p.guess_roles()[1], ColumnRole::Label);
        assert_eq!(p.task_of("clicked"), Some(Task::BinaryClassification));
        // A rating with gaps is not a label (every row needs one).
        let csv = "rating,city\n4,a\n,b\n5,c\n";
        let p = profile_csv(csv.as_bytes(), "g.csv", None).unwrap();
        assert!(!p.guess_roles().contains(&ColumnRole::Label));
    }

    #[test]
    fn ids_are_ignored_and_integers_with_many_values_are_numeric() {
        let mut csv = String::from("id,y,count\n");
        for i in 0..200 {
            csv.push_str(&format!("u{i},{},{}\n", i % 2, (i * 7) % 150));
        }
        let roles = profile_csv(csv.as_bytes(), "t.csv", None)
            .unwrap()
            .guess_roles();
        assert_eq!(
            roles,
            vec![ColumnRole::Ignore, ColumnRole::Label, ColumnRole::Numeric]
        );
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = profile_csv("a,b\n1,2\n3\n".as_bytes(), "f.csv", None).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.to_string().contains("1 fields, the header has 2"), "{e}");
        let e = profile_csv("".as_bytes(), "f.csv", None).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = profile_csv("a,b\n".as_bytes(), "f.csv", None).unwrap_err();
        assert!(e.to_string().contains("no data rows"), "{e}");
        let e = profile_csv("a,a\n1,2\n".as_bytes(), "f.csv", None).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn max_rows_truncates() {
        let p = profile_csv(CSV.as_bytes(), "t.csv", Some(2)).unwrap();
        assert_eq!((p.rows, p.truncated), (2, true));
    }

    fn choice(p: &Profile) -> DatasetChoice {
        DatasetChoice {
            dataset_id: "demo".into(),
            train_file: "./t.csv".into(),
            split: SplitChoice::Random {
                valid: 0.25,
                test: 0.25,
            },
            min_categr_count: 1,
            columns: p
                .columns
                .iter()
                .map(|c| c.name.clone())
                .zip(p.guess_roles())
                .collect(),
            with_missing: p
                .columns
                .iter()
                .filter(|c| c.missing > 0)
                .map(|c| c.name.clone())
                .collect(),
            widths: Vec::new(),
        }
    }

    #[test]
    fn exported_config_reads_back_as_the_chosen_schema() {
        let p = profile_csv(CSV.as_bytes(), "t.csv", None).unwrap();
        let mut c = choice(&p);
        c.widths = vec![("price".into(), 3)];
        let yaml = c.to_yaml().unwrap();
        let exp = Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: "E:\n    dataset_id: demo\n".into(),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: yaml.clone(),
            }],
            "E",
        )
        .unwrap();
        let (spec, _) = DatasetSpec::from_experiment(&exp).unwrap();
        let kinds: Vec<(&str, &ColumnKind)> = spec
            .columns
            .iter()
            .map(|c| (c.name.as_str(), &c.kind))
            .collect();
        assert_eq!(kinds.len(), 5, "{yaml}");
        assert!(matches!(kinds[2], ("price", ColumnKind::Numeric { .. })));
        assert!(
            matches!(kinds[3], ("genres", ColumnKind::Sequence { splitter, .. }) if splitter == "|")
        );
        assert_eq!(spec.label, "clicked");
        assert_eq!(spec.columns[2].raw.fill_na.as_deref(), Some("0"));
        assert!(yaml.contains("split_type: random"), "{yaml}");
        // A column's own width is in its entry; the others take the model's.
        let widths: Vec<Option<usize>> = spec.columns.iter().map(|c| c.embedding_dim).collect();
        assert_eq!(widths, [None, None, Some(3), None, None], "{yaml}");
    }

    #[test]
    fn choices_that_cannot_train_are_refused() {
        let p = profile_csv(CSV.as_bytes(), "t.csv", None).unwrap();
        let mut c = choice(&p);
        c.columns[1].1 = ColumnRole::Categorical;
        assert_eq!(c.to_yaml(), Err(ChoiceError::NoLabel));
        c.columns[1].1 = ColumnRole::Label;
        c.columns[2].1 = ColumnRole::Label;
        assert!(matches!(c.to_yaml(), Err(ChoiceError::TwoLabels(..))));
        let mut c = choice(&p);
        c.split = SplitChoice::Random {
            valid: 0.6,
            test: 0.5,
        };
        assert!(matches!(c.to_yaml(), Err(ChoiceError::BadFractions(..))));
        let mut c = choice(&p);
        for col in &mut c.columns {
            if col.1 != ColumnRole::Label {
                col.1 = ColumnRole::Ignore;
            }
        }
        assert_eq!(c.to_yaml(), Err(ChoiceError::NoFeatures));
        let mut c = choice(&p);
        c.dataset_id = "a b".into();
        assert!(matches!(c.to_yaml(), Err(ChoiceError::BadId(_))));
    }
}
