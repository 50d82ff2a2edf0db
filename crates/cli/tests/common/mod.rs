//! Helpers shared by the `qnn` binary's end-to-end tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn tiny(file: &str) -> String {
    repo_root()
        .join("static/examples/tiny_csv")
        .join(file)
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

/// A scratch directory that is the working directory of the commands run in it.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("qnn-cli-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("config")).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }

    pub fn write(&self, p: &str, text: &str) -> PathBuf {
        let path = self.path(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    pub fn qnn(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_qnn"))
            .args(args)
            .current_dir(&self.0)
            .output()
            .unwrap()
    }

    /// Runs `qnn args…`, which must succeed: its standard output.
    pub fn qnn_ok(&self, args: &[&str]) -> String {
        let o = self.qnn(args);
        assert!(o.status.success(), "qnn {args:?}:\n{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// A model config with the tiny experiment `E` on dataset `D`.
    pub fn model_config(&self, extra: &str) {
        self.write(
            "config/model_config.yaml",
            &format!(
                "Base:\n  model_root: ./checkpoints/\n  verbose: 1\nE:\n  model: QNN\n  dataset_id: D\n  \
                 batch_size: 32\n  embedding_dim: 8\n  num_layers: 1\n  num_row: 2\n  num_heads: 1\n  \
                 epochs: 2\n  embedding_regularizer: 1.e-5\n  monitor: AUC\n{extra}"
            ),
        );
    }

    pub fn dataset_config(&self, train: &str, valid: &str, cols: &str) {
        self.write(
            "config/dataset_config.yaml",
            &format!(
                "D:\n  data_root: ./data/\n  data_format: csv\n  train_data: {train}\n  valid_data: {valid}\n  \
                 test_data: {valid}\n  feature_cols:\n{cols}  label_col: {{name: clk, dtype: float}}\n"
            ),
        );
    }

    pub fn train(&self) -> Output {
        self.qnn(&["train", "--config", "config", "--expid", "E"])
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub const TINY_COLS: &str = "    - {name: [userid, adgroup_id, pid, cate_id, brand, pvalue_level], active: True, dtype: str, type: categorical}\n\
    \x20   - {name: price, active: True, dtype: float, type: numeric, fill_na: 0, normalizer: MinMaxScaler}\n\
    \x20   - {name: click_sequence, active: True, dtype: str, type: sequence, splitter: ^, max_len: 3}\n";

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The command failed with exactly one `error:` line naming every fragment.
pub fn assert_fails(o: &Output, fragments: &[&str]) {
    assert!(!o.status.success(), "expected failure:\n{}", text(o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{stderr}");
    for f in fragments {
        assert!(errors[0].contains(f), "`{f}` missing from: {}", errors[0]);
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}
