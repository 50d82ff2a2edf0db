//! Hyper-parameters of the QNN network (spec §A.1, FuxiCTR's `model_config.yaml` keys).

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Model names accepted in configs: the authors' and FuxiCTR's spellings of the same network.
pub const MODEL_NAMES: [&str; 3] = ["QNN", "QNN_T26", "QNN_alpha"];

/// Shape and regularisation-free hyper-parameters of one QNN (QNN_T26 / QNN-α).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QnnConfig {
    /// E: width of every field's embedding.
    pub embedding_dim: usize,
    /// L: number of quadratic layers.
    pub num_layers: usize,
    /// R (the paper's M): rows of the Khatri-Rao product per output.
    pub num_row: usize,
    /// H: heads; must divide `embedding_dim`.
    pub num_heads: usize,
    pub batch_norm: bool,
    /// p: rate of both dropouts.
    pub net_dropout: f64,
}

impl Default for QnnConfig {
    /// The defaults of the seed's model-configuration table (`model_config.yaml`): what a key
    /// left out of a config means.
    fn default() -> Self {
        use qnn_keys::{BATCH_NORM, EMBEDDING_DIM, NET_DROPOUT, NUM_HEADS, NUM_LAYERS, NUM_ROW};
        Self {
            embedding_dim: EMBEDDING_DIM.default.count(),
            num_layers: NUM_LAYERS.default.count(),
            num_row: NUM_ROW.default.count(),
            num_heads: NUM_HEADS.default.count(),
            batch_norm: BATCH_NORM.default.flag(),
            net_dropout: NET_DROPOUT.default.number(),
        }
    }
}

impl QnnConfig {
    /// The paper's Frappe setting (spec §B.1).
    pub fn paper_frappe() -> Self {
        Self {
            embedding_dim: 16,
            num_layers: 2,
            num_row: 13,
            num_heads: 1,
            batch_norm: true,
            net_dropout: 0.1,
        }
    }

    /// The browser's quick-demo preset: small enough to learn the planted example in seconds.
    pub fn quick_demo() -> Self {
        Self {
            embedding_dim: 8,
            num_layers: 2,
            num_row: 4,
            num_heads: 1,
            batch_norm: true,
            net_dropout: 0.1,
        }
    }
}

impl QnnConfig {
    /// Checks the constraints of spec §A.1; errors name the offending key.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |key: &'static str, reason: String| Err(ModelError::Config { key, reason });
        if self.embedding_dim == 0 {
            return bad("embedding_dim", "must be at least 1".into());
        }
        if self.num_row == 0 {
            return bad("num_row", "must be at least 1".into());
        }
        if self.num_heads == 0 || !self.embedding_dim.is_multiple_of(self.num_heads) {
            return bad(
                "num_heads",
                format!(
                    "{} does not divide embedding_dim {}",
                    self.num_heads, self.embedding_dim
                ),
            );
        }
        if !(0.0..1.0).contains(&self.net_dropout) {
            return bad(
                "net_dropout",
                format!("{} is outside [0, 1)", self.net_dropout),
            );
        }
        Ok(())
    }

    /// s = E / H: sub-embedding width per field and head.
    pub fn head_slice(&self) -> usize {
        self.embedding_dim / self.num_heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_must_divide_the_embedding() {
        let c = QnnConfig {
            num_heads: 3,
            ..QnnConfig::paper_frappe()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("num_heads"), "{err}");
        assert!(QnnConfig::paper_frappe().validate().is_ok());
        let c = QnnConfig {
            net_dropout: 1.0,
            ..QnnConfig::paper_frappe()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("net_dropout")
        );
    }
}
