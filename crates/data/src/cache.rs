//! The processed-data cache of `data_root/dataset_id/` (FuxiCTR keeps h5 files there).
//!
//! Each split is one safetensors file: one tensor per feature (`u32` ids `[N]` or `[N, max_len]`,
//! `f32` values `[N]`) and the label (`f32 [N]`), named as in `feature_map.json`. Safetensors
//! because it is a plain, documented, zero-copy layout that numpy, PyTorch and the `safetensors`
//! Python package open directly (`safetensors.numpy.load_file("train.safetensors")`), it needs no
//! native library (h5 would, and parquet would add a large dependency tree for a flat table of
//! integers), and it is the format of our model file already.
//!
//! `feature_map.json` has FuxiCTR's keys (spec §C.4) plus `qnn_lab`, which holds our full feature
//! map (vocabularies, scalers, reading rules) and the fingerprint of the inputs it was built from.

use std::collections::HashMap;

use safetensors::tensor::{Dtype as TensorDtype, SafeTensors, TensorView};
use serde_json::{Value as Json, json};

use crate::dataset::{Column, EncodedDataset};
use crate::feature_map::{FeatureKind, FeatureMap};

/// A cache that cannot be used; the caller rebuilds it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct CacheError(pub String);

const FORMAT: &str = "qnn-lab-dataset";

/// One encoded split as safetensors bytes.
pub fn split_to_bytes(map: &FeatureMap, data: &EncodedDataset) -> Result<Vec<u8>, CacheError> {
    let n = data.len();
    let mut tensors: Vec<(String, TensorDtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (field, column) in map.fields().zip(data.columns()) {
        let (dtype, shape, bytes) = match column {
            Column::Ids(ids) => (TensorDtype::U32, vec![n], le_bytes(ids)),
            Column::Values(v) => (TensorDtype::F32, vec![n], le_bytes(v)),
            Column::Sequences { ids, max_len } => {
                (TensorDtype::U32, vec![n, *max_len], le_bytes(ids))
            }
        };
        tensors.push((field.name.clone(), dtype, shape, bytes));
    }
    let label = map
        .labels
        .first()
        .cloned()
        .unwrap_or_else(|| "label".into());
    tensors.push((label, TensorDtype::F32, vec![n], le_bytes(data.labels())));
    let views = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes).map(|v| (name.as_str(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CacheError(e.to_string()))?;
    let meta = HashMap::from([("format".to_string(), FORMAT.to_string())]);
    safetensors::serialize(views, Some(meta)).map_err(|e| CacheError(e.to_string()))
}

/// Reads a split written by [`split_to_bytes`] for the same feature map.
pub fn split_from_bytes(map: &FeatureMap, bytes: &[u8]) -> Result<EncodedDataset, CacheError> {
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| CacheError(format!("{e:?}")))?;
    let get = |name: &str, dtype: TensorDtype| {
        let view = tensors
            .tensor(name)
            .map_err(|_| CacheError(format!("no tensor `{name}`")))?;
        if view.dtype() != dtype {
            return Err(CacheError(format!("tensor `{name}` is {:?}", view.dtype())));
        }
        Ok((view.shape().to_vec(), view.data().to_vec()))
    };
    let mut columns = Vec::new();
    for f in map.fields() {
        let column = match &f.kind {
            FeatureKind::Numeric { .. } => {
                Column::Values(from_le(&get(&f.name, TensorDtype::F32)?.1))
            }
            FeatureKind::Sequence { max_len, .. } => {
                let (shape, data) = get(&f.name, TensorDtype::U32)?;
                if shape.get(1) != Some(max_len) {
                    return Err(CacheError(format!("`{}` has shape {shape:?}", f.name)));
                }
                Column::Sequences {
                    ids: from_le(&data),
                    max_len: *max_len,
                }
            }
            _ => Column::Ids(from_le(&get(&f.name, TensorDtype::U32)?.1)),
        };
        columns.push(column);
    }
    let label = map
        .labels
        .first()
        .cloned()
        .unwrap_or_else(|| "label".into());
    let labels = from_le(&get(&label, TensorDtype::F32)?.1);
    EncodedDataset::new(map, columns, labels).map_err(|e| CacheError(e.to_string()))
}

trait Le: Copy {
    fn to(self) -> [u8; 4];
    fn from(b: [u8; 4]) -> Self;
}
impl Le for u32 {
    fn to(self) -> [u8; 4] {
        self.to_le_bytes()
    }
    fn from(b: [u8; 4]) -> Self {
        u32::from_le_bytes(b)
    }
}
impl Le for f32 {
    fn to(self) -> [u8; 4] {
        self.to_le_bytes()
    }
    fn from(b: [u8; 4]) -> Self {
        f32::from_le_bytes(b)
    }
}

fn le_bytes<T: Le>(v: &[T]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to()).collect()
}

fn from_le<T: Le>(b: &[u8]) -> Vec<T> {
    b.chunks_exact(4)
        .map(|c| T::from([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `feature_map.json`: FuxiCTR's keys, plus ours under `qnn_lab`.
pub fn feature_map_json(map: &FeatureMap, fingerprint: &str) -> String {
    let mut features = Vec::new();
    let mut total = 0usize;
    let mut input_length = 0usize;
    for f in &map.features {
        let mut spec = serde_json::Map::new();
        spec.insert("source".into(), json!(f.source));
        let kind = match &f.kind {
            FeatureKind::Categorical { vocab } => {
                total += vocab.size();
                input_length += 1;
                spec.insert("padding_idx".into(), json!(0));
                spec.insert("oov_idx".into(), json!(vocab.oov_id()));
                spec.insert("vocab_size".into(), json!(vocab.size()));
                "categorical"
            }
            FeatureKind::Sequence { vocab, max_len, .. } => {
                total += vocab.size();
                input_length += max_len;
                spec.insert("padding_idx".into(), json!(0));
                spec.insert("oov_idx".into(), json!(vocab.oov_id()));
                spec.insert("vocab_size".into(), json!(vocab.size()));
                spec.insert("max_len".into(), json!(max_len));
                spec.insert(
                    "feature_encoder".into(),
                    json!("layers.MaskedAveragePooling()"),
                );
                "sequence"
            }
            FeatureKind::Numeric { .. } => {
                total += 1;
                input_length += 1;
                "numeric"
            }
            FeatureKind::Meta => {
                input_length += 1;
                "meta"
            }
        };
        spec.insert("type".into(), json!(kind));
        features.push(json!({ f.name.clone(): Json::Object(spec) }));
    }
    let doc = json!({
        "dataset_id": map.dataset_id,
        "num_fields": map.num_fields(),
        "total_features": total,
        "input_length": input_length,
        "labels": map.labels,
        "features": features,
        "qnn_lab": {
            "format": FORMAT,
            "fingerprint": fingerprint,
            "feature_map": map,
        }
    });
    serde_json::to_string_pretty(&doc).expect("JSON values always serialise")
}

/// `feature_vocab.json`: token → id per feature, as FuxiCTR writes it.
pub fn feature_vocab_json(map: &FeatureMap) -> String {
    let mut out = serde_json::Map::new();
    for f in &map.features {
        if let FeatureKind::Categorical { vocab } | FeatureKind::Sequence { vocab, .. } = &f.kind {
            let mut ids = serde_json::Map::new();
            ids.insert("__PAD__".into(), json!(0));
            for (i, tok) in vocab.tokens.iter().enumerate() {
                ids.insert(tok.clone(), json!(i + 1));
            }
            ids.insert("__OOV__".into(), json!(vocab.oov_id()));
            out.insert(f.name.clone(), Json::Object(ids));
        }
    }
    serde_json::to_string_pretty(&Json::Object(out)).expect("JSON values always serialise")
}

/// Reads back a `feature_map.json` written by [`feature_map_json`]: the map and its fingerprint.
pub fn read_feature_map_json(text: &str) -> Result<(FeatureMap, String), CacheError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| CacheError(e.to_string()))?;
    let ours = doc
        .get("qnn_lab")
        .filter(|o| o.get("format") == Some(&json!(FORMAT)))
        .ok_or_else(|| CacheError("not written by QNN Lab (no `qnn_lab` section)".into()))?;
    let map = serde_json::from_value(ours["feature_map"].clone())
        .map_err(|e| CacheError(format!("`qnn_lab.feature_map`: {e}")))?;
    let fingerprint = ours["fingerprint"].as_str().unwrap_or_default().to_string();
    Ok((map, fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::SyntheticSpec;

    #[test]
    fn splits_and_feature_maps_round_trip() {
        let (map, data) = SyntheticSpec::planted(50, 3).generate();
        let bytes = split_to_bytes(&map, &data).unwrap();
        assert_eq!(split_from_bytes(&map, &bytes).unwrap(), data);
        let json = feature_map_json(&map, "abc");
        let doc: Json = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["num_fields"], json!(6));
        assert_eq!(doc["features"][0]["f0"]["vocab_size"], json!(10));
        let (back, fp) = read_feature_map_json(&json).unwrap();
        assert_eq!((back, fp.as_str()), (map.clone(), "abc"));
        assert!(split_from_bytes(&map, &bytes[..bytes.len() / 2]).is_err());
        assert!(read_feature_map_json("{}").is_err());
        let vocab: Json = serde_json::from_str(&feature_vocab_json(&map)).unwrap();
        assert_eq!(vocab["f0"]["__OOV__"], json!(9));
    }
}
