//! With the `wgpu` feature: the training loop gives the CPU backend's numbers on wgpu (in CI,
//! Mesa's software Vulkan). Dropout masks come from the run's own seeded stream, so both
//! backends see the same masks and only float rounding differs.
#![cfg(feature = "wgpu")]

mod common;

use burn::tensor::{Device, DeviceKind};
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

#[test]
fn wgpu_training_steps_match_cpu() {
    let cpu = step_losses(Device::flex().autodiff());
    let gpu = step_losses(Device::wgpu(DeviceKind::DefaultDevice).autodiff());
    for (c, g) in cpu.iter().zip(&gpu) {
        assert!(
            (c - g).abs() <= 1e-4 * c.abs(),
            "cpu {cpu:?} vs wgpu {gpu:?}"
        );
    }
}
