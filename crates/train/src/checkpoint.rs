//! The training state a run can be resumed from: weights (with the batch-norm buffers), Adam's
//! moments, and where the loop stands (epoch, batch, step, learning rate, early-stopping counter).
//!
//! The random streams need no saving: dropout masks are keyed by (seed, step) and the shuffle by
//! (seed, epoch), so the loop's position is their position. A resumed run therefore repeats the
//! uninterrupted one bit for bit on the CPU backend.
//!
//! On disk it is a safetensors file (format `qnn-lab-train-state`) with a CRC-32 over every tensor,
//! so a truncated or damaged state is refused instead of resumed from.

use std::collections::HashMap;

use qnn_data::FeatureMap;
use qnn_model::{HostTensor, ParamStore};
use qnn_zoo::NetworkConfig;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::TrainConfig;

/// Value of the `format` metadata key.
pub const FORMAT: &str = "qnn-lab-train-state";
/// Bumped whenever a reader of the previous version could misread a new file.
pub const FORMAT_VERSION: u32 = 1;
/// Usual file extension.
pub const EXTENSION: &str = "state";

const WEIGHT_PREFIX: &str = "weights/";
const OPTIMIZER_TENSOR: &str = "optimizer";

/// Why a saved state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("not a valid QNN Lab training state: {0}")]
    Invalid(String),
    #[error(
        "training state format version {0} is not supported by this QNN Lab (it reads version {FORMAT_VERSION})"
    )]
    Version(u32),
    #[error("the saved run was started with other settings: {0}")]
    Mismatch(String),
}

/// Where the loop stands after an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epochs started.
    pub epoch: usize,
    /// Batches done in the current epoch (meaningful while `in_epoch`).
    pub batch: usize,
    /// Whether the epoch is still running (evaluation every `eval_steps`, not at its end).
    pub in_epoch: bool,
    pub global_step: usize,
    pub learning_rate: f64,
    pub best_monitor: Option<f64>,
    /// Evaluations since the last improvement.
    pub plateau_counter: usize,
    pub finished: bool,
}

/// What a state belongs to: a resume with anything else would not continue the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub model: NetworkConfig,
    pub train: TrainConfig,
    /// CRC-32 of the feature map's JSON (vocabularies, scalers).
    pub feature_map: String,
    pub train_rows: usize,
    pub valid_rows: usize,
}

impl RunIdentity {
    pub fn new(
        model: &NetworkConfig,
        train: &TrainConfig,
        feature_map: &FeatureMap,
        train_rows: usize,
        valid_rows: usize,
    ) -> Self {
        let map_json = serde_json::to_vec(feature_map).unwrap_or_default();
        Self {
            model: model.clone(),
            train: train.clone(),
            feature_map: format!("{:08x}", crc32fast::hash(&map_json)),
            train_rows,
            valid_rows,
        }
    }

    /// `Err` naming the first setting that differs between the saved run (`self`) and `now`.
    pub fn check_matches(&self, now: &RunIdentity) -> Result<(), StateError> {
        let differ = |what: &str, saved: String, now: String| {
            Err(StateError::Mismatch(format!(
                "{what} is {saved} in the saved state and {now} now"
            )))
        };
        for (saved, current) in [
            (to_value(&self.model), to_value(&now.model)),
            (to_value(&self.train), to_value(&now.train)),
        ] {
            if let (Value::Object(saved), Value::Object(current)) = (&saved, &current) {
                for (key, value) in saved {
                    let other = current.get(key).unwrap_or(&Value::Null);
                    if other != value {
                        return differ(&format!("`{key}`"), value.to_string(), other.to_string());
                    }
                }
            }
        }
        if self.feature_map != now.feature_map {
            return differ(
                "the feature map (vocabularies and scalers)",
                self.feature_map.clone(),
                now.feature_map.clone(),
            );
        }
        if (self.train_rows, self.valid_rows) != (now.train_rows, now.valid_rows) {
            return differ(
                "the train/valid row count",
                format!("{}/{}", self.train_rows, self.valid_rows),
                format!("{}/{}", now.train_rows, now.valid_rows),
            );
        }
        Ok(())
    }
}

fn to_value<T: Serialize>(x: &T) -> Value {
    serde_json::to_value(x).unwrap_or(Value::Null)
}

/// Everything needed to continue a run after its last evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    pub identity: RunIdentity,
    pub progress: Progress,
    pub weights: ParamStore,
    /// The optimizer's parameter keys, in `Qnn::params` order.
    pub param_ids: Vec<u64>,
    /// Burn's optimizer record (burnpack bytes): Adam's moments and step counts.
    pub optimizer: Vec<u8>,
}

fn invalid(reason: impl std::fmt::Display) -> StateError {
    StateError::Invalid(reason.to_string())
}

fn checksum<'a>(tensors: impl Iterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut hasher = crc32fast::Hasher::new();
    for (name, bytes) in tensors {
        hasher.update(name.as_bytes());
        hasher.update(bytes);
    }
    format!("{:08x}", hasher.finalize())
}

impl TrainState {
    pub fn to_bytes(&self) -> Result<Vec<u8>, StateError> {
        let json = |v: Value| v.to_string();
        let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = self
            .weights
            .tensors
            .iter()
            .map(|(name, t)| {
                (
                    format!("{WEIGHT_PREFIX}{name}"),
                    Dtype::F32,
                    t.shape.clone(),
                    t.le_bytes(),
                )
            })
            .collect();
        tensors.push((
            OPTIMIZER_TENSOR.into(),
            Dtype::U8,
            vec![self.optimizer.len()],
            self.optimizer.clone(),
        ));
        // The checksum covers the tensors in name order, the order a reader can rebuild.
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let mut metadata = HashMap::new();
        metadata.insert("format".to_string(), FORMAT.to_string());
        metadata.insert("format_version".to_string(), FORMAT_VERSION.to_string());
        metadata.insert("identity".to_string(), json(to_value(&self.identity)));
        metadata.insert("progress".to_string(), json(to_value(&self.progress)));
        metadata.insert("param_ids".to_string(), json(to_value(&self.param_ids)));
        metadata.insert(
            "checksum".to_string(),
            checksum(
                tensors
                    .iter()
                    .map(|(n, _, _, b)| (n.as_str(), b.as_slice())),
            ),
        );
        let views = tensors
            .iter()
            .map(|(name, dtype, shape, raw)| {
                TensorView::new(*dtype, shape.clone(), raw).map(|v| (name.as_str(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        safetensors::serialize(views, Some(metadata)).map_err(invalid)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| invalid(format!("unreadable or truncated header ({e:?})")))?;
        let meta = header
            .metadata()
            .as_ref()
            .ok_or_else(|| invalid("the header has no metadata"))?;
        let get = |key: &str| {
            meta.get(key)
                .ok_or_else(|| invalid(format!("the header lacks `{key}`")))
        };
        if get("format")? != FORMAT {
            return Err(invalid(format!(
                "format is `{}`, expected `{FORMAT}`",
                get("format")?
            )));
        }
        let version: u32 = get("format_version")?
            .parse()
            .map_err(|_| invalid("format_version is not a number"))?;
        if version != FORMAT_VERSION {
            return Err(StateError::Version(version));
        }
        fn parse<T: serde::de::DeserializeOwned>(key: &str, text: &str) -> Result<T, StateError> {
            serde_json::from_str(text).map_err(|e| invalid(format!("`{key}`: {e}")))
        }
        let identity = parse("identity", get("identity")?)?;
        let progress = parse("progress", get("progress")?)?;
        let param_ids = parse("param_ids", get("param_ids")?)?;
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| invalid(format!("the file ends early or is damaged ({e:?})")))?;
        let mut named: Vec<(String, safetensors::tensor::TensorView<'_>)> =
            tensors.iter().map(|(n, v)| (n.to_string(), v)).collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut weights = ParamStore::default();
        let mut optimizer = None;
        let mut for_checksum = Vec::new();
        for (name, view) in &named {
            for_checksum.push((name.as_str(), view.data()));
            if name == OPTIMIZER_TENSOR {
                optimizer = Some(view.data().to_vec());
            } else if let Some(param) = name.strip_prefix(WEIGHT_PREFIX) {
                if view.dtype() != Dtype::F32 {
                    return Err(invalid(format!(
                        "tensor `{name}` is {:?}, expected F32",
                        view.dtype()
                    )));
                }
                weights.tensors.insert(
                    param.to_string(),
                    HostTensor::from_le_bytes(view.shape().to_vec(), view.data()),
                );
            } else {
                return Err(invalid(format!("unexpected tensor `{name}`")));
            }
        }
        if checksum(for_checksum.into_iter()) != *get("checksum")? {
            return Err(invalid(
                "the tensors do not match their checksum (damaged file)",
            ));
        }
        Ok(TrainState {
            identity,
            progress,
            weights,
            param_ids,
            optimizer: optimizer.ok_or_else(|| invalid("no optimizer state"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::synthetic::SyntheticSpec;
    use qnn_model::{InputLayout, QnnConfig};

    fn sample() -> TrainState {
        let map = SyntheticSpec::planted(1, 0).feature_map();
        let layout = InputLayout::new(&map).unwrap();
        let model = QnnConfig {
            embedding_dim: 4,
            num_row: 2,
            ..QnnConfig::paper_frappe()
        };
        let train = TrainConfig::paper_frappe();
        TrainState {
            identity: RunIdentity::new(&model.clone().into(), &train, &map, 100, 20),
            progress: Progress {
                epoch: 3,
                batch: 7,
                in_epoch: true,
                global_step: 31,
                learning_rate: 1e-4,
                best_monitor: Some(0.75),
                plateau_counter: 1,
                finished: false,
            },
            weights: ParamStore::init(&model, &layout, 5),
            param_ids: vec![9, 8, 7],
            optimizer: (0..=255).collect(),
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let state = sample();
        let bytes = state.to_bytes().unwrap();
        assert_eq!(TrainState::from_bytes(&bytes).unwrap(), state);
        for cut in [0, 8, 100, bytes.len() / 2, bytes.len() - 1] {
            let err = TrainState::from_bytes(&bytes[..cut]).unwrap_err();
            assert!(matches!(err, StateError::Invalid(_)), "cut {cut}: {err}");
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 0x10;
        let err = TrainState::from_bytes(&flipped).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        let err = TrainState::from_bytes(b"label,x\n1,2\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("not a valid QNN Lab training state")
        );
    }

    #[test]
    fn a_changed_setting_is_named() {
        let saved = sample().identity;
        assert!(saved.check_matches(&saved.clone()).is_ok());
        let mut now = saved.clone();
        now.train.learning_rate = 0.01;
        let err = saved.check_matches(&now).unwrap_err().to_string();
        assert!(
            err.contains("`learning_rate` is 0.001 in the saved state and 0.01 now"),
            "{err}"
        );
        let mut now = saved.clone();
        let mut model = saved.model.as_qnn().unwrap().clone();
        model.num_row = 3;
        now.model = model.into();
        let err = saved.check_matches(&now).unwrap_err().to_string();
        assert!(err.contains("`num_row`"), "{err}");
        let mut now = saved.clone();
        now.train_rows = 101;
        let err = saved.check_matches(&now).unwrap_err().to_string();
        assert!(err.contains("row count"), "{err}");
    }
}
