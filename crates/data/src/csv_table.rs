//! One pass over a CSV file into interned columns (spec §C.3 steps 1–2: NA filling, casting,
//! preprocessing). Every distinct token of a column is stored once; rows hold 4-byte indices, so
//! a split can be fitted and encoded over any subset of rows without a second read.

use std::collections::HashMap;
use std::io::Read;

use crate::Task;
use crate::feature_map::{Dtype, Preprocess, RawColumn};
use crate::yaml::python_float;

/// A CSV problem, located by file, line and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}{}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default(), column.as_ref().map(|c| format!(": column `{c}`")).unwrap_or_default())]
pub struct CsvError {
    pub file: String,
    /// 1-based line in the file.
    pub line: Option<u64>,
    pub column: Option<String>,
    pub reason: String,
}

/// What a column is read as.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// One token per row (categorical and meta columns).
    Token,
    /// A finite number per row.
    Numeric,
    /// Tokens joined by `splitter`.
    Sequence { splitter: String },
    /// The label, checked as the task's.
    Label(Task),
}

/// One column to read: its header name, reading rules and role.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadColumn {
    pub name: String,
    pub raw: RawColumn,
    pub role: Role,
}

/// Interned tokens of one column; index `i` in `ids` refers to `tokens[i]`.
#[derive(Debug, Clone, Default)]
pub struct TokenColumn {
    pub tokens: Vec<String>,
    /// One entry per row (token columns) or per item (sequence columns).
    pub ids: Vec<u32>,
    /// Sequence columns only: row r's items are `ids[offsets[r]..offsets[r + 1]]`.
    pub offsets: Vec<usize>,
}

#[derive(Debug, Clone)]
pub enum ColumnData {
    Tokens(TokenColumn),
    Values(Vec<f64>),
}

/// A CSV read into columns, in the order of the `ReadColumn`s asked for.
#[derive(Debug, Clone)]
pub struct RawTable {
    pub source: String,
    pub names: Vec<String>,
    pub columns: Vec<ColumnData>,
    pub labels: Option<Vec<f32>>,
    rows: usize,
}

/// pandas' default NA strings (FuxiCTR reads CSVs with pandas, so these are missing values).
const NA_STRINGS: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

impl RawTable {
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn column(&self, name: &str) -> Option<&ColumnData> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(&self.columns[i])
    }

    /// Reads `columns` (and nothing else) from CSV text with a header line, all rows at once.
    /// `progress` is called now and then with the number of bytes read so far.
    pub fn read<R: Read>(
        reader: R,
        source: &str,
        columns: &[ReadColumn],
        progress: &mut dyn FnMut(u64),
    ) -> Result<Self, CsvError> {
        let mut chunks = CsvChunks::new(reader, source, columns)?;
        match chunks.next_chunk(usize::MAX, progress)? {
            Some(table) => Ok(table),
            None => Err(chunks.no_rows()),
        }
    }
}

/// A CSV read a chunk of rows at a time: memory stays bounded by one chunk, whatever the size
/// of the file. Each chunk is a [`RawTable`] of its own (tokens interned per chunk); line
/// numbers in errors count from the top of the file.
#[derive(Debug)]
pub struct CsvChunks<R> {
    csv: csv::Reader<R>,
    source: String,
    columns: Vec<ReadColumn>,
    positions: Vec<usize>,
    /// The current chunk's records (buffers reused from chunk to chunk).
    records: Vec<csv::ByteRecord>,
    rows: usize,
}

impl<R: Read> CsvChunks<R> {
    /// Reads the header and finds `columns` in it.
    pub fn new(reader: R, source: &str, columns: &[ReadColumn]) -> Result<Self, CsvError> {
        let err = |line: Option<u64>, column: Option<&str>, reason: String| CsvError {
            file: source.to_string(),
            line,
            column: column.map(str::to_string),
            reason,
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .buffer_capacity(1 << 16)
            .from_reader(reader);
        let header = csv
            .headers()
            .map_err(|e| csv_error(source, e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect::<Vec<_>>();
        if header.len() <= 1 && header.first().is_none_or(|h| h.is_empty()) {
            return Err(err(None, None, "the file is empty (no header line)".into()));
        }
        let mut positions = Vec::with_capacity(columns.len());
        for c in columns {
            match header.iter().position(|h| *h == c.name) {
                Some(p) => positions.push(p),
                None => {
                    let hint = separator_hint(&header).unwrap_or_default();
                    return Err(err(
                        Some(1),
                        Some(&c.name),
                        format!(
                            "no such column in the header (it has: {}){hint}",
                            preview(&header)
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            csv,
            source: source.to_string(),
            columns: columns.to_vec(),
            positions,
            records: Vec::new(),
            rows: 0,
        })
    }

    /// Data rows read so far.
    pub fn rows_read(&self) -> usize {
        self.rows
    }

    /// The error for a file with a header and no rows.
    pub fn no_rows(&self) -> CsvError {
        CsvError {
            file: self.source.clone(),
            line: None,
            column: None,
            reason: "has a header but no data rows".into(),
        }
    }

    /// Counts the remaining rows without decoding them (every record is still checked for its
    /// number of fields).
    pub fn count_rows(&mut self, progress: &mut dyn FnMut(u64)) -> Result<usize, CsvError> {
        let start = self.rows;
        let mut record = csv::ByteRecord::new();
        while self
            .csv
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(&self.source, e))?
        {
            self.rows += 1;
            if self.rows.is_multiple_of(1 << 18) {
                progress(self.csv.position().byte());
            }
        }
        progress(self.csv.position().byte());
        Ok(self.rows - start)
    }

    /// The next (at most) `max_rows` rows, or `None` at the end of the file. The chunk's records
    /// are read first, then its columns are decoded side by side (one thread per column where
    /// the `parallel` feature is on); the first bad cell, by line and then column, is reported.
    pub fn next_chunk(
        &mut self,
        max_rows: usize,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Option<RawTable>, CsvError> {
        let mut rows = 0usize;
        while rows < max_rows {
            if rows == self.records.len() {
                self.records.push(csv::ByteRecord::new());
            }
            match self.csv.read_byte_record(&mut self.records[rows]) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(csv_error(&self.source, e)),
            }
            rows += 1;
            self.rows += 1;
            if self.rows.is_multiple_of(65_536) {
                progress(self.csv.position().byte());
            }
        }
        if rows < max_rows || rows == 0 {
            progress(self.csv.position().byte());
        }
        if rows == 0 {
            return Ok(None);
        }
        let table = decode_chunk(
            &self.source,
            &self.columns,
            &CsvCells {
                records: &self.records[..rows],
                positions: &self.positions,
            },
        );
        // Keep the record buffers of one chunk for the next, not of an unusually large one.
        self.records.truncate(rows.min(1 << 17));
        table.map(Some)
    }
}

/// The cells of one chunk of rows, whatever file they came from: what [`decode_chunk`] reads.
pub(crate) trait Cells: Sync {
    fn rows(&self) -> usize;
    /// The text of row `row` of the `column`-th column asked for.
    fn cell(&self, column: usize, row: usize) -> &[u8];
    /// Where row `row` is, for an error message.
    fn place(&self, row: usize) -> Place;
}

/// Where a row is: a CSV line, or a row of a file without lines (parquet; counted from 0).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place {
    Line(Option<u64>),
    Row(u64),
}

impl Place {
    fn error(self, source: &str, column: &str, reason: String) -> CsvError {
        let (line, reason) = match self {
            Place::Line(line) => (line, reason),
            Place::Row(row) => (None, format!("row {row}: {reason}")),
        };
        CsvError {
            file: source.to_string(),
            line,
            column: Some(column.to_string()),
            reason,
        }
    }
}

struct CsvCells<'a> {
    records: &'a [csv::ByteRecord],
    positions: &'a [usize],
}

impl Cells for CsvCells<'_> {
    fn rows(&self) -> usize {
        self.records.len()
    }

    fn cell(&self, column: usize, row: usize) -> &[u8] {
        &self.records[row][self.positions[column]]
    }

    fn place(&self, row: usize) -> Place {
        Place::Line(self.records[row].position().map(|p| p.line()))
    }
}

/// Decodes `columns` of a chunk side by side (one thread per column where the `parallel`
/// feature is on) into a [`RawTable`]; the first bad cell, by row and then column, is reported.
pub(crate) fn decode_chunk(
    source: &str,
    columns: &[ReadColumn],
    cells: &impl Cells,
) -> Result<RawTable, CsvError> {
    let built = crate::par::map(columns.len(), |i| {
        Builder::read(&columns[i], i, cells, source)
    });
    let mut builders = Vec::with_capacity(built.len());
    let mut first_error: Option<(usize, CsvError)> = None;
    for b in built {
        match b {
            Ok(b) => builders.push(b),
            Err((row, e)) if first_error.as_ref().is_none_or(|(r, _)| row < *r) => {
                first_error = Some((row, e))
            }
            Err(_) => {}
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    let mut labels = None;
    let mut decoded = Vec::with_capacity(builders.len());
    for (c, b) in columns.iter().zip(builders) {
        if matches!(c.role, Role::Label(_)) {
            labels = Some(b.values.iter().map(|&y| y as f32).collect());
        }
        decoded.push(b.finish());
    }
    Ok(RawTable {
        source: source.to_string(),
        names: columns.iter().map(|c| c.name.clone()).collect(),
        columns: decoded,
        labels,
        rows: cells.rows(),
    })
}

/// The first dozen names of a header, and how many more there are.
pub(crate) fn preview(header: &[String]) -> String {
    let shown: Vec<_> = header.iter().take(12).map(String::as_str).collect();
    let more = header.len().saturating_sub(12);
    if more > 0 {
        format!("{}, … {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Copies a CSV record by record, unchanged, adding a column `name` whose value on data row i is
/// `values[i]` (what `qnn predict` and the page's predictions write). The row counts must agree, and
/// the header must not have a `name` column already (that error names the column).
pub fn append_column(
    input: impl Read,
    source: &str,
    name: &str,
    values: &[f32],
) -> Result<Vec<u8>, CsvError> {
    let mut out = Vec::new();
    let mut copy = AppendColumn::new(input, source, name, &mut out)?;
    copy.append(values)?;
    copy.finish()?;
    Ok(out)
}

/// [`append_column`] a chunk of values at a time, for files too large to hold: the values of the
/// next rows are given as they are computed, and each record is written as soon as its value is.
#[derive(Debug)]
pub struct AppendColumn<R, W: std::io::Write> {
    reader: csv::Reader<R>,
    writer: csv::Writer<W>,
    source: String,
    record: csv::ByteRecord,
}

impl<R: Read, W: std::io::Write> AppendColumn<R, W> {
    /// Reads the header of `input` and writes it, with `name` added, to `output`.
    pub fn new(input: R, source: &str, name: &str, output: W) -> Result<Self, CsvError> {
        let mut reader = csv::ReaderBuilder::new().from_reader(input);
        let writer = csv::Writer::from_writer(output);
        let mut header = reader
            .byte_headers()
            .map_err(|e| csv_error(source, e))?
            .clone();
        if header.iter().any(|h| h == name.as_bytes()) {
            return Err(CsvError {
                file: source.to_string(),
                line: Some(1),
                column: Some(name.to_string()),
                reason: "is there already".into(),
            });
        }
        header.push_field(name.as_bytes());
        let mut copy = Self {
            reader,
            writer,
            source: source.to_string(),
            record: csv::ByteRecord::new(),
        };
        copy.writer
            .write_byte_record(&header)
            .map_err(|e| copy.written(e))?;
        Ok(copy)
    }

    fn problem(&self, reason: String) -> CsvError {
        CsvError {
            file: self.source.clone(),
            line: None,
            column: None,
            reason,
        }
    }

    fn written(&self, e: csv::Error) -> CsvError {
        self.problem(format!("cannot be copied: {e}"))
    }

    fn mismatch(&self) -> CsvError {
        self.problem(
            "has a different number of rows than the values computed for it (did it change?)"
                .into(),
        )
    }

    /// Copies the next `values.len()` records, each with its value added.
    pub fn append(&mut self, values: &[f32]) -> Result<(), CsvError> {
        for v in values {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(&self.source, e))?;
            if !more {
                return Err(self.mismatch());
            }
            self.record.push_field(v.to_string().as_bytes());
            self.writer
                .write_byte_record(&self.record)
                .map_err(|e| self.written(e))?;
        }
        Ok(())
    }

    /// Checks that every record got a value and flushes the output.
    pub fn finish(mut self) -> Result<W, CsvError> {
        if self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| csv_error(&self.source, e))?
        {
            return Err(self.mismatch());
        }
        let source = self.source.clone();
        self.writer.into_inner().map_err(|e| CsvError {
            file: source,
            line: None,
            column: None,
            reason: format!("cannot be copied: {}", e.error()),
        })
    }
}

fn csv_error(source: &str, e: csv::Error) -> CsvError {
    let line = e.position().map(|p| p.line());
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".into(),
        csv::ErrorKind::Io(io) => format!("cannot be read: {io}"),
        _ => e.to_string(),
    };
    CsvError {
        file: source.to_string(),
        line,
        column: None,
        reason,
    }
}

struct Builder {
    lookup: HashMap<Box<str>, u32>,
    /// Raw cell bytes → token id, so each distinct cell is decoded, cast and formatted once.
    by_cell: HashMap<Box<[u8]>, u32>,
    tokens: TokenColumn,
    values: Vec<f64>,
    numeric: bool,
}

impl Builder {
    /// Decodes column `c`, the `index`-th of `cells`; an error comes with its row.
    fn read(
        c: &ReadColumn,
        index: usize,
        cells: &impl Cells,
        source: &str,
    ) -> Result<Self, (usize, CsvError)> {
        let mut builder = Builder::new(c);
        for row in 0..cells.rows() {
            let bytes = cells.cell(index, row);
            if c.role == Role::Token
                && let Some(&id) = builder.by_cell.get(bytes)
            {
                // A cell seen before: same text, same token (and it was valid then).
                builder.tokens.ids.push(id);
                continue;
            }
            let at = |reason: String| (row, cells.place(row).error(source, &c.name, reason));
            let cell = std::str::from_utf8(bytes).map_err(|_| at("is not valid UTF-8".into()))?;
            match &c.role {
                Role::Label(task) => builder
                    .values
                    .push(read_label(cell, *task).map_err(at)? as f64),
                Role::Numeric => builder.values.push(read_number(cell, &c.raw).map_err(at)?),
                Role::Token => {
                    let token = read_token(cell, &c.raw).map_err(at)?;
                    let id = builder.push_token(&token);
                    builder.by_cell.insert(bytes.into(), id);
                }
                Role::Sequence { splitter } => {
                    let text = read_token(cell, &c.raw).map_err(at)?;
                    for item in text.split(splitter.as_str()) {
                        builder.push_token(item);
                    }
                    builder.tokens.offsets.push(builder.tokens.ids.len());
                }
            }
        }
        Ok(builder)
    }

    fn new(c: &ReadColumn) -> Self {
        let mut tokens = TokenColumn::default();
        if matches!(c.role, Role::Sequence { .. }) {
            tokens.offsets.push(0);
        }
        Self {
            lookup: HashMap::new(),
            by_cell: HashMap::new(),
            tokens,
            values: Vec::new(),
            numeric: matches!(c.role, Role::Numeric | Role::Label(_)),
        }
    }

    fn push_token(&mut self, token: &str) -> u32 {
        let id = match self.lookup.get(token) {
            Some(&id) => id,
            None => {
                let id = self.tokens.tokens.len() as u32;
                self.tokens.tokens.push(token.to_string());
                self.lookup.insert(token.into(), id);
                id
            }
        };
        self.tokens.ids.push(id);
        id
    }

    fn finish(self) -> ColumnData {
        if self.numeric {
            ColumnData::Values(self.values)
        } else {
            ColumnData::Tokens(self.tokens)
        }
    }
}

/// When a header is one cell that another separator splits into columns (a CSV saved with `;`
/// or tabs), the sentence that says so; `None` otherwise.
pub fn separator_hint<S: AsRef<str>>(header: &[S]) -> Option<String> {
    let [only] = header else { return None };
    let only = only.as_ref();
    let (separator, name) = [(';', "`;`"), ('\t', "tabs"), ('|', "`|`")]
        .into_iter()
        .find(|(c, _)| only.contains(*c))?;
    let columns = only.split(separator).count();
    Some(format!(
        "; the header looks like {columns} columns separated by {name}: QNN Lab reads \
         comma-separated files, as FuxiCTR does — save the file with commas"
    ))
}

/// Whether pandas reads `cell` as a missing value.
pub fn is_na(cell: &str) -> bool {
    NA_STRINGS.contains(&cell)
}

/// The cell after `fill_na`, as text; `None` when it is missing and nothing fills it.
fn filled<'a>(cell: &'a str, raw: &'a RawColumn) -> Option<&'a str> {
    if !is_na(cell) {
        return Some(cell);
    }
    match (&raw.fill_na, raw.dtype) {
        (Some(fill), _) => Some(fill),
        (None, Dtype::Str) => Some(""),
        (None, _) => None,
    }
}

/// The token FuxiCTR would count for this cell: filled, cast to `dtype` and printed as Python
/// prints it (`3` for int, `3.0` for float), then preprocessed.
pub fn read_token(cell: &str, raw: &RawColumn) -> Result<String, String> {
    let Some(text) = filled(cell, raw) else {
        return Err("missing value and no `fill_na` for this non-string column".into());
    };
    canonical_token(text, raw)
}

/// `text` cast to the column's dtype and preprocessed, as a token.
pub fn canonical_token(text: &str, raw: &RawColumn) -> Result<String, String> {
    let token = match raw.dtype {
        Dtype::Str => text.to_string(),
        Dtype::Int => parse_int(text)?.to_string(),
        Dtype::Float => python_float(parse_float(text)?),
    };
    match raw.preprocess {
        None => Ok(token),
        Some(Preprocess::ConvertToBucket) => {
            let bucket = convert_to_bucket(parse_float(&token)?) as i64;
            Ok(match raw.dtype {
                Dtype::Float => python_float(bucket as f64),
                _ => bucket.to_string(),
            })
        }
    }
}

fn parse_int(text: &str) -> Result<i64, String> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| format!("'{text}' is not an integer (dtype: int)"))
}

fn parse_float(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| format!("'{text}' is not a number"))
}

/// A numeric cell: filled, parsed, finite.
pub fn read_number(cell: &str, raw: &RawColumn) -> Result<f64, String> {
    let text = filled(cell, raw)
        .ok_or_else(|| format!("missing value ('{cell}') in a numeric column without `fill_na`"))?;
    let v = parse_float(text)?;
    if !v.is_finite() {
        return Err(format!("'{text}' is not a finite number"));
    }
    let v = match raw.preprocess {
        Some(Preprocess::ConvertToBucket) => convert_to_bucket(v),
        None => v,
    };
    // The model computes in f32: a larger value would become infinite there (and its scaler's
    // statistics with it).
    if v.abs() > f64::from(f32::MAX) {
        return Err(format!(
            "'{text}' is outside the range of a 32-bit float (±3.4e38) the model computes in"
        ));
    }
    Ok(v)
}

/// Criteo's `convert_to_bucket`: v > 2 → ⌊(ln v)²⌋, else int(v).
fn convert_to_bucket(v: f64) -> f64 {
    if v > 2.0 {
        (v.ln() * v.ln()).floor()
    } else {
        v.trunc()
    }
}

fn read_label(cell: &str, task: Task) -> Result<f32, String> {
    if is_na(cell) {
        return Err("missing label".into());
    }
    let value = cell
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("label '{cell}' is not a number"))?;
    task.label(value).map_err(|e| format!("label '{cell}' {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_column_copies_every_record_and_adds_the_values() {
        let input = "a,b\r\n\"x,1\",2\r\n,4\r\n";
        let out = append_column(input.as_bytes(), "in.csv", "p", &[0.25, 0.5]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,b,p\n\"x,1\",2,0.25\n,4,0.5\n"
        );
    }

    #[test]
    fn append_column_refuses_a_clash_and_a_row_count_mismatch() {
        let e = append_column("a,p\n1,2\n".as_bytes(), "in.csv", "p", &[0.5]).unwrap_err();
        assert_eq!(e.to_string(), "in.csv:1: column `p`: is there already");
        for values in [&[0.5][..], &[0.5, 0.5, 0.5][..]] {
            let e = append_column("a\n1\n2\n".as_bytes(), "in.csv", "p", values).unwrap_err();
            assert!(e.to_string().contains("different number of rows"), "{e}");
        }
        let e = append_column("a,b\n1\n".as_bytes(), "in.csv", "p", &[0.5]).unwrap_err();
        assert_eq!(e.to_string(), "in.csv:2: has 1 fields, the header has 2");
    }

    fn col(name: &str, dtype: Dtype, role: Role) -> ReadColumn {
        ReadColumn {
            name: name.into(),
            raw: RawColumn {
                dtype,
                ..Default::default()
            },
            role,
        }
    }

    fn read(text: &str, cols: &[ReadColumn]) -> Result<RawTable, CsvError> {
        RawTable::read(text.as_bytes(), "t.csv", cols, &mut |_| {})
    }

    fn tokens(t: &RawTable, name: &str) -> Vec<String> {
        match t.column(name).unwrap() {
            ColumnData::Tokens(c) => c
                .ids
                .iter()
                .map(|&i| c.tokens[i as usize].clone())
                .collect(),
            ColumnData::Values(_) => panic!("not tokens"),
        }
    }

    #[test]
    fn reads_quotes_crlf_bom_and_missing_values() {
        let text = "\u{feff}y,name,n,\"s\"\r\n1,\"a,b\",3,x^y\r\n0,NA,,\r\n";
        let mut n = col("n", Dtype::Float, Role::Numeric);
        n.raw.fill_na = Some("0".into());
        let cols = [
            col("y", Dtype::Float, Role::Label(Task::BinaryClassification)),
            col("name", Dtype::Str, Role::Token),
            n,
            col(
                "s",
                Dtype::Str,
                Role::Sequence {
                    splitter: "^".into(),
                },
            ),
        ];
        let t = read(text, &cols).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.labels, Some(vec![1.0, 0.0]));
        assert_eq!(tokens(&t, "name"), ["a,b", ""]);
        let ColumnData::Values(v) = t.column("n").unwrap() else {
            panic!()
        };
        assert_eq!(v, &[3.0, 0.0]);
        let ColumnData::Tokens(s) = t.column("s").unwrap() else {
            panic!()
        };
        assert_eq!(s.offsets, [0, 2, 3]);
    }

    #[test]
    fn casts_tokens_like_pandas_and_python() {
        let raw = |dtype| RawColumn {
            dtype,
            ..Default::default()
        };
        assert_eq!(read_token("3", &raw(Dtype::Float)).unwrap(), "3.0");
        assert_eq!(read_token("3", &raw(Dtype::Int)).unwrap(), "3");
        assert!(
            read_token("3.5", &raw(Dtype::Int))
                .unwrap_err()
                .contains("not an integer")
        );
        assert!(
            read_token("", &raw(Dtype::Int))
                .unwrap_err()
                .contains("fill_na")
        );
        let bucket = RawColumn {
            dtype: Dtype::Int,
            fill_na: Some("0".into()),
            preprocess: Some(Preprocess::ConvertToBucket),
        };
        assert_eq!(read_token("2", &bucket).unwrap(), "2");
        assert_eq!(read_token("100", &bucket).unwrap(), "21"); // ln(100)² = 21.2
        assert_eq!(read_token("", &bucket).unwrap(), "0");
    }

    #[test]
    fn bad_rows_are_located() {
        let cols = [
            col("y", Dtype::Float, Role::Label(Task::BinaryClassification)),
            col("a", Dtype::Str, Role::Token),
        ];
        let e = read("y,a\n1,x\n0,y,z\n", &cols).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.reason.contains("3 fields"), "{e}");
        let e = read("y,a\n1,x\n2,y\n", &cols).unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (Some(3), Some("y")));
        assert!(
            e.to_string().starts_with("t.csv:3: column `y`: label '2'"),
            "{e}"
        );
        let e = read("y,b\n1,x\n", &cols).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("a"));
        assert!(e.reason.contains("no such column"), "{e}");
        assert!(!e.reason.contains("separated by"), "{e}");
        // Another separator: the header is one column, and the error says which separator.
        for (text, name) in [("y;a\n1;x\n", "`;`"), ("y\ta\n1\tx\n", "tabs")] {
            let e = read(text, &cols).unwrap_err();
            assert!(
                e.reason.contains(&format!(
                    "the header looks like 2 columns separated by {name}"
                )),
                "{e}"
            );
        }
        assert!(read("", &cols).unwrap_err().reason.contains("empty"));
        assert!(
            read("y,a\n", &cols)
                .unwrap_err()
                .reason
                .contains("no data rows")
        );
        let n = [
            col("y", Dtype::Float, Role::Label(Task::BinaryClassification)),
            col("a", Dtype::Float, Role::Numeric),
        ];
        let e = read("y,a\n1,2\n0,nan\n", &n).unwrap_err();
        assert!(e.reason.contains("fill_na"), "{e}");
        let e = read("y,a\n1,inf\n", &n).unwrap_err();
        assert!(e.reason.contains("finite"), "{e}");
        for big in ["1e39", "-3.5e38"] {
            let e = read(&format!("y,a\n1,2\n0,{big}\n"), &n).unwrap_err();
            assert_eq!((e.line, e.column.as_deref()), (Some(3), Some("a")), "{e}");
            assert!(e.reason.contains("32-bit float"), "{e}");
        }
        assert!(read("y,a\n1,3.4e38\n", &n).is_ok());
        // Bucketised first: what reaches the model is small.
        let mut bucket = col("a", Dtype::Float, Role::Numeric);
        bucket.raw.preprocess = Some(Preprocess::ConvertToBucket);
        let cols = [
            col("y", Dtype::Float, Role::Label(Task::BinaryClassification)),
            bucket,
        ];
        assert!(read("y,a\n1,1e39\n", &cols).is_ok());
    }
}
