//! Turning a dataset config into encoded splits: build from CSV (fit on train, encode every split)
//! or reuse the cache under `data_root/dataset_id/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use qnn_data::ReadColumn;
use qnn_data::cache::{self, feature_map_json, feature_vocab_json, read_feature_map_json};
use qnn_data::processor::{self, Encoder};
use qnn_data::raw_rows::{RawChunks, is_parquet_path};
use qnn_data::{
    DatasetSpec, EncodedDataset, FeatureMap, FileSource, Part, Pass, SharedBytes, SplitStore,
    SplitType, Splits, prepare_dataset,
};
use qnn_mmap::{Access, MappedFile, MappedFileMut};
use tracing::{info, warn};

use crate::files::{lock, temp_path, try_lock, write_atomic};
use crate::logging;

fn byte_bar(message: &str, size: u64) -> ProgressBar {
    let bar = logging::progress().add(ProgressBar::new(size));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}

/// What the cache was built from: the program version (the encoding may change between
/// versions), the dataset settings, the seed when it picks the split, and the size and
/// modification time of every input file. A different fingerprint means the cache is stale.
fn fingerprint(spec: &DatasetSpec, seed: u64) -> String {
    let fuxictr_map = spec.data_format.is_encoded().then(|| {
        ["feature_map.json", "feature_vocab.json"].map(|name| qnn_data::fuxictr_file(spec, name))
    });
    // A folder of part files stands for its files.
    let files = [&spec.train_data, &spec.valid_data, &spec.test_data]
        .into_iter()
        .flatten()
        .chain(fuxictr_map.iter().flatten())
        .flat_map(|p| match folder_files(p) {
            Ok(Some(files)) => files,
            _ => vec![p.clone()],
        })
        .map(|p| {
            let meta = fs::metadata(&p).ok();
            let size = meta.as_ref().map_or(0, |m| m.len());
            let modified = meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{p}:{size}:{modified}")
        })
        .collect::<Vec<_>>();
    let random_split = spec.split_type == SplitType::Random
        && (spec.valid_size.is_some() || spec.test_size.is_some());
    let seed = if random_split {
        format!("split seed {seed}")
    } else {
        String::new()
    };
    let settings = format!("{spec:?}").replace(&format!("rebuild: {}", spec.rebuild), "");
    format!(
        "qnn {}|{settings}|{seed}|{}",
        env!("CARGO_PKG_VERSION"),
        files.join("|")
    )
}

/// `data_root/dataset_id/`, as FuxiCTR keeps its built data; for FuxiCTR's encoded formats,
/// whose own `feature_map.json` is there, a `qnn_lab/` folder inside it.
fn cache_dir(spec: &DatasetSpec) -> PathBuf {
    let dir = Path::new(&spec.data_root).join(&spec.dataset_id);
    if spec.data_format.is_encoded() {
        dir.join("qnn_lab")
    } else {
        dir
    }
}

const SPLITS: [&str; 3] = ["train", "valid", "test"];

/// A cached split, read in place. Every id is checked on the way in (a front-to-back read of
/// the file, so read ahead), then the kernel is told how the split will be read.
fn map_split(
    feature_map: &FeatureMap,
    file: &fs::File,
    split: &str,
) -> Result<EncodedDataset, String> {
    let map = Arc::new(MappedFile::open(file, Access::Sequential).map_err(|e| e.to_string())?);
    let data = cache::split_from_shared(feature_map, map.clone()).map_err(|e| e.to_string())?;
    map.advise(access(split)).map_err(|e| e.to_string())?;
    Ok(data)
}

/// Training gathers shuffled rows; evaluation reads front to back.
fn access(split: &str) -> Access {
    if split == "train" {
        Access::Random
    } else {
        Access::Sequential
    }
}

/// The cache's split files, written in place through a mapping under a temporary name and
/// renamed when complete; an unfinished one is deleted.
struct CacheFiles {
    dir: PathBuf,
}

struct PendingSplit {
    path: PathBuf,
    map: Option<MappedFileMut>,
}

impl AsMut<[u8]> for PendingSplit {
    fn as_mut(&mut self) -> &mut [u8] {
        self.map.as_mut().expect("mapped until finished").as_mut()
    }
}

impl Drop for PendingSplit {
    fn drop(&mut self) {
        if self.map.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl SplitStore for CacheFiles {
    type File = PendingSplit;

    fn create(&mut self, part: Part, len: usize) -> Result<PendingSplit, String> {
        let done = self.dir.join(format!("{}.safetensors", part.name()));
        let path = temp_path(&done);
        let file = fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", done.display()))?;
        match MappedFileMut::create(&file, len as u64) {
            Ok(map) => Ok(PendingSplit {
                path,
                map: Some(map),
            }),
            Err(e) => {
                let _ = fs::remove_file(&path);
                Err(format!("{} ({len} bytes): {e}", done.display()))
            }
        }
    }

    fn finish(&mut self, part: Part, mut file: PendingSplit) -> Result<SharedBytes, String> {
        let done = self.dir.join(format!("{}.safetensors", part.name()));
        let map = file.map.take().expect("mapped until finished");
        let flushed = map.flush();
        drop(map);
        let renamed = flushed.and_then(|()| fs::rename(&file.path, &done));
        if let Err(e) = renamed {
            let _ = fs::remove_file(&file.path);
            return Err(format!("{}: {e}", file.path.display()));
        }
        let read = fs::File::open(&done).and_then(|f| MappedFile::open(&f, access(part.name())));
        Ok(Arc::new(
            read.map_err(|e| format!("{}: {e}", done.display()))?,
        ))
    }
}

fn load_cache(spec: &DatasetSpec, fingerprint: &str) -> Result<Option<Splits>> {
    let dir = cache_dir(spec);
    let map_path = dir.join("feature_map.json");
    let Ok(text) = fs::read_to_string(&map_path) else {
        return Ok(None);
    };
    let (feature_map, cached_fp) = match read_feature_map_json(&text) {
        Ok(v) => v,
        Err(e) => {
            warn!("{}: {e}; rebuilding the dataset", map_path.display());
            return Ok(None);
        }
    };
    if cached_fp != fingerprint {
        info!(
            "{} was built from other settings or files; rebuilding",
            map_path.display()
        );
        return Ok(None);
    }
    let mut splits = Vec::new();
    for name in SPLITS {
        let path = dir.join(format!("{name}.safetensors"));
        let Ok(file) = fs::File::open(&path) else {
            splits.push(None);
            continue;
        };
        let read = map_split(&feature_map, &file, name);
        match read {
            Ok(d) => splits.push(Some(d)),
            Err(e) => {
                warn!("{}: {e}; rebuilding the dataset", path.display());
                return Ok(None);
            }
        }
    }
    let mut splits = splits.into_iter();
    let Some(train) = splits.next().flatten() else {
        return Ok(None);
    };
    info!("Load feature_map from json: {}", map_path.display());
    Ok(Some(Splits {
        feature_map,
        train,
        valid: splits.next().flatten(),
        test: splits.next().flatten(),
    }))
}

/// The encoded splits of `spec`, from the cache when it is current.
pub fn prepare(spec: &DatasetSpec, seed: u64) -> Result<Splits> {
    let fp = fingerprint(spec, seed);
    // One process at a time checks, builds or reads the cache: runs started together share one
    // build, and none reads a cache another is writing.
    let lock_path = cache_dir(spec).join(".lock");
    let _lock = match try_lock(&lock_path)? {
        Some(held) => held,
        None => {
            info!(
                "Waiting for another qnn process to finish with {}",
                cache_dir(spec).display()
            );
            lock(&lock_path)?
        }
    };
    if !spec.rebuild
        && let Some(splits) = load_cache(spec, &fp)?
    {
        return Ok(splits);
    }
    build(spec, seed, &fp)
}

/// Opens config paths from disk, one byte progress bar per pass over a file, and logs each
/// pass's throughput.
#[derive(Default)]
struct DiskFiles {
    bar: Option<(String, ProgressBar)>,
    /// When the pass being timed opened its first file (a folder's part files are one pass),
    /// until `finished` reports it.
    started: Option<web_time::Instant>,
}

/// The bytes of `file` (`size` long), mapped into memory.
fn map_file(file: &fs::File, size: u64) -> Result<SharedBytes, String> {
    if size == 0 {
        // Nothing to map (and mapping nothing is an error on some systems).
        return Ok(Arc::new(Vec::new()));
    }
    let map = MappedFile::open(file, Access::Sequential).map_err(|e| e.to_string())?;
    Ok(Arc::new(map))
}

/// The files in folder `path`, sorted by name, or `None` when it is not a folder.
fn folder_files(path: &str) -> Result<Option<Vec<String>>, String> {
    if !fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Ok(None);
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(path).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            files.push(
                Path::new(path)
                    .join(entry.file_name())
                    .display()
                    .to_string(),
            );
        }
    }
    files.sort();
    Ok(Some(files))
}

impl FileSource for DiskFiles {
    type Reader = std::io::BufReader<fs::File>;

    fn list(&mut self, path: &str) -> Result<Option<Vec<String>>, String> {
        folder_files(path)
    }

    fn bytes(&mut self, path: &str) -> Result<SharedBytes, String> {
        let file = fs::File::open(path).map_err(|e| e.to_string())?;
        self.started.get_or_insert_with(web_time::Instant::now);
        let size = file.metadata().map_err(|e| e.to_string())?.len();
        if let Some((_, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.bar = Some((path.to_string(), byte_bar(&format!("reading {path}"), size)));
        map_file(&file, size)
    }

    fn open(&mut self, path: &str, pass: Pass) -> Result<Self::Reader, String> {
        let file = fs::File::open(path).map_err(|e| e.to_string())?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if let Some((_, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
        let verb = match pass {
            Pass::Count => "counting rows of",
            Pass::Fit => "fitting on",
            Pass::Encode => "encoding",
        };
        self.bar = Some((path.to_string(), byte_bar(&format!("{verb} {path}"), size)));
        self.started.get_or_insert_with(web_time::Instant::now);
        Ok(std::io::BufReader::with_capacity(1 << 20, file))
    }

    fn progress(&mut self, path: &str, bytes: u64) {
        if let Some((p, bar)) = &self.bar
            && p == path
        {
            bar.set_position(bytes);
        }
    }

    fn finished(&mut self, path: &str, pass: Pass, rows: usize) {
        let seconds = self
            .started
            .take()
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        let what = match pass {
            Pass::Count => "Counted",
            Pass::Fit => "Fitting pass read",
            Pass::Encode => "Encoded",
        };
        info!(
            "{what} {rows} rows of {path} in {seconds:.1} s ({:.0} rows/s)",
            rows as f64 / seconds.max(1e-9)
        );
    }
}

impl Drop for DiskFiles {
    fn drop(&mut self) {
        if let Some((_, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Builds the cache: each split straight into its file, then `feature_vocab.json`, then
/// `feature_map.json` (written last: it is what marks the cache complete).
fn build(spec: &DatasetSpec, seed: u64, fp: &str) -> Result<Splits> {
    let dir = cache_dir(spec);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let _ = fs::remove_file(dir.join("feature_map.json"));
    for name in SPLITS {
        let _ = fs::remove_file(dir.join(format!("{name}.safetensors")));
    }
    // Splits a killed build left half-written (the cache lock, held here, says no one else
    // is writing them).
    for entry in fs::read_dir(&dir)?.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().contains(".safetensors.tmp-") {
            let _ = fs::remove_file(entry.path());
        }
    }
    let started = web_time::Instant::now();
    let splits = prepare_dataset(
        spec,
        seed,
        &mut DiskFiles::default(),
        &mut CacheFiles { dir: dir.clone() },
    )?;
    if spec.data_format.is_encoded() {
        info!(
            "Read {} train rows encoded by FuxiCTR ({}) with {}",
            splits.train.len(),
            spec.data_format.name(),
            qnn_data::fuxictr_file(spec, "feature_map.json")
        );
    } else {
        info!(
            "Fit feature processor on {} train rows of {}",
            splits.train.len(),
            spec.train_data.as_deref().unwrap_or_default()
        );
    }
    info!(
        "Preprocessed {} rows in {:.1} s",
        splits.rows(),
        started.elapsed().as_secs_f64()
    );
    write_atomic(
        &dir.join("feature_vocab.json"),
        feature_vocab_json(&splits.feature_map).as_bytes(),
    )?;
    write_atomic(
        &dir.join("feature_map.json"),
        feature_map_json(&splits.feature_map, fp).as_bytes(),
    )?;
    info!("Cached the encoded splits in {}", dir.display());
    Ok(splits)
}

/// A CSV (or a parquet file, by its extension) encoded for an existing feature map a chunk of
/// rows at a time, with a byte progress bar (evaluate, predict, inspect): memory holds one chunk,
/// whatever the file's size.
pub struct EncodedChunks<'a> {
    chunks: RawChunks<std::io::BufReader<fs::File>>,
    encoder: Encoder<'a>,
    chunk_rows: usize,
    all: Vec<usize>,
    bar: ProgressBar,
    done: bool,
}

impl<'a> EncodedChunks<'a> {
    /// Opens `path` (its header must have the map's columns, and the label when `with_label`).
    pub fn open(
        map: &'a FeatureMap,
        path: &Path,
        with_label: bool,
        chunk_rows: usize,
    ) -> Result<Self> {
        let source = path.display().to_string();
        let open = |columns: &[ReadColumn]| -> Result<(RawChunks<_>, u64)> {
            let file =
                fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let chunks = if is_parquet_path(&source) {
                let bytes = map_file(&file, size)
                    .map_err(|e| anyhow::anyhow!("cannot read {source}: {e}"))?;
                RawChunks::parquet(bytes, &source, columns)
            } else {
                RawChunks::csv(
                    std::io::BufReader::with_capacity(1 << 20, file),
                    &source,
                    columns,
                )
            };
            Ok((chunks?, size))
        };
        let mut columns = processor::model_columns(map, with_label);
        // A grouped model's group column is read when the file has it; without it the metrics
        // are the ungrouped ones (gAUC needs the groups, AUC and logloss do not).
        let group_only = processor::group_only_column(map).filter(|_| with_label);
        let (chunks, size) = match (open(&columns), group_only) {
            (Err(e), Some(g))
                if e.downcast_ref::<qnn_data::CsvError>()
                    .is_some_and(|e| e.column.as_deref() == Some(g)) =>
            {
                logging::init();
                warn!(
                    "{source} has no `{g}` column (the model's group_id): reporting the \
                     metrics without gAUC and avgAUC"
                );
                columns.retain(|c| c.name != g);
                open(&columns)?
            }
            (result, _) => result?,
        };
        let bar = byte_bar(&format!("reading {}", path.display()), size);
        Ok(Self {
            chunks,
            encoder: Encoder::new(map),
            chunk_rows: chunk_rows.max(1),
            all: (0..chunk_rows.max(1)).collect(),
            bar,
            done: false,
        })
    }
}

impl Iterator for EncodedChunks<'_> {
    type Item = Result<EncodedDataset>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let bar = &self.bar;
        let chunk = match self
            .chunks
            .next_chunk(self.chunk_rows, &mut |b| bar.set_position(b))
        {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                self.done = true;
                self.bar.finish_and_clear();
                return (self.chunks.rows_read() == 0).then(|| Err(self.chunks.no_rows().into()));
            }
            Err(e) => {
                self.done = true;
                return Some(Err(e.into()));
            }
        };
        Some(
            self.encoder
                .encode(&chunk, &self.all[..chunk.len()])
                .map_err(Into::into),
        )
    }
}

impl Drop for EncodedChunks<'_> {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
