//! Files that hold rows FuxiCTR has already encoded — the h5 files of FuxiCTR 2.0.1's
//! `build_dataset`, the npz files of FuxiCTR 2.2, the parquet files of FuxiCTR 2.3, the
//! TFRecords its TensorFlow side reads — read
//! a chunk of rows at a time into [`EncodedDataset`]s for the feature map that FuxiCTR wrote
//! beside them (`feature_map.json`, `feature_vocab.json`; see [`fuxictr_feature_map`]).
//!
//! Each format only has to say what shape a named column has and hand over a window of its rows
//! as integers or floats ([`ColumnSource`]); the checks that make a chunk safe to train on (ids
//! inside their vocabulary, finite values, 0/1 labels) are made once, here, for all of them.

mod fuxictr;
mod h5;
mod npz;
mod parquet;
mod tfrecord;

pub use fuxictr::fuxictr_feature_map;

use crate::buffer::SharedBytes;
use crate::dataset::{Column, EncodedDataset};
use crate::dataset_config::DataFormat;
use crate::feature_map::{FeatureKind, FeatureMap};

/// A problem with an encoded data file, located by file and column (and row where there is one).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}{}: {reason}", column.as_ref().map(|c| format!(": column `{c}`")).unwrap_or_default())]
pub struct TableError {
    pub file: String,
    pub column: Option<String>,
    pub reason: String,
}

/// What every encoded format can do: name the shape of a column and read a window of its rows.
trait ColumnSource {
    /// The shape of column `name` (`[rows]` or `[rows, width]`), or `None` when the file has no
    /// such column.
    fn shape(&mut self, name: &str) -> Result<Option<Vec<u64>>, String>;
    /// Rows `start..start + rows` of column `name`, `width` values each, row-major.
    fn ints(
        &mut self,
        name: &str,
        start: usize,
        rows: usize,
        width: usize,
    ) -> Result<Vec<i64>, String>;
    /// Rows `start..start + rows` of the scalar column `name`.
    fn floats(&mut self, name: &str, start: usize, rows: usize) -> Result<Vec<f64>, String>;
}

/// One file of encoded rows, opened for a feature map.
pub struct EncodedTable {
    file: String,
    source: Box<dyn ColumnSource>,
    label: String,
    /// Rows in the file, the same in every column (checked when opened).
    rows: usize,
}

impl std::fmt::Debug for EncodedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedTable")
            .field("file", &self.file)
            .field("rows", &self.rows)
            .finish()
    }
}

impl EncodedTable {
    /// Opens `bytes` (the file `file`) as `format` and checks that it has every field of `map`
    /// and its label, in the shapes the map gives.
    pub fn open(
        format: DataFormat,
        file: &str,
        bytes: SharedBytes,
        map: &FeatureMap,
    ) -> Result<Self, TableError> {
        let err = |column: Option<&str>, reason: String| TableError {
            file: file.to_string(),
            column: column.map(str::to_string),
            reason,
        };
        let file_len = (*bytes).as_ref().len();
        let source: Box<dyn ColumnSource> = match format {
            DataFormat::H5 => Box::new(h5::H5File::open(bytes).map_err(|e| err(None, e))?),
            DataFormat::Npz => Box::new(npz::NpzFile::open(bytes).map_err(|e| err(None, e))?),
            DataFormat::TfRecord => {
                Box::new(tfrecord::TfRecordFile::open(bytes, map).map_err(|e| err(None, e))?)
            }
            DataFormat::EncodedParquet => {
                Box::new(parquet::EncodedParquetFile::open(bytes).map_err(|e| err(None, e))?)
            }
            DataFormat::Csv | DataFormat::Parquet => {
                return Err(err(None, format!("{format:?} files are not encoded data")));
            }
        };
        let label = map
            .labels
            .first()
            .cloned()
            .ok_or_else(|| err(None, "the feature map names no label".into()))?;
        let mut table = Self {
            file: file.to_string(),
            source,
            label,
            rows: 0,
        };
        let mut rows = None;
        let mut expect = |name: &str, width: usize| -> Result<(), TableError> {
            let found = table
                .source
                .shape(name)
                .and_then(|shape| shape.map(|s| row_width(&s, &mut rows)).transpose());
            let n = rows.unwrap_or(0);
            match found {
                // Every value takes at least a byte in each format: sizes read from a header
                // (or a feature map) that the bytes cannot hold are refused before anything is
                // allocated for them.
                Ok(Some(w)) if w == width && n.checked_mul(w).is_none_or(|n| n > file_len) => {
                    Err(err(
                        Some(name),
                        format!(
                            "says {n} rows of {w} values, more than its {file_len} bytes can hold"
                        ),
                    ))
                }
                Ok(Some(w)) if w == width => Ok(()),
                Ok(Some(w)) => Err(err(
                    Some(name),
                    format!("has {w} values per row, the feature map says {width}"),
                )),
                Ok(None) => Err(err(
                    Some(name),
                    "is missing (the feature map lists it)".to_string(),
                )),
                Err(e) => Err(err(Some(name), e)),
            }
        };
        for field in map.fields() {
            let width = match &field.kind {
                FeatureKind::Sequence { max_len, .. } => *max_len,
                _ => 1,
            };
            expect(&field.name, width)?;
        }
        expect(&table.label.clone(), 1)?;
        table.rows = rows.unwrap_or(0);
        Ok(table)
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Rows `start..start + rows`, checked: ids inside their vocabulary, finite values, 0/1
    /// labels.
    pub fn read(
        &mut self,
        map: &FeatureMap,
        start: usize,
        rows: usize,
    ) -> Result<EncodedDataset, TableError> {
        let rows = rows.min(self.rows().saturating_sub(start));
        let file = self.file.clone();
        let err = |column: &str, reason: String| TableError {
            file: file.clone(),
            column: Some(column.to_string()),
            reason,
        };
        let mut columns = Vec::with_capacity(map.num_fields());
        for field in map.fields() {
            let name = field.name.as_str();
            let column = match &field.kind {
                FeatureKind::Categorical { vocab } => {
                    let ids = self
                        .source
                        .ints(name, start, rows, 1)
                        .map_err(|e| err(name, e))?;
                    Column::Ids(
                        checked_ids(ids, vocab.size(), start, 1)
                            .map_err(|e| err(name, e))?
                            .into(),
                    )
                }
                FeatureKind::Sequence { vocab, max_len, .. } => {
                    let ids = self
                        .source
                        .ints(name, start, rows, *max_len)
                        .map_err(|e| err(name, e))?;
                    Column::Sequences {
                        ids: checked_ids(ids, vocab.size(), start, *max_len)
                            .map_err(|e| err(name, e))?
                            .into(),
                        max_len: *max_len,
                    }
                }
                FeatureKind::Numeric { .. } => {
                    let values = self
                        .source
                        .floats(name, start, rows)
                        .map_err(|e| err(name, e))?;
                    Column::Values(
                        checked_values(&values, start)
                            .map_err(|e| err(name, e))?
                            .into(),
                    )
                }
                FeatureKind::Meta => continue,
            };
            columns.push(column);
        }
        let label = self.label.clone();
        let labels = self
            .source
            .floats(&label, start, rows)
            .map_err(|e| err(&label, e))?;
        let labels = labels
            .iter()
            .enumerate()
            .map(|(i, &y)| {
                map.task
                    .label(y)
                    .map_err(|e| err(&label, format!("row {}: {y} {e}", start + i)))
            })
            .collect::<Result<Vec<f32>, _>>()?;
        let data = EncodedDataset::new(map, columns, labels).map_err(|e| TableError {
            file: self.file.clone(),
            column: None,
            reason: e.to_string(),
        })?;
        match &map.group_id {
            // FuxiCTR stores a meta column's values (or a categorical one's ids) as numbers;
            // rows with equal numbers share a group.
            Some(g) => {
                let values = self.source.floats(g, start, rows).map_err(|e| err(g, e))?;
                let groups: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
                data.with_groups(groups).map_err(|e| err(g, e.to_string()))
            }
            None => Ok(data),
        }
    }
}

/// Values per row of a column of `shape` (`[rows]` or `[rows, width]`), whose row count must
/// agree with the columns seen before (`rows`).
fn row_width(shape: &[u64], rows: &mut Option<usize>) -> Result<usize, String> {
    let (n, width) = match shape {
        [n] => (*n, 1),
        [n, width] => (*n, *width),
        other => {
            return Err(format!(
                "has shape {other:?}, expected [rows] or [rows, max_len]"
            ));
        }
    };
    let n = usize::try_from(n).map_err(|_| format!("{n} rows"))?;
    let width = usize::try_from(width).map_err(|_| format!("{width} values per row"))?;
    match *rows {
        Some(r) if r != n => Err(format!("has {n} rows, other columns have {r}")),
        _ => {
            *rows = Some(n);
            Ok(width)
        }
    }
}

fn checked_ids(
    ids: Vec<i64>,
    vocab_size: usize,
    start: usize,
    width: usize,
) -> Result<Vec<u32>, String> {
    ids.iter()
        .enumerate()
        .map(|(i, &id)| {
            u32::try_from(id)
                .ok()
                .filter(|&id| (id as usize) < vocab_size)
                .ok_or_else(|| {
                    format!(
                        "row {}: id {id} is outside the vocabulary (0..{vocab_size}, from feature_map.json)",
                        start + i / width.max(1)
                    )
                })
        })
        .collect()
}

fn checked_values(values: &[f64], start: usize) -> Result<Vec<f32>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let x = v as f32;
            if x.is_finite() {
                Ok(x)
            } else {
                Err(format!("row {}: {v} is not a finite f32", start + i))
            }
        })
        .collect()
}
