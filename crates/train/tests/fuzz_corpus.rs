//! The fuzz targets' corpora (`tests/fuzz`, cargo-fuzz) replayed as a regression test: every input
//! the fuzzer kept, and every crash it ever found (`regressions/`), must give a result or an
//! error, never a panic. Then a short fuzz run on every `cargo test` (CI's): random mutations of
//! the corpora, libFuzzer's kinds, through the same targets.

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

/// libFuzzer's basic mutations, a few at a time: flip, set, insert, erase, duplicate a run of
/// bytes, or splice in a piece of another input.
fn mutate(input: &[u8], other: &[u8], rng: &mut impl rand::Rng) -> Vec<u8> {
    const INTERESTING: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, b'\n', b',', b':'];
    let mut out = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = rng.random_range(0..=out.len());
        match rng.random_range(0..6) {
            0 if at < out.len() => out[at] ^= 1 << rng.random_range(0..8),
            1 if at < out.len() => out[at] = INTERESTING[rng.random_range(0..INTERESTING.len())],
            2 => out.insert(at, rng.random()),
            3 if at < out.len() => {
                let end = rng.random_range(at..=out.len().min(at + 16));
                out.drain(at..end);
            }
            4 if at < out.len() => {
                let end = rng.random_range(at..=out.len().min(at + 16));
                let run = out[at..end].to_vec();
                out.splice(at..at, run);
            }
            _ if !other.is_empty() => {
                let from = rng.random_range(0..other.len());
                let end = rng.random_range(from..=other.len().min(from + 64));
                out.splice(at..at, other[from..end].iter().copied());
            }
            _ => {}
        }
    }
    out
}

/// `runs` mutated corpus inputs through `target`; a panic names the seed and keeps the input.
fn short_fuzz(target: &str, run: fn(&[u8]) -> bool, runs: usize) {
    use rand::{Rng, SeedableRng};
    let seed = std::env::var("QNN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let corpus: Vec<Vec<u8>> = inputs(target)
        .iter()
        .map(|p| std::fs::read(p).expect("read corpus file"))
        .collect();
    for _ in 0..runs {
        let input = &corpus[rng.random_range(0..corpus.len())];
        let other = &corpus[rng.random_range(0..corpus.len())];
        let mutated = mutate(input, other, &mut rng);
        if std::panic::catch_unwind(|| run(&mutated)).is_err() {
            let kept = std::env::temp_dir().join(format!("qnn-fuzz-{target}-{seed}"));
            std::fs::write(&kept, &mutated).expect("keep the crashing input");
            panic!(
                "a mutated input panics the {target} target (QNN_FUZZ_SEED={seed}); it is in {}: \
                 fix the bug, then add it to tests/fuzz/regressions/{target}/",
                kept.display()
            );
        }
    }
}

#[test]
fn short_fuzz_of_the_config_reader() {
    short_fuzz("config", harness::config, 200_000);
}

#[test]
fn short_fuzz_of_the_csv_reader() {
    short_fuzz("csv", harness::csv, 30_000);
}

#[test]
fn short_fuzz_of_the_model_file_reader() {
    short_fuzz("model_file", harness::model_file, 100_000);
}

#[test]
fn short_fuzz_of_the_messages() {
    short_fuzz("messages", harness::message, 500_000);
}

/// The mutator finds a planted bug: a target that panics on an input with a NUL byte, from a
/// corpus with none.
#[test]
fn the_short_fuzz_finds_a_planted_panic() {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let found = (0..1_000).any(|_| mutate(b"a,b\n1,2\n", b"x", &mut rng).contains(&0));
    assert!(found);
}
