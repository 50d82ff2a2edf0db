//! The training loop of FuxiCTR 2.0.1's `BaseModel.fit` (spec §C.7), driven one step at a time.
//!
//! Nothing here blocks on the device: every read is awaited, so the same loop runs under a
//! native executor (the CLI) and in a browser worker. Callers render the returned events.

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Gradients, Tensor};
use qnn_data::{EncodedDataset, EpochOrder, FeatureMap, Metric, Task};
use qnn_model::{
    DropoutKey, InputLayout, Mode, ModelInput, ParamRef, ParamStore, output, read_values,
};
use qnn_zoo::{Network, NetworkConfig};
use web_time::Instant;

use crate::TrainError;
use crate::checkpoint::{Progress, RunIdentity, StateError, TrainState};
use crate::config::TrainConfig;
use crate::evaluate::{FinalReport, final_report, predict, scores};
use crate::plateau::PlateauTracker;

/// Adam's ε as PyTorch sets it (Burn's default is 1e-5).
const ADAM_EPSILON: f32 = 1e-8;

/// What happened during one call of [`Trainer::step`].
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    EpochStarted {
        epoch: usize,
        batches: usize,
    },
    Step {
        epoch: usize,
        /// 1-based batch index within the epoch.
        batch: usize,
        batches: usize,
        global_step: usize,
        /// Mean training loss since the last read, when this step read it.
        loss: Option<f64>,
        /// Mean |p₁ − p₂| of the two dropout passes since the last read (the Self-Ensemble
        /// gap), read together with `loss`; never for runs without the Self-Ensemble loss.
        ensemble_gap: Option<f64>,
        /// Training throughput since the epoch started.
        samples_per_sec: f64,
    },
    Evaluated {
        epoch: usize,
        batch: usize,
        /// Mean total loss (SE terms + regularizer) since the previous evaluation.
        train_loss: f64,
        metrics: Vec<(Metric, f64)>,
        monitor: f64,
        improved: bool,
        /// The weights kept as the run's result changed (the best ones under
        /// `save_best_only`): a caller that saves checkpoints writes them now.
        checkpointed: bool,
    },
    LearningRateReduced {
        learning_rate: f64,
    },
    EarlyStopped {
        epoch: usize,
    },
    EpochEnded {
        epoch: usize,
    },
    Finished,
}

/// A model after [`Trainer::finish`]: the best checkpoint reloaded, on the plain device.
#[derive(Debug)]
pub struct TrainedModel {
    pub model: Network,
    pub weights: ParamStore,
    /// The feature map's layout the model was built for (maps and predictions need it).
    pub layout: InputLayout,
    /// Epochs started (the last one possibly cut short by early stopping).
    pub epochs_run: usize,
    pub best_monitor: Option<f64>,
}

fn mean(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len().max(1) as f64
}

/// The loop's state between steps.
pub struct Trainer {
    config: TrainConfig,
    model_config: NetworkConfig,
    identity: RunIdentity,
    layout: InputLayout,
    device: Device,
    model: Option<Network>,
    optimizer: ModuleOptimizer,
    train: EncodedDataset,
    valid: EncodedDataset,
    learning_rate: f64,
    epoch: usize,
    order: Option<EpochOrder>,
    batch: usize,
    global_step: usize,
    epoch_started: Instant,
    epoch_samples: usize,
    /// Losses of the steps since the last evaluation, summed on the device.
    loss_sum: Option<Tensor<1>>,
    loss_steps: usize,
    /// The same, since the last read (for live display).
    read_sum: Option<Tensor<1>>,
    gap_sum: Option<Tensor<1>>,
    read_steps: usize,
    /// The next step reads the loss whatever the interval (a page stepping one batch at a time).
    read_next: bool,
    plateau: PlateauTracker,
    checkpoint: Option<ParamStore>,
    finished: bool,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("epoch", &self.epoch)
            .field("batch", &self.batch)
            .field("global_step", &self.global_step)
            .field("learning_rate", &self.learning_rate)
            .field("best_monitor", &self.plateau.best())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Trainer {
    /// Sets up the model (seeded initialisation) and the optimizer. `device` must have autodiff
    /// enabled (`Device::flex().autodiff()`).
    pub fn new(
        model_config: impl Into<NetworkConfig>,
        config: TrainConfig,
        feature_map: &FeatureMap,
        train: EncodedDataset,
        valid: EncodedDataset,
        device: Device,
    ) -> Result<Self, TrainError> {
        let model_config = model_config.into();
        config.validate(feature_map.task, feature_map.group_id.is_some())?;
        model_config.validate()?;
        if !device.is_autodiff() {
            return Err(TrainError::Device(
                "training needs an autodiff device (call .autodiff() on it)".into(),
            ));
        }
        if train.is_empty() {
            return Err(TrainError::Data("the training split has no rows".into()));
        }
        if valid.is_empty() {
            return Err(TrainError::Data("the validation split has no rows".into()));
        }
        let layout = InputLayout::new(feature_map)?;
        // Before anything of the model's size is allocated (batches never exceed the split).
        let batch_size = config.batch_size.min(train.len());
        let available = qnn_model::budget::available_memory();
        match &model_config {
            NetworkConfig::Qnn(qnn) => {
                qnn_model::budget::check_training_fits(qnn, &layout, batch_size, available)?;
            }
            NetworkConfig::Zoo(zoo) => {
                qnn_zoo::budget::check_step_fits(zoo, &layout, batch_size, available)?;
            }
        }
        let model = Network::init(&model_config, &layout, config.seed, &device)?;
        // FuxiCTR starts every bias at 0, so a regression's first outputs are 0 however far
        // the labels lie from it; closing that gap first drags every weight along and can
        // leave the network at the label mean (a planted interaction with labels 1 and 3 was
        // never found, with labels ±1 at once). Starting at the training labels' mean is the
        // one deliberate difference from FuxiCTR's initialisation.
        let model = match layout.task {
            Task::Regression => model.shift_output(mean(train.labels()) as f32),
            Task::BinaryClassification => model,
        };
        let optimizer = AdamConfig::new().with_epsilon(ADAM_EPSILON).init();
        let identity = RunIdentity::new(
            &model_config,
            &config,
            feature_map,
            train.len(),
            valid.len(),
        );
        Ok(Self {
            identity,
            learning_rate: config.learning_rate,
            plateau: PlateauTracker::new(
                config.monitor_mode,
                config.early_stop_patience,
                config.reduce_lr_on_plateau,
            ),
            config,
            model_config,
            layout,
            device,
            model: Some(model),
            optimizer,
            train,
            valid,
            epoch: 0,
            order: None,
            batch: 0,
            global_step: 0,
            epoch_started: Instant::now(),
            epoch_samples: 0,
            loss_sum: None,
            loss_steps: 0,
            read_sum: None,
            gap_sum: None,
            read_steps: 0,
            read_next: false,
            checkpoint: None,
            finished: false,
        })
    }

    /// Continues a run from a state saved after one of its evaluations (on a trainer just made
    /// by [`Trainer::new`] with the run's settings and data), with `best` the weights the run had
    /// kept as its result by then. A state of other settings or data is refused, naming the first
    /// thing that differs.
    pub fn restore(
        &mut self,
        state: TrainState,
        best: Option<ParamStore>,
    ) -> Result<(), TrainError> {
        state.identity.check_matches(&self.identity)?;
        let model = Network::from_store(
            &self.model_config,
            &self.layout,
            &state.weights,
            &self.device,
        )?
        .with_param_ids(&state.param_ids)?;
        let optimizer = AdamConfig::new()
            .with_epsilon(ADAM_EPSILON)
            .init()
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(state.optimizer))
            .map_err(|e| {
                StateError::Invalid(format!("the optimizer state cannot be read: {e:?}"))
            })?;
        let p = state.progress;
        self.model = Some(model);
        self.optimizer = optimizer;
        self.epoch = p.epoch;
        self.batch = p.batch;
        self.global_step = p.global_step;
        self.learning_rate = p.learning_rate;
        self.plateau.restore(p.best_monitor, p.plateau_counter);
        self.finished = p.finished;
        self.order = p.in_epoch.then(|| self.epoch_order());
        self.checkpoint = best;
        Ok(())
    }

    /// The state to resume from, taken right after an evaluation (the loss accumulators are
    /// empty then, so nothing else is lost). The optimizer's moments are read synchronously.
    pub async fn state(&self) -> Result<TrainState, TrainError> {
        let optimizer = self
            .optimizer
            .into_bytes()
            .map_err(|e| TrainError::Device(format!("cannot read the optimizer state: {e:?}")))?;
        Ok(TrainState {
            identity: self.identity.clone(),
            progress: Progress {
                epoch: self.epoch,
                batch: self.batch,
                in_epoch: self.order.is_some(),
                global_step: self.global_step,
                learning_rate: self.learning_rate,
                best_monitor: self.plateau.best(),
                plateau_counter: self.plateau.counter(),
                finished: self.finished,
            },
            weights: self.model().to_store().await?,
            param_ids: self.model().param_ids(),
            optimizer: optimizer.to_vec(),
        })
    }

    /// The weights kept as the run's result so far (see `checkpointed` in
    /// [`TrainEvent::Evaluated`]).
    pub fn checkpoint(&self) -> Option<&ParamStore> {
        self.checkpoint.as_ref()
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Ends training after the current step (the user pressed Stop).
    pub fn stop(&mut self) {
        self.finished = true;
    }

    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    pub fn layout(&self) -> &InputLayout {
        &self.layout
    }

    /// Makes the next step read the training loss (and the Self-Ensemble gap) back, as if the
    /// read interval ended there: for a run driven one step at a time.
    pub fn read_loss_next_step(&mut self) {
        self.read_next = true;
    }

    /// Where the model trains (with autodiff): inputs to [`Trainer::model`] go there.
    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn model(&self) -> &Network {
        self.model
            .as_ref()
            .expect("the model is only taken out by finish")
    }

    /// Computes the quadratic layers with `kernel` from the next step on (the fused layer is the
    /// default; the composed one is the reference, for comparisons and benchmarks).
    pub fn set_layer_kernel(&mut self, kernel: qnn_model::LayerKernel) {
        if let Some(qnn) = self.model.as_mut().and_then(Network::as_qnn_mut) {
            qnn.kernel = kernel;
        }
    }

    /// Whether steps train on QNN's Self-Ensemble loss (two dropout passes): QNN with
    /// `self_ensemble` on. The zoo's networks train on FuxiCTR's loss.
    pub fn uses_self_ensemble(&self) -> bool {
        self.config.self_ensemble && self.model_config.as_qnn().is_some()
    }

    /// Batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.train.len().div_ceil(self.config.batch_size)
    }

    /// Runs one training step, plus the evaluation that follows it when one is due.
    pub async fn step(&mut self) -> Result<Vec<TrainEvent>, TrainError> {
        let mut events = Vec::new();
        if self.finished {
            return Ok(events);
        }
        if self.order.is_none() {
            if self.epoch >= self.config.epochs {
                self.finished = true;
                events.push(TrainEvent::Finished);
                return Ok(events);
            }
            self.start_epoch(&mut events);
        }
        let order = self.order.as_ref().expect("an epoch is running");
        let batches = order.num_batches();
        let batch = self.train.batch(order.batch_rows(self.batch));
        let input = ModelInput::new(&batch, &self.layout, &self.device)?;
        let (loss, gap) = self.train_step(&input);
        self.batch += 1;
        self.global_step += 1;
        self.epoch_samples += batch.len();

        let detached = loss.detach();
        self.loss_sum = Some(add(self.loss_sum.take(), detached.clone()));
        self.loss_steps += 1;
        self.read_sum = Some(add(self.read_sum.take(), detached));
        self.gap_sum = Some(add(self.gap_sum.take(), gap));
        self.read_steps += 1;
        let read_now = std::mem::take(&mut self.read_next)
            || self.read_steps >= self.config.loss_read_interval.max(1)
            || self.batch == batches;
        let (loss, ensemble_gap) = if read_now {
            let sums = Tensor::cat(
                vec![
                    self.read_sum.take().expect("just set"),
                    self.gap_sum.take().expect("just set"),
                ],
                0,
            );
            let sums = read_values(sums).await?;
            let steps = self.read_steps as f64;
            let (mean, gap) = (f64::from(sums[0]) / steps, f64::from(sums[1]) / steps);
            self.read_steps = 0;
            if !mean.is_finite() {
                return Err(TrainError::Diverged {
                    epoch: self.epoch,
                    batch: self.batch,
                    what: "the training loss is not finite",
                });
            }
            (Some(mean), self.uses_self_ensemble().then_some(gap))
        } else {
            (None, None)
        };
        let elapsed = self.epoch_started.elapsed().as_secs_f64();
        events.push(TrainEvent::Step {
            epoch: self.epoch,
            batch: self.batch,
            batches,
            global_step: self.global_step,
            loss,
            ensemble_gap,
            samples_per_sec: if elapsed > 0.0 {
                self.epoch_samples as f64 / elapsed
            } else {
                0.0
            },
        });

        let eval_due = match self.config.eval_steps {
            Some(n) => self.global_step.is_multiple_of(n),
            None => self.batch == batches,
        };
        if eval_due {
            self.evaluate_and_checkpoint(&mut events).await?;
        }
        if !self.finished && self.batch == batches {
            events.push(TrainEvent::EpochEnded { epoch: self.epoch });
            self.order = None;
        }
        if self.finished {
            events.push(TrainEvent::Finished);
        }
        Ok(events)
    }

    fn start_epoch(&mut self, events: &mut Vec<TrainEvent>) {
        self.epoch += 1;
        let order = self.epoch_order();
        events.push(TrainEvent::EpochStarted {
            epoch: self.epoch,
            batches: order.num_batches(),
        });
        self.order = Some(order);
        self.batch = 0;
        self.epoch_started = Instant::now();
        self.epoch_samples = 0;
        // FuxiCTR resets the train-loss accumulator at each epoch start.
        self.loss_sum = None;
        self.loss_steps = 0;
    }

    /// The current epoch's row order (a function of the seed and the epoch alone).
    fn epoch_order(&self) -> EpochOrder {
        let shuffle = self
            .config
            .shuffle
            .then_some((self.config.seed, self.epoch));
        EpochOrder::new(self.train.len(), self.config.batch_size, shuffle)
    }

    /// Forward, backward, clipping and Adam update; returns the step's total loss and the mean
    /// gap between the two dropout passes (both detached from the graph).
    fn train_step(&mut self, input: &ModelInput) -> (Tensor<1>, Tensor<1>) {
        let model = self
            .model
            .take()
            .expect("the model is only taken out by finish");
        // Step-keyed masks: a step's dropout depends only on (seed, step), never on the steps
        // before it.
        let key = DropoutKey::new(self.config.seed, self.global_step as u64);
        let self_ensemble = self.uses_self_ensemble();
        let task = self.layout.task;
        let (loss, gap) = if let (Some(qnn), true) = (model.as_qnn(), self_ensemble) {
            let output = qnn.self_ensemble(input, Mode::Train(key), task, self.config.loss);
            let gap = (output.y1.clone().detach() - output.y2.clone().detach())
                .abs()
                .mean();
            (output.loss, gap)
        } else {
            // QNN's ablation, and every zoo network (FuxiCTR's loss): one dropout pass, the
            // loss against the labels.
            let y = output(task, model.logits(input, Mode::Train(key)));
            let gap = y.zeros_like().sum();
            (self.config.loss.of(y, input.labels.clone()), gap)
        };
        let loss = match model.regularization(
            &self.config.embedding_regularizer,
            &self.config.net_regularizer,
        ) {
            Some(reg) => loss + reg,
            None => loss,
        };
        let grads = loss.backward();
        let grads = clip_grad_norm(&model.params(), grads, self.config.max_gradient_norm);
        self.model = Some(self.optimizer.step(self.learning_rate, model, grads));
        (loss, gap)
    }

    async fn evaluate_and_checkpoint(
        &mut self,
        events: &mut Vec<TrainEvent>,
    ) -> Result<(), TrainError> {
        let train_loss = match self.loss_sum.take() {
            Some(sum) => read_scalar(sum).await? / self.loss_steps as f64,
            None => f64::NAN,
        };
        // Caught here too, not only where the loss is read for the log: evaluating NaN weights
        // would otherwise fail on the metrics, far from the cause.
        if self.loss_steps > 0 && !train_loss.is_finite() {
            return Err(TrainError::Diverged {
                epoch: self.epoch,
                batch: self.batch,
                what: "the training loss is not finite",
            });
        }
        self.loss_steps = 0;
        let probs = predict(
            self.model(),
            &self.layout,
            &self.valid,
            self.config.batch_size,
            &self.device,
        )
        .await?;
        // The loss was finite, but the last update made the weights non-finite.
        if probs.iter().any(|p| p.is_nan()) {
            return Err(TrainError::Diverged {
                epoch: self.epoch,
                batch: self.batch,
                what: "the last update made the weights non-finite (NaN predictions)",
            });
        }
        let metrics = scores(&self.config.evaluated_metrics(), &self.valid, &probs)?;
        let monitor = self.config.monitor.value(&metrics);
        let decision = self.plateau.update(monitor, self.learning_rate);
        let checkpointed = decision.improved || !self.config.save_best_only;
        if checkpointed {
            self.checkpoint = Some(self.model().to_store().await?);
        }
        events.push(TrainEvent::Evaluated {
            epoch: self.epoch,
            batch: self.batch,
            train_loss,
            metrics,
            monitor,
            improved: decision.improved,
            checkpointed,
        });
        if let Some(lr) = decision.reduced_lr {
            self.learning_rate = lr;
            events.push(TrainEvent::LearningRateReduced { learning_rate: lr });
        }
        if decision.stop {
            events.push(TrainEvent::EarlyStopped { epoch: self.epoch });
            self.finished = true;
        }
        Ok(())
    }

    /// Reloads the saved checkpoint (the best one under `save_best_only`) onto the plain device.
    /// Without any evaluation yet, the current weights are kept.
    pub async fn finish(mut self) -> Result<TrainedModel, TrainError> {
        self.reload_best().await
    }

    /// [`Trainer::finish`], then the end of FuxiCTR's `run_expid.py` on the reloaded weights:
    /// validation metrics, and test metrics when a test split is given. The CLI and the browser
    /// both end a run through this.
    pub async fn finish_with_report(
        mut self,
        test: Option<&EncodedDataset>,
    ) -> Result<(TrainedModel, FinalReport), TrainError> {
        let trained = self.reload_best().await?;
        let device = self.device.clone().without_autodiff();
        let report = final_report(
            &trained.model,
            &trained.layout,
            &self.valid,
            test,
            &self.config,
            &device,
        )
        .await?;
        Ok((trained, report))
    }

    async fn reload_best(&mut self) -> Result<TrainedModel, TrainError> {
        let weights = match self.checkpoint.take() {
            Some(store) => store,
            None => self.model().to_store().await?,
        };
        let device = self.device.clone().without_autodiff();
        let model = Network::from_store(&self.model_config, &self.layout, &weights, &device)?;
        Ok(TrainedModel {
            model,
            weights,
            layout: self.layout.clone(),
            epochs_run: self.epoch,
            best_monitor: self.plateau.best(),
        })
    }
}

fn add(sum: Option<Tensor<1>>, x: Tensor<1>) -> Tensor<1> {
    match sum {
        Some(s) => s + x,
        None => x,
    }
}

async fn read_scalar(t: Tensor<1>) -> Result<f64, TrainError> {
    Ok(f64::from(read_values(t).await?[0]))
}

/// `torch.nn.utils.clip_grad_norm_`: scale all gradients by min(1, max_norm / (‖g‖₂ + 1e-6)),
/// with ‖g‖₂ over every parameter together. Stays on the device (no read-back).
pub fn clip_grad_norm(
    params: &[ParamRef<'_>],
    mut grads: Gradients,
    max_norm: f64,
) -> GradientsParams {
    enum Grad {
        Vector(burn::module::ParamId, Tensor<1>),
        Matrix(burn::module::ParamId, Tensor<2>),
    }
    let mut collected = Vec::new();
    for p in params {
        match *p {
            ParamRef::Vector(p) => {
                if let Some(g) = p.val().grad_remove(&mut grads) {
                    collected.push(Grad::Vector(p.id, g));
                }
            }
            ParamRef::Matrix(p) => {
                if let Some(g) = p.val().grad_remove(&mut grads) {
                    collected.push(Grad::Matrix(p.id, g));
                }
            }
        }
    }
    let squares = collected.iter().map(|g| match g {
        Grad::Vector(_, t) => t.clone().square().sum(),
        Grad::Matrix(_, t) => t.clone().square().sum(),
    });
    let mut out = GradientsParams::new();
    let Some(total) = squares.reduce(|a, b| a + b) else {
        return out;
    };
    let scale = total
        .sqrt()
        .add_scalar(1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    for g in collected {
        match g {
            Grad::Vector(id, t) => out.register(id, t * scale.clone()),
            Grad::Matrix(id, t) => out.register(id, t * scale.clone().unsqueeze_dim::<2>(0)),
        }
    }
    out
}
