//! gAUC and avgAUC through the CLI: `group_id` names a meta column, training reports and
//! monitors the grouped AUCs, and `qnn evaluate` recomputes them from the model file and the
//! CSV alone — checked here against a plain pairwise count over `qnn predict`'s output.

mod common;

use std::collections::BTreeMap;
use std::fs;

use common::{Scratch, assert_fails, text, tiny};

const COLS: &str = "    - {name: [adgroup_id, pid, cate_id, brand], active: True, dtype: str, type: categorical}\n\
    \x20   - {name: userid, active: True, dtype: str, type: meta}\n";

fn grouped_run(name: &str, keys: &str) -> Scratch {
    let s = Scratch::new(name);
    s.model_config(&format!("  group_id: userid\n{keys}"));
    s.dataset_config(&tiny("train_sample.csv"), &tiny("valid_sample.csv"), COLS);
    s
}

/// FuxiCTR's gAUC and avgAUC by their definitions: per user with both classes, the share of
/// (positive, negative) pairs ranked right (ties half).
fn by_hand(rows: &[(String, f64, f64)]) -> (f64, f64) {
    let mut users: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for (u, y, p) in rows {
        users.entry(u).or_default().push((*y, *p));
    }
    let (mut weighted, mut rows_used, mut plain, mut groups) = (0.0, 0.0, 0.0, 0.0);
    for v in users.values() {
        let pos: Vec<f64> = v.iter().filter(|r| r.0 == 1.0).map(|r| r.1).collect();
        let neg: Vec<f64> = v.iter().filter(|r| r.0 == 0.0).map(|r| r.1).collect();
        if pos.is_empty() || neg.is_empty() {
            continue;
        }
        let mut right = 0.0;
        for &a in &pos {
            for &b in &neg {
                right += if a > b {
                    1.0
                } else if a == b {
                    0.5
                } else {
                    0.0
                };
            }
        }
        let auc = right / (pos.len() * neg.len()) as f64;
        weighted += auc * v.len() as f64;
        rows_used += v.len() as f64;
        plain += auc;
        groups += 1.0;
    }
    (weighted / rows_used, plain / groups)
}

fn metric(line: &str, name: &str) -> f64 {
    let at = line.find(&format!("{name}: ")).unwrap() + name.len() + 2;
    line[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn training_and_evaluate_report_the_grouped_aucs_of_the_group_id_column() {
    let s = grouped_run(
        "grouped",
        "  metrics: [logloss, AUC, gAUC, avgAUC]\n  monitor: gAUC\n",
    );
    let o = s.train();
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains(" - gAUC: ") && out.contains(" - avgAUC: "),
        "{out}"
    );
    let log = fs::read_to_string(s.path("checkpoints/D/E.log")).unwrap();
    assert!(
        log.contains("[Metrics] gAUC: "),
        "the monitor is evaluated first: {log}"
    );

    let model = "checkpoints/D/E.qnn";
    let test = tiny("test_sample.csv");
    let line = s.qnn_ok(&["evaluate", "--model", model, "--data", &test]);
    assert!(line.starts_with("100 rows: logloss: "), "{line}");
    let (gauc, avgauc) = (metric(&line, "gAUC"), metric(&line, "avgAUC"));

    s.qnn_ok(&[
        "predict", "--model", model, "--data", &test, "--out", "p.csv",
    ]);
    let mut reader = csv::Reader::from_path(s.path("p.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (u, y, p) = (col("userid"), col("clk"), col("probability"));
    let rows: Vec<(String, f64, f64)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[u].to_string(),
                r[y].parse().unwrap(),
                r[p].parse().unwrap(),
            )
        })
        .collect();
    let (want_gauc, want_avgauc) = by_hand(&rows);
    // evaluate prints six decimals.
    assert!((gauc - want_gauc).abs() < 1e-6, "{gauc} vs {want_gauc}");
    assert!(
        (avgauc - want_avgauc).abs() < 1e-6,
        "{avgauc} vs {want_avgauc}"
    );

    // The same rows without the group column: the ungrouped metrics, the same values, and a
    // warning that says why gAUC is missing.
    let mut reader = csv::Reader::from_path(&test).unwrap();
    let header = reader.headers().unwrap().clone();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| &header[i] != "userid")
        .collect();
    let mut writer = csv::Writer::from_path(s.path("no_users.csv")).unwrap();
    writer
        .write_record(keep.iter().map(|&i| &header[i]))
        .unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        writer.write_record(keep.iter().map(|&i| &r[i])).unwrap();
    }
    writer.flush().unwrap();
    let o = s.qnn(&["evaluate", "--model", model, "--data", "no_users.csv"]);
    assert!(o.status.success(), "{}", text(&o));
    let ungrouped = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!ungrouped.contains("gAUC"), "{ungrouped}");
    for name in ["logloss", "AUC"] {
        assert_eq!(
            metric(&ungrouped, name),
            metric(&line, name),
            "{ungrouped} vs {line}"
        );
    }
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no `userid` column"), "{err}");
}

#[test]
fn grouped_metrics_without_a_group_id_name_the_key() {
    let s = Scratch::new("grouped-no-group");
    s.model_config("  metrics: [logloss, gAUC]\n");
    s.dataset_config(&tiny("train_sample.csv"), &tiny("valid_sample.csv"), COLS);
    assert_fails(&s.train(), &["`metrics`", "gAUC", "group_id"]);
    let s = grouped_run("grouped-missing-column", "");
    s.write(
        "config/model_config.yaml",
        &fs::read_to_string(s.path("config/model_config.yaml"))
            .unwrap()
            .replace("group_id: userid", "group_id: user_id"),
    );
    assert_fails(&s.train(), &["`group_id`", "user_id", "not an active meta"]);
}
