//! Training throughput at the paper's Frappe configuration (spec §B.1) on synthetic data:
//! 10 categorical fields with Frappe's vocabulary sizes, E = 16, L = 2, R = 13, batch norm,
//! dropout 0.1, batch 4096, Self-Ensemble loss, Adam, clipping, embedding L2 0.1.
//!
//! Reports samples/s of whole training steps, peak resident memory, and where the time of a step
//! goes: each forward operation timed on its own on the same shapes (without graph recording),
//! the rest of the forward, graph recording and backward together, clipping, Adam.
//! The parts are measured separately, so their sum is close to, not exactly, a step.
//!
//! `cargo bench -p qnn-train --bench frappe_step` (`-- --steps N` to change the timed steps).
//! `crates/train/benches/compare_pytorch.sh` runs this and the PyTorch baseline side by side.

use std::time::Instant;

// The allocator `qnn` runs with, so that the figures are the CLI's.
use qnn_alloc as _;

use burn::module::Module;
use burn::tensor::module::embedding;
use burn::tensor::{Device, Distribution, Tensor, activation::relu};
use qnn_data::synthetic::SyntheticSpec;
use qnn_model::quadratic::dropout_forward;
use qnn_model::{DropoutRng, InputLayout, Mode, ModelInput, Qnn, QnnConfig, Regularizer};
use qnn_train::{TrainConfig, Trainer, clip_grad_norm};

const BATCH: usize = 4096;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn time<T>(device: &Device, reps: usize, mut f: impl FnMut() -> T) -> f64 {
    let out = f(); // warm-up
    drop(out);
    device.sync().expect("device sync");
    let start = Instant::now();
    for _ in 0..reps {
        let out = f();
        device.sync().expect("device sync");
        drop(out);
    }
    start.elapsed().as_secs_f64() / reps as f64
}

fn main() {
    let steps: usize = std::env::args()
        .skip_while(|a| a != "--steps")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let model_config = QnnConfig::default();
    let spec = SyntheticSpec::frappe_shaped(BATCH * (steps + 1), 1);
    let (map, data) = spec.generate();
    let device = Device::flex().autodiff();
    let config = TrainConfig {
        batch_size: BATCH,
        epochs: 1,
        loss_read_interval: 1,
        ..TrainConfig::default()
    };

    // Whole training steps through the real loop (the first one is warm-up).
    let valid = data.slice(0, BATCH);
    let mut trainer = Trainer::new(
        model_config.clone(),
        config,
        &map,
        data,
        valid,
        device.clone(),
    )
    .expect("trainer");
    pollster::block_on(trainer.step()).expect("warm-up step");
    let start = Instant::now();
    for _ in 0..steps {
        pollster::block_on(trainer.step()).expect("step");
    }
    let step_secs = start.elapsed().as_secs_f64() / steps as f64;
    let samples_per_sec = BATCH as f64 / step_secs;
    // Peak of the training run itself, before the profiling below allocates more.
    let peak = peak_rss_mib();
    drop(trainer);

    // Where the time goes.
    let layout = InputLayout::new(&map).unwrap();
    let model = Qnn::init(&model_config, &layout, 1, &device).unwrap();
    let (_, batch_data) = SyntheticSpec::frappe_shaped(BATCH, 2).generate();
    let input = ModelInput::new(&batch_data.range(0, BATCH), &layout, &device).unwrap();
    let plain = device.clone().without_autodiff();
    let x = Tensor::<2>::random([BATCH, 160], Distribution::Normal(0.0, 1.0), &plain);
    let w = Tensor::<2>::random([160, 2080], Distribution::Normal(0.0, 0.1), &plain);
    let h = x.clone().matmul(w.clone());
    let ones = Tensor::<1>::ones([2080], &plain);
    let zeros = Tensor::<1>::zeros([2080], &plain);
    let table = Tensor::<2>::random([5383, 16], Distribution::Normal(0.0, 1.0), &plain);
    let rows = input.categorical.clone().unwrap().to_device(&plain);
    let layer = &model.layers[0];
    let rng = DropoutRng::new(3);
    let train_mode = Mode::Train(&rng);
    let bn = qnn_model::quadratic::BatchNorm::new(
        ones.clone(),
        zeros.clone(),
        zeros.clone(),
        ones.clone(),
    );
    // Per step: 2 passes × 2 layers of each layer op; one embedding lookup.
    let per_step = 4.0;
    let mut ops: Vec<(&str, f64)> = vec![
        (
            "embedding lookup (×1)",
            time(&plain, 5, || embedding(table.clone(), rows.clone())),
        ),
        (
            "linear W·x + b (×4)",
            per_step
                * time(&plain, 5, || {
                    x.clone().matmul(w.clone()) + zeros.clone().unsqueeze_dim::<2>(0)
                }),
        ),
        (
            "batch norm, train (×4)",
            per_step * time(&plain, 5, || bn.forward(h.clone(), train_mode)),
        ),
        ("ReLU (×4)", per_step * time(&plain, 5, || relu(h.clone()))),
        (
            "dropout on u, D·R wide (×4)",
            per_step * time(&plain, 5, || dropout_forward(h.clone(), train_mode, 0.1)),
        ),
        (
            "row sum + product + residual (×4)",
            per_step
                * time(&plain, 5, || {
                    layer.head_view(x.clone()) * layer.row_sum(h.clone()) + x.clone()
                }),
        ),
        (
            "dropout on layer output (×4)",
            per_step * time(&plain, 5, || dropout_forward(x.clone(), train_mode, 0.1)),
        ),
    ];
    // The whole forward (SE loss + regularizer) without autodiff, then forward with graph
    // recording and backward together (a recorded forward whose graph is dropped unused is not
    // what a step does: Burn keeps such graphs' buffers around, so timing it alone misleads), and
    // the update split into clipping and Adam.
    let reg = Regularizer::l2(0.1);
    let full_loss = |m: &Qnn, input: &ModelInput| {
        m.self_ensemble(input, train_mode).loss
            + m.regularization(&reg, &Regularizer::NONE).unwrap()
    };
    let plain_model = model.valid();
    let plain_input = ModelInput::new(&batch_data.range(0, BATCH), &layout, &plain).unwrap();
    let forward_plain = time(&plain, 3, || full_loss(&plain_model, &plain_input));
    let forward_backward = time(&device, 3, || full_loss(&model, &input).backward());
    let mut optim = burn::optim::AdamConfig::new().with_epsilon(1e-8).init();
    let mut owned = Some(model.clone());
    let (mut clip_secs, mut adam_secs) = (0.0, 0.0);
    for _ in 0..3 {
        let m = owned.take().unwrap();
        let grads = full_loss(&m, &input).backward();
        device.sync().unwrap();
        let t0 = Instant::now();
        let grads = clip_grad_norm(&m, grads, 10.0);
        device.sync().unwrap();
        let t1 = Instant::now();
        owned = Some(optim.step(1e-3, m, grads));
        device.sync().unwrap();
        clip_secs += (t1 - t0).as_secs_f64() / 3.0;
        adam_secs += t1.elapsed().as_secs_f64() / 3.0;
    }
    let op_sum: f64 = ops.iter().map(|(_, t)| t).sum();
    ops.push((
        "rest of forward: head, losses, regularizer, glue",
        (forward_plain - op_sum).max(0.0),
    ));
    ops.push((
        "autodiff: graph recording during forward + backward",
        forward_backward - forward_plain,
    ));
    ops.push(("global gradient-norm clipping", clip_secs));
    ops.push(("Adam update", adam_secs));

    println!("## QNN training step, Frappe configuration, CPU backend (flex)\n");
    println!(
        "threads: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("timed steps: {steps} (after 1 warm-up), batch {BATCH}\n");
    println!("| measure | value |\n|---|---|");
    println!("| seconds per step | {step_secs:.3} |");
    println!("| training samples/s | {samples_per_sec:.0} |");
    if let Some(p) = peak {
        println!("| peak resident memory (MiB) | {p:.0} |");
    }
    println!("\n| operation (per step) | ms | share |\n|---|---:|---:|");
    let total: f64 = ops.iter().map(|(_, t)| t).sum();
    for (name, t) in &ops {
        println!("| {name} | {:.1} | {:.0}% |", t * 1e3, 100.0 * t / total);
    }
    println!(
        "\nBENCH_JSON {{\"impl\":\"qnn-lab\",\"samples_per_sec\":{samples_per_sec:.1},\"peak_rss_mib\":{:.1}}}",
        peak.unwrap_or(f64::NAN)
    );
}
