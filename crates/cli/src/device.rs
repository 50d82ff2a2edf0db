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
            DeviceArg::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(feature = "cuda")]
            DeviceArg::Cuda => Device::cuda(0),
            #[allow(unreachable_patterns)]
            other => bail!(
                "this qnn was built without the {other:?} backend; rebuild with `--features {}`",
                format!("{other:?}").to_lowercase()
            ),
        })
    }
}
