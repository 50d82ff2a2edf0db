//! Column storage that is either owned or points into shared bytes: a memory-mapped cache file
//! natively (so a 45 M-row split is never read into memory), one heap buffer per split in the
//! browser. Either way a column reads as a plain slice.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use bytemuck::Pod;

/// Immutable bytes that columns borrow from; they never move while the `Arc` lives.
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Bytes shared with a reader that wants an owned `AsRef<[u8]>` (a `Cursor`, a zip archive, the
/// parquet crate's `Bytes`): a window of [`SharedBytes`].
#[derive(Clone)]
pub(crate) struct SharedSlice {
    pub(crate) bytes: SharedBytes,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl SharedSlice {
    pub(crate) fn all(bytes: SharedBytes) -> Self {
        let end = (*bytes).as_ref().len();
        Self {
            bytes,
            start: 0,
            end,
        }
    }
}

impl AsRef<[u8]> for SharedSlice {
    fn as_ref(&self) -> &[u8] {
        &(*self.bytes).as_ref()[self.start..self.end]
    }
}

/// Why bytes cannot be viewed as a column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BufferError {
    #[error("bytes {start}..{end} are outside the {len} bytes given")]
    OutOfRange {
        start: usize,
        end: usize,
        len: usize,
    },
    #[error("bytes {start}..{end} are not a whole number of aligned {size}-byte values")]
    Misaligned {
        start: usize,
        end: usize,
        size: usize,
    },
    #[error("the data is little-endian and this machine is not")]
    BigEndian,
}

/// A column's values: a `Vec` or a range of [`SharedBytes`] holding little-endian `T`s.
#[derive(Clone)]
pub struct Buffer<T: Pod> {
    repr: Repr<T>,
}

#[derive(Clone)]
enum Repr<T> {
    Owned(Vec<T>),
    Shared {
        bytes: SharedBytes,
        range: Range<usize>,
    },
}

impl<T: Pod> Buffer<T> {
    /// Views `range` of `bytes` as `T`s; checked once here so that reading cannot fail later.
    pub fn shared(bytes: SharedBytes, range: Range<usize>) -> Result<Self, BufferError> {
        if cfg!(target_endian = "big") {
            return Err(BufferError::BigEndian);
        }
        let all = (*bytes).as_ref();
        let (start, end) = (range.start, range.end);
        let Some(slice) = all.get(range.clone()) else {
            return Err(BufferError::OutOfRange {
                start,
                end,
                len: all.len(),
            });
        };
        if bytemuck::try_cast_slice::<u8, T>(slice).is_err() {
            return Err(BufferError::Misaligned {
                start,
                end,
                size: size_of::<T>(),
            });
        }
        Ok(Self {
            repr: Repr::Shared { bytes, range },
        })
    }
}

impl<T: Pod> Deref for Buffer<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.repr {
            Repr::Owned(v) => v,
            // Checked in `shared`, and the bytes behind the Arc cannot change or move.
            Repr::Shared { bytes, range } => {
                bytemuck::cast_slice(&(**bytes).as_ref()[range.clone()])
            }
        }
    }
}

impl<T: Pod> From<Vec<T>> for Buffer<T> {
    fn from(v: Vec<T>) -> Self {
        Self {
            repr: Repr::Owned(v),
        }
    }
}

impl<T: Pod> FromIterator<T> for Buffer<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Vec::from_iter(iter).into()
    }
}

impl<T: Pod + PartialEq> PartialEq for Buffer<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Pod + PartialEq> PartialEq<Vec<T>> for Buffer<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        **self == **other
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Heap bytes aligned for any column type up to 8 bytes (a `Vec<u8>` need not be).
#[derive(Debug, Clone, Default)]
pub struct AlignedBytes {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBytes {
    pub fn zeroed(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(8)],
            len,
        }
    }
}

impl AsRef<[u8]> for AlignedBytes {
    fn as_ref(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }
}

impl AsMut<[u8]> for AlignedBytes {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_views_read_like_owned_ones_and_bad_ranges_are_refused() {
        let mut bytes = AlignedBytes::zeroed(12);
        bytes.as_mut()[4..8].copy_from_slice(&7u32.to_le_bytes());
        bytes.as_mut()[8..12].copy_from_slice(&1.5f32.to_le_bytes());
        let shared: SharedBytes = Arc::new(bytes);
        let ids = Buffer::<u32>::shared(shared.clone(), 0..8).unwrap();
        assert_eq!(ids, Buffer::from(vec![0, 7]));
        assert_eq!(
            Buffer::<f32>::shared(shared.clone(), 8..12).unwrap()[0],
            1.5
        );
        assert!(matches!(
            Buffer::<u32>::shared(shared.clone(), 8..16),
            Err(BufferError::OutOfRange { len: 12, .. })
        ));
        assert!(matches!(
            Buffer::<u32>::shared(shared.clone(), 2..6),
            Err(BufferError::Misaligned { .. })
        ));
        assert!(Buffer::<u32>::shared(shared, 0..6).is_err());
    }
}
