//! The bad-input suite: inputs chosen to crash, hang or exhaust `qnn`, each run as a user would.
//! Every one must end within seconds and a few hundred MB, with exit code 0 or 1 — never a panic
//! (101) or an abort (134) — and a failure must be one `error:` line naming what is wrong.
//!
//! `cargo test -p qnn-cli --test bad_input -- --nocapture` prints each input's time and peak
//! memory (VmHWM, sampled every 2 ms while it runs).

mod common;

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Scratch, TINY_COLS, tiny};

const SECONDS: f64 = 30.0;
const PEAK_MIB: f64 = 500.0;
const ABSURD: &str = "1000000000000000000";

/// What an input must lead to.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exit 0.
    Success,
    /// Exit 1 with one `error:` line holding every fragment.
    Error(&'static [&'static str]),
    /// Either of the above (no fragments): the input is odd but not wrong.
    Either,
}

struct Run {
    code: Option<i32>,
    stderr: String,
    seconds: f64,
    peak_mib: f64,
}

/// Runs `qnn args` in the scratch directory, sampling its peak resident memory until it exits.
/// Output goes to files, so that a long message cannot fill a pipe and stall the child.
fn run(s: &Scratch, args: &[&str]) -> Run {
    let out = fs::File::create(s.path("stdout.txt")).unwrap();
    let err = fs::File::create(s.path("stderr.txt")).unwrap();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qnn"))
        .args(args)
        .current_dir(s.path(""))
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0.0f64;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Some(kib) = fs::read_to_string(&status_file).ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        }) {
            peak_kib = peak_kib.max(kib);
        }
        if started.elapsed().as_secs_f64() > 2.0 * SECONDS {
            let _ = child.kill();
            panic!("qnn {args:?} ran past {} s", 2.0 * SECONDS);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Run {
        code: status.code(),
        stderr: fs::read_to_string(s.path("stderr.txt")).unwrap_or_default(),
        seconds: started.elapsed().as_secs_f64(),
        peak_mib: peak_kib / 1024.0,
    }
}

/// Runs one input and checks it against `expect`; returns (seconds, peak MiB) for the report.
fn check(name: &str, s: &Scratch, args: &[&str], expect: Expect) -> (f64, f64) {
    check_within(name, s, args, expect, PEAK_MIB)
}

fn check_within(
    name: &str,
    s: &Scratch,
    args: &[&str],
    expect: Expect,
    peak_limit_mib: f64,
) -> (f64, f64) {
    let r = run(s, args);
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert!(
        !r.stderr.contains("panicked") && matches!(r.code, Some(0 | 1)),
        "{name}: exit {:?}\n{}",
        r.code,
        r.stderr
    );
    match (expect, r.code) {
        (Expect::Success, Some(0)) | (Expect::Either, Some(0)) => {}
        (Expect::Error(fragments), Some(1)) => {
            assert_eq!(
                errors.len(),
                1,
                "{name}: one error line expected:\n{}",
                r.stderr
            );
            for f in fragments {
                assert!(
                    errors[0].contains(f),
                    "{name}: `{f}` missing from {}",
                    errors[0]
                );
            }
        }
        (Expect::Either, Some(1)) => {
            assert_eq!(
                errors.len(),
                1,
                "{name}: one error line expected:\n{}",
                r.stderr
            );
        }
        _ => panic!(
            "{name}: expected {expect:?}, exit {:?}\n{}",
            r.code, r.stderr
        ),
    }
    assert!(r.seconds < SECONDS, "{name}: {:.1} s", r.seconds);
    assert!(r.peak_mib < peak_limit_mib, "{name}: {:.0} MiB", r.peak_mib);
    println!(
        "{name:<48} exit {:?}  {:6.2} s  {:6.1} MiB",
        r.code, r.seconds, r.peak_mib
    );
    (r.seconds, r.peak_mib)
}

/// Runs one input (see [`check`]) and adds its time and memory to the report.
fn record(
    report: &mut Vec<(String, f64, f64)>,
    name: String,
    s: &Scratch,
    args: &[&str],
    expect: Expect,
) {
    let (seconds, mib) = check(&name, s, args, expect);
    report.push((name, seconds, mib));
}

fn train_args() -> [&'static str; 5] {
    ["train", "--config", "config", "--expid", "E"]
}

/// The tiny sample with one experiment; `model` and `cols` are the parts under test.
fn tiny_run(s: &Scratch, model: &str, cols: &str) {
    s.write(
        "config/model_config.yaml",
        &format!(
            "E:\n  model: QNN\n  dataset_id: D\n  epochs: 1\n  embedding_dim: 8\n  num_layers: 1\n  \
             num_row: 2\n  batch_size: 32\n{model}"
        ),
    );
    s.dataset_config(&tiny("train_sample.csv"), &tiny("valid_sample.csv"), cols);
}

#[test]
fn every_bad_input_is_one_error_line_within_seconds_and_bounded_memory() {
    let s = Scratch::new("bad-input");
    let mut report: Vec<(String, f64, f64)> = Vec::new();

    // Every size key at 0, 1 and an absurd value. The keys that size an allocation must refuse
    // absurd values; the others may train (more epochs than early stopping lets run, a count
    // no token reaches), but within the same bounds.
    let model_keys: [(&str, Expect, Expect); 8] = [
        (
            "embedding_dim",
            Expect::Error(&["embedding_dim"]),
            Expect::Error(&["embedding_dim"]),
        ),
        ("num_layers", Expect::Either, Expect::Error(&["num_layers"])),
        (
            "num_row",
            Expect::Error(&["num_row"]),
            Expect::Error(&["num_row"]),
        ),
        (
            "num_heads",
            Expect::Error(&["num_heads"]),
            Expect::Error(&["num_heads"]),
        ),
        ("batch_size", Expect::Error(&["batch_size"]), Expect::Either),
        ("epochs", Expect::Either, Expect::Either),
        ("early_stop_patience", Expect::Either, Expect::Either),
        ("eval_steps", Expect::Error(&["eval_steps"]), Expect::Either),
    ];
    for (key, at_zero, absurd) in model_keys {
        for (value, expect) in [("0", at_zero), ("1", Expect::Success), (ABSURD, absurd)] {
            // num_heads must divide embedding_dim (8): 1 does, 0 and 1e18 do not.
            tiny_run(&s, &format!("  {key}: {value}\n"), TINY_COLS);
            record(
                &mut report,
                format!("{key}: {value}"),
                &s,
                &train_args(),
                expect,
            );
        }
    }
    for (key, value, expect) in [
        ("max_len", "0", Expect::Success),
        ("max_len", "1", Expect::Success),
        ("max_len", ABSURD, Expect::Error(&["max_len"])),
        ("min_categr_count", "0", Expect::Either),
        ("min_categr_count", "1", Expect::Success),
        ("min_categr_count", ABSURD, Expect::Either),
    ] {
        let cols = match key {
            "max_len" => TINY_COLS.replace("max_len: 3", &format!("max_len: {value}")),
            _ => TINY_COLS.replace(
                "type: categorical}",
                &format!("type: categorical, min_categr_count: {value}}}"),
            ),
        };
        tiny_run(&s, "", &cols);
        record(
            &mut report,
            format!("{key}: {value}"),
            &s,
            &train_args(),
            expect,
        );
    }

    // A sequence cell of two million tokens, with no max_len to cut it.
    let train = fs::read_to_string(tiny("train_sample.csv")).unwrap();
    let mut lines: Vec<String> = train.lines().map(str::to_string).collect();
    let long_cell: String = (0..2_000_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join("^");
    lines[5] = format!("{},{long_cell}", lines[5].rsplit_once(',').unwrap().0);
    let long = s.write("data/long_sequence.csv", &(lines.join("\n") + "\n"));
    tiny_run(&s, "", &TINY_COLS.replace(", max_len: 3", ""));
    s.dataset_config(
        long.to_str().unwrap(),
        &tiny("valid_sample.csv"),
        &TINY_COLS.replace(", max_len: 3", ""),
    );
    // The worst input of the suite (≈ 470 MiB in the debug build): the reader keeps the cell's
    // two million distinct tokens until the fitted length is checked. Bounded, not small.
    let name = "sequence cell of 2,000,000 tokens";
    let (seconds, mib) = check_within(
        name,
        &s,
        &train_args(),
        Expect::Error(&["click_sequence", "max_len"]),
        1024.0,
    );
    report.push((name.into(), seconds, mib));

    // YAML: an alias bomb (9^9 values) and 100,000 levels of nesting.
    let mut bomb =
        String::from("E:\n  model: QNN\n  dataset_id: D\nlol0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let p = format!("*a{}", level - 1);
        bomb.push_str(&format!(
            "lol{level}: &a{level} [{}]\n",
            [p.as_str(); 9].join(", ")
        ));
    }
    tiny_run(&s, "", TINY_COLS);
    s.write("config/model_config.yaml", &bomb);
    record(
        &mut report,
        "YAML alias bomb".into(),
        &s,
        &train_args(),
        Expect::Error(&["model_config.yaml"]),
    );
    s.write(
        "config/model_config.yaml",
        &format!(
            "E:\n  model: QNN\n  dataset_id: D\n  deep: {}1{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    );
    record(
        &mut report,
        "YAML nested 100,000 deep".into(),
        &s,
        &train_args(),
        Expect::Error(&["model_config.yaml"]),
    );

    // Numbers outside f32's range, and NaN without fill_na.
    let numeric = "    - {name: price, active: True, dtype: float, type: numeric}\n";
    for (name, value, fragments) in [
        ("price 1e39", "1e39", &["train.csv:3", "price"][..]),
        ("price -1e39", "-1e39", &["train.csv:3", "price"][..]),
        ("price NaN", "NaN", &["train.csv:3", "price", "fill_na"][..]),
    ] {
        let csv = s.write(
            "data/train.csv",
            &format!("clk,price\n0,1.5\n1,{value}\n0,2.5\n"),
        );
        tiny_run(&s, "", numeric);
        s.dataset_config(csv.to_str().unwrap(), csv.to_str().unwrap(), numeric);
        record(
            &mut report,
            name.into(),
            &s,
            &train_args(),
            Expect::Error(fragments),
        );
    }

    // A CSV of 10 MB in one line (no line break at all).
    let one_line = s.write("data/one_line.csv", &"x".repeat(10_000_000));
    tiny_run(&s, "", TINY_COLS);
    s.dataset_config(
        one_line.to_str().unwrap(),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    record(
        &mut report,
        "CSV of 10 MB in one line".into(),
        &s,
        &train_args(),
        Expect::Error(&["one_line.csv"]),
    );

    // A file that cannot be read (the kernel answers every read with an I/O error).
    tiny_run(&s, "", TINY_COLS);
    s.dataset_config("/proc/self/mem", &tiny("valid_sample.csv"), TINY_COLS);
    record(
        &mut report,
        "unreadable train file".into(),
        &s,
        &train_args(),
        Expect::Error(&["/proc/self/mem"]),
    );

    // An empty directory as --config.
    fs::create_dir_all(s.path("empty_config")).unwrap();
    record(
        &mut report,
        "empty directory as --config".into(),
        &s,
        &["train", "--config", "empty_config", "--expid", "E"],
        Expect::Error(&["empty_config"]),
    );

    // A model to predict with, then a results file that cannot be written (a directory).
    tiny_run(&s, "", TINY_COLS);
    record(
        &mut report,
        "train the tiny model".into(),
        &s,
        &train_args(),
        Expect::Success,
    );
    fs::create_dir_all(s.path("results.csv")).unwrap();
    record(
        &mut report,
        "results CSV that is a directory".into(),
        &s,
        &[
            "predict",
            "--model",
            "checkpoints/D/E.qnn",
            "--data",
            &tiny("test_sample.csv"),
            "--out",
            "results.csv",
        ],
        Expect::Error(&["results.csv"]),
    );

    // The model file with each header field altered.
    let model = fs::read(s.path("checkpoints/D/E.qnn")).unwrap();
    for (name, bytes) in altered_headers(&model) {
        fs::write(s.path("altered.qnn"), bytes).unwrap();
        record(
            &mut report,
            format!("model header: {name}"),
            &s,
            &["inspect", "--model", "altered.qnn"],
            Expect::Either,
        );
    }

    let worst_time = report.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    let worst_memory = report.iter().max_by(|a, b| a.2.total_cmp(&b.2)).unwrap();
    println!(
        "{} inputs; slowest: {} ({:.2} s); most memory: {} ({:.1} MiB)",
        report.len(),
        worst_time.0,
        worst_time.1,
        worst_memory.0,
        worst_memory.2
    );
}

/// The model file with each field of its safetensors header changed to something wrong, one at
/// a time: every metadata entry (garbage, empty; every number of the config zeroed and made
/// absurd) and every tensor's dtype, shape and data offsets.
fn altered_headers(model: &[u8]) -> Vec<(String, Vec<u8>)> {
    let len = u64::from_le_bytes(model[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&model[8..8 + len]).unwrap();
    let data = &model[8 + len..];
    let with = |header: &serde_json::Value| {
        let text = serde_json::to_vec(header).unwrap();
        let mut out = (text.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&text);
        out.extend_from_slice(data);
        out
    };
    let mut out = Vec::new();
    let object = header.as_object().unwrap();
    let meta = object["__metadata__"].as_object().unwrap();
    for key in meta.keys() {
        for value in ["x", ""] {
            let mut h = header.clone();
            h["__metadata__"][key] = value.into();
            out.push((format!("{key} = {value:?}"), with(&h)));
        }
    }
    let config: serde_json::Value = serde_json::from_str(meta["config"].as_str().unwrap()).unwrap();
    for (field, v) in config.as_object().unwrap() {
        if !v.is_number() {
            continue;
        }
        for value in [
            serde_json::json!(0),
            serde_json::json!(4_000_000_000_000u64),
            serde_json::json!(-1),
        ] {
            let mut c = config.clone();
            c[field] = value.clone();
            let mut h = header.clone();
            h["__metadata__"]["config"] = c.to_string().into();
            out.push((format!("config.{field} = {value}"), with(&h)));
        }
    }
    for name in object.keys().filter(|k| *k != "__metadata__").take(4) {
        for (field, value) in [
            ("dtype", serde_json::json!("F64")),
            ("dtype", serde_json::json!("U8")),
            (
                "shape",
                serde_json::json!([1_000_000_000_000u64, 1_000_000_000_000u64]),
            ),
            ("shape", serde_json::json!([0])),
            (
                "data_offsets",
                serde_json::json!([0, 1_000_000_000_000_000u64]),
            ),
            ("data_offsets", serde_json::json!([8, 4])),
        ] {
            let mut h = header.clone();
            h[name][field] = value.clone();
            out.push((format!("{name}.{field} = {value}"), with(&h)));
        }
    }
    out
}
