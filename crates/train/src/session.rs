//! One experiment from its config to its model file: what `qnn train` and the browser's worker
//! both run. They differ only in where files come from and go to (disk and a cache, or uploads
//! and memory) and in how they show progress; the steps and their checks are here, once.
//!
//! ```text
//! Session::new(&experiment)      configs, dataset settings, notes
//!   .splits(prepared)            the validation split a run needs
//!   .trainer(data, device)       the loop (driven by the caller: events, pauses, checkpoints)
//!   .finish(trainer, test, by)   best weights reloaded, valid/test report, the model file
//! ```

use burn::tensor::Device;
use qnn_data::{
    ConfigError, DataError, DatasetSpec, EncodedDataset, Experiment, FeatureMap, Metric, Splits,
};
use qnn_model::InputLayout;
use qnn_zoo::{Network, NetworkConfig, NetworkFile};

use crate::{FinalReport, RunRecord, TrainConfig, TrainError, Trainer, fuxictr};

/// An experiment read from its config: what is trained, how, and on which data.
#[derive(Debug, Clone)]
pub struct Session {
    pub expid: String,
    pub network: NetworkConfig,
    pub train: TrainConfig,
    pub spec: DatasetSpec,
    /// What was read differently from FuxiCTR or has no effect, for the log or the page.
    pub notes: Vec<String>,
}

/// The splits of a run: a validation split is required (the monitor needs it).
#[derive(Debug)]
pub struct RunData {
    pub feature_map: FeatureMap,
    pub train: EncodedDataset,
    pub valid: EncodedDataset,
    pub test: Option<EncodedDataset>,
}

/// A finished run: the best model, its report and its model file.
#[derive(Debug)]
pub struct Finished {
    pub model: Network,
    pub layout: InputLayout,
    pub epochs_run: usize,
    pub report: FinalReport,
    pub file: NetworkFile,
}

impl Session {
    /// Reads the network, the training settings and the dataset settings of `exp`; errors name
    /// the key and where it was written.
    pub fn new(exp: &Experiment) -> Result<Self, ConfigError> {
        let (network, train) = fuxictr::configs(exp)?;
        let (spec, dataset_notes) = DatasetSpec::from_experiment(exp)?;
        Ok(Self {
            expid: exp.expid.clone(),
            network,
            train,
            notes: exp.notes.iter().chain(&dataset_notes).cloned().collect(),
            spec,
        })
    }

    /// The prepared splits as a run needs them: an error when there is no validation split.
    pub fn splits(&self, splits: Splits) -> Result<RunData, TrainError> {
        let Some(valid) = splits.valid else {
            return Err(TrainError::Data(format!(
                "dataset `{}` has no validation split: set valid_data or valid_size",
                self.spec.dataset_id
            )));
        };
        // A metric that the rows leave undefined (AUC over one class) would stop the run at its
        // first evaluation, or after the last epoch for the test split: refuse it now.
        let spec = &self.spec;
        self.check_defined(
            ("validation", "valid_size"),
            spec.valid_data.as_deref(),
            &valid,
            &self.train.evaluated_metrics(),
        )?;
        if let Some(test) = &splits.test {
            let test_file = spec.test_data.as_deref();
            self.check_defined(("test", "test_size"), test_file, test, &self.train.metrics)?;
        }
        Ok(RunData {
            feature_map: splits.feature_map,
            train: splits.train,
            valid,
            test: splits.test,
        })
    }

    /// Whether every metric in `metrics` is defined on the labels (and groups) of `data`: that
    /// depends on them alone, not on the predictions.
    fn check_defined(
        &self,
        (split, size_key): (&str, &str),
        file: Option<&str>,
        data: &EncodedDataset,
        metrics: &[Metric],
    ) -> Result<(), TrainError> {
        let guesses = vec![0.5; data.len()];
        for metric in metrics {
            if let Err(DataError::Metric(reason)) =
                metric.compute(data.labels(), &guesses, data.groups())
            {
                let name = metric.name();
                // A file is the user's to change; a split carved at random can be carved larger.
                let (place, remedy) = match file {
                    Some(f) => (
                        format!(" ({f})"),
                        "give it rows of both classes".to_string(),
                    ),
                    None => (
                        String::new(),
                        format!(
                            "carve a larger one (`{size_key}`; in the page, the {split} fraction)"
                        ),
                    ),
                };
                return Err(TrainError::Data(format!(
                    "dataset `{}`: the {split} split{place}: {reason}; the run reports {name} on \
                     it (`metrics`, `monitor`): {remedy}, or leave {name} out",
                    self.spec.dataset_id,
                )));
            }
        }
        Ok(())
    }

    /// The training loop on `data`'s train and valid splits (`device` without autodiff: the
    /// loop adds it); the caller keeps the test split for [`Session::finish`].
    pub fn trainer(
        &self,
        feature_map: &FeatureMap,
        train: EncodedDataset,
        valid: EncodedDataset,
        device: &Device,
    ) -> Result<Trainer, TrainError> {
        Trainer::new(
            self.network.clone(),
            self.train.clone(),
            feature_map,
            train,
            valid,
            device.clone().autodiff(),
        )
    }

    /// Reloads the best weights, evaluates them as FuxiCTR's `run_expid` does (valid, then
    /// `test` when there is one) and builds the model file, its `info` naming the run and
    /// `trained_by` (the program and version).
    pub async fn finish(
        &self,
        trainer: Trainer,
        feature_map: FeatureMap,
        test: Option<&EncodedDataset>,
        trained_by: &str,
    ) -> Result<Finished, TrainError> {
        let (trained, report) = trainer.finish_with_report(test).await?;
        let info = report.model_info(RunRecord {
            expid: &self.expid,
            dataset_id: &self.spec.dataset_id,
            trained_by,
            epochs: trained.epochs_run,
            train: &self.train,
        });
        Ok(Finished {
            model: trained.model,
            layout: trained.layout,
            epochs_run: trained.epochs_run,
            report,
            file: NetworkFile {
                config: self.network.clone(),
                feature_map,
                weights: trained.weights,
                info,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::config::ConfigFile;
    use qnn_data::{MemoryFiles, MemoryStore, prepare_dataset};

    fn experiment(valid: &str) -> Experiment {
        experiment_of("  model: LR\n", valid)
    }

    fn experiment_of(model: &str, valid: &str) -> Experiment {
        Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: format!("E:\n{model}  dataset_id: D\n  batch_size: 16\n  epochs: 2\n"),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: format!(
                    "D:\n  train_data: t.csv\n{valid}  feature_cols:\n  - {{name: c, active: \
                     True, dtype: str, type: categorical}}\n  label_col: {{name: y, dtype: \
                     float}}\n  num_workers: 3\n"
                ),
            }],
            "E",
        )
        .unwrap()
    }

    fn files() -> MemoryFiles {
        let mut csv = String::from("c,y\n");
        for i in 0..60 {
            csv.push_str(&format!("t{},{}\n", i % 5, (i % 5 < 2) as u8));
        }
        MemoryFiles {
            files: vec![("t.csv".into(), csv.into_bytes())],
        }
    }

    #[test]
    fn a_session_runs_from_config_to_model_file() {
        let session = Session::new(&experiment("  valid_size: 20\n")).unwrap();
        assert!(
            session.notes.iter().any(|n| n.contains("num_workers")),
            "{:?}",
            session.notes
        );
        let splits = prepare_dataset(&session.spec, 1, &mut &files(), &mut MemoryStore).unwrap();
        let data = session.splits(splits).unwrap();
        let device = Device::flex();
        let mut trainer = session
            .trainer(&data.feature_map, data.train, data.valid, &device)
            .unwrap();
        while !trainer.is_finished() {
            pollster::block_on(trainer.step()).unwrap();
        }
        let done = pollster::block_on(session.finish(
            trainer,
            data.feature_map.clone(),
            data.test.as_ref(),
            "a test",
        ))
        .unwrap();
        assert_eq!(done.epochs_run, 2);
        assert_eq!(done.file.info["expid"], "E");
        assert_eq!(done.file.info["trained_by"], "a test");
        let back = NetworkFile::from_bytes(&done.file.to_bytes().unwrap()).unwrap();
        assert_eq!(back.config, session.network);
        assert_eq!(back.feature_map, data.feature_map);
    }

    #[test]
    fn a_run_without_a_validation_split_says_which_keys_give_one() {
        let session = Session::new(&experiment("")).unwrap();
        let splits = prepare_dataset(&session.spec, 1, &mut &files(), &mut MemoryStore).unwrap();
        let err = session.splits(splits).unwrap_err().to_string();
        assert!(err.contains("`D` has no validation split"), "{err}");
        assert!(err.contains("valid_size"), "{err}");
    }

    #[test]
    fn a_split_on_which_a_reported_metric_is_undefined_is_refused_before_training() {
        // Clicks only in the validation file: AUC (the monitor) has no value on it.
        let mut files = files();
        files
            .files
            .push(("v.csv".into(), b"c,y\nt0,1\nt1,1\nt3,1\n".to_vec()));
        let run = |model: &str, valid: &str| {
            let session = Session::new(&experiment_of(model, valid)).unwrap();
            let splits = prepare_dataset(&session.spec, 1, &mut &files, &mut MemoryStore).unwrap();
            session.splits(splits).map(|_| ())
        };
        let err = run("  model: LR\n", "  valid_data: v.csv\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "dataset `D`: the validation split (v.csv): AUC is undefined: only one class is \
                 present in the labels; the run reports AUC on it"
            ),
            "{err}"
        );
        // Logloss is defined on one class: a run that only reports it goes ahead.
        run(
            "  model: LR\n  metrics: [logloss]\n  monitor: logloss\n  monitor_mode: min\n",
            "  valid_data: v.csv\n",
        )
        .unwrap();
        // The test split is held to the reported metrics (not the monitor).
        let err = run(
            "  model: LR\n  metrics: [logloss, AUC]\n",
            "  valid_size: 20\n  test_data: v.csv\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("the test split (v.csv): AUC is undefined"),
            "{err}"
        );
        assert!(
            err.contains("give it rows of both classes, or leave AUC out"),
            "{err}"
        );
        // Carved from the training file: carve more rows.
        let one_class = MemoryFiles {
            files: vec![("t.csv".into(), b"c,y\nt0,1\nt1,1\nt2,1\nt3,1\n".to_vec())],
        };
        let session = Session::new(&experiment_of("  model: LR\n", "  valid_size: 2\n")).unwrap();
        let splits = prepare_dataset(&session.spec, 1, &mut &one_class, &mut MemoryStore).unwrap();
        let err = session.splits(splits).unwrap_err().to_string();
        assert!(
            err.contains(
                "the validation split: AUC is undefined: only one class is present in the labels; \
                 the run reports AUC on it (`metrics`, `monitor`): carve a larger one \
                 (`valid_size`; in the page, the validation fraction), or leave AUC out"
            ),
            "{err}"
        );
        run(
            "  model: LR\n  metrics: [logloss]\n",
            "  valid_size: 20\n  test_data: v.csv\n",
        )
        .unwrap();
    }

    #[test]
    fn feature_specs_give_a_field_its_own_width_through_the_run_and_the_model_file() {
        let exp = experiment_of(
            "  model: QNN\n  embedding_dim: 8\n  num_layers: 1\n  num_row: 2\n  \
             feature_specs: [{name: c, embedding_dim: 3}]\n",
            "  valid_size: 20\n",
        );
        let session = Session::new(&exp).unwrap();
        let splits = prepare_dataset(&session.spec, 1, &mut &files(), &mut MemoryStore).unwrap();
        let data = session.splits(splits).unwrap();
        assert_eq!(data.feature_map.features[0].embedding_dim, Some(3));
        let mut trainer = session
            .trainer(&data.feature_map, data.train, data.valid, &Device::flex())
            .unwrap();
        while !trainer.is_finished() {
            pollster::block_on(trainer.step()).unwrap();
        }
        let done =
            pollster::block_on(session.finish(trainer, data.feature_map, None, "a test")).unwrap();
        // One field of width 3: the table is [vocab, 3] and the layers are 3 wide.
        assert_eq!(done.file.weights.tensors["embedding.table"].shape[1], 3);
        assert_eq!(done.file.weights.tensors["fc.weight"].shape, [1, 3]);
        let back = NetworkFile::from_bytes(&done.file.to_bytes().unwrap()).unwrap();
        assert_eq!(back.feature_map.features[0].embedding_dim, Some(3));
    }
}
