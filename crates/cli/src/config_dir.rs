//! Reading a FuxiCTR config directory: `model_config.yaml` or `model_config/*.yaml`, and the same
//! for `dataset_config` (spec §C.1).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use qnn_data::{ConfigFile, Experiment};

pub fn config_files(dir: &Path, stem: &str) -> Result<Vec<ConfigFile>> {
    let single = dir.join(format!("{stem}.yaml"));
    let paths: Vec<PathBuf> = if single.is_file() {
        vec![single]
    } else {
        let sub = dir.join(stem);
        let mut paths: Vec<PathBuf> = match fs::read_dir(&sub) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        paths.sort();
        paths
    };
    if paths.is_empty() {
        bail!(
            "{}: no {stem}.yaml and no {stem}/*.yaml in this config directory",
            dir.display()
        );
    }
    paths
        .into_iter()
        .map(|p| {
            let text =
                fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
            Ok(ConfigFile {
                name: p.display().to_string(),
                text,
            })
        })
        .collect()
}

/// FuxiCTR's `load_config(config_dir, expid)`.
pub fn load(dir: &Path, expid: &str) -> Result<Experiment> {
    let model = config_files(dir, "model_config")?;
    let dataset = config_files(dir, "dataset_config")?;
    Ok(Experiment::load(&model, &dataset, expid)?)
}
