//! FuxiCTR 2.3's encoded parquet files: one column per feature (integer ids; floats for numeric
//! features; a list of `max_len` ids per row for sequences) plus the label, as its
//! `build_dataset` writes them through Ray and pandas. Read a window of rows at a time, in place.

use std::collections::HashMap;

use super::ColumnSource;
use crate::buffer::SharedBytes;
use crate::parquet_columns::{ColumnCursor, Entry, LeafKind, ParquetFile, Values, Window};

pub(super) struct EncodedParquetFile {
    file: ParquetFile,
    cursors: HashMap<String, ColumnCursor>,
}

impl EncodedParquetFile {
    pub(super) fn open(bytes: SharedBytes) -> Result<Self, String> {
        let file = ParquetFile::open(bytes)?;
        if file.rows() == 0 {
            return Err("has no rows".into());
        }
        Ok(Self {
            file,
            cursors: HashMap::new(),
        })
    }

    /// A window of column `name`, whose cursor [`ColumnSource::shape`] made when the table was
    /// opened.
    fn window(&mut self, name: &str, start: usize, rows: usize) -> Result<Window, String> {
        let cursor = self.cursors.get_mut(name).ok_or("is missing")?;
        cursor.read(&self.file, start, rows)
    }
}

impl ColumnSource for EncodedParquetFile {
    fn shape(&mut self, name: &str) -> Result<Option<Vec<u64>>, String> {
        let Some(leaf) = self.file.leaf(name)? else {
            return Ok(None);
        };
        let rows = self.file.rows() as u64;
        let shape = if leaf.is_list() {
            // Every row of a sequence column holds the same number of ids (checked as they are
            // read), so the values stored are rows × max_len.
            let values = self.file.stored_values(&leaf);
            if !values.is_multiple_of(rows) {
                return Err(format!(
                    "holds lists of different lengths ({values} values in {rows} rows)"
                ));
            }
            vec![rows, values / rows]
        } else {
            vec![rows]
        };
        self.cursors
            .insert(name.to_string(), ColumnCursor::new(leaf));
        Ok(Some(shape))
    }

    fn ints(
        &mut self,
        name: &str,
        start: usize,
        rows: usize,
        width: usize,
    ) -> Result<Vec<i64>, String> {
        let window = self.window(name, start, rows)?;
        let kind = self.cursors[name].leaf().kind;
        let mut ids = Vec::with_capacity(rows * width);
        for r in 0..window.ends.len() {
            let row = window.row(r);
            if row.len() != width {
                return Err(format!(
                    "row {}: {} values, the feature map says {width}",
                    start + r,
                    row.len()
                ));
            }
            for entry in row {
                let Entry::Value(i) = *entry else {
                    return Err(format!("row {}: a null id", start + r));
                };
                let unsigned = matches!(kind, LeafKind::Int { unsigned: true });
                ids.push(match &window.values {
                    Values::I32(v) if unsigned => i64::from(v[i] as u32),
                    Values::I32(v) => i64::from(v[i]),
                    // An unsigned id past i64::MAX is outside any vocabulary; -1 is refused as such.
                    Values::I64(v) if unsigned => i64::try_from(v[i] as u64).unwrap_or(-1),
                    Values::I64(v) => v[i],
                    _ => return Err(format!("holds {kind:?} values, not integer ids")),
                });
            }
        }
        Ok(ids)
    }

    fn floats(&mut self, name: &str, start: usize, rows: usize) -> Result<Vec<f64>, String> {
        let window = self.window(name, start, rows)?;
        let kind = self.cursors[name].leaf().kind;
        let mut out = Vec::with_capacity(rows);
        for r in 0..window.ends.len() {
            let &[Entry::Value(i)] = window.row(r) else {
                return Err(format!("row {}: a null or a list, not a number", start + r));
            };
            let unsigned = matches!(kind, LeafKind::Int { unsigned: true });
            out.push(match &window.values {
                Values::F64(v) => v[i],
                Values::F32(v) => f64::from(v[i]),
                Values::I32(v) if unsigned => f64::from(v[i] as u32),
                Values::I32(v) => f64::from(v[i]),
                Values::I64(v) if unsigned => v[i] as u64 as f64,
                Values::I64(v) => v[i] as f64,
                Values::Bool(v) => f64::from(u8::from(v[i])),
                Values::Bytes(_) => return Err("holds strings, not numbers".into()),
            });
        }
        Ok(out)
    }
}
