//! One dropout mask, bit for bit, on every backend: the CPU backend's generator against
//! Philox4x32-10 called element by element, and the GPU kernel (wgpu in CI, on Mesa's software
//! Vulkan; CUDA with that feature) against the CPU backend.

use burn::tensor::{Device, Tensor};
use qnn_model::dropout::{DropoutKey, MaskSpec, MaskStream, Site, mask_like, philox4x32_10};

/// Masks of several shapes (partial groups of four, one column, the Frappe gate width) and keys
/// (high seed bits, large steps, later layers and passes, both sites, several rates).
fn cases() -> Vec<(MaskSpec, usize, usize)> {
    let stream = |layer, pass, site| MaskStream { layer, pass, site };
    vec![
        (
            DropoutKey::new(2024, 0).mask(stream(0, 0, Site::Gates), 0.1),
            37,
            2083,
        ),
        (
            DropoutKey::new(u64::MAX - 5, 123_456).mask(stream(3, 1, Site::Output), 0.5),
            9,
            5,
        ),
        (
            DropoutKey::new(7, 1 << 31).mask(stream(1, 1, Site::Gates), 0.9),
            64,
            1,
        ),
        (
            DropoutKey::new(0xDEAD_BEEF_0000_0001, 17).mask(stream(2, 0, Site::Output), 0.25),
            130,
            160,
        ),
    ]
}

fn mask_on(device: &Device, spec: MaskSpec, rows: usize, cols: usize) -> Vec<u32> {
    let like = Tensor::<2>::zeros([1, 1], device);
    mask_like(spec, rows, cols, &like)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f32::to_bits)
        .collect()
}

#[test]
fn cpu_masks_are_philox_element_by_element() {
    for device in [Device::flex(), Device::flex().autodiff()] {
        for (spec, rows, cols) in cases() {
            let got = mask_on(&device, spec, rows, cols);
            for row in 0..rows {
                for col in 0..cols {
                    let word = philox4x32_10(
                        [(col / 4) as u32, row as u32, spec.step, spec.stream],
                        spec.key,
                    )[col % 4];
                    let want = if word < spec.threshold {
                        spec.scale()
                    } else {
                        0.0
                    };
                    assert_eq!(
                        got[row * cols + col],
                        want.to_bits(),
                        "{spec:?} ({row}, {col})"
                    );
                }
            }
        }
    }
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn assert_gpu_masks_equal_cpu(gpu: Device) {
    for (spec, rows, cols) in cases() {
        let cpu = mask_on(&Device::flex(), spec, rows, cols);
        for device in [gpu.clone(), gpu.clone().autodiff()] {
            assert_eq!(mask_on(&device, spec, rows, cols), cpu, "{spec:?}");
        }
    }
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_masks_equal_cpu_masks() {
    assert_gpu_masks_equal_cpu(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
}

#[cfg(feature = "cuda")]
#[test]
fn cuda_masks_equal_cpu_masks() {
    assert_gpu_masks_equal_cpu(Device::cuda(0));
}
