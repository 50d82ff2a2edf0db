//! Lesson links: a link can hide parts of the page (as TensorFlow Playground's `_hide` does), so
//! that a teacher hands out exactly one exercise. Hiding a control also fixes its value: the
//! example when the data section is hidden, the network when its menu is, a setting when its row
//! is. `hide=data,model` in the link; the names are below.

use crate::settings::SETTINGS;

/// The page's sections that a lesson can hide (Train always shows: it is the lesson).
pub const SECTIONS: [&str; 8] = [
    "data", "schema", "model", "configs", "race", "inside", "files", "runs",
];

/// Single controls of the model section.
pub const CONTROLS: [&str; 4] = ["presets", "network", "task", "backend"];

/// What the link hides, by name: sections, controls, and settings (by key or link name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hidden(Vec<String>);

impl Hidden {
    /// Reads `hide=`'s comma-separated names; unknown ones are reported and skipped.
    pub fn parse(value: &str) -> (Hidden, Vec<String>) {
        let mut names: Vec<String> = Vec::new();
        let mut problems = Vec::new();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match canonical(name) {
                Some(n) if !names.iter().any(|m| m == n) => names.push(n.to_string()),
                Some(_) => {}
                None => problems.push(format!(
                    "hide: no part of the page is called `{name}` (sections: {}; controls: {}; or a setting)",
                    SECTIONS.join(", "),
                    CONTROLS.join(", ")
                )),
            }
        }
        (Hidden(names), problems)
    }

    /// Whether the section, control or setting `name` (a setting by its key) is hidden.
    pub fn hides(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `hide=`; `None` when nothing is hidden.
    pub fn to_query(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.0.join(","))
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// Hides `name` (a known one) or shows it again.
    pub fn set(&mut self, name: &str, hidden: bool) {
        let Some(name) = canonical(name) else {
            return;
        };
        self.0.retain(|n| n != name);
        if hidden {
            self.0.push(name.to_string());
        }
    }
}

/// The one spelling a name is kept under: a setting's key for either of its names.
fn canonical(name: &str) -> Option<&'static str> {
    SECTIONS
        .iter()
        .chain(&CONTROLS)
        .find(|n| **n == name)
        .copied()
        .or_else(|| {
            SETTINGS
                .iter()
                .find(|s| s.name() == name || s.url() == name)
                .map(|s| s.name())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_once_in_one_spelling_and_unknown_ones_reported() {
        let epochs = SETTINGS.iter().find(|s| s.name() == "epochs").unwrap();
        let link = format!("data, network,{},data,,nope", epochs.url());
        let (hidden, problems) = Hidden::parse(&link);
        assert_eq!(hidden.names(), ["data", "network", "epochs"]);
        assert!(hidden.hides("epochs") && hidden.hides("data") && !hidden.hides("model"));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("`nope`"), "{problems:?}");
        assert_eq!(hidden.to_query().as_deref(), Some("data,network,epochs"));
        assert_eq!(Hidden::parse("").0.to_query(), None);
    }

    #[test]
    fn every_hideable_name_round_trips_through_the_link() {
        let all: Vec<&str> = SECTIONS
            .iter()
            .chain(&CONTROLS)
            .copied()
            .chain(SETTINGS.iter().map(|s| s.name()))
            .collect();
        let mut hidden = Hidden::default();
        for name in &all {
            hidden.set(name, true);
        }
        let (again, problems) = Hidden::parse(&hidden.to_query().unwrap());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(again, hidden);
        hidden.set("race", false);
        hidden.set("no such thing", true);
        assert!(!hidden.hides("race") && !hidden.hides("no such thing"));
        assert_eq!(hidden.names().len(), all.len() - 1);
    }
}
