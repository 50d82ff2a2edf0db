//! Finished runs kept in the browser (IndexedDB, `store.rs`): what a saved run holds besides its
//! model file, and how the page lists and compares runs. Free of the browser, so that it is
//! tested natively.

use qnn_data::Metric;
use serde::{Deserialize, Serialize};

/// A finished run: its settings (as the link that reopens them), curves and final scores. The
/// model file is stored beside it under the same key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedRun {
    /// When it was saved (ISO 8601, the browser's clock).
    pub saved_at: String,
    pub title: String,
    /// The shareable link of its settings and data.
    pub link: String,
    pub network: String,
    /// The metric early stopping watched (AUC; MSE for regression): runs are listed and
    /// compared by it.
    pub monitor: Metric,
    /// Training loss by step.
    pub loss: Vec<(f64, f64)>,
    /// Each reported validation metric by epoch.
    pub valid: Vec<(Metric, Vec<(f64, f64)>)>,
    pub final_valid: Vec<(Metric, f64)>,
    pub final_test: Option<Vec<(Metric, f64)>>,
    pub model_name: String,
    pub model_bytes: usize,
}

impl SavedRun {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a saved run is plain data")
    }

    /// Reads a stored run; a record from another version is an error, not a panic.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("a saved run could not be read ({e})"))
    }

    /// The score the page lists and compares runs by: the monitored metric on the test split,
    /// else on validation.
    pub fn score(&self) -> Option<(&'static str, f64)> {
        let find = |scores: &[(Metric, f64)]| {
            scores
                .iter()
                .find(|(m, _)| *m == self.monitor)
                .map(|(_, v)| *v)
        };
        match self.final_test.as_deref().and_then(find) {
            Some(v) => Some(("test", v)),
            None => find(&self.final_valid).map(|v| ("valid", v)),
        }
    }

    /// Bytes this run takes in storage: its record and its model file.
    pub fn stored_bytes(&self) -> usize {
        self.to_json().len() + self.model_bytes
    }

    /// The validation curve of `metric`, for overlaying runs.
    pub fn curve(&self, metric: Metric) -> Option<&[(f64, f64)]> {
        self.valid
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, c)| c.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> SavedRun {
        SavedRun {
            saved_at: "2026-12-03T03:30:00.000Z".into(),
            title: "QNN on planted".into(),
            link: "http://127.0.0.1:8080/?ex=planted".into(),
            network: "QNN".into(),
            monitor: Metric::Auc,
            loss: vec![(1.0, 0.69), (2.0, 0.6)],
            valid: vec![
                (Metric::Logloss, vec![(1.0, 0.6)]),
                (Metric::Auc, vec![(1.0, 0.8)]),
            ],
            final_valid: vec![(Metric::Logloss, 0.6), (Metric::Auc, 0.8)],
            final_test: Some(vec![(Metric::Auc, 0.81), (Metric::Logloss, 0.59)]),
            model_name: "QNN_planted.qnn".into(),
            model_bytes: 40_000,
        }
    }

    #[test]
    fn a_saved_run_reads_back_and_is_scored_by_its_test_metric() {
        let r = run();
        assert_eq!(SavedRun::from_json(&r.to_json()).unwrap(), r);
        assert_eq!(r.score(), Some(("test", 0.81)));
        assert_eq!(r.curve(Metric::Auc), Some(&[(1.0, 0.8)][..]));
        assert_eq!(r.stored_bytes(), r.to_json().len() + 40_000);
        let no_test = SavedRun {
            final_test: None,
            ..run()
        };
        assert_eq!(no_test.score(), Some(("valid", 0.8)));
    }

    #[test]
    fn a_foreign_record_is_an_error() {
        let e = SavedRun::from_json("{\"title\": 3}").unwrap_err();
        assert!(e.starts_with("a saved run could not be read"), "{e}");
    }
}
