//! Receives configs and files from the page, runs the shared pipeline and training loop, and
//! streams progress back.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::module::Module;
use burn::tensor::Device;
use js_sys::{Array, Uint8Array};
use qnn_data::processor::{encode, group_only_column, model_columns};
use qnn_data::synthetic::SyntheticSpec;
use qnn_data::{
    ConfigFile, EncodedDataset, Evaluation, Experiment, MemoryFiles, MemoryStore, RawTable,
};
use qnn_model::{
    DropoutKey, InputLayout, Loss, Mode, ModelInput, QnnConfig, interaction_maps, output,
};
use qnn_train::{Finished, RunData, Session, TrainConfig, TrainEvent, Trainer, predict};
use qnn_zoo::{Network, NetworkFile};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};
use web_time::Instant;

use qnn_maps::InteractionMaps;
use qnn_protocol::{Backend, FromWorker, ModelFacts, SampleRow, ToWorker};

/// Rows of the test split shown as sample predictions.
const SAMPLE_ROWS: usize = 12;
/// Rows the activation maps average over.
const MAP_ROWS: usize = 1024;
/// Longest stretch of computing between two looks at the message queue.
const YIELD_EVERY_MS: f64 = 40.0;
/// Fewest milliseconds between two progress messages.
const PROGRESS_EVERY_MS: f64 = 100.0;
/// Size of the warm-up run: a few hundred milliseconds of training.
const WARM_UP_ROWS: usize = 2048;
const WARM_UP_EPOCHS: usize = 4;

#[derive(Default)]
struct Control {
    stop: Cell<bool>,
    pause: Cell<bool>,
    /// Steps asked for one at a time while paused (Step), not yet taken.
    steps: Cell<usize>,
    busy: Cell<bool>,
    /// The warm-up is running: a job that arrives waits for it (at most one step).
    warming: Cell<bool>,
}

/// The model the worker holds for predictions and maps: the last trained or loaded one.
struct Held {
    file: NetworkFile,
    device: Device,
}

struct State {
    scope: DedicatedWorkerGlobalScope,
    control: Control,
    held: RefCell<Option<Held>>,
    gpu: RefCell<Option<Device>>,
    /// A job that arrived during the warm-up, run when it ends.
    waiting: RefCell<Option<(ToWorker, Vec<Vec<u8>>)>>,
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

impl State {
    fn send(&self, msg: &FromWorker) {
        let _ = self.scope.post_message(&msg.to_js());
    }

    fn send_with(&self, msg: &FromWorker, bytes: &[u8]) {
        let array = Uint8Array::from(bytes);
        let parts = Array::of2(&msg.to_js(), &array);
        let transfer = Array::of1(&array.buffer());
        let _ = self.scope.post_message_with_transfer(&parts, &transfer);
    }

    fn status(&self, text: impl Into<String>) {
        self.send(&FromWorker::Status { text: text.into() });
    }

    async fn device(&self, backend: Backend) -> Result<Device, String> {
        match backend {
            Backend::Cpu => Ok(Device::flex()),
            Backend::WebGpu => {
                if let Some(d) = self.gpu.borrow().as_ref() {
                    return Ok(d.clone());
                }
                self.status("starting WebGPU (the first kernels compile for a while)…");
                let device = Device::wgpu_options()
                    .graphics_api(burn::tensor::wgpu::WgpuBackend::WebGpu)
                    .init_async()
                    .await
                    .map_err(|e| format!("WebGPU could not start: {e}"))?;
                *self.gpu.borrow_mut() = Some(device.clone());
                Ok(device)
            }
        }
    }
}

/// Waits for the event loop once, so that queued messages (Stop, Pause) are handled.
async fn yield_now(scope: &DedicatedWorkerGlobalScope, ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Entry point of the worker binary.
pub fn start() {
    console_error_panic_hook::set_once();
    let state = Rc::new(State {
        scope: scope(),
        control: Control::default(),
        held: RefCell::new(None),
        gpu: RefCell::new(None),
        waiting: RefCell::new(None),
    });
    let handler_state = state.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let state = handler_state.clone();
        let data = event.data();
        let (msg, files) = match data.dyn_into::<Array>() {
            Ok(parts) => (
                parts.get(0),
                (1..parts.length())
                    .map(|i| Uint8Array::new(&parts.get(i)).to_vec())
                    .collect::<Vec<_>>(),
            ),
            Err(single) => (single, Vec::new()),
        };
        let msg = match ToWorker::from_js(msg) {
            Ok(m) => m,
            Err(e) => {
                state.send(&FromWorker::Error {
                    text: format!("worker: unreadable message ({e})"),
                });
                return;
            }
        };
        match msg {
            ToWorker::Stop => state.control.stop.set(true),
            ToWorker::Pause => {
                state.control.pause.set(true);
                state.send(&FromWorker::Paused);
            }
            ToWorker::Resume => {
                // Steps clicked but not yet taken would otherwise run at the next pause.
                state.control.steps.set(0);
                state.control.pause.set(false);
                state.send(&FromWorker::Resumed);
            }
            ToWorker::Step => {
                state.control.steps.set(state.control.steps.get() + 1);
                if !state.control.pause.replace(true) {
                    state.send(&FromWorker::Paused);
                }
            }
            other => {
                if state.control.warming.get() && state.waiting.borrow().is_none() {
                    *state.waiting.borrow_mut() = Some((other, files));
                    return;
                }
                if state.control.busy.replace(true) {
                    state.send(&FromWorker::Error {
                        text: "the worker is busy: stop the running job first".into(),
                    });
                    return;
                }
                wasm_bindgen_futures::spawn_local(async move {
                    let mut job = Some((other, files));
                    while let Some((msg, files)) = job {
                        let result = run(&state, msg, files).await;
                        if let Err(text) = result {
                            state.send(&FromWorker::Error { text });
                        }
                        job = state.waiting.borrow_mut().take();
                    }
                    state.control.busy.set(false);
                });
            }
        }
    });
    state
        .scope
        .set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    state.send(&FromWorker::Ready);
}

async fn run(state: &State, msg: ToWorker, files: Vec<Vec<u8>>) -> Result<(), String> {
    match msg {
        ToWorker::Train {
            dataset_yaml,
            model_yaml,
            expid,
            backend,
            files: names,
            start_paused,
        } => {
            let files = MemoryFiles {
                files: names.into_iter().zip(files).collect(),
            };
            let run = Run {
                dataset_yaml: &dataset_yaml,
                model_yaml: &model_yaml,
                expid: &expid,
                backend,
                start_paused,
            };
            train(state, run, &files).await
        }
        ToWorker::LoadModel { name, backend } => {
            let bytes = files.into_iter().next().unwrap_or_default();
            load_model(state, &name, &bytes, backend).await
        }
        ToWorker::Predict { name } => {
            let bytes = files.into_iter().next().unwrap_or_default();
            predict_csv(state, &name, &bytes).await
        }
        ToWorker::WarmUp => warm_up(state).await,
        ToWorker::Stop | ToWorker::Pause | ToWorker::Resume | ToWorker::Step => Ok(()),
    }
}

/// Trains the quick demo on a small synthetic set for a moment, so that V8 has compiled the
/// training step's hot functions with its optimising tier before the user's first epoch (its
/// baseline tier runs them at about half speed). Gives way as soon as a job arrives.
async fn warm_up(state: &State) -> Result<(), String> {
    state.control.warming.set(true);
    let result = warm_up_steps(state).await;
    state.control.warming.set(false);
    result
}

async fn warm_up_steps(state: &State) -> Result<(), String> {
    let (feature_map, data) = SyntheticSpec::planted(WARM_UP_ROWS, 0).generate();
    let model = QnnConfig::quick_demo();
    let config = TrainConfig {
        epochs: WARM_UP_EPOCHS,
        ..TrainConfig::quick_demo()
    };
    let mut trainer = Trainer::new(
        model,
        config,
        &feature_map,
        data.clone(),
        data,
        Device::flex().autodiff(),
    )
    .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut last_yield = started;
    let mut steps = 0;
    while !trainer.is_finished() && state.waiting.borrow().is_none() {
        if last_yield.elapsed().as_secs_f64() * 1000.0 >= YIELD_EVERY_MS {
            yield_now(&state.scope, 0).await;
            last_yield = Instant::now();
            continue;
        }
        trainer.step().await.map_err(|e| e.to_string())?;
        steps += 1;
    }
    state.send(&FromWorker::WarmedUp {
        steps,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// What a `Train` message asks for.
struct Run<'a> {
    dataset_yaml: &'a str,
    model_yaml: &'a str,
    expid: &'a str,
    backend: Backend,
    start_paused: bool,
}

async fn train(state: &State, run: Run<'_>, files: &MemoryFiles) -> Result<(), String> {
    let Run {
        dataset_yaml,
        model_yaml,
        expid,
        backend,
        start_paused,
    } = run;
    let started = Instant::now();
    state.control.stop.set(false);
    state.control.pause.set(start_paused);
    state.control.steps.set(usize::from(start_paused));
    // The very path `qnn train` takes: the same YAML, the same pipeline, the same loop.
    let exp = Experiment::load(
        &[ConfigFile {
            name: "model_config.yaml".into(),
            text: model_yaml.into(),
        }],
        &[ConfigFile {
            name: "dataset_config.yaml".into(),
            text: dataset_yaml.into(),
        }],
        expid,
    )
    .map_err(|e| e.to_string())?;
    let session = Session::new(&exp).map_err(|e| e.to_string())?;
    state.status("reading and encoding the data…");
    // Dispatches on data_format as the CLI does: raw rows are fitted and encoded, FuxiCTR's
    // encoded files are read with the feature_map.json given beside them.
    let splits = qnn_data::prepare_dataset(
        &session.spec,
        session.train.seed,
        &mut &*files,
        &mut MemoryStore,
    )
    .map_err(|e| e.to_string())?;
    let RunData {
        feature_map,
        train,
        valid,
        test,
    } = session.splits(splits).map_err(|e| e.to_string())?;
    // Maps and sample rows are shown on the test split, else on validation (a copy: the trainer
    // takes the split itself).
    let shown = match &test {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(valid.clone()),
    };
    let (train_rows, valid_rows) = (train.len(), valid.len());
    let device = state.device(backend).await?;
    let mut trainer = session
        .trainer(&feature_map, train, valid, &device)
        .map_err(|e| e.to_string())?;
    state.send(&FromWorker::Started {
        backend: backend.label().into(),
        train_rows,
        valid_rows,
        test_rows: test.as_ref().map_or(0, EncodedDataset::len),
        batches_per_epoch: trainer.batches_per_epoch(),
        parameters: trainer.model().num_parameters(),
        notes: session.notes.clone(),
    });
    if start_paused {
        state.send(&FromWorker::Paused);
    }
    let mut last_yield = Instant::now();
    let mut last_progress: Option<Instant> = None;
    let mut epoch_started = Instant::now();
    let mut last_rate = 0.0;
    let mut stopped = false;
    let (mut last_epoch, mut last_step) = (0, 0);
    while !trainer.is_finished() {
        if last_yield.elapsed().as_secs_f64() * 1000.0 >= YIELD_EVERY_MS {
            yield_now(&state.scope, 0).await;
            last_yield = Instant::now();
        }
        // While paused, Step lets one step through at a time.
        let mut stepping = false;
        while state.control.pause.get() && !state.control.stop.get() {
            if let Some(left) = state.control.steps.get().checked_sub(1) {
                state.control.steps.set(left);
                stepping = true;
                trainer.read_loss_next_step();
                break;
            }
            yield_now(&state.scope, 50).await;
        }
        if state.control.stop.get() {
            state.send(&FromWorker::Stopped {
                epoch: last_epoch,
                global_step: last_step,
            });
            trainer.stop();
            stopped = true;
            break;
        }
        for event in trainer.step().await.map_err(|e| e.to_string())? {
            match event {
                TrainEvent::EpochStarted { .. } => epoch_started = Instant::now(),
                TrainEvent::Step {
                    epoch,
                    batch,
                    batches,
                    global_step,
                    loss,
                    ensemble_gap,
                    samples_per_sec,
                } => {
                    last_rate = samples_per_sec;
                    (last_epoch, last_step) = (epoch, global_step);
                    let due = last_progress
                        .is_none_or(|t| t.elapsed().as_secs_f64() * 1000.0 >= PROGRESS_EVERY_MS);
                    if due || loss.is_some() || batch == batches || stepping {
                        let per_batch = epoch_started.elapsed().as_secs_f64() / batch as f64;
                        // One step at a time, the map shows what each batch changed.
                        let maps = if stepping {
                            live_maps(&trainer, &shown).await
                        } else {
                            None
                        };
                        state.send(&FromWorker::Progress {
                            epoch,
                            batch,
                            batches,
                            global_step,
                            samples_per_sec,
                            epoch_seconds_left: per_batch * (batches - batch) as f64,
                            loss,
                            ensemble_gap,
                            maps,
                        });
                        last_progress = Some(Instant::now());
                    }
                }
                TrainEvent::Evaluated {
                    epoch,
                    train_loss,
                    metrics: m,
                    improved,
                    ..
                } => {
                    let maps = live_maps(&trainer, &shown).await;
                    state.send(&FromWorker::Evaluated {
                        epoch,
                        train_loss,
                        metrics: m,
                        improved,
                        maps,
                    })
                }
                TrainEvent::LearningRateReduced { learning_rate } => {
                    state.send(&FromWorker::LearningRateReduced { learning_rate })
                }
                TrainEvent::EarlyStopped { epoch } => {
                    state.send(&FromWorker::EarlyStopped { epoch })
                }
                TrainEvent::EpochEnded { epoch } => state.send(&FromWorker::EpochEnded {
                    epoch,
                    seconds: epoch_started.elapsed().as_secs_f64(),
                    samples_per_sec: last_rate,
                    since_start: started.elapsed().as_secs_f64(),
                }),
                TrainEvent::Finished => {}
            }
        }
    }
    state.status(if stopped {
        "stopped; reloading the best weights and evaluating…"
    } else {
        "training finished; evaluating…"
    });
    let trained_by = format!(
        "QNN Lab browser trainer {} ({})",
        env!("CARGO_PKG_VERSION"),
        backend.label()
    );
    let Finished {
        model,
        layout,
        epochs_run,
        report,
        file,
    } = session
        .finish(trainer, feature_map, test.as_ref(), &trained_by)
        .await
        .map_err(|e| e.to_string())?;
    let maps = compute_maps(&model, &layout, Some(&shown), &device).await?;
    // The dropout passes run in training mode, which moves the batch-norm running statistics:
    // they run on a copy, so the served prediction is the saved model's.
    let (copy, _) = Network::from_file(&file, &device).map_err(|e| e.to_string())?;
    let samples = sample_rows(&model, &copy, &layout, &shown, &device, session.train.seed).await?;
    let bytes = file.to_bytes().map_err(|e| e.to_string())?;
    *state.held.borrow_mut() = Some(Held {
        file,
        device: device.clone(),
    });
    state.send_with(
        &FromWorker::Finished {
            network: session.network.name().into(),
            stopped,
            epochs: epochs_run,
            valid: report.valid.clone(),
            test: report.test.clone(),
            maps,
            samples,
            model_name: format!("{expid}.{}", qnn_model::file::EXTENSION),
        },
        &bytes,
    );
    Ok(())
}

/// The interaction maps of the weights training has reached, on `shown`'s rows. A view, not a
/// result: maps that cannot be drawn (no quadratic layers) leave the heatmap as it was.
async fn live_maps(trainer: &Trainer, shown: &EncodedDataset) -> Option<InteractionMaps> {
    compute_maps(
        &trainer.model().valid(),
        trainer.layout(),
        Some(shown),
        &trainer.device().clone().without_autodiff(),
    )
    .await
    .unwrap_or(None)
}

/// The interaction maps of a QNN; `None` for a network without them.
async fn compute_maps(
    model: &Network,
    layout: &InputLayout,
    data: Option<&EncodedDataset>,
    device: &Device,
) -> Result<Option<InteractionMaps>, String> {
    let Some(model) = model.as_qnn() else {
        return Ok(None);
    };
    let input = match data {
        Some(d) if !d.is_empty() => Some(
            ModelInput::new(&d.range(0, d.len().min(MAP_ROWS)), layout, device)
                .map_err(|e| e.to_string())?,
        ),
        _ => None,
    };
    interaction_maps(model, input.as_ref())
        .await
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Sample test rows: `model`'s evaluation prediction and two dropout passes of training mode
/// (QNN's Self-Ensemble passes; two passes with their own masks for the other networks),
/// computed on a larger batch so that batch norm sees realistic statistics, on `scratch_copy`,
/// whose batch-norm running statistics they move.
async fn sample_rows(
    model: &Network,
    scratch_copy: &Network,
    layout: &InputLayout,
    data: &EncodedDataset,
    device: &Device,
    seed: u64,
) -> Result<Vec<SampleRow>, String> {
    let n = data.len().min(256);
    if n == 0 {
        return Ok(Vec::new());
    }
    let input = ModelInput::new(&data.range(0, n), layout, device).map_err(|e| e.to_string())?;
    let key = DropoutKey::new(seed ^ 0x5e1f, 0);
    let (p1, p2) = match scratch_copy.as_qnn() {
        Some(qnn) => {
            let passes = qnn.self_ensemble(
                &input,
                Mode::Train(key),
                layout.task,
                Loss::for_task(layout.task),
            );
            (passes.y1, passes.y2)
        }
        None => {
            let pass = |step| {
                let logits =
                    scratch_copy.logits(&input, Mode::Train(DropoutKey::new(key.seed, step)));
                output(layout.task, logits)
            };
            (pass(0), pass(1))
        }
    };
    let read = |t| async move { qnn_model::read_values(t).await.map_err(|e| e.to_string()) };
    let p1 = read(p1).await?;
    let p2 = read(p2).await?;
    let eval = read(model.predict(&input, layout.task)).await?;
    let mut rows = Vec::with_capacity(n.min(SAMPLE_ROWS));
    for i in 0..n.min(SAMPLE_ROWS) {
        rows.push(SampleRow {
            label: data.labels()[i],
            prediction: eval[i],
            pass1: p1[i],
            pass2: p2[i],
            maps: compute_maps(model, layout, Some(&data.slice(i, i + 1)), device).await?,
        });
    }
    Ok(rows)
}

async fn load_model(
    state: &State,
    name: &str,
    bytes: &[u8],
    backend: Backend,
) -> Result<(), String> {
    let file = NetworkFile::from_bytes(bytes).map_err(|e| format!("{name}: {e}"))?;
    let device = state.device(backend).await?;
    let (model, layout) = Network::from_file(&file, &device).map_err(|e| format!("{name}: {e}"))?;
    let maps = compute_maps(&model, &layout, None, &device).await?;
    let fields = file.feature_map.fields().map(|f| f.name.clone()).collect();
    state.send(&FromWorker::ModelLoaded {
        name: name.into(),
        network: file.config.name().into(),
        facts: ModelFacts::from_info(&file.info),
        fields,
        maps,
    });
    *state.held.borrow_mut() = Some(Held { file, device });
    Ok(())
}

async fn predict_csv(state: &State, name: &str, bytes: &[u8]) -> Result<(), String> {
    let Some((file, device)) = state
        .held
        .borrow()
        .as_ref()
        .map(|h| (h.file.clone(), h.device.clone()))
    else {
        return Err("train or load a model first".into());
    };
    let map = &file.feature_map;
    let label = map.labels.first().cloned();
    // Metrics when the CSV has the label column, plain predictions otherwise.
    let has_column = |name: &str| {
        csv::Reader::from_reader(bytes)
            .headers()
            .is_ok_and(|h| h.iter().any(|c| c == name))
    };
    let has_label = label.as_deref().is_some_and(has_column);
    let mut columns = model_columns(map, has_label);
    // As `qnn evaluate`: without the group column, the ungrouped metrics.
    if let Some(g) = group_only_column(map).filter(|g| !has_column(g)) {
        columns.retain(|c| c.name != g);
    }
    let table = RawTable::read(bytes, name, &columns, &mut |_| {}).map_err(|e| e.to_string())?;
    let rows: Vec<usize> = (0..table.len()).collect();
    let data = encode(map, &table, &rows).map_err(|e| e.to_string())?;
    let (model, layout) = Network::from_file(&file, &device).map_err(|e| e.to_string())?;
    let probs = predict(&model, &layout, &data, 4096, &device)
        .await
        .map_err(|e| e.to_string())?;
    // As `qnn evaluate`: the task's metrics, and the grouped AUCs when the rows have groups,
    // each one the rows define.
    let (metrics, undefined) = if has_label {
        let evaluation = Evaluation::of(map.task, data.labels(), &probs, data.groups())
            .map_err(|e| format!("{name}: {e}"))?;
        let reasons = evaluation.undefined.into_iter().map(|(_, r)| r).collect();
        (Some(evaluation.values), reasons)
    } else {
        (None, Vec::new())
    };
    let column = map.task.prediction_column();
    let with_probabilities = qnn_data::csv_table::append_column(bytes, name, column, &probs)
        .map_err(|e| e.to_string())?;
    let csv =
        String::from_utf8(with_probabilities).map_err(|_| format!("{name}: is not valid UTF-8"))?;
    state.send(&FromWorker::Predictions {
        rows: probs.len(),
        csv,
        metrics,
        undefined,
    });
    Ok(())
}
