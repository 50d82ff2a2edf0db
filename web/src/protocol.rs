//! Messages between the page and the training worker. Each message is a JSON string, followed by
//! the raw bytes of the files it names (transferred, not copied into the JSON).

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
    },
    Pause,
    Resume,
    Stop,
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

/// A metric name and value.
pub type Metrics = Vec<(String, f64)>;

/// Predictions for one test row: the label, the evaluation prediction and the two dropout
/// passes the Self-Ensemble loss compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRow {
    pub label: f32,
    pub prediction: f32,
    pub pass1: f32,
    pub pass2: f32,
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
    },
    Evaluated {
        epoch: usize,
        train_loss: f64,
        metrics: Metrics,
        improved: bool,
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
        maps: serde_json::Value,
        samples: Vec<SampleRow>,
        model_name: String,
    },
    /// A model file was opened.
    ModelLoaded {
        name: String,
        info: serde_json::Value,
        fields: Vec<String>,
        maps: serde_json::Value,
    },
    /// Predictions on a CSV, as CSV text (the input's columns plus `probability`).
    Predictions {
        rows: usize,
        csv: String,
        metrics: Option<Metrics>,
    },
    Error {
        text: String,
    },
}

impl ToWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialise")
    }
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let m = ToWorker::Train {
            dataset_yaml: "d".into(),
            model_yaml: "m".into(),
            expid: "E".into(),
            backend: Backend::WebGpu,
            files: vec!["a.csv".into()],
        };
        assert_eq!(serde_json::from_str::<ToWorker>(&m.to_json()).unwrap(), m);
        let f = FromWorker::Progress {
            epoch: 1,
            batch: 2,
            batches: 3,
            global_step: 2,
            samples_per_sec: 10.0,
            epoch_seconds_left: 1.0,
            loss: Some(0.5),
            ensemble_gap: None,
        };
        assert_eq!(serde_json::from_str::<FromWorker>(&f.to_json()).unwrap(), f);
    }
}
