//! Preprocessing throughput and peak memory on a Frappe-schema CSV (issue: "Measure").
//!
//! `cargo bench -p qnn-data --bench preprocess -- [--rows N]` writes a synthetic CSV with Frappe's
//! header and vocabulary sizes (label + 10 integer-coded categorical columns, CRLF like the real
//! file) and measures, each phase in its own process so that peak RSS is per phase:
//! - `csv-parse`: the csv crate reading every record (the floor any CSV pipeline pays);
//! - `qnn-preprocess`: QNN Lab's pipeline — read + intern, fit vocabularies on all rows
//!   (min_categr_count 2), encode to id columns.
//!
//! `benches/fuxictr_preprocess.py` runs FuxiCTR 2.0.1's own FeatureProcessor on the same file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use qnn_data::config::{ConfigFile, Experiment};
use qnn_data::processor::{encode, fit, training_columns};
use qnn_data::synthetic::FRAPPE_VOCAB_SIZES;
use qnn_data::{DatasetSpec, RawTable};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FIELDS: [&str; 10] = [
    "user",
    "item",
    "daytime",
    "weekday",
    "isweekend",
    "homework",
    "cost",
    "weather",
    "country",
    "city",
];

fn csv_path(rows: usize) -> PathBuf {
    std::env::temp_dir().join(format!("qnn-frappe-schema-{rows}.csv"))
}

fn write_csv(path: &Path, rows: usize) {
    if path.exists() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
    write!(out, "label,{}\r\n", FIELDS.join(",")).unwrap();
    let mut offset = 0;
    let offsets: Vec<usize> = FRAPPE_VOCAB_SIZES
        .iter()
        .map(|v| {
            let o = offset;
            offset += v;
            o
        })
        .collect();
    for _ in 0..rows {
        write!(out, "{}", rng.random_range(0..2)).unwrap();
        for (v, o) in FRAPPE_VOCAB_SIZES.iter().zip(&offsets) {
            // Skewed like real ids: small ids are frequent.
            let u: f64 = rng.random();
            write!(out, ",{}", o + ((u * u * (*v as f64)) as usize).min(v - 1)).unwrap();
        }
        out.write_all(b"\r\n").unwrap();
    }
    out.flush().unwrap();
    drop(out);
    std::fs::rename(tmp, path).unwrap();
}

fn spec() -> DatasetSpec {
    let dataset = format!(
        "D:\n  data_format: csv\n  min_categr_count: 2\n  feature_cols:\n    \
         [{{name: [{}], active: True, dtype: float, type: categorical}}]\n  \
         label_col: {{name: label, dtype: float}}\n",
        FIELDS.join(", ")
    );
    let exp = Experiment::load(
        &[ConfigFile {
            name: "m".into(),
            text: "E:\n  dataset_id: D\n".into(),
        }],
        &[ConfigFile {
            name: "d".into(),
            text: dataset,
        }],
        "E",
    )
    .unwrap();
    DatasetSpec::from_experiment(&exp).unwrap().0
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Runs one phase in this process and prints `phase seconds peak_mib`.
fn phase(name: &str, path: &Path) {
    let started = Instant::now();
    match name {
        "csv-parse" => {
            let mut reader = csv::Reader::from_path(path).unwrap();
            let mut record = csv::ByteRecord::new();
            let mut fields = 0usize;
            while reader.read_byte_record(&mut record).unwrap() {
                fields += record.len();
            }
            assert!(fields > 0);
        }
        "qnn-preprocess" => {
            let spec = spec();
            let file =
                std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).unwrap());
            let table =
                RawTable::read(file, "bench.csv", &training_columns(&spec), &mut |_| {}).unwrap();
            let rows: Vec<usize> = (0..table.len()).collect();
            let map = fit(&spec, &table, &rows).unwrap();
            let data = encode(&map, &table, &rows).unwrap();
            assert_eq!(data.len(), table.len());
        }
        other => panic!("unknown phase {other}"),
    }
    println!(
        "{name} {} {}",
        started.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        phase(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    let rows = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1_000_000usize);
    let path = csv_path(rows);
    write_csv(&path, rows);
    let mib = std::fs::metadata(&path).unwrap().len() as f64 / (1 << 20) as f64;
    println!("{rows} rows, {mib:.1} MiB: {}", path.display());
    let exe = std::env::current_exe().unwrap();
    let mut results = Vec::new();
    for name in ["csv-parse", "qnn-preprocess"] {
        // Best of three runs, each a fresh process.
        let best = (0..3)
            .map(|_| {
                let out = std::process::Command::new(&exe)
                    .args(["--phase", name, path.to_str().unwrap()])
                    .output()
                    .unwrap();
                let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
                let parts: Vec<f64> = line
                    .split(' ')
                    .skip(1)
                    .map(|v| v.parse().unwrap())
                    .collect();
                (parts[0], parts[1])
            })
            .fold((f64::INFINITY, 0.0), |a, b| if b.0 < a.0 { b } else { a });
        results.push((name, best));
    }
    println!("| phase | seconds | rows/s | peak RSS |");
    println!("|---|---:|---:|---:|");
    for (name, (secs, mib)) in &results {
        println!(
            "| {name} | {secs:.2} | {:.0} | {mib:.0} MiB |",
            rows as f64 / secs
        );
    }
    let (parse, full) = (results[0].1.0, results[1].1.0);
    println!(
        "qnn-preprocess takes {:.2}× the time of a bare CSV parse",
        full / parse
    );
    if let Some((secs, mib)) = fuxictr_baseline(&args, &path) {
        println!(
            "| fuxictr-preprocess (FuxiCTR 2.0.1, pandas) | {secs:.2} | {:.0} | {mib:.0} MiB |",
            rows as f64 / secs
        );
        println!(
            "qnn-preprocess vs FuxiCTR: {:.1}× the speed, {:.2}× the peak memory",
            secs / full,
            results[1].1.1 / mib
        );
    }
}

/// FuxiCTR's FeatureProcessor on the same file, when a Python with fuxictr is at hand
/// (`--python PATH`, default `~/.cache/qnn-lab/torch-venv/bin/python`).
fn fuxictr_baseline(args: &[String], csv: &Path) -> Option<(f64, f64)> {
    let python = args
        .iter()
        .position(|a| a == "--python")
        .and_then(|i| args.get(i + 1).map(PathBuf::from))
        .or_else(|| {
            let home = std::env::var_os("HOME")?;
            Some(Path::new(&home).join(".cache/qnn-lab/torch-venv/bin/python"))
        })?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fuxictr_preprocess.py");
    let mut best: Option<(f64, f64)> = None;
    for _ in 0..3 {
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(csv)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "FuxiCTR baseline skipped: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("failed")
            );
            return None;
        }
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let parts: Vec<f64> = line
            .split(' ')
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let run = (*parts.first()?, *parts.get(1)?);
        best = Some(best.map_or(run, |b| if run.0 < b.0 { run } else { b }));
    }
    best
}
