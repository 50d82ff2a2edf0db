//! Logs to the console (above any progress bars) and to the current experiment's log file, in
//! FuxiCTR's spirit: `<time> P<pid> LEVEL message`.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use indicatif::MultiProgress;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// Target of events meant for the log file only (the console gets them another way).
pub const LOG_FILE_ONLY: &str = "qnn::log_file_only";

#[derive(Debug, Clone, Default)]
struct LogFile(Arc<Mutex<Option<File>>>);

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.lock().expect("log file lock").as_mut() {
            Some(f) => f.write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.lock().expect("log file lock").as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for LogFile {
    type Writer = LogFile;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Console output that suspends the progress bars while it writes.
#[derive(Debug, Clone)]
struct Console(MultiProgress);

impl Write for Console {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.suspend(|| io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Console {
    type Writer = Console;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[derive(Debug)]
struct Logging {
    file: LogFile,
    progress: MultiProgress,
}

static LOGGING: OnceLock<Logging> = OnceLock::new();

fn logging() -> &'static Logging {
    LOGGING.get_or_init(|| {
        let file = LogFile::default();
        let progress = MultiProgress::new();
        let pid = std::process::id();
        let console = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(Console(progress.clone()))
            .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                meta.target() != LOG_FILE_ONLY && *meta.level() <= tracing::Level::INFO
            }));
        let to_file = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_thread_names(false)
            .with_writer(file.clone())
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
        tracing_subscriber::registry()
            .with(console)
            .with(to_file)
            .init();
        tracing::debug!(pid, "logging started");
        Logging { file, progress }
    })
}

/// Starts logging (once per process).
pub fn init() {
    logging();
}

/// Progress bars drawn by this process, kept below the log lines.
pub fn progress() -> &'static MultiProgress {
    &logging().progress
}

/// Sends log lines to `path` (overwritten as FuxiCTR does, or appended to) as well as the
/// console; `None` stops.
pub fn log_to(path: Option<&Path>, append: bool) -> Result<()> {
    let file = match path {
        Some(p) => {
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            // A resumed run continues its log; a new run starts a new one (as FuxiCTR).
            Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(append)
                    .truncate(!append)
                    .open(p)
                    .with_context(|| format!("cannot create log file {}", p.display()))?,
            )
        }
        None => None,
    };
    *logging().file.0.lock().expect("log file lock") = file;
    Ok(())
}
