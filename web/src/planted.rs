//! The planted-interaction example's parameters: which fields interact (a pair or a triple), the
//! noise, the tokens per field, the rows, and an optional cross column. The page generates the
//! data from them (the defaults give the bundled file, byte for byte) and the link carries them.

use std::ops::RangeInclusive;

use qnn_data::synthetic::{BUNDLED_PLANTED, SyntheticSpec};

pub const FIELDS: RangeInclusive<usize> = 2..=20;
/// How many fields may interact: a pair or a triple.
pub const PLANTED: RangeInclusive<usize> = 2..=3;
pub const NOISE: RangeInclusive<f64> = 0.0..=0.5;
pub const TOKENS: RangeInclusive<usize> = 2..=100;
pub const ROWS: RangeInclusive<usize> = 100..=200_000;

/// The planted example's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Planted {
    pub fields: usize,
    /// The interacting fields (0-based: field `f2` is 2).
    pub planted: Vec<usize>,
    /// The chance that a row's label is flipped from what the planted fields say.
    pub noise: f64,
    /// Tokens per field.
    pub tokens: usize,
    pub rows: usize,
    /// A column crossing the planted fields (the feature cross an engineer would add).
    pub cross: bool,
}

impl Default for Planted {
    /// The bundled file's parameters.
    fn default() -> Self {
        Self {
            fields: 6,
            planted: vec![2, 5],
            noise: 0.1,
            tokens: 8,
            rows: BUNDLED_PLANTED.0,
            cross: false,
        }
    }
}

/// The parameters' names in the link, in the order they are written.
const URL_NAMES: [&str; 6] = ["pf", "pi", "pn", "pt", "pr", "px"];

impl Planted {
    /// Whether these are the bundled file's parameters (the page then loads that file).
    pub fn is_bundled(&self) -> bool {
        *self == Planted::default()
    }

    pub fn spec(&self) -> SyntheticSpec {
        SyntheticSpec {
            vocab_sizes: vec![self.tokens + 2; self.fields],
            planted: self.planted.clone(),
            strength: 1.0 - self.noise,
            rows: self.rows,
            seed: BUNDLED_PLANTED.1,
            cross_column: self.cross,
        }
    }

    /// The generated CSV file.
    pub fn csv(&self) -> Result<String, String> {
        self.check()?;
        Ok(self.spec().to_csv())
    }

    /// The parameters' ranges, each problem naming the parameter.
    pub fn check(&self) -> Result<(), String> {
        let within = |name: &str, v: usize, r: &RangeInclusive<usize>| {
            if r.contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be from {} to {} (got {v})",
                    r.start(),
                    r.end()
                ))
            }
        };
        within("fields", self.fields, &FIELDS)?;
        within("tokens per field", self.tokens, &TOKENS)?;
        within("rows", self.rows, &ROWS)?;
        within("interacting fields", self.planted.len(), &PLANTED)?;
        if !NOISE.contains(&self.noise) {
            return Err(format!(
                "noise must be from {} to {} (got {})",
                NOISE.start(),
                NOISE.end(),
                self.noise
            ));
        }
        for (i, &f) in self.planted.iter().enumerate() {
            if f >= self.fields {
                return Err(format!(
                    "interacting field f{f} is not one of the {} fields f0…f{}",
                    self.fields,
                    self.fields - 1
                ));
            }
            if self.planted[..i].contains(&f) {
                return Err(format!("interacting field f{f} is named twice"));
            }
        }
        Ok(())
    }

    /// One parameter from the page or the link, by its link name.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let count = |what: &str| {
            value
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("{what}: `{value}` is not a whole number"))
        };
        let mut next = self.clone();
        match name {
            "pf" => next.fields = count("fields")?,
            "pi" => {
                next.planted = value
                    .split(',')
                    .map(|f| {
                        let f = f.trim();
                        f.strip_prefix('f')
                            .unwrap_or(f)
                            .parse::<usize>()
                            .map_err(|_| format!("interacting fields: `{f}` is not a field number"))
                    })
                    .collect::<Result<_, _>>()?
            }
            "pn" => {
                next.noise = value
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("noise: `{value}` is not a number"))?
            }
            "pt" => next.tokens = count("tokens per field")?,
            "pr" => next.rows = count("rows")?,
            "px" => {
                next.cross = match value.trim() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => return Err(format!("cross column: `{value}` is not 1 or 0")),
                }
            }
            _ => {
                return Err(format!(
                    "`{name}` is not a parameter of the planted example"
                ));
            }
        }
        next.check()?;
        *self = next;
        Ok(())
    }

    /// A parameter's value as the page shows it and the link writes it.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "pf" => self.fields.to_string(),
            "pi" => self
                .planted
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(","),
            "pn" => self.noise.to_string(),
            "pt" => self.tokens.to_string(),
            "pr" => self.rows.to_string(),
            "px" => u8::from(self.cross).to_string(),
            _ => return None,
        })
    }

    /// The link's pairs: only the parameters that differ from the bundled file's.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let bundled = Planted::default();
        URL_NAMES
            .iter()
            .filter(|n| self.get(n) != bundled.get(n))
            .map(|n| (*n, self.get(n).unwrap_or_default()))
            .collect()
    }

    /// Applies the link's planted parameters (others are left to the caller); bad ones are
    /// reported and leave the rest as they were.
    pub fn apply_query<'a>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        // Fields first: a link may name interacting fields beyond the default six.
        let mut pairs: Vec<(&str, &str)> = pairs
            .into_iter()
            .filter(|(k, _)| URL_NAMES.contains(k))
            .collect();
        pairs.sort_by_key(|(k, _)| *k != "pf");
        for (k, v) in pairs {
            if let Err(e) = self.set(k, v) {
                problems.push(format!("{k}: {e}"));
            }
        }
        problems
    }

    /// What the data is, in a sentence.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self.planted.iter().map(|f| format!("f{f}")).collect();
        format!(
            "{} rows, {} fields of {} tokens; the click depends only on {} together ({}% noise){}",
            self.rows,
            self.fields,
            self.tokens,
            names.join(" × "),
            (self.noise * 1000.0).round() / 10.0,
            if self.cross {
                format!(", and a column {} crosses them", names.join("_x_"))
            } else {
                String::new()
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_bundled_file() {
        let bundled = include_str!("../../static/examples/planted/planted.csv");
        let p = Planted::default();
        assert!(p.is_bundled() && p.to_query().is_empty());
        assert!(p.csv().unwrap() == bundled);
    }

    #[test]
    fn a_triple_with_a_cross_column_round_trips_through_the_link() {
        let mut p = Planted::default();
        let problems = p.apply_query([
            ("pi", "f1, 3,7"),
            ("pf", "8"),
            ("pn", "0.05"),
            ("pt", "4"),
            ("px", "1"),
            ("ex", "planted"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            (p.fields, p.planted.as_slice(), p.tokens),
            (8, &[1, 3, 7][..], 4)
        );
        let query = p.to_query();
        assert_eq!(
            query.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["pf", "pi", "pn", "pt", "px"]
        );
        let mut again = Planted::default();
        assert!(
            again
                .apply_query(query.iter().map(|(k, v)| (*k, v.as_str())))
                .is_empty()
        );
        assert_eq!(again, p);
        let csv = p.csv().unwrap();
        assert!(csv.starts_with("f0,f1,f2,f3,f4,f5,f6,f7,f1_x_f3_x_f7,label\n"));
        assert_eq!(csv.lines().count(), 5001);
        assert!(p.describe().contains("f1 × f3 × f7 together (5% noise)"));
    }

    #[test]
    fn bad_parameters_are_refused_by_name_and_change_nothing() {
        let mut p = Planted::default();
        for (k, v, message) in [
            ("pi", "2", "interacting fields must be from 2 to 3"),
            ("pi", "2,2", "f2 is named twice"),
            ("pi", "2,6", "f6 is not one of the 6 fields"),
            ("pi", "2,x", "`x` is not a field number"),
            ("pn", "0.7", "noise must be from 0 to 0.5"),
            ("pn", "NaN", "noise must be"),
            ("pt", "1000", "tokens per field must be from 2 to 100"),
            ("pr", "-5", "`-5` is not a whole number"),
            ("pf", "1", "fields must be from 2 to 20"),
            ("pf", "4", "f5 is not one of the 4 fields"),
            ("px", "yes", "is not 1 or 0"),
        ] {
            let e = p.set(k, v).unwrap_err();
            assert!(e.contains(message), "{k}={v}: {e}");
            assert_eq!(p, Planted::default());
        }
    }
}
