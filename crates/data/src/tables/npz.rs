//! FuxiCTR 2.2+'s npz files: a zip of `.npy` arrays, one per feature (`[rows]`, or `[rows,
//! max_len]` for sequences) plus the label, as `np.savez(path, **arrays)` writes them. Stored
//! members (`np.savez`) are read in place, a window of rows at a time; deflated ones
//! (`np.savez_compressed`) are inflated into memory one member at a time when first read.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use npyz::{Deserialize, NpyFile, Order};

use super::ColumnSource;
use crate::buffer::{SharedBytes, SharedSlice};

/// The bytes of one `.npy` member.
#[derive(Clone)]
enum Member {
    InPlace(SharedSlice),
    Inflated(std::sync::Arc<Vec<u8>>),
}

impl AsRef<[u8]> for Member {
    fn as_ref(&self) -> &[u8] {
        match self {
            Member::InPlace(s) => s.as_ref(),
            Member::Inflated(v) => v,
        }
    }
}

pub(super) struct NpzFile {
    archive: zip::ZipArchive<Cursor<SharedSlice>>,
    bytes: SharedBytes,
    members: HashMap<String, Option<(Member, Vec<u64>)>>,
}

impl NpzFile {
    pub(super) fn open(bytes: SharedBytes) -> Result<Self, String> {
        let archive = zip::ZipArchive::new(Cursor::new(SharedSlice::all(bytes.clone())))
            .map_err(|e| format!("not a readable npz (zip) file: {e}"))?;
        Ok(Self {
            archive,
            bytes,
            members: HashMap::new(),
        })
    }

    fn member(&mut self, name: &str) -> Result<Option<&(Member, Vec<u64>)>, String> {
        if !self.members.contains_key(name) {
            let found = self.load(name)?;
            self.members.insert(name.to_string(), found);
        }
        Ok(self.members[name].as_ref())
    }

    fn load(&mut self, name: &str) -> Result<Option<(Member, Vec<u64>)>, String> {
        let mut entry = match self.archive.by_name(&format!("{name}.npy")) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(format!("cannot read its member {name}.npy: {e}")),
        };
        let member = if entry.compression() == zip::CompressionMethod::Stored {
            let start = entry
                .data_start()
                .and_then(|s| usize::try_from(s).ok())
                .ok_or_else(|| format!("member {name}.npy: no data offset"))?;
            let end = usize::try_from(entry.size())
                .ok()
                .and_then(|n| start.checked_add(n))
                .filter(|&end| end <= (*self.bytes).as_ref().len())
                .ok_or_else(|| format!("member {name}.npy runs past the end of the file"))?;
            Member::InPlace(SharedSlice {
                bytes: self.bytes.clone(),
                start,
                end,
            })
        } else {
            let mut inflated = Vec::new();
            entry
                .read_to_end(&mut inflated)
                .map_err(|e| format!("cannot inflate member {name}.npy: {e}"))?;
            Member::Inflated(std::sync::Arc::new(inflated))
        };
        let npy = NpyFile::new(member.as_ref())
            .map_err(|e| format!("member {name}.npy is not a .npy array: {e}"))?;
        if npy.order() == Order::Fortran && npy.shape().len() > 1 {
            return Err(format!(
                "member {name}.npy is in Fortran order; save it in C order"
            ));
        }
        let shape = npy.shape().to_vec();
        Ok(Some((member, shape)))
    }
}

/// Elements `first..first + count` of a `.npy` array, converted with `convert`, whatever its
/// numeric dtype.
fn window<T>(
    bytes: &[u8],
    first: u64,
    count: usize,
    convert: impl Fn(Element) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    macro_rules! try_types {
        ($($ty:ty => $variant:ident),*) => {{
            let dtype = NpyFile::new(bytes).map_err(|e| e.to_string())?.dtype();
            $(
                if <$ty as Deserialize>::reader(&dtype).is_ok() {
                    let npy = NpyFile::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
                    let mut reader = npy.data::<$ty>().map_err(|e| e.to_string())?;
                    reader.seek_to(first).map_err(|e| format!("element {first}: {e}"))?;
                    let mut out = Vec::with_capacity(count);
                    for value in reader.take(count) {
                        let value = value.map_err(|e| format!("truncated array: {e}"))?;
                        out.push(convert(Element::$variant(value.into()))?);
                    }
                    if out.len() != count {
                        return Err(format!(
                            "truncated array: {} elements from {first}, wanted {count}",
                            out.len()
                        ));
                    }
                    return Ok(out);
                }
            )*
            Err(format!("has dtype {dtype:?}, which is not a number type"))
        }};
    }
    try_types!(
        i64 => Int, i32 => Int, i16 => Int, i8 => Int,
        u32 => Int, u16 => Int, u8 => Int, bool => Bool,
        u64 => Wide, f64 => Float, f32 => Float
    )
}

/// One element of a numeric `.npy` array.
enum Element {
    Int(i64),
    Wide(u64),
    Bool(bool),
    Float(f64),
}

impl ColumnSource for NpzFile {
    fn shape(&mut self, name: &str) -> Result<Option<Vec<u64>>, String> {
        Ok(self.member(name)?.map(|(_, shape)| shape.clone()))
    }

    fn ints(
        &mut self,
        name: &str,
        start: usize,
        rows: usize,
        width: usize,
    ) -> Result<Vec<i64>, String> {
        let (member, _) = self.member(name)?.ok_or("is missing")?;
        window(
            member.as_ref(),
            (start * width) as u64,
            rows * width,
            |e| match e {
                Element::Int(v) => Ok(v),
                Element::Bool(b) => Ok(i64::from(b)),
                Element::Wide(v) => i64::try_from(v).map_err(|_| format!("id {v} is too large")),
                Element::Float(v) if v.fract() == 0.0 && v.abs() < 2f64.powi(53) => Ok(v as i64),
                Element::Float(v) => Err(format!("{v} is not an integer id")),
            },
        )
    }

    fn floats(&mut self, name: &str, start: usize, rows: usize) -> Result<Vec<f64>, String> {
        let (member, _) = self.member(name)?.ok_or("is missing")?;
        window(member.as_ref(), start as u64, rows, |e| {
            Ok(match e {
                Element::Int(v) => v as f64,
                Element::Wide(v) => v as f64,
                Element::Bool(b) => f64::from(u8::from(b)),
                Element::Float(v) => v,
            })
        })
    }
}
