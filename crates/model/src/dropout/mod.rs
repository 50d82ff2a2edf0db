//! Counter-based dropout masks (Philox4x32-10, Salmon et al., SC'11).
//!
//! Every mask element is a pure function of (run seed, training step, layer, Self-Ensemble pass,
//! which dropout, row, column): no generator state is carried between calls. So the same mask is
//! produced bit for bit by the CPU backend, in wasm and by the GPU kernels; a backward pass can
//! regenerate a mask instead of storing it; and a resumed run draws exactly the masks an
//! uninterrupted one would have.
//!
//! Layout of one Philox call: key = the seed's two 32-bit halves (the low half xor'ed with a
//! constant for "dropout"); counter = (column / 4, row, step, stream). Element (row, column) takes
//! word `column % 4` of the output and is kept when that word is below `keep · 2³²`.

pub(crate) mod device;

pub use device::{MaskOps, mask_like};

/// Philox4x32 round multipliers and Weyl key increments (Random123).
const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Separates the dropout key from other uses of the same seed.
const DROPOUT_KEY_SALT: u32 = 0x5EED_D0D0;

/// Philox4x32-10: 4 random words from a 4-word counter and a 2-word key.
#[inline(always)]
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let [mut c0, mut c1, mut c2, mut c3] = counter;
    let [mut k0, mut k1] = key;
    for round in 0..10 {
        if round > 0 {
            k0 = k0.wrapping_add(W0);
            k1 = k1.wrapping_add(W1);
        }
        let p0 = u64::from(M0) * u64::from(c0);
        let p1 = u64::from(M1) * u64::from(c2);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0);
    }
    [c0, c1, c2, c3]
}

/// Which dropout of a training step a mask belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Site {
    /// The dropout on a quadratic layer's D·R gates (before the row sum).
    Gates,
    /// The dropout on a quadratic layer's output.
    Output,
    /// The dropout after a hidden layer of an MLP (the model zoo's networks).
    Hidden,
}

/// One mask's identity within a step: (layer, Self-Ensemble pass, site).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaskStream {
    pub layer: u32,
    pub pass: u32,
    pub site: Site,
}

impl MaskStream {
    /// The counter word that names this stream.
    pub fn word(self) -> u32 {
        let site = match self.site {
            Site::Gates => 0,
            Site::Output => 1,
            Site::Hidden => 2,
        };
        (self.layer << 16) | ((self.pass & 0xFF) << 8) | site
    }
}

/// The randomness of one training step: the run's seed and the step's number. Masks of
/// different layers, passes and sites are separate streams of it ([`MaskStream`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DropoutKey {
    pub seed: u64,
    pub step: u64,
}

impl DropoutKey {
    pub fn new(seed: u64, step: u64) -> Self {
        Self { seed, step }
    }

    /// The mask of one stream with dropout rate `p`, as plain data a kernel can take.
    pub fn mask(self, stream: MaskStream, p: f64) -> MaskSpec {
        MaskSpec::new(self, stream, p)
    }
}

/// Everything a kernel needs to produce one inverted-dropout mask: key, fixed counter words,
/// the keep threshold and the scale of kept elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaskSpec {
    pub key: [u32; 2],
    /// Counter words 2 and 3: the step (low 32 bits) and the stream.
    pub step: u32,
    pub stream: u32,
    /// An element is kept when its random word is below this (P = threshold / 2³²).
    pub threshold: u32,
    /// 1/(1−p) as f32 bits (so that the spec is `Eq` and hashable).
    scale_bits: u32,
}

impl MaskSpec {
    fn new(key: DropoutKey, stream: MaskStream, p: f64) -> Self {
        let keep = 1.0 - p;
        // P(u32 < threshold) = keep, exact to 2⁻³².
        let threshold = (keep * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
        Self {
            key: [
                (key.seed as u32) ^ DROPOUT_KEY_SALT,
                (key.seed >> 32) as u32,
            ],
            // Steps beyond 2³² reuse masks; no run gets near that.
            step: key.step as u32,
            stream: stream.word(),
            threshold,
            scale_bits: ((1.0 / keep) as f32).to_bits(),
        }
    }

    /// The value a kept element is multiplied by, 1/(1−p).
    pub fn scale(&self) -> f32 {
        f32::from_bits(self.scale_bits)
    }

    /// Whether each element of `row`, columns `[0, keep.len())`, is kept.
    pub fn fill_row_keep(&self, row: usize, keep: &mut [bool]) {
        self.fill_row_with(row, keep, |word, threshold, _| word < threshold);
    }

    /// The mask's values (0 or 1/(1−p)) for one row, columns `[0, out.len())`.
    pub fn fill_row(&self, row: usize, out: &mut [f32]) {
        self.fill_row_with(
            row,
            out,
            |word, threshold, scale| {
                if word < threshold { scale } else { 0.0 }
            },
        );
    }

    /// The random words of one row, columns `[0, out.len())`: column c is kept when its word is
    /// below [`MaskSpec::threshold`].
    pub fn row_words(&self, row: usize, out: &mut [u32]) {
        for (block, out) in out.chunks_mut(4 * BLOCK_GROUPS).enumerate() {
            let groups = out.len().div_ceil(4);
            if out.len() == 4 * groups {
                self.block_words(row, block, out);
            } else {
                let mut words = [0u32; 4 * BLOCK_GROUPS];
                self.block_words(row, block, &mut words[..4 * groups]);
                out.copy_from_slice(&words[..out.len()]);
            }
        }
    }

    fn block_words(&self, row: usize, block: usize, words: &mut [u32]) {
        let first_group = (block * BLOCK_GROUPS) as u32;
        // pulp's wasm backend multiplies lane by lane; WebAssembly SIMD has the widening multiply
        // Philox needs.
        #[cfg(all(target_family = "wasm", target_feature = "simd128"))]
        wasm_simd::block_words(self, row as u32, first_group, words);
        #[cfg(not(all(target_family = "wasm", target_feature = "simd128")))]
        pulp::Arch::new().dispatch(Words {
            spec: self,
            row: row as u32,
            first_group,
            words,
        });
    }

    fn fill_row_with<T: Copy>(
        &self,
        row: usize,
        out: &mut [T],
        value: impl Fn(u32, u32, f32) -> T,
    ) {
        let (threshold, scale) = (self.threshold, self.scale());
        let mut words = [0u32; 4 * BLOCK_GROUPS];
        for (block, out) in out.chunks_mut(4 * BLOCK_GROUPS).enumerate() {
            let words = &mut words[..4 * out.len().div_ceil(4)];
            self.block_words(row, block, words);
            for (o, &w) in out.iter_mut().zip(words.iter()) {
                *o = value(w, threshold, scale);
            }
        }
    }

    /// The round keys of Philox's key schedule.
    fn round_keys(&self) -> [[u32; 2]; 10] {
        let mut keys = [self.key; 10];
        for round in 1..10 {
            keys[round] = [
                keys[round - 1][0].wrapping_add(W0),
                keys[round - 1][1].wrapping_add(W1),
            ];
        }
        keys
    }

    /// The whole mask, [rows, cols], as host values (row-major).
    pub fn host_values(&self, rows: usize, cols: usize) -> Vec<f32> {
        let mut values = vec![0f32; rows * cols];
        for (row, out) in values.chunks_mut(cols.max(1)).enumerate() {
            self.fill_row(row, out);
        }
        values
    }
}

/// Column groups (of four) whose words are generated per dispatch.
const BLOCK_GROUPS: usize = 64;

/// The random words of column groups `[first_group, first_group + words.len()/4)` of one row, in
/// column order. Runs one Philox call per SIMD lane (8 at a time on AVX2, 4 on SSE2), through
/// pulp's run-time dispatch: the same 32-bit integer arithmetic on every instruction set. (In wasm
/// with simd128, `wasm_simd` does the same with WebAssembly's widening multiply.)
#[cfg(not(all(target_family = "wasm", target_feature = "simd128")))]
struct Words<'a> {
    spec: &'a MaskSpec,
    row: u32,
    first_group: u32,
    words: &'a mut [u32],
}

#[cfg(not(all(target_family = "wasm", target_feature = "simd128")))]
impl pulp::WithSimd for Words<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        const MAX_LANES: usize = 16;
        let lanes = S::U32_LANES;
        assert!(lanes <= MAX_LANES);
        let keys = self.spec.round_keys();
        let mut iota = [0u32; MAX_LANES];
        for (i, v) in iota.iter_mut().enumerate() {
            *v = i as u32;
        }
        let iota = simd.partial_load_u32s(&iota[..lanes]);
        let (m0, m1) = (simd.splat_u32s(M0), simd.splat_u32s(M1));
        let mut lane_words = [[0u32; MAX_LANES]; 4];
        let groups = self.words.len() / 4;
        for (start, out) in (0..groups)
            .step_by(lanes)
            .zip(self.words.chunks_mut(4 * lanes))
        {
            let mut c0 = simd.add_u32s(simd.splat_u32s(self.first_group + start as u32), iota);
            let mut c1 = simd.splat_u32s(self.row);
            let mut c2 = simd.splat_u32s(self.spec.step);
            let mut c3 = simd.splat_u32s(self.spec.stream);
            for [k0, k1] in keys {
                let (lo0, hi0) = simd.widening_mul_u32s(m0, c0);
                let (lo1, hi1) = simd.widening_mul_u32s(m1, c2);
                c0 = simd.xor_u32s(simd.xor_u32s(hi1, c1), simd.splat_u32s(k0));
                c1 = lo1;
                c2 = simd.xor_u32s(simd.xor_u32s(hi0, c3), simd.splat_u32s(k1));
                c3 = lo0;
            }
            for (w, c) in [c0, c1, c2, c3].into_iter().enumerate() {
                simd.partial_store_u32s(&mut lane_words[w][..lanes], c);
            }
            for (i, o) in out.iter_mut().enumerate() {
                *o = lane_words[i % 4][i / 4];
            }
        }
    }
}

/// Philox4x32-10 on WebAssembly SIMD, four counters at a time (the browser's worker).
#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
mod wasm_simd {
    use core::arch::wasm32::{
        i32x4_shuffle, u32x4, u32x4_extract_lane, u32x4_splat, u64x2_extmul_high_u32x4,
        u64x2_extmul_low_u32x4, v128, v128_xor,
    };

    use super::{M0, M1, MaskSpec};

    /// The low and the high 32-bit halves of the four products a·b.
    #[inline(always)]
    fn widening_mul(a: v128, b: v128) -> (v128, v128) {
        let (first, last) = (u64x2_extmul_low_u32x4(a, b), u64x2_extmul_high_u32x4(a, b));
        (
            i32x4_shuffle::<0, 2, 4, 6>(first, last),
            i32x4_shuffle::<1, 3, 5, 7>(first, last),
        )
    }

    #[inline(always)]
    fn lanes(v: v128) -> [u32; 4] {
        [
            u32x4_extract_lane::<0>(v),
            u32x4_extract_lane::<1>(v),
            u32x4_extract_lane::<2>(v),
            u32x4_extract_lane::<3>(v),
        ]
    }

    pub fn block_words(spec: &MaskSpec, row: u32, first_group: u32, words: &mut [u32]) {
        let keys = spec.round_keys();
        let (m0, m1) = (u32x4_splat(M0), u32x4_splat(M1));
        let groups = words.len() / 4;
        for (start, out) in (0..groups).step_by(4).zip(words.chunks_mut(16)) {
            let group = first_group.wrapping_add(start as u32);
            let mut c0 = u32x4(
                group,
                group.wrapping_add(1),
                group.wrapping_add(2),
                group.wrapping_add(3),
            );
            let mut c1 = u32x4_splat(row);
            let mut c2 = u32x4_splat(spec.step);
            let mut c3 = u32x4_splat(spec.stream);
            for [k0, k1] in keys {
                let (lo0, hi0) = widening_mul(m0, c0);
                let (lo1, hi1) = widening_mul(m1, c2);
                c0 = v128_xor(v128_xor(hi1, c1), u32x4_splat(k0));
                c1 = lo1;
                c2 = v128_xor(v128_xor(hi0, c3), u32x4_splat(k1));
                c3 = lo0;
            }
            let lane_words = [lanes(c0), lanes(c1), lanes(c2), lanes(c3)];
            for (i, o) in out.iter_mut().enumerate() {
                *o = lane_words[i % 4][i / 4];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123's known-answer vectors (kat_vectors, "philox4x32 10").
    #[test]
    fn philox_matches_the_random123_known_answers() {
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn the_lane_wise_rows_equal_one_philox_call_per_group_of_four() {
        let spec = DropoutKey::new(0x0123_4567_89ab_cdef, 77).mask(
            MaskStream {
                layer: 1,
                pass: 1,
                site: Site::Gates,
            },
            0.3,
        );
        // The Frappe layer's width plus a partial SIMD lane and a partial group of four.
        let cols = 2080 + 4 * 9 + 3;
        let mut row = vec![0f32; cols];
        for r in [0, 5, 64, 4095] {
            spec.fill_row(r, &mut row);
            for (c, &v) in row.iter().enumerate() {
                let word =
                    philox4x32_10([(c / 4) as u32, r as u32, spec.step, spec.stream], spec.key)
                        [c % 4];
                let want = if word < spec.threshold {
                    spec.scale()
                } else {
                    0.0
                };
                assert_eq!(v, want, "row {r}, column {c}");
            }
        }
        let mut words = vec![0u32; cols];
        spec.row_words(5, &mut words);
        for (c, &w) in words.iter().enumerate() {
            let want = philox4x32_10([(c / 4) as u32, 5, spec.step, spec.stream], spec.key)[c % 4];
            assert_eq!(w, want, "word of column {c}");
        }
        spec.fill_row(5, &mut row);
        let mut keep = vec![false; cols];
        spec.fill_row_keep(5, &mut keep);
        assert!(keep.iter().zip(&row).all(|(&k, &v)| k == (v != 0.0)));
    }

    #[test]
    fn masks_keep_the_expected_fraction_and_every_stream_differs() {
        let key = DropoutKey::new(42, 3);
        let stream = |layer, pass, site| MaskStream { layer, pass, site };
        let fraction = |spec: MaskSpec| {
            let mut row = vec![0f32; 10_000];
            spec.fill_row(0, &mut row);
            row.iter().filter(|&&v| v != 0.0).count() as f64 / 1e4
        };
        let base = key.mask(stream(0, 0, Site::Gates), 0.1);
        assert!((fraction(base) - 0.9).abs() < 0.01);
        assert!((base.scale() - 1.0 / 0.9).abs() < 1e-6);
        let others = [
            key.mask(stream(1, 0, Site::Gates), 0.1),
            key.mask(stream(0, 1, Site::Gates), 0.1),
            key.mask(stream(0, 0, Site::Output), 0.1),
            DropoutKey::new(42, 4).mask(stream(0, 0, Site::Gates), 0.1),
            DropoutKey::new(43, 3).mask(stream(0, 0, Site::Gates), 0.1),
            DropoutKey::new(42 | (1 << 40), 3).mask(stream(0, 0, Site::Gates), 0.1),
        ];
        let row = |spec: MaskSpec| {
            let mut r = vec![0f32; 512];
            spec.fill_row(0, &mut r);
            r
        };
        for other in others {
            assert_ne!(row(base), row(other), "{other:?}");
        }
        // Rows differ too, and the same spec gives the same row.
        let mut r1 = vec![0f32; 512];
        base.fill_row(1, &mut r1);
        assert_ne!(row(base), r1);
        assert_eq!(row(base), row(base));
    }
}
