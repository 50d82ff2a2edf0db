//! FuxiCTR's encoded formats: the tiny_csv sample as FuxiCTR 2.0.1 (h5), FuxiCTR 2.2 (npz) and
//! TensorFlow (TFRecord) wrote it (`tests/fixtures/fuxictr_formats/`, made by
//! `tests/fixtures/make_fuxictr_formats.py`) reads into exactly the feature map and encoded
//! splits QNN Lab's own CSV route builds from the CSV; damaged or foreign files are one-line
//! errors naming the file.

use qnn_data::config::{ConfigFile, Experiment};
use qnn_data::{
    Column, DatasetSpec, EncodedDataset, FeatureKind, FeatureMap, MemoryFiles, MemoryStore, Splits,
    prepare_dataset,
};

mod common;

use common::{TINY_COLUMNS, root};

fn spec(dataset_id: &str, format: &str, ext: &str, with_columns: bool) -> DatasetSpec {
    let dir = if format == "csv" {
        "static/examples/tiny_csv".to_string()
    } else {
        format!("fixtures/{dataset_id}")
    };
    let name = |split: &str| {
        if format == "csv" {
            format!("{dir}/{split}_sample.csv")
        } else {
            format!("{dir}/{split}.{ext}")
        }
    };
    let text = format!(
        "{dataset_id}:\n    data_root: fixtures/\n    data_format: {format}\n    train_data: {}\n    \
         valid_data: {}\n    test_data: {}\n    {}",
        name("train"),
        name("valid"),
        name("test"),
        if with_columns { TINY_COLUMNS } else { "" }
    );
    let exp = Experiment::load(
        &[ConfigFile {
            name: "model_config.yaml".into(),
            text: format!("E:\n  dataset_id: {dataset_id}\n"),
        }],
        &[ConfigFile {
            name: "dataset_config.yaml".into(),
            text,
        }],
        "E",
    )
    .unwrap();
    DatasetSpec::from_experiment(&exp).unwrap().0
}

/// The files a spec names, read from the repository (fixtures under their config names).
fn files(spec: &DatasetSpec) -> MemoryFiles {
    let mut files = MemoryFiles::default();
    let fixture =
        |p: &str| root().join(p.replacen("fixtures/", "tests/fixtures/fuxictr_formats/", 1));
    for path in [&spec.train_data, &spec.valid_data, &spec.test_data]
        .into_iter()
        .flatten()
    {
        files
            .files
            .push((path.clone(), std::fs::read(fixture(path)).unwrap()));
    }
    if spec.data_format.is_encoded() {
        for name in ["feature_map.json", "feature_vocab.json"] {
            let path = qnn_data::fuxictr_file(spec, name);
            files
                .files
                .push((path.clone(), std::fs::read(fixture(&path)).unwrap()));
        }
    }
    files
}

fn splits(spec: &DatasetSpec, files: &MemoryFiles) -> Result<Splits, String> {
    prepare_dataset(spec, 2024, &mut &*files, &mut MemoryStore).map_err(|e| e.to_string())
}

fn csv_route() -> Splits {
    let spec = spec("tiny", "csv", "", true);
    splits(&spec, &files(&spec)).unwrap()
}

/// Every cell of `data` as text: a token (ids looked up in the map's vocabularies, so that two
/// encodings that number the same tokens differently compare equal) or a value.
fn cells(map: &FeatureMap, data: &EncodedDataset) -> Vec<Vec<String>> {
    let token = |kind: &FeatureKind, id: u32| {
        let (FeatureKind::Categorical { vocab } | FeatureKind::Sequence { vocab, .. }) = kind
        else {
            unreachable!()
        };
        match id {
            0 => "__PAD__".to_string(),
            i if i == vocab.oov_id() => "__OOV__".to_string(),
            i => vocab.tokens[i as usize - 1].clone(),
        }
    };
    let mut out: Vec<Vec<String>> = map
        .fields()
        .zip(data.columns())
        .map(|(field, column)| match column {
            Column::Ids(ids) | Column::Sequences { ids, .. } => {
                ids.iter().map(|&id| token(&field.kind, id)).collect()
            }
            Column::Values(v) => v.iter().map(|x| x.to_string()).collect(),
        })
        .collect();
    out.push(data.labels().iter().map(|y| y.to_string()).collect());
    out
}

#[test]
fn every_encoded_format_reads_as_the_csv_route_encodes() {
    let expected = csv_route();
    for (dataset_id, format, ext) in [
        ("tiny_h5", "h5", "h5"),
        ("tiny_npz", "npz", "npz"),
        ("tiny_tfrecord", "tfrecord", "tfrecord"),
    ] {
        for with_columns in [true, false] {
            let spec = spec(dataset_id, format, ext, with_columns);
            let got = splits(&spec, &files(&spec)).unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(got.feature_map.dataset_id, dataset_id);
            assert_eq!(got.feature_map.labels, ["clk"]);
            assert_eq!(
                got.feature_map.features.len(),
                expected.feature_map.features.len()
            );
            for (g, e) in got
                .feature_map
                .features
                .iter()
                .zip(&expected.feature_map.features)
            {
                assert_eq!(g.name, e.name, "{format}");
                if with_columns {
                    // The config's reading rules come along for encoding raw rows later.
                    assert_eq!(g.raw, e.raw, "{format}: {}", g.name);
                }
            }
            let pairs = [
                (Some(&got.train), Some(&expected.train)),
                (got.valid.as_ref(), expected.valid.as_ref()),
                (got.test.as_ref(), expected.test.as_ref()),
            ];
            for (g, e) in pairs {
                let (g, e) = (g.unwrap(), e.unwrap());
                assert_eq!(
                    cells(&got.feature_map, g),
                    cells(&expected.feature_map, e),
                    "{format}"
                );
            }
            if format != "npz" {
                // FuxiCTR 2.0.1 numbers tokens in sorted order, as the CSV route does, so the
                // h5 files (and the TFRecords made from them) hold the very same ids.
                for (g, e) in got
                    .feature_map
                    .features
                    .iter()
                    .zip(&expected.feature_map.features)
                {
                    assert_eq!(g.kind, e.kind, "{format}");
                }
                assert_eq!(got.train, expected.train, "{format} train");
                assert_eq!(got.valid, expected.valid, "{format} valid");
                assert_eq!(got.test, expected.test, "{format} test");
            }
        }
    }
}

/// The h5 spec with one of its files replaced by `bytes`.
fn with_file(spec: &DatasetSpec, path: &str, bytes: Vec<u8>) -> MemoryFiles {
    let mut files = files(spec);
    let entry = files.files.iter_mut().find(|(p, _)| p == path).unwrap();
    entry.1 = bytes;
    files
}

fn assert_error(result: Result<Splits, String>, needles: &[&str]) {
    let message = result.expect_err("an error");
    assert!(!message.contains('\n'), "one line: {message}");
    for n in needles {
        assert!(message.contains(n), "`{n}` not in: {message}");
    }
}

#[test]
fn damaged_and_foreign_files_are_one_line_errors_naming_the_file() {
    let h5 = spec("tiny_h5", "h5", "h5", false);
    let train = h5.train_data.clone().unwrap();
    let good =
        std::fs::read(root().join("tests/fixtures/fuxictr_formats/tiny_h5/train.h5")).unwrap();

    // Truncated, foreign (a CSV), empty, bytes overwritten in the data.
    assert_error(
        splits(
            &h5,
            &with_file(&h5, &train, good[..good.len() / 3].to_vec()),
        ),
        &[&train],
    );
    let csv = std::fs::read(root().join("static/examples/tiny_csv/train_sample.csv")).unwrap();
    assert_error(
        splits(&h5, &with_file(&h5, &train, csv.clone())),
        &[&train, "HDF5"],
    );
    assert_error(splits(&h5, &with_file(&h5, &train, Vec::new())), &[&train]);
    let mut scribbled = good.clone();
    let n = scribbled.len();
    scribbled[n - 4000..].fill(0xff);
    assert_error(splits(&h5, &with_file(&h5, &train, scribbled)), &[&train]);

    // A feature map that does not fit the files: a smaller vocabulary puts ids out of range,
    // and one that disagrees with feature_vocab.json is refused.
    let map_path = qnn_data::fuxictr_file(&h5, "feature_map.json");
    let vocab_path = qnn_data::fuxictr_file(&h5, "feature_vocab.json");
    let fixture = |name: &str| {
        std::fs::read_to_string(
            root()
                .join("tests/fixtures/fuxictr_formats/tiny_h5")
                .join(name),
        )
        .unwrap()
    };
    let map = fixture("feature_map.json");
    let shrunk = map.replacen("\"vocab_size\": 25", "\"vocab_size\": 3", 1);
    assert_ne!(shrunk, map);
    assert_error(
        splits(&h5, &with_file(&h5, &map_path, shrunk.clone().into_bytes())),
        &[&vocab_path, "userid", "vocab_size 3"],
    );
    let mut vocab: serde_json::Value =
        serde_json::from_str(&fixture("feature_vocab.json")).unwrap();
    vocab["userid"] = serde_json::json!({"__PAD__": 0, "some user": 1, "__OOV__": 2});
    let mut tampered = with_file(&h5, &map_path, shrunk.into_bytes());
    tampered
        .files
        .iter_mut()
        .find(|(p, _)| *p == vocab_path)
        .unwrap()
        .1 = vocab.to_string().into_bytes();
    assert_error(
        splits(&h5, &tampered),
        &[&train, "userid", "outside the vocabulary (0..3"],
    );
    assert_error(
        splits(
            &h5,
            &with_file(&h5, &map_path, b"{\"features\": 7}".to_vec()),
        ),
        &[&map_path, "labels"],
    );
    let renamed = map.replacen("\"price\"", "\"cost\"", 1);
    assert_error(
        splits(&h5, &with_file(&h5, &map_path, renamed.into_bytes())),
        &[&train, "`cost`", "missing"],
    );
    let mut missing = files(&h5);
    missing.files.retain(|(p, _)| *p != vocab_path);
    assert_error(splits(&h5, &missing), &[&vocab_path]);

    // TFRecord: every record's checksums are checked.
    let tf = spec("tiny_tfrecord", "tfrecord", "tfrecord", false);
    let tf_train = tf.train_data.clone().unwrap();
    let good =
        std::fs::read(root().join("tests/fixtures/fuxictr_formats/tiny_tfrecord/train.tfrecord"))
            .unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x10;
    assert_error(
        splits(&tf, &with_file(&tf, &tf_train, flipped)),
        &[&tf_train, "checksum"],
    );
    assert_error(
        splits(
            &tf,
            &with_file(&tf, &tf_train, good[..good.len() - 7].to_vec()),
        ),
        &[&tf_train, "record 99"],
    );
    assert_error(
        splits(&tf, &with_file(&tf, &tf_train, csv.clone())),
        &[&tf_train, "record 0"],
    );

    // npz: not a zip, a member cut short.
    let npz = spec("tiny_npz", "npz", "npz", false);
    let npz_train = npz.train_data.clone().unwrap();
    assert_error(
        splits(&npz, &with_file(&npz, &npz_train, csv)),
        &[&npz_train, "zip"],
    );
    let good =
        std::fs::read(root().join("tests/fixtures/fuxictr_formats/tiny_npz/train.npz")).unwrap();
    assert_error(
        splits(
            &npz,
            &with_file(&npz, &npz_train, good[..good.len() / 2].to_vec()),
        ),
        &[&npz_train],
    );
    // Every array claims 2^62 rows (headers rewritten in place, padding shortened to match):
    // refused before anything is allocated for them.
    let (from, to) = (
        &b"'shape': (100,"[..],
        &b"'shape': (4611686018427387904,"[..],
    );
    let mut huge = Vec::with_capacity(good.len());
    let mut i = 0;
    let mut skip = 0;
    while i < good.len() {
        if good[i..].starts_with(from) {
            huge.extend_from_slice(to);
            i += from.len();
            skip = to.len() - from.len();
        } else if skip > 0 && good[i] == b' ' && huge.last() == Some(&b' ') {
            skip -= 1;
            i += 1;
        } else {
            huge.push(good[i]);
            i += 1;
        }
    }
    assert_eq!(huge.len(), good.len());
    assert_error(
        splits(&npz, &with_file(&npz, &npz_train, huge)),
        &[&npz_train, "4611686018427387904 rows", "bytes can hold"],
    );
}
