//! Messages between the page and the training worker. A message is posted as a JavaScript value
//! (serde-wasm-bindgen: objects and arrays the structured clone copies, no JSON text to print
//! and parse), followed by the raw bytes of the files it names (transferred, not copied).
//!
//! A crate of its own, below both the page and the worker (the two binaries of `qnn-web`), so
//! that neither uses the other's code and Burn stays out of the page.

use qnn_data::Metric;
use qnn_maps::InteractionMaps;
use serde::{Deserialize, Serialize};

/// Where the worker trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend compiled to wasm.
    Cpu,
    /// The browser's WebGPU.
    WebGpu,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Cpu => "CPU (wasm)",
            Backend::WebGpu => "WebGPU",
        }
    }
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Train on the given configs. `files` names the attached byte arrays, in order.
    Train {
        dataset_yaml: String,
        model_yaml: String,
        expid: String,
        backend: Backend,
        files: Vec<String>,
        /// Start paused after one training step (the page's Step button on an idle page).
        #[serde(default)]
        start_paused: bool,
    },
    Pause,
    Resume,
    Stop,
    /// One training step, then paused (pauses a running job first).
    Step,
    /// Open a model file (attached) and show what is inside.
    LoadModel {
        name: String,
        backend: Backend,
    },
    /// Predict with the loaded (or last trained) model on a CSV (attached).
    Predict {
        name: String,
    },
    /// Train a small synthetic model for a moment while the page is idle (the wasm engine
    /// optimises the hot functions); a job sent meanwhile starts after the current step.
    WarmUp,
}

/// Metrics and their values, in the order they were computed (FuxiCTR's metric names on the
/// wire: `"AUC"`, `"logloss"`).
pub type Metrics = Vec<(Metric, f64)>;

/// Predictions for one test row: the label, the evaluation prediction and the two dropout
/// passes the Self-Ensemble loss compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRow {
    pub label: f32,
    pub prediction: f32,
    pub pass1: f32,
    pub pass2: f32,
    /// The activation maps of this row alone (QNN only): what each field pair contributes to
    /// its product terms, as `qnn inspect --row` prints them.
    #[serde(default)]
    pub maps: Option<InteractionMaps>,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker is up and listening.
    Ready,
    /// The warm-up ran this many training steps (fewer when a job cut it short).
    WarmedUp {
        steps: usize,
        seconds: f64,
    },
    /// A step of the set-up, in words.
    Status {
        text: String,
    },
    Started {
        backend: String,
        train_rows: usize,
        valid_rows: usize,
        test_rows: usize,
        batches_per_epoch: usize,
        parameters: usize,
        notes: Vec<String>,
    },
    Progress {
        epoch: usize,
        batch: usize,
        batches: usize,
        global_step: usize,
        samples_per_sec: f64,
        /// Seconds left in this epoch at the current speed.
        epoch_seconds_left: f64,
        loss: Option<f64>,
        ensemble_gap: Option<f64>,
        /// After a single step (Step): the interaction maps of the weights it left (QNN only).
        #[serde(default)]
        maps: Option<InteractionMaps>,
    },
    Evaluated {
        epoch: usize,
        train_loss: f64,
        metrics: Metrics,
        improved: bool,
        /// The interaction maps of the weights just evaluated (QNN only), on the rows the final
        /// maps use: the page shows them as they change.
        maps: Option<InteractionMaps>,
    },
    LearningRateReduced {
        learning_rate: f64,
    },
    EarlyStopped {
        epoch: usize,
    },
    EpochEnded {
        epoch: usize,
        seconds: f64,
        samples_per_sec: f64,
        /// Seconds since the worker received the data (page-to-first-epoch timing).
        since_start: f64,
    },
    Paused,
    Resumed,
    /// Stop was honoured: no more training steps run (final evaluation follows).
    Stopped {
        epoch: usize,
        global_step: usize,
    },
    /// Training ended; the model file bytes are attached.
    Finished {
        stopped: bool,
        epochs: usize,
        valid: Metrics,
        test: Option<Metrics>,
        /// QNN, or the FuxiCTR name of a model-zoo network.
        network: String,
        /// `None` for a network without interaction maps (only QNN has them).
        maps: Option<InteractionMaps>,
        samples: Vec<SampleRow>,
        model_name: String,
    },
    /// A model file was opened.
    ModelLoaded {
        name: String,
        /// QNN, or the FuxiCTR name of a model-zoo network.
        network: String,
        facts: ModelFacts,
        fields: Vec<String>,
        maps: Option<InteractionMaps>,
    },
    /// Predictions on a CSV, as CSV text (the input's columns plus `probability`).
    Predictions {
        rows: usize,
        csv: String,
        /// The metrics the rows define, when they have the label column.
        metrics: Option<Metrics>,
        /// Why a metric is missing (AUC over rows of one class), in words.
        undefined: Vec<String>,
    },
    Error {
        text: String,
    },
}

/// What a model file records about the run that made it (its `info`, written by
/// `qnn_train::FinalReport::model_info`), as the page describes it. Every field is optional: a
/// file from another version may lack any of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelFacts {
    pub expid: Option<String>,
    pub dataset_id: Option<String>,
    pub trained_by: Option<String>,
    pub epochs: Option<u64>,
    pub valid: Option<Metrics>,
    pub test: Option<Metrics>,
}

impl ModelFacts {
    /// Reads the facts from a model file's `info` object, ignoring what is missing, of another
    /// type or a metric QNN Lab does not know.
    pub fn from_info(info: &serde_json::Value) -> Self {
        let text = |k: &str| info.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let scores = |k: &str| {
            info.get(k).and_then(|v| v.as_object()).map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((Metric::parse(k)?, v.as_f64()?)))
                    .collect()
            })
        };
        Self {
            expid: text("expid"),
            dataset_id: text("dataset_id"),
            trained_by: text("trained_by"),
            epochs: info.get("epochs").and_then(|v| v.as_u64()),
            valid: scores("valid"),
            test: scores("test"),
        }
    }
}

/// Posting and reading messages as JavaScript values.
#[cfg(target_family = "wasm")]
mod js {
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use wasm_bindgen::JsValue;

    use super::{FromWorker, ToWorker};

    fn to_js<T: Serialize>(msg: &T) -> JsValue {
        // Every message type is plain data (strings, numbers, vectors, options, unit and
        // struct variants), which serde-wasm-bindgen always converts.
        msg.serialize(&serde_wasm_bindgen::Serializer::new())
            .expect("messages are plain data")
    }

    fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, String> {
        serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
    }

    impl ToWorker {
        pub fn to_js(&self) -> JsValue {
            to_js(self)
        }

        /// Reads a message the page posted; an error says what did not match.
        pub fn from_js(value: JsValue) -> Result<Self, String> {
            from_js(value)
        }
    }

    impl FromWorker {
        pub fn to_js(&self) -> JsValue {
            to_js(self)
        }

        /// Reads a message the worker posted; an error says what did not match.
        pub fn from_js(value: JsValue) -> Result<Self, String> {
            from_js(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_train::{FinalReport, RunRecord, TrainConfig};

    #[test]
    fn model_facts_read_what_the_trainer_writes() {
        let report = FinalReport {
            valid: vec![(Metric::Logloss, 0.25), (Metric::Auc, 0.9)],
            monitor_score: 0.9,
            test: None,
        };
        let info = report.model_info(RunRecord {
            expid: "QNN_demo",
            dataset_id: "planted",
            trained_by: "qnn 0.1.0",
            epochs: 3,
            train: &TrainConfig::paper_frappe(),
        });
        let facts = ModelFacts::from_info(&info);
        assert_eq!(facts.expid.as_deref(), Some("QNN_demo"));
        assert_eq!(facts.dataset_id.as_deref(), Some("planted"));
        assert_eq!(facts.trained_by.as_deref(), Some("qnn 0.1.0"));
        assert_eq!(facts.epochs, Some(3));
        let mut valid = facts.valid.expect("validation scores");
        valid.sort_by(|a, b| a.0.name().cmp(b.0.name()));
        assert_eq!(valid, vec![(Metric::Auc, 0.9), (Metric::Logloss, 0.25)]);
        assert_eq!(facts.test, None);
    }

    #[test]
    fn model_facts_of_a_foreign_info_are_empty_not_an_error() {
        let facts = ModelFacts::from_info(&serde_json::json!({"epochs": "three", "valid": [1, 2]}));
        assert_eq!(facts, ModelFacts::default());
        let facts = ModelFacts::from_info(&serde_json::json!({"test": {"MRR": 0.7, "AUC": "x"}}));
        assert_eq!(facts.test, Some(Vec::new()));
        assert_eq!(
            ModelFacts::from_info(&serde_json::json!(null)),
            ModelFacts::default()
        );
    }
}
