//! The page: data → schema → model settings → training → inside the model → model files.
//! State lives in signals; the training worker does the computing.

use std::cell::RefCell;

use js_sys::{Array, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use qnn_data::schema::{ColumnRole, DatasetChoice, Profile, SplitChoice, profile_csv};
use qnn_data::{Metric, Task};
use qnn_maps::InteractionMaps;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlInputElement, MessageEvent, Worker};

use crate::browser::{self, WebGpuInfo};
use crate::charts::{LineChart, Series};
use crate::columns::{self, ColumnEdits};
use crate::configs::{Explained, OpenedConfigs};
use crate::examples::{EXAMPLES, by_id};
use crate::frames::MapFrames;
use crate::heatmap::Heatmap;
use crate::lesson::{self, Hidden};
use crate::planted::Planted;
use crate::race::{DEFAULT_RUNNERS, Entry, Kind, RUNNERS, Race, SWEEP_RUNS};
use crate::runs::SavedRun;
use crate::settings::{MODELS, ModelSettings, Preset, SETTINGS, reads};
use crate::store;
use qnn_protocol::{Backend, FromWorker, Metrics, ModelFacts, SampleRow, ToWorker};

/// Rows profiled for the schema screen (training always reads every row).
const PROFILE_ROWS: usize = 200_000;

thread_local! {
    /// The loaded files' bytes (kept out of signals: they can be large).
    static FILES: RefCell<Vec<(String, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
    static WORKER: RefCell<Option<WorkerHandle>> = const { RefCell::new(None) };
    static MODEL_BYTES: RefCell<Option<(String, Vec<u8>)>> = const { RefCell::new(None) };
    static PREDICTIONS: RefCell<Option<String>> = const { RefCell::new(None) };
}

struct WorkerHandle {
    worker: Worker,
    ready: bool,
    /// Messages posted before the worker said Ready.
    queue: Vec<Array>,
}

/// Where the running epoch is.
#[derive(Debug, Clone, Copy, PartialEq)]
struct EpochProgress {
    epoch: usize,
    batch: usize,
    batches: usize,
    samples_per_sec: f64,
    seconds_left: f64,
}

/// Predictions on an uploaded CSV: rows, metrics when it had labels (and why any is missing),
/// the first lines.
#[derive(Debug, Clone, PartialEq)]
struct PredictionView {
    rows: usize,
    metrics: Option<Metrics>,
    undefined: Vec<String>,
    head: Vec<String>,
}

/// (x, y) points of one line of a chart.
type Curve = Vec<(f64, f64)>;

/// Everything the page shows, as signals (all `Copy`).
#[derive(Clone, Copy)]
struct Ui {
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    load_progress: RwSignal<Option<f64>>,
    example: RwSignal<Option<&'static str>>,
    file_names: RwSignal<Vec<String>>,
    profile: RwSignal<Option<Profile>>,
    roles: RwSignal<Vec<ColumnRole>>,
    /// The roles the data loaded with (guessed, then the example's own), which a link's
    /// `role.*` edits are relative to.
    loaded_roles: RwSignal<Vec<ColumnRole>>,
    /// The link's schema edits, for its example (applied once, when that example loads).
    link_columns: RwSignal<Option<(&'static str, ColumnEdits)>>,
    /// Each column's own embedding width, where one is set (`embedding_dim` in its entry).
    widths: RwSignal<Vec<Option<usize>>>,
    min_categr_count: RwSignal<usize>,
    valid_fraction: RwSignal<f64>,
    test_fraction: RwSignal<f64>,
    settings: RwSignal<ModelSettings>,
    settings_error: RwSignal<Option<String>>,
    backend: RwSignal<Backend>,
    webgpu: RwSignal<WebGpuInfo>,
    link: RwSignal<String>,
    // Training.
    running: RwSignal<bool>,
    paused: RwSignal<bool>,
    status: RwSignal<String>,
    backend_in_use: RwSignal<String>,
    started_info: RwSignal<Option<String>>,
    progress: RwSignal<Option<EpochProgress>>,
    loss: RwSignal<Vec<(f64, f64)>>,
    gap: RwSignal<Vec<(f64, f64)>>,
    /// Why the task is what it is, when the data chose it.
    task_reason: RwSignal<Option<String>>,
    /// Each validation metric's value per epoch, in the order the worker reports them.
    valid: RwSignal<Vec<(Metric, Curve)>>,
    events: RwSignal<Vec<String>>,
    first_epoch: RwSignal<Option<(f64, f64)>>,
    /// The worker's idle-time warm-up: steps and seconds.
    warmed_up: RwSignal<Option<(usize, f64)>>,
    stopped_at: RwSignal<Option<String>>,
    final_valid: RwSignal<Option<Metrics>>,
    final_test: RwSignal<Option<Metrics>>,
    samples: RwSignal<Vec<SampleRow>>,
    maps: RwSignal<Option<InteractionMaps>>,
    /// The maps at each evaluation of the run shown, for the scrubber.
    map_frames: RwSignal<MapFrames>,
    /// The sample row whose own maps the heatmap shows, instead of those of many rows.
    explained: RwSignal<Option<usize>>,
    /// What this page's link hides (a lesson), and what the lesson link being built hides.
    hidden: RwSignal<Hidden>,
    lesson_draft: RwSignal<Hidden>,
    /// The planted example's parameters (the bundled file's unless changed).
    planted: RwSignal<Planted>,
    /// What the link asked for that was ignored, until the link's example has loaded.
    link_problems: RwSignal<Option<String>>,
    /// FuxiCTR configs opened in the page, and the experiment of them shown.
    config_files: RwSignal<Option<OpenedConfigs>>,
    config_experiment: RwSignal<Option<Explained>>,
    /// Runs kept in the browser's storage (by their storage key), the ones ticked to compare,
    /// the one opened, and the storage used and allowed (bytes).
    saved_runs: RwSignal<Vec<(f64, SavedRun)>>,
    runs_compared: RwSignal<Vec<f64>>,
    opened_run: RwSignal<Option<f64>>,
    storage_use: RwSignal<Option<(f64, f64)>>,
    /// The network of the model shown, when it has no interaction maps (not QNN).
    no_maps: RwSignal<Option<String>>,
    model_name: RwSignal<Option<String>>,
    loaded_info: RwSignal<Option<String>>,
    predictions: RwSignal<Option<PredictionView>>,
    // A race of several networks on the same split.
    race: RwSignal<Race>,
    /// The runners ticked for the next race, by label.
    race_chosen: RwSignal<Vec<&'static str>>,
    /// How many seeds the next sweep runs.
    sweep_runs: RwSignal<usize>,
}

impl Ui {
    fn new() -> Self {
        Self {
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            load_progress: RwSignal::new(None),
            example: RwSignal::new(None),
            file_names: RwSignal::new(Vec::new()),
            profile: RwSignal::new(None),
            roles: RwSignal::new(Vec::new()),
            loaded_roles: RwSignal::new(Vec::new()),
            link_columns: RwSignal::new(None),
            widths: RwSignal::new(Vec::new()),
            min_categr_count: RwSignal::new(1),
            valid_fraction: RwSignal::new(0.1),
            test_fraction: RwSignal::new(0.1),
            settings: RwSignal::new(ModelSettings::default()),
            settings_error: RwSignal::new(None),
            backend: RwSignal::new(Backend::Cpu),
            webgpu: RwSignal::new(WebGpuInfo::default()),
            link: RwSignal::new(String::new()),
            running: RwSignal::new(false),
            paused: RwSignal::new(false),
            status: RwSignal::new("idle".into()),
            backend_in_use: RwSignal::new(String::new()),
            started_info: RwSignal::new(None),
            progress: RwSignal::new(None),
            loss: RwSignal::new(Vec::new()),
            gap: RwSignal::new(Vec::new()),
            valid: RwSignal::new(Vec::new()),
            task_reason: RwSignal::new(None),
            events: RwSignal::new(Vec::new()),
            first_epoch: RwSignal::new(None),
            warmed_up: RwSignal::new(None),
            stopped_at: RwSignal::new(None),
            final_valid: RwSignal::new(None),
            final_test: RwSignal::new(None),
            samples: RwSignal::new(Vec::new()),
            maps: RwSignal::new(None),
            map_frames: RwSignal::new(MapFrames::default()),
            explained: RwSignal::new(None),
            hidden: RwSignal::new(Hidden::default()),
            lesson_draft: RwSignal::new(Hidden::default()),
            planted: RwSignal::new(Planted::default()),
            link_problems: RwSignal::new(None),
            config_files: RwSignal::new(None),
            config_experiment: RwSignal::new(None),
            saved_runs: RwSignal::new(Vec::new()),
            runs_compared: RwSignal::new(Vec::new()),
            opened_run: RwSignal::new(None),
            storage_use: RwSignal::new(None),
            no_maps: RwSignal::new(None),
            model_name: RwSignal::new(None),
            loaded_info: RwSignal::new(None),
            predictions: RwSignal::new(None),
            race: RwSignal::new(Race::default()),
            race_chosen: RwSignal::new(DEFAULT_RUNNERS.to_vec()),
            sweep_runs: RwSignal::new(5),
        }
    }

    fn fail(&self, text: impl Into<String>) {
        self.error.set(Some(text.into()));
    }

    /// The name of the data's column `i`.
    fn column_name(&self, i: usize) -> String {
        self.profile.with_untracked(|p| {
            p.as_ref()
                .and_then(|p| p.columns.get(i))
                .map(|c| c.name.clone())
                .unwrap_or_default()
        })
    }

    /// The dataset choice as it stands, or the reason it cannot train.
    fn choice(&self) -> Result<DatasetChoice, String> {
        let profile = self
            .profile
            .get()
            .ok_or("load a CSV or pick an example first")?;
        let names = self.file_names.get();
        let roles = self.roles.get();
        let widths = profile
            .columns
            .iter()
            .zip(self.widths.get())
            .filter_map(|(c, w)| Some((c.name.clone(), w?)))
            .collect();
        let split = if names.len() > 1 {
            SplitChoice::Files {
                valid: names[1].clone(),
                test: names.get(2).cloned(),
            }
        } else {
            SplitChoice::Random {
                valid: self.valid_fraction.get(),
                test: self.test_fraction.get(),
            }
        };
        let dataset_id = self
            .example
            .get()
            .map(str::to_string)
            .unwrap_or_else(|| dataset_id_from(&names[0]));
        Ok(DatasetChoice {
            dataset_id,
            train_file: names[0].clone(),
            split,
            min_categr_count: self.min_categr_count.get(),
            columns: profile
                .columns
                .iter()
                .map(|c| c.name.clone())
                .zip(roles)
                .collect(),
            with_missing: profile
                .columns
                .iter()
                .filter(|c| c.missing > 0)
                .map(|c| c.name.clone())
                .collect(),
            widths,
        })
    }

    /// `(dataset_config.yaml, model_config.yaml, expid)` of the page's settings.
    fn configs(&self) -> Result<(String, String, String), String> {
        self.configs_of(&self.settings.get())
    }

    /// `(dataset_config.yaml, model_config.yaml, expid)` of `settings` on the page's data.
    fn configs_of(&self, settings: &ModelSettings) -> Result<(String, String, String), String> {
        let choice = self.choice()?;
        let dataset_yaml = choice.to_yaml().map_err(|e| e.to_string())?;
        settings.check()?;
        let expid = format!("{}_{}", settings.model, choice.dataset_id);
        let model_yaml = settings.to_yaml(&expid, &choice.dataset_id);
        Ok((dataset_yaml, model_yaml, expid))
    }

    /// Writes the shareable settings into the URL.
    fn sync_url(&self) {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(ex) = self.example.get_untracked() {
            pairs.push(("ex".into(), ex.into()));
            if ex == PLANTED {
                for (k, v) in self.planted.get_untracked().to_query() {
                    pairs.push((k.into(), v));
                }
            }
            if let Some(profile) = self.profile.get_untracked() {
                let edits = ColumnEdits::between(
                    &profile.columns,
                    &self.loaded_roles.get_untracked(),
                    &self.roles.get_untracked(),
                    &self.widths.get_untracked(),
                );
                pairs.extend(edits.to_query());
            }
        }
        for (k, v) in self.settings.get_untracked().to_query() {
            pairs.push((k.into(), v));
        }
        pairs.push(("vf".into(), self.valid_fraction.get_untracked().to_string()));
        pairs.push(("tf".into(), self.test_fraction.get_untracked().to_string()));
        pairs.push((
            "minc".into(),
            self.min_categr_count.get_untracked().to_string(),
        ));
        let be = match self.backend.get_untracked() {
            Backend::Cpu => "cpu",
            Backend::WebGpu => "webgpu",
        };
        pairs.push(("be".into(), be.into()));
        // A lesson stays a lesson when the page is reloaded.
        if let Some(hide) = self.hidden.get_untracked().to_query() {
            pairs.push(("hide".into(), hide));
        }
        self.link.set(browser::set_query(&pairs));
    }

    /// Whether this page's link hides the section, control or setting `name`.
    fn hides(&self, name: &str) -> bool {
        self.hidden.with(|h| h.hides(name))
    }

    fn reset_training(&self) {
        self.loss.set(Vec::new());
        self.gap.set(Vec::new());
        self.valid.set(Vec::new());
        self.events.set(Vec::new());
        self.progress.set(None);
        self.first_epoch.set(None);
        self.stopped_at.set(None);
        self.final_valid.set(None);
        self.final_test.set(None);
        self.samples.set(Vec::new());
        self.started_info.set(None);
        self.map_frames.set(MapFrames::default());
        self.explained.set(None);
    }
}

/// The example whose data the page can generate from parameters.
const PLANTED: &str = "planted";

fn dataset_id_from(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let id: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() { "my_data".into() } else { id }
}

fn post(ui: Ui, msg: &ToWorker, files: Vec<Vec<u8>>) {
    let parts = Array::new();
    parts.push(&msg.to_js());
    for f in files {
        parts.push(&Uint8Array::from(f.as_slice()));
    }
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_none() {
            match start_worker(ui) {
                Ok(handle) => *w = Some(handle),
                Err(e) => {
                    ui.fail(e);
                    return;
                }
            }
        }
        let handle = w.as_mut().expect("just started");
        if handle.ready {
            let _ = handle.worker.post_message(&parts);
        } else {
            handle.queue.push(parts);
        }
    });
}

fn start_worker(ui: Ui) -> Result<WorkerHandle, String> {
    let worker = Worker::new("./worker_loader.js")
        .map_err(|e| format!("cannot start the training worker: {e:?}"))?;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let (msg, bytes) = match data.dyn_ref::<Array>() {
            Some(parts) => (
                parts.get(0),
                (parts.length() > 1).then(|| Uint8Array::new(&parts.get(1)).to_vec()),
            ),
            None => (data, None),
        };
        match FromWorker::from_js(msg) {
            Ok(msg) => on_message(ui, msg, bytes),
            Err(e) => ui.fail(format!("unreadable message from the worker: {e}")),
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let text = js_sys::Reflect::get(&event, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "unknown error".into());
        ui.fail(format!(
            "the training worker crashed ({text}); it restarts on the next run. If the data is \
             large, the tab may have run out of memory."
        ));
        ui.running.set(false);
        WORKER.with(|w| {
            if let Some(h) = w.borrow_mut().take() {
                h.worker.terminate();
            }
        });
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
    Ok(WorkerHandle {
        worker,
        ready: false,
        queue: Vec::new(),
    })
}

fn fmt_metrics(m: &Metrics) -> String {
    m.iter()
        .map(|(k, v)| format!("{} {v:.6}", k.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keeps the maps of the weights training has reached as a frame of the run, and draws them
/// unless the slider holds an earlier frame.
fn show_live_maps(ui: Ui, label: String, maps: InteractionMaps) {
    ui.map_frames.update(|f| {
        if let Some(now) = f.push(label, maps) {
            ui.maps.set(Some(now.clone()));
        }
    });
    ui.no_maps.set(None);
}

fn on_message(ui: Ui, msg: FromWorker, bytes: Option<Vec<u8>>) {
    match msg {
        FromWorker::Ready => WORKER.with(|w| {
            if let Some(h) = w.borrow_mut().as_mut() {
                h.ready = true;
                for parts in h.queue.drain(..) {
                    let _ = h.worker.post_message(&parts);
                }
            }
        }),
        FromWorker::WarmedUp { steps, seconds } => ui.warmed_up.set(Some((steps, seconds))),
        FromWorker::Status { text } => ui.status.set(text),
        FromWorker::Started {
            backend,
            train_rows,
            valid_rows,
            test_rows,
            batches_per_epoch,
            parameters,
            notes,
        } => {
            ui.backend_in_use.set(backend.clone());
            ui.race
                .update(|race| race.started(parameters, js_sys::Date::now()));
            ui.status.set("training".into());
            ui.started_info.set(Some(format!(
                "{train_rows} train / {valid_rows} valid / {test_rows} test rows, \
                 {batches_per_epoch} batches per epoch, {parameters} parameters"
            )));
            for n in notes {
                ui.events.update(|e| e.push(format!("note: {n}")));
            }
        }
        FromWorker::Progress {
            epoch,
            batch,
            batches,
            global_step,
            samples_per_sec,
            epoch_seconds_left,
            loss,
            ensemble_gap,
            maps,
        } => {
            if let Some(maps) = maps {
                show_live_maps(ui, format!("epoch {epoch}, batch {batch}"), maps);
            }
            ui.progress.set(Some(EpochProgress {
                epoch,
                batch,
                batches,
                samples_per_sec,
                seconds_left: epoch_seconds_left,
            }));
            if let Some(l) = loss {
                ui.race.update(|race| race.loss_read(global_step, l));
                ui.loss.update(|v| v.push((global_step as f64, l)));
            }
            if let Some(g) = ensemble_gap {
                ui.gap.update(|v| v.push((global_step as f64, g)));
            }
        }
        FromWorker::Evaluated {
            epoch,
            train_loss,
            metrics,
            improved,
            maps,
        } => {
            if let Some(maps) = maps {
                let label = format!(
                    "epoch {epoch} (valid {})",
                    metrics
                        .iter()
                        .map(|(m, v)| format!("{} {v:.4}", m.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                show_live_maps(ui, label, maps);
            }
            let x = epoch as f64;
            ui.race.update(|race| race.evaluated(epoch, &metrics));
            ui.valid.update(|series| {
                for &(metric, v) in &metrics {
                    match series.iter_mut().find(|(m, _)| *m == metric) {
                        Some((_, points)) => points.push((x, v)),
                        None => series.push((metric, vec![(x, v)])),
                    }
                }
            });
            ui.events.update(|e| {
                e.push(format!(
                    "epoch {epoch}: train loss {train_loss:.4}, valid {}{}",
                    fmt_metrics(&metrics),
                    if improved { " — best so far" } else { "" }
                ))
            });
        }
        FromWorker::LearningRateReduced { learning_rate } => ui
            .events
            .update(|e| e.push(format!("learning rate reduced to {learning_rate:.0e}"))),
        FromWorker::EarlyStopped { epoch } => ui
            .events
            .update(|e| e.push(format!("early stop after epoch {epoch}"))),
        FromWorker::EpochEnded {
            epoch,
            seconds,
            samples_per_sec,
            since_start,
        } => {
            if epoch == 1 {
                ui.first_epoch.set(Some((since_start, samples_per_sec)));
            }
            ui.race.update(|race| race.epoch_ended(samples_per_sec));
            ui.events.update(|e| {
                e.push(format!(
                    "epoch {epoch} done in {seconds:.1} s ({samples_per_sec:.0} samples/s)"
                ))
            });
        }
        FromWorker::Paused => {
            ui.paused.set(true);
            ui.status.set("paused".into());
        }
        FromWorker::Resumed => {
            ui.paused.set(false);
            ui.status.set("training".into());
        }
        FromWorker::Stopped { epoch, global_step } => {
            ui.stopped_at.set(Some(format!(
                "stopped in epoch {epoch} after step {global_step}"
            )));
            ui.status.set("stopped".into());
        }
        FromWorker::Finished {
            stopped,
            epochs,
            valid,
            test,
            network,
            maps,
            samples,
            model_name,
        } => {
            ui.running.set(false);
            ui.paused.set(false);
            ui.status.set(if stopped {
                format!("stopped after {epochs} epoch(s); best weights evaluated")
            } else {
                format!("finished after {epochs} epoch(s)")
            });
            // A race's runs are compared in the race; a run of its own is kept in the browser.
            let saved = (!ui.race.with_untracked(Race::is_on)).then(|| SavedRun {
                saved_at: String::from(js_sys::Date::new_0().to_iso_string()),
                title: model_name
                    .rsplit_once('.')
                    .map_or(model_name.as_str(), |(stem, _)| stem)
                    .to_string(),
                link: ui.link.get_untracked(),
                network: network.clone(),
                monitor: Metric::monitored(ui.settings.with_untracked(|s| s.task)),
                loss: ui.loss.get_untracked(),
                valid: ui.valid.get_untracked(),
                final_valid: valid.clone(),
                final_test: test.clone(),
                model_name: model_name.clone(),
                model_bytes: bytes.as_ref().map_or(0, Vec::len),
            });
            ui.final_valid.set(Some(valid));
            ui.final_test.set(test.clone());
            ui.samples.set(samples);
            ui.explained.set(None);
            let mut next = None;
            ui.race.update(|race| {
                next = race.finished(test.clone(), maps.as_ref(), stopped, js_sys::Date::now())
            });
            ui.no_maps.set(maps.is_none().then_some(network));
            if let Some(m) = &maps {
                // The run ends on the weights it kept (the best evaluation's), shown last.
                ui.map_frames.update(|f| {
                    f.push("after training: the weights kept".into(), m.clone());
                    f.choose(usize::MAX);
                });
            }
            ui.maps.set(maps);
            if let Some(b) = bytes {
                if let Some(run) = saved {
                    save_run(ui, run, b.clone());
                }
                MODEL_BYTES.with(|m| *m.borrow_mut() = Some((model_name.clone(), b)));
                ui.model_name.set(Some(model_name));
            }
            // The next runner of a race starts once this one's results are shown.
            if let Some(settings) = next
                && !start_run(ui, &settings, false)
            {
                ui.race.update(Race::abandon);
            }
        }
        FromWorker::ModelLoaded {
            name,
            network,
            facts,
            fields,
            maps,
        } => {
            ui.running.set(false);
            ui.loaded_info
                .set(Some(describe_model(&name, &network, &facts, &fields)));
            ui.no_maps.set(maps.is_none().then_some(network));
            // The sample rows and maps shown were the previous model's.
            ui.samples.set(Vec::new());
            ui.explained.set(None);
            ui.map_frames.set(MapFrames::default());
            ui.maps.set(maps);
            ui.status.set(format!("loaded {name}"));
        }
        FromWorker::Predictions {
            rows,
            csv,
            metrics,
            undefined,
        } => {
            ui.running.set(false);
            let head: Vec<String> = csv.lines().take(11).map(str::to_string).collect();
            PREDICTIONS.with(|p| *p.borrow_mut() = Some(csv));
            ui.predictions.set(Some(PredictionView {
                rows,
                metrics,
                undefined,
                head,
            }));
            ui.status.set(format!("predicted {rows} rows"));
        }
        FromWorker::Error { text } => {
            ui.race.update(Race::abandon);
            ui.running.set(false);
            ui.paused.set(false);
            ui.status.set("error".into());
            ui.fail(text);
        }
    }
}

/// A model file's facts in words: what it is, how it was trained, how it scored.
fn describe_model(name: &str, network: &str, facts: &ModelFacts, fields: &[String]) -> String {
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    let scores = |m: &Option<Metrics>| match m {
        Some(m) => m
            .iter()
            .map(|(k, v)| format!("{} {v:.4}", k.name()))
            .collect::<Vec<_>>()
            .join(", "),
        None => "—".into(),
    };
    let epochs = facts.epochs.map_or("?".into(), |e| e.to_string());
    format!(
        "{name}: {network}, experiment {} on dataset {}, trained by {} for {epochs} epoch(s); \
         validation {}; test {}. {} fields: {}.",
        text(&facts.expid),
        text(&facts.dataset_id),
        text(&facts.trained_by),
        scores(&facts.valid),
        scores(&facts.test),
        fields.len(),
        fields.join(", ")
    )
}

/// New data: profile the first file and guess every column's role.
fn take_files(ui: Ui, files: Vec<(String, Vec<u8>)>, overrides: &[(&str, ColumnRole)]) {
    // The previous file's problems go; the link's, once, stay.
    ui.error.set(ui.link_problems.get_untracked());
    ui.link_problems.set(None);
    let Some((name, bytes)) = files.first() else {
        return;
    };
    let profile = match profile_csv(bytes.as_slice(), name, Some(PROFILE_ROWS)) {
        Ok(p) => p,
        Err(e) => {
            ui.fail(e.to_string());
            return;
        }
    };
    let mut roles = profile.guess_roles();
    for (col, role) in overrides {
        if let Some(i) = profile.columns.iter().position(|c| c.name == *col) {
            roles[i] = role.clone();
        }
    }
    ui.loaded_roles.set(roles.clone());
    let mut widths = vec![None; roles.len()];
    if let Some((example, edits)) = ui.link_columns.get_untracked()
        && ui.example.get_untracked() == Some(example)
    {
        ui.link_columns.set(None);
        let problems = edits.apply(&profile.columns, &mut roles, &mut widths);
        if !problems.is_empty() {
            // After what the link's other settings left out, when it left something out.
            ui.fail(match ui.error.get_untracked() {
                Some(text) => format!("{text}; {}", problems.join("; ")),
                None => ignored_in_link(&problems),
            });
        }
    }
    let names: Vec<&str> = profile.columns.iter().map(|c| c.name.as_str()).collect();
    if let Some(hint) = qnn_data::csv_table::separator_hint(&names) {
        ui.fail(format!("{name}: one column only{hint}."));
    } else if !roles.contains(&ColumnRole::Label) {
        ui.fail(format!(
            "{name}: no column looks like a 0/1 click label. Mark the label column below: 0/1 \
             values for clicks, or any numbers with the task set to regression."
        ));
    }
    ui.file_names
        .set(files.iter().map(|(n, _)| n.clone()).collect());
    FILES.with(|f| *f.borrow_mut() = files);
    ui.widths.set(widths);
    ui.roles.set(roles);
    ui.profile.set(Some(profile));
    ui.maps.set(None);
    ui.no_maps.set(None);
    ui.reset_training();
    follow_label(ui);
    ui.sync_url();
}

/// Sets the task the label column's values call for (regression for numbers other than 0 and
/// 1), and says why when that changes it.
fn follow_label(ui: Ui) {
    let Some(profile) = ui.profile.get_untracked() else {
        return;
    };
    let roles = ui.roles.get_untracked();
    let Some(label) = roles
        .iter()
        .position(|r| *r == ColumnRole::Label)
        .and_then(|i| profile.columns.get(i))
    else {
        return;
    };
    let Some(task) = profile.task_of(&label.name) else {
        return;
    };
    if task != ui.settings.get_untracked().task {
        ui.settings.update(|s| s.task = task);
        let values = if task.is_binary() {
            "0/1 values"
        } else {
            "numbers other than 0 and 1"
        };
        ui.task_reason.set(Some(format!(
            "set to {} because the label `{}` holds {values}",
            task.name(),
            label.name
        )));
        ui.sync_url();
    }
}

fn load_example(ui: Ui, id: &'static str, keep_split: bool) {
    let Some(example) = by_id(id) else {
        ui.fail(format!("unknown example `{id}`"));
        return;
    };
    ui.example.set(Some(example.id));
    ui.load_progress.set(None);
    if !keep_split {
        ui.valid_fraction.set(example.split.0);
        ui.test_fraction.set(example.split.1);
    }
    ui.notice.set(Some(format!("loading {}…", example.title)));
    let planted = ui.planted.get_untracked();
    if example.id == PLANTED && !planted.is_bundled() {
        // Generated here from the parameters: the same generator made the bundled file.
        match planted.csv() {
            Ok(csv) => {
                ui.notice.set(Some(format!(
                    "{} (generated in this tab): {}",
                    example.title,
                    planted.describe()
                )));
                take_files(ui, vec![("planted.csv".into(), csv.into_bytes())], &[]);
            }
            Err(e) => ui.fail(format!("planted example: {e}")),
        }
        return;
    }
    spawn_local(async move {
        let mut files = Vec::new();
        for path in example.files {
            match browser::fetch_bytes(path).await {
                Ok(b) => files.push((path.rsplit('/').next().unwrap_or(path).to_string(), b)),
                Err(e) => {
                    ui.fail(format!("cannot load the example: {e}"));
                    return;
                }
            }
        }
        let overrides: Vec<(&str, ColumnRole)> = example
            .roles
            .iter()
            .map(|(c, r)| (*c, r.to_role()))
            .collect();
        ui.notice
            .set(Some(format!("{}: {}", example.title, example.blurb)));
        take_files(ui, files, &overrides);
    });
}

fn load_user_files(ui: Ui, list: web_sys::FileList) {
    let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    if files.is_empty() {
        return;
    }
    let sizes: Vec<(String, f64)> = files.iter().map(|f| (f.name(), f.size())).collect();
    if let Err(e) = crate::uploads::check_upload(&sizes) {
        ui.fail(e);
        return;
    }
    ui.example.set(None);
    ui.error.set(None);
    ui.load_progress.set(Some(0.0));
    spawn_local(async move {
        let mut loaded = Vec::new();
        let total = files.len() as f64;
        for (i, file) in files.iter().enumerate() {
            let progress = move |f: f64| ui.load_progress.set(Some((i as f64 + f) / total));
            match browser::read_file(file, &progress).await {
                Ok(bytes) if bytes.is_empty() => {
                    ui.load_progress.set(None);
                    ui.fail(format!("{}: the file is empty", file.name()));
                    return;
                }
                Ok(bytes) => loaded.push((file.name(), bytes)),
                Err(e) => {
                    ui.load_progress.set(None);
                    ui.fail(e);
                    return;
                }
            }
        }
        // The full bar stays until the next load: it says the whole file was read.
        ui.load_progress.set(Some(1.0));
        ui.notice.set(Some(format!(
            "loaded {} (the data stays in this tab)",
            loaded
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
        take_files(ui, loaded, &[]);
    });
}

fn start_training(ui: Ui) {
    ui.race.update(Race::abandon);
    start_run(ui, &ui.settings.get_untracked(), false);
}

/// Keeps a finished run in the browser's storage; a storage error (the quota) is a message, and
/// the run stays on the page.
fn save_run(ui: Ui, run: SavedRun, model: Vec<u8>) {
    spawn_local(async move {
        match store::save(&run, &model).await {
            Ok(_) => refresh_runs(ui).await,
            Err(e) => ui.fail(format!(
                "this run was not saved in the browser ({e}); it stays on this page — delete saved runs below to make room"
            )),
        }
    });
}

/// Reads the list of saved runs and the storage used.
async fn refresh_runs(ui: Ui) {
    match store::list().await {
        Ok((runs, unreadable)) => {
            ui.saved_runs.set(runs);
            if unreadable > 0 {
                ui.fail(format!(
                    "{unreadable} saved run(s) from another version could not be read"
                ));
            }
        }
        Err(e) => ui.fail(e),
    }
    ui.storage_use.set(store::estimate().await);
}

/// Shows a saved run again: its curves and scores, and its model (maps, predictions, download).
fn open_run(ui: Ui, key: f64) {
    let Some(run) = ui
        .saved_runs
        .with_untracked(|r| r.iter().find(|(k, _)| *k == key).map(|(_, r)| r.clone()))
    else {
        return;
    };
    spawn_local(async move {
        let model = match store::model(key).await {
            Ok(m) => m,
            Err(e) => return ui.fail(e),
        };
        ui.reset_training();
        ui.loss.set(run.loss.clone());
        ui.valid.set(run.valid.clone());
        ui.final_valid.set(Some(run.final_valid.clone()));
        ui.final_test.set(run.final_test.clone());
        ui.opened_run.set(Some(key));
        MODEL_BYTES.with(|m| *m.borrow_mut() = Some((run.model_name.clone(), model.clone())));
        ui.model_name.set(Some(run.model_name.clone()));
        ui.running.set(true);
        ui.status
            .set(format!("opening the saved run {}…", run.title));
        let backend = ui.backend.get_untracked();
        post(
            ui,
            &ToWorker::LoadModel {
                name: run.model_name,
                backend,
            },
            vec![model],
        );
    });
}

fn delete_run(ui: Ui, key: f64) {
    spawn_local(async move {
        match store::delete(key).await {
            Ok(()) => {
                ui.runs_compared.update(|c| c.retain(|k| *k != key));
                refresh_runs(ui).await;
            }
            Err(e) => ui.fail(e),
        }
    });
}

/// Trains the opened FuxiCTR experiment on the page's files, as `qnn train` would.
fn start_configs(ui: Ui) {
    let (Some(files), Some(experiment)) = (
        ui.config_files.get_untracked(),
        ui.config_experiment.get_untracked(),
    ) else {
        return;
    };
    ui.race.update(Race::abandon);
    send_train(
        ui,
        ToWorker::Train {
            dataset_yaml: files.dataset.text,
            model_yaml: files.model.text,
            expid: experiment.expid,
            backend: ui.backend.get_untracked(),
            files: Vec::new(),
            start_paused: false,
        },
    );
}

/// One training step: of the paused run, or of a new run that then waits, paused.
fn step(ui: Ui) {
    if ui.running.get_untracked() {
        post(ui, &ToWorker::Step, Vec::new());
    } else {
        ui.race.update(Race::abandon);
        start_run(ui, &ui.settings.get_untracked(), true);
    }
}

/// Starts training `settings` on the page's data (paused after one step when `start_paused`);
/// false when the settings or data are refused.
fn start_run(ui: Ui, settings: &ModelSettings, start_paused: bool) -> bool {
    ui.error.set(None);
    let (dataset_yaml, model_yaml, expid) = match ui.configs_of(settings) {
        Ok(c) => c,
        Err(e) => {
            ui.fail(e);
            return false;
        }
    };
    send_train(
        ui,
        ToWorker::Train {
            dataset_yaml,
            model_yaml,
            expid,
            backend: ui.backend.get_untracked(),
            files: Vec::new(),
            start_paused,
        },
    );
    true
}

/// Posts a `Train` message with the page's files attached (their names filled in).
fn send_train(ui: Ui, mut msg: ToWorker) {
    ui.reset_training();
    ui.running.set(true);
    ui.status.set("starting…".into());
    ui.backend_in_use
        .set(ui.backend.get_untracked().label().into());
    let (names, bytes): (Vec<String>, Vec<Vec<u8>>) =
        FILES.with(|f| f.borrow().iter().cloned().unzip());
    if let ToWorker::Train { files, .. } = &mut msg {
        *files = names;
    }
    post(ui, &msg, bytes);
}

/// Races the ticked runners, one after another, on the page's data and settings.
fn start_race(ui: Ui) {
    let base = ui.settings.get_untracked();
    let entries: Vec<Entry> = RUNNERS
        .iter()
        .filter(|r| ui.race_chosen.get_untracked().contains(&r.label))
        .map(|r| r.entry(&base))
        .collect();
    if entries.is_empty() {
        ui.fail("tick at least one network to race");
        return;
    }
    run_race(ui, Kind::Networks, entries);
}

/// Trains the page's settings once per seed, from the page's seed on.
fn start_sweep(ui: Ui) {
    let base = ui.settings.get_untracked();
    run_race(
        ui,
        Kind::Seeds,
        Entry::seeds(&base, ui.sweep_runs.get_untracked()),
    );
}

fn run_race(ui: Ui, kind: Kind, entries: Vec<Entry>) {
    let mut first = None;
    ui.race.update(|race| first = race.start(kind, entries));
    if let Some(settings) = first
        && !start_run(ui, &settings, false)
    {
        ui.race.update(Race::abandon);
    }
}

fn export_configs(ui: Ui) {
    match ui.configs() {
        Ok((d, m, _)) => {
            browser::download("dataset_config.yaml", d.as_bytes(), "text/yaml");
            browser::download("model_config.yaml", m.as_bytes(), "text/yaml");
        }
        Err(e) => ui.fail(e),
    }
}

/// What the page says of the parts of its link it could not take.
fn ignored_in_link(problems: &[String]) -> String {
    format!(
        "some settings in the link were ignored: {}",
        problems.join("; ")
    )
}

/// Restores settings from the URL's `pairs`; returns the example to load.
fn restore_from_url(ui: Ui, pairs: &[(String, String)]) -> Option<&'static str> {
    let mut settings = ui.settings.get_untracked();
    let mut problems = settings.apply_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    ui.settings.set(settings);
    ui.planted.update(|p| {
        problems.extend(p.apply_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
    });
    let mut example = None;
    for (k, v) in pairs {
        match k.as_str() {
            "ex" => match by_id(v) {
                Some(e) => example = Some(e.id),
                None => problems.push(format!("ex: no example `{v}`")),
            },
            "vf" => match v.parse::<f64>() {
                Ok(f) if (0.0..1.0).contains(&f) => ui.valid_fraction.set(f),
                _ => problems.push(format!("vf: `{v}` is not a fraction")),
            },
            "tf" => match v.parse::<f64>() {
                Ok(f) if (0.0..1.0).contains(&f) => ui.test_fraction.set(f),
                _ => problems.push(format!("tf: `{v}` is not a fraction")),
            },
            "minc" => match v.parse::<usize>() {
                Ok(n) if n >= 1 => ui.min_categr_count.set(n),
                _ => problems.push(format!("minc: `{v}` is not a count ≥ 1")),
            },
            "be" => match v.as_str() {
                "cpu" => ui.backend.set(Backend::Cpu),
                "webgpu" => ui.backend.set(Backend::WebGpu),
                _ => problems.push(format!("be: `{v}` is not cpu or webgpu")),
            },
            "hide" => {
                let (hidden, unknown) = Hidden::parse(v);
                problems.extend(unknown);
                ui.lesson_draft.set(hidden.clone());
                ui.hidden.set(hidden);
            }
            _ => {}
        }
    }
    let (edits, unread) = ColumnEdits::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    problems.extend(unread);
    match example {
        _ if edits.is_empty() => {}
        Some(example) => ui.link_columns.set(Some((example, edits))),
        None => problems.push(format!(
            "{}: column roles and widths apply to an example, and the link opens none",
            edits.to_query()[0].0
        )),
    }
    if !problems.is_empty() {
        let text = ignored_in_link(&problems);
        // Loading the link's example clears old errors: this one must outlive it.
        if example.is_some() {
            ui.link_problems.set(Some(text.clone()));
        }
        ui.fail(text);
    }
    example
}

#[component]
fn App() -> impl IntoView {
    let ui = Ui::new();
    let pairs = browser::query_pairs();
    let in_link = |keys: &[&str]| pairs.iter().any(|(k, _)| keys.contains(&k.as_str()));
    let from_url = restore_from_url(ui, &pairs);
    let backend_from_url = in_link(&["be"]);
    spawn_local(async move {
        let info = browser::webgpu_info().await;
        // Hardware WebGPU is the default; a software adapter is slower than the CPU backend.
        if !backend_from_url {
            ui.backend.set(if info.available && !info.software {
                Backend::WebGpu
            } else {
                Backend::Cpu
            });
        }
        ui.webgpu.set(info);
        // The worker's first training steps run in the wasm engine's baseline tier; a moment
        // of synthetic training while the page is idle moves them to the optimising tier
        // before the user's first epoch. (WebGPU's first epoch is shader compilation.)
        if ui.backend.get_untracked() == Backend::Cpu {
            post(ui, &ToWorker::WarmUp, Vec::new());
        }
    });
    if let Some(ex) = from_url {
        load_example(ui, ex, in_link(&["vf", "tf"]));
    }
    spawn_local(refresh_runs(ui));
    view! {
        <header>
            <h1>"QNN Lab"</h1>
            <p class="tagline">"Train a quadratic neural network for click-through-rate prediction in your browser, and look inside it. Your data never leaves this tab."</p>
        </header>
        <ErrorBox ui />
        <LessonBanner ui />
        <DataSection ui />
        <SchemaSection ui />
        <ModelSection ui />
        <ConfigsSection ui />
        <TrainSection ui />
        <RaceSection ui />
        <InsideSection ui />
        <FilesSection ui />
        <RunsSection ui />
    }
}

/// Says that a lesson link hides part of the page, with the way back to all of it.
#[component]
fn LessonBanner(ui: Ui) -> impl IntoView {
    let everything = move || browser::with_param(&ui.link.get(), "hide", None);
    view! {
        <Show when=move || !ui.hidden.with(Hidden::is_empty)>
            <p id="lesson-banner" class="notice">
                {move || format!("This lesson's link hides part of the page ({}). ", ui.hidden.with(|h| h.names().join(", ")))}
                <a id="unhide" href=everything>"Show everything"</a>
            </p>
        </Show>
    }
}

#[component]
fn ErrorBox(ui: Ui) -> impl IntoView {
    view! {
        <Show when=move || ui.error.get().is_some()>
            <div id="error" class="error" role="alert">
                <strong>"Problem: "</strong>
                <span class="error-text">{move || ui.error.get().unwrap_or_default()}</span>
                <button class="dismiss" on:click=move |_| ui.error.set(None)>"dismiss"</button>
            </div>
        </Show>
    }
}

#[component]
fn DataSection(ui: Ui) -> impl IntoView {
    let on_files = move |ev: web_sys::Event| {
        let input: HtmlInputElement = event_target(&ev);
        if let Some(list) = input.files() {
            load_user_files(ui, list);
        }
        input.set_value("");
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        if let Some(list) = ev.data_transfer().and_then(|d| d.files()) {
            load_user_files(ui, list);
        }
    };
    view! {
        <section id="data" hidden=move || ui.hides("data")>
            <h2>"1 · Data"</h2>
            <p>"Pick a bundled example, or use your own CSV with a header line and a 0/1 label column. Give one file (split at random) or train, validation and test files together."</p>
            <div class="examples">
                {EXAMPLES.iter().map(|e| {
                    let id = e.id;
                    view! {
                        <button class="example" data-example=id title=e.blurb
                            class:selected=move || ui.example.get() == Some(id)
                            on:click=move |_| load_example(ui, id, false)>{e.title}</button>
                    }
                }).collect_view()}
            </div>
            <Show when=move || ui.example.get() == Some(PLANTED)>
                <PlantedParams ui />
            </Show>
            <div class="dropzone" id="dropzone"
                on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
                on:drop=on_drop>
                <label>"Your CSV file(s): "
                    <input type="file" id="file-input" accept=".csv,.txt,text/csv" multiple on:change=on_files />
                </label>
                " or drop them here."
            </div>
            <Show when=move || ui.load_progress.get().is_some()>
                <progress id="load-progress" max="1" value=move || ui.load_progress.get().unwrap_or(0.0)></progress>
            </Show>
            <p id="notice" class="muted">{move || ui.notice.get().unwrap_or_default()}</p>
        </section>
    }
}

#[component]
fn SchemaSection(ui: Ui) -> impl IntoView {
    let rows = move || {
        let Some(profile) = ui.profile.get() else {
            return view! { <tr><td colspan="6" class="muted">"no data yet"</td></tr> }.into_any();
        };
        let roles = ui.roles.get();
        profile
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let role = roles.get(i).cloned().unwrap_or(ColumnRole::Ignore);
                let column = c.clone();
                let current = role.name();
                let seq = if let ColumnRole::Sequence { splitter } = &role {
                    format!(" (split on `{splitter}`)")
                } else {
                    String::new()
                };
                let distinct = if c.distinct >= qnn_data::schema::DISTINCT_CAP {
                    format!("≥ {}", c.distinct)
                } else {
                    c.distinct.to_string()
                };
                let width = ui.widths.with(|w| w.get(i).copied().flatten());
                let on_width = move |ev: web_sys::Event| {
                    let text = event_target_value(&ev);
                    let width = match text.trim() {
                        "" => None,
                        t => match columns::parse_width(t) {
                            Ok(n) => Some(n),
                            Err(reason) => {
                                return ui.fail(format!("embedding width of `{}`: {reason}", ui.column_name(i)));
                            }
                        },
                    };
                    ui.widths.update(|w| w[i] = width);
                    ui.sync_url();
                };
                let on_change = move |ev: web_sys::Event| {
                    let Some(role) = columns::role_named(&column, &event_target_value(&ev)) else {
                        return;
                    };
                    let is_label = role == ColumnRole::Label;
                    ui.roles.update(|r| r[i] = role);
                    if is_label {
                        follow_label(ui);
                    }
                    ui.sync_url();
                };
                view! {
                    <tr data-column=c.name.clone()>
                        <td class="name">{c.name.clone()}</td>
                        <td>
                            <select class="role" on:change=on_change prop:value=current>
                                {ColumnRole::NAMES.iter().map(|r| view! { <option value=*r selected={*r == current}>{*r}</option> }).collect_view()}
                            </select>
                            {seq}
                        </td>
                        <td class="num">{distinct}</td>
                        <td class="num">{c.missing}</td>
                        <td class="example-value">{c.example.clone().unwrap_or_default()}</td>
                        <td>
                            <input type="number" class="width" min="1" placeholder="E"
                                title="this field's own embedding width (empty: the model's embedding_dim)"
                                disabled=!role.is_feature()
                                prop:value=width.map(|w| w.to_string()).unwrap_or_default()
                                on:change=on_width />
                        </td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
    };
    let rows_note = move || {
        ui.profile.get().map(|p| {
            format!(
                "{} rows{} of {}",
                p.rows,
                if p.truncated {
                    " profiled (the rest is read when training)"
                } else {
                    ""
                },
                p.source
            )
        })
    };
    view! {
        <section id="schema" hidden=move || ui.hides("schema")>
            <h2>"2 · Schema"</h2>
            <p class="muted" id="profile-note">{rows_note}</p>
            <table class="schema">
                <thead><tr><th>"column"</th><th>"used as"</th><th>"distinct values"</th><th>"missing"</th><th>"example"</th><th>"own width"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <div class="row">
                <label>"min_categr_count "
                    <input type="number" min="1" id="min-categr-count" prop:value=move || ui.min_categr_count.get().to_string()
                        on:change=move |ev| {
                            match event_target_value(&ev).parse::<usize>() {
                                Ok(n) if n >= 1 => { ui.min_categr_count.set(n); ui.sync_url(); }
                                _ => ui.fail("min_categr_count must be a whole number ≥ 1"),
                            }
                        } />
                </label>
                <span class="help">"tokens seen fewer times in the training rows share one out-of-vocabulary embedding"</span>
            </div>
            <Show when=move || { ui.file_names.get().len() <= 1 }
                fallback=move || view! { <p class="muted" id="split-files">{move || {
                    let n = ui.file_names.get();
                    format!("train: {}, validation: {}, test: {}", n[0], n.get(1).cloned().unwrap_or_default(), n.get(2).cloned().unwrap_or_else(|| "none".into()))
                }}</p> }>
                <div class="row">
                    <label>"validation fraction "
                        <input type="number" step="0.05" min="0.05" max="0.5" id="valid-fraction" prop:value=move || ui.valid_fraction.get().to_string()
                            on:change=move |ev| { match event_target_value(&ev).parse::<f64>() {
                                Ok(f) if f > 0.0 && f < 1.0 => { ui.valid_fraction.set(f); ui.sync_url(); }
                                _ => ui.fail("the validation fraction must be between 0 and 1"),
                            } } />
                    </label>
                    <label>"test fraction "
                        <input type="number" step="0.05" min="0" max="0.5" id="test-fraction" prop:value=move || ui.test_fraction.get().to_string()
                            on:change=move |ev| { match event_target_value(&ev).parse::<f64>() {
                                Ok(f) if (0.0..1.0).contains(&f) => { ui.test_fraction.set(f); ui.sync_url(); }
                                _ => ui.fail("the test fraction must be between 0 and 1"),
                            } } />
                    </label>
                    <span class="help">"rows drawn at random with the seed below"</span>
                </div>
            </Show>
            <button id="export-configs" on:click=move |_| export_configs(ui)>"Export dataset_config.yaml + model_config.yaml"</button>
            <span class="help">" — run them with " <code>"qnn train --config <dir> --expid <network>_<dataset>"</code> " next to your CSV."</span>
        </section>
    }
}

#[component]
fn ModelSection(ui: Ui) -> impl IntoView {
    let webgpu_line = move || {
        let info = ui.webgpu.get();
        if !info.available {
            "This browser offers no WebGPU: training runs on the CPU (wasm).".to_string()
        } else if info.software {
            format!(
                "WebGPU is available but software-only ({}): far slower than the CPU backend, so the CPU is the default.",
                info.name
            )
        } else {
            format!("WebGPU adapter: {}.", info.name)
        }
    };
    view! {
        <section id="model" hidden=move || ui.hides("model")>
            <h2>"3 · Model"</h2>
            <div class="presets" hidden=move || ui.hides("presets")>"Presets: "
                {Preset::ALL.iter().map(|p| {
                    let p = *p;
                    view! { <button class="preset" data-preset=p.label() on:click=move |_| {
                        // A preset is hyper-parameters; what the label is stays.
                        let task = ui.settings.get_untracked().task;
                        ui.settings.set(ModelSettings { task, ..p.settings() });
                        ui.settings_error.set(None);
                        ui.sync_url();
                    }>{p.label()}</button> }
                }).collect_view()}
            </div>
            <div class="row" hidden=move || ui.hides("network")>
                <label>"Network "
                    <select id="network" prop:value=move || ui.settings.get().model
                        on:change=move |ev| {
                            let mut s = ui.settings.get_untracked();
                            match s.set_model(&event_target_value(&ev)) {
                                Ok(()) => { ui.settings_error.set(s.check().err()); ui.settings.set(s); ui.sync_url(); }
                                Err(e) => ui.fail(e),
                            }
                        }>
                        {MODELS.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
                    </select>
                </label>
                <span class="help">"QNN, or one of FuxiCTR's baselines to compare it with on the same split (their MLPs: 64-32 units, ReLU); settings a network does not read are hidden"</span>
            </div>
            <div class="row" hidden=move || ui.hides("task")>
                <label>"Task "
                    <select id="task" prop:value=move || ui.settings.get().task.name()
                        on:change=move |ev| {
                            let mut s = ui.settings.get_untracked();
                            match s.set_task(&event_target_value(&ev)) {
                                Ok(()) => { ui.settings.set(s); ui.task_reason.set(None); ui.sync_url(); }
                                Err(e) => ui.fail(e),
                            }
                        }>
                        {Task::NAMES.iter().map(|t| view! { <option value=*t>{*t}</option> }).collect_view()}
                    </select>
                </label>
                <span class="help">{qnn_keys::TASK.help}</span>
                <span id="task-reason" class="help">{move || ui.task_reason.get().unwrap_or_default()}</span>
            </div>
            <table class="params">
                {SETTINGS.iter().map(|p| {
                    let key = p.name();
                    let set = move |text: &str| {
                        let mut s = ui.settings.get_untracked();
                        match s.set(key, text) {
                            Ok(()) => { ui.settings_error.set(s.check().err()); ui.settings.set(s); ui.sync_url(); }
                            Err(e) => { ui.settings_error.set(Some(e)); ui.settings.notify(); }
                        }
                    };
                    let input = if p.is_flag() {
                        view! {
                            <input type="checkbox" id=format!("param-{key}") class="param" data-key=key
                                prop:checked=move || ui.settings.get().get(key).as_deref() == Some("true")
                                on:change=move |ev| set(if event_target_checked(&ev) { "true" } else { "false" }) />
                        }.into_any()
                    } else {
                        view! {
                            <input id=format!("param-{key}") class="param" data-key=key
                                prop:value=move || ui.settings.get().get(key).unwrap_or_default()
                                on:change=move |ev| set(&event_target_value(&ev)) />
                        }.into_any()
                    };
                    view! {
                        <tr hidden=move || !reads(&ui.settings.get().model, key) || ui.hides(key)>
                            <td><label for=format!("param-{key}")>{key}</label></td>
                            <td>{input}</td>
                            <td class="help">{p.key.help}</td>
                        </tr>
                    }
                }).collect_view()}
            </table>
            <p id="settings-error" class="error-inline">{move || ui.settings_error.get().unwrap_or_default()}</p>
            <div class="row" hidden=move || ui.hides("backend")>
                <label>"Backend "
                    <select id="backend" prop:value=move || match ui.backend.get() { Backend::Cpu => "cpu", Backend::WebGpu => "webgpu" }
                        on:change=move |ev| { ui.backend.set(if event_target_value(&ev) == "webgpu" { Backend::WebGpu } else { Backend::Cpu }); ui.sync_url(); }>
                        <option value="cpu">"CPU (wasm)"</option>
                        <option value="webgpu" disabled=move || !ui.webgpu.get().available>"WebGPU"</option>
                    </select>
                </label>
                <span class="help" id="webgpu-info">{webgpu_line}</span>
            </div>
            <p class="muted">"Shareable link (example, schema edits, settings and seed): "
                <a id="share-link" href=move || ui.link.get()>{move || ui.link.get()}</a></p>
            <LessonBuilder ui />
        </section>
    }
}

/// The runs kept in this browser: listed, reopened, compared and deleted.
#[component]
fn RunsSection(ui: Ui) -> impl IntoView {
    const COLORS: [&str; 6] = [
        "#2471a3", "#c0392b", "#117a65", "#7d3c98", "#b9770e", "#2e4053",
    ];
    let compared = Signal::derive(move || {
        let ticked = ui.runs_compared.get();
        ui.saved_runs.with(|runs| {
            runs.iter()
                .filter(|(k, _)| ticked.contains(k))
                .zip(COLORS.iter().cycle())
                .filter_map(|((_, r), color)| {
                    Some(Series {
                        // Runs of one experiment share a title: the time they were saved
                        // (as the table shows it) tells them apart.
                        name: format!(
                            "{} {} ({})",
                            r.title,
                            r.saved_at.get(11..19).unwrap_or_default(),
                            r.monitor.name()
                        ),
                        color,
                        points: r.curve(r.monitor)?.to_vec(),
                    })
                })
                .collect()
        })
    });
    let stored_bytes = move || {
        ui.saved_runs
            .with(|r| r.iter().map(|(_, r)| r.stored_bytes()).sum::<usize>())
    };
    let usage = move || {
        let (count, bytes) = (ui.saved_runs.with(Vec::len), stored_bytes());
        let quota = ui
            .storage_use
            .get()
            .map(|(_, q)| format!("; the browser allows this page {:.0} MB", q / 1e6))
            .unwrap_or_default();
        format!("{count} run(s) kept, {:.1} kB{quota}", bytes as f64 / 1e3)
    };
    view! {
        <section id="runs" hidden=move || ui.hides("runs")>
            <h2>"7 · Saved runs"</h2>
            <p class="help">"Every run you train on its own (not race laps) is kept in this browser, with its model file: reopen it (its curves, scores and interaction maps come back, and Predict and Download use its model), tick runs to compare their validation curves, or delete them. They stay in this browser only."</p>
            <p id="runs-usage" class="muted" data-bytes=move || stored_bytes().to_string()>{usage}</p>
            <table id="saved-runs" class="samples">
                <thead><tr><th>"compare"</th><th>"run"</th><th>"saved"</th><th>"network"</th><th>"score"</th><th>"size"</th><th></th></tr></thead>
                <tbody>{move || ui.saved_runs.get().into_iter().rev().map(|(key, run)| {
                    let score = run.score().map(|(split, v)| format!("{split} {} {v:.4}", run.monitor.name())).unwrap_or_default();
                    view! {
                        <tr data-run-key=key.to_string() data-score=run.score().map(|(_, v)| format!("{v:.8}")).unwrap_or_default()
                            class:explained=move || ui.opened_run.get() == Some(key)>
                            <td><input type="checkbox" class="run-compare"
                                prop:checked=move || ui.runs_compared.get().contains(&key)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    ui.runs_compared.update(|c| { c.retain(|k| *k != key); if on { c.push(key); } });
                                } /></td>
                            <td><a href=run.link.clone()>{run.title.clone()}</a></td>
                            <td>{run.saved_at.get(..19).unwrap_or_default().replace('T', " ")}</td>
                            <td>{run.network.clone()}</td>
                            <td class="num">{score}</td>
                            <td class="num">{format!("{:.1} kB", run.stored_bytes() as f64 / 1e3)}</td>
                            <td>
                                <button class="run-open" disabled=move || ui.running.get() on:click=move |_| open_run(ui, key)>"Open"</button>
                                <button class="run-delete" on:click=move |_| delete_run(ui, key)>"Delete"</button>
                            </td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
            <LineChart id="runs-chart" title="Validation of the runs ticked" x_label="epochs" series=compared />
        </section>
    }
}

/// Opens a FuxiCTR config pair, explains the chosen experiment's keys, and trains it on the
/// page's data; the `qnn train` command runs it at full scale.
#[component]
fn ConfigsSection(ui: Ui) -> impl IntoView {
    let choose = move |expid: &str| {
        let explained = ui
            .config_files
            .with_untracked(|c| c.as_ref().map(|c| c.explain(expid)));
        match explained {
            Some(Ok(e)) => ui.config_experiment.set(Some(e)),
            Some(Err(e)) => {
                ui.config_experiment.set(None);
                ui.fail(e);
            }
            None => {}
        }
    };
    let on_files = move |ev: web_sys::Event| {
        let input: HtmlInputElement = event_target(&ev);
        let files: Vec<web_sys::File> = input
            .files()
            .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
            .unwrap_or_default();
        input.set_value("");
        ui.error.set(None);
        spawn_local(async move {
            let mut texts = Vec::new();
            for file in &files {
                match browser::read_file(file, &|_| {}).await {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => texts.push((file.name(), text)),
                        Err(_) => return ui.fail(format!("{}: is not UTF-8 text", file.name())),
                    },
                    Err(e) => return ui.fail(e),
                }
            }
            match crate::configs::open(texts) {
                Ok(opened) => {
                    let first = opened.experiments[0].clone();
                    ui.config_files.set(Some(opened));
                    choose(&first);
                }
                Err(e) => {
                    ui.config_files.set(None);
                    ui.config_experiment.set(None);
                    ui.fail(e);
                }
            }
        });
    };
    let missing = move || {
        let uploaded = ui.file_names.get();
        ui.config_experiment
            .with(|e| e.as_ref().map(|e| e.missing(&uploaded)).unwrap_or_default())
    };
    view! {
        <section id="configs" hidden=move || ui.hides("configs")>
            <h2>"3b · Or: FuxiCTR configs"</h2>
            <p class="help">"Open a model_config.yaml and a dataset_config.yaml together (the files qnn train and FuxiCTR read): each key of the experiment is explained, and Train these configs runs it on the data above (the files it names are matched by name to the files loaded). The command below runs the same experiment at full scale."</p>
            <label>"Config files: "<input type="file" id="config-files" accept=".yaml,.yml" multiple on:change=on_files /></label>
            {move || ui.config_files.get().map(|c| view! {
                <label>" Experiment "
                    <select id="config-expid" on:change=move |ev| choose(&event_target_value(&ev))>
                        {c.experiments.iter().map(|x| view! { <option value=x.clone()>{x.clone()}</option> }).collect_view()}
                    </select>
                </label>
            })}
            {move || ui.config_experiment.get().map(|e| {
                let command = e.command();
                view! {
                    <table id="config-keys" class="samples">
                        <thead><tr><th>"key"</th><th>"value"</th><th>"from"</th><th>"what it does"</th></tr></thead>
                        <tbody>{e.keys.iter().map(|k| view! {
                            <tr data-key=k.key.clone() class:unread=!k.read>
                                <td><code>{k.key.clone()}</code></td><td><code>{k.value.clone()}</code></td>
                                <td>{k.file.clone()}</td>
                                <td>{if k.read { k.help.clone() } else { format!("{} (no effect here)", k.help) }}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                    <p>"Full scale: " <code id="config-command">{command}</code></p>
                }
            })}
            <p id="config-missing" class="error-inline">{move || {
                let m = missing();
                (!m.is_empty()).then(|| format!("load these files above first: {}", m.join(", ")))
            }}</p>
            <button id="config-start"
                disabled=move || ui.running.get() || ui.config_experiment.with(Option::is_none) || !missing().is_empty()
                on:click=move |_| start_configs(ui)>"Train these configs"</button>
        </section>
    }
}

/// The planted example's parameters, and a button that generates its data from them.
#[component]
fn PlantedParams(ui: Ui) -> impl IntoView {
    let input = move |name: &'static str, label: &'static str, help: &'static str| {
        view! {
            <label title=help>{label}" "
                <input class="planted-param" id=format!("planted-{name}") data-name=name size="8"
                    prop:value=move || ui.planted.with(|p| p.get(name).unwrap_or_default())
                    on:change=move |ev| {
                        let mut p = ui.planted.get_untracked();
                        match p.set(name, &event_target_value(&ev)) {
                            Ok(()) => ui.planted.set(p),
                            Err(e) => { ui.fail(format!("planted example: {e}")); ui.planted.notify(); }
                        }
                    } />
            </label>
        }
    };
    view! {
        <div class="row planted" id="planted">
            <strong>"Planted example: "</strong>
            {input("pf", "fields", "how many categorical fields (f0, f1, …)")}
            {input("pi", "interacting", "the fields whose signs together decide the click: a pair (2,5) or a triple (1,3,4)")}
            {input("pn", "noise", "the chance that a row's click is flipped (0 to 0.5)")}
            {input("pt", "tokens", "distinct values per field")}
            {input("pr", "rows", "rows generated")}
            <label title="add a column whose value is the interacting fields' values together: the feature cross an engineer would add, which even LR can use">
                <input type="checkbox" id="planted-px" prop:checked=move || ui.planted.with(|p| p.cross)
                    on:change=move |ev| ui.planted.update(|p| p.cross = event_target_checked(&ev)) />
                " cross column"
            </label>
            <button id="planted-generate" on:click=move |_| load_example(ui, PLANTED, true)>"Generate"</button>
            <span class="help" id="planted-summary">{move || ui.planted.with(Planted::describe)}</span>
        </div>
    }
}

/// Builds a lesson link: the shareable link with the parts of the page ticked here hidden.
#[component]
fn LessonBuilder(ui: Ui) -> impl IntoView {
    let link = move || {
        let hide = ui.lesson_draft.with(Hidden::to_query);
        browser::with_param(&ui.link.get(), "hide", hide.as_deref())
    };
    view! {
        <div class="row lesson" id="lesson">
            "Lesson link — hide: "
            {lesson::SECTIONS.iter().chain(&lesson::CONTROLS).map(|name| {
                let name = *name;
                view! {
                    <label><input type="checkbox" class="lesson-hide" data-name=name
                        prop:checked=move || ui.lesson_draft.with(|h| h.hides(name))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            ui.lesson_draft.update(|h| h.set(name, on));
                        } />{name}</label>
                }
            }).collect_view()}
            <a id="lesson-link" href=link>"lesson link"</a>
            <span class="help">"Students get this example and these settings, without the parts ticked. A setting alone is hidden (and fixed) by adding its name to hide=, e.g. hide=data,network,epochs."</span>
        </div>
    }
}

#[component]
fn TrainSection(ui: Ui) -> impl IntoView {
    let loss = Signal::derive(move || {
        vec![Series {
            name: "train loss".into(),
            color: "#c0392b",
            points: ui.loss.get(),
        }]
    });
    const COLORS: [&str; 3] = ["#7d3c98", "#2471a3", "#b9770e"];
    let metrics = Signal::derive(move || {
        ui.valid
            .get()
            .into_iter()
            .zip(COLORS.iter().cycle())
            .map(|((metric, points), color)| Series {
                name: format!("valid {}", metric.name()),
                color,
                points,
            })
            .collect()
    });
    let gap = Signal::derive(move || {
        vec![Series {
            name: "|p1 − p2|".into(),
            color: "#117a65",
            points: ui.gap.get(),
        }]
    });
    let progress_line = move || {
        ui.progress.get().map(|p| {
            format!(
                "epoch {}, batch {}/{} · {:.0} samples/s · about {:.0} s left in this epoch",
                p.epoch, p.batch, p.batches, p.samples_per_sec, p.seconds_left
            )
        })
    };
    view! {
        <section id="train">
            <h2>"4 · Train"</h2>
            <div class="row">
                <button id="start" disabled=move || ui.running.get() || ui.profile.get().is_none()
                    on:click=move |_| start_training(ui)>"Start"</button>
                <button id="pause" disabled=move || !ui.running.get()
                    on:click=move |_| post(ui, if ui.paused.get_untracked() { &ToWorker::Resume } else { &ToWorker::Pause }, Vec::new())>
                    {move || if ui.paused.get() { "Resume" } else { "Pause" }}</button>
                <button id="step" title="one training step (one batch), then paused: the charts and the map show what it changed"
                    disabled=move || if ui.running.get() { !ui.paused.get() } else { ui.profile.get().is_none() }
                    on:click=move |_| step(ui)>"Step"</button>
                <button id="stop" disabled=move || !ui.running.get()
                    on:click=move |_| post(ui, &ToWorker::Stop, Vec::new())>"Stop"</button>
                <span id="status" class="status" data-running=move || ui.running.get().to_string()>{move || ui.status.get()}</span>
            </div>
            <p>"Backend in use: " <strong id="backend-in-use">{move || ui.backend_in_use.get()}</strong>
                " · " <span id="started-info">{move || ui.started_info.get().unwrap_or_default()}</span></p>
            <p id="progress">{progress_line}</p>
            <p id="stopped-at">{move || ui.stopped_at.get().unwrap_or_default()}</p>
            <div class="charts">
                <LineChart id="loss-chart" title="Training loss (with the regularizer)" x_label="steps" series=loss />
                <LineChart id="metrics-chart" title="Validation at each evaluation" x_label="epochs" series=metrics />
                // The ablation trains on one pass: there is no gap to draw.
                <Show when=move || { let s = ui.settings.get(); s.self_ensemble && s.model == "QNN" }>
                    <LineChart id="gap-chart" title="Self-Ensemble: gap between the two dropout passes" x_label="steps" series=gap />
                </Show>
            </div>
            <Show when=move || ui.final_valid.get().is_some()>
                <div id="final-metrics" class="final">
                    <p>"Validation: " <span id="final-valid">{move || ui.final_valid.get().map(|m| fmt_metrics(&m)).unwrap_or_default()}</span></p>
                    <p>"Test: " <span id="final-test" data-auc=move || ui.final_test.get().and_then(|m| m.iter().find(|(k, _)| *k == Metric::Auc).map(|(_, v)| format!("{v:.8}"))).unwrap_or_default()
                        data-mse=move || ui.final_test.get().and_then(|m| m.iter().find(|(k, _)| *k == Metric::Mse).map(|(_, v)| format!("{v:.8}"))).unwrap_or_default()>
                        {move || ui.final_test.get().map(|m| fmt_metrics(&m)).unwrap_or_else(|| "no test split".into())}</span></p>
                </div>
            </Show>
            <p id="first-epoch" class="muted" data-seconds=move || ui.first_epoch.get().map(|f| format!("{:.3}", f.0)).unwrap_or_default()
                data-rate=move || ui.first_epoch.get().map(|f| format!("{:.1}", f.1)).unwrap_or_default()
                data-warm-up-steps=move || ui.warmed_up.get().map(|w| w.0.to_string()).unwrap_or_default()
                data-warm-up-seconds=move || ui.warmed_up.get().map(|w| format!("{:.3}", w.1)).unwrap_or_default()>
                {move || ui.first_epoch.get().map(|(s, r)| format!("first epoch finished {s:.1} s after the data reached the worker ({r:.0} samples/s)"))}
            </p>
            <ul id="events" class="events">{move || ui.events.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
        </section>
    }
}

#[component]
fn RaceSection(ui: Ui) -> impl IntoView {
    const COLORS: [&str; 9] = [
        "#2471a3", "#c0392b", "#117a65", "#7d3c98", "#b9770e", "#2e4053", "#d35400", "#1abc9c",
        "#7f8c8d",
    ];
    let curves = Signal::derive(move || {
        let race = ui.race.get();
        let metric = race.metric();
        race.done
            .iter()
            .chain(race.running.as_ref())
            .enumerate()
            .map(|(i, lap)| Series {
                name: format!("{} ({})", lap.label, metric.name()),
                color: COLORS[i % COLORS.len()],
                points: lap.curve.clone(),
            })
            .collect()
    });
    let losses = Signal::derive(move || {
        let race = ui.race.get();
        race.done
            .iter()
            .chain(race.running.as_ref())
            .enumerate()
            .map(|(i, lap)| Series {
                name: format!("{} (train loss)", lap.label),
                color: COLORS[i % COLORS.len()],
                points: lap.loss.clone(),
            })
            .collect()
    });
    let status = move || {
        let race = ui.race.get();
        match &race.running {
            Some(lap) => format!(
                "running: {} ({} done, {} to go)",
                lap.label,
                race.done.len(),
                race.waiting.len()
            ),
            None if race.done.is_empty() => String::new(),
            None => format!("{} finished", race.done.len()),
        }
    };
    let rows = move || {
        let race = ui.race.get();
        let metric = race.metric();
        let second = if metric == Metric::Auc {
            Metric::Logloss
        } else {
            Metric::Rmse
        };
        let score = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into());
        race.done
            .iter()
            .map(|lap| {
                let pair = match (&lap.top_pair, lap.model.as_str()) {
                    (Some((a, b)), _) => format!("{a} × {b}"),
                    (None, "QNN") => "—".into(),
                    (None, _) => "no maps".into(),
                };
                view! {
                    <tr data-runner=lap.label.clone() data-score=lap.test_score(metric).map(|v| format!("{v:.8}")).unwrap_or_default()
                        data-pair=lap.top_pair.as_ref().map(|(a, b)| format!("{a},{b}")).unwrap_or_default()>
                        <td>{lap.label.clone()}</td>
                        <td class="num">{score(lap.test_score(metric))}</td>
                        <td class="num">{score(lap.test_score(second))}</td>
                        <td class="num">{lap.parameters.map(|p| p.to_string()).unwrap_or_default()}</td>
                        <td class="num">{lap.seconds.map(|s| format!("{s:.1}")).unwrap_or_default()}</td>
                        <td class="num" data-rate=lap.samples_per_sec.map(|r| format!("{r:.1}")).unwrap_or_default()>{lap.samples_per_sec.map(|r| format!("{r:.0}")).unwrap_or_default()}</td>
                        <td>{pair}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let header = move || {
        let metric = ui.race.get().metric();
        let second = if metric == Metric::Auc {
            "logloss"
        } else {
            "RMSE"
        };
        view! {
            <tr><th>"run"</th><th>{format!("test {}", metric.name())}</th><th>{format!("test {second}")}</th>
                <th>"parameters"</th><th>"seconds"</th><th>"samples/s"</th><th>"hottest pair"</th></tr>
        }
    };
    let summary = move || {
        let race = ui.race.get();
        let spread = race.spread()?;
        let metric = race.metric().name();
        Some(view! {
            <p id="race-summary" data-runs=spread.runs.to_string() data-mean=format!("{:.8}", spread.mean)
                data-std=format!("{:.8}", spread.std) data-min=format!("{:.8}", spread.min) data-max=format!("{:.8}", spread.max)>
                {format!(
                    "test {metric} over {} seeds: {:.4} ± {:.4} (sample standard deviation), from {:.4} to {:.4}. Each seed draws another split, initialisation and dropout: one run is one draw from this spread.",
                    spread.runs, spread.mean, spread.std, spread.min, spread.max
                )}
            </p>
        })
    };
    view! {
        <section id="race" hidden=move || ui.hides("race")>
            <h2>"4b · Race networks, or sweep seeds"</h2>
            <p class="help">"Train several networks one after another with the settings above (same seed, same split) and compare them: the validation curves side by side, then test scores, size and speed. For QNN, the hottest pair of its interaction map — on the planted example it should be f2 × f5. Or train the settings above over several seeds, to see how far one run can be from the next."</p>
            <div class="row runners">
                {RUNNERS.iter().map(|r| {
                    let label = r.label;
                    view! {
                        <label class="runner">
                            <input type="checkbox" class="race-runner" data-runner=label
                                prop:checked=move || ui.race_chosen.get().contains(&label)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    ui.race_chosen.update(|c| {
                                        c.retain(|l| *l != label);
                                        if on { c.push(label); }
                                    });
                                } />
                            {label}
                        </label>
                    }
                }).collect_view()}
            </div>
            <div class="row">
                <button id="race-start" disabled=move || ui.running.get() || ui.profile.get().is_none()
                    on:click=move |_| start_race(ui)>"Race"</button>
                <label>"Seeds "
                    <input type="number" id="sweep-runs" min=SWEEP_RUNS.start().to_string() max=SWEEP_RUNS.end().to_string()
                        prop:value=move || ui.sweep_runs.get().to_string()
                        on:change=move |ev| {
                            match event_target_value(&ev).parse::<usize>() {
                                Ok(n) if SWEEP_RUNS.contains(&n) => ui.sweep_runs.set(n),
                                _ => ui.fail(format!(
                                    "the number of seeds must be a whole number from {} to {}",
                                    SWEEP_RUNS.start(), SWEEP_RUNS.end()
                                )),
                            }
                        } />
                </label>
                <button id="sweep-start" disabled=move || ui.running.get() || ui.profile.get().is_none()
                    on:click=move |_| start_sweep(ui)>"Sweep seeds"</button>
                <span id="race-status" class="status" data-on=move || ui.race.get().is_on().to_string()
                    data-done=move || ui.race.get().done.len().to_string()>{status}</span>
            </div>
            <div class="charts">
                <LineChart id="race-loss-chart" title="Training loss, per run" x_label="steps" series=losses />
                <LineChart id="race-chart" title="Validation at each evaluation, per run" x_label="epochs" series=curves />
            </div>
            {summary}
            <table id="race-results" class="samples">
                <thead>{header}</thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

#[component]
fn InsideSection(ui: Ui) -> impl IntoView {
    // One row's own maps while a row is explained, else those of many rows.
    let maps = Signal::derive(move || {
        let row = ui
            .explained
            .get()
            .and_then(|i| ui.samples.with(|s| s.get(i).and_then(|r| r.maps.clone())));
        row.or_else(|| ui.maps.get())
    });
    let explained = move || {
        let i = ui.explained.get()?;
        let row = ui.samples.with(|s| s.get(i).cloned())?;
        Some(view! {
            <p id="map-row" data-row=(i + 1).to_string()>
                {format!(
                    "Showing test row {} alone (label {}, prediction {:.4}): each cell is what that pair of fields contributes to this row's product terms, the activation map of one row (qnn inspect --row). ",
                    i + 1, row.label, row.prediction
                )}
                <button id="map-row-back" on:click=move |_| ui.explained.set(None)>"Back to all rows"</button>
            </p>
        })
    };
    let placeholder = Signal::derive(move || match ui.no_maps.get() {
        Some(network) => format!(
            "A {network} network has no interaction maps: they come from QNN's quadratic layers."
        ),
        None => "Train a model or load a model file to see its interaction maps.".into(),
    });
    view! {
        <section id="inside" hidden=move || ui.hides("inside")>
            <h2>"5 · Inside the model"</h2>
            <p>"Each quadratic layer multiplies one embedding value by a learned mix of all of them. Cell (row a, column b) says how much field a's values are scaled by what field b contributes: the pairs of fields the model uses. The map is redrawn at each evaluation while QNN trains; afterwards the slider goes back over the run."</p>
            <div class="row" id="map-scrub" hidden=move || ui.map_frames.with(|f| f.frames.len() < 2)>
                <label>"Over the run "
                    <input type="range" id="map-scrubber" min="0" step="1"
                        max=move || ui.map_frames.with(|f| f.frames.len().saturating_sub(1)).to_string()
                        prop:value=move || ui.map_frames.with(|f| f.shown().unwrap_or(0)).to_string()
                        on:input=move |ev| {
                            if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                                let mut shown = None;
                                ui.map_frames.update(|f| shown = f.choose(i).cloned());
                                if shown.is_some() {
                                    ui.explained.set(None);
                                    ui.maps.set(shown);
                                }
                            }
                        } />
                </label>
                <span id="map-frame" data-index=move || ui.map_frames.with(|f| f.shown().map(|i| i.to_string()).unwrap_or_default())>
                    {move || ui.map_frames.with(|f| f.label().unwrap_or_default().to_string())}
                </span>
            </div>
            {explained}
            <Heatmap id="map" maps placeholder />
            <h3>"Predictions for sample test rows"</h3>
            <p class="help">"prediction: one pass without dropout (what the model serves); pass 1 and pass 2: the two dropout passes the Self-Ensemble loss pulls together. Explain draws the interaction map of that row alone."</p>
            <table id="samples" class="samples">
                <thead><tr><th>"row"</th><th>"label"</th><th>"prediction"</th><th>"pass 1"</th><th>"pass 2"</th><th></th></tr></thead>
                <tbody>{move || ui.samples.get().into_iter().enumerate().map(|(i, s)| {
                    let explain = s.maps.is_some().then(|| view! {
                        <button class="explain" on:click=move |_| ui.explained.set(Some(i))>"Explain"</button>
                    });
                    view! {
                        <tr class:explained=move || ui.explained.get() == Some(i)>
                            <td>{i + 1}</td><td>{s.label}</td><td>{format!("{:.4}", s.prediction)}</td><td>{format!("{:.4}", s.pass1)}</td><td>{format!("{:.4}", s.pass2)}</td><td>{explain}</td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
        </section>
    }
}

/// Reads the one file chosen in a file input, then hands it to the worker through `send` (the
/// job counts as running until the worker answers).
fn with_chosen_file(ui: Ui, ev: &web_sys::Event, send: impl FnOnce(String, Vec<u8>) + 'static) {
    let input: HtmlInputElement = event_target(ev);
    let Some(file) = input.files().and_then(|l| l.get(0)) else {
        return;
    };
    input.set_value("");
    ui.error.set(None);
    spawn_local(async move {
        match browser::read_file(&file, &|_| {}).await {
            Ok(bytes) => {
                ui.running.set(true);
                send(file.name(), bytes);
            }
            Err(e) => ui.fail(e),
        }
    });
}

#[component]
fn FilesSection(ui: Ui) -> impl IntoView {
    let on_model = move |ev: web_sys::Event| {
        with_chosen_file(ui, &ev, move |name, bytes| {
            ui.status.set(format!("opening {name}…"));
            let backend = ui.backend.get_untracked();
            post(ui, &ToWorker::LoadModel { name, backend }, vec![bytes]);
        });
    };
    let on_predict = move |ev: web_sys::Event| {
        with_chosen_file(ui, &ev, move |name, bytes| {
            post(ui, &ToWorker::Predict { name }, vec![bytes]);
        });
    };
    view! {
        <section id="files" hidden=move || ui.hides("files")>
            <h2>"6 · Model files"</h2>
            <div class="row">
                <button id="download-model" disabled=move || ui.model_name.get().is_none()
                    on:click=move |_| MODEL_BYTES.with(|m| {
                        if let Some((name, bytes)) = m.borrow().as_ref() {
                            browser::download(name, bytes, "application/octet-stream");
                        }
                    })>"Download the trained model"</button>
                <span class="help">" — a .qnn file: config, vocabularies and weights; " <code>"qnn predict --model <file>"</code> " reads it."</span>
            </div>
            <div class="row">
                <label>"Open a model file (.qnn, from here or from " <code>"qnn train"</code> "): "
                    <input type="file" id="model-input" accept=".qnn" on:change=on_model /></label>
            </div>
            <p id="loaded-model" class="muted">{move || ui.loaded_info.get().unwrap_or_default()}</p>
            <div class="row">
                <label>"Predict on a CSV with the current model: "
                    <input type="file" id="predict-input" accept=".csv,.txt" on:change=on_predict /></label>
                <button id="download-predictions" disabled=move || ui.predictions.get().is_none()
                    on:click=move |_| PREDICTIONS.with(|p| {
                        if let Some(csv) = p.borrow().as_ref() {
                            browser::download("predictions.csv", csv.as_bytes(), "text/csv");
                        }
                    })>"Download predictions.csv"</button>
            </div>
            <div id="predictions">{move || ui.predictions.get().map(|p| view! {
                <p>{format!("{} rows predicted", p.rows)}{p.metrics.filter(|m| !m.is_empty()).map(|m| format!("; {}", fmt_metrics(&m)))}
                    {p.undefined.iter().map(|r| format!("; {r}")).collect::<String>()}</p>
                <pre class="preview">{p.head.join("\n")}</pre>
            })}</div>
        </section>
    }
}

/// Mounts the app on the page's body.
pub fn mount() {
    console_error_panic_hook::set_once();
    mount_to_body(App);
}
