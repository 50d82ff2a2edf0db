//! `qnn keys`: the vocabulary as a user reads it.

use std::process::Command;

fn qnn_keys(args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_qnn"))
        .arg("keys")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    (o.status.success(), text)
}

/// The lines naming keys (two spaces, then the key).
fn listed(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '))
        .collect()
}

#[test]
fn every_key_is_listed_once_with_its_type_default_and_help() {
    let (ok, text) = qnn_keys(&[]);
    assert!(ok, "{text}");
    let names = listed(&text);
    assert_eq!(names.len(), qnn_keys::KEYS.len(), "{text}");
    for key in qnn_keys::KEYS {
        assert!(names.contains(&key.name), "{}", key.name);
        assert!(text.contains(key.help), "{}", key.name);
    }
    assert!(text.contains("  num_row\n      int in 1..=16777216; default 3; read by QNN\n"));
    assert!(text.contains("default 32 for QNN, the network's own for the others"));
}

#[test]
fn a_network_lists_its_own_keys_and_the_shared_ones() {
    let (ok, text) = qnn_keys(&["--model", "DeepFM"]);
    assert!(ok, "{text}");
    let names = listed(&text);
    for key in [
        "hidden_units",
        "embedding_dim",
        "learning_rate",
        "data_root",
    ] {
        assert!(names.contains(&key), "{key}: {text}");
    }
    for key in ["num_row", "mlp1_dropout", "regularizer"] {
        assert!(!names.contains(&key), "{key}: {text}");
    }
    // DeepFM's embedding width defaults to FuxiCTR's constructor value, not QNN's table.
    assert!(text.contains("  embedding_dim\n      int in 1..=16777216; default (the network's)\n"));
    let (ok, text) = qnn_keys(&["--model", "QNN"]);
    assert!(ok && text.contains("  embedding_dim\n      int in 1..=16777216; default 32\n"));

    let (ok, text) = qnn_keys(&["--model", "xDeepFM"]);
    assert!(!ok);
    assert!(
        text.contains("error: --model: 'xDeepFM' is not a network QNN Lab has (QNN, LR"),
        "{text}"
    );
}

#[test]
fn one_key_is_shown_alone_and_a_misspelt_one_gets_the_nearest() {
    let (ok, text) = qnn_keys(&["num_row"]);
    assert!(ok, "{text}");
    assert_eq!(listed(&text), ["num_row"], "{text}");
    assert!(
        text.starts_with("Networks' own (model_config.yaml)\n  num_row\n"),
        "{text}"
    );
    let (ok, text) = qnn_keys(&["num_rows"]);
    assert!(!ok);
    assert!(
        text.contains("error: `num_rows` is not a key QNN Lab knows (did you mean `num_row`?)"),
        "{text}"
    );
    let (ok, text) = qnn_keys(&["hidden_units", "--model", "DeepFM"]);
    assert!(ok && listed(&text) == ["hidden_units"], "{text}");
    let (ok, text) = qnn_keys(&["num_row", "--model", "DeepFM"]);
    assert!(!ok);
    assert!(
        text.contains("error: DeepFM does not read `num_row`"),
        "{text}"
    );
    let (ok, text) = qnn_keys(&["--model", "DeepFn"]);
    assert!(!ok && text.contains("(did you mean `DeepFM`?)"), "{text}");
}
