//! The allocator of QNN Lab's native binaries. Link it with `use qnn_alloc as _;` in a binary.
//!
//! A training step on the CPU backend allocates and frees tensors of tens of megabytes (at the
//! paper's Frappe configuration, 4096 × 2080 floats = 34 MB per gate tensor). glibc serves every
//! allocation above 32 MiB with a fresh `mmap` and returns it with `munmap`, so each step touched
//! new pages: about 1.4 million page faults per step, and close to half of a step's time in the
//! kernel. jemalloc with freed pages kept (no decay) and transparent huge pages reuses the same
//! memory step after step: the page faults all but vanish and the step runs ~2× faster
//! (`cargo bench -p qnn-train --bench frappe_step`, README "Benchmark"). Peak memory grows by
//! the huge-page rounding only, and a training process holds its peak until it exits anyway.
//!
//! Elsewhere than Linux the system allocator stays.

#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

macro_rules! malloc_conf {
    () => {
        "thp:always,dirty_decay_ms:-1,muzzy_decay_ms:-1"
    };
}

/// jemalloc's options (`man jemalloc`, "TUNING"); the environment variable `_RJEM_MALLOC_CONF`
/// still overrides them at run time.
pub const MALLOC_CONF: &str = malloc_conf!();

/// jemalloc reads its build's `malloc_conf` symbol (prefixed `_rjem_` by tikv-jemalloc-sys) as a
/// `const char *` before the first allocation: a thin pointer to a NUL-terminated string.
#[cfg(target_os = "linux")]
#[allow(unsafe_code, non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static malloc_conf: &u8 = &concat!(malloc_conf!(), "\0").as_bytes()[0];

/// Hands the pages freed so far back to the operating system. jemalloc keeps freed pages for
/// reuse (see above), so memory a finished phase used would otherwise stay resident: call this
/// when such a phase is over, e.g. preprocessing's token counts before training starts.
pub fn release_free_memory() {
    #[cfg(target_os = "linux")]
    {
        // `arena.<i>.purge` for every arena (MALLCTL_ARENAS_ALL); it reads and writes nothing.
        // SAFETY: the name is NUL-terminated and the control takes no old or new value.
        #[allow(unsafe_code)]
        unsafe {
            tikv_jemalloc_sys::mallctl(
                c"arena.4096.purge".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            );
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    fn read_opt<T: Copy>(name: &str) -> T {
        let key = format!("{name}\0");
        // SAFETY: each name below is an `opt.*` key of jemalloc 5.3 whose type is `T`.
        #[allow(unsafe_code)]
        unsafe {
            tikv_jemalloc_ctl::raw::read::<T>(key.as_bytes()).unwrap()
        }
    }

    #[test]
    fn jemalloc_runs_with_the_exported_configuration() {
        // A fresh test process has not set `_RJEM_MALLOC_CONF`; if it has, the check is moot.
        if std::env::var_os("_RJEM_MALLOC_CONF").is_some() {
            eprintln!("_RJEM_MALLOC_CONF is set: it overrides MALLOC_CONF; not checked");
            return;
        }
        assert_eq!(read_opt::<isize>("opt.dirty_decay_ms"), -1);
        assert_eq!(read_opt::<isize>("opt.muzzy_decay_ms"), -1);
        let thp: *const std::ffi::c_char = read_opt("opt.thp");
        // SAFETY: jemalloc returns a pointer to one of its static, NUL-terminated option names.
        #[allow(unsafe_code)]
        let thp = unsafe { std::ffi::CStr::from_ptr(thp) };
        assert_eq!(thp.to_str().unwrap(), "always");
    }

    #[test]
    fn freed_pages_go_back_to_the_system_when_asked() {
        let resident = anonymous_resident_bytes;
        let big = vec![1u8; 256 << 20];
        std::hint::black_box(&big);
        drop(big);
        let before = resident();
        super::release_free_memory();
        let after = resident();
        assert!(
            after + (128 << 20) < before,
            "resident {before} before, {after} after"
        );
    }

    /// This process's resident anonymous memory (heap pages among them), from /proc.
    fn anonymous_resident_bytes() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kib: usize = status
            .lines()
            .find_map(|l| l.strip_prefix("RssAnon:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib * 1024
    }
}
