//! Parity with the authors' PyTorch code, on both layer kernels (fused and composed):
//! `../shared/golden/qnn_t26_golden.json` holds eval-mode forward values, BCE gradients and the
//! Self-Ensemble loss for three small configurations; `qnn_t26_train_golden.json` holds one
//! training-mode forward (batch norm on batch statistics, the running-statistics update) with
//! the gradients of every parameter and of the input.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor};
use qnn_data::{Batch, Column, Feature, FeatureKind, FeatureMap, Vocabulary};
use qnn_model::{
    DropoutKey, InputLayout, LayerKernel, Loss, Mode, ModelInput, ParamStore, Qnn, QnnConfig, Task,
    bce, self_ensemble_loss,
};
use serde_json::Value;

/// A golden file of `../shared/golden`. Missing: a failure under `CI=true`, else a skip that says
/// so.
fn golden(file: &str) -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/golden")
        .join(file);
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
        other => panic!("not a number array: {other}"),
    }
}

fn read<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// |a − b| ≤ rtol·|b|, with |b| floored at 1% of the tensor's largest magnitude so that values that
/// are zero up to float32 noise are compared on the tensor's scale.
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

struct Case {
    config: QnnConfig,
    map: FeatureMap,
    store: ParamStore,
    batch: Batch,
    golden: Value,
}

fn case(g: &Value) -> Case {
    let c = &g["config"];
    let int = |k: &str| c[k].as_u64().unwrap() as usize;
    let config = QnnConfig {
        embedding_dim: int("embedding_dim"),
        num_layers: int("num_layers"),
        num_row: int("num_row"),
        num_heads: int("num_heads"),
        batch_norm: c["batch_norm"].as_bool().unwrap(),
        net_dropout: c["net_dropout"].as_f64().unwrap(),
    };
    let e = config.embedding_dim;
    let mut features = Vec::new();
    let mut columns = Vec::new();
    let mut table = Vec::new();
    let mut numeric = Vec::new();
    for field in g["fields"].as_array().unwrap() {
        let name = format!("f{}", field["field"]);
        match field["type"].as_str().unwrap() {
            "categorical" => {
                let rows = field["table"].as_array().unwrap().len();
                table.extend(floats(&field["table"]));
                features.push(Feature::new(
                    name,
                    FeatureKind::Categorical {
                        vocab: Vocabulary::anonymous(rows - 2),
                    },
                ));
                let ids = field["ids"].as_array().unwrap().iter();
                columns.push(Column::Ids(
                    ids.map(|v| v.as_u64().unwrap() as u32).collect(),
                ));
            }
            "numeric" => {
                numeric.extend(floats(&field["weight"]));
                features.push(Feature::new(
                    name,
                    FeatureKind::Numeric { normalizer: None },
                ));
                columns.push(Column::Values(floats(&field["values"]).into()));
            }
            other => panic!("unknown field type {other}"),
        }
    }
    let map = FeatureMap {
        dataset_id: "golden".into(),
        features,
        labels: vec!["y".into()],
        task: Default::default(),
        group_id: None,
    };
    let mut store = ParamStore::default();
    store.insert("embedding.table", vec![table.len() / e, e], table);
    if !numeric.is_empty() {
        store.insert("embedding.numeric", vec![numeric.len() / e, e], numeric);
    }
    for source in ["params", "buffers"] {
        for (name, value) in g[source].as_object().unwrap() {
            let values = floats(value);
            let shape = match value {
                Value::Array(rows) if rows.first().is_some_and(Value::is_array) => {
                    vec![rows.len(), values.len() / rows.len()]
                }
                _ => vec![values.len()],
            };
            store.insert(name.clone(), shape, values);
        }
    }
    let batch = Batch {
        columns,
        labels: floats(&g["labels"]),
    };
    Case {
        config,
        map,
        store,
        batch,
        golden: g.clone(),
    }
}

fn run_case(g: &Value, device: &Device, kernel: LayerKernel) {
    let device = device.clone();
    let name = &format!("{} ({kernel:?})", g["name"].as_str().unwrap());
    let case = case(g);
    assert_eq!(
        case.golden["config"]["mode"], "eval",
        "golden values are eval-mode"
    );
    let layout = InputLayout::new(&case.map).unwrap();
    let mut model = Qnn::from_store(&case.config, &layout, &case.store, &device).unwrap();
    model.kernel = kernel;
    let input = ModelInput::new(&case.batch, &layout, &device).unwrap();

    let x0 = model.embed(&input);
    assert_close(
        &format!("{name}: input_flat"),
        &read(x0),
        &floats(&g["input_flat"]),
        1e-6,
    );

    let logits = model.logits(&input, Mode::Eval);
    assert_close(
        &format!("{name}: logits"),
        &read(logits.clone()),
        &floats(&g["logits"]),
        1e-4,
    );
    let probs = burn::tensor::activation::sigmoid(logits);
    assert_close(
        &format!("{name}: probs"),
        &read(probs.clone()),
        &floats(&g["probs"]),
        1e-4,
    );
    let loss = bce(probs, input.labels.clone());
    let want = g["bce_mean"].as_f64().unwrap() as f32;
    assert_close(
        &format!("{name}: bce_mean"),
        &read(loss.clone()),
        &[want],
        1e-4,
    );

    let grads = loss.backward();
    let got = model.to_store_grads(&grads);
    for (param, want) in g["grads_of_bce_mean"].as_object().unwrap() {
        let got = got
            .get(param)
            .unwrap_or_else(|| panic!("{name}: no gradient for {param}"));
        assert_close(&format!("{name}: grad {param}"), got, &floats(want), 1e-3);
    }

    // The golden p1/p2 come from two dropout passes whose masks are not recorded: check the loss
    // on them, and that without dropout both passes equal the plain prediction.
    let se_golden = &g["self_ensemble"];
    let tensor = |v: &Value| {
        let v = floats(v);
        let n = v.len();
        Tensor::<1>::from_data(burn::tensor::TensorData::new(v, [n]), &device)
    };
    let loss = self_ensemble_loss(
        tensor(&se_golden["p1"]),
        tensor(&se_golden["p2"]),
        input.labels.clone(),
        Loss::BinaryCrossentropy,
    );
    let want = se_golden["loss"].as_f64().unwrap() as f32;
    assert_close(&format!("{name}: SE loss"), &read(loss), &[want], 1e-4);
    let se = model.self_ensemble(
        &input,
        Mode::Eval,
        Task::BinaryClassification,
        Loss::BinaryCrossentropy,
    );
    assert_close(
        &format!("{name}: SE p1 (eval)"),
        &read(se.y1),
        &floats(&g["probs"]),
        1e-4,
    );
    assert_close(
        &format!("{name}: SE p2 (eval)"),
        &read(se.y2),
        &floats(&g["probs"]),
        1e-4,
    );
}

/// Gradients by PyTorch parameter name, in PyTorch layout.
trait GradsByName {
    fn to_store_grads(
        &self,
        grads: &burn::tensor::Gradients,
    ) -> std::collections::HashMap<String, Vec<f32>>;
}

impl GradsByName for Qnn {
    fn to_store_grads(
        &self,
        grads: &burn::tensor::Gradients,
    ) -> std::collections::HashMap<String, Vec<f32>> {
        let mut out = std::collections::HashMap::new();
        let transposed = |t: Tensor<2>| read(t.transpose());
        for (i, layer) in self.layers.iter().enumerate() {
            let p = |n: &str| format!("layer.{i}.linear.{n}");
            out.insert(
                p("0.weight"),
                transposed(layer.weight.val().grad(grads).unwrap()),
            );
            // Absent where the layer leaves b out of the graph (training-mode batch norm).
            let bias = layer.bias.val().grad(grads).map(read);
            out.insert(p("0.bias"), bias.unwrap_or_default());
            if let Some(bn) = &layer.batch_norm {
                out.insert(p("1.weight"), read(bn.gamma.val().grad(grads).unwrap()));
                out.insert(p("1.bias"), read(bn.beta.val().grad(grads).unwrap()));
            }
        }
        out.insert(
            "fc.weight".into(),
            transposed(self.fc_weight.val().grad(grads).unwrap()),
        );
        out.insert(
            "fc.bias".into(),
            read(self.fc_bias.val().grad(grads).unwrap()),
        );
        out
    }
}

fn check_all_cases(device: Device) {
    let Some(g) = golden("qnn_t26_golden.json") else {
        return;
    };
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for kernel in [LayerKernel::Fused, LayerKernel::Composed] {
        for c in cases {
            run_case(c, &device, kernel);
        }
    }
    check_train_cases(&device);
}

/// A model whose layers and head come from a training-mode golden case (its input is given as
/// the concatenated embeddings, so the embedding table is a placeholder).
fn train_model(g: &Value, device: &Device) -> (Qnn, QnnConfig) {
    let c = &g["config"];
    let int = |k: &str| c[k].as_u64().unwrap() as usize;
    let config = QnnConfig {
        embedding_dim: int("embedding_dim"),
        num_layers: int("num_layers"),
        num_row: int("num_row"),
        num_heads: int("num_heads"),
        batch_norm: c["batch_norm"].as_bool().unwrap(),
        net_dropout: c["net_dropout"].as_f64().unwrap(),
    };
    let features = (0..int("num_fields"))
        .map(|f| {
            Feature::new(
                format!("f{f}"),
                FeatureKind::Categorical {
                    vocab: Vocabulary::anonymous(1),
                },
            )
        })
        .collect();
    let map = FeatureMap {
        dataset_id: "golden".into(),
        features,
        labels: vec!["y".into()],
        task: Default::default(),
        group_id: None,
    };
    let layout = InputLayout::new(&map).unwrap();
    let mut store = ParamStore::default();
    let e = config.embedding_dim;
    store.insert(
        "embedding.table",
        vec![layout.table_rows, e],
        vec![0.0; layout.table_rows * e],
    );
    for source in ["params", "buffers_before"] {
        for (name, value) in g[source].as_object().unwrap() {
            let values = floats(value);
            let shape = match value {
                Value::Array(rows) if rows.first().is_some_and(Value::is_array) => {
                    vec![rows.len(), values.len() / rows.len()]
                }
                _ => vec![values.len()],
            };
            store.insert(name.clone(), shape, values);
        }
    }
    (
        Qnn::from_store(&config, &layout, &store, device).unwrap(),
        config,
    )
}

fn run_train_case(g: &Value, device: &Device, kernel: LayerKernel) {
    let name = &format!("{} ({kernel:?})", g["name"].as_str().unwrap());
    assert_eq!(g["config"]["mode"], "train");
    let (mut model, config) = train_model(g, device);
    model.kernel = kernel;
    let input = floats(&g["input_flat"]);
    let b = g["labels"].as_array().unwrap().len();
    let d = input.len() / b;
    let x0 =
        Tensor::<2>::from_data(burn::tensor::TensorData::new(input, [b, d]), device).require_grad();
    let labels = floats(&g["labels"]);
    let labels = Tensor::<1>::from_data(burn::tensor::TensorData::new(labels, [b]), device);
    // One training-mode forward (dropout 0 in every case, so the key draws nothing).
    assert_eq!(config.net_dropout, 0.0);
    let logits = model.logits_from(x0.clone(), Mode::Train(DropoutKey::new(0, 0)));
    assert_close(
        &format!("{name}: logits"),
        &read(logits.clone()),
        &floats(&g["logits"]),
        1e-4,
    );
    let probs = burn::tensor::activation::sigmoid(logits);
    assert_close(
        &format!("{name}: probs"),
        &read(probs.clone()),
        &floats(&g["probs"]),
        1e-4,
    );
    let loss = bce(probs, labels);
    let want = g["bce_mean"].as_f64().unwrap() as f32;
    assert_close(
        &format!("{name}: bce_mean"),
        &read(loss.clone()),
        &[want],
        1e-4,
    );
    let grads = loss.backward();
    let got = model.to_store_grads(&grads);
    let max_abs = |v: &[f32]| v.iter().fold(0f32, |m, x| m.max(x.abs()));
    for (param, want) in g["grads_of_bce_mean"].as_object().unwrap() {
        let got = got
            .get(param)
            .unwrap_or_else(|| panic!("{name}: no gradient for {param}"));
        match param.strip_suffix("linear.0.bias") {
            // Training-mode batch norm subtracts the batch mean, so the linear bias cancels out
            // and its gradient is zero: ours exactly, PyTorch's up to rounding noise (~1e-8),
            // which must be zero on the scale of the batch-norm shift's gradient.
            Some(layer) => {
                let beta = floats(&g["grads_of_bce_mean"][format!("{layer}linear.1.bias")]);
                let scale = max_abs(&beta);
                let theirs = floats(want);
                assert!(
                    max_abs(&theirs) <= 1e-5 * scale,
                    "{name}: PyTorch's grad {param} is not zero: {} (scale {scale})",
                    max_abs(&theirs)
                );
                assert!(
                    got.iter().all(|&x| x == 0.0),
                    "{name}: our grad {param} is not exactly zero: {}",
                    max_abs(got)
                );
            }
            None => assert_close(&format!("{name}: grad {param}"), got, &floats(want), 1e-3),
        }
    }
    assert_close(
        &format!("{name}: grad input_flat"),
        &read(x0.grad(&grads).unwrap()),
        &floats(&g["grad_input_flat"]),
        1e-3,
    );
    for (i, layer) in model.layers.iter().enumerate() {
        let bn = layer.batch_norm.as_ref().expect("batch norm cases");
        for (buffer, value) in [
            ("running_mean", bn.running_mean.value_sync()),
            ("running_var", bn.running_var.value_sync()),
        ] {
            let key = format!("layer.{i}.linear.1.{buffer}");
            assert_close(
                &format!("{name}: {key} after"),
                &read(value),
                &floats(&g["buffers_after"][&key]),
                1e-4,
            );
        }
    }
}

fn check_train_cases(device: &Device) {
    let Some(g) = golden("qnn_t26_train_golden.json") else {
        return;
    };
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for kernel in [LayerKernel::Fused, LayerKernel::Composed] {
        for c in cases {
            run_train_case(c, device, kernel);
        }
    }
}

#[test]
fn golden_cases_match_pytorch_on_cpu() {
    check_all_cases(Device::flex().autodiff());
}
/// With the `wgpu` feature: the same values on the wgpu backend (any adapter; in CI Mesa's
/// software Vulkan, lavapipe).
#[cfg(feature = "wgpu")]
#[test]
fn golden_cases_match_pytorch_on_wgpu() {
    check_all_cases(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice).autodiff());
}

/// With the `cuda` feature: the same values on an NVIDIA GPU (needs the driver; build with
/// `crates/model/cuda-llvm.sh` first, see the README).
#[cfg(feature = "cuda")]
#[test]
fn golden_cases_match_pytorch_on_cuda() {
    check_all_cases(Device::cuda(0).autodiff());
}
