//! The fused quadratic layer on Burn's CubeCL backend (wgpu, WebGPU, CUDA): the two matrix
//! products stay with Burn's matmul, everything between them is a handful of CubeCL kernels.
//!
//! A thread owns one output element (row, j) and with it the R gates whose row sum multiplies
//! it, so it normalises, masks and sums them and writes y without touching another thread's
//! data. The forward keeps only the normalised pre-activations n̂ and the batch statistics; the
//! backward recomputes the ReLU and regenerates the dropout masks from their counters, so no
//! mask, gate or row sum is stored and none crosses the bus.
//!
//! Launches per call, with P the Self-Ensemble passes sharing it: forward, the product x·W, one
//! per-column kernel (b, γ, β and the batch statistics gathered into one buffer) and one kernel
//! per pass; backward, one kernel per pass, one column-sum kernel, the normalisation's backward
//! (with batch norm or its eval-mode affine map), the two products and the gather into ∂x. No
//! kernel binds more than six buffers (WebGPU's default limit is eight, one kept by wgpu).

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::{DType, Shape, Slice};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::{calculate_cube_count_elemwise, prelude::*};

use super::{Norm, QuadraticGrads, QuadraticKernels, QuadraticOps, QuadraticSpec};
use crate::dropout::device::cube::{MaskArgs, mask_args, mask_value};
use crate::quadratic::BATCH_NORM_EPS;
#[cfg(feature = "fusion")]
use burn::backend::fusion::custom::TensorSpec;

/// Rows added in f32 before the partial sum joins the column's total: the error of a column sum
/// over B rows grows with B/64 + 64 instead of B.
const ROWS_PER_PARTIAL: u32 = 64;

/// Rows of the per-column buffer the forward kernels read, [COLUMNS, D·R].
const COLUMNS: usize = 5;
const COLUMN_BIAS: u32 = 0;
const COLUMN_GAMMA: u32 = 1;
const COLUMN_BETA: u32 = 2;
const COLUMN_MEAN: u32 = 3;
const COLUMN_VAR: u32 = 4;
/// Rows of the per-column buffer of the backward, [GRADS, D·R].
const GRADS: usize = 5;
const GRAD_GAMMA: u32 = 0;
const GRAD_BETA: u32 = 1;
const GRAD_BIAS: u32 = 2;
const GRAD_MEAN_DZ: u32 = 3;
const GRAD_MEAN_DZ_N: u32 = 4;

/// [`Norm`] as a kernel's compile-time constant.
fn norm_code(norm: Norm) -> u32 {
    match norm {
        Norm::None => 0,
        Norm::Affine => 1,
        Norm::Batch => 2,
    }
}

/// Shapes of one call, as the kernels take them.
#[derive(CubeLaunch, CubeType)]
struct Shapes {
    batch: u32,
    /// D = F·E.
    width: u32,
    num_row: u32,
    /// D/H, the output positions of one head.
    head_width: u32,
    embedding_dim: u32,
    /// E/H, the slice of each field's embedding that one head takes.
    slice: u32,
}

/// The input column that output position `j` multiplies (the multi-head Khatri-Rao view; see
/// `quadratic::head_permutation`: head h's D/H positions are its E/H-wide slice of every field).
#[cube]
fn head_source(j: u32, shapes: &Shapes) -> u32 {
    let slice = shapes.slice;
    let head = j / shapes.head_width;
    let within = j % shapes.head_width;
    let field = within / slice;
    let k = within % slice;
    field * shapes.embedding_dim + head * slice + k
}

/// The output position that multiplies input column `i` (the inverse of [`head_source`]).
#[cube]
fn head_target(i: u32, shapes: &Shapes) -> u32 {
    let slice = shapes.slice;
    let field = i / shapes.embedding_dim;
    let within = i % shapes.embedding_dim;
    let head = within / slice;
    let k = within % slice;
    head * shapes.head_width + field * slice + k
}

/// The gate column of row sum `rr` for output position `j`.
#[cube]
fn gate_column(j: u32, rr: u32, shapes: &Shapes) -> u32 {
    let head = j / shapes.head_width;
    let k = j % shapes.head_width;
    (head * shapes.num_row + rr) * shapes.head_width + k
}

/// ReLU(z) of gate column `c` with z = n̂·γ + β (batch norm, affine) or n̂ (no normalisation).
#[cube]
fn activate(n: f32, columns: &Tensor<f32>, c: u32, gates: u32, #[comptime] norm: u32) -> f32 {
    let mut z = n;
    if norm != 0 {
        z = n * columns[(COLUMN_GAMMA * gates + c) as usize]
            + columns[(COLUMN_BETA * gates + c) as usize];
    }
    select(z > 0.0f32, z, 0.0f32)
}

/// Σ over the batch of v = pre[row, c] + b − mean, or of v² (`square`), in 64-row partial sums.
#[cube]
fn column_sum(
    pre: &Tensor<f32>,
    c: u32,
    gates: u32,
    batch: u32,
    b: f32,
    mean: f32,
    #[comptime] square: bool,
) -> f32 {
    let mut total = 0.0f32;
    let mut start = 0u32;
    while start < batch {
        let end = select(
            start + ROWS_PER_PARTIAL < batch,
            start + ROWS_PER_PARTIAL,
            batch,
        );
        let mut partial = 0.0f32;
        for row in start..end {
            let v = pre[(row * gates + c) as usize] + b - mean;
            if square {
                partial += v * v;
            } else {
                partial += v;
            }
        }
        total += partial;
        start = end;
    }
    total
}

/// x_π at output position `j` of `row`: the input value it multiplies (x itself with one head).
#[cube]
fn multiplied_input(
    x: &Tensor<f32>,
    row: u32,
    j: u32,
    shapes: &Shapes,
    #[comptime] heads: bool,
) -> f32 {
    let mut source = j;
    if heads {
        source = head_source(j, shapes);
    }
    x[(row * shapes.width + source) as usize]
}

/// Per gate column: gathers b, γ and β and adds the batch mean and biased variance of x·W + b
/// (two passes, as the CPU kernel; zeros without batch norm) into `columns`, [5, D·R], so that
/// the layer's kernels read one per-column buffer (WebGPU allows few buffers per kernel).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn columns_kernel(
    pre: &Tensor<f32>,
    bias: &Tensor<f32>,
    gamma: &Tensor<f32>,
    beta: &Tensor<f32>,
    columns: &mut Tensor<f32>,
    batch: u32,
    gates: u32,
    #[comptime] norm: u32,
) {
    let c = ABSOLUTE_POS as u32;
    if c >= gates {
        terminate!();
    }
    let b = bias[c as usize];
    let mut mean = 0.0f32;
    let mut var = 0.0f32;
    if norm == 2 {
        mean = column_sum(pre, c, gates, batch, b, 0.0f32, false) / f32::cast_from(batch);
        var = column_sum(pre, c, gates, batch, b, mean, true) / f32::cast_from(batch);
    }
    columns[(COLUMN_BIAS * gates + c) as usize] = b;
    columns[(COLUMN_GAMMA * gates + c) as usize] = gamma[c as usize];
    columns[(COLUMN_BETA * gates + c) as usize] = beta[c as usize];
    columns[(COLUMN_MEAN * gates + c) as usize] = mean;
    columns[(COLUMN_VAR * gates + c) as usize] = var;
}

/// One Self-Ensemble pass of the forward, one thread per output element. The first pass turns
/// `pre` (x·W) into n̂ in place (each thread its own R gates); later passes read n̂.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn forward_kernel(
    x: &Tensor<f32>,
    pre: &mut Tensor<f32>,
    columns: &Tensor<f32>,
    y: &mut Tensor<f32>,
    shapes: Shapes,
    output_offset: u32,
    gate_mask: MaskArgs,
    output_mask: MaskArgs,
    #[comptime] norm: u32,
    #[comptime] normalise: bool,
    #[comptime] heads: bool,
    #[comptime] gate_dropout: bool,
    #[comptime] output_dropout: bool,
) {
    let id = ABSOLUTE_POS as u32;
    if id >= shapes.batch * shapes.width {
        terminate!();
    }
    let row = id / shapes.width;
    let j = id % shapes.width;
    let gates = shapes.width * shapes.num_row;
    let mut sum = 0.0f32;
    for rr in 0..shapes.num_row {
        let c = gate_column(j, rr, &shapes);
        let at = (row * gates + c) as usize;
        let mut n = pre[at];
        if normalise {
            n += columns[(COLUMN_BIAS * gates + c) as usize];
            if norm == 2 {
                let var = columns[(COLUMN_VAR * gates + c) as usize];
                let inv_std = 1.0f32 / f32::sqrt(var + BATCH_NORM_EPS as f32);
                n = (n - columns[(COLUMN_MEAN * gates + c) as usize]) * inv_std;
            }
            pre[at] = n;
        }
        let mut u = activate(n, columns, c, gates, norm);
        if gate_dropout {
            u *= mask_value(row, c, &gate_mask);
        }
        sum += u;
    }
    let x_pi = multiplied_input(x, row, j, &shapes, heads);
    let mut out = x_pi * sum + x[id as usize];
    if output_dropout {
        out *= mask_value(row, j, &output_mask);
    }
    y[(output_offset + id) as usize] = out;
}

/// One Self-Ensemble pass of the backward, one thread per output element: the gradient through
/// the output dropout, the residual and the product. Writes (the first pass) or adds (later
/// passes) ∂z for the thread's R gates, and into `parts`, [2, B, D], Σ ∂y (the residual's ∂x)
/// and ∂y·g (∂x_π, which [`input_grad_kernel`] gathers into ∂x).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn backward_kernel(
    x: &Tensor<f32>,
    normed: &Tensor<f32>,
    columns: &Tensor<f32>,
    grad_out: &Tensor<f32>,
    dz: &mut Tensor<f32>,
    parts: &mut Tensor<f32>,
    shapes: Shapes,
    output_offset: u32,
    gate_mask: MaskArgs,
    output_mask: MaskArgs,
    #[comptime] norm: u32,
    #[comptime] accumulate: bool,
    #[comptime] heads: bool,
    #[comptime] gate_dropout: bool,
    #[comptime] output_dropout: bool,
) {
    let id = ABSOLUTE_POS as u32;
    let elements = shapes.batch * shapes.width;
    if id >= elements {
        terminate!();
    }
    let row = id / shapes.width;
    let j = id % shapes.width;
    let gates = shapes.width * shapes.num_row;
    let mut dy = grad_out[(output_offset + id) as usize];
    if output_dropout {
        dy *= mask_value(row, j, &output_mask);
    }
    let dg = dy * multiplied_input(x, row, j, &shapes, heads);
    // The row sum g, recomputed, and ∂z of each gate: ∂g through the dropout and the ReLU.
    let mut sum = 0.0f32;
    for rr in 0..shapes.num_row {
        let c = gate_column(j, rr, &shapes);
        let at = (row * gates + c) as usize;
        let u = activate(normed[at], columns, c, gates, norm);
        let mut keep = 1.0f32;
        if gate_dropout {
            keep = mask_value(row, c, &gate_mask);
        }
        sum += u * keep;
        let d = select(u > 0.0f32, dg * keep, 0.0f32);
        if accumulate {
            dz[at] += d;
        } else {
            dz[at] = d;
        }
    }
    let residual = id as usize;
    let product = (elements + id) as usize;
    if accumulate {
        parts[residual] += dy;
        parts[product] += dy * sum;
    } else {
        parts[residual] = dy;
        parts[product] = dy * sum;
    }
}

/// Per gate column: Σ ∂z and Σ ∂z·n̂ over the batch, and from them `grads`, [5, D·R]: ∂γ, ∂β,
/// ∂b and the two means the batch-norm backward subtracts.
#[cube(launch)]
fn column_grads_kernel(
    dz: &Tensor<f32>,
    normed: &Tensor<f32>,
    columns: &Tensor<f32>,
    grads: &mut Tensor<f32>,
    batch: u32,
    gates: u32,
    #[comptime] norm: u32,
) {
    let c = ABSOLUTE_POS as u32;
    if c >= gates {
        terminate!();
    }
    let mut sum_dz = 0.0f32;
    let mut sum_dz_n = 0.0f32;
    let mut start = 0u32;
    while start < batch {
        let end = select(
            start + ROWS_PER_PARTIAL < batch,
            start + ROWS_PER_PARTIAL,
            batch,
        );
        let mut partial = 0.0f32;
        let mut partial_n = 0.0f32;
        for row in start..end {
            let at = (row * gates + c) as usize;
            let d = dz[at];
            partial += d;
            partial_n += d * normed[at];
        }
        sum_dz += partial;
        sum_dz_n += partial_n;
        start = end;
    }
    let mut grad_gamma = 0.0f32;
    let mut grad_beta = 0.0f32;
    let mut grad_bias = sum_dz;
    if norm != 0 {
        grad_gamma = sum_dz_n;
        grad_beta = sum_dz;
        // Training-mode batch norm subtracts the batch mean, so b cancels out: ∂b is exactly
        // zero (see the CPU kernel).
        grad_bias = 0.0f32;
        if norm == 1 {
            grad_bias = columns[(COLUMN_GAMMA * gates + c) as usize] * sum_dz;
        }
    }
    let count = f32::cast_from(batch);
    grads[(GRAD_GAMMA * gates + c) as usize] = grad_gamma;
    grads[(GRAD_BETA * gates + c) as usize] = grad_beta;
    grads[(GRAD_BIAS * gates + c) as usize] = grad_bias;
    grads[(GRAD_MEAN_DZ * gates + c) as usize] = sum_dz / count;
    grads[(GRAD_MEAN_DZ_N * gates + c) as usize] = sum_dz_n / count;
}

/// ∂h from ∂z in place: γ/σ·(∂z − mean ∂z − n̂·mean(∂z·n̂)) for batch norm, γ·∂z for the affine
/// map (not launched without normalisation, where ∂h = ∂z).
#[cube(launch)]
fn normalisation_grad_kernel(
    dz: &mut Tensor<f32>,
    normed: &Tensor<f32>,
    columns: &Tensor<f32>,
    grads: &Tensor<f32>,
    batch: u32,
    gates: u32,
    #[comptime] norm: u32,
) {
    let id = ABSOLUTE_POS as u32;
    if id >= batch * gates {
        terminate!();
    }
    let c = id % gates;
    let at = id as usize;
    let gamma = columns[(COLUMN_GAMMA * gates + c) as usize];
    if norm == 2 {
        let var = columns[(COLUMN_VAR * gates + c) as usize];
        let inv_std = 1.0f32 / f32::sqrt(var + BATCH_NORM_EPS as f32);
        let centred = dz[at]
            - grads[(GRAD_MEAN_DZ * gates + c) as usize]
            - normed[at] * grads[(GRAD_MEAN_DZ_N * gates + c) as usize];
        dz[at] = inv_std * gamma * centred;
    } else {
        dz[at] *= gamma;
    }
}

/// ∂x: adds to `dx` (which holds ∂h·Wᵀ) the residual's Σ ∂y and, from the output position
/// that multiplied each input column, its ∂y·g.
#[cube(launch)]
fn input_grad_kernel(
    dx: &mut Tensor<f32>,
    parts: &Tensor<f32>,
    shapes: Shapes,
    #[comptime] heads: bool,
) {
    let id = ABSOLUTE_POS as u32;
    let elements = shapes.batch * shapes.width;
    if id >= elements {
        terminate!();
    }
    let mut source = id;
    if heads {
        let row = id / shapes.width;
        source = row * shapes.width + head_target(id % shapes.width, &shapes);
    }
    dx[id as usize] += parts[id as usize] + parts[(elements + source) as usize];
}

/// The kernels' forward and backward with everything passed between them as tensors, so that
/// Burn's fusion (the `fusion` feature, where `burn::backend::Cube` is `Fusion<CubeBackend>`)
/// can record them as operations of its stream like any other.
// The outputs are plain tuples of tensors: Burn's extension macro maps each element through
// fusion, which an alias would hide from it.
#[allow(clippy::type_complexity)]
#[backend_extension(Cube, Fusion: cfg(feature = "fusion"))]
pub trait CubeQuadraticOps: Backend {
    /// The layer's outputs (y, stats) and what the backward needs: n̂ ([B, D·R]; x·W + b
    /// without batch norm) and the per-column values ([5, D·R]: b, γ, β, batch mean and
    /// variance).
    #[fusion(meta = forward_outputs)]
    fn quadratic_kernels_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        spec: QuadraticSpec,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );

    /// The gradients with respect to x, W, b, γ and β.
    #[fusion(meta = backward_outputs)]
    fn quadratic_kernels_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        normed: FloatTensor<Self>,
        columns: FloatTensor<Self>,
        grad_out: FloatTensor<Self>,
        spec: QuadraticSpec,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

/// The shapes of the forward's outputs: the layer's (y, stats), then n̂ and the columns.
#[cfg(feature = "fusion")]
fn forward_outputs(
    x: &TensorSpec,
    weight: &TensorSpec,
    bias: &TensorSpec,
    gamma: &TensorSpec,
    beta: &TensorSpec,
    spec: &QuadraticSpec,
) -> (TensorSpec, TensorSpec, TensorSpec, TensorSpec) {
    let (y, stats) = super::layer_outputs(x, weight, bias, gamma, beta, spec);
    let f32 = |shape: Shape| TensorSpec::new(shape, DType::F32);
    (
        y,
        stats,
        f32(Shape::from([x.shape[0], spec.gates()])),
        f32(Shape::from([COLUMNS, spec.gates()])),
    )
}

/// The shapes of the five gradients: x's, W's and three per-gate vectors.
#[cfg(feature = "fusion")]
fn backward_outputs(
    x: &TensorSpec,
    weight: &TensorSpec,
    _normed: &TensorSpec,
    _columns: &TensorSpec,
    _grad_out: &TensorSpec,
    spec: &QuadraticSpec,
) -> (TensorSpec, TensorSpec, TensorSpec, TensorSpec, TensorSpec) {
    let f32 = |shape: &Shape| TensorSpec::new(shape.clone(), DType::F32);
    let column = f32(&Shape::from([spec.gates()]));
    (
        f32(&x.shape),
        f32(&weight.shape),
        column.clone(),
        column.clone(),
        column,
    )
}

/// What the backward needs (see [`CubeQuadraticOps::quadratic_kernels_forward`]).
#[derive(Debug, Clone)]
pub struct Saved<B: Backend> {
    normed: FloatTensor<B>,
    columns: FloatTensor<B>,
}

/// [`QuadraticKernels`] on any backend with the CubeCL kernels: the unfused backend and Burn's
/// fusion over it.
fn kernels_forward<B: CubeQuadraticOps>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    spec: &QuadraticSpec,
) -> (FloatTensor<B>, FloatTensor<B>, Option<Saved<B>>) {
    let (y, stats, normed, columns) =
        B::quadratic_kernels_forward(x, weight, bias, gamma, beta, spec.clone());
    (y, stats, Some(Saved { normed, columns }))
}

fn kernels_backward<B: CubeQuadraticOps>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    saved: &Saved<B>,
    spec: &QuadraticSpec,
    grad_out: FloatTensor<B>,
) -> QuadraticGrads<B> {
    let (x, weight, bias, gamma, beta) = B::quadratic_kernels_backward(
        x,
        weight,
        saved.normed.clone(),
        saved.columns.clone(),
        grad_out,
        spec.clone(),
    );
    QuadraticGrads {
        x,
        weight,
        bias,
        gamma,
        beta,
    }
}

impl QuadraticKernels for CubeBackend {
    type Saved = Saved<Self>;

    fn quadratic_forward(
        x: CubeTensor,
        weight: CubeTensor,
        bias: CubeTensor,
        gamma: CubeTensor,
        beta: CubeTensor,
        spec: &QuadraticSpec,
        _save: bool,
    ) -> (CubeTensor, CubeTensor, Option<Self::Saved>) {
        kernels_forward::<Self>(x, weight, bias, gamma, beta, spec)
    }

    fn quadratic_backward(
        x: CubeTensor,
        weight: CubeTensor,
        _gamma: CubeTensor,
        saved: &Self::Saved,
        spec: &QuadraticSpec,
        grad_out: CubeTensor,
    ) -> QuadraticGrads<Self> {
        kernels_backward::<Self>(x, weight, saved, spec, grad_out)
    }
}

#[cfg(feature = "fusion")]
impl<B> QuadraticKernels for burn::backend::fusion::Fusion<B>
where
    B: burn::backend::fusion::FusionBackend + CubeQuadraticOps,
{
    type Saved = Saved<Self>;

    fn quadratic_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        spec: &QuadraticSpec,
        _save: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, Option<Self::Saved>) {
        kernels_forward::<Self>(x, weight, bias, gamma, beta, spec)
    }

    fn quadratic_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        _gamma: FloatTensor<Self>,
        saved: &Self::Saved,
        spec: &QuadraticSpec,
        grad_out: FloatTensor<Self>,
    ) -> QuadraticGrads<Self> {
        kernels_backward::<Self>(x, weight, saved, spec, grad_out)
    }
}

fn empty(like: &CubeTensor, shape: impl Into<Shape>) -> CubeTensor {
    empty_device_contiguous_dtype(
        like.client.clone(),
        like.device.clone(),
        shape.into(),
        DType::F32,
    )
}

/// Rows `rows` of a [K, N] matrix, as [rows.len(), N] (or [N] when `flat`).
fn rows_of(matrix: &CubeTensor, rows: std::ops::Range<usize>, flat: bool) -> CubeTensor {
    let n = matrix.meta.shape()[1];
    let count = rows.len();
    let slice = CubeBackend::float_slice(matrix.clone(), &[Slice::from(rows), Slice::from(0..n)]);
    let shape = if flat {
        Shape::from([count * n])
    } else {
        Shape::from([count, n])
    };
    CubeBackend::float_reshape(into_contiguous(slice), shape)
}

fn shapes(spec: &QuadraticSpec, batch: usize) -> ShapesLaunch {
    let width = spec.width();
    ShapesLaunch::new(
        batch as u32,
        width as u32,
        spec.num_row as u32,
        (width / spec.num_heads) as u32,
        spec.embedding_dim as u32,
        (spec.embedding_dim / spec.num_heads) as u32,
    )
}

/// (cube count, cube dim) for `units` threads.
fn grid(like: &CubeTensor, units: usize) -> (CubeCount, CubeDim) {
    let cube_dim = CubeDim::new(&like.client, units.max(1));
    (
        calculate_cube_count_elemwise(&like.client, units.max(1), cube_dim),
        cube_dim,
    )
}

/// Every index a kernel computes is a u32.
fn check_size(what: &str, elements: usize) {
    assert!(
        elements <= u32::MAX as usize,
        "the fused layer's {what} has {elements} elements, more than a GPU kernel indexes"
    );
}

impl CubeQuadraticOps for CubeBackend {
    fn quadratic_kernels_forward(
        x: CubeTensor,
        weight: CubeTensor,
        bias: CubeTensor,
        gamma: CubeTensor,
        beta: CubeTensor,
        spec: QuadraticSpec,
    ) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
        let spec = &spec;
        let batch = x.meta.shape()[0];
        let (width, gates) = (spec.width(), spec.gates());
        let passes = spec.passes.len();
        check_size("pre-activation", batch * gates);
        check_size("output", passes * batch * width);
        let x = into_contiguous(x);
        let pre = into_contiguous(CubeBackend::float_matmul(x.clone(), weight));
        let norm = norm_code(spec.norm);

        let columns = empty(&pre, [COLUMNS, gates]);
        let (count, dim) = grid(&pre, gates);
        columns_kernel::launch(
            &pre.client,
            count,
            dim,
            pre.clone().into_tensor_arg(),
            into_contiguous(bias).into_tensor_arg(),
            into_contiguous(gamma).into_tensor_arg(),
            into_contiguous(beta).into_tensor_arg(),
            columns.clone().into_tensor_arg(),
            batch as u32,
            gates as u32,
            norm,
        );

        let y = empty(&pre, [passes * batch, width]);
        let (count, dim) = grid(&pre, batch * width);
        for (p, pass) in spec.passes.iter().enumerate() {
            forward_kernel::launch(
                &pre.client,
                count.clone(),
                dim,
                x.clone().into_tensor_arg(),
                pre.clone().into_tensor_arg(),
                columns.clone().into_tensor_arg(),
                y.clone().into_tensor_arg(),
                shapes(spec, batch),
                (p * batch * width) as u32,
                mask_args(pass.gates),
                mask_args(pass.output),
                norm,
                p == 0,
                spec.num_heads > 1,
                pass.gates.is_some(),
                pass.output.is_some(),
            );
        }
        let stats = rows_of(
            &columns,
            COLUMN_MEAN as usize..COLUMN_VAR as usize + 1,
            false,
        );
        // `pre` now holds n̂.
        (y, stats, pre, columns)
    }

    fn quadratic_kernels_backward(
        x: CubeTensor,
        weight: CubeTensor,
        normed: CubeTensor,
        columns: CubeTensor,
        grad_out: CubeTensor,
        spec: QuadraticSpec,
    ) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
        let spec = &spec;
        let batch = x.meta.shape()[0];
        let (width, gates) = (spec.width(), spec.gates());
        let x = into_contiguous(x);
        let grad_out = into_contiguous(grad_out);
        let norm = norm_code(spec.norm);
        let heads = spec.num_heads > 1;

        let dz = empty(&x, [batch, gates]);
        let parts = empty(&x, [2, batch, width]);
        let (count, dim) = grid(&x, batch * width);
        for (p, pass) in spec.passes.iter().enumerate() {
            backward_kernel::launch(
                &x.client,
                count.clone(),
                dim,
                x.clone().into_tensor_arg(),
                normed.clone().into_tensor_arg(),
                columns.clone().into_tensor_arg(),
                grad_out.clone().into_tensor_arg(),
                dz.clone().into_tensor_arg(),
                parts.clone().into_tensor_arg(),
                shapes(spec, batch),
                (p * batch * width) as u32,
                mask_args(pass.gates),
                mask_args(pass.output),
                norm,
                p > 0,
                heads,
                pass.gates.is_some(),
                pass.output.is_some(),
            );
        }

        let grads = empty(&x, [GRADS, gates]);
        let (count, dim) = grid(&x, gates);
        column_grads_kernel::launch(
            &x.client,
            count,
            dim,
            dz.clone().into_tensor_arg(),
            normed.clone().into_tensor_arg(),
            columns.clone().into_tensor_arg(),
            grads.clone().into_tensor_arg(),
            batch as u32,
            gates as u32,
            norm,
        );
        if spec.norm != Norm::None {
            let (count, dim) = grid(&x, batch * gates);
            normalisation_grad_kernel::launch(
                &x.client,
                count,
                dim,
                dz.clone().into_tensor_arg(),
                normed.clone().into_tensor_arg(),
                columns.clone().into_tensor_arg(),
                grads.clone().into_tensor_arg(),
                batch as u32,
                gates as u32,
                norm,
            );
        }

        let grad_weight =
            CubeBackend::float_matmul(CubeBackend::float_transpose(x.clone()), dz.clone());
        let dx = into_contiguous(CubeBackend::float_matmul(
            dz,
            CubeBackend::float_transpose(weight),
        ));
        let (count, dim) = grid(&x, batch * width);
        input_grad_kernel::launch(
            &x.client,
            count,
            dim,
            dx.clone().into_tensor_arg(),
            parts.into_tensor_arg(),
            shapes(spec, batch),
            heads,
        );
        let row = |r: u32| rows_of(&grads, r as usize..r as usize + 1, true);
        (
            dx,
            grad_weight,
            row(GRAD_BIAS),
            row(GRAD_GAMMA),
            row(GRAD_BETA),
        )
    }
}

impl QuadraticOps for CubeBackend {
    fn quadratic_layer(
        x: CubeTensor,
        weight: CubeTensor,
        bias: CubeTensor,
        gamma: CubeTensor,
        beta: CubeTensor,
        spec: QuadraticSpec,
    ) -> (CubeTensor, CubeTensor) {
        let (y, stats, _, _) = Self::quadratic_kernels_forward(x, weight, bias, gamma, beta, spec);
        (y, stats)
    }
}
