//! Training throughput of whole QNN steps (Self-Ensemble loss, Adam, clipping) on synthetic data,
//! and where a step's time goes.
//!
//! Configurations: `frappe` (default; the paper's Frappe setting, spec §B.1: 10 categorical
//! fields with Frappe's vocabulary sizes, E 16, L 2, R 13, batch norm, dropout 0.1, batch 4096,
//! embedding L2 0.1) and `quick-demo` (the browser's preset on the planted example: 6 fields,
//! E 8, L 2, R 4, batch norm, dropout 0.1, batch 128, lr 1e-2, embedding L2 1e-5).
//!
//! The profile times, on the same shapes as a step: the fused quadratic layers' forward and
//! backward kernels (the calls a step makes: layer 0 once for both passes, every later layer once
//! per pass), and inside them the matrix products alone; clipping and Adam are timed inside real
//! steps. The rest of a step (embedding, head, losses, regulariser, autodiff bookkeeping) is the
//! remainder, so the parts add up to the measured step.
//!
//! `cargo bench -p qnn-train --bench frappe_step -- [--config frappe|quick-demo]
//! [--device cpu|wgpu|cuda] [--layer fused|composed] [--steps N] [--warmup N]` (wgpu and cuda
//! need the crate features of the same name; `fusion` adds Burn's operation fusion on them and
//! `autotune` Burn's kernel autotuning; `--layer composed` runs the layers as Burn operations, the
//! reference the fused layer is measured against; the untimed warm-up steps default to 1, or 3
//! with fusion or autotune, which compile or time their kernels over the first steps).
//! `crates/train/benches/compare_pytorch.sh` runs it beside the PyTorch baseline, and
//! `gpu_compare.sh` beside PyTorch's CUDA step.

use std::time::Instant;

// The allocator `qnn` runs with, so that the figures are the CLI's.
use qnn_alloc as _;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::optim::AdamConfig;
use burn::tensor::{Device, Tensor, TensorData};
use qnn_data::synthetic::SyntheticSpec;
use qnn_model::dropout::{MaskStream, Site};
use qnn_model::fused::{self, Norm, PassMasks, QuadraticKernels, QuadraticSpec, gemm};
use qnn_model::{
    DropoutKey, InputLayout, LayerKernel, Loss, Mode, ModelInput, Qnn, QnnConfig, Regularizer, Task,
};
use qnn_train::{TrainConfig, Trainer, clip_grad_norm};

struct Setup {
    name: &'static str,
    model: QnnConfig,
    train: TrainConfig,
    data: fn(usize, u64) -> SyntheticSpec,
}

fn setup(name: &str) -> Setup {
    match name {
        "frappe" => Setup {
            name: "paper's Frappe configuration",
            model: QnnConfig::paper_frappe(),
            train: TrainConfig {
                batch_size: 4096,
                learning_rate: 1e-3,
                embedding_regularizer: Regularizer::l2(0.1),
                ..TrainConfig::paper_frappe()
            },
            data: SyntheticSpec::frappe_shaped,
        },
        "quick-demo" => Setup {
            name: "browser's quick demo on the planted example",
            model: QnnConfig::quick_demo(),
            train: TrainConfig::quick_demo(),
            data: SyntheticSpec::planted,
        },
        other => panic!("unknown --config {other} (frappe, quick-demo)"),
    }
}

fn device(name: &str) -> Device {
    match name {
        "cpu" => Device::flex(),
        #[cfg(feature = "wgpu")]
        "wgpu" => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        #[cfg(feature = "cuda")]
        "cuda" => Device::cuda(0),
        other => panic!("--device {other} is not built in (cpu; wgpu, cuda with their features)"),
    }
}

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Mean seconds of `f` over `reps` calls after one warm-up call.
fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    drop(f());
    let start = Instant::now();
    for _ in 0..reps {
        drop(f());
    }
    start.elapsed().as_secs_f64() / reps as f64
}

fn values(t: &FlexTensor) -> Vec<f32> {
    t.clone().into_data().try_into_vec::<f32>().expect("f32")
}

fn random(shape: [usize; 2], seed: u64) -> FlexTensor {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let values: Vec<f32> = (0..shape[0] * shape[1])
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The fused layer calls of one training step: layer 0 once for both passes, each later layer
/// once per pass.
fn step_calls(setup: &Setup) -> Vec<QuadraticSpec> {
    let config = &setup.model;
    let fields = (setup.data)(1, 0).vocab_sizes.len();
    let key = DropoutKey::new(1, 1);
    let call = |layer: u32, passes: &[u32]| QuadraticSpec {
        num_fields: fields,
        embedding_dim: config.embedding_dim,
        num_heads: config.num_heads,
        num_row: config.num_row,
        norm: if config.batch_norm {
            Norm::Batch
        } else {
            Norm::None
        },
        passes: passes
            .iter()
            .map(|&pass| {
                let mask = |site| {
                    (config.net_dropout > 0.0)
                        .then(|| key.mask(MaskStream { layer, pass, site }, config.net_dropout))
                };
                PassMasks {
                    gates: mask(Site::Gates),
                    output: mask(Site::Output),
                }
            })
            .collect(),
    };
    let mut calls = vec![call(0, &[0, 1])];
    for layer in 1..config.num_layers as u32 {
        calls.extend([call(layer, &[0]), call(layer, &[1])]);
    }
    calls
}

/// Milliseconds per step of the fused layer kernels (forward, backward) and of the matrix
/// products inside them, on the shapes of one training step.
fn layer_profile(setup: &Setup) -> [f64; 4] {
    let config = &setup.model;
    let fields = (setup.data)(1, 0).vocab_sizes.len();
    let (b, d) = (setup.train.batch_size, fields * config.embedding_dim);
    let dr = d * config.num_row;
    let calls = step_calls(setup);
    let x = random([b, d], 1);
    let w = random([d, dr], 2);
    let vector = |seed| random([1, dr], seed).reshape([dr].into());
    let (bias, gamma, beta) = (vector(3), vector(4), vector(5));
    let (mut forward, mut backward, mut gemm_forward, mut gemm_backward) = (0.0, 0.0, 0.0, 0.0);
    let dh = random([b, dr], 6);
    for spec in &calls {
        let passes = spec.passes.len();
        let run = || {
            Flex::quadratic_forward(
                x.clone(),
                w.clone(),
                bias.clone(),
                gamma.clone(),
                beta.clone(),
                spec,
                true,
            )
        };
        forward += time(3, run);
        let (_, _, saved) = run();
        let saved = saved.expect("saved");
        let grad = random([passes * b, d], 7);
        backward += time(3, || {
            Flex::quadratic_backward(
                x.clone(),
                w.clone(),
                gamma.clone(),
                &saved,
                spec,
                grad.clone(),
            )
        });
        let (xv, wv, dhv) = (values(&x), values(&w), values(&dh));
        let mut out = vec![0f32; b * dr];
        gemm_forward += time(3, || gemm::matmul(&mut out, &xv, &wv, [b, d, dr]));
        let (mut dw, mut dx) = (vec![0f32; d * dr], vec![0f32; b * d]);
        gemm_backward += time(3, || {
            gemm::matmul_lhs_transposed(&mut dw, &xv, &dhv, [d, b, dr]);
            gemm::add_matmul_rhs_transposed(&mut dx, &dhv, &wv, [b, dr, d]);
        });
    }
    [forward, backward, gemm_forward, gemm_backward].map(|s| s * 1e3)
}

/// Milliseconds per step of the fused layer calls on any device (a GPU's included), through the
/// tensor API with the device synchronised after each: the forward alone, and the backward as
/// forward + backward of a weighted sum of the outputs less the forward. At small shapes the
/// synchronisations cost more than the kernels, and the step's remainder can come out negative.
fn device_layer_profile(setup: &Setup, device: &Device) -> [f64; 2] {
    let config = &setup.model;
    let fields = (setup.data)(1, 0).vocab_sizes.len();
    let (b, d) = (setup.train.batch_size, fields * config.embedding_dim);
    let dr = d * config.num_row;
    let tensor = |shape: [usize; 2], seed: u64| {
        Tensor::<2>::from_data(random(shape, seed).into_data(), device)
    };
    let vector = |seed| tensor([1, dr], seed).reshape([dr]).require_grad();
    let (mut forward, mut both) = (0.0, 0.0);
    for spec in step_calls(setup) {
        let passes = spec.passes.len();
        let (x, w) = (
            tensor([b, d], 1).require_grad(),
            tensor([d, dr], 2).require_grad(),
        );
        let (bias, gamma, beta) = (vector(3), vector(4), vector(5));
        let weights = tensor([passes * b, d], 7);
        forward += time(3, || {
            let (y, stats) = fused::quadratic_layer(
                x.clone().detach(),
                w.clone().detach(),
                bias.clone().detach(),
                gamma.clone().detach(),
                beta.clone().detach(),
                spec.clone(),
            );
            device.sync().expect("sync");
            (y, stats)
        });
        both += time(3, || {
            let (y, _) = fused::quadratic_layer(
                x.clone(),
                w.clone(),
                bias.clone(),
                gamma.clone(),
                beta.clone(),
                spec.clone(),
            );
            let grads = (y * weights.clone()).sum().backward();
            device.sync().expect("sync");
            grads
        });
    }
    [forward, both - forward].map(|s| s * 1e3)
}

/// Milliseconds of gradient clipping and of the Adam update after a real step's backward.
fn update_profile(setup: &Setup, map: &qnn_data::FeatureMap, device: &Device) -> (f64, f64) {
    let layout = InputLayout::new(map).expect("layout");
    let (_, data) = (setup.data)(setup.train.batch_size, 2).generate();
    let input = ModelInput::new(&data.range(0, data.len()), &layout, device).expect("input");
    let qnn = Qnn::init(&setup.model, &layout, 1, device).expect("model");
    let mut model = Some(qnn_zoo::Network::Qnn(qnn));
    let mut optimizer = AdamConfig::new().with_epsilon(1e-8).init();
    let reg = setup.train.embedding_regularizer;
    let (mut clip, mut adam) = (0.0, 0.0);
    let reps = 4;
    for step in 0..=reps {
        let m = model.take().expect("model");
        let mode = Mode::Train(DropoutKey::new(1, step as u64));
        let qnn = m.as_qnn().expect("a QNN");
        let loss = qnn
            .self_ensemble(
                &input,
                mode,
                Task::BinaryClassification,
                Loss::BinaryCrossentropy,
            )
            .loss
            + m.regularization(&reg, &Regularizer::NONE)
                .expect("regulariser");
        let grads = loss.backward();
        device.sync().expect("sync");
        let t0 = Instant::now();
        let grads = clip_grad_norm(&m.params(), grads, 10.0);
        device.sync().expect("sync");
        let t1 = Instant::now();
        model = Some(optimizer.step(1e-3, m, grads));
        device.sync().expect("sync");
        if step > 0 {
            clip += (t1 - t0).as_secs_f64() * 1e3 / reps as f64;
            adam += t1.elapsed().as_secs_f64() * 1e3 / reps as f64;
        }
    }
    (clip, adam)
}

fn main() {
    let steps: usize = arg("--steps").and_then(|s| s.parse().ok()).unwrap_or(6);
    let config_name = arg("--config").unwrap_or_else(|| "frappe".into());
    let device_name = arg("--device").unwrap_or_else(|| "cpu".into());
    // Burn's fusion and autotune apply to the CubeCL devices only.
    let burn_options: &[&str] = if device_name == "cpu" {
        &[]
    } else {
        qnn_model::GPU_OPTIONS
    };
    let warmup: usize = arg("--warmup")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if burn_options.is_empty() { 1 } else { 3 });
    let layer = match arg("--layer").as_deref() {
        None | Some("fused") => LayerKernel::Fused,
        Some("composed") => LayerKernel::Composed,
        Some(other) => panic!("unknown --layer {other} (fused, composed)"),
    };
    let setup = setup(&config_name);
    let batch = setup.train.batch_size;
    let (map, data) = (setup.data)(batch * (steps + warmup + 1), 1).generate();
    let device = device(&device_name).autodiff();
    let train = TrainConfig {
        epochs: 1,
        loss_read_interval: steps + warmup + 1,
        ..setup.train.clone()
    };
    let valid = data.slice(0, batch);
    let mut trainer = Trainer::new(
        setup.model.clone(),
        train,
        &map,
        data,
        valid,
        device.clone(),
    )
    .expect("trainer");
    trainer.set_layer_kernel(layer);
    // Whole training steps through the real loop (the first `warmup` are not timed; the loss is
    // read back once, after the timed steps, as the CLI does between reads).
    // Burn's fusion records and compiles its kernels over the first steps, and autotune times
    // the candidates on each shape's first call, so they get a few.
    for _ in 0..warmup {
        pollster::block_on(trainer.step()).expect("warm-up step");
    }
    device.sync().expect("device sync");
    let start = Instant::now();
    for _ in 0..steps {
        pollster::block_on(trainer.step()).expect("step");
    }
    device.sync().expect("device sync");
    let step_secs = start.elapsed().as_secs_f64() / steps as f64;
    let samples_per_sec = batch as f64 / step_secs;
    let peak = peak_rss_mib();
    drop(trainer);

    println!(
        "## QNN training step, {} ({}), device {device_name}{}, {layer:?} layers\n",
        setup.name,
        config_name,
        if burn_options.is_empty() {
            String::new()
        } else {
            format!(" with Burn's {}", burn_options.join(" and "))
        }
    );
    println!(
        "threads: {}; timed steps: {steps} after {warmup} warm-up; batch {batch}",
        rayon::current_num_threads()
    );
    if cfg!(target_os = "linux") {
        println!("allocator: jemalloc ({})", qnn_alloc::MALLOC_CONF);
    }
    println!();
    println!("| measure | value |\n|---|---|");
    println!("| seconds per step | {step_secs:.4} |");
    println!("| training samples/s | {samples_per_sec:.0} |");
    if let Some(p) = peak {
        println!("| peak resident memory (MiB) | {p:.0} |");
    }
    if device_name == "cpu" && layer == LayerKernel::Fused {
        let [forward, backward, gemm_forward, gemm_backward] = layer_profile(&setup);
        let step_ms = step_secs * 1e3;
        let (clip, adam) = update_profile(&setup, &map, &device);
        let rest = step_ms - forward - backward - clip - adam;
        println!("\n| part of a step | ms | share |\n|---|---:|---:|");
        let rows = [
            (
                "quadratic layers, forward (fused kernels)".to_string(),
                forward,
            ),
            (
                format!("  of which matrix products x·W ({gemm_forward:.1} ms)"),
                f64::NAN,
            ),
            (
                "quadratic layers, backward (fused kernels)".to_string(),
                backward,
            ),
            (
                format!("  of which matrix products xᵀ·∂h, ∂h·Wᵀ ({gemm_backward:.1} ms)"),
                f64::NAN,
            ),
            ("global gradient-norm clipping".to_string(), clip),
            ("Adam update".to_string(), adam),
            (
                "rest: embedding, head, losses, regulariser, autodiff bookkeeping".to_string(),
                rest,
            ),
        ];
        for (name, ms) in rows {
            if ms.is_nan() {
                println!("| {name} | | |");
            } else {
                println!("| {name} | {ms:.1} | {:.0}% |", 100.0 * ms / step_ms);
            }
        }
        let gemm = gemm_forward + gemm_backward;
        println!(
            "\nmatrix products: {gemm:.1} ms of {step_ms:.1} ({:.0}%); everything else {:.1} ms",
            100.0 * gemm / step_ms,
            step_ms - gemm
        );
    } else if layer == LayerKernel::Fused {
        let [forward, backward] = device_layer_profile(&setup, &device);
        let step_ms = step_secs * 1e3;
        let (clip, adam) = update_profile(&setup, &map, &device);
        let rest = step_ms - forward - backward - clip - adam;
        println!("\n| part of a step | ms | share |\n|---|---:|---:|");
        for (name, ms) in [
            (
                "quadratic layers, forward (fused kernels, with x·W)",
                forward,
            ),
            (
                "quadratic layers, backward (fused kernels, with both products)",
                backward,
            ),
            ("global gradient-norm clipping", clip),
            ("Adam update", adam),
            (
                "rest: embedding, head, losses, regulariser, autodiff bookkeeping",
                rest,
            ),
        ] {
            println!("| {name} | {ms:.1} | {:.0}% |", 100.0 * ms / step_ms);
        }
    }
    let labels: Vec<&str> = matches!(layer, LayerKernel::Composed)
        .then_some("composed layers")
        .into_iter()
        .chain(burn_options.iter().copied())
        .collect();
    let implementation = if labels.is_empty() {
        "qnn-lab".to_string()
    } else {
        format!("qnn-lab ({})", labels.join(", "))
    };
    println!(
        "\nBENCH_JSON {{\"impl\":\"{implementation}\",\"config\":\"{config_name}\",\"device\":\"{device_name}\",\"samples_per_sec\":{samples_per_sec:.1},\"peak_rss_mib\":{:.1}}}",
        peak.unwrap_or(f64::NAN)
    );
}
