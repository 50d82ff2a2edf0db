//! The memory a training run will need, checked before anything is allocated.
//!
//! Sizes come from configs, URLs and model files that anyone can write: `num_row: 1000000000`
//! must be an error that names the keys, not an allocation that aborts the process or the tab.
//! The CLI and the browser's worker both train through `Trainer::new`, which calls
//! [`check_training_fits`]: one place for both.

use crate::input::FieldSlot;
use crate::{InputLayout, ModelError, QnnConfig};

/// Bytes per trainable value while training: the value, its gradient and Adam's two moments.
pub const TRAINING_BYTES_PER_PARAMETER: u64 = 16;

/// f32 tensors of B × D·R values a quadratic layer pass holds at its peak: the product x·W,
/// the normalised pre-activations kept for the backward, and their gradient.
const GATE_TENSORS_PER_PASS: u64 = 3;

/// What one training run needs, in bytes (an estimate from the shapes; the paper's Frappe
/// configuration estimates 0.31 GB and measures 0.30 GiB of peak RSS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    pub parameters: u64,
    /// Parameters with their gradients and Adam's moments.
    pub parameter_bytes: u64,
    /// One training step's activations at the given batch size.
    pub step_bytes: u64,
}

/// What a training step's sequence fields hold at `batch_size` rows of `embedding_dim`-wide
/// embeddings: each gathers max_len embeddings per row (with their gradient) before pooling
/// them, beside its ids. `None` when a size overflows 64 bits.
pub fn sequence_bytes(
    layout: &InputLayout,
    embedding_dim: usize,
    batch_size: usize,
) -> Option<u64> {
    let n = |v: usize| u64::try_from(v).ok();
    layout
        .slots
        .iter()
        .zip(layout.widths(embedding_dim))
        .try_fold(0u64, |total, (slot, width)| match slot {
            FieldSlot::Sequence { max_len, .. } => {
                let per_id = n(width)?.checked_mul(8)?.checked_add(4)?;
                total.checked_add(n(batch_size)?.checked_mul(n(*max_len)?.checked_mul(per_id)?)?)
            }
            _ => Some(total),
        })
}

/// Weights of the embedding tables and numeric vectors: Σ_f (V_f or 1) · E_f. `None` when it
/// overflows 64 bits.
pub fn embedding_parameters(layout: &InputLayout, embedding_dim: usize) -> Option<u64> {
    let n = |v: usize| u64::try_from(v).ok();
    layout
        .table_sizes()
        .into_iter()
        .zip(layout.widths(embedding_dim))
        .try_fold(0u64, |total, (rows, width)| {
            total.checked_add(n(rows.max(1))?.checked_mul(n(width)?)?)
        })
}

impl MemoryEstimate {
    /// `None` when a size overflows 64 bits.
    pub fn training(config: &QnnConfig, layout: &InputLayout, batch_size: usize) -> Option<Self> {
        let n = |v: usize| u64::try_from(v).ok();
        let d = n(layout.width(config.embedding_dim)?)?;
        let dr = d.checked_mul(n(config.num_row)?)?;
        let layers = n(config.num_layers)?;
        let per_layer_vectors = if config.batch_norm { 5 } else { 1 };
        let per_layer = dr
            .checked_mul(d)?
            .checked_add(dr.checked_mul(per_layer_vectors)?)?;
        let parameters = embedding_parameters(layout, config.embedding_dim)?
            .checked_add(layers.checked_mul(per_layer)?)?
            .checked_add(d.checked_add(1)?)?;
        // Layer 0 runs once for both Self-Ensemble passes, every later layer twice.
        let layer_passes = match layers {
            0 => 0,
            l => l.checked_mul(2)? - 1,
        };
        let batch = n(batch_size)?;
        let sequence_bytes = sequence_bytes(layout, config.embedding_dim, batch_size)?;
        let step_bytes = batch
            .checked_mul(dr)?
            .checked_mul(4 * GATE_TENSORS_PER_PASS)?
            .checked_mul(layer_passes)?
            .checked_add(sequence_bytes)?;
        Some(Self {
            parameters,
            parameter_bytes: parameters.checked_mul(TRAINING_BYTES_PER_PARAMETER)?,
            step_bytes,
        })
    }

    pub fn total(&self) -> u64 {
        self.parameter_bytes.saturating_add(self.step_bytes)
    }
}

/// Memory this process can use: natively the least of what Linux reports as available, the
/// process's address-space limit (`ulimit -v`) and its cgroup's memory limit; in the browser the
/// 4 GiB of a wasm32 memory; `None` where it is not known.
pub fn available_memory() -> Option<u64> {
    #[cfg(target_family = "wasm")]
    {
        Some(4 << 30)
    }
    #[cfg(target_os = "linux")]
    {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let number = |text: &str| text.trim().parse::<u64>().ok();
        let available = read("/proc/meminfo").and_then(|text| {
            let kib = text
                .lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))?
                .trim()
                .trim_end_matches("kB");
            number(kib)?.checked_mul(1024)
        });
        // "Max address space   <soft>   <hard>   bytes"; "unlimited" parses to nothing.
        let address_space = read("/proc/self/limits").and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("Max address space"))?;
            number(line.split_whitespace().nth(3)?)
        });
        // cgroup v2: the limit less what the group already uses.
        let cgroup = read("/sys/fs/cgroup/memory.max")
            .and_then(|max| number(&max))
            .map(|max| {
                let used = read("/sys/fs/cgroup/memory.current")
                    .and_then(|c| number(&c))
                    .unwrap_or(0);
                max.saturating_sub(used)
            });
        [available, address_space, cgroup]
            .into_iter()
            .flatten()
            .min()
    }
    #[cfg(not(any(target_family = "wasm", target_os = "linux")))]
    {
        None
    }
}

/// Bytes as GiB with one decimal, as the memory errors print them.
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Refuses a run whose sizes overflow or whose estimate exceeds `available` bytes, naming the
/// keys that set the sizes.
pub fn check_training_fits(
    config: &QnnConfig,
    layout: &InputLayout,
    batch_size: usize,
    available: Option<u64>,
) -> Result<MemoryEstimate, ModelError> {
    let too_large = |reason: String| ModelError::TooLarge(reason);
    let estimate = MemoryEstimate::training(config, layout, batch_size).ok_or_else(|| {
        too_large(format!(
            "the sizes overflow 64-bit arithmetic (embedding_dim {}, num_row {}, num_layers {}, \
             batch_size {batch_size}, {} fields, {} embedding rows)",
            config.embedding_dim,
            config.num_row,
            config.num_layers,
            layout.num_fields(),
            layout.table_rows
        ))
    })?;
    match available {
        Some(available) if estimate.total() > available => {
            let advice = if estimate.step_bytes >= estimate.parameter_bytes {
                "lower batch_size, num_row, embedding_dim or num_layers (or a sequence field's \
                 max_len)"
            } else {
                "lower num_row, embedding_dim or num_layers, or raise min_categr_count to shrink \
                 the vocabularies"
            };
            Err(too_large(format!(
                "training needs about {} ({} parameters: {} with their gradients and Adam's \
                 moments; one step at batch_size {batch_size}: {}), more than the {} available: \
                 {advice}",
                gib(estimate.total()),
                estimate.parameters,
                gib(estimate.parameter_bytes),
                gib(estimate.step_bytes),
                gib(available)
            )))
        }
        _ => Ok(estimate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::synthetic::SyntheticSpec;

    fn frappe_layout() -> InputLayout {
        InputLayout::new(&SyntheticSpec::frappe_shaped(1, 0).feature_map()).unwrap()
    }

    #[test]
    fn the_papers_frappe_run_is_estimated_near_its_measured_peak() {
        let estimate =
            MemoryEstimate::training(&QnnConfig::paper_frappe(), &frappe_layout(), 4096).unwrap();
        // README "Benchmark": 303–310 MiB peak RSS at batch 4096.
        let total = estimate.total() as f64 / f64::from(1u32 << 20);
        assert!((250.0..400.0).contains(&total), "{estimate:?}");
        assert!(
            check_training_fits(
                &QnnConfig::paper_frappe(),
                &frappe_layout(),
                4096,
                Some(1 << 30)
            )
            .is_ok()
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_available_memory_is_known_natively() {
        let available = available_memory().unwrap();
        assert!(available > 1 << 20, "{available}");
    }

    #[test]
    fn absurd_sizes_are_errors_naming_the_keys() {
        let layout = frappe_layout();
        let huge = |config: QnnConfig, batch: usize| {
            check_training_fits(&config, &layout, batch, Some(8 << 30))
                .unwrap_err()
                .to_string()
        };
        let base = QnnConfig::paper_frappe();
        let err = huge(
            QnnConfig {
                num_row: 1_000_000_000,
                ..base.clone()
            },
            4096,
        );
        assert!(
            err.contains("more than the 8.0 GiB available") && err.contains("num_row"),
            "{err}"
        );
        let err = huge(
            QnnConfig {
                embedding_dim: 100_000_000,
                ..base.clone()
            },
            4096,
        );
        assert!(err.contains("embedding_dim"), "{err}");
        let err = huge(
            QnnConfig {
                num_layers: 100_000_000,
                ..base.clone()
            },
            4096,
        );
        assert!(err.contains("num_layers"), "{err}");
        let err = huge(base.clone(), 1 << 40);
        assert!(err.contains("batch_size"), "{err}");
        let err = huge(
            QnnConfig {
                embedding_dim: usize::MAX / 2,
                num_row: usize::MAX / 2,
                ..base
            },
            4096,
        );
        assert!(err.contains("overflow"), "{err}");
    }
}
