//! Raw rows a chunk at a time, from a CSV or from a parquet file read as the CSV of the same
//! table: what the pipeline fits and encodes, and what `qnn evaluate`, `predict` and `inspect`
//! encode for a model's feature map.

use std::io::Read;

use crate::buffer::SharedBytes;
use crate::csv_table::{CsvChunks, CsvError, RawTable, ReadColumn};
use crate::parquet_table::ParquetChunks;

/// Whether `path` names a parquet file (by its extension), for commands that take either.
pub fn is_parquet_path(path: &str) -> bool {
    has_extension(path, "parquet")
}

/// Whether `path`'s extension is `ext`, in any case.
pub(crate) fn has_extension(path: &str, ext: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Raw rows from a CSV (read through `R`) or a parquet file (read in place).
#[derive(Debug)]
pub enum RawChunks<R> {
    Csv(CsvChunks<R>),
    Parquet(ParquetChunks),
}

impl<R: Read> RawChunks<R> {
    /// A CSV with a header naming `columns`.
    pub fn csv(reader: R, source: &str, columns: &[ReadColumn]) -> Result<Self, CsvError> {
        Ok(RawChunks::Csv(CsvChunks::new(reader, source, columns)?))
    }

    /// A parquet file with top-level columns named as `columns`.
    pub fn parquet(
        bytes: SharedBytes,
        source: &str,
        columns: &[ReadColumn],
    ) -> Result<Self, CsvError> {
        Ok(RawChunks::Parquet(ParquetChunks::new(
            bytes, source, columns,
        )?))
    }

    /// The next (at most) `max_rows` rows, or `None` at the end of the file; `progress` is
    /// called with the bytes read so far.
    pub fn next_chunk(
        &mut self,
        max_rows: usize,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Option<RawTable>, CsvError> {
        match self {
            RawChunks::Csv(c) => c.next_chunk(max_rows, progress),
            RawChunks::Parquet(p) => p.next_chunk(max_rows, progress),
        }
    }

    /// Counts the remaining rows.
    pub fn count_rows(&mut self, progress: &mut dyn FnMut(u64)) -> Result<usize, CsvError> {
        match self {
            RawChunks::Csv(c) => c.count_rows(progress),
            RawChunks::Parquet(p) => p.count_rows(progress),
        }
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> usize {
        match self {
            RawChunks::Csv(c) => c.rows_read(),
            RawChunks::Parquet(p) => p.rows_read(),
        }
    }

    /// The error for a file without data rows.
    pub fn no_rows(&self) -> CsvError {
        match self {
            RawChunks::Csv(c) => c.no_rows(),
            RawChunks::Parquet(p) => p.no_rows(),
        }
    }
}
