//! TFRecord files of `tf.train.Example`s, as FuxiCTR's TensorFlow side reads them
//! (`TFRecordDataLoader`): one record per row; categorical and meta features an `int64_list` of
//! one id, numeric features and the label a `float_list` of one value, sequences an `int64_list`
//! of `max_len` ids. Every record's length and payload checksums (masked CRC-32C) are verified.
//!
//! Records are read front to back: a window of rows is decoded once into columns and served from
//! there to every column that asks for it.

use std::collections::HashMap;

use super::ColumnSource;
use crate::buffer::SharedBytes;
use crate::feature_map::FeatureMap;

/// `tf.train.Example` (tensorflow/core/example/example.proto and feature.proto).
mod proto {
    use std::collections::HashMap;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Example {
        #[prost(message, optional, tag = "1")]
        pub features: Option<Features>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Features {
        #[prost(map = "string, message", tag = "1")]
        pub feature: HashMap<String, Feature>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Feature {
        #[prost(oneof = "Kind", tags = "1, 2, 3")]
        pub kind: Option<Kind>,
    }

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Kind {
        #[prost(message, tag = "1")]
        Bytes(BytesList),
        #[prost(message, tag = "2")]
        Floats(FloatList),
        #[prost(message, tag = "3")]
        Int64s(Int64List),
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct BytesList {
        #[prost(bytes = "vec", repeated, tag = "1")]
        pub value: Vec<Vec<u8>>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FloatList {
        #[prost(float, repeated, tag = "1")]
        pub value: Vec<f32>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Int64List {
        #[prost(int64, repeated, tag = "1")]
        pub value: Vec<i64>,
    }
}

/// TFRecord's checksum: CRC-32C, rotated and offset so that a CRC of CRCs does not vanish.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One record's payload: where it is in the file.
fn frame(all: &[u8], at: usize, row: usize) -> Result<(usize, usize), String> {
    let bad = |what: &str| format!("record {row} (byte {at}): {what}");
    let header = all
        .get(at..at + 12)
        .ok_or_else(|| bad("truncated length header"))?;
    let len = u64::from_le_bytes(header[..8].try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(header[8..].try_into().expect("4 bytes"));
    if masked_crc(&header[..8]) != crc {
        return Err(bad(
            "length checksum mismatch (not a TFRecord file, or damaged)",
        ));
    }
    let start = at + 12;
    let end = usize::try_from(len)
        .ok()
        .and_then(|n| start.checked_add(n))
        .filter(|&end| end.checked_add(4).is_some_and(|e| e <= all.len()))
        .ok_or_else(|| bad(&format!("{len}-byte payload runs past the end of the file")))?;
    Ok((start, end))
}

/// Values of one column over a decoded window.
enum Values {
    Ints(Vec<i64>),
    Floats(Vec<f64>),
}

pub(super) struct TfRecordFile {
    bytes: SharedBytes,
    rows: usize,
    /// Features the map uses (and the label): only these are kept from each record.
    wanted: Vec<String>,
    widths: HashMap<String, usize>,
    /// The next record to decode: row index and byte offset.
    next: (usize, usize),
    window: Option<(usize, usize, HashMap<String, Values>)>,
}

impl TfRecordFile {
    pub(super) fn open(bytes: SharedBytes, map: &FeatureMap) -> Result<Self, String> {
        let all = (*bytes).as_ref();
        let (mut rows, mut at) = (0, 0);
        let mut widths = HashMap::new();
        while at < all.len() {
            let (start, end) = frame(all, at, rows)?;
            if rows == 0 {
                let example = decode(&all[start..end], rows)?;
                for (name, feature) in example.features.unwrap_or_default().feature {
                    let width = match feature.kind {
                        Some(proto::Kind::Int64s(l)) => l.value.len(),
                        Some(proto::Kind::Floats(l)) => l.value.len(),
                        Some(proto::Kind::Bytes(l)) => l.value.len(),
                        None => 0,
                    };
                    widths.insert(name, width);
                }
            }
            rows += 1;
            at = end + 4;
        }
        let wanted = map
            .fields()
            .map(|f| f.name.clone())
            .chain(map.labels.iter().cloned())
            .collect();
        Ok(Self {
            bytes,
            rows,
            wanted,
            widths,
            next: (0, 0),
            window: None,
        })
    }

    /// Decodes rows `start..start + rows` into columns (from the start of the file again when
    /// asked for rows before the last window).
    fn decode_window(&mut self, start: usize, rows: usize) -> Result<(), String> {
        if matches!(&self.window, Some((s, n, _)) if *s == start && *n == rows) {
            return Ok(());
        }
        if start < self.next.0 {
            self.next = (0, 0);
        }
        let all = (*self.bytes).as_ref();
        while self.next.0 < start {
            let (_, end) = frame(all, self.next.1, self.next.0)?;
            self.next = (self.next.0 + 1, end + 4);
        }
        let mut columns: HashMap<String, Values> = HashMap::new();
        for row in start..start + rows {
            let (from, to) = frame(all, self.next.1, row)?;
            let payload = &all[from..to];
            let crc = u32::from_le_bytes(all[to..to + 4].try_into().expect("4 bytes"));
            if masked_crc(payload) != crc {
                return Err(format!(
                    "record {row}: payload checksum mismatch (damaged file)"
                ));
            }
            let mut features = decode(payload, row)?.features.unwrap_or_default().feature;
            for name in &self.wanted {
                let width = self.widths.get(name).copied().unwrap_or(0);
                let feature = features
                    .remove(name)
                    .and_then(|f| f.kind)
                    .ok_or_else(|| format!("record {row}: no feature `{name}`"))?;
                let column = columns
                    .entry(name.clone())
                    .or_insert_with(|| match feature {
                        proto::Kind::Floats(_) => Values::Floats(Vec::with_capacity(rows)),
                        _ => Values::Ints(Vec::with_capacity(rows * width)),
                    });
                let got = match (column, feature) {
                    (Values::Ints(out), proto::Kind::Int64s(l)) => {
                        out.extend_from_slice(&l.value);
                        l.value.len()
                    }
                    (Values::Floats(out), proto::Kind::Floats(l)) => {
                        out.extend(l.value.iter().map(|&v| f64::from(v)));
                        l.value.len()
                    }
                    _ => {
                        return Err(format!(
                            "record {row}: feature `{name}` changes type between records, or is \
                             a bytes_list"
                        ));
                    }
                };
                if got != width {
                    return Err(format!(
                        "record {row}: feature `{name}` has {got} values, the first record {width}"
                    ));
                }
            }
            self.next = (row + 1, to + 4);
        }
        self.window = Some((start, rows, columns));
        Ok(())
    }

    fn column(&mut self, name: &str, start: usize, rows: usize) -> Result<&Values, String> {
        self.decode_window(start, rows)?;
        let (_, _, columns) = self.window.as_ref().expect("decoded above");
        columns
            .get(name)
            .ok_or_else(|| format!("is not among the features read ({name})"))
    }
}

fn decode(payload: &[u8], row: usize) -> Result<proto::Example, String> {
    <proto::Example as prost::Message>::decode(payload)
        .map_err(|e| format!("record {row} is not a tf.train.Example: {e}"))
}

impl ColumnSource for TfRecordFile {
    fn shape(&mut self, name: &str) -> Result<Option<Vec<u64>>, String> {
        Ok(self
            .widths
            .get(name)
            .map(|&width| vec![self.rows as u64, width as u64]))
    }

    fn ints(
        &mut self,
        name: &str,
        start: usize,
        rows: usize,
        _width: usize,
    ) -> Result<Vec<i64>, String> {
        match self.column(name, start, rows)? {
            Values::Ints(v) => Ok(v.clone()),
            Values::Floats(_) => Err("is a float_list; ids are an int64_list".into()),
        }
    }

    fn floats(&mut self, name: &str, start: usize, rows: usize) -> Result<Vec<f64>, String> {
        match self.column(name, start, rows)? {
            Values::Floats(v) => Ok(v.clone()),
            // FuxiCTR's schema reads numeric features and labels as float32; ints are accepted.
            Values::Ints(v) => Ok(v.iter().map(|&x| x as f64).collect()),
        }
    }
}
