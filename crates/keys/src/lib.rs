//! The vocabulary of experiment keys: every key of FuxiCTR's `dataset_config.yaml` and
//! `model_config.yaml` that QNN Lab knows, written once, with its type and range, the default of
//! the seed's configuration table (`../shared/docs/seed-config.md`), a one-line help text, the
//! networks that read it and, for the settings the browser trainer shows, its short URL name.
//!
//! Everything that names keys is derived from [`KEYS`]: the YAML key check (`qnn-data`), the
//! ranges every config reader applies, the defaults of `QnnConfig` and `TrainConfig`, which keys
//! each network takes (`qnn-train`'s FuxiCTR reader, `qnn-zoo`), and the page's settings form,
//! shareable link and YAML export. No Burn, no I/O: the page depends on it too.

mod vocabulary;

pub use vocabulary::*;

/// The networks QNN Lab trains, under their FuxiCTR names: QNN and the model zoo.
pub const NETWORKS: [&str; 8] = [
    "QNN", "LR", "FM", "DNN", "DeepFM", "DCNv2", "FinalMLP", "DualMLP",
];

/// The largest size (width, depth, count) a config may give; the memory a run of such sizes
/// needs is checked separately, before anything is allocated.
pub const MAX_SIZE: usize = 1 << 24;

/// One experiment key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Key {
    /// The key as FuxiCTR writes it.
    pub name: &'static str,
    pub kind: Kind,
    /// The default of the seed's configuration table.
    pub default: SeedDefault,
    /// One line for a person choosing a value.
    pub help: &'static str,
    /// The short name in the page's shareable link, for the settings the page shows.
    pub url: Option<&'static str>,
    pub readers: Readers,
    pub effect: Effect,
}

/// A key's type and range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Any string.
    Text,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// A whole number in `min..=max`.
    Count { min: usize, max: usize },
    /// A finite number in the interval.
    Number(Interval),
    /// `True` or `False`.
    Flag,
    /// Any non-negative 64-bit whole number.
    Seed,
    /// A list of whole numbers (hidden-layer widths), each in `1..=MAX_SIZE`.
    Counts,
    /// One string or a list of strings (activations, context fields).
    Names,
    /// A number (an L2 weight) or a string such as `l1_l2(1.e-3, 1.e-3)`.
    Regularizer,
    /// A list of metric names.
    Metrics,
    /// A metric name, or a mapping of metric names to weights.
    Monitor,
    /// A structure the dataset reader checks field by field (`feature_cols`, `label_col`).
    Structure,
    /// A fraction of the train rows below 1, or a row count.
    SplitSize,
}

impl std::fmt::Display for Kind {
    /// The type and range as a person reads them: `int, at least 1`, `float in [0, 1)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Text => write!(f, "str"),
            Kind::Choice(options) => write!(f, "str: {}", options.join(" | ")),
            Kind::Count { min, max } => write!(f, "int in {min}..={max}"),
            Kind::Number(range) => write!(f, "float {range}"),
            Kind::Flag => write!(f, "bool"),
            Kind::Seed => write!(f, "int, at least 0"),
            Kind::Counts => write!(f, "list of int"),
            Kind::Names => write!(f, "str | list of str"),
            Kind::Regularizer => write!(f, "float, at least 0 | str"),
            Kind::Metrics => write!(f, "list of str"),
            Kind::Monitor => write!(f, "str | dict"),
            Kind::Structure => write!(f, "list of dict"),
            Kind::SplitSize => write!(f, "float below 1 | int"),
        }
    }
}

/// Part of the real line: `lo` and `hi` with whether each end is left out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub lo_open: bool,
    pub hi: f64,
    pub hi_open: bool,
}

impl Interval {
    /// `[lo, hi]`.
    pub const fn closed(lo: f64, hi: f64) -> Self {
        Self {
            lo,
            lo_open: false,
            hi,
            hi_open: false,
        }
    }

    /// `(0, ∞)`.
    pub const POSITIVE: Self = Self {
        lo: 0.0,
        lo_open: true,
        hi: f64::INFINITY,
        hi_open: true,
    };

    /// `[0, 1)`: a rate such as dropout's.
    pub const RATE: Self = Self {
        lo: 0.0,
        lo_open: false,
        hi: 1.0,
        hi_open: true,
    };

    pub fn contains(&self, v: f64) -> bool {
        let above = if self.lo_open {
            v > self.lo
        } else {
            v >= self.lo
        };
        let below = if self.hi_open {
            v < self.hi
        } else {
            v <= self.hi
        };
        v.is_finite() && above && below
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.lo_open, self.hi) {
            (true, hi) if hi == f64::INFINITY => write!(f, "above {}", self.lo),
            (false, hi) if hi == f64::INFINITY => write!(f, "at least {}", self.lo),
            _ => write!(
                f,
                "in {}{}, {}{}",
                if self.lo_open { '(' } else { '[' },
                self.lo,
                self.hi,
                if self.hi_open { ')' } else { ']' }
            ),
        }
    }
}

/// A key's default in the seed's configuration table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeedDefault {
    /// No default: a run that needs the key must give it.
    Required,
    /// FuxiCTR's `None`.
    Null,
    Text(&'static str),
    Count(usize),
    Number(f64),
    Flag(bool),
    Texts(&'static [&'static str]),
    /// The reading network's own: FuxiCTR 2.0.1's constructor default (baselines spec §8.1).
    OfNetwork,
}

impl std::fmt::Display for SeedDefault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Required => write!(f, "(required)"),
            Self::Null => write!(f, "None"),
            Self::Text(t) => write!(f, "{t}"),
            Self::Count(n) => write!(f, "{n}"),
            Self::Number(v) => write!(f, "{v}"),
            Self::Flag(true) => write!(f, "True"),
            Self::Flag(false) => write!(f, "False"),
            Self::Texts(t) => write!(f, "[{}]", t.join(", ")),
            Self::OfNetwork => write!(f, "(the network's)"),
        }
    }
}

impl SeedDefault {
    /// The default of a [`Kind::Count`] key (a compile-time error in a `const` for another).
    pub const fn count(self) -> usize {
        match self {
            Self::Count(n) => n,
            _ => panic!("not a count default"),
        }
    }

    pub const fn number(self) -> f64 {
        match self {
            Self::Number(v) => v,
            _ => panic!("not a number default"),
        }
    }

    pub const fn flag(self) -> bool {
        match self {
            Self::Flag(b) => b,
            _ => panic!("not a flag default"),
        }
    }

    pub const fn text(self) -> &'static str {
        match self {
            Self::Text(s) => s,
            _ => panic!("not a text default"),
        }
    }

    pub const fn texts(self) -> &'static [&'static str] {
        match self {
            Self::Texts(s) => s,
            _ => panic!("not a list default"),
        }
    }
}

/// Who reads a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// The training loop, for every network.
    Training,
    /// These networks (QNN's keys and the model zoo's): a key of another network is refused,
    /// where FuxiCTR would ignore it silently.
    Networks(&'static [&'static str]),
    /// The dataset reader.
    Dataset,
}

/// What writing the key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// QNN Lab honours it.
    Read,
    /// A FuxiCTR runtime setting (workers, verbosity, pickling): accepted, no effect.
    NoEffect,
    /// A FuxiCTR feature QNN Lab does not have: accepted only when null.
    NullOnly,
}

impl Key {
    /// Whether `network` (a FuxiCTR name) reads this key.
    pub fn read_by(&self, network: &str) -> bool {
        match self.readers {
            Readers::Training => true,
            Readers::Networks(names) => names.contains(&network),
            Readers::Dataset => false,
        }
    }

    /// The default when `network` reads the key without it: the seed table's (which is QNN's
    /// README) for QNN, the training keys and the regularizers (the trainer's), FuxiCTR's
    /// constructor default for a model-zoo network's own keys.
    pub fn default_for(&self, network: &str) -> SeedDefault {
        match self.readers {
            Readers::Networks(_) if network != "QNN" && self.kind != Kind::Regularizer => {
                SeedDefault::OfNetwork
            }
            _ => self.default,
        }
    }

    /// Whether this key belongs to one network or a few (as opposed to training or data).
    pub fn is_network_key(&self) -> bool {
        matches!(self.readers, Readers::Networks(_))
    }

    /// Checks a whole number against the key's range; the reason names the range.
    pub fn check_count(&self, v: usize) -> Result<usize, String> {
        match self.kind {
            Kind::Count { min, .. } if v < min => Err(format!("must be at least {min}, not {v}")),
            Kind::Count { max, .. } if v > max => {
                Err(format!("{v} is more than QNN Lab allows ({max})"))
            }
            _ => Ok(v),
        }
    }

    /// Checks a number against the key's range; the reason names the range.
    pub fn check_number(&self, v: f64) -> Result<f64, String> {
        match self.kind {
            Kind::Number(range) if !range.contains(v) => Err(format!("must be {range}, not {v}")),
            Kind::Regularizer if !(v.is_finite() && v >= 0.0) => {
                Err(format!("must be a finite number of at least 0, not {v}"))
            }
            _ if !v.is_finite() => Err(format!("must be a finite number, not {v}")),
            _ => Ok(v),
        }
    }

    /// Checks a string against the key's choices.
    pub fn check_text<'a>(&self, v: &'a str) -> Result<&'a str, String> {
        match self.kind {
            Kind::Choice(options) if !options.contains(&v) => {
                Err(format!("'{v}' is not one of {}", options.join(", ")))
            }
            _ => Ok(v),
        }
    }
}

/// The key called `name`.
pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// ` (did you mean `x`?)` for the candidate closest to a misspelt `name`, when one is close
/// (a third of its letters or fewer changed: none for names shorter than three, where any other
/// short name would be "close"); empty otherwise.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let allowed = name.chars().count() / 3;
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|&(d, c)| d <= allowed && c != name)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// ` (did you mean `x`?)` for the vocabulary's key closest to `name`; empty when none is close.
pub fn did_you_mean_key(name: &str) -> String {
    did_you_mean(name, KEYS.iter().map(|k| k.name))
}

/// The key whose URL name is `url`.
pub fn find_url(url: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.url == Some(url))
}

/// The keys `network` reads besides the training keys every network shares; empty for a name
/// that is not a network's. FuxiCTR's own model-zoo configs set exactly these.
pub fn network_keys(network: &str) -> impl Iterator<Item = &'static Key> + '_ {
    KEYS.iter()
        .filter(move |k| k.is_network_key() && k.read_by(network))
}

#[cfg(test)]
mod tests;
