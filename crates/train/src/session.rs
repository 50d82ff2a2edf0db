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
use qnn_data::{ConfigError, DatasetSpec, EncodedDataset, Experiment, FeatureMap, Splits};
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
        Ok(RunData {
            feature_map: splits.feature_map,
            train: splits.train,
            valid,
            test: splits.test,
        })
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
