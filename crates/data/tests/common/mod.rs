//! What the tests against FuxiCTR's own output share: the bundled tiny_csv sample's dataset as
//! `tests/fixtures/make_fuxictr_tiny.py` and `make_fuxictr_formats.py` hand it to FuxiCTR.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The dataset's column settings, from `min_categr_count` on, to follow a dataset block's
/// four-space indentation.
pub const TINY_COLUMNS: &str = "\
min_categr_count: 2
    feature_cols:
        - {name: [userid, adgroup_id, pid, cate_id, campaign_id, customer, brand, cms_segid,
                  cms_group_id, final_gender_code, age_level, pvalue_level, shopping_level, occupation],
           active: True, dtype: str, type: categorical}
        - {name: cms_segid_int, active: False, dtype: int, type: categorical}
        - {name: price, active: True, dtype: float, type: numeric, fill_na: 0}
        - {name: click_sequence, active: True, dtype: str, type: sequence, splitter: ^, max_len: 3,
           padding: post}
    label_col: {name: clk, dtype: float}
";
