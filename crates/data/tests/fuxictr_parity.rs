//! Preprocessing parity: vocabularies and encoded columns equal FuxiCTR 2.0.1's own output on the
//! bundled tiny_csv sample (`tests/fixtures/fuxictr_tiny_expected.json`, written by
//! `tests/fixtures/make_fuxictr_tiny.py` with FuxiCTR's FeatureProcessor).

use qnn_data::config::{ConfigFile, Experiment};
use qnn_data::processor::{encode, fit, training_columns};
use qnn_data::{Column, DatasetSpec, FeatureKind, RawTable};
use serde_json::Value;

mod common;

use common::{TINY_COLUMNS, root};

#[test]
fn tiny_csv_vocabularies_and_ids_match_fuxictr() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/fuxictr_tiny_expected.json")).unwrap(),
    )
    .unwrap();
    let exp = Experiment::load(
        &[ConfigFile {
            name: "model_config.yaml".into(),
            text: "E:\n  dataset_id: tiny\n".into(),
        }],
        &[ConfigFile {
            name: "dataset_config.yaml".into(),
            text: format!("tiny:\n    data_format: csv\n    {TINY_COLUMNS}"),
        }],
        "E",
    )
    .unwrap();
    let (spec, _) = DatasetSpec::from_experiment(&exp).unwrap();
    assert_eq!(
        expected["min_categr_count"].as_u64(),
        Some(spec.min_categr_count as u64)
    );
    let read = |file: &str| {
        let path = root().join("static/examples/tiny_csv").join(file);
        RawTable::read(
            std::fs::File::open(&path).unwrap(),
            file,
            &training_columns(&spec),
            &mut |_| {},
        )
        .unwrap()
    };
    let train = read("train_sample.csv");
    let map = fit(&spec, &train, &(0..train.len()).collect::<Vec<_>>()).unwrap();

    let mut checked = 0;
    for f in map.fields() {
        let vocab = match &f.kind {
            FeatureKind::Categorical { vocab } | FeatureKind::Sequence { vocab, .. } => vocab,
            _ => continue,
        };
        let theirs = expected["vocab"][&f.name].as_object().unwrap();
        assert_eq!(theirs.len(), vocab.size(), "{}: vocabulary size", f.name);
        assert_eq!(theirs["__OOV__"].as_u64(), Some(u64::from(vocab.oov_id())));
        for (i, token) in vocab.tokens.iter().enumerate() {
            assert_eq!(
                theirs.get(token).and_then(Value::as_u64),
                Some(i as u64 + 1),
                "{}: token {token:?}",
                f.name
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 15);

    let valid = read("valid_sample.csv");
    let data = encode(&map, &valid, &(0..valid.len()).collect::<Vec<_>>()).unwrap();
    for (f, column) in map.fields().zip(data.columns()) {
        let theirs = &expected["valid"][&f.name];
        match column {
            Column::Ids(ids) => {
                let want: Vec<u64> = theirs
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as u64)
                    .collect();
                let got: Vec<u64> = ids.iter().map(|&i| u64::from(i)).collect();
                assert_eq!(got, want, "{}", f.name);
            }
            Column::Values(v) => {
                for (a, b) in v.iter().zip(theirs.as_array().unwrap()) {
                    assert!(
                        (f64::from(*a) - b.as_f64().unwrap()).abs() < 1e-4,
                        "{}",
                        f.name
                    );
                }
            }
            Column::Sequences { ids, max_len } => {
                let want: Vec<u64> = theirs
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
                    .collect();
                assert_eq!(*max_len, 3);
                let got: Vec<u64> = ids.iter().map(|&i| u64::from(i)).collect();
                assert_eq!(got, want, "{}", f.name);
            }
        }
    }
    let labels: Vec<f32> = expected["valid"]["clk"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(data.labels(), &labels[..]);
}
