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

use std::ops::Range;
use std::sync::Arc;

use safetensors::tensor::{Dtype as TensorDtype, SafeTensors};
use serde_json::{Value as Json, json};

use crate::buffer::{AlignedBytes, Buffer, SharedBytes};
use crate::dataset::{Column, EncodedDataset};
use crate::feature_map::{FeatureKind, FeatureMap};

/// A cache that cannot be used; the caller rebuilds it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct CacheError(pub String);

const FORMAT: &str = "qnn-lab-dataset";

/// Where each tensor of one split's file lies: what a writer fills in place and a reader maps.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitLayout {
    pub rows: usize,
    /// The file's first bytes: the header's length (u64, little-endian) and the JSON header,
    /// padded with spaces so that the data starts 8-byte aligned.
    pub header: Vec<u8>,
    /// Byte range in the file of each field's tensor (feature-map order), then the label's.
    pub tensors: Vec<Range<usize>>,
    /// The whole file's length.
    pub len: usize,
}

/// The tensor of each row's group (`u64 [N]`, [`crate::processor::group_of`]) in a split of a
/// map with a `group_id`.
const GROUP_TENSOR: &str = "__groups__";

/// The layout of a split of `rows` rows for `map`: the groups first when the map has a
/// `group_id` (`u64 [N]`, first so that they are 8-byte aligned), one tensor per field (`u32 [N]`
/// ids, `u32 [N, max_len]` sequences, `f32 [N]` values), then the label (`f32 [N]`).
pub fn split_layout(map: &FeatureMap, rows: usize) -> SplitLayout {
    let mut entries = serde_json::Map::new();
    entries.insert("__metadata__".into(), json!({ "format": FORMAT }));
    let mut offset = 0usize;
    let mut ranges = Vec::new();
    let mut add = |name: &str, dtype: &str, shape: Vec<usize>| {
        let width = if dtype == "U64" { 8 } else { 4 };
        let bytes = shape.iter().product::<usize>() * width;
        entries.insert(
            name.to_string(),
            json!({ "dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes] }),
        );
        ranges.push(offset..offset + bytes);
        offset += bytes;
    };
    if map.group_id.is_some() {
        add(GROUP_TENSOR, "U64", vec![rows]);
    }
    for f in map.fields() {
        match &f.kind {
            FeatureKind::Numeric { .. } => add(&f.name, "F32", vec![rows]),
            FeatureKind::Sequence { max_len, .. } => add(&f.name, "U32", vec![rows, *max_len]),
            _ => add(&f.name, "U32", vec![rows]),
        }
    }
    add(&label_name(map), "F32", vec![rows]);
    let mut json = serde_json::to_vec(&Json::Object(entries)).expect("JSON values serialise");
    json.resize(json.len().next_multiple_of(8), b' ');
    let start = 8 + json.len();
    let mut header = (json.len() as u64).to_le_bytes().to_vec();
    header.extend_from_slice(&json);
    SplitLayout {
        rows,
        header,
        tensors: ranges
            .into_iter()
            .map(|r| r.start + start..r.end + start)
            .collect(),
        len: start + offset,
    }
}

fn label_name(map: &FeatureMap) -> String {
    map.labels
        .first()
        .cloned()
        .unwrap_or_else(|| "label".into())
}

/// A split's file being filled in place (in memory, or a writable mapping of the file), row by
/// row in any order. It starts with its header written; the tensors are filled by `put`.
#[derive(Debug)]
pub struct SplitWriter<'a> {
    groups: Option<&'a mut [u64]>,
    columns: Vec<ColumnMut<'a>>,
    labels: &'a mut [f32],
}

#[derive(Debug)]
enum ColumnMut<'a> {
    Ids(&'a mut [u32]),
    Values(&'a mut [f32]),
    Sequences { ids: &'a mut [u32], max_len: usize },
}

impl<'a> SplitWriter<'a> {
    /// Writes `layout`'s header into `file` (exactly `layout.len` bytes, 4-byte aligned) and
    /// returns a writer for its tensors.
    pub fn new(
        map: &FeatureMap,
        layout: &SplitLayout,
        file: &'a mut [u8],
    ) -> Result<Self, CacheError> {
        if file.len() != layout.len {
            return Err(CacheError(format!(
                "{} bytes given for a split of {} bytes",
                file.len(),
                layout.len
            )));
        }
        file[..layout.header.len()].copy_from_slice(&layout.header);
        let mut rest = &mut file[layout.header.len()..];
        let mut slices = Vec::with_capacity(layout.tensors.len());
        for range in &layout.tensors {
            let (tensor, tail) = std::mem::take(&mut rest).split_at_mut(range.len());
            slices.push(tensor);
            rest = tail;
        }
        let misaligned = || CacheError("the split's memory is not 8-byte aligned".into());
        let mut slices = slices.into_iter();
        let groups = match map.group_id {
            Some(_) => Some(
                bytemuck::try_cast_slice_mut(slices.next().expect("a group tensor"))
                    .map_err(|_| misaligned())?,
            ),
            None => None,
        };
        let mut columns = Vec::new();
        for f in map.fields() {
            let bytes = slices.next().expect("one tensor per field");
            columns.push(match &f.kind {
                FeatureKind::Numeric { .. } => ColumnMut::Values(
                    bytemuck::try_cast_slice_mut(bytes).map_err(|_| misaligned())?,
                ),
                FeatureKind::Sequence { max_len, .. } => ColumnMut::Sequences {
                    ids: bytemuck::try_cast_slice_mut(bytes).map_err(|_| misaligned())?,
                    max_len: *max_len,
                },
                _ => ColumnMut::Ids(bytemuck::try_cast_slice_mut(bytes).map_err(|_| misaligned())?),
            });
        }
        let labels = bytemuck::try_cast_slice_mut(slices.next().expect("a label tensor"))
            .map_err(|_| misaligned())?;
        Ok(Self {
            groups,
            columns,
            labels,
        })
    }

    /// Copies row `from` of `chunk` (encoded for the same map, with its groups when the map has
    /// a `group_id`) to row `to` of the split, for every `(from, to)` pair.
    pub fn put(&mut self, chunk: &EncodedDataset, pairs: &[(usize, usize)]) {
        if let (Some(out), Some(groups)) = (self.groups.as_deref_mut(), chunk.groups()) {
            for &(from, to) in pairs {
                out[to] = groups[from];
            }
        }
        crate::par::for_each_mut(&mut self.columns, |column, i| {
            match (column, &chunk.columns()[i]) {
                (ColumnMut::Ids(out), Column::Ids(ids)) => {
                    for &(from, to) in pairs {
                        out[to] = ids[from];
                    }
                }
                (ColumnMut::Values(out), Column::Values(v)) => {
                    for &(from, to) in pairs {
                        out[to] = v[from];
                    }
                }
                (ColumnMut::Sequences { ids: out, max_len }, Column::Sequences { ids, .. }) => {
                    let m = *max_len;
                    for &(from, to) in pairs {
                        out[to * m..(to + 1) * m].copy_from_slice(&ids[from * m..(from + 1) * m]);
                    }
                }
                _ => unreachable!("the chunk was encoded for this feature map"),
            }
        });
        for &(from, to) in pairs {
            self.labels[to] = chunk.labels()[from];
        }
    }
}

/// One encoded split as safetensors bytes (a small split, all in memory).
pub fn split_to_bytes(map: &FeatureMap, data: &EncodedDataset) -> Result<Vec<u8>, CacheError> {
    let layout = split_layout(map, data.len());
    let mut bytes = AlignedBytes::zeroed(layout.len);
    let pairs: Vec<(usize, usize)> = (0..data.len()).map(|r| (r, r)).collect();
    SplitWriter::new(map, &layout, bytes.as_mut())?.put(data, &pairs);
    Ok(bytes.as_ref().to_vec())
}

/// Reads a split written for the same feature map, copying it (see [`split_from_shared`] for
/// reading in place).
pub fn split_from_bytes(map: &FeatureMap, bytes: &[u8]) -> Result<EncodedDataset, CacheError> {
    let mut aligned = AlignedBytes::zeroed(bytes.len());
    aligned.as_mut().copy_from_slice(bytes);
    split_from_shared(map, Arc::new(aligned))
}

/// Reads a split in place: the dataset's columns point into `bytes` (a memory-mapped cache
/// file), nothing is copied. Every id is still checked against its vocabulary.
pub fn split_from_shared(
    map: &FeatureMap,
    bytes: SharedBytes,
) -> Result<EncodedDataset, CacheError> {
    let all = (*bytes).as_ref();
    let (start, meta) =
        SafeTensors::read_metadata(all).map_err(|e| CacheError(format!("{e:?}")))?;
    let data_start = 8 + start;
    let get = |name: &str, dtype: TensorDtype| {
        let info = meta
            .info(name)
            .ok_or_else(|| CacheError(format!("no tensor `{name}`")))?;
        if info.dtype != dtype {
            return Err(CacheError(format!("tensor `{name}` is {:?}", info.dtype)));
        }
        let (s, e) = info.data_offsets;
        Ok((info.shape.clone(), data_start + s..data_start + e))
    };
    fn buffer<T: bytemuck::Pod>(
        bytes: &SharedBytes,
        range: Range<usize>,
    ) -> Result<Buffer<T>, CacheError> {
        Buffer::shared(bytes.clone(), range).map_err(|e| CacheError(e.to_string()))
    }
    let mut columns = Vec::new();
    for f in map.fields() {
        let column = match &f.kind {
            FeatureKind::Numeric { .. } => {
                Column::Values(buffer(&bytes, get(&f.name, TensorDtype::F32)?.1)?)
            }
            FeatureKind::Sequence { max_len, .. } => {
                let (shape, range) = get(&f.name, TensorDtype::U32)?;
                if shape.get(1) != Some(max_len) {
                    return Err(CacheError(format!("`{}` has shape {shape:?}", f.name)));
                }
                Column::Sequences {
                    ids: buffer(&bytes, range)?,
                    max_len: *max_len,
                }
            }
            _ => Column::Ids(buffer(&bytes, get(&f.name, TensorDtype::U32)?.1)?),
        };
        columns.push(column);
    }
    let labels = buffer(&bytes, get(&label_name(map), TensorDtype::F32)?.1)?;
    let data = EncodedDataset::new(map, columns, labels).map_err(|e| CacheError(e.to_string()))?;
    match map.group_id {
        Some(_) => {
            let groups: Buffer<u64> = buffer(&bytes, get(GROUP_TENSOR, TensorDtype::U64)?.1)?;
            data.with_groups(groups)
                .map_err(|e| CacheError(e.to_string()))
        }
        None => Ok(data),
    }
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
        if let Some(dim) = f.embedding_dim {
            spec.insert("embedding_dim".into(), json!(dim));
        }
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
        let (mut map, data) = SyntheticSpec::planted(50, 3).generate();
        map.features[2].embedding_dim = Some(4);
        let bytes = split_to_bytes(&map, &data).unwrap();
        assert_eq!(split_from_bytes(&map, &bytes).unwrap(), data);
        let json = feature_map_json(&map, "abc");
        let doc: Json = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["num_fields"], json!(6));
        assert_eq!(doc["features"][0]["f0"]["vocab_size"], json!(10));
        // A field's own width is in its FuxiCTR spec, as FuxiCTR writes it.
        assert_eq!(doc["features"][2]["f2"]["embedding_dim"], json!(4));
        assert!(doc["features"][1]["f1"].get("embedding_dim").is_none());
        let (back, fp) = read_feature_map_json(&json).unwrap();
        assert_eq!((back, fp.as_str()), (map.clone(), "abc"));
        assert!(split_from_bytes(&map, &bytes[..bytes.len() / 2]).is_err());
        // A plain safetensors file: the reference reader agrees on every tensor.
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.len(), map.num_fields() + 1);
        let Column::Ids(f1) = &data.columns()[1] else {
            panic!()
        };
        let view = st.tensor("f1").unwrap();
        assert_eq!((view.dtype(), view.shape()), (TensorDtype::U32, &[50][..]));
        assert_eq!(view.data(), bytemuck::cast_slice::<u32, u8>(f1));
        assert_eq!(st.tensor("label").unwrap().data().len(), 200);
        assert!(read_feature_map_json("{}").is_err());
        let vocab: Json = serde_json::from_str(&feature_vocab_json(&map)).unwrap();
        assert_eq!(vocab["f0"]["__OOV__"], json!(9));
    }
}
