//! Dropout masks made on the device they are used on: on the CPU backend by the host code of
//! [`MaskSpec`], on GPU backends by a CubeCL kernel with the same arithmetic, so a mask never
//! crosses the bus and every backend gives the same bits.

use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::{Tensor, TensorData};

use super::MaskSpec;

/// Mask creation as a backend operation: the inverted-dropout mask of `spec`, [rows, cols], on
/// the device of `like` (which is only read for its device).
#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(feature = "gpu-kernels"),
    Fusion: cfg(feature = "fusion")
)]
pub trait MaskOps: Backend {
    #[fusion(dtype = like, shape = burn::tensor::Shape::from([*rows, *cols]))]
    fn dropout_mask(
        like: FloatTensor<Self>,
        spec: MaskSpec,
        rows: usize,
        cols: usize,
    ) -> FloatTensor<Self>;
}

/// The mask of `spec`, [rows, cols], on the device of `like`; a constant (no gradient).
pub fn mask_like(spec: MaskSpec, rows: usize, cols: usize, like: &Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(Dispatch::dropout_mask(
        like.clone().detach().into_dispatch(),
        spec,
        rows,
        cols,
    ))
}

impl MaskOps for Flex {
    fn dropout_mask(_like: FlexTensor, spec: MaskSpec, rows: usize, cols: usize) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(spec.host_values(rows, cols), [rows, cols]))
    }
}

impl<B: MaskOps, C: burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy> MaskOps
    for burn::backend::autodiff::Autodiff<B, C>
{
    fn dropout_mask(
        like: FloatTensor<Self>,
        spec: MaskSpec,
        rows: usize,
        cols: usize,
    ) -> FloatTensor<Self> {
        <FloatTensor<Self>>::new(B::dropout_mask(like.into_primitive(), spec, rows, cols))
    }
}

#[cfg(feature = "gpu-kernels")]
pub(crate) mod cube {
    use burn::tensor::{DType, Shape};
    use burn_cubecl::CubeBackend;
    use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
    use burn_cubecl::tensor::CubeTensor;
    use cubecl::{calculate_cube_count_elemwise, prelude::*};

    use super::{MaskOps, MaskSpec};

    /// A mask's identity and rate as kernel arguments (see [`MaskSpec`]).
    #[derive(CubeLaunch, CubeType)]
    pub struct MaskArgs {
        pub key0: u32,
        pub key1: u32,
        pub step: u32,
        pub stream: u32,
        pub threshold: u32,
        pub scale: f32,
    }

    /// The launch arguments of `spec`, or of a mask that is never read (its kernel branch is
    /// compiled out) when there is none.
    pub fn mask_args(spec: Option<MaskSpec>) -> MaskArgsLaunch {
        match spec {
            Some(m) => {
                MaskArgsLaunch::new(m.key[0], m.key[1], m.step, m.stream, m.threshold, m.scale())
            }
            None => MaskArgsLaunch::new(0, 0, 0, 0, 0, 0.0),
        }
    }

    /// Philox4x32-10 on the counter (c0, c1, c2, c3): the same arithmetic as
    /// `dropout::philox4x32_10`, in 32-bit integers (`mul_hi` for the high half of the products).
    #[cube]
    #[allow(clippy::too_many_arguments)]
    pub fn philox(
        c0: u32,
        c1: u32,
        c2: u32,
        c3: u32,
        key0: u32,
        key1: u32,
    ) -> (u32, u32, u32, u32) {
        let mut c0 = c0;
        let mut c1 = c1;
        let mut c2 = c2;
        let mut c3 = c3;
        let mut k0 = key0;
        let mut k1 = key1;
        #[unroll]
        for round in 0..10u32 {
            if round > 0 {
                k0 += 0x9E37_79B9u32;
                k1 += 0xBB67_AE85u32;
            }
            let hi0 = u32::mul_hi(0xD251_1F53u32, c0);
            let lo0 = 0xD251_1F53u32 * c0;
            let hi1 = u32::mul_hi(0xCD9E_8D57u32, c2);
            let lo1 = 0xCD9E_8D57u32 * c2;
            let n0 = hi1 ^ c1 ^ k0;
            let n2 = hi0 ^ c3 ^ k1;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
        }
        (c0, c1, c2, c3)
    }

    /// The mask's value at (row, col): its scale where the element is kept, else 0. One Philox
    /// call per element (four neighbours share it; a kernel that regenerates masks element by
    /// element trades that repetition for not storing them).
    #[cube]
    pub fn mask_value(row: u32, col: u32, mask: &MaskArgs) -> f32 {
        let (w0, w1, w2, w3) = philox(col / 4, row, mask.step, mask.stream, mask.key0, mask.key1);
        let lane = col % 4;
        let word = select(
            lane == 0,
            w0,
            select(lane == 1, w1, select(lane == 2, w2, w3)),
        );
        select(word < mask.threshold, mask.scale, 0.0f32)
    }

    /// One thread per (row, group of four columns): one Philox call, four mask values.
    #[cube(launch)]
    fn dropout_mask_kernel(output: &mut Tensor<f32>, rows: u32, cols: u32, mask: MaskArgs) {
        let groups = cols.div_ceil(4);
        let id = ABSOLUTE_POS as u32;
        if id >= rows * groups {
            terminate!();
        }
        let row = id / groups;
        let group = id % groups;
        let (c0, c1, c2, c3) = philox(group, row, mask.step, mask.stream, mask.key0, mask.key1);
        let first = group * 4;
        let base = (row * cols + first) as usize;
        let threshold = mask.threshold;
        let scale = mask.scale;
        if first < cols {
            output[base] = select(c0 < threshold, scale, 0.0f32);
        }
        if first + 1 < cols {
            output[base + 1] = select(c1 < threshold, scale, 0.0f32);
        }
        if first + 2 < cols {
            output[base + 2] = select(c2 < threshold, scale, 0.0f32);
        }
        if first + 3 < cols {
            output[base + 3] = select(c3 < threshold, scale, 0.0f32);
        }
    }

    impl MaskOps for CubeBackend {
        fn dropout_mask(like: CubeTensor, spec: MaskSpec, rows: usize, cols: usize) -> CubeTensor {
            let output = empty_device_contiguous_dtype(
                like.client.clone(),
                like.device.clone(),
                Shape::from([rows, cols]),
                DType::F32,
            );
            let units = rows * cols.div_ceil(4);
            if units == 0 {
                return output;
            }
            let cube_dim = CubeDim::new(&output.client, units);
            let cube_count = calculate_cube_count_elemwise(&output.client, units, cube_dim);
            dropout_mask_kernel::launch(
                &output.client,
                cube_count,
                cube_dim,
                output.clone().into_tensor_arg(),
                rows as u32,
                cols as u32,
                mask_args(Some(spec)),
            );
            output
        }
    }
}
