//! The fuzz targets' corpora (`tests/fuzz`, cargo-fuzz) replayed as a regression test: every input
//! the fuzzer kept, and every crash it ever found (`regressions/`), must give a result or an
//! error, never a panic.

use std::path::{Path, PathBuf};

#[path = "../../../tests/fuzz/harness.rs"]
mod harness;

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) {
            files.extend(entries.map(|e| e.expect("corpus entry").path()));
        }
    }
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8]) -> bool) {
    let files = inputs(target);
    assert!(files.len() > 1, "the {target} corpus is missing");
    let mut accepted = 0;
    for path in &files {
        let bytes = std::fs::read(path).expect("read corpus file");
        match std::panic::catch_unwind(|| run(&bytes)) {
            Ok(ok) => accepted += usize::from(ok),
            Err(_) => panic!("{} panics the {target} target", path.display()),
        }
    }
    // The seeds (a model `qnn train` wrote; the authors' configs) are accepted, so the replay
    // reads real inputs, not only noise.
    assert!(accepted > 0, "no {target} corpus file is accepted");
}

#[test]
fn model_file_corpus_gives_models_or_errors() {
    replay("model_file", harness::model_file);
}

/// The model-file target reads every network's files: a zoo seed (an FM `qnn train` wrote on
/// the bundled sample) is accepted, and so is a QNN's.
#[test]
fn the_model_file_target_reads_a_zoo_network() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/corpus/model_file");
    let zoo = std::fs::read(corpus.join("seed_fm_tiny_csv.qnn")).expect("the FM seed");
    assert!(harness::model_file(&zoo), "the FM seed is refused");
}

#[test]
fn config_corpus_gives_configs_or_errors() {
    replay("config", harness::config);
}

#[test]
fn csv_corpus_gives_splits_or_errors() {
    replay("csv", harness::csv);
}

#[test]
fn message_corpus_gives_messages_or_errors() {
    replay("messages", harness::message);
}

/// The seeds are real messages: the page's `Train` on each shipped config's texts, the worker's
/// results with interaction maps; maps the page could not draw are refused when read.
#[test]
fn the_message_seeds_read_and_bad_maps_do_not() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/corpus/messages");
    for seed in [
        "seed_train_tiny.json",
        "seed_finished.json",
        "seed_model_loaded.json",
    ] {
        let bytes = std::fs::read(corpus.join(seed)).expect("a message seed");
        assert!(harness::message(&bytes), "{seed} is refused");
    }
    let finished = std::fs::read_to_string(corpus.join("seed_finished.json")).unwrap();
    // One value short in one map: not a message the page can draw.
    let short = finished.replace("[1, 0, 0, 0, 1, 0, 0, 0, 1]", "[1, 0, 0, 0, 1, 0, 0, 0]");
    assert_ne!(short, finished);
    assert!(serde_json::from_str::<qnn_protocol::FromWorker>(&short).is_err());
}
