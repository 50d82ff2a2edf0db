//! Per-field embedding widths from a user's configs: a column's own `embedding_dim` and the
//! model config's `feature_specs`, through `qnn train`, `evaluate` and `inspect`.

mod common;

use common::{Scratch, TINY_COLS, assert_fails, text, tiny};

#[test]
fn feature_specs_and_column_widths_train_evaluate_and_inspect() {
    let s = Scratch::new("field-widths");
    // userid 4 wide from the model config's feature_specs, price 3 wide from its column, the
    // rest the model's 8: D = 4 + 8·5 + 3 + 8 = 55, which one head takes as it is.
    s.model_config("  feature_specs: [{name: userid, embedding_dim: 4}]\n");
    let cols = TINY_COLS.replace(
        "normalizer: MinMaxScaler}",
        "normalizer: MinMaxScaler, embedding_dim: 3}",
    );
    assert_ne!(cols, TINY_COLS);
    s.dataset_config(&tiny("train_sample.csv"), &tiny("valid_sample.csv"), &cols);
    let o = s.train();
    assert!(o.status.success(), "{}", text(&o));
    let model = "checkpoints/D/E.qnn";
    let test = tiny("test_sample.csv");
    let evaluated = s.qnn_ok(&["evaluate", "--model", model, "--data", &test]);
    assert!(evaluated.contains("AUC: "), "{evaluated}");
    let table = s.qnn_ok(&["inspect", "--model", model, "--data", &test]);
    assert!(table.contains("layer 1, head 1, activation map"), "{table}");

    // Two heads cannot cut 55 columns into 8 fields' blocks: the key is named.
    s.model_config("  feature_specs: [{name: userid, embedding_dim: 4}]\n  num_heads: 2\n");
    assert_fails(&s.train(), &["num_heads", "55"]);
    // A field the data does not have.
    s.model_config("  feature_specs: [{name: nobody, embedding_dim: 4}]\n");
    assert_fails(
        &s.train(),
        &["feature_specs", "nobody", "model_config.yaml"],
    );
}
