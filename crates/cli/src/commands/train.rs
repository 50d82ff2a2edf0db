//! `qnn train --config DIR --expid ID`: FuxiCTR's run_expid.py.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use qnn_data::{Experiment, Metric};
use qnn_model::ParamStore;
use qnn_train::{Session, TrainEvent, TrainState, Trainer, checkpoint};
use qnn_zoo::{NetworkConfig, NetworkFile};
use tracing::{info, warn};

use crate::device::DeviceArg;
use crate::files::{append_line, timestamp, try_lock, write_atomic};
use crate::{config_dir, data, logging};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// FuxiCTR config directory (model_config.yaml and dataset_config.yaml, or folders of them).
    #[arg(long)]
    pub config: PathBuf,
    /// Experiment id: a block of model_config.yaml.
    #[arg(long)]
    pub expid: String,
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Continue the run from its last saved training state (`model_root/dataset_id/EXPID.state`,
    /// written at every evaluation) instead of starting over; starts over when there is none.
    #[arg(long)]
    pub resume: bool,
    /// Stop at the first evaluation after this many training steps (benchmarks and smoke runs:
    /// set `eval_steps` to the same number), then evaluate on the test data as usual.
    #[arg(long)]
    pub max_steps: Option<usize>,
}

/// What one experiment produced.
#[derive(Debug)]
pub struct Outcome {
    pub expid: String,
    pub dataset_id: String,
    pub valid: Vec<(Metric, f64)>,
    pub test: Option<Vec<(Metric, f64)>>,
    /// The training monitor on the validation split (higher is better after `monitor_mode`).
    pub monitor_score: f64,
    pub epochs: usize,
    pub seconds: f64,
    pub model_path: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    logging::init();
    let exp = config_dir::load(&args.config, &args.expid)?;
    let command = format!(
        "qnn train --config {} --expid {} --device {}",
        args.config.display(),
        args.expid,
        format!("{:?}", args.device).to_lowercase()
    );
    let outcome = run_experiment(&exp, args.device, args.resume, args.max_steps)?;
    record_result(&args.config, &command, &outcome)?;
    println!("validation: {}", metric_line(&outcome.valid));
    if let Some(test) = &outcome.test {
        println!("test:       {}", metric_line(test));
    }
    println!(
        "{} epochs in {:.1} s; model saved to {}",
        outcome.epochs,
        outcome.seconds,
        outcome.model_path.display()
    );
    Ok(())
}

/// FuxiCTR's metric line: `logloss: 0.133129 - AUC: 0.986210`.
pub fn metric_line(metrics: &[(Metric, f64)]) -> String {
    metrics
        .iter()
        .map(|(m, v)| format!("{}: {v:.6}", m.name()))
        .collect::<Vec<_>>()
        .join(" - ")
}

/// Appends FuxiCTR's results line to `<basename of the config dir>.csv` in the working directory.
pub fn record_result(config: &Path, command: &str, o: &Outcome) -> Result<()> {
    let base = config
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "results".into());
    let line = format!(
        "{},[command] {command},[exp_id] {},[dataset_id] {},[train] N.A.,[val] {},[test] {}",
        timestamp(),
        o.expid,
        o.dataset_id,
        metric_line(&o.valid),
        o.test.as_deref().map_or("N.A.".into(), metric_line)
    );
    let mut path = PathBuf::from(format!("{base}.csv"));
    if holds_other_data(&path) {
        // FuxiCTR's name would append to a user's file (a config dir named like the data).
        let other = PathBuf::from(format!("{base}.results.csv"));
        warn!(
            "{} is not a results file (its first line is not a results line); appending the \
             results to {} instead",
            path.display(),
            other.display()
        );
        path = other;
        if holds_other_data(&path) {
            bail!(
                "cannot record the results: {base}.csv and {} both hold other data",
                path.display()
            );
        }
    }
    append_line(&path, &line)?;
    info!("Results appended to {}", path.display());
    Ok(())
}

/// Whether `path` exists with content that is not FuxiCTR results lines
/// (`20261129-083412,[command] …`).
fn holds_other_data(path: &Path) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::new();
    if file.take(64).read_to_end(&mut head).is_err() || head.is_empty() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    let stamp = head.get(..15).unwrap_or("");
    let looks_like_stamp = stamp.len() == 15
        && stamp.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    !(looks_like_stamp && head[15..].starts_with(",[command] "))
}

/// Runs one experiment end to end: data, training, best-model reload, valid/test metrics, model
/// file. Logs go to `model_root/dataset_id/model_id.log`; at every evaluation the best model so
/// far and the training state are written beside it (see [`Checkpoints`]).
pub fn run_experiment(
    exp: &Experiment,
    device_arg: DeviceArg,
    resume: bool,
    max_steps: Option<usize>,
) -> Result<Outcome> {
    let started = web_time::Instant::now();
    let session = Session::new(exp)?;
    let (model_config, train_config, spec) = (&session.network, &session.train, &session.spec);
    let model_root = exp
        .string("model_root")?
        .unwrap_or_else(|| "./checkpoints/".into());
    let run_dir = Path::new(&model_root).join(&spec.dataset_id);
    // Two processes training the same experiment would overwrite each other's model and state.
    let lock_path = run_dir.join(format!(".{}.lock", exp.expid));
    let Some(_run_lock) = try_lock(&lock_path)? else {
        bail!(
            "experiment `{}` is being trained by another qnn process (it holds {}); give this \
             run another --expid or wait for that one",
            exp.expid,
            lock_path.display()
        );
    };
    let log_path = run_dir.join(format!("{}.log", exp.expid));
    logging::log_to(Some(&log_path), resume)?;
    let result = (|| {
        let mut params: Vec<(String, String)> = exp
            .params()
            .entries()
            .iter()
            .map(|e| (e.key.clone(), e.value.python_str()))
            .collect();
        params.sort();
        let params: serde_json::Map<_, _> = params
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        info!("Params: {}", serde_json::Value::Object(params));
        for note in &session.notes {
            warn!("{note}");
        }
        let device = device_arg.device()?;
        let splits = data::prepare(spec, train_config.seed)?;
        // Preprocessing's token counts are gone: give their pages back before training (a
        // Criteo-size fit leaves gigabytes that training would not reuse).
        qnn_alloc::release_free_memory();
        let data = session.splits(splits)?;
        info!(
            "Train samples: {}, valid samples: {}, test samples: {}",
            data.train.len(),
            data.valid.len(),
            data.test.as_ref().map_or(0, |t| t.len())
        );
        let train_len = data.train.len();
        let checkpoints = Checkpoints {
            best: run_dir.join(format!("{}.{}", exp.expid, qnn_model::file::EXTENSION)),
            state: run_dir.join(format!("{}.{}", exp.expid, checkpoint::EXTENSION)),
            config: model_config.clone(),
            feature_map: data.feature_map.clone(),
            expid: exp.expid.clone(),
            dataset_id: spec.dataset_id.clone(),
        };
        let saved = if resume { checkpoints.load()? } else { None };
        let mut trainer = session.trainer(&data.feature_map, data.train, data.valid, &device)?;
        if let Some((state, best)) = saved {
            let p = &state.progress;
            info!(
                "Resuming from {} (epoch {}, batch {}, step {})",
                checkpoints.state.display(),
                p.epoch,
                p.batch,
                p.global_step
            );
            trainer
                .restore(state, best)
                .with_context(|| format!("cannot resume from {}", checkpoints.state.display()))?;
        }
        info!(
            "Total number of parameters: {}.",
            trainer.model().num_parameters()
        );
        let batches = trainer.batches_per_epoch();
        info!("Start training: {batches} batches/epoch");
        drive(&mut trainer, train_len, &checkpoints, max_steps)?;
        let finished = pollster::block_on(session.finish(
            trainer,
            data.feature_map,
            data.test.as_ref(),
            &format!("qnn {}", env!("CARGO_PKG_VERSION")),
        ))?;
        let report = &finished.report;
        info!("Training finished.");
        info!("[Metrics] {}", metric_line(&report.valid));
        if let Some(test) = &report.test {
            info!("******** Test evaluation ********");
            info!("[Metrics] {}", metric_line(test));
        }
        let model_path = checkpoints.best.clone();
        finished
            .file
            .save(&model_path)
            .with_context(|| format!("cannot save the model to {}", model_path.display()))?;
        info!("Model saved to {}", model_path.display());
        checkpoints.remove_state()?;
        Ok(Outcome {
            expid: exp.expid.clone(),
            dataset_id: spec.dataset_id.clone(),
            valid: report.valid.clone(),
            test: report.test.clone(),
            monitor_score: report.monitor_score,
            epochs: finished.epochs_run,
            seconds: started.elapsed().as_secs_f64(),
            model_path,
        })
    })();
    if let Err(e) = &result {
        tracing::error!(target: logging::LOG_FILE_ONLY, "{e:#}");
    }
    logging::log_to(None, false)?;
    result
}

/// Where a run keeps what survives its process: the best model so far (a complete model file,
/// usable by `qnn evaluate` and `predict` while training goes on; the final one replaces it) and
/// the latest training state. Both are replaced atomically at each evaluation, the model first,
/// so that a state never points at a best model that is not on disk yet.
struct Checkpoints {
    best: PathBuf,
    state: PathBuf,
    config: NetworkConfig,
    feature_map: qnn_data::FeatureMap,
    expid: String,
    dataset_id: String,
}

impl Checkpoints {
    fn save_best(&self, weights: &ParamStore, epoch: usize, monitor: f64) -> Result<()> {
        NetworkFile {
            config: self.config.clone(),
            feature_map: self.feature_map.clone(),
            weights: weights.clone(),
            info: serde_json::json!({
                "expid": self.expid,
                "dataset_id": self.dataset_id,
                "in_progress": true,
                "epoch": epoch,
                "monitor": monitor,
            }),
        }
        .save(&self.best)
        .with_context(|| format!("cannot save the best model to {}", self.best.display()))
    }

    fn save_state(&self, trainer: &Trainer) -> Result<()> {
        let started = web_time::Instant::now();
        let bytes = pollster::block_on(trainer.state())?.to_bytes()?;
        write_atomic(&self.state, &bytes)?;
        info!(
            "Training state saved to {} ({:.1} MB in {:.2} s)",
            self.state.display(),
            bytes.len() as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// The saved state and the best weights it goes with; `None` when there is no state.
    fn load(&self) -> Result<Option<(TrainState, Option<ParamStore>)>> {
        let bytes = match std::fs::read(&self.state) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                info!(
                    "No training state at {}: starting from the beginning",
                    self.state.display()
                );
                return Ok(None);
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.state.display()));
            }
        };
        let state = TrainState::from_bytes(&bytes)
            .with_context(|| format!("cannot resume from {}", self.state.display()))?;
        let best = if state.progress.best_monitor.is_some() {
            let file = NetworkFile::load(&self.best).with_context(|| {
                format!(
                    "the best model of the saved run is unreadable; resume needs it beside {}",
                    self.state.display()
                )
            })?;
            if file.config != self.config || file.feature_map != self.feature_map {
                bail!(
                    "{} belongs to another run than {} (its config or feature map differs)",
                    self.best.display(),
                    self.state.display()
                );
            }
            Some(file.weights)
        } else {
            None
        };
        Ok(Some((state, best)))
    }

    /// A finished run needs no state (at Criteo scale it is several GB).
    fn remove_state(&self) -> Result<()> {
        match std::fs::remove_file(&self.state) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", self.state.display()))
            }
            _ => Ok(()),
        }
    }
}

/// Steps the trainer to the end, logging FuxiCTR's lines, drawing a bar per epoch and saving the
/// checkpoints at each evaluation.
fn drive(
    trainer: &mut Trainer,
    train_len: usize,
    checkpoints: &Checkpoints,
    max_steps: Option<usize>,
) -> Result<()> {
    let mut steps = 0usize;
    let style = ProgressStyle::with_template(
        "epoch {prefix} [{bar:30}] {pos}/{len} batches, {msg} (eta {eta})",
    )
    .expect("a valid template")
    .progress_chars("=> ");
    let mut bar: Option<ProgressBar> = None;
    let mut last_rate = 0.0;
    let mut best_saved: Option<usize> = None;
    while !trainer.is_finished() {
        let mut evaluated = false;
        let events = pollster::block_on(trainer.step()).map_err(|e| match e {
            qnn_train::TrainError::Diverged { .. } => {
                let kept = match best_saved {
                    Some(epoch) => format!(
                        "the best model so far (epoch {epoch}) is kept in {}",
                        checkpoints.best.display()
                    ),
                    None => "no evaluation had run yet, so this run saved no model".into(),
                };
                anyhow::anyhow!(
                    "{e}; {kept}. A lower learning_rate or a smaller max_gradient_norm may help"
                )
            }
            other => other.into(),
        })?;
        for event in events {
            match event {
                TrainEvent::EpochStarted { epoch, batches } => {
                    info!("Epoch={epoch} start");
                    let b = logging::progress().add(ProgressBar::new(batches as u64));
                    b.set_style(style.clone());
                    b.set_prefix(epoch.to_string());
                    bar = Some(b);
                }
                TrainEvent::Step {
                    batch,
                    samples_per_sec,
                    loss,
                    ..
                } => {
                    steps += 1;
                    last_rate = samples_per_sec;
                    if let Some(b) = &bar {
                        b.set_position(batch as u64);
                        let loss = loss.map_or(String::new(), |l| format!(", loss {l:.4}"));
                        b.set_message(format!("{samples_per_sec:.0} samples/s{loss}"));
                    }
                }
                TrainEvent::Evaluated {
                    epoch,
                    batch,
                    train_loss,
                    metrics,
                    monitor,
                    improved,
                    checkpointed,
                } => {
                    evaluated = true;
                    info!("Train loss: {train_loss:.6}");
                    info!("Evaluation @epoch {epoch} - batch {batch}: ");
                    info!("[Metrics] {}", metric_line(&metrics));
                    if let (true, Some(weights)) = (checkpointed, trainer.checkpoint()) {
                        checkpoints.save_best(weights, epoch, monitor)?;
                        best_saved = Some(epoch);
                    }
                    if improved {
                        info!("Save best model: monitor={monitor:.6}");
                    } else {
                        info!("Monitor={monitor:.6} STOP!");
                    }
                }
                TrainEvent::LearningRateReduced { learning_rate } => {
                    info!("Reduce learning rate on plateau: {learning_rate:.6}");
                }
                TrainEvent::EarlyStopped { epoch } => info!("Epoch={epoch} early stop"),
                TrainEvent::EpochEnded { epoch } => {
                    if let Some(b) = bar.take() {
                        b.finish_and_clear();
                    }
                    info!("Epoch={epoch} end ({last_rate:.0} samples/s over {train_len} samples)");
                }
                TrainEvent::Finished => {
                    if let Some(b) = bar.take() {
                        b.finish_and_clear();
                    }
                }
            }
        }
        if evaluated {
            checkpoints.save_state(trainer)?;
            if max_steps.is_some_and(|max| steps >= max) {
                info!("Stop after {steps} steps (--max-steps)");
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
                trainer.stop();
            }
        }
    }
    Ok(())
}
