//! The fused operations against the composed Burn versions (the oracles): the quadratic layer's
//! forward values, batch-norm running statistics and every gradient on random configurations,
//! and the zoo's fused `nn.Linear` with the gradients of x, W and b.

use burn::tensor::{Device, Distribution, Tensor};
use proptest::prelude::*;
use qnn_model::fused::linear;
use qnn_model::quadratic::{BatchNorm, LayerCall, QuadraticLayer};
use qnn_model::{DropoutKey, Mode};

fn read<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |m, x| m.max(x.abs()))
}

/// Normwise relative error: max |a − b| ≤ rtol · max |b|. (Element by element, sums over the
/// batch taken in another order differ by up to ~2e-5 where a gradient element is small next to
/// its tensor; measured normwise the two kernels agree to better than 1e-6.)
fn assert_close(what: &str, got: &[f32], want: &[f32], rtol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let tol = rtol * max_abs(want).max(1e-30);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: fused {g}, composed {w} (tol {tol})"
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NormCase {
    Off,
    Train,
    Eval,
}

#[derive(Debug, Clone)]
struct Case {
    fields: usize,
    head_width: usize,
    heads: usize,
    rows: usize,
    batch: usize,
    norm: NormCase,
    dropout: f64,
    passes: usize,
    seed: u64,
}

/// Random values drawn on the CPU (the same on every backend for a seed), then moved to `device`.
fn random<const D: usize>(
    shape: [usize; D],
    distribution: Distribution,
    device: &Device,
) -> Tensor<D> {
    Tensor::<D>::random(shape, distribution, &Device::flex().autodiff()).to_device(device)
}

/// Builds the same layer twice from one set of random values (each keeps its own running
/// statistics).
fn layers(case: &Case, device: &Device) -> (QuadraticLayer, QuadraticLayer) {
    let e = case.head_width * case.heads;
    let d = case.fields * e;
    let dr = d * case.rows;
    Device::flex().seed(case.seed);
    let weight = random([d, dr], Distribution::Normal(0.0, 0.5), device);
    let bias = random([dr], Distribution::Normal(0.0, 0.5), device);
    let gamma = random([dr], Distribution::Normal(1.0, 0.3), device);
    let beta = random([dr], Distribution::Normal(0.0, 0.3), device);
    let mean = random([dr], Distribution::Normal(0.0, 0.3), device);
    let var = random([dr], Distribution::Uniform(0.5, 2.0), device);
    let build = || {
        let bn = (case.norm != NormCase::Off).then(|| {
            BatchNorm::new(
                gamma.clone().require_grad(),
                beta.clone().require_grad(),
                mean.clone(),
                var.clone(),
            )
        });
        QuadraticLayer::new(
            weight.clone().require_grad(),
            bias.clone().require_grad(),
            bn,
            case.fields,
            e,
            case.heads,
            case.rows,
        )
    };
    (build(), build())
}

struct Outcome {
    outputs: Vec<Vec<f32>>,
    grads: Vec<(&'static str, Vec<f32>)>,
    running: Vec<Vec<f32>>,
}

fn run(
    layer: &QuadraticLayer,
    fused: bool,
    case: &Case,
    x: &Tensor<2>,
    weights: &[Tensor<2>],
) -> Outcome {
    let x = x.clone().detach().require_grad();
    let mode = match case.norm {
        NormCase::Eval => Mode::Eval,
        _ => Mode::Train(DropoutKey::new(case.seed, 11)),
    };
    let passes: Vec<u32> = (0..case.passes as u32).collect();
    let call = LayerCall {
        layer: 1,
        passes: &passes,
        mode,
        dropout: case.dropout,
    };
    let ys = if fused {
        layer.forward_fused(x.clone(), call)
    } else {
        layer.forward_composed(x.clone(), call)
    };
    assert_eq!(ys.len(), case.passes);
    // A loss that weighs every output element differently, so that every gradient path counts.
    let loss = ys
        .iter()
        .zip(weights)
        .map(|(y, w)| (y.clone() * w.clone()).sum())
        .reduce(|a, b| a + b)
        .unwrap();
    let grads = loss.backward();
    let mut named = vec![
        ("x", read(x.grad(&grads).unwrap())),
        ("weight", read(layer.weight.val().grad(&grads).unwrap())),
        // Absent (empty) where the kernel leaves b out of the graph: a zero gradient.
        (
            "bias",
            layer.bias.val().grad(&grads).map(read).unwrap_or_default(),
        ),
    ];
    let mut running = Vec::new();
    if let Some(bn) = &layer.batch_norm {
        named.push(("gamma", read(bn.gamma.val().grad(&grads).unwrap())));
        named.push(("beta", read(bn.beta.val().grad(&grads).unwrap())));
        running.push(read(bn.running_mean.value_sync()));
        running.push(read(bn.running_var.value_sync()));
    }
    Outcome {
        outputs: ys.into_iter().map(read).collect(),
        grads: named,
        running,
    }
}

fn check(case: &Case) {
    check_on(case, &Device::flex().autodiff());
}

fn check_on(case: &Case, device: &Device) {
    assert!(
        qnn_model::fused::is_supported(device),
        "the fused layer does not run on {device:?}"
    );
    let (composed_layer, fused_layer) = layers(case, device);
    let d = case.fields * case.head_width * case.heads;
    let x = random([case.batch, d], Distribution::Normal(0.0, 1.0), device);
    let weights: Vec<Tensor<2>> = (0..case.passes)
        .map(|_| random([case.batch, d], Distribution::Normal(0.0, 1.0), device))
        .collect();
    let want = run(&composed_layer, false, case, &x, &weights);
    let got = run(&fused_layer, true, case, &x, &weights);
    for (p, (g, w)) in got.outputs.iter().zip(&want.outputs).enumerate() {
        assert_close(&format!("{case:?}: output of pass {p}"), g, w, 1e-5);
    }
    // Under training-mode batch norm the bias cancels out of the layer (it shifts the batch
    // mean), so ∂b is zero, exactly: rounding noise there would become lr-sized Adam steps.
    for ((name, g), (_, w)) in got.grads.iter().zip(&want.grads) {
        match (case.norm, *name) {
            (NormCase::Train, "bias") => {
                for (kernel, v) in [("fused", g), ("composed", w)] {
                    assert!(
                        v.iter().all(|&x| x == 0.0),
                        "{case:?}: {kernel} ∂bias is not exactly zero: {}",
                        max_abs(v)
                    );
                }
            }
            _ => assert_close(&format!("{case:?}: ∂{name}"), g, w, 1e-5),
        }
    }
    for (i, (g, w)) in got.running.iter().zip(&want.running).enumerate() {
        assert_close(&format!("{case:?}: running statistic {i}"), g, w, 1e-5);
    }
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        1usize..6,
        1usize..5,
        prop_oneof![Just(1usize), Just(2), Just(3), Just(4)],
        1usize..5,
        4usize..150,
        prop_oneof![
            Just(NormCase::Off),
            Just(NormCase::Train),
            Just(NormCase::Eval)
        ],
        prop_oneof![Just(0.0), Just(0.1), Just(0.4)],
        1usize..3,
        any::<u64>(),
    )
        .prop_map(
            |(fields, head_width, heads, rows, batch, norm, dropout, passes, seed)| Case {
                fields,
                head_width,
                heads,
                rows,
                batch,
                norm,
                // Eval mode has no dropout.
                dropout: if norm == NormCase::Eval { 0.0 } else { dropout },
                passes,
                seed,
            },
        )
        // Degenerate shapes whose gradients are zero up to rounding, so that the two kernels'
        // noise is all there is to compare: with D = 1 training-mode batch norm makes ∂W zero
        // (∂W[:, c] is orthogonal to W[:, c]); with B < 4 it normalises every gate to ±1 or
        // nearly so. (B ≥ 4 is set by the range above.)
        .prop_filter("D ≥ 2", |c| c.fields * c.head_width * c.heads >= 2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fused_layer_matches_the_composed_layer(case in case_strategy()) {
        check(&case);
    }
}

/// The paper's Frappe layer shape, with more rows than one block of parallel work.
#[test]
fn fused_layer_matches_at_the_frappe_shape() {
    frappe_shape_cases(&Device::flex().autodiff());
}

fn frappe_shape_cases(device: &Device) {
    for (norm, passes) in [
        (NormCase::Train, 2),
        (NormCase::Train, 1),
        (NormCase::Eval, 1),
    ] {
        check_on(
            &Case {
                fields: 10,
                head_width: 16,
                heads: 1,
                rows: 13,
                batch: 300,
                norm,
                dropout: if norm == NormCase::Eval { 0.0 } else { 0.1 },
                passes,
                seed: 2024,
            },
            device,
        );
    }
}

/// The CubeCL kernels (wgpu in CI, on Mesa's software Vulkan when there is no GPU) against the
/// composed layer on the same device.
#[cfg(feature = "wgpu")]
mod wgpu {
    use super::*;

    fn device() -> Device {
        Device::wgpu(burn::tensor::DeviceKind::DefaultDevice).autodiff()
    }

    proptest! {
        // Fewer cases than on the CPU: a software GPU compiles every kernel variant.
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn wgpu_fused_layer_matches_the_composed_layer(case in case_strategy()) {
            check_on(&case, &device());
        }
    }

    #[test]
    fn wgpu_fused_layer_matches_at_the_frappe_shape() {
        frappe_shape_cases(&device());
    }
}

/// The fused Linear against Burn's composed x·W + b: values and the gradients of x, W and b, on
/// shapes that are not multiples of any kernel's tile, a single row included.
#[test]
fn fused_linear_matches_the_composed_one_with_its_gradients() {
    let device = Device::flex().autodiff();
    for [rows, input, output] in [[37, 13, 29], [1, 5, 3], [300, 64, 1]] {
        let x0: Tensor<2> = Tensor::random([rows, input], Distribution::Default, &device);
        let w0: Tensor<2> = Tensor::random([input, output], Distribution::Default, &device);
        let b0: Tensor<1> = Tensor::random([output], Distribution::Default, &device);
        let upstream: Tensor<2> = Tensor::random([rows, output], Distribution::Default, &device);
        let run = |f: fn(Tensor<2>, Tensor<2>, Tensor<1>) -> Tensor<2>| {
            let (x, w, b) = (
                x0.clone().detach().require_grad(),
                w0.clone().detach().require_grad(),
                b0.clone().detach().require_grad(),
            );
            let y = f(x.clone(), w.clone(), b.clone());
            let grads = (y.clone() * upstream.clone()).sum().backward();
            [
                read(y),
                read(x.grad(&grads).unwrap()),
                read(w.grad(&grads).unwrap()),
                read(b.grad(&grads).unwrap()),
            ]
        };
        let fused = run(linear::linear);
        let composed = run(linear::composed);
        for (what, (got, want)) in ["y", "dx", "dW", "db"]
            .iter()
            .zip(fused.iter().zip(&composed))
        {
            assert_close(
                &format!("{what} {rows}×{input}·{input}×{output}"),
                got,
                want,
                1e-5,
            );
        }
    }
}
