//! The three matrix products of a fused layer, on row-major slices, written into buffers the
//! layer owns (so that no product allocates and copies its own output).
//!
//! Natively they run on faer's GEMM, split over rayon's threads (over the rows and columns of the
//! output, never over the inner dimension, so every thread count gives the same bits). In wasm
//! the single-threaded product of Burn's CPU backend keeps the worker small.

/// out = a·b, with a [m, k] and b [k, n].
pub fn matmul(out: &mut [f32], a: &[f32], b: &[f32], [m, k, n]: [usize; 3]) {
    imp::product(out, a, b, [m, k, n], Layout::Plain, false);
}

/// out = aᵀ·b, with a [k, m] and b [k, n].
pub fn matmul_lhs_transposed(out: &mut [f32], a: &[f32], b: &[f32], [m, k, n]: [usize; 3]) {
    imp::product(out, a, b, [m, k, n], Layout::LhsTransposed, false);
}

/// out += a·bᵀ, with a [m, k] and b [n, k].
pub fn add_matmul_rhs_transposed(out: &mut [f32], a: &[f32], b: &[f32], [m, k, n]: [usize; 3]) {
    imp::product(out, a, b, [m, k, n], Layout::RhsTransposed, true);
}

#[derive(Debug, Clone, Copy)]
enum Layout {
    Plain,
    LhsTransposed,
    RhsTransposed,
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use faer::linalg::matmul::matmul;
    use faer::{Accum, MatMut, MatRef, Par};

    use super::Layout;

    pub fn product(
        out: &mut [f32],
        a: &[f32],
        b: &[f32],
        [m, k, n]: [usize; 3],
        layout: Layout,
        add: bool,
    ) {
        let lhs = match layout {
            Layout::LhsTransposed => MatRef::from_row_major_slice(a, k, m).transpose(),
            _ => MatRef::from_row_major_slice(a, m, k),
        };
        let rhs = match layout {
            Layout::RhsTransposed => MatRef::from_row_major_slice(b, n, k).transpose(),
            _ => MatRef::from_row_major_slice(b, k, n),
        };
        let threads = rayon::current_num_threads();
        let par = if threads > 1 {
            Par::rayon(threads)
        } else {
            Par::Seq
        };
        let accum = if add { Accum::Add } else { Accum::Replace };
        matmul(
            MatMut::from_row_major_slice_mut(out, m, n),
            accum,
            lhs,
            rhs,
            1.0f32,
            par,
        );
    }
}

#[cfg(target_family = "wasm")]
mod imp {
    use burn::backend::Flex;
    use burn::backend::flex::FlexTensor;
    use burn::backend::ops::FloatTensorOps;
    use burn::tensor::TensorData;

    use super::Layout;

    fn tensor(values: &[f32], rows: usize, cols: usize) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values.to_vec(), [rows, cols]))
    }

    pub fn product(
        out: &mut [f32],
        a: &[f32],
        b: &[f32],
        [m, k, n]: [usize; 3],
        layout: Layout,
        add: bool,
    ) {
        let lhs = match layout {
            Layout::LhsTransposed => Flex::float_transpose(tensor(a, k, m)),
            _ => tensor(a, m, k),
        };
        let rhs = match layout {
            Layout::RhsTransposed => Flex::float_transpose(tensor(b, n, k)),
            _ => tensor(b, k, n),
        };
        let product = Flex::float_matmul(lhs, rhs)
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32 product");
        if add {
            for (o, p) in out.iter_mut().zip(product) {
                *o += p;
            }
        } else {
            out.copy_from_slice(&product);
        }
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }

    /// The three products at the paper's Frappe shapes (batch 4096, D 160, D·R 2080), on 1, 2
    /// and 3 threads: the same bits (faer splits the output, never the inner dimension).
    #[test]
    fn products_are_bit_identical_on_any_thread_count() {
        let (b, d, dr) = (4096, 160, 2080);
        let (x, w, dh) = (values(b * d, 1), values(d * dr, 2), values(b * dr, 3));
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let mut h = vec![0f32; b * dr];
                    matmul(&mut h, &x, &w, [b, d, dr]);
                    let mut dw = vec![0f32; d * dr];
                    matmul_lhs_transposed(&mut dw, &x, &dh, [d, b, dr]);
                    let mut dx = values(b * d, 4);
                    add_matmul_rhs_transposed(&mut dx, &dh, &w, [b, dr, d]);
                    [h, dw, dx].map(|v| v.into_iter().map(f32::to_bits).collect::<Vec<_>>())
                })
        };
        let one = run(1);
        for threads in [2, 3] {
            let other = run(threads);
            for (name, (a, b)) in ["x·W", "xᵀ·∂h", "x + ∂h·Wᵀ"]
                .iter()
                .zip(one.iter().zip(&other))
            {
                assert!(a == b, "{name} differs on 1 and {threads} threads");
            }
        }
    }
}
