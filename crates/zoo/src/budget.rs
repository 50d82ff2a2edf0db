//! The memory one training step of a zoo network needs, checked before anything is allocated,
//! as `qnn_model::budget` does for QNN (a zoo network's parameters are counted as they are drawn,
//! `weights::Budgeted`). `hidden_units: [1000000]` is a few million parameters but, at batch
//! size 10000, tens of GiB of activations: an error naming the keys, not an abort.

use qnn_model::budget::{gib, sequence_bytes};
use qnn_model::{InputLayout, ModelError};

use crate::config::{Tower, ZooConfig};

/// f32 values per hidden unit a step keeps: the linear output, the batch-normalised one, the
/// activation and the dropout output, each with its gradient.
const VALUES_PER_HIDDEN_UNIT: u64 = 8;

/// f32 values per embedding value: the value and its gradient, and once more for the
/// interaction that reads it (FM's square, a cross layer's product).
const VALUES_PER_EMBEDDING: u64 = 4;

/// Bytes one training step of `config` holds at `batch_size` rows; `None` when a size overflows
/// 64 bits.
pub fn step_bytes(config: &ZooConfig, layout: &InputLayout, batch_size: usize) -> Option<u64> {
    let n = |v: usize| u64::try_from(v).ok();
    let units = |t: &Tower| {
        t.hidden_units
            .iter()
            .try_fold(0u64, |sum, &u| sum.checked_add(n(u)?))
    };
    let (embedding_dim, extra) = match config {
        // LR's weights are one-wide embeddings.
        ZooConfig::LR => (1, 0),
        ZooConfig::FM { embedding_dim } => (*embedding_dim, 0),
        ZooConfig::DNN { embedding_dim, dnn } | ZooConfig::DeepFM { embedding_dim, dnn } => {
            (*embedding_dim, units(dnn)?)
        }
        ZooConfig::DCNv2(c) => {
            let d = n(layout.width(c.embedding_dim)?)?;
            let cross = d
                .checked_mul(n(c.num_cross_layers)?)?
                .checked_mul(VALUES_PER_EMBEDDING)?
                .checked_div(VALUES_PER_HIDDEN_UNIT)?;
            let towers = units(&c.stacked_dnn)?.checked_add(units(&c.parallel_dnn)?)?;
            (c.embedding_dim, cross.checked_add(towers)?)
        }
        ZooConfig::FinalMLP(c) => {
            // Two feature-selection gates, each an MLP to a gate as wide as the embeddings.
            let d = n(layout.width(c.embedding_dim)?)?;
            let gate = c
                .fs_hidden_units
                .iter()
                .try_fold(d, |sum, &u| sum.checked_add(n(u)?))?;
            let gates = if c.use_fs { gate.checked_mul(2)? } else { 0 };
            let towers = units(&c.mlp1)?.checked_add(units(&c.mlp2)?)?;
            (c.embedding_dim, gates.checked_add(towers)?)
        }
        ZooConfig::DualMLP {
            embedding_dim,
            mlp1,
            mlp2,
        } => (*embedding_dim, units(mlp1)?.checked_add(units(mlp2)?)?),
    };
    let d = match config {
        ZooConfig::LR => n(layout.num_fields())?,
        _ => n(layout.width(embedding_dim)?)?,
    };
    let per_row = d
        .checked_mul(VALUES_PER_EMBEDDING)?
        .checked_add(extra.checked_mul(VALUES_PER_HIDDEN_UNIT)?)?
        .checked_mul(4)?;
    n(batch_size)?
        .checked_mul(per_row)?
        .checked_add(sequence_bytes(layout, embedding_dim, batch_size)?)
}

/// Refuses a step that overflows or needs more than `available` bytes, naming the keys to lower.
pub fn check_step_fits(
    config: &ZooConfig,
    layout: &InputLayout,
    batch_size: usize,
    available: Option<u64>,
) -> Result<u64, ModelError> {
    let keys = "lower batch_size, embedding_dim or the hidden units";
    let bytes = step_bytes(config, layout, batch_size).ok_or_else(|| {
        ModelError::TooLarge(format!(
            "one training step of this {} overflows 64-bit sizes: {keys}",
            config.name()
        ))
    })?;
    match available {
        Some(available) if bytes > available => Err(ModelError::TooLarge(format!(
            "one training step of this {} at batch_size {batch_size} needs about {}, more than \
             the {} available: {keys}",
            config.name(),
            gib(bytes),
            gib(available)
        ))),
        _ => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::synthetic::SyntheticSpec;

    fn layout() -> InputLayout {
        InputLayout::new(&SyntheticSpec::frappe_shaped(1, 0).feature_map()).unwrap()
    }

    fn dnn(units: Vec<usize>) -> ZooConfig {
        ZooConfig::DNN {
            embedding_dim: 10,
            dnn: Tower::new(units),
        }
    }

    /// By hand: 10 fields × 10 wide, 4 values each, and 8 per hidden unit, as f32, per row.
    #[test]
    fn a_step_is_its_rows_times_their_values() {
        let per_row = (10 * 10 * 4 + (64 + 32) * 8) * 4;
        assert_eq!(layout().num_fields(), 10);
        assert_eq!(
            step_bytes(&dnn(vec![64, 32]), &layout(), 100),
            Some(100 * per_row)
        );
        assert!(check_step_fits(&dnn(vec![64, 32]), &layout(), 100, Some(1 << 20)).is_ok());
    }

    /// A million hidden units are few parameters but tens of GiB at batch 10000.
    #[test]
    fn wide_hidden_layers_at_a_large_batch_are_refused_with_the_keys() {
        let wide = dnn(vec![1_000_000]);
        let err = check_step_fits(&wide, &layout(), 10_000, Some(8 << 30)).unwrap_err();
        let text = err.to_string();
        // (10·10·4 + 10⁶·8) values × 4 bytes × 10⁴ rows = 320,016,000,000 bytes.
        assert!(
            text.contains("at batch_size 10000 needs about 298.0 GiB"),
            "{text}"
        );
        assert!(text.contains("lower batch_size, embedding_dim or the hidden units"));
        let huge = dnn(vec![usize::MAX / 2, usize::MAX / 2]);
        assert!(
            check_step_fits(&huge, &layout(), 10_000, None)
                .unwrap_err()
                .to_string()
                .contains("overflows")
        );
    }
}
