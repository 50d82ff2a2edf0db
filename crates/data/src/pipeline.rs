//! From a dataset config to encoded splits: read the train CSV, carve valid/test out of it or
//! read their own files, fit the feature processor on the train rows, encode every split.
//!
//! The one path the CLI (files on disk, a cache written in place) and the browser (uploaded
//! bytes, splits in memory) share, so that both see exactly the same rows, vocabularies and ids.
//! It streams: files are read a chunk of rows at a time, once to count rows where a split is
//! carved out, once to fit, once to encode, and each encoded row is written straight to its
//! place in its split's [`SplitStore`] file. Memory holds the distinct tokens of the train
//! split, one chunk, and — where a split is carved — where each row goes; not the rows.

use std::io::Read;

use crate::buffer::{AlignedBytes, SharedBytes};
use crate::cache::{self, CacheError, SplitWriter, split_layout};
use crate::csv_table::{CsvError, RawTable, ReadColumn};
use crate::dataset::EncodedDataset;
use crate::dataset_config::{DataFormat, DatasetSpec, SplitType};
use crate::feature_map::FeatureMap;
use crate::processor::{Encoder, Fitter, split_rows, training_columns};
use crate::raw_rows::{RawChunks, has_extension};
use crate::tables::{EncodedTable, TableError, fuxictr_feature_map};

/// Rows per chunk of the streaming passes. The same in the browser and natively, so that both
/// fit scalers with the same summation order.
pub const CHUNK_ROWS: usize = 65_536;

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

/// The parts a dataset is split into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Train,
    Valid,
    Test,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Train, Part::Valid, Part::Test];

    /// `train`, `valid`, `test`: the cache's file names.
    pub fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Valid => "valid",
            Part::Test => "test",
        }
    }
}

/// What a pass over a file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Count the rows (to carve valid/test, or to size a split's file).
    Count,
    /// Fit vocabularies and scalers on the train rows.
    Fit,
    /// Encode every row into its split.
    Encode,
}

/// Opens the files a config names. The browser maps paths to uploaded files; the CLI opens
/// them from disk. A CSV is opened once per pass; other formats are read in place.
pub trait FileSource {
    type Reader: Read;
    /// A reader over the file's bytes, or a message saying why there is none.
    fn open(&mut self, path: &str, pass: Pass) -> Result<Self::Reader, String>;
    /// All of the file's bytes at once, for formats read out of order (parquet, h5, npz,
    /// TFRecord):
    /// memory-mapped natively, the upload itself in the browser.
    fn bytes(&mut self, path: &str) -> Result<SharedBytes, String>;
    /// The files in folder `path`, sorted by name, or `None` when `path` is not a folder:
    /// FuxiCTR takes a folder of part files (`data_block_size`) wherever it takes a file.
    fn list(&mut self, _path: &str) -> Result<Option<Vec<String>>, String> {
        Ok(None)
    }
    /// Called now and then while `path` is read, with the bytes read so far.
    fn progress(&mut self, _path: &str, _bytes: u64) {}
    /// Called when a pass over `path` has read its `rows` rows.
    fn finished(&mut self, _path: &str, _pass: Pass, _rows: usize) {}
}

/// Where encoded splits are written while they are built: memory (the browser, tests) or files
/// mapped into memory (the CLI's cache).
pub trait SplitStore {
    type File: AsMut<[u8]>;
    /// Room for the file of `part`: exactly `len` bytes, 4-byte aligned.
    fn create(&mut self, part: Part, len: usize) -> Result<Self::File, String>;
    /// The filled file of `part`, to be read in place from now on.
    fn finish(&mut self, part: Part, file: Self::File) -> Result<SharedBytes, String>;
}

/// Splits kept in memory, one buffer each.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryStore;

impl SplitStore for MemoryStore {
    type File = AlignedBytes;

    fn create(&mut self, _part: Part, len: usize) -> Result<AlignedBytes, String> {
        Ok(AlignedBytes::zeroed(len))
    }

    fn finish(&mut self, _part: Part, file: AlignedBytes) -> Result<SharedBytes, String> {
        Ok(std::sync::Arc::new(file))
    }
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
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{0}")]
    FeatureMap(String),
    #[error("cannot store the {part} split: {reason}")]
    Store { part: &'static str, reason: String },
}

/// Builds the encoded splits of `spec` in memory; `seed` drives a random `split_type`.
pub fn build_splits(
    spec: &DatasetSpec,
    seed: u64,
    source: &mut impl FileSource,
) -> Result<Splits, PipelineError> {
    prepare_splits(spec, seed, source, &mut MemoryStore)
}

/// Where FuxiCTR keeps the feature map of encoded files: `data_root/dataset_id/NAME`.
pub fn fuxictr_file(spec: &DatasetSpec, name: &str) -> String {
    let root = spec.data_root.trim_end_matches(['/', '\\']);
    format!("{root}/{}/{name}", spec.dataset_id)
}

/// Builds the encoded splits of `spec` into `store`, whatever its `data_format`: raw rows (csv,
/// parquet) are fitted and encoded ([`prepare_splits`]); FuxiCTR's encoded files (h5, npz,
/// tfrecord, parquet with `rebuild_dataset: False`) are read with its feature map
/// ([`prepare_encoded_splits`]). The CLI and the browser both come
/// through here.
pub fn prepare_dataset<S: FileSource, T: SplitStore>(
    spec: &DatasetSpec,
    seed: u64,
    source: &mut S,
    store: &mut T,
) -> Result<Splits, PipelineError> {
    if spec.data_format.is_encoded() {
        prepare_encoded_splits(spec, source, store)
    } else {
        prepare_splits(spec, seed, source, store)
    }
}

/// Reads FuxiCTR's `feature_map.json` and `feature_vocab.json` for the encoded files of `spec`.
pub fn read_fuxictr_feature_map(
    spec: &DatasetSpec,
    source: &mut impl FileSource,
) -> Result<FeatureMap, PipelineError> {
    let mut text = |name: &str| -> Result<(String, String), PipelineError> {
        let path = fuxictr_file(spec, name);
        let bytes = source.bytes(&path).map_err(|reason| PipelineError::Open {
            path: path.clone(),
            reason: format!(
                "{reason} (data_format: {} reads FuxiCTR's feature map from data_root/dataset_id/)",
                spec.data_format.name()
            ),
        })?;
        let text = std::str::from_utf8((*bytes).as_ref())
            .map_err(|e| PipelineError::FeatureMap(format!("{path}: not UTF-8 text: {e}")))?
            .to_string();
        Ok((path, text))
    };
    let (map_path, map_text) = text("feature_map.json")?;
    let (vocab_path, vocab_text) = text("feature_vocab.json")?;
    fuxictr_feature_map(spec, &map_path, &map_text, &vocab_path, &vocab_text)
        .map_err(PipelineError::FeatureMap)
}

/// Copies FuxiCTR's encoded train/valid/test files into `store`, a chunk of rows at a time, each
/// chunk checked against the feature map (ids inside their vocabularies, finite values, 0/1
/// labels). FuxiCTR does not split encoded files, so neither does this: `valid_size`/`test_size`
/// apply to raw rows only.
pub fn prepare_encoded_splits<S: FileSource, T: SplitStore>(
    spec: &DatasetSpec,
    source: &mut S,
    store: &mut T,
) -> Result<Splits, PipelineError> {
    let Some(train_path) = spec.train_data.as_deref() else {
        return Err(PipelineError::NoTrainData {
            dataset: spec.dataset_id.clone(),
        });
    };
    let map = read_fuxictr_feature_map(spec, source)?;
    let mut encoded = [None, None, None];
    for (part, path) in [
        (Part::Train, Some(train_path)),
        (Part::Valid, spec.valid_data.as_deref()),
        (Part::Test, spec.test_data.as_deref()),
    ] {
        let Some(path) = path else { continue };
        let store_error = |reason: String| PipelineError::Store {
            part: part.name(),
            reason,
        };
        // A folder of part files is one split, its files' rows one after the other.
        let mut tables = Vec::new();
        for file in input_files(source, spec.data_format, path)? {
            let bytes = source.bytes(&file).map_err(|reason| PipelineError::Open {
                path: file.clone(),
                reason,
            })?;
            let file_len = (*bytes).as_ref().len() as u64;
            tables.push((
                EncodedTable::open(spec.data_format, &file, bytes, &map)?,
                file_len,
            ));
        }
        let rows: usize = tables.iter().map(|(t, _)| t.rows()).sum();
        if rows == 0 {
            return Err(TableError {
                file: path.to_string(),
                column: None,
                reason: "has no rows".into(),
            }
            .into());
        }
        let layout = split_layout(&map, rows);
        let mut file = store.create(part, layout.len).map_err(store_error)?;
        {
            let mut writer = SplitWriter::new(&map, &layout, file.as_mut())
                .map_err(|CacheError(e)| store_error(e))?;
            let mut pairs = Vec::with_capacity(CHUNK_ROWS);
            let mut first = 0;
            for (table, file_len) in &mut tables {
                let table_rows = table.rows();
                for start in (0..table_rows).step_by(CHUNK_ROWS) {
                    let chunk = table.read(&map, start, CHUNK_ROWS)?;
                    pairs.clear();
                    pairs.extend((0..chunk.len()).map(|i| (i, first + start + i)));
                    writer.put(&chunk, &pairs);
                    let done = (start + chunk.len()) as u64;
                    source.progress(table.file(), *file_len * done / table_rows as u64);
                }
                first += table_rows;
            }
        }
        source.finished(path, Pass::Encode, rows);
        let bytes = store.finish(part, file).map_err(store_error)?;
        let data = cache::split_from_shared(&map, bytes).map_err(|CacheError(e)| store_error(e))?;
        encoded[part as usize] = Some(data);
    }
    let [train, valid, test] = encoded;
    Ok(Splits {
        train: train.expect("the train part is always read"),
        valid,
        test,
        feature_map: map,
    })
}

/// Where each row of the train file goes when valid/test are carved out of it (or its rows are
/// shuffled): FuxiCTR's `split_train_test`.
struct RowPlan {
    part: Vec<Part>,
    position: Vec<usize>,
    sizes: [usize; 3],
}

impl RowPlan {
    fn new(total: usize, spec: &DatasetSpec, seed: u64) -> Self {
        let (train, valid, test) = split_rows(total, spec, seed);
        let mut plan = RowPlan {
            part: vec![Part::Train; total],
            position: vec![0; total],
            sizes: [0; 3],
        };
        for (part, rows) in [
            (Part::Train, Some(train)),
            (Part::Valid, valid),
            (Part::Test, test),
        ] {
            let rows = rows.unwrap_or_default();
            plan.sizes[part as usize] = rows.len();
            for (position, row) in rows.into_iter().enumerate() {
                plan.part[row] = part;
                plan.position[row] = position;
            }
        }
        plan
    }
}

/// Where a part's rows come from.
enum PartSource<'a> {
    /// Rows of the train file (all of them, or those the plan sends here).
    TrainFile,
    /// A file of its own.
    File(&'a str),
}

fn chunks<S: FileSource>(
    source: &mut S,
    format: DataFormat,
    path: &str,
    pass: Pass,
    columns: &[ReadColumn],
) -> Result<RawChunks<S::Reader>, PipelineError> {
    let open_error = |reason| PipelineError::Open {
        path: path.to_string(),
        reason,
    };
    Ok(match format {
        DataFormat::Parquet => {
            let bytes = source.bytes(path).map_err(open_error)?;
            RawChunks::parquet(bytes, path, columns)?
        }
        _ => {
            let reader = source.open(path, pass).map_err(open_error)?;
            RawChunks::csv(reader, path, columns)?
        }
    })
}

/// The files `path` names: itself, or the part files of the folder it names (those with the
/// format's extension, in name order, as FuxiCTR globs them).
fn input_files<S: FileSource>(
    source: &mut S,
    format: DataFormat,
    path: &str,
) -> Result<Vec<String>, PipelineError> {
    let listed = source.list(path).map_err(|reason| PipelineError::Open {
        path: path.to_string(),
        reason,
    })?;
    let Some(files) = listed else {
        return Ok(vec![path.to_string()]);
    };
    let ext = format.extension();
    let parts: Vec<String> = files
        .into_iter()
        .filter(|f| has_extension(f, ext))
        .collect();
    if parts.is_empty() {
        return Err(PipelineError::Open {
            path: path.to_string(),
            reason: format!(
                "is a folder without .{ext} files (data_format: {})",
                format.name()
            ),
        });
    }
    Ok(parts)
}

/// The raw rows of a file, or of a folder's part files one after the other.
struct PartChunks<R> {
    /// The path as configured.
    path: String,
    files: Vec<String>,
    /// The next file to open.
    next: usize,
    current: Option<(String, RawChunks<R>)>,
    /// Rows of the files read to their end.
    before: usize,
    /// Why the last file read had no rows.
    empty: Option<CsvError>,
    format: DataFormat,
    pass: Pass,
    columns: Vec<ReadColumn>,
}

impl<R: Read> PartChunks<R> {
    fn open<S: FileSource<Reader = R>>(
        source: &mut S,
        format: DataFormat,
        path: &str,
        pass: Pass,
        columns: &[ReadColumn],
    ) -> Result<Self, PipelineError> {
        let files = input_files(source, format, path)?;
        let mut parts = Self {
            path: path.to_string(),
            files,
            next: 0,
            current: None,
            before: 0,
            empty: None,
            format,
            pass,
            columns: columns.to_vec(),
        };
        // The first file is opened at once, so that a missing column is reported before any
        // work is done.
        parts.advance(source)?;
        Ok(parts)
    }

    /// Closes the current file and opens the next; false when there is none.
    fn advance<S: FileSource<Reader = R>>(
        &mut self,
        source: &mut S,
    ) -> Result<bool, PipelineError> {
        if let Some((_, rows)) = self.current.take() {
            self.before += rows.rows_read();
            if rows.rows_read() == 0 {
                self.empty = Some(rows.no_rows());
            }
        }
        let Some(file) = self.files.get(self.next).cloned() else {
            return Ok(false);
        };
        self.next += 1;
        let rows = chunks(source, self.format, &file, self.pass, &self.columns)?;
        self.current = Some((file, rows));
        Ok(true)
    }

    /// The next (at most) `max_rows` rows, from one file; `None` after the last file.
    fn next_chunk<S: FileSource<Reader = R>>(
        &mut self,
        source: &mut S,
        max_rows: usize,
    ) -> Result<Option<RawTable>, PipelineError> {
        loop {
            if let Some((file, rows)) = &mut self.current
                && let Some(chunk) = rows.next_chunk(max_rows, &mut |b| source.progress(file, b))?
            {
                return Ok(Some(chunk));
            }
            if !self.advance(source)? {
                return Ok(None);
            }
        }
    }

    /// Counts the rows of every file.
    fn count_rows<S: FileSource<Reader = R>>(
        &mut self,
        source: &mut S,
    ) -> Result<usize, PipelineError> {
        loop {
            if let Some((file, rows)) = &mut self.current {
                rows.count_rows(&mut |b| source.progress(file, b))?;
            }
            if !self.advance(source)? {
                return Ok(self.rows_read());
            }
        }
    }

    fn rows_read(&self) -> usize {
        self.before
            + self
                .current
                .as_ref()
                .map_or(0, |(_, rows)| rows.rows_read())
    }

    /// The error for a file, or folder of files, without rows.
    fn no_rows(&self) -> CsvError {
        match (&self.empty, self.files.len()) {
            (Some(e), 1) => e.clone(),
            (_, n) => CsvError {
                file: self.path.clone(),
                line: None,
                column: None,
                reason: format!("has no data rows in any of its {n} files"),
            },
        }
    }
}

fn count_rows<S: FileSource>(
    source: &mut S,
    format: DataFormat,
    path: &str,
    columns: &[ReadColumn],
) -> Result<usize, PipelineError> {
    let mut rows = PartChunks::open(source, format, path, Pass::Count, columns)?;
    let n = rows.count_rows(source)?;
    if n == 0 {
        return Err(rows.no_rows().into());
    }
    source.finished(path, Pass::Count, n);
    Ok(n)
}

/// A file must have as many rows in the encoding pass as when it was counted: one that grew or
/// shrank in between would leave rows unwritten or write past its split.
fn check_unchanged(path: &str, counted: usize, read: usize, at_end: bool) -> Result<(), CsvError> {
    if read > counted || (at_end && read != counted) {
        return Err(CsvError {
            file: path.to_string(),
            line: None,
            column: None,
            reason: format!(
                "changed while it was read: {counted} rows in the first pass, {read} now"
            ),
        });
    }
    Ok(())
}

/// Builds the encoded splits of `spec` into `store`; `seed` drives a random `split_type`.
pub fn prepare_splits<S: FileSource, T: SplitStore>(
    spec: &DatasetSpec,
    seed: u64,
    source: &mut S,
    store: &mut T,
) -> Result<Splits, PipelineError> {
    let columns = training_columns(spec);
    let format = spec.data_format;
    let Some(train_path) = spec.train_data.as_deref() else {
        return Err(PipelineError::NoTrainData {
            dataset: spec.dataset_id.clone(),
        });
    };
    let plan = (spec.split_type == SplitType::Random
        || spec.valid_size.is_some()
        || spec.test_size.is_some())
    .then(|| count_rows(source, format, train_path, &columns))
    .transpose()?
    .map(|total| RowPlan::new(total, spec, seed));

    // Pass: fit on the train rows.
    let mut fitter = Fitter::new(spec);
    let mut rows = PartChunks::open(source, format, train_path, Pass::Fit, &columns)?;
    let mut local = Vec::with_capacity(CHUNK_ROWS);
    while let Some(chunk) = rows.next_chunk(source, CHUNK_ROWS)? {
        let first = rows.rows_read() - chunk.len();
        if let Some(p) = &plan {
            check_unchanged(train_path, p.part.len(), rows.rows_read(), false)?;
        }
        local.clear();
        local.extend((0..chunk.len()).filter(|&i| {
            plan.as_ref()
                .is_none_or(|p| p.part[first + i] == Part::Train)
        }));
        fitter.add(&chunk, &local)?;
    }
    let train_file_rows = rows.rows_read();
    if train_file_rows == 0 {
        return Err(rows.no_rows().into());
    }
    if let Some(p) = &plan {
        check_unchanged(train_path, p.part.len(), train_file_rows, true)?;
    }
    source.finished(train_path, Pass::Fit, train_file_rows);
    let map = fitter.finish(train_path)?;

    // Where each part comes from, and its size.
    let mut parts: Vec<(Part, PartSource, usize)> = Vec::new();
    for (part, file) in [
        (Part::Train, None),
        (Part::Valid, spec.valid_data.as_deref()),
        (Part::Test, spec.test_data.as_deref()),
    ] {
        let carved = plan.as_ref().map_or(0, |p| p.sizes[part as usize]);
        if part == Part::Train {
            parts.push((
                part,
                PartSource::TrainFile,
                plan.as_ref().map_or(train_file_rows, |_| carved),
            ));
        } else if carved > 0 {
            parts.push((part, PartSource::TrainFile, carved));
        } else if let Some(path) = file.filter(|p| *p != train_path) {
            let n = count_rows(source, format, path, &columns)?;
            parts.push((part, PartSource::File(path), n));
        }
    }

    // Pass: encode every row straight into its part's file.
    let store_error = |part: Part| {
        move |reason: String| PipelineError::Store {
            part: part.name(),
            reason,
        }
    };
    let layouts: Vec<_> = parts
        .iter()
        .map(|(_, _, n)| split_layout(&map, *n))
        .collect();
    let mut files = Vec::with_capacity(parts.len());
    for ((part, _, _), layout) in parts.iter().zip(&layouts) {
        files.push(
            store
                .create(*part, layout.len)
                .map_err(store_error(*part))?,
        );
    }
    let encoder = Encoder::new(&map);
    {
        let mut writers = Vec::with_capacity(parts.len());
        for (((part, _, _), layout), file) in parts.iter().zip(&layouts).zip(&mut files) {
            writers.push(
                SplitWriter::new(&map, layout, file.as_mut())
                    .map_err(|CacheError(e)| store_error(*part)(e))?,
            );
        }
        let slot = |part: Part| parts.iter().position(|(p, _, _)| *p == part);
        let mut pairs: Vec<Vec<(usize, usize)>> = vec![Vec::new(); parts.len()];
        let all: Vec<usize> = (0..CHUNK_ROWS).collect();
        let mut rows = PartChunks::open(source, format, train_path, Pass::Encode, &columns)?;
        while let Some(chunk) = rows.next_chunk(source, CHUNK_ROWS)? {
            let first = rows.rows_read() - chunk.len();
            check_unchanged(train_path, train_file_rows, rows.rows_read(), false)?;
            let encoded = encoder.encode(&chunk, &all[..chunk.len()])?;
            pairs.iter_mut().for_each(Vec::clear);
            for i in 0..chunk.len() {
                let (part, position) = match &plan {
                    Some(p) => (p.part[first + i], p.position[first + i]),
                    None => (Part::Train, first + i),
                };
                if let Some(s) = slot(part) {
                    pairs[s].push((i, position));
                }
            }
            for (writer, pairs) in writers.iter_mut().zip(&pairs) {
                writer.put(&encoded, pairs);
            }
        }
        check_unchanged(train_path, train_file_rows, rows.rows_read(), true)?;
        source.finished(train_path, Pass::Encode, rows.rows_read());
        for ((_, from, size), writer) in parts.iter().zip(&mut writers) {
            let PartSource::File(path) = from else {
                continue;
            };
            let mut rows = PartChunks::open(source, format, path, Pass::Encode, &columns)?;
            let mut pairs = Vec::with_capacity(CHUNK_ROWS);
            while let Some(chunk) = rows.next_chunk(source, CHUNK_ROWS)? {
                let first = rows.rows_read() - chunk.len();
                check_unchanged(path, *size, rows.rows_read(), false)?;
                let encoded = encoder.encode(&chunk, &all[..chunk.len()])?;
                pairs.clear();
                pairs.extend((0..chunk.len()).map(|i| (i, first + i)));
                writer.put(&encoded, &pairs);
            }
            check_unchanged(path, *size, rows.rows_read(), true)?;
            source.finished(path, Pass::Encode, rows.rows_read());
        }
    }

    let mut encoded = [None, None, None];
    for ((part, _, _), file) in parts.iter().zip(files) {
        let bytes = store.finish(*part, file).map_err(store_error(*part))?;
        let data =
            cache::split_from_shared(&map, bytes).map_err(|CacheError(e)| store_error(*part)(e))?;
        encoded[*part as usize] = Some(data);
    }
    let [train, valid, test] = encoded;
    Ok(Splits {
        train: train.expect("the train part is always built"),
        valid,
        test,
        feature_map: map,
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

impl<'a> FileSource for &'a MemoryFiles {
    type Reader = &'a [u8];

    /// The files named `path/NAME` (no deeper), when no file is named `path` itself.
    fn list(&mut self, path: &str) -> Result<Option<Vec<String>>, String> {
        if self.get(path).is_some() {
            return Ok(None);
        }
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let mut files: Vec<String> = self
            .files
            .iter()
            .map(|(name, _)| name)
            .filter(|name| {
                name.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
            })
            .cloned()
            .collect();
        files.sort();
        Ok((!files.is_empty()).then_some(files))
    }

    fn bytes(&mut self, path: &str) -> Result<SharedBytes, String> {
        let bytes = self.open(path, Pass::Encode)?;
        Ok(std::sync::Arc::new(bytes.to_vec()))
    }

    fn open(&mut self, path: &str, _pass: Pass) -> Result<&'a [u8], String> {
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

    /// `group_id` names a meta column: each row of every split carries its group (the same for
    /// the same user, in the written split and in one read back from its bytes), and the column
    /// is not a field.
    #[test]
    fn rows_carry_the_group_of_their_group_id_column() {
        let exp = |group: &str| {
            Experiment::load(
                &[ConfigFile {
                    name: "model_config.yaml".into(),
                    text: format!("E:\n  dataset_id: D\n  group_id: {group}\n"),
                }],
                &[ConfigFile {
                    name: "dataset_config.yaml".into(),
                    text: "D:\n  train_data: a.csv\n  valid_data: b.csv\n  feature_cols:\n  \
                           - {name: c, active: True, dtype: str, type: categorical}\n  \
                           - {name: u, active: True, dtype: str, type: meta}\n  \
                           label_col: {name: y, dtype: float}\n"
                        .into(),
                }],
                "E",
            )
            .unwrap()
        };
        let rows = |n: usize| {
            let mut s = String::from("c,u,y\n");
            for i in 0..n {
                s.push_str(&format!("t{},user{},{}\n", i % 3, i % 4, i % 2));
            }
            s.into_bytes()
        };
        let files = MemoryFiles {
            files: vec![("a.csv".into(), rows(40)), ("b.csv".into(), rows(12))],
        };
        let spec = DatasetSpec::from_experiment(&exp("u")).unwrap().0;
        let s = build_splits(&spec, 1, &mut &files).unwrap();
        assert_eq!(s.feature_map.group_id.as_deref(), Some("u"));
        assert_eq!(
            s.feature_map.num_fields(),
            1,
            "a meta column is not a field"
        );
        let valid = s.valid.unwrap();
        for data in [&s.train, &valid] {
            let g = data.groups().expect("groups");
            for i in 0..data.len() {
                for j in 0..data.len() {
                    assert_eq!(g[i] == g[j], i % 4 == j % 4, "rows {i} and {j}");
                }
            }
        }
        let bytes = crate::cache::split_to_bytes(&s.feature_map, &valid).unwrap();
        let back = crate::cache::split_from_bytes(&s.feature_map, &bytes).unwrap();
        assert_eq!(back.groups(), valid.groups());
        assert_eq!(
            valid.slice(4, 8).groups().unwrap(),
            &valid.groups().unwrap()[4..8]
        );

        let err = DatasetSpec::from_experiment(&exp("user")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("group_id"), "{err}");
        assert!(err.reason.contains("not an active meta"), "{err}");
    }

    fn rich_spec(extra: &str) -> DatasetSpec {
        let exp = Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: "E:\n  dataset_id: D\n".into(),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: format!(
                    "D:\n  feature_cols:\n\
                     \x20 - {{name: c, active: True, dtype: str, type: categorical, min_categr_count: 2}}\n\
                     \x20 - {{name: k, active: True, dtype: float, type: categorical}}\n\
                     \x20 - {{name: s, active: True, dtype: str, type: sequence, splitter: ^}}\n\
                     \x20 - {{name: n, active: True, dtype: float, type: numeric, normalizer: MinMaxScaler}}\n\
                     \x20 label_col: {{name: y, dtype: float}}\n{extra}"
                ),
            }],
            "E",
        )
        .unwrap();
        DatasetSpec::from_experiment(&exp).unwrap().0
    }

    /// Long-tailed tokens, so that some reach `min_categr_count` only over several chunks.
    fn rich_csv(rows: usize, salt: usize) -> Vec<u8> {
        let mut s = String::from("y,c,k,s,n\n");
        for i in 0..rows {
            let r = (i * 2_654_435_761 + salt) % 1_000_003;
            s.push_str(&format!(
                "{},t{},{},a{}^b{},{}\n",
                r % 2,
                r % (1 + i % 5_000),
                r % 7,
                r % 11,
                (r / 11) % (1 + i % 9),
                (r % 1000) as f64 / 8.0
            ));
        }
        s.into_bytes()
    }

    #[test]
    fn streaming_in_chunks_encodes_as_one_pass_over_the_whole_file() {
        let rows = 2 * CHUNK_ROWS + 1_234;
        let files = MemoryFiles {
            files: vec![("all.csv".into(), rich_csv(rows, 0))],
        };
        let spec = rich_spec(
            "  train_data: all.csv\n  valid_size: 0.1\n  test_size: 0.05\n  split_type: random\n",
        );
        let got = build_splits(&spec, 11, &mut &files).unwrap();
        // The whole file in one table, fitted and encoded in one go.
        let table = crate::csv_table::RawTable::read(
            files.get("all.csv").unwrap(),
            "all.csv",
            &training_columns(&spec),
            &mut |_| {},
        )
        .unwrap();
        let (train, valid, test) = split_rows(table.len(), &spec, 11);
        let map = crate::processor::fit(&spec, &table, &train).unwrap();
        assert_eq!(got.feature_map, map);
        let encode = |rows: &[usize]| crate::processor::encode(&map, &table, rows).unwrap();
        assert_eq!(got.train, encode(&train));
        assert_eq!(got.valid.unwrap(), encode(&valid.unwrap()));
        assert_eq!(got.test.unwrap(), encode(&test.unwrap()));
    }

    #[test]
    fn separate_files_stream_into_their_splits() {
        let files = MemoryFiles {
            files: vec![
                ("train.csv".into(), rich_csv(CHUNK_ROWS + 10, 1)),
                ("valid.csv".into(), rich_csv(CHUNK_ROWS + 3, 2)),
            ],
        };
        let spec = rich_spec("  train_data: train.csv\n  valid_data: valid.csv\n");
        let got = build_splits(&spec, 1, &mut &files).unwrap();
        let read = |name: &str| {
            crate::csv_table::RawTable::read(
                files.get(name).unwrap(),
                name,
                &training_columns(&spec),
                &mut |_| {},
            )
            .unwrap()
        };
        let (train, valid) = (read("train.csv"), read("valid.csv"));
        let map =
            crate::processor::fit(&spec, &train, &(0..train.len()).collect::<Vec<_>>()).unwrap();
        let all = |t: &crate::csv_table::RawTable| (0..t.len()).collect::<Vec<_>>();
        assert_eq!(
            got.train,
            crate::processor::encode(&map, &train, &all(&train)).unwrap()
        );
        assert_eq!(
            got.valid.unwrap(),
            crate::processor::encode(&map, &valid, &all(&valid)).unwrap()
        );
    }

    /// Serves another version of the file from the second opening on.
    struct Changing {
        first: Vec<u8>,
        later: Vec<u8>,
        opened: usize,
    }

    impl FileSource for Changing {
        type Reader = std::io::Cursor<Vec<u8>>;
        fn open(&mut self, _path: &str, _pass: Pass) -> Result<Self::Reader, String> {
            self.opened += 1;
            let bytes = if self.opened == 1 {
                &self.first
            } else {
                &self.later
            };
            Ok(std::io::Cursor::new(bytes.clone()))
        }
        fn bytes(&mut self, path: &str) -> Result<SharedBytes, String> {
            Err(format!("{path}: a CSV is read as a stream"))
        }
    }

    #[test]
    fn a_file_that_changes_between_passes_is_an_error_not_a_panic() {
        let spec = rich_spec("  train_data: all.csv\n  valid_size: 0.2\n");
        for (first, later) in [(100, 150), (150, 100)] {
            let mut source = Changing {
                first: rich_csv(first, 0),
                later: rich_csv(later, 0),
                opened: 0,
            };
            let e = build_splits(&spec, 1, &mut source).unwrap_err().to_string();
            assert!(
                e.contains("all.csv") && e.contains("changed while it was read"),
                "{e}"
            );
        }
    }
}
