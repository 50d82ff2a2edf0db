//! Every key, once. Model and training keys first (the seed's `model_config.yaml` table, then
//! QNN Lab's own and the model zoo's), then the dataset keys, then FuxiCTR's runtime keys.

use crate::{Effect, Interval, Key, Kind, MAX_SIZE, Readers, SeedDefault};

/// A size: a width, depth or count of at least `min`.
const fn size(min: usize) -> Kind {
    Kind::Count { min, max: MAX_SIZE }
}

const fn read(
    name: &'static str,
    kind: Kind,
    default: SeedDefault,
    readers: Readers,
    help: &'static str,
) -> Key {
    Key {
        name,
        kind,
        default,
        help,
        url: None,
        readers,
        effect: Effect::Read,
    }
}

/// A key the page shows, with its short name in the shareable link.
const fn shown(key: Key, url: &'static str) -> Key {
    Key {
        url: Some(url),
        ..key
    }
}

const fn network(
    name: &'static str,
    kind: Kind,
    readers: &'static [&'static str],
    help: &'static str,
) -> Key {
    read(
        name,
        kind,
        SeedDefault::OfNetwork,
        Readers::Networks(readers),
        help,
    )
}

const fn dataset(name: &'static str, kind: Kind, default: SeedDefault, help: &'static str) -> Key {
    read(name, kind, default, Readers::Dataset, help)
}

const fn other(name: &'static str, effect: Effect, help: &'static str) -> Key {
    Key {
        name,
        kind: Kind::Text,
        default: SeedDefault::Null,
        help,
        url: None,
        readers: Readers::Training,
        effect,
    }
}

use Readers::Training;
use SeedDefault as D;

// Which networks read a key.
const QNN: &[&str] = &["QNN"];
const EMBEDDING_NETWORKS: &[&str] = &["QNN", "FM", "DNN", "DeepFM", "DCNv2", "FinalMLP", "DualMLP"];
const REGULARIZED_NETWORKS: &[&str] = &["QNN", "DNN", "DeepFM", "DCNv2", "FinalMLP", "DualMLP"];
const DROPOUT_NETWORKS: &[&str] = &["QNN", "DNN", "DeepFM", "DCNv2"];
const DNN: &[&str] = &["DNN", "DeepFM"];
const DCN: &[&str] = &["DCNv2"];
const TOWERS: &[&str] = &["FinalMLP", "DualMLP"];
const FINAL_MLP: &[&str] = &["FinalMLP"];

pub const MODEL: Key = shown(
    read(
        "model",
        Kind::Text,
        D::Text("FinalMLP"),
        Training,
        "the network: QNN, or LR, FM, DNN, DeepFM, DCNv2, FinalMLP, DualMLP from FuxiCTR's model zoo",
    ),
    "m",
);
pub const MODEL_ID: Key = read(
    "model_id",
    Kind::Text,
    D::Null,
    Training,
    "the name of the run's files (the experiment id when missing)",
);
pub const DATASET_ID: Key = read(
    "dataset_id",
    Kind::Text,
    D::Text("TBD"),
    Training,
    "the dataset_config.yaml block the experiment trains on",
);
pub const LOSS: Key = read(
    "loss",
    Kind::Choice(&[
        "binary_crossentropy",
        "bce",
        "binary_cross_entropy",
        "mse_loss",
    ]),
    D::Text("binary_crossentropy"),
    Training,
    "loss function: binary_crossentropy for clicks, mse_loss for regression",
);
pub const METRICS: Key = read(
    "metrics",
    Kind::Metrics,
    D::Texts(&["logloss", "AUC"]),
    Training,
    "metrics reported at each evaluation (logloss, AUC, gAUC, avgAUC; MSE, RMSE, MAE)",
);
pub const TASK: Key = shown(
    read(
        "task",
        Kind::Choice(&["binary_classification", "regression"]),
        D::Text("binary_classification"),
        Training,
        "binary_classification (0/1 labels, a sigmoid output) or regression (any number, the output as it is)",
    ),
    "task",
);
pub const OPTIMIZER: Key = read(
    "optimizer",
    Kind::Choice(&["adam", "Adam"]),
    D::Text("adam"),
    Training,
    "the optimizer (Adam, as in the paper)",
);
pub const LEARNING_RATE: Key = shown(
    read(
        "learning_rate",
        Kind::Number(Interval::POSITIVE),
        D::Number(1.0e-3),
        Training,
        "Adam's step size; divided by 10 whenever validation stops improving",
    ),
    "lr",
);
pub const EMBEDDING_REGULARIZER: Key = shown(
    read(
        "embedding_regularizer",
        Kind::Regularizer,
        D::Number(0.0),
        Readers::Networks(REGULARIZED_NETWORKS),
        "L2 weight on the embedding tables (FuxiCTR's convention, 0 for none), or l1(..), l1_l2(..)",
    ),
    "er",
);
pub const NET_REGULARIZER: Key = shown(
    read(
        "net_regularizer",
        Kind::Regularizer,
        D::Number(0.0),
        Readers::Networks(REGULARIZED_NETWORKS),
        "L2 weight on the layers' weights and biases (0 for none), or l1(..), l1_l2(..)",
    ),
    "nr",
);
pub const BATCH_SIZE: Key = shown(
    read(
        "batch_size",
        size(1),
        D::Count(10_000),
        Training,
        "rows per training step",
    ),
    "bs",
);
pub const EMBEDDING_DIM: Key = shown(
    read(
        "embedding_dim",
        size(1),
        D::Count(32),
        Readers::Networks(EMBEDDING_NETWORKS),
        "width of each field's embedding vector; the layers work on F·E numbers",
    ),
    "E",
);
pub const NUM_LAYERS: Key = shown(
    read(
        "num_layers",
        size(0),
        D::Count(3),
        Readers::Networks(QNN),
        "quadratic layers stacked; each multiplies its input by a learned mix of it",
    ),
    "L",
);
pub const NUM_ROW: Key = shown(
    read(
        "num_row",
        size(1),
        D::Count(3),
        Readers::Networks(QNN),
        "rank of each Khatri-Rao product (the paper's M): ReLU units summed per output position",
    ),
    "R",
);
pub const NET_DROPOUT: Key = shown(
    read(
        "net_dropout",
        Kind::Number(Interval::RATE),
        D::Number(0.0),
        Readers::Networks(DROPOUT_NETWORKS),
        "dropout rate: of both of QNN's dropouts (the Self-Ensemble loss compares two dropout passes), or of every hidden layer of a baseline's MLPs",
    ),
    "p",
);
pub const BATCH_NORM: Key = shown(
    read(
        "batch_norm",
        Kind::Flag,
        D::Flag(false),
        Readers::Networks(DROPOUT_NETWORKS),
        "normalise each layer's linear part over the batch before the activation",
    ),
    "bn",
);
pub const NUM_HEADS: Key = shown(
    read(
        "num_heads",
        size(1),
        D::Count(1),
        Readers::Networks(&["QNN", "FinalMLP"]),
        "heads: QNN splits the embedding into H slices that interact separately (H must divide E); FinalMLP's fusion heads",
    ),
    "H",
);
pub const EPOCHS: Key = shown(
    read(
        "epochs",
        size(1),
        D::Count(100),
        Training,
        "upper bound on passes over the training rows (early stopping may end sooner)",
    ),
    "ep",
);
pub const SHUFFLE: Key = shown(
    read(
        "shuffle",
        Kind::Flag,
        D::Flag(true),
        Training,
        "shuffle the training rows every epoch",
    ),
    "sh",
);
pub const SEED: Key = shown(
    read(
        "seed",
        Kind::Seed,
        D::Count(2021),
        Training,
        "one seed for the split, initialisation, shuffling and dropout: same seed, same run",
    ),
    "seed",
);
pub const MONITOR: Key = read(
    "monitor",
    Kind::Monitor,
    D::Text("AUC"),
    Training,
    "what early stopping watches: a metric, or weights such as {AUC: 2, logloss: -1}",
);
pub const MONITOR_MODE: Key = read(
    "monitor_mode",
    Kind::Choice(&["max", "min"]),
    D::Text("max"),
    Training,
    "max: higher is better; min: lower is better",
);
pub const MODEL_ROOT: Key = read(
    "model_root",
    Kind::Text,
    D::Text("./checkpoints/"),
    Training,
    "the directory of model files and run logs",
);
pub const EARLY_STOP_PATIENCE: Key = shown(
    read(
        "early_stop_patience",
        size(1),
        D::Count(2),
        Training,
        "evaluations without improvement before training stops",
    ),
    "pat",
);
pub const SAVE_BEST_ONLY: Key = read(
    "save_best_only",
    Kind::Flag,
    D::Flag(true),
    Training,
    "keep only the best model file (else one per evaluation as well)",
);
pub const EVAL_STEPS: Key = read(
    "eval_steps",
    size(1),
    D::Null,
    Training,
    "evaluate every this many steps (null: once per epoch)",
);
pub const MAX_GRADIENT_NORM: Key = read(
    "max_gradient_norm",
    Kind::Number(Interval::POSITIVE),
    D::Number(10.0),
    Training,
    "gradients are clipped to this norm (FuxiCTR's default; not in the seed's table)",
);
pub const REDUCE_LR_ON_PLATEAU: Key = read(
    "reduce_lr_on_plateau",
    Kind::Flag,
    D::Flag(true),
    Training,
    "divide the learning rate by 10 when validation stops improving (FuxiCTR's default)",
);
pub const SELF_ENSEMBLE: Key = shown(
    read(
        "self_ensemble",
        Kind::Flag,
        D::Flag(true),
        Readers::Networks(QNN),
        "train on two dropout passes that teach each other (QNN's loss); off: one pass and plain cross-entropy, the paper's ablation",
    ),
    "se",
);
pub const GROUP_ID: Key = read(
    "group_id",
    Kind::Text,
    D::Null,
    Training,
    "a meta or categorical column whose values group the rows for gAUC and avgAUC",
);

// The model zoo's keys (FuxiCTR 2.0.1's names; baselines spec §8).
pub const REGULARIZER: Key = read(
    "regularizer",
    Kind::Regularizer,
    D::Number(0.0),
    Readers::Networks(&["LR", "FM"]),
    "LR's and FM's one regularizer, on every weight",
);
pub const HIDDEN_UNITS: Key = network(
    "hidden_units",
    Kind::Counts,
    DNN,
    "widths of the MLP's hidden layers",
);
pub const HIDDEN_ACTIVATIONS: Key = network(
    "hidden_activations",
    Kind::Names,
    DNN,
    "the hidden layers' activation (relu, ...), one or one per layer",
);
pub const MODEL_STRUCTURE: Key = network(
    "model_structure",
    Kind::Choice(&["crossnet_only", "stacked", "parallel", "stacked_parallel"]),
    DCN,
    "how DCNv2 combines its cross network with its MLPs",
);
pub const USE_LOW_RANK_MIXTURE: Key = network(
    "use_low_rank_mixture",
    Kind::Flag,
    DCN,
    "cross layers as a mixture of low-rank experts (DCN-Mix; QNN Lab has only False)",
);
pub const LOW_RANK: Key = network(
    "low_rank",
    size(1),
    DCN,
    "rank of each expert of the low-rank mixture (accepted, unused: QNN Lab has no mixture)",
);
pub const NUM_EXPERTS: Key = network(
    "num_experts",
    size(1),
    DCN,
    "experts of the low-rank mixture (accepted, unused: QNN Lab has no mixture)",
);
pub const STACKED_DNN_HIDDEN_UNITS: Key = network(
    "stacked_dnn_hidden_units",
    Kind::Counts,
    DCN,
    "widths of the MLP after the cross network (stacked structures)",
);
pub const PARALLEL_DNN_HIDDEN_UNITS: Key = network(
    "parallel_dnn_hidden_units",
    Kind::Counts,
    DCN,
    "widths of the MLP beside the cross network (parallel structures)",
);
pub const DNN_ACTIVATIONS: Key = network(
    "dnn_activations",
    Kind::Names,
    DCN,
    "the MLPs' activation, one or one per layer",
);
pub const NUM_CROSS_LAYERS: Key = network(
    "num_cross_layers",
    size(0),
    DCN,
    "cross layers of DCNv2's cross network",
);
pub const MLP1_HIDDEN_UNITS: Key = network(
    "mlp1_hidden_units",
    Kind::Counts,
    TOWERS,
    "widths of the first tower's hidden layers",
);
pub const MLP1_HIDDEN_ACTIVATIONS: Key = network(
    "mlp1_hidden_activations",
    Kind::Names,
    TOWERS,
    "the first tower's activation, one or one per layer",
);
pub const MLP1_DROPOUT: Key = network(
    "mlp1_dropout",
    Kind::Number(Interval::RATE),
    TOWERS,
    "dropout rate of the first tower's hidden layers",
);
pub const MLP1_BATCH_NORM: Key = network(
    "mlp1_batch_norm",
    Kind::Flag,
    TOWERS,
    "batch norm in the first tower",
);
pub const MLP2_HIDDEN_UNITS: Key = network(
    "mlp2_hidden_units",
    Kind::Counts,
    TOWERS,
    "widths of the second tower's hidden layers",
);
pub const MLP2_HIDDEN_ACTIVATIONS: Key = network(
    "mlp2_hidden_activations",
    Kind::Names,
    TOWERS,
    "the second tower's activation, one or one per layer",
);
pub const MLP2_DROPOUT: Key = network(
    "mlp2_dropout",
    Kind::Number(Interval::RATE),
    TOWERS,
    "dropout rate of the second tower's hidden layers",
);
pub const MLP2_BATCH_NORM: Key = network(
    "mlp2_batch_norm",
    Kind::Flag,
    TOWERS,
    "batch norm in the second tower",
);
pub const USE_FS: Key = network(
    "use_fs",
    Kind::Flag,
    FINAL_MLP,
    "feature selection: gate each tower's input by a learned function of a context",
);
pub const FS_HIDDEN_UNITS: Key = network(
    "fs_hidden_units",
    Kind::Counts,
    FINAL_MLP,
    "widths of the feature-selection gates' hidden layers",
);
pub const FS1_CONTEXT: Key = network(
    "fs1_context",
    Kind::Names,
    FINAL_MLP,
    "fields the first gate conditions on (none: a learned constant)",
);
pub const FS2_CONTEXT: Key = network(
    "fs2_context",
    Kind::Names,
    FINAL_MLP,
    "fields the second gate conditions on (none: a learned constant)",
);

// The seed's dataset_config.yaml table, and FuxiCTR's splitting keys.
pub const DATA_ROOT: Key = dataset(
    "data_root",
    Kind::Text,
    D::Required,
    "the directory data paths are relative to, and where the dataset cache is kept",
);
pub const DATA_FORMAT: Key = dataset(
    "data_format",
    Kind::Choice(&["csv", "parquet", "h5", "npz", "tfrecord"]),
    D::Text("csv"),
    "the files' format: raw rows (csv, parquet) or FuxiCTR's encoded tables",
);
pub const TRAIN_DATA: Key = dataset("train_data", Kind::Text, D::Null, "the training file");
pub const VALID_DATA: Key = dataset(
    "valid_data",
    Kind::Text,
    D::Null,
    "the validation file (none: carved off the training file by valid_size)",
);
pub const TEST_DATA: Key = dataset(
    "test_data",
    Kind::Text,
    D::Null,
    "the test file (none: carved off the training file by test_size, or no test)",
);
pub const MIN_CATEGR_COUNT: Key = dataset(
    "min_categr_count",
    size(1),
    D::Count(1),
    "categories seen fewer times in training share the out-of-vocabulary id",
);
pub const FEATURE_COLS: Key = dataset(
    "feature_cols",
    Kind::Structure,
    D::Required,
    "the feature columns: name, active, dtype, type (numeric, categorical, sequence, meta), ...",
);
pub const LABEL_COL: Key = dataset(
    "label_col",
    Kind::Structure,
    D::Required,
    "the label column: name and dtype",
);
pub const VALID_SIZE: Key = dataset(
    "valid_size",
    Kind::SplitSize,
    D::Null,
    "rows carved off the training file for validation: a fraction below 1 or a count",
);
pub const TEST_SIZE: Key = dataset(
    "test_size",
    Kind::SplitSize,
    D::Null,
    "rows carved off the training file for testing: a fraction below 1 or a count",
);
pub const SPLIT_TYPE: Key = dataset(
    "split_type",
    Kind::Choice(&["sequential", "random"]),
    D::Text("sequential"),
    "carve the splits off the end of the file (sequential) or at random",
);
pub const REBUILD_DATASET: Key = dataset(
    "rebuild_dataset",
    Kind::Flag,
    D::Flag(true),
    "encode the raw rows again (false: read FuxiCTR's encoded parquet files)",
);

/// Every key, model and training keys first.
pub const KEYS: &[Key] = &[
    MODEL,
    MODEL_ID,
    DATASET_ID,
    LOSS,
    METRICS,
    TASK,
    OPTIMIZER,
    LEARNING_RATE,
    EMBEDDING_REGULARIZER,
    NET_REGULARIZER,
    BATCH_SIZE,
    EMBEDDING_DIM,
    NUM_LAYERS,
    NUM_ROW,
    NET_DROPOUT,
    BATCH_NORM,
    NUM_HEADS,
    EPOCHS,
    SHUFFLE,
    SEED,
    MONITOR,
    MONITOR_MODE,
    MODEL_ROOT,
    EARLY_STOP_PATIENCE,
    SAVE_BEST_ONLY,
    EVAL_STEPS,
    MAX_GRADIENT_NORM,
    REDUCE_LR_ON_PLATEAU,
    SELF_ENSEMBLE,
    GROUP_ID,
    REGULARIZER,
    HIDDEN_UNITS,
    HIDDEN_ACTIVATIONS,
    MODEL_STRUCTURE,
    USE_LOW_RANK_MIXTURE,
    LOW_RANK,
    NUM_EXPERTS,
    STACKED_DNN_HIDDEN_UNITS,
    PARALLEL_DNN_HIDDEN_UNITS,
    DNN_ACTIVATIONS,
    NUM_CROSS_LAYERS,
    MLP1_HIDDEN_UNITS,
    MLP1_HIDDEN_ACTIVATIONS,
    MLP1_DROPOUT,
    MLP1_BATCH_NORM,
    MLP2_HIDDEN_UNITS,
    MLP2_HIDDEN_ACTIVATIONS,
    MLP2_DROPOUT,
    MLP2_BATCH_NORM,
    USE_FS,
    FS_HIDDEN_UNITS,
    FS1_CONTEXT,
    FS2_CONTEXT,
    DATA_ROOT,
    DATA_FORMAT,
    TRAIN_DATA,
    VALID_DATA,
    TEST_DATA,
    MIN_CATEGR_COUNT,
    FEATURE_COLS,
    LABEL_COL,
    VALID_SIZE,
    TEST_SIZE,
    SPLIT_TYPE,
    REBUILD_DATASET,
    other(
        "num_workers",
        Effect::NoEffect,
        "FuxiCTR's data-loader workers",
    ),
    other("verbose", Effect::NoEffect, "FuxiCTR's log verbosity"),
    other(
        "pickle_feature_encoder",
        Effect::NoEffect,
        "FuxiCTR's pickled feature encoder",
    ),
    other("debug_mode", Effect::NoEffect, "FuxiCTR's debug mode"),
    other(
        "data_block_size",
        Effect::NoEffect,
        "FuxiCTR's h5 block size",
    ),
    other(
        "gpu",
        Effect::NoEffect,
        "FuxiCTR's GPU index (qnn train --device chooses)",
    ),
    other(
        "use_features",
        Effect::NullOnly,
        "FuxiCTR's feature subset (not supported: null only)",
    ),
    dataset(
        "ordered_features",
        Kind::Names,
        D::Null,
        "the model's fields in this order; features not listed are left out of the model",
    ),
    dataset(
        "feature_specs",
        Kind::Structure,
        D::Null,
        "per-feature settings over the feature map: a list of {name, embedding_dim}",
    ),
    other(
        "feature_config",
        Effect::NullOnly,
        "FuxiCTR's feature config (not supported: null only)",
    ),
];
