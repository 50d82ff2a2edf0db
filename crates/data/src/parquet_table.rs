//! Raw rows from a parquet file (`data_format: parquet`), a chunk at a time, read as the CSV that
//! pandas' `to_csv` would write from the same table: integers in decimal, floats as Python prints
//! them, booleans `True`/`False` (`1`/`0` in numeric and label columns), nulls and NaN as empty
//! cells, and a list (a sequence feature) as its items joined by the column's `splitter` (what
//! FuxiCTR 2.3 does with `^`). The cells then go through exactly the CSV route's decoding, so a
//! parquet file and the CSV of the same rows give the same vocabularies, ids and model.

use std::io::Write;

use crate::buffer::SharedBytes;
use crate::csv_table::{Cells, CsvError, Place, RawTable, ReadColumn, Role, decode_chunk};
use crate::parquet_columns::{ColumnCursor, Entry, LeafKind, ParquetFile, Values, Window};
use crate::yaml::{python_float, python_float32};

/// A parquet file read a chunk of rows at a time; memory holds one chunk of the columns asked
/// for, whatever the size of the file.
pub struct ParquetChunks {
    file: ParquetFile,
    source: String,
    columns: Vec<ReadColumn>,
    cursors: Vec<ColumnCursor>,
    rows: usize,
    file_len: u64,
}

impl std::fmt::Debug for ParquetChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetChunks")
            .field("source", &self.source)
            .field("rows", &self.rows)
            .finish()
    }
}

impl ParquetChunks {
    /// Opens `bytes` (the file `source`) and finds `columns` in it.
    pub fn new(bytes: SharedBytes, source: &str, columns: &[ReadColumn]) -> Result<Self, CsvError> {
        let err = |column: Option<&str>, reason: String| CsvError {
            file: source.to_string(),
            line: None,
            column: column.map(str::to_string),
            reason,
        };
        let file_len = (*bytes).as_ref().len() as u64;
        let file = ParquetFile::open(bytes).map_err(|e| err(None, e))?;
        let mut cursors = Vec::with_capacity(columns.len());
        for c in columns {
            let leaf = file
                .leaf(&c.name)
                .map_err(|e| err(Some(&c.name), e))?
                .ok_or_else(|| {
                    err(
                        Some(&c.name),
                        format!("no such column (it has: {})", file.column_names()),
                    )
                })?;
            if leaf.is_list() && !matches!(c.role, Role::Sequence { .. }) {
                return Err(err(
                    Some(&c.name),
                    "holds lists; only sequence features take lists".into(),
                ));
            }
            cursors.push(ColumnCursor::new(leaf));
        }
        Ok(Self {
            file,
            source: source.to_string(),
            columns: columns.to_vec(),
            cursors,
            rows: 0,
            file_len,
        })
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> usize {
        self.rows
    }

    /// The error for a file without rows.
    pub fn no_rows(&self) -> CsvError {
        CsvError {
            file: self.source.clone(),
            line: None,
            column: None,
            reason: "has no rows".into(),
        }
    }

    /// The remaining rows, from the file's footer.
    pub fn count_rows(&mut self, progress: &mut dyn FnMut(u64)) -> Result<usize, CsvError> {
        let n = self.file.rows() - self.rows;
        self.rows = self.file.rows();
        progress(self.file_len);
        Ok(n)
    }

    /// The next (at most) `max_rows` rows, or `None` at the end of the file.
    pub fn next_chunk(
        &mut self,
        max_rows: usize,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Option<RawTable>, CsvError> {
        let start = self.rows;
        let rows = max_rows.min(self.file.rows() - start);
        if rows == 0 {
            progress(self.file_len);
            return Ok(None);
        }
        let mut slots: Vec<_> = self
            .cursors
            .iter_mut()
            .zip(&self.columns)
            .map(|(cursor, column)| (cursor, column, Ok(CellColumn::default())))
            .collect();
        let file = &self.file;
        crate::par::for_each_mut(&mut slots, |(cursor, column, out), _| {
            *out = cursor
                .read(file, start, rows)
                .map(|window| CellColumn::new(&window, cursor.leaf().kind, &column.role));
        });
        let mut cells = Vec::with_capacity(slots.len());
        for (_, column, out) in slots {
            cells.push(out.map_err(|reason| CsvError {
                file: self.source.clone(),
                line: None,
                column: Some(column.name.clone()),
                reason,
            })?);
        }
        self.rows += rows;
        progress(self.file_len * self.rows as u64 / self.file.rows().max(1) as u64);
        let cells = ParquetCells {
            columns: cells,
            first_row: start,
            rows,
        };
        decode_chunk(&self.source, &self.columns, &cells).map(Some)
    }
}

/// One column of a chunk as CSV cell text.
#[derive(Debug, Default)]
struct CellColumn {
    text: Vec<u8>,
    /// Row `r`'s cell is `text[ends[r - 1]..ends[r]]`.
    ends: Vec<usize>,
}

impl CellColumn {
    fn new(window: &Window, kind: LeafKind, role: &Role) -> Self {
        let numeric = matches!(role, Role::Numeric | Role::Label(_));
        let splitter = match role {
            Role::Sequence { splitter } => splitter.as_bytes(),
            _ => b"",
        };
        let mut cells = CellColumn {
            text: Vec::new(),
            ends: Vec::with_capacity(window.ends.len()),
        };
        for r in 0..window.ends.len() {
            for (i, entry) in window.row(r).iter().enumerate() {
                if i > 0 {
                    cells.text.extend_from_slice(splitter);
                }
                if let Entry::Value(v) = *entry {
                    write_value(&mut cells.text, &window.values, v, kind, numeric);
                }
            }
            cells.ends.push(cells.text.len());
        }
        cells
    }

    fn cell(&self, r: usize) -> &[u8] {
        let start = if r == 0 { 0 } else { self.ends[r - 1] };
        &self.text[start..self.ends[r]]
    }
}

/// Value `i` as pandas' `to_csv` writes it (NaN as an empty cell).
fn write_value(out: &mut Vec<u8>, values: &Values, i: usize, kind: LeafKind, numeric: bool) {
    let unsigned = matches!(kind, LeafKind::Int { unsigned: true });
    // Writing to a Vec cannot fail.
    let _ = match values {
        Values::Bool(v) => match (v[i], numeric) {
            (true, true) => out.write_all(b"1"),
            (false, true) => out.write_all(b"0"),
            (true, false) => out.write_all(b"True"),
            (false, false) => out.write_all(b"False"),
        },
        Values::I32(v) if unsigned => write!(out, "{}", v[i] as u32),
        Values::I32(v) => write!(out, "{}", v[i]),
        Values::I64(v) if unsigned => write!(out, "{}", v[i] as u64),
        Values::I64(v) => write!(out, "{}", v[i]),
        Values::F32(v) if v[i].is_nan() => Ok(()),
        Values::F32(v) => out.write_all(python_float32(v[i]).as_bytes()),
        Values::F64(v) if v[i].is_nan() => Ok(()),
        Values::F64(v) => out.write_all(python_float(v[i]).as_bytes()),
        Values::Bytes(v) => out.write_all(v[i].data()),
    };
}

struct ParquetCells {
    columns: Vec<CellColumn>,
    first_row: usize,
    rows: usize,
}

impl Cells for ParquetCells {
    fn rows(&self) -> usize {
        self.rows
    }

    fn cell(&self, column: usize, row: usize) -> &[u8] {
        self.columns[column].cell(row)
    }

    fn place(&self, row: usize) -> Place {
        Place::Row((self.first_row + row) as u64)
    }
}
