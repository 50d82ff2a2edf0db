//! A bundled example's schema edits in the link, so that a shared link or a lesson trains the
//! columns it was made with: `role.<column>=<role>` for each column used otherwise than the
//! example loads it, `width.<column>=<n>` for each feature column with its own embedding width.

use qnn_data::schema::{ColumnProfile, ColumnRole};

const ROLE: &str = "role.";
const WIDTH: &str = "width.";

/// How the schema table differs from the example as it loads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnEdits {
    /// (column, role name), in the link's order.
    roles: Vec<(String, &'static str)>,
    /// (column, embedding width), in the link's order.
    widths: Vec<(String, usize)>,
}

/// A column's own embedding width as typed into the schema table or a link.
pub fn parse_width(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| format!("`{text}` is not a whole number"))
        .and_then(|n| qnn_keys::EMBEDDING_DIM.check_count(n))
}

/// The role the schema table's menu calls `name`: a sequence splits on what the profile found.
pub fn role_named(column: &ColumnProfile, name: &str) -> Option<ColumnRole> {
    ColumnRole::named(name, column.splitter.as_deref().unwrap_or("|"))
}

impl ColumnEdits {
    /// The edits that turn `defaults` (the roles the example loads with) into `roles` and
    /// `widths`. Widths of columns that are not features are left out: nothing reads them.
    pub fn between(
        columns: &[ColumnProfile],
        defaults: &[ColumnRole],
        roles: &[ColumnRole],
        widths: &[Option<usize>],
    ) -> Self {
        let mut edits = ColumnEdits::default();
        for (i, column) in columns.iter().enumerate() {
            let Some(role) = roles.get(i) else { break };
            if defaults.get(i) != Some(role) {
                edits.roles.push((column.name.clone(), role.name()));
            }
            if let Some(width) = widths.get(i).copied().flatten()
                && role.is_feature()
            {
                edits.widths.push((column.name.clone(), width));
            }
        }
        edits
    }

    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.widths.is_empty()
    }

    /// The link's pairs: roles first, then widths, each in column order.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let roles = self
            .roles
            .iter()
            .map(|(c, r)| (format!("{ROLE}{c}"), r.to_string()));
        let widths = self
            .widths
            .iter()
            .map(|(c, w)| (format!("{WIDTH}{c}"), w.to_string()));
        roles.chain(widths).collect()
    }

    /// Reads the link's `role.*` and `width.*` pairs (the others are not this type's); what
    /// cannot be read is named in the problems and skipped.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> (Self, Vec<String>) {
        let mut edits = ColumnEdits::default();
        let mut problems = Vec::new();
        for (key, value) in pairs {
            if let Some(column) = key.strip_prefix(ROLE) {
                match ColumnRole::NAMES.iter().find(|n| **n == value) {
                    Some(name) if !column.is_empty() => {
                        edits.roles.push((column.to_string(), name));
                    }
                    Some(_) => problems.push(format!("{key}: no column named")),
                    None => problems.push(format!(
                        "{key}: `{value}` is not a role ({})",
                        ColumnRole::NAMES.join(", ")
                    )),
                }
            } else if let Some(column) = key.strip_prefix(WIDTH) {
                match parse_width(value) {
                    Ok(_) if column.is_empty() => problems.push(format!("{key}: no column named")),
                    Ok(width) => edits.widths.push((column.to_string(), width)),
                    Err(reason) => problems.push(format!("{key}: {reason}")),
                }
            }
        }
        (edits, problems)
    }

    /// Applies the edits to the example just loaded: every role, then every width (a width
    /// needs its column's final role). Returns what could not be applied; the rest is.
    pub fn apply(
        &self,
        columns: &[ColumnProfile],
        roles: &mut [ColumnRole],
        widths: &mut [Option<usize>],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let find = |key: &str, column: &str, problems: &mut Vec<String>| {
            let found = columns.iter().position(|c| c.name == column);
            if found.is_none() {
                problems.push(format!(
                    "{key}{column}: the example has no column `{column}`"
                ));
            }
            found
        };
        for (column, name) in &self.roles {
            if let Some(i) = find(ROLE, column, &mut problems) {
                roles[i] = role_named(&columns[i], name).expect("parse keeps known role names");
            }
        }
        for (column, width) in &self.widths {
            let Some(i) = find(WIDTH, column, &mut problems) else {
                continue;
            };
            if roles[i].is_feature() {
                widths[i] = Some(*width);
            } else {
                problems.push(format!(
                    "{WIDTH}{column}: `{column}` is used as {}, and only features have a width",
                    roles[i].name()
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::schema::profile_csv;

    const CSV: &str = "clicked,user,price,genres\n1,u1,1.5,a|b\n0,u2,2.5,b\n1,u1,0.5,a\n";

    fn columns() -> Vec<ColumnProfile> {
        profile_csv(CSV.as_bytes(), "t.csv", None).unwrap().columns
    }

    fn pairs(q: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
        q.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    #[test]
    fn the_link_carries_what_differs_from_the_example_and_restores_it() {
        let columns = columns();
        let defaults = profile_csv(CSV.as_bytes(), "t.csv", None)
            .unwrap()
            .guess_roles();
        assert_eq!(
            ColumnEdits::between(&columns, &defaults, &defaults, &[None; 4]),
            ColumnEdits::default()
        );
        let mut roles = defaults.clone();
        roles[1] = ColumnRole::Ignore;
        roles[3] = role_named(&columns[3], "categorical").unwrap();
        // The ignored column's width goes nowhere, so it stays out of the link.
        let widths = [None, Some(6), Some(3), None];
        let edits = ColumnEdits::between(&columns, &defaults, &roles, &widths);
        let q = edits.to_query();
        assert_eq!(
            q,
            [
                ("role.user".to_string(), "ignore".to_string()),
                ("role.genres".into(), "categorical".into()),
                ("width.price".into(), "3".into()),
            ]
        );
        let (back, problems) = ColumnEdits::parse(pairs(&q).chain([("seed", "7")]));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, edits);
        let (mut restored, mut restored_widths) = (defaults.clone(), vec![None; 4]);
        assert!(
            back.apply(&columns, &mut restored, &mut restored_widths)
                .is_empty()
        );
        assert_eq!(restored, roles);
        assert_eq!(restored_widths, [None, None, Some(3), None]);
    }

    #[test]
    fn a_sequence_splits_as_the_profile_found() {
        let columns = columns();
        let mut roles = vec![ColumnRole::Categorical; 4];
        let (edits, _) = ColumnEdits::parse([("role.genres", "sequence")]);
        assert!(edits.apply(&columns, &mut roles, &mut [None; 4]).is_empty());
        assert_eq!(
            roles[3],
            ColumnRole::Sequence {
                splitter: "|".into()
            }
        );
    }

    #[test]
    fn what_cannot_be_read_or_applied_is_named_and_the_rest_applied() {
        let (edits, problems) = ColumnEdits::parse([
            ("role.user", "Numeric"),
            ("role.", "ignore"),
            ("width.price", "0"),
            ("width.user", "4e3"),
            ("width.", "4"),
            ("role.nope", "ignore"),
            ("width.clicked", "4"),
            ("role.price", "categorical"),
            ("width.price", "5"),
        ]);
        assert_eq!(problems.len(), 5, "{problems:?}");
        for expected in [
            "role.user: `Numeric` is not a role (label, categorical, numeric, sequence, ignore)",
            "role.: no column named",
            "width.price: must be at least 1, not 0",
            "width.user: `4e3` is not a whole number",
            "width.: no column named",
        ] {
            assert!(
                problems.iter().any(|p| p == expected),
                "{expected} not in {problems:?}"
            );
        }
        let columns = columns();
        let mut roles = vec![
            ColumnRole::Label,
            ColumnRole::Categorical,
            ColumnRole::Numeric,
            ColumnRole::Categorical,
        ];
        let mut widths = vec![None; 4];
        let problems = edits.apply(&columns, &mut roles, &mut widths);
        assert_eq!(
            problems,
            [
                "role.nope: the example has no column `nope`",
                "width.clicked: `clicked` is used as label, and only features have a width",
            ]
        );
        assert_eq!(roles[2], ColumnRole::Categorical);
        assert_eq!(widths, [None, None, Some(5), None]);
    }

    #[test]
    fn a_width_is_read_as_the_schema_table_reads_it() {
        assert_eq!(parse_width(" 8 "), Ok(8));
        assert!(parse_width("-1").is_err());
        assert!(parse_width("").is_err());
        assert!(
            parse_width("4000000000")
                .unwrap_err()
                .contains("more than QNN Lab allows")
        );
    }
}
