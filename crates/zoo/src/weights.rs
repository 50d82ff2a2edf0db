//! Where a model's weights come from when it is built, and how they leave it.
//!
//! Every weight is named as in FuxiCTR's PyTorch `state_dict` and laid out as PyTorch lays it
//! out (a `Linear` weight is [out, in]), so that a FuxiCTR checkpoint's tensors, the golden files
//! and QNN Lab's model file all speak one language. Building a model asks a [`WeightSource`] for
//! each tensor in `state_dict` order: [`FromStore`] reads named values, [`FreshInit`] draws
//! FuxiCTR's initialisation (baselines spec §1.8).

use std::collections::{HashMap, HashSet};

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use qnn_model::budget::{TRAINING_BYTES_PER_PARAMETER, gib};
use qnn_model::params::transpose;
use qnn_model::{HostTensor, ModelError, ParamRef, ParamStore};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// FuxiCTR's `embedding_initializer` default: `normal_(std=1e-4)`.
pub const EMBEDDING_INIT_STD: f64 = 1e-4;

/// How FuxiCTR initialises a tensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// An embedding table [V, d]: row 0 (padding) zero, the rest N(0, 1e-4²).
    EmbeddingTable,
    /// Xavier-normal with these fans (every `nn.Linear` weight, and FinalMLP's `w_xy`).
    XavierNormal {
        fan_in: usize,
        fan_out: usize,
    },
    Zeros,
    Ones,
}

/// Gives each tensor of a model being built, by its PyTorch name and shape.
pub trait WeightSource {
    fn take(&mut self, name: &str, shape: &[usize], init: Init) -> Result<Vec<f32>, ModelError>;
}

/// Named values, e.g. read from a model file or a golden case. Every tensor must be present
/// with exactly the asked shape (checked before anything is allocated).
#[derive(Debug)]
pub struct FromStore<'a> {
    store: &'a ParamStore,
    taken: HashSet<String>,
}

impl<'a> FromStore<'a> {
    pub fn new(store: &'a ParamStore) -> Self {
        Self {
            store,
            taken: HashSet::new(),
        }
    }

    /// A tensor of the store the model did not ask for, if any (a file of another network).
    pub fn unused(&self) -> Option<&str> {
        self.store
            .tensors
            .keys()
            .find(|k| !self.taken.contains(*k))
            .map(String::as_str)
    }
}

impl WeightSource for FromStore<'_> {
    fn take(&mut self, name: &str, shape: &[usize], _init: Init) -> Result<Vec<f32>, ModelError> {
        self.taken.insert(name.to_owned());
        let tensor = self
            .store
            .tensors
            .get(name)
            .ok_or_else(|| ModelError::Weights(format!("no tensor `{name}`")))?;
        if tensor.shape != shape {
            return Err(ModelError::Weights(format!(
                "`{name}` has shape {:?}, the model needs {shape:?}",
                tensor.shape
            )));
        }
        Ok(tensor.values.clone())
    }
}

/// FuxiCTR's initialisation, drawn from one seeded stream in `state_dict` order (so a model is
/// the same on every backend and every run with the same seed).
#[derive(Debug)]
pub struct FreshInit(ChaCha8Rng);

impl FreshInit {
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    fn normal(&mut self, std: f64, n: usize) -> Vec<f32> {
        let dist = Normal::new(0.0, std).expect("finite positive std");
        (0..n).map(|_| dist.sample(&mut self.0) as f32).collect()
    }
}

impl WeightSource for FreshInit {
    fn take(&mut self, _name: &str, shape: &[usize], init: Init) -> Result<Vec<f32>, ModelError> {
        let n = shape.iter().product();
        Ok(match init {
            Init::EmbeddingTable => {
                let width = shape.get(1).copied().unwrap_or(1);
                let mut values = self.normal(EMBEDDING_INIT_STD, n);
                values[..width.min(n)].fill(0.0);
                values
            }
            Init::XavierNormal { fan_in, fan_out } => {
                self.normal((2.0 / (fan_in + fan_out) as f64).sqrt(), n)
            }
            Init::Zeros => vec![0.0; n],
            Init::Ones => vec![1.0; n],
        })
    }
}

/// A source that refuses, before the tensor is drawn or allocated, the first tensor that takes
/// the network's training memory (values, gradients, Adam's moments) past `available` bytes.
/// Configs are written by anyone: a `hidden_units: [10000000]` must be one error line, not an
/// allocation that aborts the process or the tab.
#[derive(Debug)]
pub struct Budgeted<S> {
    inner: S,
    values: u64,
    available: Option<u64>,
}

impl<S: WeightSource> Budgeted<S> {
    pub fn new(inner: S, available: Option<u64>) -> Self {
        Self {
            inner,
            values: 0,
            available,
        }
    }
}

impl<S: WeightSource> WeightSource for Budgeted<S> {
    fn take(&mut self, name: &str, shape: &[usize], init: Init) -> Result<Vec<f32>, ModelError> {
        let too_large = || {
            ModelError::TooLarge(format!(
                "the network needs more memory to train than this machine has{} (its tensor \
                 `{name}` alone is {shape:?}): lower embedding_dim or the hidden units",
                self.available
                    .map(|a| format!(" ({} available)", gib(a)))
                    .unwrap_or_default()
            ))
        };
        let n = shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
            .ok_or_else(too_large)?;
        self.values = self.values.checked_add(n).ok_or_else(too_large)?;
        let bytes = self
            .values
            .checked_mul(TRAINING_BYTES_PER_PARAMETER)
            .ok_or_else(too_large)?;
        if self.available.is_some_and(|a| bytes > a) || usize::try_from(n).is_err() {
            return Err(too_large());
        }
        self.inner.take(name, shape, init)
    }
}

pub(crate) fn tensor1(values: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

pub(crate) fn tensor2(values: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// FuxiCTR 2.0.1's two regularizer groups (baselines spec §1.7): a parameter whose name
/// contains `embedding_layer` is in the embedding group, every other one in the net group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegGroup {
    Embedding,
    Net,
}

/// How a PyTorch tensor sits in one of our parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostLayout {
    /// The same values in the same order.
    Same,
    /// Our [in, out] is PyTorch's [out, in].
    Transposed { rows: usize, cols: usize },
    /// Rows `start .. start + rows` of our shared table (one field's table), `width` wide.
    TableRows {
        start: usize,
        rows: usize,
        width: usize,
    },
}

/// One PyTorch tensor: its name and shape, the parameter holding it and where.
#[derive(Debug, Clone)]
pub struct NamedParam<'a> {
    pub name: String,
    pub shape: Vec<usize>,
    pub param: ParamRef<'a>,
    pub layout: HostLayout,
}

impl NamedParam<'_> {
    pub fn group(&self) -> RegGroup {
        if self.name.contains("embedding_layer") {
            RegGroup::Embedding
        } else {
            RegGroup::Net
        }
    }
}

pub(crate) fn named<'a>(
    name: String,
    shape: Vec<usize>,
    param: ParamRef<'a>,
    layout: HostLayout,
) -> NamedParam<'a> {
    NamedParam {
        name,
        shape,
        param,
        layout,
    }
}

pub(crate) fn param_id(p: &ParamRef<'_>) -> u64 {
    match p {
        ParamRef::Vector(p) => p.id.val(),
        ParamRef::Matrix(p) => p.id.val(),
    }
}

/// The PyTorch tensors of `params`, each parameter read once through `read` (its value, or its
/// gradient) in our layout. A parameter `read` has nothing for is left out.
pub fn export(
    params: &[NamedParam<'_>],
    read: impl Fn(&ParamRef<'_>) -> Option<Vec<f32>>,
) -> ParamStore {
    let mut cache: HashMap<u64, Option<Vec<f32>>> = HashMap::new();
    let mut store = ParamStore::default();
    for p in params {
        let values = cache
            .entry(param_id(&p.param))
            .or_insert_with(|| read(&p.param));
        let Some(values) = values else { continue };
        let host = match p.layout {
            HostLayout::Same => values.clone(),
            HostLayout::Transposed { rows, cols } => transpose(values, rows, cols),
            HostLayout::TableRows { start, rows, width } => {
                values[start * width..(start + rows) * width].to_vec()
            }
        };
        store.tensors.insert(
            p.name.clone(),
            HostTensor {
                shape: p.shape.clone(),
                values: host,
            },
        );
    }
    store
}

/// The value of a parameter in our layout, row-major.
pub fn read_value(p: &ParamRef<'_>) -> Option<Vec<f32>> {
    let data = match p {
        ParamRef::Vector(p) => p.val().into_data(),
        ParamRef::Matrix(p) => p.val().into_data(),
    };
    data.convert::<f32>().try_into_vec::<f32>().ok()
}

/// The gradient of a parameter in our layout, if it took part in the loss.
pub fn read_grad(
    grads: &burn::tensor::Gradients,
) -> impl Fn(&ParamRef<'_>) -> Option<Vec<f32>> + '_ {
    move |p| {
        let data = match p {
            ParamRef::Vector(p) => p.val().grad(grads)?.into_data(),
            ParamRef::Matrix(p) => p.val().grad(grads)?.into_data(),
        };
        data.convert::<f32>().try_into_vec::<f32>().ok()
    }
}

pub(crate) fn param1(values: Vec<f32>, device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(tensor1(values, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_embedding_tables_keep_the_padding_row_zero() {
        let mut init = FreshInit::new(7);
        let table = init.take("t", &[4, 3], Init::EmbeddingTable).unwrap();
        assert_eq!(&table[..3], &[0.0; 3]);
        assert!(table[3..].iter().all(|v| *v != 0.0 && v.abs() < 1e-3));
    }

    #[test]
    fn a_store_must_hold_each_tensor_with_its_shape() {
        let mut store = ParamStore::default();
        store.insert("a", vec![2], vec![1.0, 2.0]);
        let mut source = FromStore::new(&store);
        assert_eq!(source.take("a", &[2], Init::Zeros).unwrap(), vec![1.0, 2.0]);
        let wrong = source.take("a", &[1, 2], Init::Zeros).unwrap_err();
        assert!(wrong.to_string().contains("`a` has shape [2]"), "{wrong}");
        let missing = source.take("b", &[1], Init::Zeros).unwrap_err();
        assert!(missing.to_string().contains("no tensor `b`"), "{missing}");
        store.insert("c", vec![1], vec![0.0]);
        let source = FromStore::new(&store);
        assert_eq!(source.unused(), Some("a"));
    }

    #[test]
    fn a_budget_refuses_the_tensor_that_would_not_fit_before_drawing_it() {
        let mut source = Budgeted::new(FreshInit::new(1), Some(16 * 100));
        assert_eq!(source.take("a", &[10, 5], Init::Zeros).unwrap().len(), 50);
        let err = source.take("b", &[10, 6], Init::Zeros).unwrap_err();
        assert!(matches!(err, ModelError::TooLarge(_)), "{err}");
        assert!(err.to_string().contains("`b`"), "{err}");
        let mut source = Budgeted::new(FreshInit::new(1), None);
        let err = source
            .take("huge", &[usize::MAX, 2], Init::Zeros)
            .unwrap_err();
        assert!(matches!(err, ModelError::TooLarge(_)), "{err}");
    }
}
