//! The model file: one self-contained, versioned file with everything needed to predict.
//!
//! It is a [safetensors] file, so the weights can be opened from Python as well. The header's
//! metadata holds the format name and version, the model config, the feature map (normalizers,
//! sequence settings; the vocabularies' tokens are left out), free-form training information and
//! a CRC-32 of the tensor bytes, so that a truncated or damaged file is rejected with a clear
//! error rather than loaded. Each vocabulary is two tensors, `vocab/<field>/tokens` (its tokens'
//! UTF-8 bytes one after the other, `U8`) and `vocab/<field>/ends` (where each token ends, `U64`),
//! so that its size is not capped by safetensors' 100 MB header: a 30-million-token vocabulary is
//! a file like any other. Version 1 files, which kept the tokens in the header, still load.
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use std::collections::HashMap;

use burn::tensor::Device;
use qnn_data::{Feature, FeatureKind, FeatureMap, Vocabulary};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::input::InputLayout;
use crate::params::{HostTensor, ParamStore};
use crate::{ModelError, Qnn, QnnConfig};

/// Value of the `format` metadata key.
pub const FORMAT: &str = "qnn-lab-model";
/// Bumped whenever a reader of the previous version could misread a new file.
pub const FORMAT_VERSION: u32 = 2;
/// The first version: vocabularies in the header's JSON. Still read.
const FIRST_VERSION: u32 = 1;
const VOCAB_PREFIX: &str = "vocab/";
/// Usual file extension.
pub const EXTENSION: &str = "qnn";

/// A network's configuration as a model file stores it (JSON in the header, which the checksum
/// does not cover): it checks itself against the file's weights before anything of the sizes it
/// names is computed or allocated.
pub trait FileConfig:
    serde::Serialize + serde::de::DeserializeOwned + Clone + PartialEq + std::fmt::Debug
{
    /// The config's own values, and that `weights` are exactly the tensors (names and shapes)
    /// of this network for `layout`; errors are [`ModelError::Config`] or [`ModelError::Weights`].
    fn check_weights(&self, layout: &InputLayout, weights: &ParamStore) -> Result<(), ModelError>;
}

impl FileConfig for QnnConfig {
    fn check_weights(&self, layout: &InputLayout, weights: &ParamStore) -> Result<(), ModelError> {
        self.validate()?;
        config_fits_weights(self, layout, weights)?;
        let expected = ParamStore::shapes(self, layout);
        for (name, shape) in &expected {
            match weights.tensors.get(name) {
                Some(got) if &got.shape == shape => {}
                Some(got) => {
                    return Err(ModelError::Weights(format!(
                        "tensor `{name}` has shape {:?}, the config needs {shape:?}",
                        got.shape
                    )));
                }
                None => return Err(ModelError::Weights(format!("missing tensor `{name}`"))),
            }
        }
        if let Some(extra) = weights.tensors.keys().find(|k| !expected.contains_key(*k)) {
            return Err(ModelError::Weights(format!("unexpected tensor `{extra}`")));
        }
        Ok(())
    }
}

/// The contents of a model file: a QNN's, or (with another [`FileConfig`]) any network's.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile<C = QnnConfig> {
    pub config: C,
    pub feature_map: FeatureMap,
    pub weights: ParamStore,
    /// Free-form facts about how the model was made (metrics, dataset, seed), as JSON.
    pub info: serde_json::Value,
}

fn file_error(reason: impl std::fmt::Display) -> ModelError {
    ModelError::File(format!("not a valid QNN Lab model file: {reason}"))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ModelError> {
    serde_json::to_string(value).map_err(|e| ModelError::File(e.to_string()))
}

/// CRC-32 of the weights (names and values) and then of the vocabulary tensors (version 2).
fn checksum<'a>(
    weights: &ParamStore,
    vocabularies: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for (name, t) in &weights.tensors {
        hasher.update(name.as_bytes());
        hasher.update(&t.le_bytes());
    }
    for (name, bytes) in vocabularies {
        hasher.update(name.as_bytes());
        hasher.update(bytes);
    }
    hasher.finalize()
}

/// Names of the vocabulary tensors of `map`, in the order they are checksummed.
fn vocab_names(map: &FeatureMap) -> Vec<String> {
    map.features
        .iter()
        .filter(|f| vocabulary_of(&f.kind).is_some())
        .flat_map(|f| ["tokens", "ends"].map(|part| format!("{VOCAB_PREFIX}{}/{part}", f.name)))
        .collect()
}

/// One vocabulary tensor as stored.
struct VocabTensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn vocabulary_of(kind: &FeatureKind) -> Option<&Vocabulary> {
    match kind {
        FeatureKind::Categorical { vocab } | FeatureKind::Sequence { vocab, .. } => Some(vocab),
        _ => None,
    }
}

/// The tensors of every vocabulary, in feature-map order.
fn vocab_tensors(map: &FeatureMap) -> Vec<VocabTensor> {
    let mut out = Vec::new();
    for f in &map.features {
        let Some(vocab) = vocabulary_of(&f.kind) else {
            continue;
        };
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(vocab.tokens.len() * 8);
        for token in &vocab.tokens {
            bytes.extend_from_slice(token.as_bytes());
            ends.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        }
        out.push(VocabTensor {
            name: format!("{VOCAB_PREFIX}{}/tokens", f.name),
            dtype: Dtype::U8,
            shape: vec![bytes.len()],
            bytes,
        });
        out.push(VocabTensor {
            name: format!("{VOCAB_PREFIX}{}/ends", f.name),
            dtype: Dtype::U64,
            shape: vec![vocab.tokens.len()],
            bytes: ends,
        });
    }
    out
}

/// The feature map without its tokens (what the header holds).
fn without_tokens(map: &FeatureMap) -> FeatureMap {
    let empty = || Vocabulary::new(Vec::new());
    FeatureMap {
        dataset_id: map.dataset_id.clone(),
        labels: map.labels.clone(),
        task: map.task,
        group_id: map.group_id.clone(),
        features: map
            .features
            .iter()
            .map(|f| Feature {
                name: f.name.clone(),
                source: f.source.clone(),
                raw: f.raw.clone(),
                embedding_dim: f.embedding_dim,
                kind: match &f.kind {
                    FeatureKind::Categorical { .. } => FeatureKind::Categorical { vocab: empty() },
                    FeatureKind::Sequence {
                        max_len,
                        splitter,
                        padding,
                        ..
                    } => FeatureKind::Sequence {
                        vocab: empty(),
                        max_len: *max_len,
                        splitter: splitter.clone(),
                        padding: *padding,
                    },
                    other => other.clone(),
                },
            })
            .collect(),
    }
}

/// Puts the tokens of `tensors` back into the (token-less) feature map of a version 2 file.
fn restore_tokens(map: &mut FeatureMap, tensors: &SafeTensors) -> Result<(), ModelError> {
    for f in &mut map.features {
        let vocab = match &mut f.kind {
            FeatureKind::Categorical { vocab } | FeatureKind::Sequence { vocab, .. } => vocab,
            _ => continue,
        };
        let get = |part: &str, dtype: Dtype| {
            let name = format!("{VOCAB_PREFIX}{}/{part}", f.name);
            match tensors.tensor(&name) {
                Ok(view) if view.dtype() == dtype => Ok(view),
                Ok(view) => Err(file_error(format!(
                    "tensor `{name}` is {:?}, expected {dtype:?}",
                    view.dtype()
                ))),
                Err(_) => Err(file_error(format!("missing tensor `{name}`"))),
            }
        };
        let (bytes, ends) = (get("tokens", Dtype::U8)?, get("ends", Dtype::U64)?);
        let text = std::str::from_utf8(bytes.data())
            .map_err(|_| file_error(format!("the vocabulary of `{}` is not UTF-8", f.name)))?;
        let mut start = 0usize;
        let mut tokens = Vec::with_capacity(ends.shape()[0]);
        for end in ends.data().chunks_exact(8) {
            let end = u64::from_le_bytes(end.try_into().expect("8 bytes")) as usize;
            let token = text
                .get(start..end)
                .filter(|_| end >= start)
                .ok_or_else(|| {
                    file_error(format!("the vocabulary of `{}` is inconsistent", f.name))
                })?;
            tokens.push(token.to_string());
            start = end;
        }
        if start != text.len() {
            return Err(file_error(format!(
                "the vocabulary of `{}` is inconsistent",
                f.name
            )));
        }
        vocab.tokens = tokens;
    }
    Ok(())
}

/// The config sits in the header, which the checksum does not cover: before shapes are computed
/// from it (a loop over its layers, products of its sizes), its sizes are bounded by the weights
/// the file holds, with checked arithmetic.
fn config_fits_weights(
    config: &QnnConfig,
    layout: &InputLayout,
    weights: &ParamStore,
) -> Result<(), ModelError> {
    let layers = weights
        .tensors
        .keys()
        .filter(|k| k.starts_with("layer.") && k.ends_with(".linear.0.weight"))
        .count();
    if config.num_layers != layers {
        return Err(ModelError::Weights(format!(
            "the config has num_layers {}, the file holds the weights of {layers}",
            config.num_layers
        )));
    }
    let held: usize = weights.tensors.values().map(|t| t.values.len()).sum();
    // The head alone has D = Σ of the fields' embedding widths weights; each layer D · D · num_row.
    let d = layout.width(config.embedding_dim);
    let layer = d.and_then(|d| d.checked_mul(d)?.checked_mul(config.num_row));
    let fits = d.is_some_and(|d| d <= held)
        && (config.num_layers == 0 || layer.is_some_and(|n| n <= held));
    match fits {
        true => Ok(()),
        false => Err(ModelError::Weights(format!(
            "the config's sizes (embedding_dim {}, num_row {}, {} fields) need more weights \
             than the file holds ({held})",
            config.embedding_dim,
            config.num_row,
            layout.num_fields()
        ))),
    }
}

impl ModelFile {
    /// Checks that the weights fit the config and the feature map, then builds the model.
    pub fn build(&self, device: &Device) -> Result<Qnn, ModelError> {
        let layout = InputLayout::new(&self.feature_map)?;
        Qnn::from_store(&self.config, &layout, &self.weights, device)
    }
}

impl<C: FileConfig> ModelFile<C> {
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        let mut metadata = HashMap::new();
        metadata.insert("format".to_string(), FORMAT.to_string());
        metadata.insert("format_version".to_string(), FORMAT_VERSION.to_string());
        metadata.insert("config".to_string(), to_json(&self.config)?);
        metadata.insert(
            "feature_map".to_string(),
            to_json(&without_tokens(&self.feature_map))?,
        );
        metadata.insert("info".to_string(), to_json(&self.info)?);
        let vocabularies = vocab_tensors(&self.feature_map);
        metadata.insert(
            "checksum".to_string(),
            format!(
                "{:08x}",
                checksum(
                    &self.weights,
                    vocabularies
                        .iter()
                        .map(|v| (v.name.as_str(), v.bytes.as_slice()))
                )
            ),
        );
        let weights: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .weights
            .tensors
            .iter()
            .map(|(name, t)| (name.clone(), t.shape.clone(), t.le_bytes()))
            .collect();
        let views = weights
            .iter()
            .map(|(name, shape, raw)| (name, Dtype::F32, shape, raw))
            .chain(
                vocabularies
                    .iter()
                    .map(|v| (&v.name, v.dtype, &v.shape, &v.bytes)),
            )
            .map(|(name, dtype, shape, raw)| {
                TensorView::new(dtype, shape.clone(), raw).map(|v| (name.as_str(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ModelError::File(e.to_string()))?;
        safetensors::serialize(views, Some(metadata)).map_err(|e| ModelError::File(e.to_string()))
    }

    /// Parses and validates a model file; every failure is a [`ModelError::File`] or
    /// [`ModelError::Weights`] that says what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| {
            use safetensors::SafeTensorError as E;
            file_error(match e {
                E::HeaderTooLarge | E::HeaderTooSmall => format!(
                    "it does not start with a safetensors header ({e:?}): not a model file, or a damaged one"
                ),
                E::InvalidHeaderLength | E::MetadataIncompleteBuffer => {
                    "the file ends early (truncated while copying or downloading?)".into()
                }
                other => format!("unreadable safetensors header ({other:?})"),
            })
        })?;
        let meta = header
            .metadata()
            .as_ref()
            .ok_or_else(|| file_error("the header has no metadata"))?;
        let get = |key: &str| {
            meta.get(key)
                .ok_or_else(|| file_error(format!("the header lacks `{key}`")))
        };
        if get("format")? != FORMAT {
            return Err(file_error(format!(
                "format is `{}`, expected `{FORMAT}`",
                get("format")?
            )));
        }
        let version: u32 = get("format_version")?
            .parse()
            .map_err(|_| file_error("format_version is not a number"))?;
        if version != FORMAT_VERSION && version != FIRST_VERSION {
            return Err(ModelError::File(format!(
                "model file format version {version} is not supported by this QNN Lab (it reads version {FORMAT_VERSION})"
            )));
        }
        let parse = |key: &str| -> Result<serde_json::Value, ModelError> {
            serde_json::from_str(get(key)?).map_err(|e| file_error(format!("`{key}`: {e}")))
        };
        let config: C = serde_json::from_value(parse("config")?)
            .map_err(|e| file_error(format!("`config`: {e}")))?;
        let mut feature_map: FeatureMap = serde_json::from_value(parse("feature_map")?)
            .map_err(|e| file_error(format!("`feature_map`: {e}")))?;
        let info = parse("info")?;
        let expected_sum = get("checksum")?.clone();

        let tensors = SafeTensors::deserialize(bytes).map_err(|e| file_error(format!("{e:?}")))?;
        let mut weights = ParamStore::default();
        for (name, view) in tensors.iter() {
            if version != FIRST_VERSION && name.starts_with(VOCAB_PREFIX) {
                continue;
            }
            if view.dtype() != Dtype::F32 {
                return Err(file_error(format!(
                    "tensor `{name}` is {:?}, expected F32",
                    view.dtype()
                )));
            }
            weights.tensors.insert(
                name.to_string(),
                HostTensor::from_le_bytes(view.shape().to_vec(), view.data()),
            );
        }
        let vocab_names = match version {
            FIRST_VERSION => Vec::new(),
            _ => vocab_names(&feature_map),
        };
        let vocabularies = vocab_names
            .iter()
            .map(|name| match tensors.tensor(name) {
                Ok(view) => Ok((name.as_str(), view.data())),
                Err(_) => Err(file_error(format!("missing tensor `{name}`"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if format!("{:08x}", checksum(&weights, vocabularies)) != expected_sum {
            return Err(file_error(
                "the weights do not match their checksum (damaged file)",
            ));
        }
        if version != FIRST_VERSION {
            restore_tokens(&mut feature_map, &tensors)?;
        }
        let file = ModelFile {
            config,
            feature_map,
            weights,
            info,
        };
        // Reject weights that do not fit the config before anyone tries to use them.
        let layout = InputLayout::new(&file.feature_map)?;
        file.config.check_weights(&layout, &file.weights)?;
        // A NaN or an infinity would make every prediction NaN without a word: a run that
        // diverged, or weights written by another program.
        let mut names: Vec<_> = file.weights.tensors.keys().collect();
        names.sort();
        for name in names {
            let values = &file.weights.tensors[name].values;
            if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                return Err(ModelError::Weights(format!(
                    "tensor `{name}` holds {} at index {at}: the weights are not usable (did \
                     the training diverge?)",
                    values[at]
                )));
            }
        }
        Ok(file)
    }

    /// Writes the file atomically: a temporary file beside the target, then a rename, so that
    /// a failure never leaves a half-written model.
    #[cfg(not(target_family = "wasm"))]
    pub fn save(&self, path: &std::path::Path) -> Result<(), ModelError> {
        use std::io::Write;
        let bytes = self.to_bytes()?;
        let io =
            |e: std::io::Error| ModelError::File(format!("cannot write {}: {e}", path.display()));
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| ModelError::File(format!("{} is not a file path", path.display())))?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            file_name.to_string_lossy(),
            std::process::id()
        ));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    #[cfg(not(target_family = "wasm"))]
    pub fn load(path: &std::path::Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ModelError::File(format!("cannot read {}: {e}", path.display())))?;
        Self::from_bytes(&bytes).map_err(|e| match e {
            ModelError::File(reason) => ModelError::File(format!("{}: {reason}", path.display())),
            ModelError::Weights(reason) => {
                ModelError::Weights(format!("{}: {reason}", path.display()))
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::synthetic::SyntheticSpec;

    fn sample() -> ModelFile {
        let map = SyntheticSpec::planted(1, 0).feature_map();
        let layout = InputLayout::new(&map).unwrap();
        let config = QnnConfig {
            embedding_dim: 4,
            num_row: 2,
            ..QnnConfig::paper_frappe()
        };
        ModelFile {
            weights: ParamStore::init(&config, &layout, 3),
            config,
            feature_map: map,
            info: serde_json::json!({"seed": 3}),
        }
    }

    #[test]
    fn round_trips_bytes() {
        let file = sample();
        let back = ModelFile::<QnnConfig>::from_bytes(&file.to_bytes().unwrap()).unwrap();
        assert_eq!(back, file);
    }

    #[test]
    fn truncated_damaged_and_foreign_files_are_rejected() {
        let bytes = sample().to_bytes().unwrap();
        for cut in [0, 4, 8, 100, bytes.len() / 2, bytes.len() - 1] {
            let err = ModelFile::<QnnConfig>::from_bytes(&bytes[..cut])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("not a valid QNN Lab model file"),
                "cut {cut}: {err}"
            );
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x40;
        let err = ModelFile::<QnnConfig>::from_bytes(&flipped)
            .unwrap_err()
            .to_string();
        assert!(err.contains("checksum"), "{err}");
        let err = ModelFile::<QnnConfig>::from_bytes(b"id,label\n1,0\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "not a valid QNN Lab model file: it does not start with a safetensors header"
            ),
            "{err}"
        );
        let err = ModelFile::<QnnConfig>::from_bytes(&bytes[..100])
            .unwrap_err()
            .to_string();
        assert!(err.contains("the file ends early"), "{err}");
    }

    #[test]
    fn other_versions_and_mismatched_weights_are_named() {
        let file = sample();
        let text = String::from_utf8_lossy(&file.to_bytes().unwrap()).into_owned();
        assert!(text.contains(r#""format_version":"2""#));
        let mut bad = file.clone();
        bad.weights.tensors.remove("fc.bias");
        let err = ModelFile::<QnnConfig>::from_bytes(&bad.to_bytes().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing tensor `fc.bias`"), "{err}");
        let mut bad = file;
        bad.config.num_row = 3;
        let err = ModelFile::<QnnConfig>::from_bytes(&bad.to_bytes().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("shape"), "{err}");
    }

    /// The header's config is not under the checksum: sizes far beyond the weights held are
    /// refused at once (4·10¹² layers used to be a loop that never ended).
    #[test]
    fn config_sizes_beyond_the_weights_held_are_refused_at_once() {
        let file = sample();
        for (key, reason) in [
            ("num_layers", "the config has num_layers 4000000000000"),
            ("num_row", "need more weights than the file holds"),
            ("embedding_dim", "need more weights than the file holds"),
        ] {
            let mut bad = file.clone();
            match key {
                "num_layers" => bad.config.num_layers = 4_000_000_000_000,
                "num_row" => bad.config.num_row = 4_000_000_000_000,
                _ => {
                    bad.config.embedding_dim = usize::MAX / 2;
                    bad.config.num_heads = 1;
                }
            }
            let started = std::time::Instant::now();
            let err = ModelFile::<QnnConfig>::from_bytes(&bad.to_bytes().unwrap())
                .unwrap_err()
                .to_string();
            assert!(err.contains(reason), "{key}: {err}");
            assert!(started.elapsed().as_secs() < 5, "{key}");
        }
    }

    #[test]
    fn non_finite_weights_are_refused_by_name() {
        for value in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut file = sample();
            file.weights
                .tensors
                .get_mut("layer.0.linear.0.bias")
                .unwrap()
                .values[5] = value;
            // A correct checksum: what a run that diverged would have saved.
            let err = ModelFile::<QnnConfig>::from_bytes(&file.to_bytes().unwrap())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("tensor `layer.0.linear.0.bias` holds") && err.contains("index 5"),
                "{err}"
            );
        }
    }

    #[test]
    fn version_1_files_with_tokens_in_the_header_still_load() {
        let file = sample();
        let views: Vec<(String, Vec<usize>, Vec<u8>)> = file
            .weights
            .tensors
            .iter()
            .map(|(n, t)| (n.clone(), t.shape.clone(), t.le_bytes()))
            .collect();
        let metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("format_version".to_string(), "1".to_string()),
            ("config".to_string(), to_json(&file.config).unwrap()),
            (
                "feature_map".to_string(),
                to_json(&file.feature_map).unwrap(),
            ),
            ("info".to_string(), to_json(&file.info).unwrap()),
            (
                "checksum".to_string(),
                format!("{:08x}", checksum(&file.weights, [])),
            ),
        ]);
        let bytes = safetensors::serialize(
            views.iter().map(|(n, s, b)| {
                (
                    n.as_str(),
                    TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
                )
            }),
            Some(metadata),
        )
        .unwrap();
        assert_eq!(ModelFile::<QnnConfig>::from_bytes(&bytes).unwrap(), file);
    }

    #[test]
    fn vocabularies_live_in_tensors_and_their_damage_is_caught() {
        let file = sample();
        let bytes = file.to_bytes().unwrap();
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let map = &header.metadata().as_ref().unwrap()["feature_map"];
        assert!(
            !map.contains("f0_t") && map.contains(r#""tokens":[]"#),
            "{map}"
        );
        let tensors = SafeTensors::deserialize(&bytes).unwrap();
        let tokens = tensors.tensor("vocab/f0/tokens").unwrap();
        assert_eq!(tokens.data(), "12345678".as_bytes());
        // A changed token is a checksum error, not a silently different vocabulary.
        let at = bytes.windows(8).position(|w| w == b"12345678").unwrap();
        let mut damaged = bytes.clone();
        damaged[at] = b'9';
        let err = ModelFile::<QnnConfig>::from_bytes(&damaged)
            .unwrap_err()
            .to_string();
        assert!(err.contains("checksum"), "{err}");
    }

    #[test]
    fn a_vocabulary_of_30_million_tokens_saves_and_loads() {
        let tokens: Vec<String> = (0..30_000_000u32).map(|i| format!("{i:08x}")).collect();
        let map = FeatureMap {
            dataset_id: "large".into(),
            features: vec![Feature::new(
                "c",
                FeatureKind::Categorical {
                    vocab: Vocabulary::new(tokens),
                },
            )],
            labels: vec!["y".into()],
            task: Default::default(),
            group_id: None,
        };
        let layout = InputLayout::new(&map).unwrap();
        let config = QnnConfig {
            embedding_dim: 1,
            num_layers: 1,
            num_row: 1,
            ..QnnConfig::paper_frappe()
        };
        let file = ModelFile {
            weights: ParamStore::init(&config, &layout, 1),
            config,
            feature_map: map,
            info: serde_json::json!({}),
        };
        let bytes = file.to_bytes().unwrap();
        assert!(bytes.len() > 30_000_000 * (8 + 8 + 4));
        let back = ModelFile::<QnnConfig>::from_bytes(&bytes).unwrap();
        assert!(
            back == file,
            "the 30 M-token model file does not round-trip"
        );
    }
}
