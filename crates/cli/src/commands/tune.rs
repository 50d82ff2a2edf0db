//! `qnn tune --config TUNER.yaml`: FuxiCTR's run_param_tuner.py grid search (spec §D.2), run one
//! experiment after another in this process.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use qnn_data::yaml::{self, Mapping, Value};
use tracing::{error, info};

use crate::commands::train::{Outcome, metric_line, record_result, run_experiment};
use crate::device::DeviceArg;
use crate::files::write_atomic;
use crate::{config_dir, logging};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tuner YAML: base_config (dir), base_expid, dataset_id, tuner_space {key: value | [values]}.
    #[arg(long)]
    pub config: PathBuf,
    /// Run only the experiments whose id contains this text.
    #[arg(long)]
    pub tag: Option<String>,
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// One generated experiment: its id, model block and dataset block.
#[derive(Debug, Clone, PartialEq)]
pub struct Combo {
    pub expid: String,
    pub model: Mapping,
    pub dataset_id: String,
    pub dataset: Mapping,
}

pub fn run(args: Args) -> Result<()> {
    logging::init();
    let path = &args.config;
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display().to_string();
    let tuner = match yaml::parse(&text) {
        Ok(Value::Map(m)) => m,
        Ok(_) => bail!("{name}: expected a mapping with base_config, base_expid, tuner_space"),
        Err(e) => bail!("{name}:{}: column {}: {}", e.line, e.column, e.message),
    };
    let combos = expand(&tuner, &name)?;
    let out_dir = path.with_extension("");
    write_configs(&out_dir, &combos)?;
    info!(
        "{} experiments written to {}",
        combos.len(),
        out_dir.display()
    );

    let mut ids: Vec<&str> = combos.iter().map(|c| c.expid.as_str()).collect();
    ids.sort();
    ids.retain(|id| args.tag.as_deref().is_none_or(|t| id.contains(t)));
    if ids.is_empty() {
        bail!(
            "no experiment id contains the tag {:?}",
            args.tag.unwrap_or_default()
        );
    }
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut failed = Vec::new();
    for id in &ids {
        info!("=== {id} ===");
        let result = config_dir::load(&out_dir, id).and_then(|exp| {
            let outcome = run_experiment(&exp, args.device, false, None)?;
            let command = format!(
                "qnn train --config {} --expid {id} (from qnn tune --config {})",
                out_dir.display(),
                path.display()
            );
            record_result(&out_dir, &command, &outcome)?;
            Ok(outcome)
        });
        match result {
            Ok(o) => outcomes.push(o),
            Err(e) => {
                error!("{id}: {e:#}");
                failed.push(id.to_string());
            }
        }
    }
    println!(
        "{:<40} {:>7} {:<36} test",
        "experiment", "epochs", "validation"
    );
    for o in &outcomes {
        println!(
            "{:<40} {:>7} {:<36} {}",
            o.expid,
            o.epochs,
            metric_line(&o.valid),
            o.test.as_deref().map_or("N.A.".into(), metric_line)
        );
    }
    if let Some(best) = outcomes
        .iter()
        .max_by(|a, b| a.monitor_score.total_cmp(&b.monitor_score))
    {
        println!(
            "best experiment (validation monitor): {} — {}",
            best.expid,
            metric_line(&best.valid)
        );
    }
    if varies_only_seed(&tuner) {
        for line in seed_sweep_summary(&outcomes) {
            println!("{line}");
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} experiments failed: {}",
            failed.len(),
            ids.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

fn blocks(dir: &Path, stem: &str) -> Result<Vec<(String, Mapping)>> {
    let mut out = Vec::new();
    for file in config_dir::config_files(dir, stem)? {
        match yaml::parse(&file.text) {
            Ok(Value::Map(root)) => {
                for e in root.entries() {
                    if let Value::Map(m) = &e.value {
                        out.push((e.key.clone(), m.clone()));
                    }
                }
            }
            Ok(_) => bail!("{}: expected a mapping of blocks", file.name),
            Err(e) => bail!(
                "{}:{}: column {}: {}",
                file.name,
                e.line,
                e.column,
                e.message
            ),
        }
    }
    Ok(out)
}

/// FuxiCTR's `enumerate_params`: every combination of `tuner_space`, dataset keys first.
pub fn expand(tuner: &Mapping, name: &str) -> Result<Vec<Combo>> {
    for key in tuner.keys() {
        if !["base_config", "base_expid", "dataset_id", "tuner_space"].contains(&key) {
            bail!(
                "{name}: key `{key}` is not a tuner key (base_config, base_expid, dataset_id, tuner_space)"
            );
        }
    }
    let get_str = |key: &str| -> Result<String> {
        match tuner.get(key) {
            Some(Value::Str(s)) => Ok(s.clone()),
            _ => bail!("{name}: key `{key}` must be given as a string"),
        }
    };
    let base_dir = PathBuf::from(get_str("base_config")?);
    let base_expid = get_str("base_expid")?;
    let model_blocks = blocks(&base_dir, "model_config")?;
    let mut model = Mapping::new();
    for block in ["Base", base_expid.as_str()] {
        if let Some((_, m)) = model_blocks.iter().rev().find(|(k, _)| k == block) {
            for e in m.entries() {
                model.insert(e.key.clone(), e.value.clone(), 0);
            }
        } else if block != "Base" {
            bail!(
                "{name}: key `base_expid`: no experiment `{block}` in {}",
                base_dir.display()
            );
        }
    }
    let dataset_id = match tuner.get("dataset_id") {
        Some(Value::Str(s)) => s.clone(),
        _ => match model.get("dataset_id") {
            Some(Value::Str(s)) => s.clone(),
            _ => bail!("{name}: no dataset_id in the tuner or the base experiment"),
        },
    };
    model.insert("dataset_id", Value::Str(dataset_id.clone()), 0);
    let dataset = blocks(&base_dir, "dataset_config")?
        .into_iter()
        .rev()
        .find(|(k, _)| *k == dataset_id)
        .map(|(_, m)| m)
        .with_context(|| {
            format!(
                "{name}: no dataset `{dataset_id}` in {}",
                base_dir.display()
            )
        })?;
    let Some(Value::Map(space)) = tuner.get("tuner_space") else {
        bail!("{name}: key `tuner_space` must be a mapping of settings to values");
    };
    let options = |v: &Value| match v {
        Value::List(items) if !items.is_empty() => items.clone(),
        other => vec![other.clone()],
    };
    let mut dataset_axes = Vec::new();
    for e in space.entries() {
        if dataset.get(&e.key).is_some() {
            dataset_axes.push((e.key.clone(), options(&e.value)));
        } else if model.get(&e.key).is_none() {
            bail!(
                "{name}:{}: key `{}` of tuner_space is in neither the base experiment nor the dataset",
                e.line,
                e.key
            );
        }
    }
    // Model axes follow the base experiment's key order, as FuxiCTR's itertools.product does.
    let model_axes: Vec<(String, Vec<Value>)> = model
        .keys()
        .filter_map(|k| {
            let v = space.get(k)?;
            (dataset.get(k).is_none()).then(|| (k.to_string(), options(v)))
        })
        .collect();

    let mut combos = Vec::new();
    let mut index = 0;
    for dataset_values in product(&dataset_axes) {
        let mut data = dataset.clone();
        for (k, v) in &dataset_values {
            data.insert(k.clone(), v.clone(), 0);
        }
        let data_id = if dataset_values.is_empty() {
            dataset_id.clone()
        } else {
            format!("{dataset_id}_{}", short_hash(&Value::Map(data.clone())))
        };
        for model_values in product(&model_axes) {
            index += 1;
            let mut params = model.clone();
            for (k, v) in &model_values {
                params.insert(k.clone(), v.clone(), 0);
            }
            params.insert("dataset_id", Value::Str(data_id.clone()), 0);
            let expid = format!(
                "{base_expid}_{index:03}_{}",
                short_hash(&Value::Map(params.clone()))
            );
            combos.push(Combo {
                expid,
                model: params,
                dataset_id: data_id.clone(),
                dataset: data.clone(),
            });
        }
    }
    Ok(combos)
}

fn product(axes: &[(String, Vec<Value>)]) -> Vec<Vec<(String, Value)>> {
    axes.iter().fold(vec![Vec::new()], |acc, (key, values)| {
        acc.iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push((key.clone(), v.clone()));
                    next
                })
            })
            .collect()
    })
}

/// 8 hex digits identifying a parameter set (FuxiCTR uses md5; any stable digest serves).
fn short_hash(v: &Value) -> String {
    format!("{:08x}", crc32fast::hash(v.to_string().as_bytes()))
}

fn write_configs(dir: &Path, combos: &[Combo]) -> Result<()> {
    let mut model = Mapping::new();
    let mut dataset = Mapping::new();
    for c in combos {
        model.insert(c.expid.clone(), Value::Map(c.model.clone()), 0);
        dataset.insert(c.dataset_id.clone(), Value::Map(c.dataset.clone()), 0);
    }
    write_atomic(
        &dir.join("model_config.yaml"),
        yaml::to_document(&model).as_bytes(),
    )?;
    write_atomic(
        &dir.join("dataset_config.yaml"),
        yaml::to_document(&dataset).as_bytes(),
    )?;
    Ok(())
}

/// Whether the tuner space varies `seed` alone (every other key has one value): the runs then
/// differ only in their random streams.
fn varies_only_seed(tuner: &Mapping) -> bool {
    let Some(Value::Map(space)) = tuner.get("tuner_space") else {
        return false;
    };
    let varied: Vec<&str> = space
        .entries()
        .iter()
        .filter(|e| matches!(&e.value, Value::List(l) if l.len() > 1))
        .map(|e| e.key.as_str())
        .collect();
    varied == ["seed"]
}

/// A seed sweep's spread: per metric, the mean ± sample standard deviation and the range over
/// the runs, on the test split when every run has one, else on validation. One run is a draw.
fn seed_sweep_summary(outcomes: &[Outcome]) -> Vec<String> {
    let on_test = !outcomes.is_empty() && outcomes.iter().all(|o| o.test.is_some());
    let scores = |o: &Outcome| -> Vec<(qnn_data::Metric, f64)> {
        if on_test {
            o.test.clone().unwrap_or_default()
        } else {
            o.valid.clone()
        }
    };
    let Some(first) = outcomes.first() else {
        return Vec::new();
    };
    let split = if on_test { "test" } else { "validation" };
    let mut lines = vec![format!(
        "seed sweep over {} seeds ({split}; mean ± sample standard deviation, min … max):",
        outcomes.len()
    )];
    for (metric, _) in scores(first) {
        let values: Vec<f64> = outcomes
            .iter()
            .filter_map(|o| {
                scores(o)
                    .iter()
                    .find(|(m, _)| *m == metric)
                    .map(|(_, v)| *v)
            })
            .collect();
        if let Some(qnn_data::Spread {
            mean,
            std,
            min,
            max,
            ..
        }) = qnn_data::Spread::of(&values)
        {
            lines.push(format!(
                "  {}: {mean:.6} ± {std:.6} ({min:.6} … {max:.6})",
                metric.name()
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::Metric;

    fn outcome(auc: f64, logloss: f64) -> Outcome {
        Outcome {
            expid: "E".into(),
            dataset_id: "D".into(),
            valid: vec![(Metric::Auc, 0.5)],
            test: Some(vec![(Metric::Logloss, logloss), (Metric::Auc, auc)]),
            monitor_score: 0.5,
            epochs: 1,
            seconds: 1.0,
            model_path: PathBuf::new(),
        }
    }

    #[test]
    fn a_seed_sweep_reports_mean_spread_and_range_by_hand() {
        // AUC 0.90, 0.92, 0.94: mean 0.92, sample std 0.02.
        let lines = seed_sweep_summary(&[
            outcome(0.90, 0.30),
            outcome(0.92, 0.28),
            outcome(0.94, 0.35),
        ]);
        assert_eq!(
            lines[0],
            "seed sweep over 3 seeds (test; mean ± sample standard deviation, min … max):"
        );
        assert_eq!(lines[2], "  AUC: 0.920000 ± 0.020000 (0.900000 … 0.940000)");
        // logloss 0.30, 0.28, 0.35: mean 0.31, std √((1e-4 + 9e-4 + 16e-4)/2) = 0.036056.
        assert_eq!(
            lines[1],
            "  logloss: 0.310000 ± 0.036056 (0.280000 … 0.350000)"
        );
    }

    #[test]
    fn only_a_space_that_varies_seed_alone_is_a_sweep() {
        let space = |text: &str| match yaml::parse(text).unwrap() {
            Value::Map(m) => m,
            _ => unreachable!(),
        };
        assert!(varies_only_seed(&space(
            "tuner_space:\n  seed: [1, 2, 3]\n  num_row: 2\n"
        )));
        assert!(!varies_only_seed(&space(
            "tuner_space:\n  seed: [1, 2]\n  num_row: [1, 2]\n"
        )));
        assert!(!varies_only_seed(&space(
            "tuner_space:\n  num_row: [1, 2]\n"
        )));
    }
}
