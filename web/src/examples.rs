//! The datasets bundled under `static/examples/` (served from the page's own origin).

use qnn_data::schema::ColumnRole;

#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// Short name used in the URL (`?ex=planted`).
    pub id: &'static str,
    pub title: &'static str,
    pub blurb: &'static str,
    /// Paths under the site root: train, then optional valid and test files.
    pub files: &'static [&'static str],
    /// Columns whose guessed role is overridden (e.g. a column that gives the label away).
    pub roles: &'static [(&'static str, Role)],
    /// Validation and test fractions for single-file examples: the tiny samples need larger
    /// ones so that both classes appear in each split.
    pub split: (f64, f64),
}

/// A role in a `const` (ColumnRole owns a String).
#[derive(Debug, Clone, Copy)]
pub enum Role {
    Ignore,
    Label,
}

impl Role {
    pub fn to_role(self) -> ColumnRole {
        match self {
            Role::Ignore => ColumnRole::Ignore,
            Role::Label => ColumnRole::Label,
        }
    }
}

pub const EXAMPLES: [Example; 6] = [
    Example {
        id: "planted",
        title: "Planted interaction (synthetic)",
        blurb: "5,000 rows, six fields; only the pair f2 × f5 decides the click. Watch the map light up that cell.",
        files: &["examples/planted/planted.csv"],
        roles: &[],
        split: (0.1, 0.1),
    },
    Example {
        id: "tiny",
        title: "FuxiCTR tiny (Taobao ads)",
        blurb: "FuxiCTR's demo sample: 100 rows per split, 14 categorical fields, a price, a ^-separated click sequence.",
        files: &[
            "examples/tiny_csv/train_sample.csv",
            "examples/tiny_csv/valid_sample.csv",
            "examples/tiny_csv/test_sample.csv",
        ],
        roles: &[],
        split: (0.1, 0.1),
    },
    Example {
        id: "criteo",
        title: "Criteo sample (DeepCTR)",
        blurb: "200 display-ad rows: 13 counts with gaps, 26 hashed categories.",
        files: &["examples/criteo/criteo_sample.csv"],
        roles: &[],
        split: (0.25, 0.25),
    },
    Example {
        id: "avazu",
        title: "Avazu sample (DeepCTR)",
        blurb: "100 mobile-ad rows with hashed site, app and device fields.",
        files: &["examples/avazu/avazu_sample.csv"],
        roles: &[],
        split: (0.3, 0.3),
    },
    Example {
        id: "movielens",
        title: "MovieLens sample (DeepCTR)",
        blurb: "200 ratings; clicked = rating ≥ 4, genres is a |-separated sequence.",
        files: &["examples/movielens/movielens_sample.csv"],
        roles: &[("rating", Role::Ignore)],
        split: (0.25, 0.25),
    },
    Example {
        id: "ratings",
        title: "MovieLens ratings (regression)",
        blurb: "The same 200 rows with the 1-5 star rating as the label, so the task is regression: MSE loss, the output a rating, not a probability.",
        files: &["examples/movielens/movielens_sample.csv"],
        roles: &[("rating", Role::Label), ("clicked", Role::Ignore)],
        split: (0.25, 0.25),
    },
];

pub fn by_id(id: &str) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.id == id)
}
