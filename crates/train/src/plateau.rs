//! FuxiCTR's `checkpoint_and_earlystop` decision (spec §C.7), apart from the loop so that it can be
//! tested on scripted monitor values.

use crate::config::MonitorMode;

/// Improvement threshold of FuxiCTR.
pub const MONITOR_DELTA: f64 = 1e-6;
/// Learning-rate floor of reduce-on-plateau.
pub const MIN_LEARNING_RATE: f64 = 1e-6;

/// What to do after one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub improved: bool,
    /// The new learning rate when it was reduced.
    pub reduced_lr: Option<f64>,
    pub stop: bool,
}

#[derive(Debug, Clone)]
pub struct PlateauTracker {
    mode: MonitorMode,
    patience: usize,
    reduce_lr: bool,
    best: Option<f64>,
    counter: usize,
}

impl PlateauTracker {
    pub fn new(mode: MonitorMode, patience: usize, reduce_lr: bool) -> Self {
        Self {
            mode,
            patience,
            reduce_lr,
            best: None,
            counter: 0,
        }
    }

    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Evaluations since the last improvement.
    pub fn counter(&self) -> usize {
        self.counter
    }

    /// Continues a tracked run (a resumed training state).
    pub fn restore(&mut self, best: Option<f64>, counter: usize) {
        self.best = best;
        self.counter = counter;
    }

    pub fn update(&mut self, monitor: f64, learning_rate: f64) -> Decision {
        let improved = match (self.best, self.mode) {
            (None, _) => true,
            (Some(best), MonitorMode::Max) => monitor >= best + MONITOR_DELTA,
            (Some(best), MonitorMode::Min) => monitor <= best - MONITOR_DELTA,
        };
        let mut reduced_lr = None;
        if improved {
            self.counter = 0;
            self.best = Some(monitor);
        } else {
            self.counter += 1;
            if self.reduce_lr {
                // Never restored after later improvements, as in FuxiCTR.
                reduced_lr = Some((learning_rate * 0.1).max(MIN_LEARNING_RATE));
            }
        }
        Decision {
            improved,
            reduced_lr,
            stop: self.counter >= self.patience,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_plateaus_in_a_row_stop_and_each_cuts_the_rate() {
        let mut t = PlateauTracker::new(MonitorMode::Max, 2, true);
        let d = t.update(0.80, 1e-3);
        assert!(d.improved && d.reduced_lr.is_none() && !d.stop);
        // Below best + 1e-6 is no improvement.
        let d = t.update(0.80 + 5e-7, 1e-3);
        assert!(!d.improved && !d.stop);
        assert_eq!(d.reduced_lr, Some(1e-4));
        // An improvement resets the counter but not the rate.
        let d = t.update(0.81, 1e-4);
        assert!(d.improved && !d.stop);
        let d = t.update(0.805, 1e-4);
        assert!(!d.stop);
        let d = t.update(0.805, 1e-5);
        assert!(d.stop);
        assert!((d.reduced_lr.unwrap() - 1e-6).abs() < 1e-18);
        assert_eq!(t.best(), Some(0.81));
    }

    #[test]
    fn min_mode_and_rate_floor() {
        let mut t = PlateauTracker::new(MonitorMode::Min, 3, true);
        assert!(t.update(0.5, 2e-6).improved);
        assert!(t.update(0.4, 2e-6).improved);
        let d = t.update(0.4, 2e-6);
        assert!(!d.improved);
        assert_eq!(d.reduced_lr, Some(MIN_LEARNING_RATE));
        let mut t = PlateauTracker::new(MonitorMode::Max, 1, false);
        t.update(1.0, 1e-3);
        let d = t.update(0.9, 1e-3);
        assert!(d.stop && d.reduced_lr.is_none());
    }
}
