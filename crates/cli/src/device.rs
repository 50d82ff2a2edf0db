//! `--device cpu|wgpu|cuda`: the Burn device a command runs on.

use anyhow::bail;
use burn::tensor::Device;
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// Burn's pure-Rust CPU backend (flex).
    Cpu,
    /// Vulkan, Metal or DX12 through wgpu (build with `--features wgpu`).
    Wgpu,
    /// NVIDIA GPUs (build with `--features cuda`).
    Cuda,
}

impl DeviceArg {
    pub fn device(self) -> anyhow::Result<Device> {
        Ok(match self {
            DeviceArg::Cpu => Device::flex(),
            #[cfg(feature = "wgpu")]
            DeviceArg::Wgpu => probe(
                Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
                "wgpu (no Vulkan, Metal or DX12 adapter?)",
            )?,
            #[cfg(feature = "cuda")]
            DeviceArg::Cuda => probe(
                Device::cuda(0),
                "CUDA (is the NVIDIA driver installed, with libcuda.so.1 on the library path?)",
            )?,
            #[allow(unreachable_patterns)]
            other => bail!(
                "this qnn was built without the {other:?} backend; rebuild with `--features {}`",
                format!("{other:?}").to_lowercase()
            ),
        })
    }
}

/// GPU runtimes load their driver on first use and, when it is missing, panic on their own
/// thread. One tiny read-back here turns that into a one-line error before any work starts.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn probe(device: Device, what: &str) -> anyhow::Result<Device> {
    use std::panic;
    use std::sync::{Arc, Mutex};

    let first_panic = Arc::new(Mutex::new(None::<String>));
    let seen = first_panic.clone();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(text);
    }));
    let outcome = panic::catch_unwind(|| {
        let zeros = burn::tensor::Tensor::<1>::zeros([1], &device);
        pollster::block_on(qnn_model::read_values(zeros))
    });
    panic::set_hook(previous);
    let reason = match outcome {
        Ok(Ok(_)) => return Ok(device),
        Ok(Err(e)) => e.to_string(),
        Err(_) => first_panic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default(),
    };
    // The driver's own message can list dozens of library names; its first clause says enough.
    let reason = reason.split(" - ").next().unwrap_or_default();
    bail!("cannot use {what}: {reason}")
}
