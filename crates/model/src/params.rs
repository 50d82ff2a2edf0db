//! Named parameter values on the host, in PyTorch's names and layouts.
//!
//! This is the one place where weights cross between the device and the outside world: the
//! initialiser, the model file and the golden tests all go through it.

use std::collections::BTreeMap;

use burn::tensor::{Device, Tensor, TensorData};
use qnn_data::random::{self, Purpose};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::embedding::{FeatureEmbedding, group_specs, group_tensor_name};
use crate::input::InputLayout;
use crate::qnn::Qnn;
use crate::{ModelError, QnnConfig};

/// Standard deviation of embedding rows at initialisation (FuxiCTR 2.0.1).
pub const EMBEDDING_INIT_STD: f64 = 1e-4;

/// A tensor's shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Parameters and buffers by name:
/// `embedding.table` [ΣV, E], `embedding.numeric` [F_num, E],
/// `layer.{i}.linear.0.weight` [D·R, D] (PyTorch's [out, in]), `layer.{i}.linear.0.bias`,
/// `layer.{i}.linear.1.{weight,bias,running_mean,running_var}` (batch norm), `fc.weight` [1, D],
/// `fc.bias` [1].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamStore {
    pub tensors: BTreeMap<String, HostTensor>,
}

fn xavier_normal(rng: &mut ChaCha8Rng, fan_in: usize, fan_out: usize, n: usize) -> Vec<f32> {
    let std = (2.0 / (fan_in + fan_out) as f64).sqrt();
    normal(rng, std, n)
}

fn normal(rng: &mut ChaCha8Rng, std: f64, n: usize) -> Vec<f32> {
    let dist = Normal::new(0.0, std).expect("finite positive std");
    (0..n).map(|_| dist.sample(rng) as f32).collect()
}

impl HostTensor {
    /// The values as little-endian f32 bytes (the layout of an F32 safetensors tensor).
    pub fn le_bytes(&self) -> Vec<u8> {
        self.values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// A tensor from little-endian f32 bytes (an F32 safetensors tensor's data).
    pub fn from_le_bytes(shape: Vec<usize>, bytes: &[u8]) -> Self {
        let values = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Self { shape, values }
    }
}

impl ParamStore {
    pub fn insert(&mut self, name: impl Into<String>, shape: Vec<usize>, values: Vec<f32>) {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        self.tensors
            .insert(name.into(), HostTensor { shape, values });
    }

    /// Name and shape of every tensor a model of this config and layout has.
    pub fn shapes(config: &QnnConfig, layout: &InputLayout) -> BTreeMap<String, Vec<usize>> {
        // Callers check the sizes first (`layer_view`, the memory estimate).
        let d = layout.width(config.embedding_dim).unwrap_or(0);
        let dr = d * config.num_row;
        let mut shapes = BTreeMap::new();
        for group in group_specs(layout, config.embedding_dim) {
            if let Some(name) = group.table {
                shapes.insert(name, vec![group.subset.table_rows, group.dim]);
            }
            if let Some(name) = group.numeric {
                shapes.insert(name, vec![group.subset.numeric.len(), group.dim]);
            }
        }
        for i in 0..config.num_layers {
            let p = |name: &str| format!("layer.{i}.linear.{name}");
            shapes.insert(p("0.weight"), vec![dr, d]);
            shapes.insert(p("0.bias"), vec![dr]);
            if config.batch_norm {
                for name in ["1.weight", "1.bias", "1.running_mean", "1.running_var"] {
                    shapes.insert(p(name), vec![dr]);
                }
            }
        }
        shapes.insert("fc.weight".to_string(), vec![1, d]);
        shapes.insert("fc.bias".to_string(), vec![1]);
        shapes
    }

    /// FuxiCTR 2.0.1's initialisation (spec §A.6) from a seeded host RNG, so that the same seed
    /// gives the same weights natively and in the browser.
    pub fn init(config: &QnnConfig, layout: &InputLayout, seed: u64) -> Self {
        let mut rng = random::stream(seed, Purpose::Init);
        let groups = group_specs(layout, config.embedding_dim);
        let mut store = ParamStore::default();
        for (name, shape) in Self::shapes(config, layout) {
            let n = shape.iter().product();
            let table_of = groups.iter().find(|g| g.table.as_ref() == Some(&name));
            let numeric_of = groups.iter().find(|g| g.numeric.as_ref() == Some(&name));
            let values = if let Some(group) = table_of {
                let e = group.dim;
                let mut table = normal(&mut rng, EMBEDDING_INIT_STD, n);
                for &row in &group.subset.padding_rows {
                    table[row * e..(row + 1) * e].fill(0.0);
                }
                table
            } else if let Some(group) = numeric_of {
                // Linear(1, E, bias=False) per numeric field: Xavier with fan_in 1, fan_out E.
                xavier_normal(&mut rng, 1, group.dim, n)
            } else if name.ends_with("linear.0.weight") || name == "fc.weight" {
                // Linear weights in PyTorch's [out, in] layout.
                xavier_normal(&mut rng, shape[1], shape[0], n)
            } else if name.ends_with("1.weight") || name.ends_with("running_var") {
                vec![1.0; n]
            } else {
                vec![0.0; n]
            };
            store.insert(name, shape, values);
        }
        store
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<&HostTensor, ModelError> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| ModelError::Weights(format!("missing tensor `{name}`")))?;
        if t.shape != shape {
            return Err(ModelError::Weights(format!(
                "tensor `{name}` has shape {:?}, the model expects {shape:?}",
                t.shape
            )));
        }
        if let Some(i) = t.values.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::Weights(format!(
                "tensor `{name}` holds a non-finite value at index {i}"
            )));
        }
        Ok(t)
    }

    pub fn tensor1(&self, name: &str, n: usize, device: &Device) -> Result<Tensor<1>, ModelError> {
        let t = self.get(name, &[n])?;
        Ok(Tensor::from_data(
            TensorData::new(t.values.clone(), [n]),
            device,
        ))
    }

    pub fn tensor2(
        &self,
        name: &str,
        shape: [usize; 2],
        device: &Device,
    ) -> Result<Tensor<2>, ModelError> {
        let t = self.get(name, &shape)?;
        Ok(Tensor::from_data(
            TensorData::new(t.values.clone(), shape),
            device,
        ))
    }

    /// A stored [rows, cols] matrix as the model's [cols, rows] (PyTorch Linear → `x·W`).
    pub fn tensor2_transposed(
        &self,
        name: &str,
        shape: [usize; 2],
        device: &Device,
    ) -> Result<Tensor<2>, ModelError> {
        let t = self.get(name, &shape)?;
        let [rows, cols] = shape;
        Ok(Tensor::from_data(
            TensorData::new(transpose(&t.values, rows, cols), [cols, rows]),
            device,
        ))
    }

    /// Total number of values (FuxiCTR's parameter count plus BN running buffers).
    pub fn num_values(&self) -> usize {
        self.tensors.values().map(|t| t.values.len()).sum()
    }
}

/// The store names of each group's table and numeric weights (as [`group_specs`] gives them).
fn group_names(embedding: &FeatureEmbedding) -> Vec<(String, String)> {
    let several = embedding.groups.len() > 1;
    embedding
        .groups
        .iter()
        .map(|g| {
            let name = |base| group_tensor_name(base, g.dim, several);
            (name("embedding.table"), name("embedding.numeric"))
        })
        .collect()
}

/// Row-major [rows, cols] → [cols, rows].
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// A float tensor's values on the host, row-major. Awaits the device (never blocks), so it is
/// the one way tensors are read in code that also runs in the browser.
pub async fn read_values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    let data = t
        .into_data_async()
        .await
        .map_err(|e| ModelError::Device(format!("{e:?}")))?;
    data.try_to_vec::<f32>()
        .map_err(|e| ModelError::Device(format!("{e:?}")))
}

pub(crate) async fn read<const D: usize>(t: Tensor<D>) -> Result<HostTensor, ModelError> {
    let shape = t.dims().to_vec();
    Ok(HostTensor {
        shape,
        values: read_values(t).await?,
    })
}

pub(crate) async fn read_transposed(t: Tensor<2>) -> Result<HostTensor, ModelError> {
    let HostTensor { shape, values } = read(t).await?;
    Ok(HostTensor {
        values: transpose(&values, shape[0], shape[1]),
        shape: vec![shape[1], shape[0]],
    })
}

impl Qnn {
    /// Reads every parameter and buffer back to the host (asynchronously: the browser cannot
    /// block on device reads).
    pub async fn to_store(&self) -> Result<ParamStore, ModelError> {
        let mut store = ParamStore::default();
        let mut put = |name: String, t: HostTensor| {
            store.tensors.insert(name, t);
        };
        let layout_names = group_names(&self.embedding);
        for (group, (table_name, numeric_name)) in self.embedding.groups.iter().zip(layout_names) {
            if let Some(t) = &group.table {
                put(table_name, read(t.val()).await?);
            }
            if let Some(w) = &group.numeric {
                put(numeric_name, read(w.val()).await?);
            }
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let p = |name: &str| format!("layer.{i}.linear.{name}");
            put(p("0.weight"), read_transposed(layer.weight.val()).await?);
            put(p("0.bias"), read(layer.bias.val()).await?);
            if let Some(bn) = &layer.batch_norm {
                put(p("1.weight"), read(bn.gamma.val()).await?);
                put(p("1.bias"), read(bn.beta.val()).await?);
                put(
                    p("1.running_mean"),
                    read(bn.running_mean.value_sync()).await?,
                );
                put(p("1.running_var"), read(bn.running_var.value_sync()).await?);
            }
        }
        put(
            "fc.weight".into(),
            read_transposed(self.fc_weight.val()).await?,
        );
        put("fc.bias".into(), read(self.fc_bias.val()).await?);
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qnn::layer_view;
    use burn::tensor::Device;
    use qnn_data::synthetic::SyntheticSpec;

    #[test]
    fn parameter_count_matches_fuxictr_for_frappe() {
        // Spec §A.7: Frappe (ΣV=5383, D=160, L=2, R=13, BN) has 764,369 trainable parameters;
        // the store also holds the two BN running buffers per layer (2·2·2080).
        let map = SyntheticSpec::frappe_shaped(1, 0).feature_map();
        let layout = InputLayout::new(&map).unwrap();
        let store = ParamStore::init(&QnnConfig::paper_frappe(), &layout, 0);
        let buffers = 2 * 2 * 160 * 13;
        assert_eq!(store.num_values() - buffers, 764_369);
        // Padding rows start at zero.
        let table = &store.tensors["embedding.table"];
        assert!(table.values[..16].iter().all(|&v| v == 0.0));
        assert!(table.values[16..32].iter().any(|&v| v != 0.0));
    }

    #[test]
    fn same_seed_same_weights() {
        let map = SyntheticSpec::planted(1, 0).feature_map();
        let layout = InputLayout::new(&map).unwrap();
        let c = QnnConfig::paper_frappe();
        assert_eq!(
            ParamStore::init(&c, &layout, 5),
            ParamStore::init(&c, &layout, 5)
        );
        assert_ne!(
            ParamStore::init(&c, &layout, 5),
            ParamStore::init(&c, &layout, 6)
        );
    }

    #[test]
    fn fields_of_their_own_widths_count_and_view_as_fuxictr_does() {
        let mut map = SyntheticSpec::planted(1, 0).feature_map(); // six fields of 10 rows
        for (f, width) in [(0, 4), (2, 4), (4, 12)] {
            map.features[f].embedding_dim = Some(width);
        }
        let layout = InputLayout::new(&map).unwrap();
        let config = QnnConfig {
            embedding_dim: 8,
            num_layers: 2,
            num_row: 3,
            num_heads: 1,
            batch_norm: true,
            net_dropout: 0.1,
        };
        // D = 4 + 8 + 4 + 8 + 12 + 8 = 44: one head reads x₀ as it is.
        assert_eq!(layer_view(&config, &layout).unwrap(), (1, 44));
        let store = ParamStore::init(&config, &layout, 0);
        // Spec §A.7 with per-field widths: Σ V_f·E_f + L·(D·DR + DR + 2·DR) + D + 1.
        let (d, dr) = (44, 44 * 3);
        let want = 10 * 44 + 2 * (d * dr + 3 * dr) + d + 1;
        let buffers = 2 * 2 * dr;
        assert_eq!(store.num_values() - buffers, want);
        assert_eq!(store.tensors["embedding.table.4"].shape, [20, 4]);
        assert_eq!(store.tensors["embedding.table.12"].shape, [10, 12]);
        assert_eq!(store.tensors["embedding.table.8"].shape, [30, 8]);
        assert!(!store.tensors.contains_key("embedding.table"));
        // Each table's padding rows start at zero.
        let table = &store.tensors["embedding.table.4"];
        assert!(table.values[..4].iter().all(|&v| v == 0.0));
        assert!(table.values[40..44].iter().all(|&v| v == 0.0));
        assert!(table.values[4..8].iter().any(|&v| v != 0.0));
        let model = Qnn::init(&config, &layout, 0, &Device::flex()).unwrap();
        assert_eq!(model.num_parameters(), want);
        assert_eq!(pollster::block_on(model.to_store()).unwrap(), store);

        // Several heads: the layers view x₀ as F blocks of D / F columns, as the original's
        // `x.view(-1, num_fields, input_dim // num_fields)` does; F must divide D and H the
        // block width.
        let two_heads = QnnConfig {
            num_heads: 2,
            ..config
        };
        let err = layer_view(&two_heads, &layout).unwrap_err().to_string();
        assert!(err.contains("num_heads") && err.contains("44"), "{err}");
        map.features[4].embedding_dim = Some(4); // D = 36 = 6 blocks of 6
        let layout = InputLayout::new(&map).unwrap();
        assert_eq!(layout.width(8), Some(36));
        assert_eq!(layer_view(&two_heads, &layout).unwrap(), (6, 6));
        let four_heads = QnnConfig {
            num_heads: 4,
            ..config
        };
        let err = layer_view(&four_heads, &layout).unwrap_err().to_string();
        assert!(
            err.contains("4 does not divide") && err.contains("6"),
            "{err}"
        );
    }
}
