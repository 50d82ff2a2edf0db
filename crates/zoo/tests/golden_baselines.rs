//! Parity with FuxiCTR 2.0.1's own code: `../shared/golden/baselines_golden.json` holds 18 cases
//! (LR, FM, DNN, DeepFM, DCNv2, FinalMLP, DualMLP) with every parameter, the logits, the loss and
//! the gradient of every parameter, in eval mode and, with batch norm, in train mode (with the
//! running statistics after the step), plus a regularization example.

use std::path::PathBuf;

use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use qnn_data::{Batch, Column, Feature, FeatureKind, FeatureMap, Vocabulary};
use qnn_model::{
    DropoutKey, InputLayout, Mode, ModelError, ModelInput, ParamStore, Regularizer, bce,
};
use qnn_zoo::weights::{export, read_grad, read_value};
use qnn_zoo::{FreshInit, FromStore, Keys, ZooConfig, ZooNetwork};
use serde_json::Value;

/// The golden file. Missing: a failure under `CI=true`, else a skip that says so.
fn golden() -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/golden/baselines_golden.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("golden file is JSON")),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{}: {e} (CI must have ../shared)", path.display())
        }
        Err(e) => {
            eprintln!("SKIPPED: {}: {e} (it is present in CI)", path.display());
            None
        }
    }
}

fn floats(v: &Value) -> Vec<f32> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap() as f32],
        Value::Object(t) => floats(&t["data"]),
        other => panic!("not a number array: {other}"),
    }
}

fn shape(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

fn read<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// |a − b| ≤ rtol·max(|b|, 1% of the tensor's largest magnitude): values that are zero up to
/// float32 noise are compared on the tensor's scale.
fn assert_close(what: &str, got: &[f32], want: &[f32], rtol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())) * 1e-2;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = rtol * w.abs().max(scale).max(1e-12);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: got {g}, want {w} (tol {tol})"
        );
    }
}

/// A golden case's `model_config` as the zoo reads keys.
struct JsonKeys<'a>(&'a serde_json::Map<String, Value>);

impl Keys for JsonKeys<'_> {
    type Error = ModelError;
    fn invalid(&self, error: ModelError) -> ModelError {
        error
    }
    fn count(&self, key: &'static str) -> Result<Option<usize>, ModelError> {
        Ok(self.0.get(key).map(|v| v.as_u64().unwrap() as usize))
    }
    fn float(&self, key: &'static str) -> Result<Option<f64>, ModelError> {
        Ok(self.0.get(key).map(|v| v.as_f64().unwrap()))
    }
    fn boolean(&self, key: &'static str) -> Result<Option<bool>, ModelError> {
        Ok(self.0.get(key).map(|v| v.as_bool().unwrap()))
    }
    fn string(&self, key: &'static str) -> Result<Option<String>, ModelError> {
        Ok(self.0.get(key).map(|v| v.as_str().unwrap().to_owned()))
    }
    fn counts(&self, key: &'static str) -> Result<Option<Vec<usize>>, ModelError> {
        Ok(self.0.get(key).map(|v| {
            let items = v.as_array().unwrap();
            items.iter().map(|n| n.as_u64().unwrap() as usize).collect()
        }))
    }
    fn strings(&self, key: &'static str) -> Result<Option<Vec<String>>, ModelError> {
        Ok(self.0.get(key).map(|v| match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect(),
            other => panic!("{key}: {other}"),
        }))
    }
}

struct Case {
    name: String,
    config: ZooConfig,
    layout: InputLayout,
    store: ParamStore,
    batch: Batch,
    regression: bool,
}

fn case(g: &Value) -> Case {
    let name = g["name"].as_str().unwrap().to_owned();
    let model_config = g["model_config"].as_object().unwrap();
    let model = model_config["model"].as_str().unwrap();
    let config = ZooConfig::read(model, &JsonKeys(model_config)).unwrap();
    let mut features = Vec::new();
    let mut columns = Vec::new();
    for entry in g["feature_map"]["features"].as_array().unwrap() {
        let (field, spec) = entry.as_object().unwrap().iter().next().unwrap();
        let inputs = &g["inputs"][field];
        match spec["type"].as_str().unwrap() {
            "categorical" => {
                let vocab = spec["vocab_size"].as_u64().unwrap() as usize;
                features.push(Feature::new(
                    field.clone(),
                    FeatureKind::Categorical {
                        vocab: Vocabulary::anonymous(vocab - 2),
                    },
                ));
                let ids = inputs.as_array().unwrap().iter();
                columns.push(Column::Ids(
                    ids.map(|v| v.as_u64().unwrap() as u32).collect(),
                ));
            }
            "numeric" => {
                features.push(Feature::new(
                    field.clone(),
                    FeatureKind::Numeric { normalizer: None },
                ));
                columns.push(Column::Values(floats(inputs).into()));
            }
            other => panic!("unknown field type {other}"),
        }
    }
    let map = FeatureMap {
        dataset_id: "golden".into(),
        features,
        labels: vec!["label".into()],
        task: Default::default(),
        group_id: None,
    };
    let mut store = ParamStore::default();
    for source in ["params", "buffers"] {
        for (tensor, value) in g[source].as_object().unwrap() {
            if !tensor.ends_with("num_batches_tracked") {
                store.insert(tensor.clone(), shape(value), floats(value));
            }
        }
    }
    Case {
        name,
        config,
        layout: InputLayout::new(&map).unwrap(),
        store,
        batch: Batch {
            columns,
            labels: floats(&g["labels"]),
        },
        regression: model_config["task"] == "regression",
    }
}

fn mse(y: Tensor<1>, t: Tensor<1>) -> Tensor<1> {
    let d = y - t;
    (d.clone() * d).mean()
}

/// Logits, outputs and loss of one forward in `mode`, checked against `want`; returns the loss.
fn check_forward(
    what: &str,
    case: &Case,
    model: &ZooNetwork,
    input: &ModelInput,
    mode: Mode,
    want: &Value,
    rtol: f32,
) -> Tensor<1> {
    let logits = model.logits(input, mode);
    assert_close(
        &format!("{what}: logits"),
        &read(logits.clone()),
        &floats(&want["logits"]),
        rtol,
    );
    if case.regression {
        let loss = mse(logits, input.labels.clone());
        let expected = want["mse_mean"].as_f64().unwrap() as f32;
        assert_close(
            &format!("{what}: mse"),
            &read(loss.clone()),
            &[expected],
            rtol,
        );
        loss
    } else {
        let probs = sigmoid(logits);
        assert_close(
            &format!("{what}: probs"),
            &read(probs.clone()),
            &floats(&want["probs"]),
            rtol,
        );
        let loss = bce(probs, input.labels.clone());
        let expected = want["bce_mean"].as_f64().unwrap() as f32;
        assert_close(
            &format!("{what}: bce"),
            &read(loss.clone()),
            &[expected],
            rtol,
        );
        loss
    }
}

/// Every parameter's gradient. A bias right before a training-mode batch norm has an exact
/// gradient of zero (the batch mean absorbs it): PyTorch's is rounding noise, ours is absent.
fn check_grads(what: &str, model: &ZooNetwork, grads: &burn::tensor::Gradients, want: &Value) {
    let got = export(&model.named(), read_grad(grads));
    let want = want.as_object().unwrap();
    for (name, want) in want {
        let want = floats(want);
        let largest = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        match got.tensors.get(name) {
            Some(got) => assert_close(&format!("{what}: grad {name}"), &got.values, &want, 1e-4),
            None => assert!(
                largest < 1e-6,
                "{what}: no gradient for {name}, PyTorch's is as large as {largest}"
            ),
        }
    }
}

fn build(case: &Case, device: &Device) -> ZooNetwork {
    ZooNetwork::build(
        &case.config,
        &case.layout,
        &mut FromStore::new(&case.store),
        device,
    )
    .unwrap()
}

fn run_case(g: &Value, device: &Device) {
    let case = case(g);
    let what = case.name.as_str();
    let model = build(&case, device);

    // Names and shapes of FuxiCTR's `named_parameters()` (serde_json sorts the golden keys,
    // so the order is not compared).
    let mut ours: Vec<(String, Vec<usize>)> = model
        .named()
        .into_iter()
        .map(|p| (p.name, p.shape))
        .collect();
    ours.sort();
    let theirs: Vec<(String, Vec<usize>)> = g["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(n, v)| (n.clone(), shape(v)))
        .collect();
    assert_eq!(ours, theirs, "{what}: parameters");
    // The values read back as they were given.
    let values = export(&model.named(), read_value);
    for (name, tensor) in &values.tensors {
        assert_eq!(
            tensor, &case.store.tensors[name],
            "{what}: {name} read back"
        );
    }

    let input = ModelInput::new(&case.batch, &case.layout, device).unwrap();
    let embedding = &g["intermediates"]["embedding_layer"];
    if !embedding.is_null() {
        let got = match &model {
            ZooNetwork::Fm(m) => m.embedding.forward(&input),
            ZooNetwork::Dnn(m) => m.embedding.forward(&input),
            ZooNetwork::DeepFm(m) => m.embedding.forward(&input),
            ZooNetwork::DcnV2(m) => m.embedding.forward(&input),
            ZooNetwork::FinalMlp(m) => m.embedding.forward(&input),
            ZooNetwork::DualMlp(m) => m.embedding.forward(&input),
            ZooNetwork::Lr(_) => unreachable!("LR has no main embedding"),
        };
        assert_close(
            &format!("{what}: embedding"),
            &read(got),
            &floats(embedding),
            1e-6,
        );
    }

    let loss = check_forward(what, &case, &model, &input, Mode::Eval, g, 1e-5);
    let grads = loss.backward();
    let grads_key = if case.regression {
        "grads_of_mse_mean"
    } else {
        "grads_of_bce_mean"
    };
    check_grads(what, &model, &grads, &g[grads_key]);

    if let Some(example) = g.get("regularization_example") {
        let embedding = Regularizer::l2(example["embedding_regularizer"].as_f64().unwrap());
        let net = Regularizer::parse(
            "net_regularizer",
            example["net_regularizer"].as_str().unwrap(),
        )
        .unwrap();
        let term = model.regularization(&embedding, &net).unwrap();
        let want = example["regularization_term"].as_f64().unwrap() as f32;
        assert_close(
            &format!("{what}: regularization"),
            &read(term.clone()),
            &[want],
            1e-5,
        );
        let total = loss_again(&case, &model, &input) + term;
        let want = example["total_loss"].as_f64().unwrap() as f32;
        assert_close(
            &format!("{what}: total loss"),
            &read(total.clone()),
            &[want],
            1e-5,
        );
        check_grads(
            &format!("{what} (regularized)"),
            &model,
            &total.backward(),
            &example["grads_of_total_loss"],
        );
    }

    if let Some(train) = g.get("train_mode") {
        // A fresh copy: the eval pass above must not have moved anything, and the train pass
        // starts from the golden running statistics.
        let model = build(&case, device);
        let what = &format!("{what} (train mode)");
        let mode = Mode::Train(DropoutKey::new(0, 0));
        let loss = check_forward(what, &case, &model, &input, mode, train, 1e-5);
        check_grads(what, &model, &loss.backward(), &train["grads_of_bce_mean"]);
        let after = train["buffers_after"].as_object().unwrap();
        let buffers = model.buffers();
        assert_eq!(buffers.len() * 3 / 2, after.len(), "{what}: buffers");
        for (name, value) in buffers {
            assert_close(
                &format!("{what}: {name}"),
                &read(value),
                &floats(&after[&name]),
                1e-5,
            );
        }
    }
}

fn loss_again(case: &Case, model: &ZooNetwork, input: &ModelInput) -> Tensor<1> {
    let logits = model.logits(input, Mode::Eval);
    if case.regression {
        mse(logits, input.labels.clone())
    } else {
        bce(sigmoid(logits), input.labels.clone())
    }
}

fn check_all_cases(device: Device) {
    let Some(g) = golden() else { return };
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 18);
    for c in cases {
        run_case(c, &device);
    }
}

#[test]
fn golden_cases_match_fuxictr_on_cpu() {
    check_all_cases(Device::flex().autodiff());
}

#[cfg(feature = "wgpu")]
#[test]
fn golden_cases_match_fuxictr_on_wgpu() {
    check_all_cases(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice).autodiff());
}

/// FuxiCTR's initialisation has the names and shapes of its `state_dict` for every case's
/// configuration (so a fresh model and a loaded one are the same network).
#[test]
fn a_fresh_model_has_the_golden_names_and_shapes() {
    let Some(g) = golden() else { return };
    let device = Device::flex();
    for c in g["cases"].as_array().unwrap() {
        let case = case(c);
        let fresh =
            ZooNetwork::build(&case.config, &case.layout, &mut FreshInit::new(3), &device).unwrap();
        let values = export(&fresh.named(), read_value);
        for (name, want) in &case.store.tensors {
            if name.contains("running_") {
                continue;
            }
            assert_eq!(
                values.tensors[name].shape, want.shape,
                "{}: {name}",
                case.name
            );
        }
        assert_eq!(values.tensors.len(), c["params"].as_object().unwrap().len());
    }
}
