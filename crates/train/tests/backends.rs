//! With the `wgpu` or `cuda` feature: the training loop gives the CPU backend's numbers on that
//! GPU backend (wgpu in CI: Mesa's software Vulkan). Dropout masks come from the run's own seeded
//! stream, so both backends see the same masks and only float rounding differs.
#![cfg(any(feature = "wgpu", feature = "cuda"))]

mod common;

use burn::tensor::Device;
#[cfg(feature = "wgpu")]
use burn::tensor::DeviceKind;
use common::{quick, small_model, splits};
use qnn_model::QnnConfig;
use qnn_train::{TrainEvent, Trainer};

fn step_losses(device: Device) -> Vec<f64> {
    let (map, train, valid) = splits(2048);
    let model = QnnConfig {
        batch_norm: true,
        num_heads: 2,
        ..small_model()
    };
    let mut trainer = Trainer::new(model, quick(1), &map, train, valid, device).unwrap();
    let mut losses = Vec::new();
    while losses.len() < 4 {
        for event in pollster::block_on(trainer.step()).unwrap() {
            if let TrainEvent::Step { loss: Some(l), .. } = event {
                losses.push(l);
            }
        }
    }
    losses
}

fn assert_steps_match_cpu(gpu_device: Device) {
    let cpu = step_losses(Device::flex().autodiff());
    let gpu = step_losses(gpu_device);
    for (c, g) in cpu.iter().zip(&gpu) {
        assert!(
            (c - g).abs() <= 1e-4 * c.abs(),
            "cpu {cpu:?} vs gpu {gpu:?}"
        );
    }
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_training_steps_match_cpu() {
    assert_steps_match_cpu(Device::wgpu(DeviceKind::DefaultDevice).autodiff());
}

#[cfg(feature = "cuda")]
#[test]
fn cuda_training_steps_match_cpu() {
    assert_steps_match_cpu(Device::cuda(0).autodiff());
}
