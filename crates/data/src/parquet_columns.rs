//! The columns of a parquet file, read a window of rows at a time, in place (the bytes are
//! memory-mapped natively, the upload itself in the browser): what raw parquet rows (read like a
//! CSV, [`crate::parquet_table`]) and FuxiCTR 2.3's encoded parquet files share.
//!
//! Only top-level columns of plain values are read — booleans, integers, floats, strings — and
//! lists of them (sequence features); other types (timestamps, decimals, nested groups) are
//! refused by name, since neither FuxiCTR nor a CSV would give them a meaning here.

use bytes::Bytes;
use parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use parquet::column::reader::ColumnReader;
use parquet::data_type::ByteArray;
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::buffer::{SharedBytes, SharedSlice};

thread_local! {
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic on this thread now would be caught and reported as an error: the parquet
/// reader can panic on damaged pages (an index past the end of a slice) rather than return an
/// error, and its reads are guarded. A binary's panic hook can stay quiet for those.
pub fn panic_becomes_error() -> bool {
    GUARDED.get()
}

/// Runs a parquet read, turning a panic inside the reader into an error (where panics unwind:
/// native builds; the browser's worker aborts instead).
fn guarded<T>(read: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let before = GUARDED.replace(true);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    GUARDED.set(before);
    outcome.unwrap_or_else(|payload| {
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(format!(
            "damaged parquet data (the parquet reader failed: {text})"
        ))
    })
}

/// A parquet file opened for reading by column.
pub(crate) struct ParquetFile {
    reader: SerializedFileReader<Bytes>,
    /// The first row of each row group, and the row count at the end.
    group_starts: Vec<usize>,
}

impl ParquetFile {
    pub(crate) fn open(bytes: SharedBytes) -> Result<Self, String> {
        guarded(|| Self::open_unguarded(bytes))
    }

    fn open_unguarded(bytes: SharedBytes) -> Result<Self, String> {
        let len = (*bytes).as_ref().len();
        if len == 0 {
            return Err("the file is empty".into());
        }
        // The bytes own the mapping, so parquet reads it in place.
        let reader = SerializedFileReader::new(Bytes::from_owner(SharedSlice::all(bytes)))
            .map_err(|e| format!("not a readable parquet file: {e}"))?;
        let mut group_starts = vec![0usize];
        for group in reader.metadata().row_groups() {
            let rows = usize::try_from(group.num_rows())
                .ok()
                .and_then(|n| n.checked_add(*group_starts.last().unwrap_or(&0)))
                // Every row takes at least a bit in some column; a footer that says otherwise
                // is refused before anything is allocated for its rows.
                .filter(|&n| n / 8 <= len)
                .ok_or_else(|| format!("a row group says {} rows", group.num_rows()))?;
            group_starts.push(rows);
        }
        Ok(Self {
            reader,
            group_starts,
        })
    }

    pub(crate) fn rows(&self) -> usize {
        *self.group_starts.last().unwrap_or(&0)
    }

    /// The names of the top-level columns, the first dozen of them (as a CSV's header is shown).
    pub(crate) fn column_names(&self) -> String {
        let root = self
            .reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .root_schema();
        let names: Vec<String> = root
            .get_fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        crate::csv_table::preview(&names)
    }

    /// The top-level column `name`, or `None` when the file has no such column.
    pub(crate) fn leaf(&self, name: &str) -> Result<Option<Leaf>, String> {
        let schema = self.reader.metadata().file_metadata().schema_descr();
        let mut leaves =
            (0..schema.num_columns()).filter(|&i| schema.get_column_root(i).name() == name);
        let Some(index) = leaves.next() else {
            return Ok(None);
        };
        if leaves.next().is_some() {
            return Err(
                "is a group of several columns (a struct or map), not a column of values".into(),
            );
        }
        let descr = schema.column(index);
        let list_def = match descr.max_rep_level() {
            0 => None,
            1 => Some(repeated_def(
                schema.get_column_root(index),
                descr.path().parts(),
            )),
            _ => return Err("is a list of lists; only flat lists are read".into()),
        };
        let logical = descr.logical_type_ref();
        let integer = matches!(logical, None | Some(LogicalType::Integer(_)));
        let unsigned = matches!(
            logical,
            Some(LogicalType::Integer(parquet::basic::IntType {
                is_signed: false,
                ..
            }))
        ) || matches!(
            descr.converted_type(),
            ConvertedType::UINT_8
                | ConvertedType::UINT_16
                | ConvertedType::UINT_32
                | ConvertedType::UINT_64
        );
        let kind = match descr.physical_type() {
            PhysicalType::BOOLEAN => Some(LeafKind::Bool),
            PhysicalType::INT32 | PhysicalType::INT64 if integer => {
                Some(LeafKind::Int { unsigned })
            }
            PhysicalType::FLOAT => Some(LeafKind::Float32),
            PhysicalType::DOUBLE => Some(LeafKind::Float64),
            PhysicalType::BYTE_ARRAY
                if matches!(
                    logical,
                    None | Some(LogicalType::String | LogicalType::Enum | LogicalType::Json)
                ) =>
            {
                Some(LeafKind::Bytes)
            }
            _ => None,
        };
        let Some(kind) = kind else {
            let logical = logical.map(|l| format!(" ({l:?})")).unwrap_or_default();
            return Err(format!(
                "has parquet type {}{logical}, which is not read (give booleans, integers, floats \
                 or strings, or lists of them)",
                descr.physical_type()
            ));
        };
        Ok(Some(Leaf {
            index,
            kind,
            list_def,
            max_def: descr.max_def_level(),
        }))
    }

    /// Values stored in column `leaf` over all row groups, nulls and list items included.
    pub(crate) fn stored_values(&self, leaf: &Leaf) -> u64 {
        self.reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.column(leaf.index).num_values().max(0) as u64)
            .sum()
    }

    fn column_reader(&self, group: usize, leaf: &Leaf) -> Result<ColumnReader, String> {
        self.reader
            .get_row_group(group)
            .and_then(|g| g.get_column_reader(leaf.index))
            .map_err(|e| format!("row group {group}: {e}"))
    }
}

/// What the values of a column are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LeafKind {
    Bool,
    Int { unsigned: bool },
    Float32,
    Float64,
    Bytes,
}

/// A top-level column of values (or of lists of values).
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    index: usize,
    pub(crate) kind: LeafKind,
    /// For a column of lists, the definition level from which a row has an item (below it the
    /// list is empty or null).
    list_def: Option<i16>,
    max_def: i16,
}

impl Leaf {
    /// Each row holds a list of values.
    pub(crate) fn is_list(&self) -> bool {
        self.list_def.is_some()
    }
}

/// The definition level of the repeated node on `path` (from the top-level field `top`): each
/// optional or repeated node down to it adds one.
fn repeated_def(top: &parquet::schema::types::Type, path: &[String]) -> i16 {
    use parquet::basic::Repetition;
    let mut node = top;
    let mut def = 0;
    for (depth, name) in path.iter().enumerate() {
        if depth > 0 {
            match node.get_fields().iter().find(|f| f.name() == name) {
                Some(child) => node = child,
                None => break,
            }
        }
        let info = node.get_basic_info();
        if info.has_repetition() {
            match info.repetition() {
                Repetition::OPTIONAL => def += 1,
                Repetition::REPEATED => return def + 1,
                Repetition::REQUIRED => {}
            }
        }
    }
    def
}

/// The non-null values of a window of one column.
#[derive(Debug)]
pub(crate) enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Bool(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::Bytes(v) => v.len(),
        }
    }

    fn new(kind: LeafKind, physical: &ColumnReader) -> Self {
        match (kind, physical) {
            (LeafKind::Bool, _) => Values::Bool(Vec::new()),
            (_, ColumnReader::Int32ColumnReader(_)) => Values::I32(Vec::new()),
            (LeafKind::Int { .. }, _) => Values::I64(Vec::new()),
            (LeafKind::Float32, _) => Values::F32(Vec::new()),
            (LeafKind::Float64, _) => Values::F64(Vec::new()),
            (LeafKind::Bytes, _) => Values::Bytes(Vec::new()),
        }
    }
}

/// One row's entry in a window: a value (index into [`Window::values`]), or a null.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Entry {
    Value(usize),
    Null,
}

/// A window of rows of one column: the non-null values, and for each row its entries (one for a
/// plain column; one per item of a list column, none for an empty or null list).
#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) values: Values,
    pub(crate) entries: Vec<Entry>,
    /// Row `r`'s entries are `entries[ends[r - 1]..ends[r]]` (from 0 for the first row).
    pub(crate) ends: Vec<usize>,
}

impl Window {
    pub(crate) fn row(&self, r: usize) -> &[Entry] {
        let start = if r == 0 { 0 } else { self.ends[r - 1] };
        &self.entries[start..self.ends[r]]
    }
}

/// Reads one column a window of rows at a time, across row groups. Reading forward from where
/// the last window ended costs nothing extra; another start re-opens its row group.
pub(crate) struct ColumnCursor {
    leaf: Leaf,
    reader: Option<ColumnReader>,
    group: usize,
    /// The row the reader is at.
    at: usize,
}

impl ColumnCursor {
    pub(crate) fn new(leaf: Leaf) -> Self {
        Self {
            leaf,
            reader: None,
            group: 0,
            at: 0,
        }
    }

    pub(crate) fn leaf(&self) -> &Leaf {
        &self.leaf
    }

    /// Rows `start..start + rows` (fewer at the end of the file).
    pub(crate) fn read(
        &mut self,
        file: &ParquetFile,
        start: usize,
        rows: usize,
    ) -> Result<Window, String> {
        let read = guarded(|| self.read_unguarded(file, start, rows));
        if read.is_err() {
            // A reader that failed part-way is not read from again.
            self.reader = None;
        }
        read
    }

    fn read_unguarded(
        &mut self,
        file: &ParquetFile,
        start: usize,
        rows: usize,
    ) -> Result<Window, String> {
        let rows = rows.min(file.rows().saturating_sub(start));
        if self.reader.is_none() || start < self.at {
            self.reader = None;
        }
        let mut window = None;
        let mut def = Vec::new();
        let mut rep = Vec::new();
        let mut read = 0;
        while read < rows {
            let row = start + read;
            let group_end = file.group_starts[self.group + 1..]
                .first()
                .copied()
                .unwrap_or(0);
            if self.reader.is_none() || row >= group_end {
                // The row group holding `row`, entered at its first row.
                self.group = file.group_starts.partition_point(|&s| s <= row) - 1;
                self.reader = Some(file.column_reader(self.group, &self.leaf)?);
                self.at = file.group_starts[self.group];
                continue;
            }
            let reader = self.reader.as_mut().expect("opened above");
            if self.at < row {
                let skipped = skip(reader, row - self.at)
                    .map_err(|e| format!("row group {}: {e}", self.group))?;
                if skipped != row - self.at {
                    return Err(format!("row group {} ends before its last row", self.group));
                }
                self.at = row;
            }
            let want = rows.min(group_end - start) - read;
            let window = window.get_or_insert_with(|| Window {
                values: Values::new(self.leaf.kind, reader),
                entries: Vec::with_capacity(rows),
                ends: Vec::with_capacity(rows),
            });
            def.clear();
            rep.clear();
            let first_value = window.values.len();
            let got = read_records(reader, want, &mut def, &mut rep, &mut window.values)
                .map_err(|e| format!("row group {}: {e}", self.group))?;
            if got != want {
                return Err(format!("row group {} ends before its last row", self.group));
            }
            self.at += got;
            read += got;
            self.levels_into(window, first_value, &def, &rep, got)
                .map_err(|e| format!("row group {}: {e}", self.group))?;
        }
        Ok(window.unwrap_or_else(|| Window {
            values: Values::Bytes(Vec::new()),
            entries: Vec::new(),
            ends: Vec::new(),
        }))
    }

    /// Turns the levels of `records` rows, whose values start at `value`, into their entries.
    fn levels_into(
        &self,
        window: &mut Window,
        mut value: usize,
        def: &[i16],
        rep: &[i16],
        records: usize,
    ) -> Result<(), String> {
        let max_def = self.leaf.max_def;
        let Some(list_def) = self.leaf.list_def else {
            // One level per row, where the column may be null.
            if max_def > 0 && def.len() != records {
                return Err(format!(
                    "{} levels where {records} rows were read",
                    def.len()
                ));
            }
            let present = (0..records).map(|r| max_def == 0 || def[r] == max_def);
            for present in present {
                let entry = if present {
                    value += 1;
                    Entry::Value(value - 1)
                } else {
                    Entry::Null
                };
                window.entries.push(entry);
                window.ends.push(window.entries.len());
            }
            return Ok(());
        };
        // A list: a repetition level of 0 starts a row; a row has an item (a value, or a null
        // item) at the list's own level and above, and is an empty or null list below it.
        if rep.len() != def.len() {
            return Err("repetition and definition levels disagree".into());
        }
        let mut rows = 0;
        for (i, (&d, &r)) in def.iter().zip(rep).enumerate() {
            if r == 0 {
                if i > 0 {
                    window.ends.push(window.entries.len());
                }
                rows += 1;
            }
            if d == max_def {
                window.entries.push(Entry::Value(value));
                value += 1;
            } else if d >= list_def {
                window.entries.push(Entry::Null);
            }
        }
        if !def.is_empty() {
            window.ends.push(window.entries.len());
        }
        if rows != records {
            return Err(format!("{rows} lists where {records} rows were read"));
        }
        Ok(())
    }
}

fn read_records(
    reader: &mut ColumnReader,
    rows: usize,
    def: &mut Vec<i16>,
    rep: &mut Vec<i16>,
    values: &mut Values,
) -> parquet::errors::Result<usize> {
    let (def, rep) = (Some(def), Some(rep));
    let (records, _, _) = match (reader, values) {
        (ColumnReader::BoolColumnReader(r), Values::Bool(v)) => {
            r.read_records(rows, def, rep, v)?
        }
        (ColumnReader::Int32ColumnReader(r), Values::I32(v)) => {
            r.read_records(rows, def, rep, v)?
        }
        (ColumnReader::Int64ColumnReader(r), Values::I64(v)) => {
            r.read_records(rows, def, rep, v)?
        }
        (ColumnReader::FloatColumnReader(r), Values::F32(v)) => {
            r.read_records(rows, def, rep, v)?
        }
        (ColumnReader::DoubleColumnReader(r), Values::F64(v)) => {
            r.read_records(rows, def, rep, v)?
        }
        (ColumnReader::ByteArrayColumnReader(r), Values::Bytes(v)) => {
            r.read_records(rows, def, rep, v)?
        }
        _ => {
            return Err(parquet::errors::ParquetError::General(
                "a column's pages disagree with its type".into(),
            ));
        }
    };
    Ok(records)
}

fn skip(reader: &mut ColumnReader, rows: usize) -> parquet::errors::Result<usize> {
    match reader {
        ColumnReader::BoolColumnReader(r) => r.skip_records(rows),
        ColumnReader::Int32ColumnReader(r) => r.skip_records(rows),
        ColumnReader::Int64ColumnReader(r) => r.skip_records(rows),
        ColumnReader::Int96ColumnReader(r) => r.skip_records(rows),
        ColumnReader::FloatColumnReader(r) => r.skip_records(rows),
        ColumnReader::DoubleColumnReader(r) => r.skip_records(rows),
        ColumnReader::ByteArrayColumnReader(r) => r.skip_records(rows),
        ColumnReader::FixedLenByteArrayColumnReader(r) => r.skip_records(rows),
    }
}
