//! `qnn keys [KEY] [--model NAME]`: the keys a FuxiCTR config may hold, from the vocabulary
//! (`qnn_keys`): type and range, the seed table's default, what each does.

use anyhow::{Result, bail};
use qnn_keys::{Effect, KEYS, Key, NETWORKS, Readers};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this key (e.g. `num_row`).
    pub key: Option<String>,
    /// Only the keys this network reads (QNN, or a model-zoo name such as DeepFM), with the
    /// training and dataset keys every run reads.
    #[arg(long)]
    pub model: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    print!("{}", listing(args.model.as_deref(), args.key.as_deref())?);
    Ok(())
}

/// A title and which keys it lists.
type Section<'a> = (String, Box<dyn Fn(&Key) -> bool + 'a>);

/// The listing, one section per kind of key; with `only`, that key alone.
pub fn listing(model: Option<&str>, only: Option<&str>) -> Result<String> {
    if let Some(model) = model
        && !NETWORKS.contains(&model)
    {
        bail!(
            "--model: '{model}' is not a network QNN Lab has ({}){}",
            NETWORKS.join(", "),
            qnn_keys::did_you_mean(model, NETWORKS)
        );
    }
    if let Some(key) = only
        && qnn_keys::find(key).is_none()
    {
        bail!(
            "`{key}` is not a key QNN Lab knows{}",
            qnn_keys::did_you_mean_key(key)
        );
    }
    let network = |k: &Key| match (k.readers, model) {
        (Readers::Networks(_), Some(m)) => k.read_by(m),
        (Readers::Networks(_), None) => true,
        _ => false,
    };
    let sections: [Section<'_>; 5] = [
        (
            "Training (model_config.yaml, every network)".into(),
            Box::new(|k| k.readers == Readers::Training && k.effect == Effect::Read),
        ),
        (
            match model {
                Some(m) => format!("{m}'s own (model_config.yaml)"),
                None => "Networks' own (model_config.yaml)".into(),
            },
            Box::new(network),
        ),
        (
            "Dataset (dataset_config.yaml)".into(),
            Box::new(|k| k.readers == Readers::Dataset),
        ),
        (
            "FuxiCTR runtime settings (accepted, no effect)".into(),
            Box::new(|k| k.effect == Effect::NoEffect),
        ),
        (
            "Not supported (accepted only as null)".into(),
            Box::new(|k| k.effect == Effect::NullOnly),
        ),
    ];
    let mut out = String::new();
    for (title, wanted) in sections {
        let keys: Vec<&Key> = KEYS
            .iter()
            .filter(|k| wanted(k) && only.is_none_or(|o| o == k.name))
            .collect();
        if keys.is_empty() {
            continue;
        }
        out.push_str(&format!("{title}\n"));
        for k in keys {
            out.push_str(&format!("  {}\n", k.name));
            if k.effect == Effect::Read {
                let default = match model {
                    Some(m) => k.default_for(m).to_string(),
                    None if matches!(k.readers, Readers::Networks(names)
                        if names.iter().any(|n| k.default_for(n) != k.default)) =>
                    {
                        format!("{} for QNN, the network's own for the others", k.default)
                    }
                    None => k.default.to_string(),
                };
                out.push_str(&format!("      {}; default {default}", k.kind));
                if let Readers::Networks(names) = k.readers
                    && model.is_none()
                {
                    out.push_str(&format!("; read by {}", names.join(", ")));
                }
                out.push('\n');
            }
            out.push_str(&format!("      {}\n", k.help));
        }
        out.push('\n');
    }
    if let (Some(key), Some(model), true) = (only, model, out.is_empty()) {
        bail!("{model} does not read `{key}` (`qnn keys {key}` says which networks do)");
    }
    Ok(out)
}
