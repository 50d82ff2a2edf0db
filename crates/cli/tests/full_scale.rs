//! Full-scale behaviour that small fixtures cannot show: memory that does not grow with the
//! number of rows. Runs the real `qnn` binary on generated Criteo-schema files.

#![cfg(target_os = "linux")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn qnn(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qnn"));
    c.current_dir(dir);
    c
}

/// Runs `command` to the end and returns the most anonymous memory (heap and stacks: what the
/// process holds itself, not the page cache behind its file mappings) it had at any moment,
/// in MiB, sampled from /proc every few milliseconds.
///
/// The binary's jemalloc asks for transparent huge pages; whether the kernel grants them depends
/// on how fragmented the machine's memory is at that moment: `predict` on 2 M rows peaked at
/// 127–134 MiB on an idle machine and at 148 MiB on a CI machine under load. That rounding has nothing to do with the number of
/// rows, so these measurements turn huge pages off (the environment overrides the built-in
/// options, the others stay) and see what the pipeline itself holds: the same predict then
/// measures within a few MiB from run to run.
fn peak_anon_mib(command: &mut Command, log: &Path) -> f64 {
    let mut child = command
        .env("_RJEM_MALLOC_CONF", "thp:never")
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "{}", fs::read_to_string(log).unwrap());
            return peak_kib as f64 / 1024.0;
        }
        if let Ok(text) = fs::read_to_string(&status) {
            let anon = text
                .lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kib = peak_kib.max(anon.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

/// Peak anonymous memory, in MiB, of each command a user runs on `rows` generated Criteo-schema
/// rows: `train` (preprocess with the shipped criteo_x4 dataset config and train a few steps),
/// `predict` and `evaluate` over the whole train file with `model`.
#[derive(Debug)]
struct Peaks {
    train: f64,
    predict: f64,
    evaluate: f64,
}

/// Measures [`Peaks`] at `rows`; `predict` and `evaluate` use `model` when given (so that two
/// sizes can be compared with the same vocabularies), else the model just trained. Returns the
/// peaks and a copy of the trained model.
fn run_at(rows: u64, model: Option<&Path>) -> (Peaks, PathBuf) {
    let dir = criteo_folder(&format!("full-scale-{rows}"), rows, 20_000, 10_000, 3);
    let log = dir.join("train.log");
    let peak = peak_anon_mib(
        qnn(&dir).args([
            "train",
            "--config",
            "config",
            "--expid",
            "E",
            "--max-steps",
            "3",
        ]),
        &log,
    );
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.contains(&format!("Encoded {rows} rows of")), "{text}");
    assert!(text.contains("Stop after 3 steps"), "{text}");
    let trained =
        std::env::temp_dir().join(format!("qnn-full-scale-{rows}-{}.qnn", std::process::id()));
    fs::copy(dir.join("checkpoints/criteo_x4_synthetic/E.qnn"), &trained).unwrap();
    let model = model.unwrap_or(&trained);
    let train = ["--data", "data/criteo_synthetic/train.csv"];
    let predict = peak_anon_mib(
        qnn(&dir)
            .arg("predict")
            .arg("--model")
            .arg(model)
            .args(train)
            .args(["--out", "predictions.csv"]),
        &log,
    );
    let lines = fs::read_to_string(dir.join("predictions.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines as u64, rows + 1);
    let evaluate = peak_anon_mib(
        qnn(&dir)
            .arg("evaluate")
            .arg("--model")
            .arg(model)
            .args(train),
        &log,
    );
    let peaks = Peaks {
        train: peak,
        predict,
        evaluate,
    };
    eprintln!("{rows} rows: peak anonymous memory {peaks:?} MiB");
    fs::remove_dir_all(&dir).unwrap();
    (peaks, trained)
}

#[test]
fn memory_does_not_grow_with_the_number_of_rows() {
    let (small, model) = run_at(200_000, None);
    // The larger file's vocabularies pass `min_categr_count` with more tokens (a 2 MB model
    // instead of 0.5 MB); predicting and evaluating with the small file's model keeps what is
    // compared to the rows alone.
    let (large, large_model) = run_at(2_000_000, Some(&model));
    fs::remove_file(model).unwrap();
    fs::remove_file(large_model).unwrap();
    // Ten times the rows: 2 M rows of 39 fields are 312 MB encoded and more as raw tokens; a
    // pipeline that held them would need several hundred MiB more. What may grow, in bytes per
    // row: train's epoch order (8) and a little for the vocabularies' long tail; evaluate's
    // labels and predictions and AUC's sort (about 30).
    for (what, small, large, bytes_per_row) in [
        ("train", small.train, large.train, 8.0),
        ("predict", small.predict, large.predict, 0.0),
        ("evaluate", small.evaluate, large.evaluate, 32.0),
    ] {
        let allowed = bytes_per_row * 1_800_000.0 / 1_048_576.0 + 16.0;
        assert!(
            large - small < allowed,
            "qnn {what}: peak anonymous memory {small:.1} MiB at 200 K rows, {large:.1} MiB at 2 M \
             rows (allowed growth {allowed:.1} MiB)"
        );
    }
}

/// A folder with a Criteo-schema train file of `rows` rows and a valid file of `valid_rows`, and a
/// small QNN_T26 experiment `E` on them (batch `batch`, evaluated every `eval_steps` steps).
fn criteo_folder(name: &str, rows: u64, valid_rows: u64, batch: u64, eval_steps: u64) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qnn-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("config")).unwrap();
    for (file, n, seed) in [("train.csv", rows, "1"), ("valid.csv", valid_rows, "7")] {
        let out = qnn(&dir)
            .args([
                "generate",
                "criteo",
                "--rows",
                &n.to_string(),
                "--seed",
                seed,
            ])
            .args(["--cardinality-scale", "0.002", "--out"])
            .arg(format!("data/criteo_synthetic/{file}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    fs::copy(
        repo_root().join("crates/cli/configs/criteo_x4/dataset_config.yaml"),
        dir.join("config/dataset_config.yaml"),
    )
    .unwrap();
    fs::write(
        dir.join("config/model_config.yaml"),
        format!(
            "E:\n  model: QNN_T26\n  dataset_id: criteo_x4_synthetic\n  model_root: ./checkpoints/\n  \
             batch_size: {batch}\n  embedding_dim: 4\n  num_layers: 1\n  num_row: 1\n  num_heads: 1\n  \
             epochs: 1\n  eval_steps: {eval_steps}\n  monitor: AUC\n"
        ),
    )
    .unwrap();
    dir
}

const TRAIN: [&str; 7] = [
    "train",
    "--config",
    "config",
    "--expid",
    "E",
    "--max-steps",
    "2",
];

/// What is in the cache folder besides the lock file.
/// A built cache's files.
const COMPLETE_CACHE: [&str; 4] = [
    "feature_map.json",
    "feature_vocab.json",
    "train.safetensors",
    "valid.safetensors",
];

fn cache_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join("data/criteo_x4_synthetic"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".lock")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn no_room_for_the_cache_is_one_error_and_leaves_nothing_behind() {
    let dir = criteo_folder("disk-full", 20_000, 2_000, 1_000, 2);
    // Files may grow to 1 MiB (`ulimit -f` counts 512-byte blocks in sh): the log fits, the
    // 3 MB train split does not. Ignoring SIGXFSZ makes the write fail with EFBIG the way a
    // full disk fails it with ENOSPC, instead of killing the process.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 2048; exec '{}' \"$@\"",
            env!("CARGO_BIN_EXE_qnn")
        ))
        .arg("qnn")
        .args(TRAIN)
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.contains("cannot store the train split") && last.contains("train.safetensors"),
        "{stderr}"
    );
    assert_eq!(cache_files(&dir), Vec::<String>::new(), "{stderr}");
    // With room again, the next run builds the cache and trains.
    let out = qnn(&dir).args(TRAIN).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(cache_files(&dir), COMPLETE_CACHE);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_killed_while_it_builds_the_cache_leaves_no_lock_and_no_partial_cache() {
    let dir = criteo_folder("killed-build", 400_000, 2_000, 1_000, 2);
    let mut child = qnn(&dir)
        .args(TRAIN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the encoding pass has created the split files (they are mapped and being
    // filled), or as soon as it has started if that moment is missed.
    let started = std::time::Instant::now();
    while !fs::read_dir(dir.join("data/criteo_x4_synthetic"))
        .map(|mut e| e.any(|f| f.unwrap().file_name().to_string_lossy().contains(".tmp")))
        .unwrap_or(false)
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it was killed"
        );
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!cache_files(&dir).contains(&"feature_map.json".to_string()));
    // The dead process's lock is gone with it; the next run rebuilds and trains.
    let out = qnn(&dir).args(TRAIN).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("Encoded 400000 rows of"), "{log}");
    assert!(!log.contains("Waiting for another qnn process"), "{log}");
    assert_eq!(
        cache_files(&dir),
        COMPLETE_CACHE,
        "the killed build's half-written splits are removed"
    );
    fs::remove_dir_all(&dir).unwrap();
}
