//! FuxiCTR 2.0.1's h5 files (`save_h5`: one dataset per feature at the root, 1-D for categorical
//! and numeric features, `[rows, max_len]` for sequences, plus the label), read with a pure-Rust
//! HDF5 reader so that the browser can open them too. Windows of rows are read on demand; the
//! file is never decoded whole.

use std::collections::HashMap;

use hdf5_pure::{Dataset, FormatError, Source};

use super::ColumnSource;
use crate::buffer::SharedBytes;

/// The file's bytes (memory-mapped natively, uploaded in the browser) as an HDF5 byte source.
struct Bytes(SharedBytes);

impl Source for Bytes {
    fn len(&self) -> u64 {
        (*self.0).as_ref().len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), FormatError> {
        let all = (*self.0).as_ref();
        let start = usize::try_from(offset).map_err(|_| FormatError::OffsetOverflow {
            offset,
            length: buf.len() as u64,
        })?;
        let slice = start
            .checked_add(buf.len())
            .and_then(|end| all.get(start..end))
            .ok_or(FormatError::UnexpectedEof {
                expected: buf.len(),
                available: all.len().saturating_sub(start),
            })?;
        buf.copy_from_slice(slice);
        Ok(())
    }
}

pub(super) struct H5File {
    file: hdf5_pure::File,
    datasets: HashMap<String, Option<(Dataset, Vec<u64>)>>,
}

impl H5File {
    pub(super) fn open(bytes: SharedBytes) -> Result<Self, String> {
        let file = hdf5_pure::File::from_source(Bytes(bytes))
            .map_err(|e| format!("not a readable HDF5 file: {e}"))?;
        Ok(Self {
            file,
            datasets: HashMap::new(),
        })
    }

    fn dataset(&mut self, name: &str) -> Result<Option<&(Dataset, Vec<u64>)>, String> {
        if !self.datasets.contains_key(name) {
            let found = match self.file.dataset(name) {
                Ok(ds) => {
                    let shape = ds.shape().map_err(|e| e.to_string())?;
                    Some((ds, shape))
                }
                Err(_) => None,
            };
            self.datasets.insert(name.to_string(), found);
        }
        Ok(self.datasets[name].as_ref())
    }
}

impl ColumnSource for H5File {
    fn shape(&mut self, name: &str) -> Result<Option<Vec<u64>>, String> {
        Ok(self.dataset(name)?.map(|(_, shape)| shape.clone()))
    }

    fn ints(
        &mut self,
        name: &str,
        start: usize,
        rows: usize,
        _width: usize,
    ) -> Result<Vec<i64>, String> {
        let (ds, _) = self.dataset(name)?.ok_or("is missing")?;
        ds.read_i64_rows(start as u64, rows as u64)
            .map_err(|e| format!("cannot read rows {start}..{}: {e}", start + rows))
    }

    fn floats(&mut self, name: &str, start: usize, rows: usize) -> Result<Vec<f64>, String> {
        let (ds, _) = self.dataset(name)?.ok_or("is missing")?;
        ds.read_f64_rows(start as u64, rows as u64)
            .map_err(|e| format!("cannot read rows {start}..{}: {e}", start + rows))
    }
}
