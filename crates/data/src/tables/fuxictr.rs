//! The feature map FuxiCTR writes beside its encoded files: `feature_map.json` (fields, their
//! order, types, vocabulary sizes, sequence lengths, labels) and `feature_vocab.json` (token → id
//! per feature), read into a [`FeatureMap`] so that the model file made from such data can still
//! encode raw rows for `predict` and `evaluate`.

use serde_json::Value;

use crate::dataset_config::{ColumnKind, DatasetSpec};
use crate::feature_map::{Feature, FeatureKind, FeatureMap, Vocabulary};
use crate::processor::MAX_SEQUENCE_LEN;

/// Reads FuxiCTR's `feature_map.json` and `feature_vocab.json` (their texts; `map_file` and
/// `vocab_file` name them in errors). Where the dataset config lists `feature_cols`, their reading
/// rules (dtype, fill_na, preprocess, splitter, padding) are kept for encoding raw rows later.
pub fn fuxictr_feature_map(
    spec: &DatasetSpec,
    map_file: &str,
    map_text: &str,
    vocab_file: &str,
    vocab_text: &str,
) -> Result<FeatureMap, String> {
    let doc: Value =
        serde_json::from_str(map_text).map_err(|e| format!("{map_file}: not JSON: {e}"))?;
    let vocab: Value =
        serde_json::from_str(vocab_text).map_err(|e| format!("{vocab_file}: not JSON: {e}"))?;
    let bad = |what: String| format!("{map_file}: {what}");
    let labels: Vec<String> = doc
        .get("labels")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .filter(|l: &Vec<String>| !l.is_empty())
        .ok_or_else(|| bad("`labels` is missing or empty".into()))?;
    let entries = doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("`features` is missing or not a list".into()))?;
    let mut features = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let (name, f) = entry
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
            .ok_or_else(|| bad(format!("features[{i}] is not a {{name: spec}} object")))?;
        let at = |key: &str| {
            bad(format!(
                "feature `{name}`: `{key}` is missing or not a count"
            ))
        };
        let count = |key: &str| -> Result<usize, String> {
            f.get(key)
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| at(key))
        };
        let column = spec.columns.iter().find(|c| c.name == *name);
        let kind = match f.get("type").and_then(Value::as_str) {
            Some("categorical") => FeatureKind::Categorical {
                vocab: vocabulary(vocab_file, &vocab, name, count("vocab_size")?)?,
            },
            Some("sequence") => {
                let (splitter, padding) = match column.map(|c| &c.kind) {
                    Some(ColumnKind::Sequence {
                        splitter, padding, ..
                    }) => (splitter.clone(), *padding),
                    _ => ("^".to_string(), Default::default()),
                };
                let max_len = count("max_len")?;
                if max_len == 0 {
                    return Err(bad(format!("feature `{name}`: `max_len` is 0")));
                }
                // Every row of the split is padded to it: bounded before anything is allocated.
                if max_len > MAX_SEQUENCE_LEN {
                    return Err(bad(format!(
                        "feature `{name}`: `max_len` {max_len} is more than QNN Lab takes \
                         ({MAX_SEQUENCE_LEN})"
                    )));
                }
                FeatureKind::Sequence {
                    vocab: vocabulary(vocab_file, &vocab, name, count("vocab_size")?)?,
                    max_len,
                    splitter,
                    padding,
                }
            }
            Some("numeric") => FeatureKind::Numeric { normalizer: None },
            Some("meta") => FeatureKind::Meta,
            other => {
                return Err(bad(format!(
                    "feature `{name}`: type {other:?} is not categorical, numeric, sequence or meta"
                )));
            }
        };
        let mut feature = Feature::new(name.clone(), kind);
        feature.source = f
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(c) = column {
            feature.raw = c.raw.clone();
            feature.embedding_dim = c.embedding_dim;
        }
        // FuxiCTR writes a field's own `embedding_dim` into its spec when the config gave one.
        match f.get("embedding_dim") {
            None | Some(Value::Null) => {}
            Some(v) => {
                let dim = v
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| at("embedding_dim"))?;
                let dim = qnn_keys::EMBEDDING_DIM
                    .check_count(dim)
                    .map_err(|r| bad(format!("feature `{name}`: `embedding_dim` {r}")))?;
                feature.embedding_dim = Some(dim);
            }
        }
        features.push(feature);
    }
    // FuxiCTR applies `ordered_features`, then `feature_specs`, to the map it loads.
    if let Some(order) = &spec.ordered_features {
        let mut ordered = Vec::with_capacity(features.len());
        for name in order {
            match features.iter().find(|f| &f.name == name) {
                Some(f) if f.kind != FeatureKind::Meta => ordered.push(f.clone()),
                _ => {
                    return Err(bad(format!(
                        "ordered_features names `{name}`, which is not a feature field of this map"
                    )));
                }
            }
        }
        ordered.extend(features.into_iter().filter(|f| f.kind == FeatureKind::Meta));
        features = ordered;
    }
    for feature in &mut features {
        if let Some((_, dim)) = spec.feature_specs.iter().find(|(n, _)| *n == feature.name) {
            feature.embedding_dim = Some(*dim);
        }
    }
    if let Some((name, _)) = spec.feature_specs.iter().find(|(n, _)| {
        !features
            .iter()
            .any(|f| &f.name == n && f.kind != FeatureKind::Meta)
    }) {
        return Err(bad(format!(
            "feature_specs names `{name}`, which is not a feature field of this map"
        )));
    }
    let map = FeatureMap {
        dataset_id: doc
            .get("dataset_id")
            .and_then(Value::as_str)
            .unwrap_or(&spec.dataset_id)
            .to_string(),
        features,
        labels,
        task: spec.task,
        group_id: doc
            .get("group_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| spec.group_id.clone()),
    };
    if map.num_fields() == 0 {
        return Err(bad("no categorical, numeric or sequence feature".into()));
    }
    Ok(map)
}

/// The tokens of `name` in id order, checked against FuxiCTR's layout: `__PAD__` 0, the tokens
/// 1..=n, `__OOV__` n + 1, `vocab_size` n + 2.
fn vocabulary(file: &str, vocab: &Value, name: &str, size: usize) -> Result<Vocabulary, String> {
    let bad = |what: String| format!("{file}: feature `{name}`: {what}");
    let ids = vocab
        .get(name)
        .and_then(Value::as_object)
        .ok_or_else(|| bad("missing (its tokens are needed to encode raw rows)".into()))?;
    if size < 2 || ids.len() != size {
        return Err(bad(format!(
            "{} entries, feature_map.json says vocab_size {size}",
            ids.len()
        )));
    }
    let mut tokens = vec![None; size - 2];
    for (token, id) in ids {
        let id = id
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad(format!("the id of `{token}` is not a count")))?;
        match (token.as_str(), id) {
            ("__PAD__", 0) => {}
            ("__OOV__", i) if i == size - 1 => {}
            (_, i) if (1..size - 1).contains(&i) && tokens[i - 1].is_none() => {
                tokens[i - 1] = Some(token.clone());
            }
            _ => return Err(bad(format!("`{token}` has id {id}, which does not fit"))),
        }
    }
    let tokens = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.ok_or_else(|| bad(format!("no token has id {}", i + 1))))
        .collect::<Result<_, _>>()?;
    Ok(Vocabulary::new(tokens))
}
