//! The fused quadratic layer on the CPU, over plain slices: everything but the two matrix
//! products (which stay with the backend's GEMM).
//!
//! Work is cut into blocks of [`ROWS_PER_BLOCK`] rows whatever the thread count, and per-column
//! sums over the batch are added block by block in block order, so results are bit-identical for
//! any number of threads. The per-row loops are small branch-free kernels over slices that the
//! compiler vectorises; they run under pulp's run-time dispatch (see [`run`]).

use super::pool::{give, take, zeroed};
use super::{Norm, QuadraticSpec};

/// Rows per unit of parallel work (and per partial column sum).
pub const ROWS_PER_BLOCK: usize = 64;

/// Shapes of one layer call.
#[derive(Debug, Clone)]
pub struct Geometry {
    pub batch: usize,
    /// D = F·E.
    pub width: usize,
    pub num_row: usize,
    pub num_heads: usize,
    /// π: the input index each output position multiplies; `None` for one head (identity).
    pub perm: Option<Vec<usize>>,
}

impl Geometry {
    pub fn new(spec: &QuadraticSpec, batch: usize) -> Self {
        Self {
            batch,
            width: spec.width(),
            num_row: spec.num_row,
            num_heads: spec.num_heads,
            perm: (spec.num_heads > 1).then(|| {
                crate::quadratic::head_permutation(
                    spec.num_fields,
                    spec.embedding_dim,
                    spec.num_heads,
                )
            }),
        }
    }

    /// D·R, the number of gates.
    pub fn gates(&self) -> usize {
        self.width * self.num_row
    }

    /// d = D/H, the width of one head.
    fn head_width(&self) -> usize {
        self.width / self.num_heads
    }

    /// The gate columns that add into head h's row sums: (start of row r, for each r).
    fn row_starts(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (hw, r) = (self.head_width(), self.num_row);
        (0..self.num_heads).flat_map(move |h| (0..r).map(move |rr| (h * hw, h * r * hw + rr * hw)))
    }
}

/// What the backward pass needs from the forward pass, besides the layer's inputs.
#[derive(Debug, Clone, Default)]
pub struct Saved {
    /// The normalised pre-activations n̂ (batch norm) or h = xW + b (affine), [B, D·R]; empty
    /// without normalisation (the backward does not need them then).
    pub normed: Vec<f32>,
    /// 1/√(σ² + ε) per gate (batch norm only).
    pub inv_std: Vec<f32>,
    /// Σ_r of the dropped-out gates, per pass, [P, B, D].
    pub row_sums: Vec<f32>,
    /// 1 where a gate passed both the ReLU and the dropout, per pass, [P, B, D·R].
    pub live: Vec<u8>,
    /// 1 where an output element was kept by the output dropout, per pass, [P, B, D]; empty
    /// without output dropout.
    pub output_kept: Vec<u8>,
}

impl Drop for Saved {
    fn drop(&mut self) {
        give(std::mem::take(&mut self.normed));
        give(std::mem::take(&mut self.row_sums));
        give(std::mem::take(&mut self.live));
        give(std::mem::take(&mut self.output_kept));
    }
}

/// Runs `f` over the items, in parallel where threads exist; results in item order. Each call
/// runs under pulp's run-time dispatch, so the loops in `f` are compiled for the best instruction
/// set the CPU has (AVX2 on most x86 machines; the build's baseline is SSE2). Nothing here uses
/// fused multiply-adds or reorders a sum, so every instruction set gives the same bits.
fn run<I: Send, R: Send>(items: Vec<I>, f: impl Fn(I) -> R + Sync + Send) -> Vec<R> {
    let arch = pulp::Arch::new();
    let job = |item: I| {
        arch.dispatch(
            #[inline(always)]
            || f(item),
        )
    };
    #[cfg(not(target_family = "wasm"))]
    {
        use rayon::prelude::*;
        items.into_par_iter().map(job).collect()
    }
    #[cfg(target_family = "wasm")]
    {
        items.into_iter().map(job).collect()
    }
}

/// Adds per-block partial column sums in block order, in f64.
fn combine(partials: Vec<Vec<f32>>, columns: usize) -> Vec<f64> {
    let mut total = vec![0f64; columns];
    for partial in partials {
        for (t, p) in total.iter_mut().zip(partial) {
            *t += f64::from(p);
        }
    }
    total
}

fn split_blocks<T>(data: &mut [T], row_len: usize) -> Vec<&mut [T]> {
    data.chunks_mut((ROWS_PER_BLOCK * row_len).max(1)).collect()
}

/// Splits a [P, B, row_len] buffer into blocks of rows: result[block][pass].
fn split_pass_blocks<T>(
    data: &mut [T],
    passes: usize,
    batch: usize,
    row_len: usize,
) -> Vec<Vec<&mut [T]>> {
    let blocks = batch.div_ceil(ROWS_PER_BLOCK);
    let mut out: Vec<Vec<&mut [T]>> = (0..blocks).map(|_| Vec::with_capacity(passes)).collect();
    if data.is_empty() {
        return out;
    }
    for pass in data.chunks_mut((batch * row_len).max(1)) {
        for (block, chunk) in pass
            .chunks_mut((ROWS_PER_BLOCK * row_len).max(1))
            .enumerate()
        {
            out[block].push(chunk);
        }
    }
    out
}

#[inline(always)]
fn add_into(acc: &mut [f32], values: &[f32]) {
    for (a, &v) in acc.iter_mut().zip(values) {
        *a += v;
    }
}

#[inline(always)]
fn relu(z: f32) -> f32 {
    if z > 0.0 { z } else { 0.0 }
}

/// Forward pass. `pre` holds x·W on entry ([B, D·R]) and the values the backward needs on return.
/// Returns the outputs [P, B, D], the batch statistics [2, D·R] (mean, biased variance; zeros
/// unless `norm` is batch norm) and, when `save`, the backward's state.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    geometry: &Geometry,
    spec: &QuadraticSpec,
    x: &[f32],
    mut pre: Vec<f32>,
    bias: &[f32],
    gamma: &[f32],
    beta: &[f32],
    save: bool,
) -> (Vec<f32>, Vec<f32>, Option<Saved>) {
    let (b, d, dr) = (geometry.batch, geometry.width, geometry.gates());
    let passes = spec.passes.len();

    // 1. Bias, and the batch mean and biased variance (two passes over the batch: the mean,
    //    then the variance of the centred values).
    let sums = run(
        split_blocks(&mut pre, dr),
        #[inline(always)]
        |block| {
            let mut sum = vec![0f32; dr];
            for row in block.chunks_mut(dr) {
                add_into(row, bias);
                add_into(&mut sum, row);
            }
            sum
        },
    );
    let mut stats = vec![0f32; 2 * dr];
    let (mut mean, mut inv_std) = (Vec::new(), Vec::new());
    if spec.norm == Norm::Batch {
        mean = combine(sums, dr)
            .into_iter()
            .map(|s| (s / b as f64) as f32)
            .collect::<Vec<f32>>();
        let squares = run(
            split_blocks(&mut pre, dr),
            #[inline(always)]
            |block| {
                let mut sq = vec![0f32; dr];
                for row in block.chunks(dr) {
                    for ((s, &v), &m) in sq.iter_mut().zip(row).zip(&mean) {
                        let c = v - m;
                        *s += c * c;
                    }
                }
                sq
            },
        );
        let var: Vec<f32> = combine(squares, dr)
            .into_iter()
            .map(|s| (s / b as f64) as f32)
            .collect();
        inv_std = var
            .iter()
            .map(|&v| 1.0 / (v + crate::quadratic::BATCH_NORM_EPS as f32).sqrt())
            .collect();
        stats[..dr].copy_from_slice(&mean);
        stats[dr..].copy_from_slice(&var);
    }

    // 2. Normalise, ReLU, dropout, row sums, product and residual, output dropout.
    let mut y = vec![0f32; passes * b * d];
    // Every element of these is written below.
    let mut row_sums = take::<f32>(passes * b * d);
    let mut live = if save {
        take::<u8>(passes * b * dr)
    } else {
        Vec::new()
    };
    let output_dropout = spec.passes.iter().any(|p| p.output.is_some());
    let mut output_kept = if save && output_dropout {
        take::<u8>(passes * b * d)
    } else {
        Vec::new()
    };
    let jobs: Vec<_> = split_blocks(&mut pre, dr)
        .into_iter()
        .zip(split_pass_blocks(&mut y, passes, b, d))
        .zip(split_pass_blocks(&mut row_sums, passes, b, d))
        .zip(split_pass_blocks(&mut live, passes, b, dr))
        .zip(split_pass_blocks(&mut output_kept, passes, b, d))
        .enumerate()
        .map(|(i, ((((pre, y), g), live), kept))| (i * ROWS_PER_BLOCK, pre, y, g, live, kept))
        .collect();
    run(
        jobs,
        #[inline(always)]
        |(first, pre, mut y, mut g, mut live, mut kept)| {
            let mut gates = vec![0f32; dr];
            let mut u = vec![0f32; dr];
            let mut words = vec![0u32; dr.max(d)];
            let mut x_pi = vec![0f32; d];
            for (i, pre_row) in pre.chunks_mut(dr).enumerate() {
                let row = first + i;
                normalise_row(spec.norm, pre_row, &mut gates, &mean, &inv_std, gamma, beta);
                let x_row = &x[row * d..(row + 1) * d];
                let x_pi: &[f32] = match &geometry.perm {
                    Some(perm) => {
                        for (v, &p) in x_pi.iter_mut().zip(perm) {
                            *v = x_row[p];
                        }
                        &x_pi
                    }
                    None => x_row,
                };
                for (p, pass) in spec.passes.iter().enumerate() {
                    let live_row = live.get_mut(p).map(|l| &mut l[i * dr..(i + 1) * dr]);
                    let u: &[f32] = match &pass.gates {
                        Some(mask) => {
                            mask.row_words(row, &mut words[..dr]);
                            let (threshold, scale) = (mask.threshold, mask.scale());
                            for ((v, &gt), &w) in u.iter_mut().zip(&gates).zip(&words[..dr]) {
                                *v = if w < threshold { gt * scale } else { 0.0 };
                            }
                            &u
                        }
                        None => &gates,
                    };
                    if let Some(live_row) = live_row {
                        for (l, &v) in live_row.iter_mut().zip(u) {
                            *l = u8::from(v > 0.0);
                        }
                    }
                    let g_row = &mut g[p][i * d..(i + 1) * d];
                    g_row.fill(0.0);
                    let hw = geometry.head_width();
                    for (head_start, start) in geometry.row_starts() {
                        add_into(
                            &mut g_row[head_start..head_start + hw],
                            &u[start..start + hw],
                        );
                    }
                    let y_row = &mut y[p][i * d..(i + 1) * d];
                    for (((o, &xp), &gv), &xv) in y_row.iter_mut().zip(x_pi).zip(&*g_row).zip(x_row)
                    {
                        *o = xp * gv + xv;
                    }
                    if let Some(mask) = &pass.output {
                        mask.row_words(row, &mut words[..d]);
                        let (threshold, scale) = (mask.threshold, mask.scale());
                        for (o, &w) in y_row.iter_mut().zip(&words[..d]) {
                            *o *= if w < threshold { scale } else { 0.0 };
                        }
                        if let Some(kept) = kept.get_mut(p) {
                            for (k, &w) in kept[i * d..(i + 1) * d].iter_mut().zip(&words[..d]) {
                                *k = u8::from(w < threshold);
                            }
                        }
                    }
                }
            }
        },
    );
    if !save {
        give(pre);
        give(row_sums);
        return (y, stats, None);
    }
    let normed = if spec.norm == Norm::None {
        give(pre);
        Vec::new()
    } else {
        pre
    };
    let saved = Saved {
        normed,
        inv_std,
        row_sums,
        live,
        output_kept,
    };
    (y, stats, Some(saved))
}

/// One row of the normalisation and ReLU: `pre` becomes n̂ (batch norm) or stays h, `gates`
/// receives ReLU(z).
#[inline(always)]
fn normalise_row(
    norm: Norm,
    pre: &mut [f32],
    gates: &mut [f32],
    mean: &[f32],
    inv_std: &[f32],
    gamma: &[f32],
    beta: &[f32],
) {
    match norm {
        Norm::Batch => {
            for (((((p, gt), &m), &s), &g), &b) in pre
                .iter_mut()
                .zip(gates.iter_mut())
                .zip(mean)
                .zip(inv_std)
                .zip(gamma)
                .zip(beta)
            {
                let a = (*p - m) * s;
                *p = a;
                *gt = relu(a * g + b);
            }
        }
        Norm::Affine => {
            for (((&p, gt), &g), &b) in pre.iter().zip(gates.iter_mut()).zip(gamma).zip(beta) {
                *gt = relu(p * g + b);
            }
        }
        Norm::None => {
            for (&p, gt) in pre.iter().zip(gates.iter_mut()) {
                *gt = relu(p);
            }
        }
    }
}

/// Gradients of one layer call, except the two matrix products that finish them: the caller
/// computes ∂W = xᵀ·`pre_grad` and adds `pre_grad`·Wᵀ to `x`, then gives `pre_grad` back to the
/// pool.
#[derive(Debug)]
pub struct Grads {
    /// ∂L/∂x from the product and residual terms, [B, D].
    pub x: Vec<f32>,
    /// ∂L/∂h with h = xW + b, [B, D·R].
    pub pre_grad: Vec<f32>,
    pub bias: Vec<f32>,
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

/// Backward pass from the gradient of the outputs, [P, B, D].
pub fn backward(
    geometry: &Geometry,
    spec: &QuadraticSpec,
    saved: &Saved,
    x: &[f32],
    gamma: &[f32],
    grad_out: &[f32],
) -> Grads {
    let (b, d, dr) = (geometry.batch, geometry.width, geometry.gates());
    let hw = geometry.head_width();
    let mut dx = zeroed::<f32>(b * d);
    // Assigned by the first pass, added to by the others.
    let mut dz = take::<f32>(b * dr);

    // 1. Through the output dropout, the residual and the product into ∂z (the gates before
    //    ReLU and gate dropout), with per-column sums of ∂z and ∂z·n̂.
    let has_normed = !saved.normed.is_empty();
    let jobs: Vec<_> = split_blocks(&mut dx, d)
        .into_iter()
        .zip(split_blocks(&mut dz, dr))
        .enumerate()
        .map(|(i, (dx, dz))| (i * ROWS_PER_BLOCK, dx, dz))
        .collect();
    let partials = run(
        jobs,
        #[inline(always)]
        |(first, dx, dz)| {
            let mut sum_dz = vec![0f32; dr];
            let mut sum_dz_n = vec![0f32; if has_normed { dr } else { 0 }];
            let mut dy = vec![0f32; d];
            let mut dg = vec![0f32; d];
            let mut x_pi = vec![0f32; d];
            let mut dx_pi = vec![0f32; d];
            for (i, (dx_row, dz_row)) in dx.chunks_mut(d).zip(dz.chunks_mut(dr)).enumerate() {
                let row = first + i;
                let x_row = &x[row * d..(row + 1) * d];
                if let Some(perm) = &geometry.perm {
                    for (v, &p) in x_pi.iter_mut().zip(perm) {
                        *v = x_row[p];
                    }
                }
                let x_pi: &[f32] = if geometry.perm.is_some() {
                    &x_pi
                } else {
                    x_row
                };
                for (p, pass) in spec.passes.iter().enumerate() {
                    let at = (p * b + row) * d;
                    let g = &saved.row_sums[at..at + d];
                    dy.copy_from_slice(&grad_out[at..at + d]);
                    if let Some(mask) = &pass.output {
                        let scale = mask.scale();
                        for (v, &k) in dy.iter_mut().zip(&saved.output_kept[at..at + d]) {
                            *v *= scale * f32::from(k);
                        }
                    }
                    // y = x_π·g + x: the residual, the product's x_π and its g.
                    add_into(dx_row, &dy);
                    for ((v, &dyo), &gv) in dx_pi.iter_mut().zip(&dy).zip(g) {
                        *v = dyo * gv;
                    }
                    for ((v, &dyo), &xp) in dg.iter_mut().zip(&dy).zip(x_pi) {
                        *v = dyo * xp;
                    }
                    match &geometry.perm {
                        Some(perm) => {
                            for (&v, &src) in dx_pi.iter().zip(perm) {
                                dx_row[src] += v;
                            }
                        }
                        None => add_into(dx_row, &dx_pi),
                    }
                    let gate_scale = pass.gates.map_or(1.0, |m| m.scale());
                    let live_at = (p * b + row) * dr;
                    let live = &saved.live[live_at..live_at + dr];
                    for (head_start, start) in geometry.row_starts() {
                        let dg_head = &dg[head_start..head_start + hw];
                        let cells = dz_row[start..start + hw]
                            .iter_mut()
                            .zip(&live[start..start + hw])
                            .zip(dg_head);
                        if p == 0 {
                            for ((z, &l), &gv) in cells {
                                *z = gv * gate_scale * f32::from(l);
                            }
                        } else {
                            for ((z, &l), &gv) in cells {
                                *z += gv * gate_scale * f32::from(l);
                            }
                        }
                    }
                }
                add_into(&mut sum_dz, dz_row);
                if has_normed {
                    let n = &saved.normed[row * dr..(row + 1) * dr];
                    for ((s, &z), &nv) in sum_dz_n.iter_mut().zip(dz_row.iter()).zip(n) {
                        *s += z * nv;
                    }
                }
            }
            (sum_dz, sum_dz_n)
        },
    );
    let (dz_sums, dzn_sums): (Vec<_>, Vec<_>) = partials.into_iter().unzip();
    let sum_dz = combine(dz_sums, dr);
    let sum_dz_n = if has_normed {
        combine(dzn_sums, dr)
    } else {
        Vec::new()
    };

    // 2. Through the normalisation into ∂h (in place), with its column sums for ∂b.
    let (grad_gamma, grad_beta): (Vec<f32>, Vec<f32>) = match spec.norm {
        Norm::None => (vec![0.0; dr], vec![0.0; dr]),
        _ => (
            sum_dz_n.iter().map(|&s| s as f32).collect(),
            sum_dz.iter().map(|&s| s as f32).collect(),
        ),
    };
    let grad_bias = if spec.norm == Norm::None {
        sum_dz.iter().map(|&s| s as f32).collect()
    } else {
        let n = b as f32;
        let mean_dz: Vec<f32> = grad_beta.iter().map(|&s| s / n).collect();
        let mean_dz_n: Vec<f32> = grad_gamma.iter().map(|&s| s / n).collect();
        // ∂h = γ/σ·(∂z − mean ∂z − n̂·mean(∂z·n̂)) for batch norm, γ·∂z for the affine map.
        let coef: Vec<f32> = match spec.norm {
            Norm::Batch => saved
                .inv_std
                .iter()
                .zip(gamma)
                .map(|(&s, &g)| s * g)
                .collect(),
            _ => gamma.to_vec(),
        };
        let jobs: Vec<_> = split_blocks(&mut dz, dr).into_iter().enumerate().collect();
        let partials = run(
            jobs,
            #[inline(always)]
            |(i, block)| {
                let mut sum = vec![0f32; dr];
                for (j, dz_row) in block.chunks_mut(dr).enumerate() {
                    let row = i * ROWS_PER_BLOCK + j;
                    if spec.norm == Norm::Batch {
                        let n_row = &saved.normed[row * dr..(row + 1) * dr];
                        for ((((z, &n), &k), &mz), &mzn) in dz_row
                            .iter_mut()
                            .zip(n_row)
                            .zip(&coef)
                            .zip(&mean_dz)
                            .zip(&mean_dz_n)
                        {
                            *z = k * (*z - mz - n * mzn);
                        }
                    } else {
                        for (z, &k) in dz_row.iter_mut().zip(&coef) {
                            *z *= k;
                        }
                        add_into(&mut sum, dz_row);
                    }
                }
                sum
            },
        );
        if spec.norm == Norm::Batch {
            // Training-mode batch norm subtracts the batch mean, so b cancels out of the layer
            // and ∂b is exactly zero. Summing ∂h would give rounding noise instead, which Adam
            // (ε = 1e-8) turns into lr-sized steps of random sign: b would drift differently on
            // every platform and summation order, and with it (through the running mean's lag)
            // the evaluation outputs.
            vec![0.0; dr]
        } else {
            combine(partials, dr)
                .into_iter()
                .map(|s| s as f32)
                .collect()
        }
    };
    Grads {
        x: dx,
        pre_grad: dz,
        bias: grad_bias,
        gamma: grad_gamma,
        beta: grad_beta,
    }
}
