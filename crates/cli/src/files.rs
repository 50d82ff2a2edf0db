//! Writes that never leave a half-written file behind: write a sibling temp file, then rename.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The sibling a file is written under before it is renamed to `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Replaces `path` with `bytes` atomically (readers see the old or the new file, never a part).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| Ok(f.write_all(bytes)?))
}

/// Replaces `path` atomically with what `write` writes (a stream too large to hold in memory).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> Result<()>,
) -> Result<()> {
    create_parent(path)?;
    let tmp = temp_path(path);
    let context = || format!("cannot write {}", path.display());
    let result = fs::File::create(&tmp)
        .with_context(context)
        .and_then(|mut f| {
            write(&mut f)?;
            f.sync_all().with_context(context)?;
            fs::rename(&tmp, path).with_context(context)
        });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Refuses an output that is one of the command's inputs under another spelling or link: the output
/// replaces its path when written, so the input would be lost (a parquet input becomes a
/// one-column CSV, a model file a table). `output` and each input are a flag and its path.
pub fn refuse_overwriting_inputs(output: (&str, &Path), inputs: &[(&str, &Path)]) -> Result<()> {
    let (flag, path) = output;
    // An output that does not exist yet cannot be an input: `is_same_file` errs then.
    match inputs
        .iter()
        .find(|(_, input)| same_file::is_same_file(path, input).unwrap_or(false))
    {
        Some((input_flag, _)) => anyhow::bail!(
            "{flag} {} is the {input_flag} file: writing there would replace it; choose another path",
            path.display()
        ),
        None => Ok(()),
    }
}

/// Appends one line to a text file. Safe with other processes appending to the same file (an
/// exclusive lock around one write at the end), and all or nothing: a failed write is cut back.
pub fn append_line(path: &Path, line: &str) -> Result<()> {
    let context = || format!("cannot append to {}", path.display());
    create_parent(path)?;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .with_context(context)?;
    file.lock().with_context(context)?;
    let len = file.metadata().with_context(context)?.len();
    let mut text = String::with_capacity(line.len() + 2);
    if len > 0 {
        let mut last = [0u8];
        file.seek(SeekFrom::Start(len - 1)).with_context(context)?;
        file.read_exact(&mut last).with_context(context)?;
        if last[0] != b'\n' {
            text.push('\n');
        }
    }
    text.push_str(line);
    text.push('\n');
    if let Err(e) = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_data())
    {
        let _ = file.set_len(len);
        return Err(e).with_context(context);
    }
    Ok(())
}

/// An exclusive lock on `path` (created if needed), held until the returned file is dropped.
/// The system releases it when the process dies, so a killed run never leaves it held.
pub fn lock(path: &Path) -> Result<fs::File> {
    let file = open_lock_file(path)?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}

/// [`lock`] without waiting: `Ok(None)` when another process holds it.
pub fn try_lock(path: &Path) -> Result<Option<fs::File>> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

fn create_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(())
}

fn open_lock_file(path: &Path) -> Result<fs::File> {
    create_parent(path)?;
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// `YYYYmmdd-HHMMSS` in UTC, FuxiCTR's results-line timestamp.
pub fn timestamp() -> String {
    let secs = web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil-from-days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_and_appends() {
        let dir = std::env::temp_dir().join(format!("qnn-files-{}", std::process::id()));
        let path = dir.join("sub/results.csv");
        append_line(&path, "a").unwrap();
        append_line(&path, "b").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a\nb\n");
        // A file whose last line has no end of line gets one before the new line.
        fs::write(&path, "a").unwrap();
        append_line(&path, "b").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a\nb\n");
        let leftovers = fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temp file stays behind");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_appends_keep_every_line() {
        let dir = std::env::temp_dir().join(format!("qnn-append-{}", std::process::id()));
        let path = dir.join("results.csv");
        std::thread::scope(|s| {
            for t in 0..4 {
                let path = &path;
                s.spawn(move || {
                    for i in 0..50 {
                        append_line(path, &format!("thread {t} line {i}")).unwrap();
                    }
                });
            }
        });
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 200);
        assert!(text.lines().all(|l| l.starts_with("thread ")));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_held_lock_is_reported_and_released_on_drop() {
        let dir = std::env::temp_dir().join(format!("qnn-lock-{}", std::process::id()));
        let path = dir.join(".E.lock");
        let held = lock(&path).unwrap();
        assert!(try_lock(&path).unwrap().is_none());
        drop(held);
        assert!(try_lock(&path).unwrap().is_some());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_output_naming_an_input_is_refused() {
        let dir = std::env::temp_dir().join(format!("qnn-same-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let data = dir.join("rows.csv");
        fs::write(&data, "clk\n1\n").unwrap();
        let other = dir.join("sub/../rows.csv");
        fs::create_dir_all(dir.join("sub")).unwrap();
        let err = refuse_overwriting_inputs(("--out", &other), &[("--data", &data)]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("--out {} is the --data file", other.display())),
            "{err}"
        );
        // A new file, or another existing one, is fine.
        let new = dir.join("p.csv");
        refuse_overwriting_inputs(("--out", &new), &[("--data", &data)]).unwrap();
        fs::write(&new, "").unwrap();
        refuse_overwriting_inputs(("--out", &new), &[("--data", &data)]).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn timestamp_has_fuxictr_shape() {
        let t = timestamp();
        assert_eq!(t.len(), 15);
        assert_eq!(&t[8..9], "-");
        assert!(t.starts_with("20"));
    }
}
