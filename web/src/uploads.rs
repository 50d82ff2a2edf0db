//! What the page takes as one upload, checked from the files' names and sizes before a byte is
//! read: a tab that reads a file set it cannot hold dies with it.

/// Most bytes one upload may hold, one file or all together: the tab keeps the bytes, the parsed
/// table and the encoded columns at once, within wasm32's 4 GiB.
pub const MAX_UPLOAD_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;

/// Train, validation and test: the page has no use for a fourth file.
pub const MAX_FILES: usize = 3;

/// Refuses an upload of `(name, size in bytes)` that the page would not use or could not hold,
/// with the sentence the page shows.
pub fn check_upload(files: &[(String, f64)]) -> Result<(), String> {
    let advice = "Train on it with the `qnn` command-line tool instead.";
    if files.len() > MAX_FILES {
        return Err(format!(
            "{} files at once: give one CSV (split at random) or two or three (train, validation \
             and test, in that order)",
            files.len()
        ));
    }
    let mb = |bytes: f64| bytes / 1e6;
    for (name, size) in files {
        if *size > MAX_UPLOAD_BYTES {
            return Err(format!(
                "{name} is {:.0} MB: too big for a browser tab (the limit is {:.0} MB). {advice}",
                mb(*size),
                mb(MAX_UPLOAD_BYTES)
            ));
        }
    }
    let total: f64 = files.iter().map(|(_, size)| size).sum();
    if total > MAX_UPLOAD_BYTES {
        return Err(format!(
            "{} files of {:.0} MB together: too big for a browser tab (the limit is {:.0} MB). \
             {advice}",
            files.len(),
            mb(total),
            mb(MAX_UPLOAD_BYTES)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sizes: &[f64]) -> Vec<(String, f64)> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| (format!("f{i}.csv"), s))
            .collect()
    }

    #[test]
    fn sets_the_page_can_hold_and_use_pass() {
        assert_eq!(check_upload(&files(&[1e6])), Ok(()));
        assert_eq!(check_upload(&files(&[5e8, 2e8, 2e8])), Ok(()));
        assert_eq!(check_upload(&files(&[MAX_UPLOAD_BYTES])), Ok(()));
    }

    #[test]
    fn too_many_too_big_or_too_much_together_is_refused_before_reading() {
        let e = check_upload(&files(&[1.0; 4])).unwrap_err();
        assert!(e.starts_with("4 files at once"), "{e}");
        let e = check_upload(&files(&[3e9])).unwrap_err();
        assert!(e.starts_with("f0.csv is 3000 MB: too big"), "{e}");
        let e = check_upload(&files(&[6e8, 6e8])).unwrap_err();
        assert!(e.starts_with("2 files of 1200 MB together: too big"), "{e}");
        assert!(e.contains("`qnn` command-line tool"), "{e}");
    }
}
