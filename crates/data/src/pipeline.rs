//! From a dataset config to encoded splits: read the train CSV, carve valid/test out of it or
//! read their own files, fit the feature processor on the train rows, encode every split.
//!
//! The one path the CLI (files on disk) and the browser (uploaded bytes) share, so that both
//! see exactly the same rows, vocabularies and ids. Where the bytes come from is the caller's.

use std::io::Read;

use crate::csv_table::{CsvError, RawTable, ReadColumn};
use crate::dataset::EncodedDataset;
use crate::dataset_config::DatasetSpec;
use crate::feature_map::FeatureMap;
use crate::processor::{encode, fit, split_rows, training_columns};

/// Encoded splits ready for training.
#[derive(Debug, Clone)]
pub struct Splits {
    pub feature_map: FeatureMap,
    pub train: EncodedDataset,
    pub valid: Option<EncodedDataset>,
    pub test: Option<EncodedDataset>,
}

impl Splits {
    pub fn rows(&self) -> usize {
        self.train.len()
            + self.valid.as_ref().map_or(0, EncodedDataset::len)
            + self.test.as_ref().map_or(0, EncodedDataset::len)
    }
}

/// Opens the CSV a config path names. The browser maps paths to uploaded files; the CLI opens
/// them from disk.
pub trait CsvSource {
    type Reader: Read;
    /// A reader over the file's bytes, or a message saying why there is none.
    fn open(&mut self, path: &str) -> Result<Self::Reader, String>;
    /// Called now and then while `path` is read, with the bytes read so far.
    fn progress(&mut self, _path: &str, _bytes: u64) {}
}

/// Why the splits could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("dataset `{dataset}`: train_data is not set")]
    NoTrainData { dataset: String },
    #[error("cannot read {path}: {reason}")]
    Open { path: String, reason: String },
    #[error(transparent)]
    Csv(#[from] CsvError),
}

fn read(
    source: &mut impl CsvSource,
    path: &str,
    columns: &[ReadColumn],
) -> Result<RawTable, PipelineError> {
    let reader = source.open(path).map_err(|reason| PipelineError::Open {
        path: path.to_string(),
        reason,
    })?;
    let mut on_progress = |b: u64| source.progress(path, b);
    Ok(RawTable::read(reader, path, columns, &mut on_progress)?)
}

/// Builds the encoded splits of `spec`; `seed` drives a random `split_type`.
pub fn build_splits(
    spec: &DatasetSpec,
    seed: u64,
    source: &mut impl CsvSource,
) -> Result<Splits, PipelineError> {
    let columns = training_columns(spec);
    let Some(train_path) = &spec.train_data else {
        return Err(PipelineError::NoTrainData {
            dataset: spec.dataset_id.clone(),
        });
    };
    let table = read(source, train_path, &columns)?;
    let (train_rows, carved_valid, carved_test) = split_rows(table.len(), spec, seed);
    let feature_map = fit(spec, &table, &train_rows)?;
    let train = encode(&feature_map, &table, &train_rows)?;
    let mut from_file = |path: &Option<String>| -> Result<Option<EncodedDataset>, PipelineError> {
        match path {
            Some(p) if p == train_path => Ok(None),
            Some(p) => {
                let t = read(source, p, &columns)?;
                let all: Vec<usize> = (0..t.len()).collect();
                Ok(Some(encode(&feature_map, &t, &all)?))
            }
            None => Ok(None),
        }
    };
    let valid = match carved_valid {
        Some(rows) => Some(encode(&feature_map, &table, &rows)?),
        None => from_file(&spec.valid_data)?,
    };
    let test = match carved_test {
        Some(rows) => Some(encode(&feature_map, &table, &rows)?),
        None => from_file(&spec.test_data)?,
    };
    Ok(Splits {
        feature_map,
        train,
        valid,
        test,
    })
}

/// In-memory files by name: what the browser has after an upload, and what tests use.
#[derive(Debug, Default, Clone)]
pub struct MemoryFiles {
    pub files: Vec<(String, Vec<u8>)>,
}

impl MemoryFiles {
    /// The file whose name equals `path`, or equals its last path component.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
        self.files
            .iter()
            .find(|(n, _)| n == path)
            .or_else(|| self.files.iter().find(|(n, _)| n == base))
            .map(|(_, b)| b.as_slice())
    }
}

impl<'a> CsvSource for &'a MemoryFiles {
    type Reader = &'a [u8];
    fn open(&mut self, path: &str) -> Result<&'a [u8], String> {
        let files: &'a MemoryFiles = self;
        files.get(path).ok_or_else(|| {
            format!(
                "no such file was given (have: {})",
                files
                    .files
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigFile, Experiment};

    fn spec(extra: &str) -> DatasetSpec {
        let exp = Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: "E:\n  dataset_id: D\n".into(),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: format!(
                    "D:\n  data_root: ./data/\n  feature_cols:\n  - {{name: c, active: True, \
                     dtype: str, type: categorical}}\n  label_col: {{name: y, dtype: float}}\n{extra}"
                ),
            }],
            "E",
        )
        .unwrap();
        DatasetSpec::from_experiment(&exp).unwrap().0
    }

    fn csv(rows: usize) -> Vec<u8> {
        let mut s = String::from("c,y\n");
        for i in 0..rows {
            s.push_str(&format!("t{},{}\n", i % 3, i % 2));
        }
        s.into_bytes()
    }

    #[test]
    fn carves_valid_and_test_from_one_file() {
        let files = MemoryFiles {
            files: vec![("all.csv".into(), csv(100))],
        };
        let spec = spec(
            "  train_data: ./some/dir/all.csv\n  valid_size: 0.2\n  test_size: 0.1\n  \
             split_type: random\n",
        );
        let s = build_splits(&spec, 7, &mut &files).unwrap();
        assert_eq!(
            (s.train.len(), s.valid.unwrap().len(), s.test.unwrap().len()),
            (70, 20, 10)
        );
    }

    #[test]
    fn reads_separate_files_and_names_a_missing_one() {
        let files = MemoryFiles {
            files: vec![("a.csv".into(), csv(10)), ("b.csv".into(), csv(4))],
        };
        let ok = spec("  train_data: a.csv\n  valid_data: b.csv\n");
        let s = build_splits(&ok, 1, &mut &files).unwrap();
        assert_eq!((s.train.len(), s.valid.unwrap().len()), (10, 4));
        assert!(s.test.is_none());
        let missing = spec("  train_data: a.csv\n  valid_data: b.csv\n  test_data: c.csv\n");
        let e = build_splits(&missing, 1, &mut &files)
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.csv") && e.contains("a.csv, b.csv"), "{e}");
    }
}
