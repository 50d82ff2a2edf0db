//! Memory-mapped files for the dataset cache.
//!
//! A Criteo-size split is 7 GB encoded: training reads it through a read-only mapping (the
//! kernel pages in what a batch touches and may drop it again under memory pressure), and
//! preprocessing writes each split through a writable mapping of a file created at its final
//! size, so rows can land anywhere in it (a random split puts row i at a shuffled position).
//!
//! Mapping is sound only while no one changes the file underneath. The cache guarantees it: a
//! split is written under a temporary name and renamed into place when complete, so the file a
//! reader maps is never written again (a rebuild writes a new file and renames it over the
//! name; the old file lives on, unchanged, until its last mapping goes). Only another program
//! writing into a cache file in place could break this, and the cache folder is ours.

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapMut};

/// A whole file mapped read-only.
#[derive(Debug)]
pub struct MappedFile {
    map: Mmap,
}

/// How a mapping will be read, so the kernel reads ahead (or does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Front to back (evaluation): read ahead generously.
    Sequential,
    /// Rows in shuffled order (training): read only the pages touched. Read-ahead would fetch
    /// 128 KiB around every 4-byte value a batch gathers, mostly for nothing.
    Random,
}

impl MappedFile {
    /// Maps all of `file`, to be read as `access` says.
    pub fn open(file: &File, access: Access) -> io::Result<Self> {
        // SAFETY: see the module documentation: cache files are complete and never written again
        // once they carry their final name, which is the only way they are opened here.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(file)? };
        let mapped = Self { map };
        mapped.advise(access)?;
        Ok(mapped)
    }

    /// Says how the mapping will be read from now on.
    pub fn advise(&self, access: Access) -> io::Result<()> {
        #[cfg(unix)]
        self.map.advise(match access {
            Access::Sequential => memmap2::Advice::Sequential,
            Access::Random => memmap2::Advice::Random,
        })?;
        #[cfg(not(unix))]
        let _ = access;
        Ok(())
    }
}

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

/// A new file of a given size, mapped for writing.
#[derive(Debug)]
pub struct MappedFileMut {
    map: MmapMut,
}

impl MappedFileMut {
    /// Gives `file` (new, empty, opened for reading and writing) `len` bytes of disk space
    /// and maps it. The space is allocated now, so a full disk is this call's error, not a
    /// fault when a page is first written.
    pub fn create(file: &File, len: u64) -> io::Result<Self> {
        allocate(file, len)?;
        // SAFETY: the file was just created by the caller under a temporary name that no other
        // process opens; it is renamed into place only after this mapping is flushed and gone.
        #[allow(unsafe_code)]
        let map = unsafe { MmapMut::map_mut(file)? };
        Ok(Self { map })
    }

    /// Writes every changed page back to the file (errors such as EIO show here).
    pub fn flush(&self) -> io::Result<()> {
        self.map.flush()
    }
}

impl AsMut<[u8]> for MappedFileMut {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.map
    }
}

#[cfg(target_os = "linux")]
fn allocate(file: &File, len: u64) -> io::Result<()> {
    use rustix::fs::{FallocateFlags, fallocate};
    if len == 0 {
        return Ok(());
    }
    match fallocate(file, FallocateFlags::empty(), 0, len) {
        Ok(()) => Ok(()),
        // File systems without fallocate (some network and FUSE ones): a sparse file; a full
        // disk then shows as an I/O error when the pages are flushed.
        Err(rustix::io::Errno::OPNOTSUPP) => file.set_len(len),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn allocate(file: &File, len: u64) -> io::Result<()> {
    file.set_len(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_through_a_mapping_reads_back() {
        let dir = std::env::temp_dir().join(format!("qnn-mmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let mut map = MappedFileMut::create(&file, 4096 + 3).unwrap();
        map.as_mut()[4096..].copy_from_slice(b"end");
        map.flush().unwrap();
        drop(map);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4099);
        let read = MappedFile::open(&File::open(&path).unwrap(), Access::Random).unwrap();
        assert_eq!(&read.as_ref()[4096..], b"end");
        assert_eq!(read.as_ref()[..4096], [0u8; 4096]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
