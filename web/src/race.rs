//! A model race: several networks trained one after another on the same split (one seed, so one
//! split), their validation curves overlaid and their results side by side; or a seed sweep, one
//! network over several seeds, which shows that one run is a draw. The state machine lives here,
//! free of the page, so that it is tested natively; the page draws it.

use std::ops::RangeInclusive;

use qnn_data::{Metric, Spread, Task};
use qnn_maps::InteractionMaps;

use crate::settings::ModelSettings;

/// One runner: a network with the page's settings, or QNN's ablation without the Self-Ensemble
/// loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runner {
    /// What the page calls it (and its id in the page).
    pub label: &'static str,
    pub model: &'static str,
    pub self_ensemble: bool,
}

const fn runner(model: &'static str) -> Runner {
    Runner {
        label: model,
        model,
        self_ensemble: true,
    }
}

/// Everything that can race: QNN, its ablation, and the model zoo.
pub const RUNNERS: [Runner; 9] = [
    runner("QNN"),
    Runner {
        label: "QNN without Self-Ensemble",
        model: "QNN",
        self_ensemble: false,
    },
    runner("LR"),
    runner("FM"),
    runner("DNN"),
    runner("DeepFM"),
    runner("DCNv2"),
    runner("FinalMLP"),
    runner("DualMLP"),
];

/// The runners a race starts with ticked: QNN beside a deep baseline and a linear one.
pub const DEFAULT_RUNNERS: [&str; 3] = ["QNN", "DeepFM", "LR"];

impl Runner {
    pub fn by_label(label: &str) -> Option<Runner> {
        RUNNERS.iter().copied().find(|r| r.label == label)
    }

    /// The page's settings for this runner: the same seed, split and training settings, this
    /// network.
    pub fn settings(&self, base: &ModelSettings) -> ModelSettings {
        let mut s = base.clone();
        s.model = self.model.to_string();
        s.self_ensemble = self.self_ensemble;
        s
    }

    pub fn entry(&self, base: &ModelSettings) -> Entry {
        Entry {
            label: self.label.to_string(),
            settings: self.settings(base),
        }
    }
}

/// How many seeds a sweep may run: two at least (one run is no spread), and few enough that a
/// class waits minutes, not hours.
pub const SWEEP_RUNS: RangeInclusive<usize> = 2..=20;

/// One run of a race: what the page calls it and what it trains.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub label: String,
    pub settings: ModelSettings,
}

impl Entry {
    /// A seed sweep: `runs` runs of `base`, with its seed and the `runs - 1` seeds after it.
    pub fn seeds(base: &ModelSettings, runs: usize) -> Vec<Entry> {
        (0..runs as u64)
            .map(|i| {
                let mut settings = base.clone();
                settings.seed = base.seed.wrapping_add(i);
                Entry {
                    label: format!("{} seed {}", base.model, settings.seed),
                    settings,
                }
            })
            .collect()
    }
}

/// One entry's run.
#[derive(Debug, Clone, PartialEq)]
pub struct Lap {
    pub label: String,
    /// The network it trained.
    pub model: String,
    /// The monitored validation metric (AUC; MSE for regression) after each epoch.
    pub curve: Vec<(f64, f64)>,
    /// The training loss as the worker read it, by step.
    pub loss: Vec<(f64, f64)>,
    pub parameters: Option<usize>,
    /// When the worker said the run started, and how long it took (milliseconds, seconds).
    pub started_ms: Option<f64>,
    pub seconds: Option<f64>,
    /// Training samples/s of the last epoch.
    pub samples_per_sec: Option<f64>,
    pub test: Option<Vec<(Metric, f64)>>,
    /// The hottest off-diagonal cell of the activation map (the weight map without data), for
    /// a network that has maps.
    pub top_pair: Option<(String, String)>,
}

impl Lap {
    fn new(entry: &Entry) -> Self {
        Self {
            label: entry.label.clone(),
            model: entry.settings.model.clone(),
            curve: Vec::new(),
            loss: Vec::new(),
            parameters: None,
            started_ms: None,
            seconds: None,
            samples_per_sec: None,
            test: None,
            top_pair: None,
        }
    }

    /// A test metric's value.
    pub fn test_score(&self, metric: Metric) -> Option<f64> {
        self.test
            .as_ref()?
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, v)| *v)
    }
}

/// What a race compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Kind {
    /// Different networks, one seed.
    #[default]
    Networks,
    /// One network, different seeds.
    Seeds,
}

/// A race: the entries still to go, the one running and the ones done.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Race {
    pub kind: Kind,
    /// Every entry's task (the race's entries share it).
    pub task: Task,
    pub waiting: Vec<Entry>,
    pub running: Option<Lap>,
    pub done: Vec<Lap>,
}

impl Race {
    /// A race of `entries`: the first entry's settings, to start now.
    pub fn start(&mut self, kind: Kind, entries: Vec<Entry>) -> Option<ModelSettings> {
        *self = Race {
            kind,
            task: entries.first().map_or(Task::default(), |e| e.settings.task),
            waiting: entries,
            running: None,
            done: Vec::new(),
        };
        self.next()
    }

    /// The next entry's settings, now running; `None` when all have run.
    fn next(&mut self) -> Option<ModelSettings> {
        if self.waiting.is_empty() {
            return None;
        }
        let entry = self.waiting.remove(0);
        self.running = Some(Lap::new(&entry));
        Some(entry.settings)
    }

    pub fn is_on(&self) -> bool {
        self.running.is_some()
    }

    /// The metric the race compares: what early stopping watches for the task.
    pub fn metric(&self) -> Metric {
        Metric::monitored(self.task)
    }

    /// How the finished runs' test scores spread, for a seed sweep (across networks a spread
    /// means nothing).
    pub fn spread(&self) -> Option<Spread> {
        if self.kind != Kind::Seeds {
            return None;
        }
        let metric = self.metric();
        let scores: Vec<f64> = self
            .done
            .iter()
            .filter_map(|lap| lap.test_score(metric))
            .collect();
        Spread::of(&scores)
    }

    pub fn started(&mut self, parameters: usize, now_ms: f64) {
        if let Some(lap) = &mut self.running {
            lap.parameters = Some(parameters);
            lap.started_ms = Some(now_ms);
        }
    }

    pub fn evaluated(&mut self, epoch: usize, metrics: &[(Metric, f64)]) {
        let metric = self.metric();
        if let Some(lap) = &mut self.running
            && let Some((_, v)) = metrics.iter().find(|(m, _)| *m == metric)
        {
            lap.curve.push((epoch as f64, *v));
        }
    }

    pub fn loss_read(&mut self, step: usize, loss: f64) {
        if let Some(lap) = &mut self.running {
            lap.loss.push((step as f64, loss));
        }
    }

    pub fn epoch_ended(&mut self, samples_per_sec: f64) {
        if let Some(lap) = &mut self.running {
            lap.samples_per_sec = Some(samples_per_sec);
        }
    }

    /// The running runner finished: its results are kept, and the next runner's settings come
    /// back (none after the last one, or when the run was stopped: Stop ends the race).
    pub fn finished(
        &mut self,
        test: Option<Vec<(Metric, f64)>>,
        maps: Option<&InteractionMaps>,
        stopped: bool,
        now_ms: f64,
    ) -> Option<ModelSettings> {
        let mut lap = self.running.take()?;
        lap.test = test;
        lap.seconds = lap.started_ms.map(|t| (now_ms - t) / 1000.0);
        lap.top_pair = maps.and_then(|m| {
            let map = m.total_activation().unwrap_or_else(|| m.total_weight());
            let (a, b, _) = map.top_off_diagonal()?;
            Some((m.field_names.get(a)?.clone(), m.field_names.get(b)?.clone()))
        });
        self.done.push(lap);
        if stopped {
            self.waiting.clear();
            return None;
        }
        self.next()
    }

    /// An error ends the race; what finished stays.
    pub fn abandon(&mut self) {
        self.waiting.clear();
        self.running = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Preset;
    use qnn_maps::{FieldMatrix, HeadMaps, LayerMaps};

    fn maps() -> InteractionMaps {
        InteractionMaps {
            field_names: vec!["f1".into(), "f2".into(), "f5".into()],
            layers: vec![LayerMaps {
                heads: vec![HeadMaps {
                    weight: FieldMatrix {
                        size: 3,
                        values: vec![9.0, 1.0, 0.0, 0.0, 9.0, 2.0, 0.0, 1.0, 9.0],
                    },
                    activation: None,
                }],
            }],
        }
    }

    fn entries(base: &ModelSettings, labels: &[&str]) -> Vec<Entry> {
        labels
            .iter()
            .map(|l| Runner::by_label(l).unwrap().entry(base))
            .collect()
    }

    #[test]
    fn runners_keep_the_settings_and_change_the_network() {
        let base = Preset::QuickDemo.settings();
        let ablation = Runner::by_label("QNN without Self-Ensemble").unwrap();
        let s = ablation.settings(&base);
        assert_eq!((s.model.as_str(), s.self_ensemble), ("QNN", false));
        assert_eq!((s.seed, s.epochs), (base.seed, base.epochs));
        let deepfm = Runner::by_label("DeepFM").unwrap().entry(&base);
        assert_eq!(
            (deepfm.label.as_str(), deepfm.settings.model.as_str()),
            ("DeepFM", "DeepFM")
        );
        assert_eq!(Runner::by_label("nope"), None);
        for label in DEFAULT_RUNNERS {
            assert!(Runner::by_label(label).is_some());
        }
        // Every network the page trains can race.
        for model in crate::settings::MODELS {
            assert!(RUNNERS.iter().any(|r| r.model == model));
        }
    }

    #[test]
    fn a_sweep_takes_the_seed_and_the_ones_after_it_and_nothing_else_changes() {
        let mut base = Preset::QuickDemo.settings();
        base.seed = 7;
        let sweep = Entry::seeds(&base, 3);
        let seeds: Vec<u64> = sweep.iter().map(|e| e.settings.seed).collect();
        assert_eq!(seeds, [7, 8, 9]);
        assert_eq!(sweep[1].label, "QNN seed 8");
        for e in &sweep {
            let mut same = e.settings.clone();
            same.seed = base.seed;
            assert_eq!(same, base);
        }
        base.seed = u64::MAX;
        assert_eq!(Entry::seeds(&base, 2)[1].settings.seed, 0);
    }

    #[test]
    fn a_race_runs_each_entry_once_in_order_and_keeps_their_results() {
        let base = Preset::QuickDemo.settings();
        let mut race = Race::default();
        let first = race
            .start(Kind::Networks, entries(&base, &DEFAULT_RUNNERS))
            .unwrap();
        assert_eq!(first.model, "QNN");
        race.started(1234, 1000.0);
        race.evaluated(1, &[(Metric::Logloss, 0.6), (Metric::Auc, 0.7)]);
        race.evaluated(2, &[(Metric::Auc, 0.8)]);
        race.loss_read(10, 0.5);
        race.epoch_ended(5000.0);
        let test = vec![(Metric::Auc, 0.81)];
        let second = race
            .finished(Some(test), Some(&maps()), false, 3500.0)
            .unwrap();
        assert_eq!(second.model, "DeepFM");
        let qnn = &race.done[0];
        assert_eq!(qnn.curve, [(1.0, 0.7), (2.0, 0.8)]);
        assert_eq!(qnn.loss, [(10.0, 0.5)]);
        assert_eq!(
            (qnn.parameters, qnn.seconds, qnn.samples_per_sec),
            (Some(1234), Some(2.5), Some(5000.0))
        );
        assert_eq!(qnn.test_score(Metric::Auc), Some(0.81));
        assert_eq!(qnn.top_pair, Some(("f2".into(), "f5".into())));
        let third = race.finished(None, None, false, 4000.0).unwrap();
        assert_eq!(third.model, "LR");
        assert!(race.is_on());
        assert_eq!(race.finished(None, None, false, 5000.0), None);
        assert!(!race.is_on());
        assert_eq!(race.done.len(), 3);
        assert_eq!(race.done[1].top_pair, None);
        // Networks are compared, not averaged.
        assert_eq!(race.spread(), None);
    }

    #[test]
    fn a_sweep_reports_the_spread_of_the_finished_runs() {
        let base = Preset::QuickDemo.settings();
        let mut race = Race::default();
        let first = race.start(Kind::Seeds, Entry::seeds(&base, 3)).unwrap();
        assert_eq!(first.seed, base.seed);
        assert_eq!(race.spread(), None);
        let second = race
            .finished(Some(vec![(Metric::Auc, 0.7)]), None, false, 0.0)
            .unwrap();
        assert_eq!(second.seed, base.seed + 1);
        race.finished(Some(vec![(Metric::Auc, 0.8)]), None, false, 0.0);
        assert_eq!(race.spread().map(|s| s.runs), Some(2));
        assert_eq!(
            race.finished(Some(vec![(Metric::Auc, 0.9)]), None, false, 0.0),
            None
        );
        let spread = race.spread().unwrap();
        assert_eq!(spread, Spread::of(&[0.7, 0.8, 0.9]).unwrap());
        assert_eq!(race.done[2].label, format!("QNN seed {}", base.seed + 2));
    }

    #[test]
    fn stop_and_errors_end_the_race() {
        let base = Preset::QuickDemo.settings();
        let all: Vec<Entry> = RUNNERS.iter().map(|r| r.entry(&base)).collect();
        let mut race = Race::default();
        race.start(Kind::Networks, all.clone()).unwrap();
        assert_eq!(race.finished(None, None, true, 0.0), None);
        assert!(!race.is_on() && race.waiting.is_empty());
        assert_eq!(race.done.len(), 1);
        race.start(Kind::Networks, all).unwrap();
        race.abandon();
        assert!(!race.is_on() && race.done.is_empty());
        // A regression race compares MSE.
        let mut regression = base.clone();
        regression.task = Task::Regression;
        race.start(Kind::Seeds, Entry::seeds(&regression, 2));
        assert_eq!(race.metric(), Metric::Mse);
    }
}
